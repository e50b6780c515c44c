"""Run a query against the index: plan, filter, page, snippet.

One :class:`Engine` per index, shared by CLI and web. Whoosh searchers are
kept per thread and reopened only after a commit changed the index.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np
from whoosh import query as wq
from whoosh import scoring
from whoosh.searching import Searcher

from search.analysis.convert import to_simplified
from search.backends.whoosh.ranking import Generation, Ranker, Unsupported, top
from search.errors import NotFoundError, QueryError
from search.filters import SearchFilters
from search.highlight import snippets, to_html
from search.lexicon.entities import learned
from search.lexicon.people import surname_aliases
from search.suggest import Suggestions
from search.timeline import timeline
from search.model import LANGS, Hit, SearchResult
from search.query.build import plan
from search.query.parse import parse
from search.backends.whoosh.store import open_index

MAX_SIZE = 100
MAX_FACET_VALUES = 50
MAX_SPEAKER_IDS = 64
MAX_DEPTH = 10_000  # page * size: deeper paging is refused, not computed
#: Posting lists of at least this many documents are read into memory by :meth:`Engine.warm`.
WARM_MIN_DF = 100
#: Searches that load what a first search would otherwise load: the lexicon, the analyzers,
#: pinyin for names the dictionary lacks, phrase and translation paths.
_WARM_QUERIES = ("習近平 普京", "Putin Xi", '"一带一路" 北溪', "climate change policies", "*")


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
        if page_i * size_i > MAX_DEPTH:
            raise QueryError(f"page {page_i} is too deep: page × size may be at most {MAX_DEPTH}", param="page")
        return cls(page_i, size_i)


def _as_int(value: object, name: str) -> int:
    if isinstance(value, bool):
        raise QueryError(f"{name} must be an integer", param=name)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit() and len(value.strip()) <= 9:
        return int(value.strip())
    raise QueryError(f"{name} must be an integer, got {str(value)[:40]!r}", param=name)


@dataclass(frozen=True)
class FacetTables:
    """Per-document facet values of one index generation, read once from the columns."""

    year: np.ndarray  # docnum → year, 0 when undated
    day: np.ndarray  # docnum → YYYYMMDD, 0 when undated
    quotes: dict[int, list[dict]]  # docnum → [{"id", "names", "quotes"}], for documents that quote someone
    directory: dict[str, dict]  # speaker id → {"names", "count"}
    speaker_ids: list[str]  # the speakers, numbered
    pair_doc: np.ndarray  # one entry per (document, speaker quoted in it): the document …
    pair_speaker: np.ndarray  # … and the speaker's number, so facet counts are one bincount
    merged: dict[str, list[str]] = dataclasses.field(default_factory=dict)  # speaker id → alias ids in the index ("baker")

    @classmethod
    def read(cls, reader) -> "FacetTables":
        year: list[int] = []
        day: list[int] = []
        quotes: dict[int, list[dict]] = {}
        directory: dict[str, dict] = {}
        for sub, offset in reader.leaf_readers():
            count = sub.doc_count_all()
            days = list(sub.column_reader("day")) if sub.has_column("day") else [0] * count
            dated = [value if 10000101 <= value <= 99991231 else 0 for value in days]  # undated: 0 or 2**32 - 1
            day.extend(dated)
            year.extend(value // 10000 for value in dated)
            if not sub.has_column("speakers_column"):
                continue
            deleted = sub.deleted_docs_set if sub.has_deletions() else ()
            for local, raw in enumerate(sub.column_reader("speakers_column")):
                if not raw or local in deleted:
                    continue
                found = quotes[offset + local] = json.loads(raw)
                for sp in found:
                    entry = directory.setdefault(sp["id"], {"names": sp["names"], "count": 0})
                    entry["count"] += 1
        aliases = surname_aliases(directory)  # "Baker" is James Baker: one person in the directory
        if aliases:
            directory, quotes = _merge_speakers(directory, quotes, aliases)
        speaker_ids = sorted(directory)
        number = {sid: n for n, sid in enumerate(speaker_ids)}
        pairs = [(docnum, number[sp["id"]]) for docnum, found in quotes.items() for sp in found]
        pair_doc = np.array([d for d, _ in pairs], dtype=np.int64)
        pair_speaker = np.array([n for _, n in pairs], dtype=np.int64)
        merged: dict[str, list[str]] = {}
        for alias, target in aliases.items():
            merged.setdefault(target, []).append(alias)
        return cls(np.array(year, dtype=np.int64), np.array(day, dtype=np.int64), quotes, directory, speaker_ids, pair_doc, pair_speaker, merged)


def _merge_speakers(directory: dict[str, dict], quotes: dict[int, list[dict]], aliases: dict[str, str]) -> tuple[dict, dict]:
    """The directory and the per-document speakers with each alias id replaced by its person's."""
    merged_quotes: dict[int, list[dict]] = {}
    for docnum, found in quotes.items():
        by_id: dict[str, dict] = {}
        for sp in found:
            sid = aliases.get(sp["id"], sp["id"])
            if sid in by_id:
                by_id[sid] = {**by_id[sid], "quotes": by_id[sid].get("quotes", 0) + sp.get("quotes", 0)}
            else:
                by_id[sid] = {**sp, "id": sid, "names": directory[sid]["names"]}
        merged_quotes[docnum] = list(by_id.values())
    merged: dict[str, dict] = {}
    for found in merged_quotes.values():
        for sp in found:
            merged.setdefault(sp["id"], {"names": sp["names"], "count": 0})["count"] += 1
    return merged, merged_quotes


