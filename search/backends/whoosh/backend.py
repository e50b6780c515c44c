"""The Whoosh backend: search one on-disk index (plan compiled to Whoosh queries, numpy ranking).

Whoosh searchers are kept per thread and reopened only after a commit changed the
index; what every thread's searcher of one index generation shares (posting caches,
facet tables) is built once per generation.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, TypeVar

import numpy as np
from whoosh import query as wq
from whoosh.searching import Searcher

from search.backends.base import MAX_DUPLICATES, Backend, BackendConfig, BackendResult, SearchRequest, StoredHit, View, summary
from search.backends.whoosh.groups import group_numbers
from search.collapse import Collapsed, Groups
from search.backends.whoosh.compile import compile_node
from search.backends.whoosh.ranking import Generation, Ranker, Unsupported, ranked, top
from search.backends.whoosh.store import open_generation, open_index, open_or_create
from search.backends.whoosh.weighting import EngineBM25F
from search.filters import SearchFilters
from search.lexicon.people import surname_aliases
from search.model import LANGS
from search.query.plan import Plan
from search.suggest import Suggestions
from search.timeline import timeline

T = TypeVar("T")

MAX_FACET_VALUES = 50
FIRST_DAY, LAST_DAY = 10000101, 99991231  # the day field's dated range (YYYYMMDD)


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
    merged: dict[str, list[str]] = field(default_factory=dict)  # speaker id → alias ids in the index ("baker")

    @classmethod
    def read(cls, reader, pause: Callable[[], None] | None = None) -> "FacetTables":
        """``pause()``, if given, is called every few hundred documents (a background warm-up yields there)."""
        year: list[int] = []
        day: list[int] = []
        quotes: dict[int, list[dict]] = {}
        directory: dict[str, dict] = {}
        for sub, offset in reader.leaf_readers():
            count = sub.doc_count_all()
            days = list(sub.column_reader("day")) if sub.has_column("day") else [0] * count
            dated = [value if FIRST_DAY <= value <= LAST_DAY else 0 for value in days]  # undated: 0 or 2**32 - 1
            day.extend(dated)
            year.extend(value // 10000 for value in dated)
            if not sub.has_column("speakers_column"):
                continue
            deleted = sub.deleted_docs_set if sub.has_deletions() else ()
            for local, raw in enumerate(sub.column_reader("speakers_column")):
                if pause is not None and local % 256 == 0:
                    pause()
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


class _Throttle:
    """``pause()`` for a background warm-up: after each ``slice`` seconds of work, sleep
    ``rest`` seconds, so searches of the same process keep most of the interpreter meanwhile
    (a quarter for the warm-up: a request waits at most a third longer than usual)."""

    def __init__(self, slice: float = 0.005, rest: float = 0.015) -> None:
        self.slice, self.rest = slice, rest
        self.since = time.perf_counter()

    def __call__(self) -> None:
        if time.perf_counter() - self.since >= self.slice:
            time.sleep(self.rest)
            self.since = time.perf_counter()


def _with_pauses(items: Iterable[T], pause: Callable[[], None], every: int = 256) -> Iterator[T]:
    for n, item in enumerate(items):
        if n % every == 0:
            pause()
        yield item


@dataclass(frozen=True)
class _Shared:
    postings: Generation
    tables: FacetTables
    built: dict = dataclasses.field(default_factory=dict)  # what is built on first use: "suggestions"


class WhooshBackend(Backend):
    """An index folder searched in this process."""

    name = "whoosh"

    def __init__(self, config: BackendConfig, *, create: bool = False) -> None:
        self.config = config
        self.index_dir = config.index_dir
        self.ix = open_or_create(self.index_dir) if create else open_index(self.index_dir)
        self._local = threading.local()
        self._shared_lock = threading.Lock()
        self._by_generation: dict[object, _Shared] = {}
        self._weighting = EngineBM25F(B=0.75, K1=1.2)
        self._warm_min_df: int | None = None  # set by warm(): later generations are warmed too
        self._rehearse: Callable[..., None] | None = None  # the engine's warm-up searches
        self.warmer: threading.Thread | None = None  # the latest background warm-up
        self._ready: set[object] = set()  # generations warmed: searches may switch to them
        # The segments of the newest warmed generation: a pinned process opens that generation
        # even after a commit has replaced its table of contents (see pin()).
        self._ready_segments: tuple[int, object, list] | None = None  # generation, schema, segments
        self._pinned = False  # a server's worker: keeps its generation (see pin())
        self._pinned_searchers: list[tuple[threading.Thread | None, Searcher]] = []  # owner (None: spare), searcher
        # What is read from one segment alone (its words, its titles), by segment id: a segment
        # never changes, and a new generation shares most of its segments with the last one.
        self._by_segment: dict[tuple[str, object], object] = {}

    def searcher(self) -> Searcher:
        """This thread's searcher. After a commit, a backend that was warmed keeps answering
        from the generation it has until the new one is warmed (in a background thread):
        searching a cold generation under load was a brownout of tens of seconds. A pinned
        backend (a server's worker) keeps its generation: the supervisor replaces the worker."""
        current = getattr(self._local, "searcher", None)
        if current is not None and not self._pinned and not current.up_to_date():
            if self._warm_min_df is None or self.is_warmed(self.ix.latest_generation()):
                # A fresh searcher, not refresh(): Whoosh's reader reuse keeps the old
                # deletion sets, so replaced articles would still match.
                current.close()
                current = None
            else:
                self._warm_in_background()
        if current is None:
            current = self._pinned_searcher() if self._pinned else self.ix.searcher(weighting=self._weighting)
        self._local.searcher = current
        return current

    def is_warmed(self, generation) -> bool:
        with self._shared_lock:
            return generation in self._ready

    def pin(self) -> None:
        """Open the newest warmed generation now, for every thread of this process to search
        (each new thread takes the searcher of one that has ended, or opens the same
        generation again). A server's workers all start from the generation their supervisor
        warmed, whatever commits landed since: a worker opening the newest one lazily, at its
        first search, could serve a newer generation than a worker started a moment before it
        (test_concurrency: a client saw the article count go back)."""
        self._pinned = True
        self.close()
        self._pinned_searchers = [(None, self._open_pinned())]

    def pinned_generation(self) -> int | None:
        if not self._pinned_searchers:
            return None
        return self._pinned_searchers[0][1].reader().generation()

    def _open_pinned(self) -> Searcher:
        """A searcher of the newest warmed generation, from its segments as warmed. A commit that
        merged them away since has deleted their files: then the newest generation (the
        supervisor sees the worker's generation and replaces the workers again)."""
        with self._shared_lock:
            ready = self._ready_segments
        if ready is not None:
            generation, schema, segments = ready
            try:
                return Searcher(open_generation(self.ix.storage, schema, segments, generation), fromindex=self.ix, weighting=self._weighting)
            except OSError:
                pass
        return self.ix.searcher(weighting=self._weighting)

    def _pinned_searcher(self) -> Searcher:
        me = threading.current_thread()
        with self._shared_lock:
            for n, (owner, searcher) in enumerate(self._pinned_searchers):
                if owner is None or not owner.is_alive():
                    self._pinned_searchers[n] = (me, searcher)
                    return searcher
        searcher = self._open_pinned()  # threads searching at once: one more reader of the generation
        with self._shared_lock:
            self._pinned_searchers.append((me, searcher))
        return searcher

    def newest_unwarmed(self):
        if self._warm_min_df is None:
            return None
        generation = self.ix.latest_generation()
        return None if self.is_warmed(generation) else generation

    def warm_newest(self, pause: Callable[[], None], niceness: int) -> threading.Thread:
        return self._warm_in_background(pause, niceness)

    def _mark_ready(self, reader) -> None:
        generation = reader.generation()
        segments = [leaf.segment() for leaf, _ in reader.leaf_readers()]
        with self._shared_lock:
            self._ready.add(generation)
            if self._ready_segments is None or generation > self._ready_segments[0]:
                self._ready_segments = (generation, reader.schema, [s for s in segments if s is not None])

    def view(self) -> "_WhooshView":
        return _WhooshView(self, self.searcher())

    def writer(self, *, procs: int, batch_size: int, dedup: bool = True):
        from search.backends.whoosh.indexing import WhooshWriter

        return WhooshWriter(self, procs=procs, dedup=dedup)

    def warm(self, min_df: int, rehearse: Callable[..., None] | None = None) -> int:
        s = self.searcher()
        with self._shared_lock:
            self._warm_min_df = min_df
            self._rehearse = rehearse
        self._mark_ready(s.reader())
        return self._shared(s).postings.warm(s.reader(), min_df)

    def _warm_in_background(self, pause: Callable[[], None] | None = None, niceness: int = 0) -> threading.Thread:
        """Warm the newest generation in a thread of its own, unless one is doing it already.
        Without ``pause`` the thread throttles itself (searches of this process keep three
        quarters of the interpreter); with it, ``pause()`` runs between steps instead."""
        with self._shared_lock:
            if self.warmer is not None and self.warmer.is_alive():
                return self.warmer

            def run() -> None:
                # This thread's own searchers: Whoosh's readers keep file positions, threads must not share one.
                try:
                    if niceness:
                        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)  # this thread only
                    s = self.searcher()
                    generation = s.reader().generation()
                    step = self._local.pause = pause or _Throttle()
                    with self._shared_lock:
                        earlier = [g for g in self._by_generation if g != generation]
                        previous = self._by_generation[max(earlier)] if earlier else None
                    shared = self._shared(s, step)
                    # The caches of the segments both generations hold first: the rehearsal's
                    # searches then find them, and a whole warm-up is needed only without.
                    inherited = previous is not None and shared.postings.inherit(s.reader(), previous.postings, step)
                    if self._rehearse is not None:
                        self._rehearse(pause or (lambda: time.sleep(0.05)))
                    if not inherited:
                        shared.postings.warm(s.reader(), self._warm_min_df, step)
                    self._mark_ready(s.reader())
                except Exception:  # noqa: BLE001 - searches keep the old generation; the next one retries
                    time.sleep(1)
                finally:
                    self._local.pause = None
                    self.close()

            self.warmer = threading.Thread(target=run, name="warm-new-generation", daemon=True)
            self.warmer.start()
            return self.warmer

    def _paced(self, items: Iterable[T]) -> Iterable[T]:
        """``items``, pausing every few hundred when this thread is a background warm-up (whose
        tables, vocabularies and suggestions are built from long loops over the index)."""
        pause = getattr(self._local, "pause", None)
        if pause is None:
            return items
        return _with_pauses(items, pause)

    def close(self) -> None:
        current = getattr(self._local, "searcher", None)
        if current is not None:
            current.close()
            self._local.searcher = None
            with self._shared_lock:  # a pinned searcher closed is nobody's to take
                self._pinned_searchers = [(o, s) for o, s in self._pinned_searchers if s is not current]

    def _shared(self, s: Searcher, pause: Callable[[], None] | None = None) -> "_Shared":
        """The state every thread's searcher of this index generation shares. Built outside the
        lock: while a background warm-up reads a new generation's tables, the searches of the
        current one must not wait for it."""
        generation = s.reader().generation()
        state = self._by_generation.get(generation)
        if state is not None:
            return state
        built = _Shared(Generation(s.reader()), FacetTables.read(s.reader(), pause))
        with self._shared_lock:
            state = self._by_generation.get(generation)
            if state is None:
                state = built
                self._by_generation = {generation: state, **dict(list(self._by_generation.items())[:1])}
                held = {segment for kept in self._by_generation.values() for segment, _, _ in kept.postings.layout}
                self._by_segment = {key: value for key, value in self._by_segment.items() if key[0] in held}
            return state

    def _per_segment(self, sub, key: object, build: Callable[[], T]) -> T:
        """``build()``, a value read from segment ``sub`` alone, kept while a generation holds the segment."""
        whole = (sub.segment().segment_id(), key)
        found = self._by_segment.get(whole)
        if found is None:  # two threads may both build it: the same value
            found = self._by_segment[whole] = build()
        return found

    def segment_terms(self, sub, fieldname: str) -> frozenset[str]:
        """The terms of ``fieldname`` in segment ``sub``."""
        if fieldname not in sub.indexed_field_names():
            return frozenset()
        decode = lambda term: term.decode("utf-8") if isinstance(term, bytes) else term
        return self._per_segment(sub, ("terms", fieldname), lambda: frozenset(map(decode, self._paced(sub.lexicon(fieldname)))))

    def _plan_options(self, filters: SearchFilters, s: Searcher | None = None) -> dict:
        """Options for :func:`search.query.build.plan`: translation, with the index statistics for flood control."""
        if not filters.translate:
            return {"translate": False}
        s = s or self.searcher()
        reader = s.reader()
        known = self._shared(s).postings.doc_frequency
        return {"translate": True, "doc_frequency": lambda fieldname, text: known(reader, fieldname, text), "doc_count": reader.doc_count()}

    def _filter_query(self, filters: SearchFilters, speaker_ids: tuple[str, ...] | None) -> wq.Query | None:
        parts: list[wq.Query] = []
        days = _day_range(filters)
        if days is not None:
            parts.append(wq.NumericRange("day", *days))
        if filters.lang:
            parts.append(wq.Term("lang", filters.lang))
        if speaker_ids is not None:
            parts.append(wq.Or([wq.Term("speakers", sid) for sid in speaker_ids]) if speaker_ids else wq.NullQuery)
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else wq.And(parts)

    def article(self, article_id: str) -> dict | None:
        s = self.searcher()
        docnum = s.document_number(id=article_id)
        if docnum is None:
            return None
        fields = dict(s.stored_fields(docnum))
        fields["speakers_data"] = [dict(sp) for sp in self._shared(s).tables.quotes.get(docnum, ())]
        return fields

    def count(self) -> int:
        return self.searcher().doc_count()

    def stats(self) -> dict:
        from search.backends.whoosh.stats import index_counts, index_stats

        built = self._shared(self.searcher()).built
        counted = built.get("stats")
        if counted is None:  # two threads may both count: the same result
            counted = built["stats"] = index_counts(self)
        return index_stats(self, counted)

    def suggestions(self) -> Suggestions:
        s = self.searcher()
        shared = self._shared(s)
        found = shared.built.get("suggestions")
        if found is None:  # two threads may both build it: the same result, no lock held while reading
            reader = s.reader()
            zh_words: dict[str, int] = {}  # titles' words: a body's lexicon takes seconds to read
            for sub, _ in reader.leaf_readers():
                for word, count in self._per_segment(sub, "title words", lambda: _title_words(sub, self._paced)).items():
                    zh_words[word] = zh_words.get(word, 0) + count
            days, live = shared.tables.day, shared.postings.live
            titles = (
                (*title, int(days[offset + local]))
                for sub, offset in reader.leaf_readers()
                for local, title in enumerate(self._per_segment(sub, "titles", lambda: _titles(sub, self._paced)))
                if live[offset + local]
            )
            found = shared.built["suggestions"] = Suggestions.build(self._paced(titles), zh_words, shared.tables.directory)
        return found


