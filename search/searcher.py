"""Run a query: parse, plan, let the backend match and rank, snippet the hits.

One :class:`Engine` per index, shared by CLI and web. It knows nothing of the storage:
a :class:`~search.backends.base.Backend` (Whoosh or OpenSearch, chosen by configuration)
runs the backend-neutral plan; snippets come from the original text it stores.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Callable, Iterator

from search.analysis.convert import to_simplified
from search.backends.base import Backend, BackendConfig, BackendResult, SearchRequest, StoredHit, View, open_backend
from search import rerank
from search.errors import NotFoundError, QueryError
from search.filters import SearchFilters
from search.highlight import snippets, to_html
from search.lexicon.entities import learned
from search.model import LANGS, Hit, Matches, SearchResult
from search.query import plan as qp
from search.query.build import narrowed, plan
from search.query.parse import parse
from search.query.rewrite import read, typed_words
from search.query.plan import Everything, Plan

MAX_SIZE = 100
MAX_SPEAKER_IDS = 64
MAX_DEPTH = 10_000  # hits past this rank are never computed: pages beyond it are empty
#: Posting lists of at least this many documents are read into memory by :meth:`Engine.warm`.
WARM_MIN_DF = 100
#: Searches that load what a first search would otherwise load: the lexicon, the analyzers,
#: pinyin for names the dictionary lacks, phrase and translation paths, the index's pinyin table
#: and English vocabulary (typos), and jieba's part-of-speech tagger, which names the lexicon
#: lacks are told by (郝薇薇: ~16 ms, otherwise paid by a server worker's first such query).
_WARM_QUERIES = ("習近平 普京", "Putin Xi", '"一带一路" 北溪', "climate change policies", "xijinping Pution", "郝薇薇 会见", "*")


@dataclass(frozen=True)
class Paging:
    page: int = 1
    size: int = 10

    @classmethod
    def checked(cls, page: object = 1, size: object = 10) -> "Paging":
        """Validate paging values from any source (CLI, API); raise :class:`QueryError`."""
        size_i = _as_int(size, "size")
        page_i = _as_int(page, "page")
        if not 1 <= size_i <= MAX_SIZE:
            raise QueryError(f"size must be between 1 and {MAX_SIZE}, got {size_i}", param="size")
        if page_i < 1:
            raise QueryError(f"page must be 1 or more, got {page_i}", param="page")
        if page_i > MAX_DEPTH:
            raise QueryError(f"page is too large: at most {MAX_DEPTH}, got {page_i}", param="page")
        return cls(page_i, size_i)


def _as_int(value: object, name: str) -> int:
    if isinstance(value, bool):
        raise QueryError(f"{name} must be an integer", param=name)
    if isinstance(value, int):
        return value
    text = value.strip() if isinstance(value, str) else ""
    # ASCII only: str.isdigit() also accepts ² and ①, which int() refuses, and ٣, read as 3.
    if text.isascii() and text.lstrip("+-").isdigit():
        if len(text) > 9:
            raise QueryError(f"{name} is too large, got {text[:20]!r}", param=name)
        return int(text)
    raise QueryError(f"{name} must be an integer, got {str(value)[:40]!r}", param=name)


class Engine:
    """Search one index (an index folder, or an index on an OpenSearch cluster).

    >>> Engine("index").search("習近平").total  # doctest: +SKIP
    1
    """

    def __init__(self, index_dir: str | None = None, *, config: BackendConfig | None = None) -> None:
        self.config = config = BackendConfig.resolve(index_dir, config)
        self.index_dir = config.index_dir
        self.backend: Backend = open_backend(config)
        self._learned_directory: dict | None = None  # the speaker directory query translation last learned

    @property
    def warmer(self):
        """The backend's latest background warm-up thread, if any (a server joins it before forking)."""
        return getattr(self.backend, "warmer", None)

    def pin(self) -> None:
        """Keep the index generation this process has (a server's worker; see ``Backend.pin``)."""
        self.backend.pin()

    def pinned_generation(self) -> int | None:
        """The index generation a pinned process answers from, if the backend has generations."""
        return self.backend.pinned_generation()

    def newest_unwarmed(self):
        """The newest index generation if it has not been warmed here, else ``None``."""
        return self.backend.newest_unwarmed()

    def warm_newest(self, pause: Callable[[], None], niceness: int):
        """Warm the newest generation in a background thread (returned); see ``Backend.warm_newest``."""
        return self.backend.warm_newest(pause, niceness)

    def is_warmed(self, generation) -> bool:
        return self.backend.is_warmed(generation)

    def warm(self, min_df: int = WARM_MIN_DF) -> int:
        """Get ready to answer quickly: run a few searches that load the dictionaries and
        analyzers, then let the backend load what it keeps in memory (Whoosh: every posting
        list of ``min_df`` documents or more, into the shared cache). Returns what the backend
        reports it loaded (Whoosh: postings cached). A server calls this before it listens.

        >>> Engine("index").warm()  # doctest: +SKIP
        4304004
        """
        self._rehearse()
        return self.backend.warm(min_df, self._rehearse)

    def _rehearse(self, pause: Callable[[], None] | None = None) -> None:
        """What :meth:`warm` does before the backend loads its caches (run again, in a background
        thread, for each new index generation before searches switch to it, with ``pause()``
        between searches so the searches being served keep the interpreter)."""
        for text in _WARM_QUERIES:
            self.search(text)
            if pause is not None:
                pause()
        self.backend.suggestions()
        self.backend.stats()

    def close(self) -> None:
        self.backend.close()

    def search(
        self,
        text: object,
        *,
        page: object = 1,
        size: object = 10,
        highlight: bool = True,
        filters: SearchFilters | None = None,
        facets: bool = True,
    ) -> SearchResult:
        """Run ``text`` (any script, any language, the query syntax) and return one page of hits.

        ``highlight=False`` skips snippets and ``facets=False`` skips facet counts
        (evaluation and benchmarks need only ids).
        """
        paging = Paging.checked(page, size)
        filters = filters or SearchFilters()
        started = time.perf_counter()
        offset = min((paging.page - 1) * paging.size, MAX_DEPTH)
        view, the_plan, speaker_ids = self._prepare(text, filters)
        size = min(paging.size, MAX_DEPTH - offset)
        # A long Chinese query's first hits are re-ordered (search.rerank): a page reaching into
        # them is cut from them, so pages of any size never overlap or skip a hit.
        reordered = filters.sort == "relevance" and offset < rerank.DEPTH and bool(the_plan.stretches)
        asked = (0, max(offset + size, rerank.DEPTH)) if reordered else (offset, size)
        the_plan, found = self._run(view, SearchRequest(the_plan, filters, speaker_ids, *asked, facets, filters.collapse))
        stored = found.hits
        if reordered:
            weights = rerank.pair_weights(the_plan.stretches, view.frequencies, view.doc_count)
            stored = rerank.rerank(list(stored), the_plan.stretches, weights)[offset : offset + size]
        terms = the_plan.highlight if highlight else None
        hits = [self._hit(hit, terms, the_plan.phrases, the_plan.strings) for hit in stored]
        took = (time.perf_counter() - started) * 1000
        interpreted = the_plan.interpretation
        if the_plan.dropped:
            interpreted = dataclasses.replace(interpreted, dropped=list(the_plan.dropped))
        return SearchResult(
            query=text,
            interpreted=interpreted,
            total=found.total,
            total_partial=found.partial,
            page=paging.page,
            size=paging.size,
            took_ms=took,
            hits=hits,
            facets=found.facets,
            filters=filters.active,
            sort=filters.sort,
            groups=found.groups,
            collapse=filters.collapse,
        )

    def _run(self, view: View, request: SearchRequest) -> tuple[Plan, BackendResult]:
        """Search; when no article holds every word but some hold part of them, the words no
        article holds are left out (reported in ``Plan.dropped``), and if some article holds
        all the others, the search runs again with those as the complete matches."""
        found = view.search(request)
        the_plan = request.plan
        if found.total or not found.partial or len(the_plan.units) < 2:
            return the_plan, found
        narrower = self._narrowed(view, the_plan, request)
        if narrower is the_plan:
            return the_plan, found
        return narrower, view.search(dataclasses.replace(request, plan=narrower))

    @staticmethod
    def _narrowed(view: View, the_plan: Plan, request: SearchRequest) -> Plan:
        units, banned = the_plan.units, the_plan.banned

        def within(node: qp.Node) -> qp.Node:
            return qp.Without(node, banned) if banned is not None else node

        counts = view.count([within(unit) for unit in units], request.filters, request.speaker_ids)
        found = [i for i in range(len(units)) if counts[i]]
        if len(found) == len(units):
            return the_plan  # every word is somewhere, never all together: partial matches as they rank
        # Left out: the words no article holds (within the filters); kept: the others, if some article holds them all.
        if len(found) > 1 and not view.count([within(qp.All(tuple(units[i] for i in found)))], request.filters, request.speaker_ids)[0]:
            return the_plan
        return narrowed(the_plan, found)

    def _prepare(self, text: object, filters: SearchFilters) -> tuple[View, Plan, tuple[str, ...] | None]:
        """The view, plan and speaker filter (``None``: none) of one search."""
        if not isinstance(text, str):
            raise QueryError("q (the query text) is required", param="q")
        parsed = parse(text)
        view = self.backend.view()
        directory = view.speaker_directory()
        # Query translation matches names the index holds (Li Qiang → 李强, Zelensky → 泽连斯基).
        # Each directory object is learned once; holding the last one keeps the identity check
        # sound (an id() of a freed directory could be reused by the next one, never learned).
        if directory is not self._learned_directory:
            learned.learn(directory)
            self._learned_directory = directory

        # Typos and pinyin are read against the index first (translation off: the words as typed only).
        reading = read(parsed, text, view, assist=filters.translate)
        searched = reading.parsed

        stretches = rerank.typed_stretches(searched.node)
        # The re-ordering of a long Chinese query (search()) reads its pairs' frequencies: asked
        # with the planner's own, a cluster answers them in the same request, not one more.
        reordered_pairs = rerank.pair_keys(stretches) if stretches and filters.sort == "relevance" else []

        def make_plan(stats: View) -> Plan:
            for field, pair in reordered_pairs:
                stats.doc_frequency(field, pair)
            if not filters.translate:
                return plan(searched, text, stats.has_term, translate=False)
            return plan(searched, text, stats.has_term, translate=True, doc_frequency=stats.doc_frequency, doc_count=stats.doc_count)

        the_plan = view.planned(make_plan)
        if the_plan.interpretation is not None:
            the_plan.interpretation = dataclasses.replace(
                the_plan.interpretation,
                warnings=the_plan.interpretation.warnings + reading.warnings,
                words=typed_words(searched.node),
                corrections=reading.corrections,
                corrected_query=reading.corrected_query,
                verbatim_query=reading.verbatim_query,
                pinyin=reading.pinyin,
            )
        the_plan.stretches = stretches
        if text.strip() == "*":  # everything (with the filters): "all articles where Putin spoke"
            the_plan.primary, the_plan.fallback = Everything(), None
        speaker_ids = tuple(self.speaker_ids(filters.speaker, view)) if filters.speaker else None
        return view, the_plan, speaker_ids

    def matches(self, text: object, *, filters: SearchFilters | None = None, limit: int = 10_000, bodies: bool = False) -> Matches:
        """Every match of a search, in the order of its pages (at most ``limit``): how many
        there are (complete and partial matches), how many hits will come, and an iterator of
        hits without snippets (exports). ``bodies`` puts the article's text in ``Hit.snippets``
        (``{"zh": [body], "en": [body]}``).

        >>> total, rows, hits = Engine("index").matches("習近平", limit=100)  # doctest: +SKIP
        """
        filters = filters or SearchFilters()
        view, the_plan, speaker_ids = self._prepare(text, filters)
        if the_plan.primary is None or limit < 1:
            return Matches(0, 0, iter(()))
        the_plan, found = self._run(view, SearchRequest(the_plan, filters, speaker_ids, 0, limit, facets=False, collapse=filters.collapse))

        def rows() -> Iterator[Hit]:
            for stored in found.hits:
                hit = self._hit(stored, None, [], [])
                if bodies:
                    fields = stored.fields
                    hit = dataclasses.replace(hit, snippets={lang: [fields[f"body_{lang}"]] if fields.get(f"body_{lang}") else [] for lang in LANGS})
                yield hit

        total = found.total + found.partial
        stories = found.groups if filters.collapse and found.groups else total
        return Matches(total, min(stories, limit), rows())

    def speaker_ids(self, name: str, view: View | None = None) -> list[str]:
        """Canonical speaker ids that ``name`` (any alias, any script) may refer to.

        The lexicon links scripts and languages (Putin = 普京 = 普丁); the index's own
        speakers add people the lexicon does not know ("Douglas" → Kenneth Douglas).
        """
        from search.ingest.speakers import resolve_alias

        found = list(resolve_alias(name))
        key = to_simplified(" ".join(name.split())).lower()
        for sid, entry in self.speaker_directory(view).items():
            zh = (entry["names"].get("zh") or "").lower()
            en = (entry["names"].get("en") or "").lower()
            if key and (key == zh or key == en or (en and key == en.split()[-1])):
                if sid not in found:
                    found.append(sid)
        merged = (view or self.backend.view()).speaker_aliases()  # "Baker" quoted alone is James Baker
        found += [alias for sid in list(found) for alias in merged.get(sid, ()) if alias not in found]
        return found[:MAX_SPEAKER_IDS]

    def speaker_directory(self, view: View | None = None) -> dict[str, dict]:
        """Every speaker in the index: id → {"names", "count"}; follows the index as it changes.

        ``view`` is the view of a search in progress (its own state of the index).
        """
        return (view or self.backend.view()).speaker_directory()

    def suggest_speakers(self, prefix: str, limit: int = 10) -> list[dict]:
        """Speakers whose Chinese or English name starts with ``prefix`` (any script), most quoted
        first; an empty prefix lists the most quoted speakers.

        >>> Engine("index").suggest_speakers("Pu")  # doctest: +SKIP
        [{'id': 'vladimir-putin', 'names': {'zh': '普京', 'en': 'Vladimir Putin'}, 'count': 1}]
        """
        key = to_simplified(" ".join(prefix.split())).lower()
        out = []
        for sid, entry in self.speaker_directory().items():
            zh = (entry["names"].get("zh") or "").lower()
            en = (entry["names"].get("en") or "").lower()
            if not key or zh.startswith(key) or en.startswith(key) or any(word.startswith(key) for word in en.split()):
                out.append({"id": sid, "names": dict(entry["names"]), "count": entry["count"]})
        out.sort(key=lambda item: (-item["count"], item["id"]))
        return out[: max(1, min(limit, 50))]

    def suggest(self, prefix: str, limit: int = 8) -> list[dict]:
        """Words, speakers and titles completing ``prefix`` (see :mod:`search.suggest`).

        >>> Engine("index").suggest("習近")[0]  # doctest: +SKIP
        {'type': 'speaker', 'text': '習近平', 'id': 'xi-jinping', 'names': {...}, 'count': 1}
        """
        return self.backend.suggestions().suggest(prefix, limit)

    def _hit(self, hit: StoredHit, terms: set[str] | None, phrases: list[list[str]], strings: list[str]) -> Hit:
        fields = hit.fields
        found: dict[str, list[str]] = {lang: [] for lang in LANGS}
        for lang in LANGS if terms is not None else ():
            text = fields.get(f"body_{lang}") or fields.get(f"title_{lang}") or ""
            found[lang] = [to_html(snip) for snip in snippets(text, terms, phrases, strings=strings)] if text else []
        return Hit(
            id=fields["id"],
            title={lang: fields.get(f"title_{lang}") for lang in LANGS},
            date=fields.get("date_iso"),
            source=fields.get("source"),
            url=fields.get("url"),
            score=float(hit.score),
            snippets=found,
            speakers=hit.speakers,
            duplicates=hit.duplicates,
            duplicate_count=hit.duplicate_count,
        )

    def article(self, article_id: str) -> dict:
        """The stored fields of one article (with ``speakers_data``); :class:`NotFoundError` if there is none."""
        fields = self.backend.article(article_id)
        if fields is None:
            raise NotFoundError(f"no article with id {article_id!r}", param="id")
        return fields

    def similar(self, article_id: str, limit: int = 10) -> dict:
        """Articles like ``article_id``: ``{"id", "versions", "related"}``. ``versions`` are its
        near-duplicates (other scripts, languages, re-filings), ``related`` other stories
        ranked by more-like-this over its distinctive terms (:mod:`search.similar`).
        :class:`NotFoundError` if there is no such article."""
        found = self.backend.view().similar(article_id, limit)
        if found is None:
            raise NotFoundError(f"no article with id {article_id!r}", param="id")
        return found

    def count(self) -> int:
        return self.backend.count()

    def stats(self) -> dict:
        """Counts and facts about the index: articles by language and year, size, versions."""
        return self.backend.stats()