@dataclass(frozen=True)
class _Shared:
    postings: Generation
    tables: FacetTables
    built: dict = dataclasses.field(default_factory=dict)  # what is built on first use: "suggestions"


class Engine:
    """Search one index.

    >>> Engine("index").search("習近平").total  # doctest: +SKIP
    1
    """

    def __init__(self, index_dir: str) -> None:
        self.index_dir = index_dir
        self.ix = open_index(index_dir)
        self._local = threading.local()
        self._shared_lock = threading.Lock()
        self._by_generation: dict[object, _Shared] = {}
        self._weighting = scoring.BM25F(B=0.75, K1=1.2)
        self._warm_min_df: int | None = None  # set by warm(): later generations are warmed too
        self.warmer: threading.Thread | None = None  # the latest background warm-up

    def searcher(self) -> Searcher:
        current = getattr(self._local, "searcher", None)
        if current is not None and not current.up_to_date():
            # A fresh searcher, not refresh(): Whoosh's reader reuse keeps the old
            # deletion sets, so replaced articles would still match.
            current.close()
            current = None
        if current is None:
            current = self.ix.searcher(weighting=self._weighting)
        self._local.searcher = current
        return current

    def warm(self, min_df: int = WARM_MIN_DF) -> int:
        """Get ready to answer quickly: run a few searches that load the dictionaries and
        analyzers, then read every posting list of ``min_df`` documents or more into the
        shared cache (a cold common word costs a first search milliseconds per field).
        Returns the number of postings cached. A server calls this before it listens;
        from then on, each new index generation (a commit while serving) is warmed the
        same way in a background thread, so searches get fast again without a restart.

        >>> Engine("index").warm()  # doctest: +SKIP
        4304004
        """
        for text in _WARM_QUERIES:
            self.search(text)
        s = self.searcher()
        self._suggestions(s)
        self._warm_min_df = min_df
        return self._shared(s).postings.warm(s.reader(), min_df)

    def _warm_in_background(self, generation: object, state: "_Shared") -> None:
        def run() -> None:
            # Its own searcher: Whoosh's readers keep file positions, a thread must not share one.
            s = self.ix.searcher(weighting=self._weighting)
            try:
                if s.reader().generation() == generation:
                    state.postings.warm(s.reader(), self._warm_min_df)
            except Exception:  # noqa: BLE001 - warming is an optimization; searches work without it
                pass
            finally:
                s.close()

        self.warmer = threading.Thread(target=run, name="warm-new-generation", daemon=True)
        self.warmer.start()

    def close(self) -> None:
        current = getattr(self._local, "searcher", None)
        if current is not None:
            current.close()
            self._local.searcher = None

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
        s, ranker, the_plan, allowed = self._prepare(text, filters)
        offset = (paging.page - 1) * paging.size
        needed = offset + paging.size
        docnums: list[tuple[int, float]] = []
        matches = None
        if the_plan.primary is not None:
            docnums, matches = self._rank(s, ranker, the_plan, allowed, needed, filters.sort)
        total = int(np.count_nonzero(matches)) if matches is not None else 0
        terms = the_plan.highlight if highlight else None
        hits = [self._hit(s, docnum, score, terms, the_plan.phrases) for docnum, score in docnums[offset:needed]]
        facet_counts: dict[str, list[dict]] = {}
        if facets and matches is not None:
            facet_counts = self._facets(s, matches)
        took = (time.perf_counter() - started) * 1000
        return SearchResult(
            query=text,
            interpreted=the_plan.interpretation,
            total=total,
            page=paging.page,
            size=paging.size,
            took_ms=took,
            hits=hits,
            facets=facet_counts,
            filters=filters.active,
            sort=filters.sort,
        )

    def _prepare(self, text: object, filters: SearchFilters):
        """The searcher, ranker, plan and filter set (``None``: no filter) of one search."""
        if not isinstance(text, str):
            raise QueryError("q (the query text) is required", param="q")
        parsed = parse(text)
        s = self.searcher()
        reader = s.reader()
        shared = self._shared(s)
        known = shared.postings.doc_frequency
        the_plan = plan(parsed, text, lambda fieldname, term: known(reader, fieldname, term) > 0, **self._plan_options(filters, s))
        ranker = Ranker(s, shared.postings)
        restrict = self._filter_query(filters, s)
        allowed = ranker.match(restrict) if restrict is not None else None
        if text.strip() == "*":  # everything (with the filters): "all articles where Putin spoke"
            the_plan.primary, the_plan.fallback = wq.Every(), None
        if allowed is not None and not allowed.any():
            # Whoosh reads an empty allowed set as "no filter": answer the empty result here.
            the_plan.primary, the_plan.fallback = None, None
        return s, ranker, the_plan, allowed

    def matches(self, text: object, *, filters: SearchFilters | None = None, limit: int = 10_000, bodies: bool = False) -> tuple[int, Iterator[Hit]]:
        """Every match of a search, in the order of its pages (at most ``limit``): the total
        and an iterator of hits without snippets, each article read from the index only when
        its turn comes, so memory does not grow with the articles' text (exports, feeds).
        ``bodies`` puts the article's text in ``Hit.snippets`` (``{"zh": [body], "en": [body]}``).

        >>> total, hits = Engine("index").matches("習近平", limit=100)  # doctest: +SKIP
        """
        filters = filters or SearchFilters()
        s, ranker, the_plan, allowed = self._prepare(text, filters)
        if the_plan.primary is None or limit < 1:
            return 0, iter(())
        docnums, matches = self._rank(s, ranker, the_plan, allowed, limit, filters.sort)

        def rows() -> Iterator[Hit]:
            for docnum, score in docnums:
                hit = self._hit(s, docnum, score, None, [])
                if bodies:
                    fields = s.stored_fields(docnum)
                    hit = dataclasses.replace(hit, snippets={lang: [fields[f"body_{lang}"]] if fields.get(f"body_{lang}") else [] for lang in LANGS})
                yield hit

        return int(np.count_nonzero(matches)), rows()

    def _rank(self, s: Searcher, ranker: Ranker, the_plan, allowed, needed: int, sort: str):
        """The first ``needed`` hits ``(docnum, score)`` and the whole result set (a boolean array).

        Complete matches (``primary``) rank before partial ones (``fallback``, which also
        matches every complete match: it is the result set). Date order, and query shapes
        :mod:`search.backends.whoosh.ranking` does not score, go through Whoosh's searcher.
        """
        matching = the_plan.fallback or the_plan.primary
        if sort != "date":
            try:
                complete, complete_scores = ranker.scores(the_plan.primary)
                if the_plan.fallback is not None:
                    matches, fallback_scores = ranker.scores(the_plan.fallback)
                else:
                    matches, fallback_scores = complete, complete_scores
            except Unsupported:
                pass
            else:
                if allowed is not None:
                    complete = complete & allowed
                    matches = matches & allowed
                docnums = top(complete, complete_scores, needed)
                if len(docnums) < needed and the_plan.fallback is not None:
                    docnums += top(matches & ~complete, fallback_scores, needed - len(docnums))
                return docnums, matches
        matches = ranker.match(matching)
        if allowed is not None:
            matches = matches & allowed
        if not matches.any():
            return [], matches
        within = set(np.flatnonzero(matches).tolist())
        if sort == "date":
            ranked = s.search(matching, limit=needed, filter=within, sortedby="day", reverse=True, terms=False)
            return [(hit.docnum, hit.score or 0.0) for hit in ranked], matches
        first = s.search(the_plan.primary, limit=needed, filter=within, terms=False)
        docnums = [(hit.docnum, hit.score) for hit in first]
        if the_plan.fallback is not None and len(docnums) < needed:
            # Partial matches are the fallback's hits minus the complete ones, removed here in
            # Python: Whoosh's AndNot (and mask=) depend on segment order in multi-segment indexes.
            complete_ids = {docnum for docnum, _ in docnums}
            rest = s.search(the_plan.fallback, limit=needed + len(complete_ids), filter=within, terms=False)
            docnums += [(hit.docnum, hit.score) for hit in rest if hit.docnum not in complete_ids][: needed - len(docnums)]
        return docnums, matches

    def _plan_options(self, filters: SearchFilters, s: Searcher | None = None) -> dict:
        """Options for :func:`search.query.build.plan`: translation, with the index statistics for flood control."""
        if not filters.translate:
            return {"translate": False}
        s = s or self.searcher()
        reader = s.reader()
        known = self._shared(s).postings.doc_frequency
        return {"translate": True, "doc_frequency": lambda fieldname, text: known(reader, fieldname, text), "doc_count": reader.doc_count()}

    def _filter_query(self, filters: SearchFilters, s: Searcher | None = None) -> wq.Query | None:
        parts: list[wq.Query] = []
        if filters.date_from or filters.date_to:
            low = int(filters.date_from.strftime("%Y%m%d")) if filters.date_from else None
            high = int(filters.date_to.strftime("%Y%m%d")) if filters.date_to else None
            parts.append(wq.NumericRange("day", low, high))
        if filters.lang:
            parts.append(wq.Term("lang", filters.lang))
        if filters.speaker:
            ids = self.speaker_ids(filters.speaker, s)
            parts.append(wq.Or([wq.Term("speakers", sid) for sid in ids]) if ids else wq.NullQuery)
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else wq.And(parts)

    def speaker_ids(self, name: str, s: Searcher | None = None) -> list[str]:
        """Canonical speaker ids that ``name`` (any alias, any script) may refer to.

        The lexicon links scripts and languages (Putin = 普京 = 普丁); the index's own
        speakers add people the lexicon does not know ("Douglas" → Kenneth Douglas).
        """
        from search.ingest.speakers import resolve_alias

        found = list(resolve_alias(name))
        key = to_simplified(" ".join(name.split())).lower()
        for sid, entry in self.speaker_directory(s).items():
            zh = (entry["names"].get("zh") or "").lower()
            en = (entry["names"].get("en") or "").lower()
            if key and (key == zh or key == en or (en and key == en.split()[-1])):
                if sid not in found:
                    found.append(sid)
        merged = self._shared(s or self.searcher()).tables.merged
        found += [alias for sid in list(found) for alias in merged.get(sid, ()) if alias not in found]
        return found[:MAX_SPEAKER_IDS]

    def speaker_directory(self, s: Searcher | None = None) -> dict[str, dict]:
        """Every speaker in the index: id → {"names", "count"}; rebuilt after each commit.

        ``s`` is the searcher of a search in progress: asking for a fresh one mid-search
        would close the one that search is still reading (``ReaderClosed``).
        """
        return self._shared(s or self.searcher()).tables.directory

    def _shared(self, s: Searcher) -> "_Shared":
        """The state every thread's searcher of this index generation shares."""
        generation = s.reader().generation()
        with self._shared_lock:
            state = self._by_generation.get(generation)
            if state is None:
                state = _Shared(Generation(s.reader()), FacetTables.read(s.reader()))
                learned.learn(state.tables.directory)  # query translation matches names the index holds
                self._by_generation = {generation: state, **dict(list(self._by_generation.items())[:1])}
                if self._warm_min_df is not None:
                    self._warm_in_background(generation, state)
            return state

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
        return self._suggestions().suggest(prefix, limit)

    def _suggestions(self, s: Searcher | None = None) -> Suggestions:
        s = s or self.searcher()
        shared = self._shared(s)
        found = shared.built.get("suggestions")
        if found is None:  # two threads may both build it: the same result, no lock held while reading
            reader = s.reader()
            zh_words: dict[str, int] = {}
            for fieldname in ("title_zh",):  # titles' words: a body's lexicon takes seconds to read
                if fieldname in reader.indexed_field_names():
                    for term, info in reader.iter_field(fieldname):
                        word = term.decode("utf-8") if isinstance(term, bytes) else term
                        zh_words[word] = max(zh_words.get(word, 0), info.doc_frequency())
            days = shared.tables.day
            titles = ((fields.get("id", ""), fields.get("title_zh"), fields.get("title_en"), int(days[docnum])) for docnum, fields in reader.iter_docs())
            found = shared.built["suggestions"] = Suggestions.build(titles, zh_words, shared.tables.directory)
        return found

    def _facets(self, s: Searcher, matches: np.ndarray) -> dict[str, list[dict]]:
        """Speaker, year, month (and day) counts over the whole result set (``matches``, not just this page)."""
        tables = self._shared(s).tables
        per_year = np.bincount(tables.year[matches])
        years = {int(year): int(per_year[year]) for year in np.flatnonzero(per_year) if year}  # 0: undated
        per_speaker = np.bincount(tables.pair_speaker[matches[tables.pair_doc]], minlength=len(tables.speaker_ids))
        quoted = np.flatnonzero(per_speaker)
        # Most quoted first, then by id (speaker numbers follow id order): a stable sort.
        best = quoted[np.argsort(-per_speaker[quoted], kind="stable")][:MAX_FACET_VALUES].tolist()
        directory = tables.directory
        return {
            "speakers": [
                {"id": tables.speaker_ids[i], "names": directory[tables.speaker_ids[i]]["names"], "count": int(per_speaker[i])}
                for i in best
            ],
            "years": [{"year": year, "count": count} for year, count in sorted(years.items(), reverse=True)],
            **timeline(tables.day[matches]),
        }

    def _hit(self, s: Searcher, docnum: int, score: float, terms: set[str] | None, phrases: list[list[str]]) -> Hit:
        fields = s.stored_fields(docnum)
        found: dict[str, list[str]] = {lang: [] for lang in LANGS}
        for lang in LANGS if terms is not None else ():
            text = fields.get(f"body_{lang}") or fields.get(f"title_{lang}") or ""
            found[lang] = [to_html(snip) for snip in snippets(text, terms, phrases)] if text else []
        return Hit(
            id=fields["id"],
            title={lang: fields.get(f"title_{lang}") for lang in LANGS},
            date=fields.get("date_iso"),
            source=fields.get("source"),
            url=fields.get("url"),
            score=float(score),
            snippets=found,
            speakers=[dict(sp) for sp in self._shared(s).tables.quotes.get(docnum, ())],
        )

    def article(self, article_id: str) -> dict:
        """The stored fields of one article (with ``speakers_data``); :class:`NotFoundError` if there is none."""
        s = self.searcher()
        docnum = s.document_number(id=article_id)
        if docnum is None:
            raise NotFoundError(f"no article with id {article_id!r}", param="id")
        fields = dict(s.stored_fields(docnum))
        fields["speakers_data"] = [dict(sp) for sp in self._shared(s).tables.quotes.get(docnum, ())]
        return fields

    def count(self) -> int:
        return self.searcher().doc_count()