def _title_words(sub, paced) -> dict[str, int]:
    """The Chinese title words of one segment, with the documents holding each (deleted ones included)."""
    if "title_zh" not in sub.indexed_field_names():
        return {}
    return {(term.decode("utf-8") if isinstance(term, bytes) else term): info.doc_frequency() for term, info in paced(sub.iter_field("title_zh"))}


def _titles(sub, paced) -> list[tuple[str, str | None, str | None]]:
    """(id, Chinese title, English title) of every document of one segment, deleted ones included (by local number)."""
    found = []
    for local in paced(range(sub.doc_count_all())):
        fields = sub.stored_fields(local)
        found.append((fields.get("id", ""), fields.get("title_zh"), fields.get("title_en")))
    return found


class _WhooshView(View):
    """One searcher (one index generation) for one search."""

    def __init__(self, backend: WhooshBackend, s: Searcher) -> None:
        self.backend = backend
        self.s = s
        self.reader = s.reader()
        self.shared = backend._shared(s)
        self.doc_count = self.reader.doc_count()

    def doc_frequency(self, fieldname: str, term: str) -> int:
        return self.shared.postings.doc_frequency(self.reader, fieldname, term)

    def field_terms(self, fieldname: str):
        if fieldname not in self.reader.indexed_field_names():
            return ()
        # The union of the segments' terms (kept per segment), in order as the lexicon lists them.
        terms: set[str] = set()
        for sub, _ in self.reader.leaf_readers():
            terms |= self.backend.segment_terms(sub, fieldname)
        return self.backend._paced(sorted(terms))

    def memo(self, key: object, build: Callable[[], object]) -> object:
        # Per index generation; two threads may both build it: the same result, no lock held while reading.
        found = self.shared.built.get(key)
        if found is None:
            found = self.shared.built[key] = build()
        return found

    def speaker_directory(self) -> dict[str, dict]:
        return self.shared.tables.directory

    def speaker_aliases(self) -> dict[str, list[str]]:
        return self.shared.tables.merged

    def search(self, request: SearchRequest) -> BackendResult:
        s = self.s
        memo: dict = {}  # the plan (which holds its nodes) outlives it
        primary, fallback = compile_node(request.plan.primary, memo), compile_node(request.plan.fallback, memo)
        ranker = Ranker(s, self.shared.postings)
        allowed = self._allowed(ranker, request.filters, request.speaker_ids)
        if allowed is not None and not allowed.any():
            # Whoosh reads an empty allowed set as "no filter": answer the empty result here.
            primary, fallback = None, None
        needed = request.offset + request.size
        docs, scores = np.zeros(0, dtype=np.int64), np.zeros(0)
        complete = matches = None
        if primary is not None:
            docs, scores, complete, matches = self._rows(ranker, primary, fallback, allowed, needed, request)
        total = int(np.count_nonzero(complete)) if complete is not None else 0
        partial = int(np.count_nonzero(matches)) - total if matches is not None else 0
        hits = self._hits(docs[request.offset : needed], scores[request.offset : needed], matches, complete, request)
        facets = self._facets(complete) if request.facets and complete is not None else {}
        groups = self.groups().count(matches) if matches is not None else 0  # the stories listed: complete and partial
        return BackendResult(total, hits, facets, groups, partial=partial)

    def count(self, nodes, filters: SearchFilters, speaker_ids: tuple[str, ...] | None) -> list[int]:
        ranker = Ranker(self.s, self.shared.postings)
        allowed = self._allowed(ranker, filters, speaker_ids)
        counts = []
        for node in nodes:
            mask = ranker.match(compile_node(node))
            counts.append(int(np.count_nonzero(mask if allowed is None else mask & allowed)))
        return counts

    def _allowed(self, ranker: Ranker, filters: SearchFilters, speaker_ids: tuple[str, ...] | None) -> np.ndarray | None:
        """The documents the filters let through (``None``: no filter): what
        :meth:`WhooshBackend._filter_query` matches, the date range read from the day table
        (Whoosh's ``NumericRange`` walks a matcher over every day of the range: 70 ms for a month of 1987)."""
        others = self.backend._filter_query(dataclasses.replace(filters, date_from=None, date_to=None), speaker_ids)
        allowed = ranker.match(others) if others is not None else None
        days = _day_range(filters)
        if days is not None:
            day = self.shared.tables.day  # 0: undated
            dated = ranker.gen.live & (day >= days[0]) & (day <= days[1])
            allowed = dated if allowed is None else allowed & dated
        return allowed

    def _hits(self, docs: np.ndarray, scores: np.ndarray, matches: np.ndarray | None, complete: np.ndarray | None, request: SearchRequest) -> Iterator[StoredHit]:
        """The hits ranked ``docs`` stand for, each built and its article read when it is used: an
        export of every match holds the ranking's arrays and one article at a time, not a list of hits."""
        groups = self.groups() if request.collapse else None
        days = self.shared.tables.day if request.filters.sort == "date" else None
        for i in range(len(docs)):
            docnum, score = int(docs[i]), float(scores[i])
            row = groups.row(docnum, score, matches, days) if groups is not None else Collapsed(docnum, score, [])
            stored = self._stored(row, groups is not None)
            # A story is listed where its best-ranked article stands (complete matches rank first).
            stored.complete = complete is None or bool(complete[docnum])
            yield stored

    def _stored(self, row: Collapsed, collapse: bool) -> StoredHit:
        s = self.s
        duplicates = [summary(s.stored_fields(other)) for other in row.others[:MAX_DUPLICATES]] if collapse else None
        speakers = [dict(sp) for sp in self.shared.tables.quotes.get(row.docnum, ())]
        return StoredHit(dict(s.stored_fields(row.docnum)), float(row.score), speakers, duplicates, len(row.others))

    def _rows(self, ranker: Ranker, primary, fallback, allowed, needed: int, request: SearchRequest) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The first ``needed`` hits (one per group of near-duplicates when collapsing) as arrays of
        document numbers and scores, the complete matches and the result set."""
        sort = request.filters.sort
        if not request.collapse:
            return self._rank(ranker, primary, fallback, allowed, needed, sort)
        groups = self.groups()
        wanted = needed + needed // 2 + 10  # most groups have one article: rarely asked twice
        while True:
            docs, scores, complete, matches = self._rank(ranker, primary, fallback, allowed, wanted, sort)
            firsts, first_scores = groups.collapse(docs, scores)
            if len(firsts) >= needed or len(docs) < wanted:
                return firsts[:needed], first_scores[:needed], complete, matches
            wanted *= 4

    def groups(self) -> Groups:
        """This generation's near-duplicate groups (read once from the ``dup_group`` column)."""
        built = self.shared.built
        found = built.get("groups")
        if found is None:  # two threads may both build it: the same result
            found = built["groups"] = Groups.build(group_numbers(self.reader)[0])
        return found

    def similar(self, article_id: str, limit: int) -> dict | None:
        """Its group's other live members, and stories ranked by more-like-this over its
        distinctive terms (:mod:`search.similar`)."""
        from search.similar import distinctive_terms

        s, reader = self.s, self.reader
        docnum = s.document_number(id=article_id)
        if docnum is None:
            return None
        groups = self.groups()
        fields = s.stored_fields(docnum)
        group = groups.members.get(int(groups.number[docnum]))
        versions = [int(d) for d in group if d != docnum and not reader.is_deleted(d)] if group is not None else []
        texts = {lang: (fields.get(f"title_{lang}") or "", fields.get(f"body_{lang}") or "") for lang in LANGS}

        def doc_frequency(lang: str, term: str) -> int:
            return max(self.doc_frequency(f"body_{lang}", term), self.doc_frequency(f"title_{lang}", term))

        terms = distinctive_terms(texts, doc_frequency, max(1, self.doc_count))
        related: list[tuple[int, float]] = []
        if terms:
            query = wq.Or([wq.Term(f"{part}_{t.lang}", t.term, boost=t.weight) for t in terms for part in ("title", "body")])
            excluded = {docnum, *versions}
            try:
                matches, scores = Ranker(s, self.shared.postings).scores(query)
                best = top(matches, scores, limit + len(excluded))
            except Unsupported:
                best = [(hit.docnum, hit.score) for hit in s.search(query, limit=limit + len(excluded), terms=False)]
            related = [(d, score) for d, score in best if d not in excluded][:limit]
        return {
            "id": article_id,
            "versions": [summary(s.stored_fields(d)) for d in versions],
            "related": [{**summary(s.stored_fields(d)), "score": round(float(score), 4)} for d, score in related],
        }

    def _rank(self, ranker: Ranker, primary, fallback, allowed, needed: int, sort: str):
        """The first ``needed`` hits (arrays of document numbers and scores), the complete matches
        and the whole result set (boolean arrays).

        Complete matches (``primary``) rank before partial ones (``fallback``, which also
        matches every complete match), in either order. Date order, and query shapes
        :mod:`search.backends.whoosh.ranking` does not score, go through Whoosh's searcher.
        """
        s = self.s
        if sort != "date":
            try:
                complete, complete_scores = ranker.scores(primary)
            except Unsupported:
                pass
            else:
                if allowed is not None:
                    complete = complete & allowed
                docs, scores = ranked(complete, complete_scores, needed)
                if fallback is None:
                    return docs, scores, complete, complete
                if len(docs) >= needed:
                    # The partial matches are counted, not ranked: their masks, no scores.
                    matches = ranker.match(fallback)
                    return docs, scores, complete, (matches & allowed if allowed is not None else matches)
                matches, fallback_scores = ranker.scores(fallback)
                if allowed is not None:
                    matches = matches & allowed
                more, more_scores = ranked(matches & ~complete, fallback_scores, needed - len(docs))
                return np.concatenate((docs, more)), np.concatenate((scores, more_scores)), complete, matches
        complete = ranker.match(primary)
        matches = ranker.match(fallback) | complete if fallback is not None else complete
        if allowed is not None:
            complete, matches = complete & allowed, matches & allowed
        if sort == "date":
            return (*_newest_first((complete, matches & ~complete), self.shared.tables.day, needed), complete, matches)
        docnums: list[tuple[int, float]] = []
        # Complete matches first, then partial ones: each set searched on its own, as a filter
        # (Whoosh's AndNot and mask= depend on segment order in multi-segment indexes).
        for query, within in ((primary, complete), (fallback, matches & ~complete)):
            if query is None or len(docnums) >= needed or not within.any():
                continue
            allowed_docs = set(np.flatnonzero(within).tolist())
            found = s.search(query, limit=needed - len(docnums), filter=allowed_docs, terms=False)
            docnums += [(hit.docnum, hit.score or 0.0) for hit in found]
        docs = np.fromiter((d for d, _ in docnums), dtype=np.int64, count=len(docnums))
        return docs, np.fromiter((score for _, score in docnums), dtype=np.float64, count=len(docnums)), complete, matches

    def _facets(self, matches: np.ndarray) -> dict[str, list[dict]]:
        """Speaker and year counts over the whole result set (``matches``, not just this page)."""
        tables = self.shared.tables
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


def _day_range(filters: SearchFilters) -> tuple[int, int] | None:
    """The filters' dates as inclusive YYYYMMDD bounds, both given (``None``: no date filter).
    Whoosh's open-ended range on the unsigned day field matched every article (``to`` alone
    filtered nothing); an undated article (day 0) is outside any range."""
    if not (filters.date_from or filters.date_to):
        return None
    low = int(filters.date_from.strftime("%Y%m%d")) if filters.date_from else FIRST_DAY
    high = int(filters.date_to.strftime("%Y%m%d")) if filters.date_to else LAST_DAY
    return low, high


def _newest_first(sets: tuple[np.ndarray, ...], day: np.ndarray, needed: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``needed`` documents of ``sets`` (boolean masks, taken in turn), each set newest
    first, undated last, equal days by descending document number: the order of Whoosh's
    ``sortedby="day", reverse=True`` (which sorts ``(day, docnum)`` pairs), from the day table
    instead of a matcher walking every match (a common word sorted by date: 120 → 10 ms).
    A hit's score is its day, as Whoosh's sorted search gives it."""
    taken: list[np.ndarray] = []
    left = needed
    for within in sets:
        if left <= 0:
            break
        docs = np.flatnonzero(within)
        if not len(docs):
            continue
        keys = day[docs]
        if len(docs) > left:  # only the newest ``left`` days can be on the page: sort those alone
            cut = np.partition(keys, len(keys) - left)[len(keys) - left]
            docs, keys = docs[keys >= cut], keys[keys >= cut]
        order = np.lexsort((-docs, -keys))[:left]
        taken.append(docs[order])
        left -= len(order)
    docs = (np.concatenate(taken) if taken else np.zeros(0)).astype(np.int64)
    return docs, day[docs].astype(np.float64)


def compiled(plan: Plan) -> tuple[wq.Query | None, wq.Query | None]:
    """The plan's primary and fallback as Whoosh queries (tests compare them with Whoosh's own search)."""
    return compile_node(plan.primary), compile_node(plan.fallback)
