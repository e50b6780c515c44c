"""The OpenSearch backend: articles analyzed in Python, stored and searched on a cluster.

Planning asks for term statistics (does a field hold a term, in how many articles):
here a view answers them from one request per round, asking only for the pairs the
planner needed (see :meth:`_OpenSearchView.planned`). A search is one ``msearch``
(the page of complete matches, and the whole result set's total and facets), plus one
search for partial matches when the page reaches past the complete ones. Collapsed searches
(one hit per story, the default) are one ``msearch`` too: :mod:`search.backends.opensearch.groups`.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import threading
import time
import weakref
from contextlib import contextmanager
from operator import itemgetter
from typing import Callable, Iterator

import numpy as np

from search.analysis import analyze
from search.backends.base import (
    Backend,
    BackendConfig,
    BackendResult,
    SearchRequest,
    StoredHit,
    View,
    WriteFailure,
    Writer,
)
from search.backends.opensearch import dsl, groups
from search.backends.opensearch.documents import INDEXED_FIELDS, index_body, stored_fields, to_source, versions
from search.errors import BackendUnavailableError, IndexMissingError, IndexVersionError, WriterProcessError
from search.filters import SearchFilters
from search.model import Article
from search.processes import Helper, HelperDied, worker_of
from search.query.plan import TEXT_FIELDS, Plan
from search.suggest import Suggestions
from search.timeline import DAYS_SPAN, timeline

MAX_FACET_VALUES = 50
#: Articles per bulk request; the client sends the next chunk only when the cluster answered
#: the last one (and retries a chunk the cluster refused as too busy, 429, with back-off).
BULK_CHUNK = 500
#: Batches at least this large are analyzed by a pool of processes.
PARALLEL_MIN_BATCH = 400
#: Seconds the index is taken as unchanged before the cluster is asked again (Whoosh follows
#: each commit): a change shows in the speaker directory within this time.
DIRECTORY_TTL = 2.0
#: Document frequencies (term statistics) kept for the searches that follow (~150 bytes each).
FREQUENCIES_KEPT = 100_000
SUGGESTIONS_TTL = 300.0  # reading every title is a scan of the index: done again at most this often, and only if it changed
MGET_CHUNK = 1000
#: A run that stored at least this share of the index's articles, and at least MERGE_MIN of them,
#: ends with a merge (OpenSearchWriter.finish): a first build, or a rebuild; not a daily update.
MERGE_SHARE = 0.2
MERGE_MIN = 1000
MERGE_TIMEOUT = 6 * 3600  # seconds: a merge of a large index takes a while (11 s for 632 MB here)
PAGE_CHUNK = 2000  # hits per response when a search asks for many (exports)
#: Deepest hit a search may reach (OpenSearch's index.max_result_window): the engine's pages stop
#: at 10,000, exports go further.
MAX_RESULT_WINDOW = 100_000

_KEY = itemgetter("key")
_DOC_COUNT = itemgetter("doc_count")


def _client(urls: tuple[str, ...]):
    from opensearchpy import OpenSearch

    from search.backends.opensearch.curl import connection_class
    from search.backends.opensearch.serializer import FastJSONSerializer

    # Several hosts: requests rotate over them and a dead node is skipped (and retried later).
    return OpenSearch(hosts=list(urls), timeout=30, max_retries=3, retry_on_timeout=True, http_compress=False,
                      serializer=FastJSONSerializer(), connection_class=connection_class(urls))


@contextmanager
def translated_errors(config: BackendConfig) -> Iterator[None]:
    """Turn the client's connection and cluster errors into the engine's, naming the cluster."""
    from opensearchpy import exceptions as ose

    where = ", ".join(config.urls)
    try:
        yield
    except ose.ConnectionError as exc:
        raise BackendUnavailableError(
            f"cannot reach OpenSearch at {where} ({type(exc).__name__}): start a node (`make opensearch`) "
            "or point --opensearch / $SEARCH_OPENSEARCH_URL at a running cluster",
            param="opensearch",
        ) from None
    except ose.NotFoundError as exc:
        if "index_not_found" in str(exc):
            raise _missing(config) from None
        raise
    except ose.TransportError as exc:
        raise BackendUnavailableError(
            f"OpenSearch at {where} could not answer: {exc.status_code} {exc.error}", param="opensearch"
        ) from None


def complete(answer: dict, config: BackendConfig) -> dict:
    """``answer`` if every shard answered in time; a result from some shards only would show
    wrong totals and facets as if they were right, so it is an error naming the cluster.

    >>> complete({"_shards": {"total": 2, "successful": 2, "failed": 0}}, BackendConfig(backend="opensearch"))["_shards"]["failed"]
    0
    """
    shards = answer.get("_shards") or {}
    failed = int(shards.get("failed") or 0)
    if failed or answer.get("timed_out"):
        reasons = "; ".join(sorted({str((f.get("reason") or {}).get("reason") or f.get("reason")) for f in shards.get("failures") or []}))
        what = f"{failed} of {shards.get('total', '?')} shards failed" if failed else "the search timed out"
        raise BackendUnavailableError(
            f"OpenSearch at {', '.join(config.urls)} answered from part of the index ({what}{': ' + reasons if reasons else ''}); "
            "check the cluster's health (GET /_cluster/health) and retry",
            param="opensearch",
        )
    return answer


def _missing(config: BackendConfig) -> IndexMissingError:
    return IndexMissingError(
        f"no index {config.index_name!r} on OpenSearch at {', '.join(config.urls)}: build one with "
        f"`python -m search index PATH --backend opensearch --opensearch-index {config.index_name}`",
        param="index",
    )


@dataclasses.dataclass
class _Kept:
    """Something built from the index, the index's state it was built from, and when that state was last confirmed."""

    value: object
    state: tuple
    checked: float


class OpenSearchBackend(Backend):
    """One index on an OpenSearch cluster."""

    name = "opensearch"

    def __init__(self, config: BackendConfig, *, create: bool = False) -> None:
        self.config = config
        self.index_dir = config.index_dir
        self.index = config.index_name
        self.client = _client(config.urls)
        # A server forks its workers after warming up: each child needs its own connections
        # (a socket shared by two processes mixes their responses).
        ref = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: ref() is not None and ref()._reconnect())
        self._directory_lock = threading.Lock()
        self._state: tuple[float, tuple] | None = None  # (when asked, the index's state)
        self._kept: dict[object, _Kept] = {}  # what is built from the index: the directory, suggestions, memos
        self._names: dict[str, dict] = {}  # speaker id → names, of the index whose uuid is self._names_of
        self._names_of: str | None = None
        self._frequencies: tuple[tuple, dict] = ((), {})  # (the index's state, what read_frequencies() gives)
        self._shards: tuple[str | None, int] = (None, 0)  # (the index's uuid, its primary shards)
        self._later = False  # pinned (a server's worker): the directory is read again in the background
        self._reading: dict[object, threading.Thread] = {}  # what is being read again, by key
        self._local = threading.local()  # .later: this thread reads again in the background
        with translated_errors(config):
            health = self.client.cluster.health()
            if health.get("status") == "red":
                raise BackendUnavailableError(
                    f"the OpenSearch cluster at {', '.join(config.urls)} is red (some shards have no live copy): "
                    "start the missing nodes, or check `GET _cluster/allocation/explain`",
                    param="opensearch",
                )
            if not self.client.indices.exists(index=self.index):
                if not create:
                    raise _missing(config)
                self._create()
            self._check_versions()

    def _reconnect(self) -> None:
        self.client = _client(self.config.urls)

    def _create(self) -> None:
        from opensearchpy import exceptions as ose

        try:
            self.client.indices.create(index=self.index, body=index_body(self.config.shards, self.config.replicas, MAX_RESULT_WINDOW))
        except ose.RequestError as exc:
            if "resource_already_exists" not in str(exc):  # another process created it meanwhile
                raise
        self.client.cluster.health(index=self.index, wait_for_status="yellow")

    def _check_versions(self) -> None:
        mapping = self.client.indices.get_mapping(index=self.index)
        meta = next(iter(mapping.values()))["mappings"].get("_meta") or {}
        expected = versions()
        found = {key: meta.get(key) for key in expected}
        if found != expected:
            described = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in found.items())
            wanted = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in expected.items())
            raise IndexVersionError(
                f"the OpenSearch index {self.index!r} on {', '.join(self.config.urls)} was built by an incompatible "
                f"version ({described}; this program needs {wanted}): delete it (`DELETE /{self.index}`) or choose "
                "another --opensearch-index, then re-index",
                param="index",
            )

    # --- searching ------------------------------------------------------------------------

    def view(self) -> "_OpenSearchView":
        return _OpenSearchView(self)

    def index_state(self) -> tuple:
        """What changes whenever what searches see does: the index's uuid, how often it was
        refreshed (a write shows only after a refresh, and a refresh with nothing new is not
        counted) and its document counts; asked at most every :data:`DIRECTORY_TTL` seconds."""
        with self._directory_lock:
            if self._state is not None and time.monotonic() - self._state[0] < DIRECTORY_TTL:
                return self._state[1]
        with translated_errors(self.config):
            stats = self.client.indices.stats(index=self.index, metric="refresh,docs")
        total = stats["_all"]["total"]
        uuid = next(iter(stats.get("indices", {}).values()), {}).get("uuid")
        state = (uuid, total["refresh"]["total"], total["refresh"].get("external_total"), total["docs"]["count"], total["docs"]["deleted"])
        with self._directory_lock:
            self._state = (time.monotonic(), state)
        return state

    def read_frequencies(self) -> dict[tuple[str, str] | None, int]:
        """The document frequencies searches have read while the index is in its current state,
        shared by the searches that follow: ``(field, term)`` → articles holding it, ``None`` →
        articles in the index (forgotten when the index changes, or all at once past
        :data:`FREQUENCIES_KEPT`)."""
        state = self.index_state()
        with self._directory_lock:
            if self._frequencies[0] != state or len(self._frequencies[1]) > FREQUENCIES_KEPT:
                self._frequencies = (state, {})
            return self._frequencies[1]

    def _reused(self, key: object, ttl: float, build: Callable[[], object], *, later: bool = False) -> object:
        """``build()``, reused for ``ttl`` seconds and after that for as long as the index is unchanged.
        ``later``: in a pinned process, a change is read in a background thread while the value
        built before is still given (see :meth:`pin`)."""
        with self._directory_lock:
            found = self._kept.get(key)
        now = time.monotonic()
        if found is not None and now - found.checked < ttl:
            return found.value
        state = self.index_state()  # before building: a change meanwhile builds again next time
        if found is not None and found.state == state:
            found.checked = now
            return found.value
        # (What a background reading builds from, it reads itself: it would otherwise be built from
        # the values it is there to replace.)
        if found is not None and later and self._later and not getattr(self._local, "later", False):
            self._build_later(key, state, build)
            return found.value
        value = build()
        with self._directory_lock:
            self._kept[key] = _Kept(value, state, now)
        return value

    def _build_later(self, key: object, state: tuple, build: Callable[[], object]) -> None:
        def run() -> None:
            self._local.later = True
            try:
                value = build()
            except Exception:  # the cluster did not answer: the next search asks again
                return
            with self._directory_lock:
                self._kept[key] = _Kept(value, state, time.monotonic())

        with self._directory_lock:
            running = self._reading.get(key)
            if running is not None and running.is_alive():  # (a thread of the parent is not, after a fork)
                return
            thread = self._reading[key] = threading.Thread(target=run, name=f"read-again-{key}", daemon=True)
        thread.start()

    def pin(self) -> None:
        """A server's worker: after the index changed, what is built from all of it is built
        again in a background thread, and searches meanwhile use what was built before: the
        speaker directory (a count of every speaker's articles: 31-36 ms on the 4x corpus, paid by
        the next search after each change; a speaker new to the index is unnamed for that moment)
        and, at most every :data:`SUGGESTIONS_TTL` seconds, the suggestions, the pinyin table and
        the vocabulary for typos (every title read and analyzed: seconds, paid by the first search
        needing them). The articles searched are the cluster's as they are now."""
        self._later = True

    def speaker_directory(self) -> dict[str, dict]:
        """Every quoted speaker: id → names and the number of articles quoting them (read again
        when the index changed)."""
        return self._reused("directory", 0.0, self._read_directory, later=True)

    def _read_directory(self) -> dict[str, dict]:
        # Counting is cheap; each speaker's names come from one article quoting them, read once
        # per speaker (thousands of articles' sources in one answer take the cluster a second).
        body = {"size": 0, "aggs": {"speakers": {"terms": {"field": "speakers", "size": 65_000}}}}
        with translated_errors(self.config):
            answer = complete(self.client.search(index=self.index, body=body), self.config)
        counts = {bucket["key"]: bucket["doc_count"] for bucket in answer["aggregations"]["speakers"]["buckets"]}
        uuid = self.index_state()[0]
        if uuid != self._names_of:
            self._names, self._names_of = {}, uuid
        missing = [sid for sid in counts if sid not in self._names]
        if missing:
            self._names.update(self._read_names(missing, every=len(missing) == len(counts)))
        unknown = {"zh": None, "en": None}
        return {sid: {"names": self._names.get(sid, unknown), "count": counts[sid]} for sid in sorted(counts)}

    def _read_names(self, ids: list[str], *, every: bool) -> dict[str, dict]:
        """Speaker id → names, as one article quoting them gives them (``every``: all ids the index holds)."""
        terms: dict = {"field": "speakers", "size": max(1, len(ids))}
        if not every:
            terms["include"] = ids
        body = {"size": 0, "aggs": {"speakers": {"terms": terms, "aggs": {"one": {"top_hits": {"size": 1, "_source": ["doc.speakers_data"]}}}}}}
        with translated_errors(self.config):
            answer = complete(self.client.search(index=self.index, body=body), self.config)
        names: dict[str, dict] = {}
        for bucket in answer["aggregations"]["speakers"]["buckets"]:
            sid = bucket["key"]
            hits = bucket["one"]["hits"]["hits"]
            quoted = hits[0]["_source"].get("doc", {}).get("speakers_data", []) if hits else []
            names[sid] = next((sp["names"] for sp in quoted if sp["id"] == sid), {"zh": None, "en": None})
        return names

    def shards(self) -> int:
        """The index's primary shards (read again when the index is another one: its uuid changed)."""
        uuid = self.index_state()[0]
        with self._directory_lock:
            if self._shards[0] == uuid and self._shards[1]:
                return self._shards[1]
        with translated_errors(self.config):
            settings = self.client.indices.get_settings(index=self.index, name="index.number_of_shards")
        shards = int(next(iter(settings.values()))["settings"]["index"]["number_of_shards"])
        with self._directory_lock:
            self._shards = (uuid, shards)
        return shards

    def article(self, article_id: str) -> dict | None:
        with translated_errors(self.config):
            found = self.client.get(index=self.index, id=article_id, ignore=[404])
        if not found.get("found"):
            return None
        fields = stored_fields(found["_source"])
        fields["speakers_data"] = list(found["_source"].get("doc", {}).get("speakers_data", []))
        return fields

    def count(self) -> int:
        with translated_errors(self.config):
            return int(self.client.count(index=self.index)["count"])

    def stats(self) -> dict:
        body = {
            "size": 0,
            "track_total_hits": True,
            "aggs": {"languages": {"terms": {"field": "lang", "size": 10}}, "years": {"terms": {"field": "year", "size": 10_000}}},
        }
        with translated_errors(self.config):
            answer = complete(self.client.search(index=self.index, body=body), self.config)
            store = self.client.indices.stats(index=self.index, metric="store")
        total = int(answer["hits"]["total"]["value"])
        languages = {bucket["key"]: bucket["doc_count"] for bucket in answer["aggregations"]["languages"]["buckets"]}
        years = {int(b["key"]): b["doc_count"] for b in answer["aggregations"]["years"]["buckets"]}
        undated = years.pop(0, 0)
        return {
            "articles": total,
            "languages": {lang: languages.get(lang, 0) for lang in ("zh", "en")},
            "years": [{"year": year, "count": count} for year, count in sorted(years.items(), reverse=True)],
            "undated": undated,
            "index_bytes": int(store["_all"]["total"]["store"]["size_in_bytes"]),
            **versions(),
        }

    def suggestions(self) -> Suggestions:
        """Built from every article's titles (read once, then again at most every
        :data:`SUGGESTIONS_TTL` seconds, when the index changed)."""
        return self._reused("suggestions", SUGGESTIONS_TTL, self._read_suggestions, later=True)

    def _read_suggestions(self) -> Suggestions:
        from opensearchpy import helpers

        titles: list[tuple[str, str | None, str | None, int]] = []
        zh_words: dict[str, int] = {}
        # A title filed again (a re-filing, another outlet's copy: 11 % of the news corpus) is analyzed once.
        words_of: dict[str, frozenset[str]] = {}
        query = {"_source": ["id", "day", "doc.title_zh", "doc.title_en"]}
        with translated_errors(self.config):
            for hit in helpers.scan(self.client, index=self.index, query=query, size=2000):
                source = hit["_source"]
                doc = source.get("doc") or {}
                title_zh = doc.get("title_zh") or ""
                titles.append((source.get("id", ""), doc.get("title_zh"), doc.get("title_en"), int(source.get("day") or 0)))
                words = words_of.get(title_zh)
                if words is None:
                    words = words_of[title_zh] = frozenset(token.term for token in analyze(title_zh))
                for word in words:  # as a lexicon of title_zh
                    zh_words[word] = zh_words.get(word, 0) + 1
        return Suggestions.build(titles, zh_words, self.speaker_directory())

    def memo(self, key: object, build: Callable[[], object]) -> object:
        """``build()``, kept as the suggestions are (the index may change meanwhile)."""
        return self._reused(("memo", key), SUGGESTIONS_TTL, build, later=True)

    def close(self) -> None:
        self.client.close()

    # --- writing --------------------------------------------------------------------------

    def writer(self, *, procs: int, batch_size: int, dedup: bool = True) -> "OpenSearchWriter":
        return OpenSearchWriter(self, procs=procs, dedup=dedup)


class _OpenSearchView(View):
    """Term statistics fetched in rounds for one search, then the search itself."""

    def __init__(self, backend: OpenSearchBackend) -> None:
        self.backend = backend
        self._known: dict[tuple[str, str], int] = {}
        self._asked: set[tuple[str, str]] = set()
        self._count_asked = False
        self._doc_count: int | None = None
        self._kept: dict | None = None

    def _read(self) -> dict:
        """The frequencies earlier searches read from the index as it is now (see
        :meth:`OpenSearchBackend.read_frequencies`): a search whose terms were all asked before
        plans once, not twice."""
        if self._kept is None:
            self._kept = self.backend.read_frequencies()
        return self._kept

    @property
    def doc_count(self) -> int:
        if self._doc_count is None:
            self._doc_count = self._read().get(None)
        if self._doc_count is None:
            self._count_asked = True
            return 0  # unknown yet: planned() fetches it with the term statistics and plans again
        return self._doc_count

    def doc_frequency(self, fieldname: str, term: str) -> int:
        key = (fieldname, term)
        if key in self._known:
            return self._known[key]
        found = self._read().get(key)
        if found is not None:
            self._known[key] = found
            return found
        self._asked.add(key)
        return 1  # unknown yet: assume present; planned() asks the cluster and plans again

    def planned(self, make_plan: Callable[[View], Plan]) -> Plan:
        for _ in range(4):
            self._asked, self._count_asked = set(), False
            the_plan = make_plan(self)
            if not self._asked and not self._count_asked:
                return the_plan
            # Each term in every text field: the planner tries fields one by one (the first that
            # holds a translation wins), so asking for all of them now saves a round later.
            terms = {term for name, term in self._asked if name in TEXT_FIELDS}
            self._fetch(sorted(({(name, term) for term in terms for name in TEXT_FIELDS} | self._asked) - self._known.keys()))
        return make_plan(self)

    def _fetch(self, pairs: list[tuple[str, str]]) -> None:
        kept = self._read()
        missing = [pair for pair in pairs if pair not in kept]
        if None not in kept:
            kept[None] = self.backend.count()
        if missing:
            kept.update(self._read_frequencies(missing))
        self._doc_count = kept[None]
        self._known.update((pair, kept[pair]) for pair in pairs)

    def _read_frequencies(self, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """How many articles hold each ``(field, term)``.

        The counts are Lucene's document frequencies, read from each shard's term dictionary
        through the term vectors of one artificial document holding the terms: articles
        deleted but not yet merged away still count, as Whoosh counts them. (Counting each pair
        among the articles holding any of the terms cost the node a pass over their postings,
        growing with the archive; a filter per pair over the whole index cost more.)"""
        found: dict[tuple[str, str], int] = {}
        by_field: dict[str, list[str]] = {}
        for field, term in pairs:
            found[(field, term)] = 0
            if field in INDEXED_FIELDS:
                by_field.setdefault(field, []).append(term)
        if not by_field:
            return found
        body = {
            "doc": {field: " ".join(terms) for field, terms in by_field.items()},
            "fields": sorted(by_field),
            "term_statistics": True,
            "field_statistics": False,
            "positions": False,
            "offsets": False,
            "payloads": False,
        }
        client, config = self.backend.client, self.backend.config
        for shard in range(self.backend.shards()):
            # An artificial document without routing goes to the shard the preference names.
            with translated_errors(config):
                answer = client.termvectors(index=self.backend.index, body=body, preference=f"_shards:{shard}")
            for field, vector in (answer.get("term_vectors") or {}).items():
                for term, info in (vector.get("terms") or {}).items():
                    if (field, term) in found:
                        found[(field, term)] += max(0, int(info.get("doc_freq") or 0))
        return found

    def speaker_directory(self) -> dict[str, dict]:
        return self.backend.speaker_directory()

    def similar(self, article_id: str, limit: int) -> dict | None:
        return groups.similar(self, article_id, limit)

    def frequencies(self, pairs) -> dict[tuple[str, str], int]:
        pairs = list(pairs)
        missing = sorted(set(pairs) - self._known.keys())
        if missing:
            self._fetch(missing)
        return {pair: self._known[pair] for pair in pairs}

    def field_terms(self, fieldname: str):
        """The Chinese words of the titles (what the suggestions read): listing a text field's
        terms is not something a cluster does cheaply."""
        if fieldname != "title_zh":
            return ()
        return (word for word in self.backend.suggestions().counts if not word.isascii())

    def memo(self, key: object, build: Callable[[], object]) -> object:
        return self.backend.memo(key, build)

    def similar_terms(self, fieldnames: tuple[str, ...], term: str, max_edits: int) -> dict[str, tuple[int, int]]:
        """The cluster's term suggester (Lucene's direct spell checker over the index's terms)."""
        if max_edits <= 0:
            return {}
        from search.query.spelling import OSA

        options = {
            "field": "", "analyzer": "whitespace", "suggest_mode": "always", "max_edits": min(2, max_edits), "prefix_length": 0,
            "min_word_length": 1, "string_distance": "damerau_levenshtein", "size": 20, "sort": "frequency", "accuracy": 0.0,
            "max_term_freq": 1.0,
        }
        suggest = {f"f{n}": {"text": term, "term": {**options, "field": name}} for n, name in enumerate(fieldnames)}
        with translated_errors(self.backend.config):
            answer = complete(self.backend.client.search(index=self.backend.index, body={"size": 0, "suggest": suggest}), self.backend.config)
        found: dict[str, tuple[int, int]] = {}
        for n in range(len(fieldnames)):
            for entry in answer.get("suggest", {}).get(f"f{n}", []):
                for option in entry.get("options", []):
                    text, freq = option["text"], int(option.get("freq", 0))
                    edits = int(OSA.distance(term, text))
                    if text != term and edits <= max_edits:
                        found[text] = (edits, max(freq, found.get(text, (0, 0))[1]))
        return found

    def search(self, request: SearchRequest) -> BackendResult:
        """Collapsed (one hit per group of near-duplicates): :mod:`search.backends.opensearch.groups`."""
        return self._search(request)

    def _search(self, request: SearchRequest) -> BackendResult:
        """One page; a long one (an export) in chunks of :data:`PAGE_CHUNK`, so no response holds them all."""
        if request.size <= PAGE_CHUNK:
            return self._page(request)
        first = self._page(dataclasses.replace(request, size=PAGE_CHUNK))

        def rest() -> Iterator[StoredHit]:
            for start in range(request.offset + PAGE_CHUNK, min(request.offset + request.size, first.total + first.partial), PAGE_CHUNK):
                size = min(PAGE_CHUNK, request.offset + request.size - start)
                yield from self._page(dataclasses.replace(request, offset=start, size=size, facets=False)).hits

        return BackendResult(first.total, itertools.chain(first.hits, rest()), first.facets, first.groups, partial=first.partial)

    def _page(self, request: SearchRequest) -> BackendResult:
        the_plan = request.plan
        if the_plan.primary is None or request.speaker_ids == ():
            return BackendResult(0, [], {})
        if request.collapse:
            return groups.collapsed_page(self, request, MAX_FACET_VALUES)
        filters = dsl.filter_clauses(request.filters, request.speaker_ids)
        by_date = request.filters.sort == "date"
        primary, fallback = the_plan.primary, the_plan.fallback
        order = {"sort": [{"day": {"order": "desc"}}, {"_score": {"order": "desc"}}, {"id": {"order": "asc"}}], "track_scores": True} if by_date else {}
        page: dict = {
            "query": dsl.restricted(primary, filters),
            "from": request.offset,
            "size": request.size,
            "track_total_hits": True,
            "_source": ["id", "doc"],
            **order,
        }
        if request.facets:
            page["aggs"] = dsl.facet_aggregations(MAX_FACET_VALUES)
        searches = [page]
        if fallback is not None:
            searches.append({"query": dsl.restricted(fallback, filters), "size": 0, "track_total_hits": True})
        searches[-1]["aggs"] = {**searches[-1].get("aggs", {}), **groups.stories()}  # over every match
        answers = self._msearch(searches)
        first = answers[0]
        hits = [self._hit(hit) for hit in first["hits"]["hits"]]
        complete = int(first["hits"]["total"]["value"])
        partial = int(answers[-1]["hits"]["total"]["value"]) - complete if fallback is not None else 0
        if fallback is not None and len(hits) < request.size and partial > 0:
            rest = {
                "query": dsl.restricted(fallback, filters, without=primary),
                "from": max(0, request.offset - complete),
                "size": request.size - len(hits),
                "_source": ["id", "doc"],
                **order,
            }
            hits += [dataclasses.replace(self._hit(hit), complete=False) for hit in self._msearch([rest])[0]["hits"]["hits"]]
        facets = {}
        if request.facets:
            day_search = self.day_search(first.get("aggregations"), page["query"])
            facets = self._facets(first.get("aggregations"), self._msearch([day_search])[0] if day_search else None)
        return BackendResult(complete, hits, facets, groups.story_count(answers[-1]), partial=partial)

    def count(self, nodes, filters: SearchFilters, speaker_ids: tuple[str, ...] | None) -> list[int]:
        if speaker_ids == ():
            return [0 for _ in nodes]
        clauses = dsl.filter_clauses(filters, speaker_ids)
        searches = [{"query": dsl.restricted(node, clauses), "size": 0, "track_total_hits": True} for node in nodes]
        return [int(answer["hits"]["total"]["value"]) for answer in self._msearch(searches)] if searches else []

    def _msearch(self, searches: list[dict]) -> list[dict]:
        lines: list[dict] = []
        for body in searches:
            lines += [{"index": self.backend.index}, body]
        with translated_errors(self.backend.config):
            answers = self.backend.client.msearch(body=lines)["responses"]
        for answer in answers:
            if "error" in answer:
                raise BackendUnavailableError(f"OpenSearch could not run the search: {answer['error']}", param="opensearch")
            complete(answer, self.backend.config)
        return answers

    @staticmethod
    def _hit(hit: dict) -> StoredHit:
        source = hit["_source"]
        speakers = [dict(sp) for sp in source.get("doc", {}).get("speakers_data", [])]
        return StoredHit(stored_fields(source), float(hit.get("_score") or 0.0), speakers)

    @staticmethod
    def day_search(aggregations: dict | None, query: dict) -> dict | None:
        """The search counting ``query``'s matches per day, when the page's month counts
        (``aggregations``) span at most :data:`~search.timeline.DAYS_SPAN` days' worth: the
        timeline then shows days. Sent with the next request the page makes anyway."""
        if not aggregations:
            return None
        months, _ = _buckets(aggregations["months"]["buckets"])
        dated = months[months > 0] // 100  # YYYYMM; 0: undated
        if not len(dated):
            return None
        first, last = int(dated[0]), int(dated[-1])
        # Dates DAYS_SPAN days apart at most are at most this many months apart (62 days:
        # January 31 to April 1 is three months on; four months on is 89 days at least).
        if (last // 100 * 12 + last % 100) - (first // 100 * 12 + first % 100) > -(-DAYS_SPAN // 28):
            return None
        return {"size": 0, "track_total_hits": False, "query": query, "aggs": {"days": dsl.DAYS}}

    def _facets(self, aggregations: dict | None, days: dict | None = None) -> dict[str, list[dict]]:
        """The facets from the page's aggregations, and the answer of its :meth:`day_search`
        (``days``) if one was asked."""
        if not aggregations:
            return {}
        months, counts = _buckets(aggregations["months"]["buckets"])
        dated = months > 0  # 0: undated, in no year
        per_year = np.bincount(months[dated] // 10_000, weights=counts[dated]) if dated.any() else np.zeros(0)
        years = [(int(year), int(per_year[year])) for year in np.flatnonzero(per_year)[::-1]]
        # A month's key (YYYYMM00) is no day: months only, unless the days were asked.
        shown = timeline(*_buckets(days["aggregations"]["days"]["buckets"])) if days else timeline(months, counts)
        buckets = aggregations["speakers"]["buckets"]
        directory = self.backend.speaker_directory() if buckets else {}
        unknown = {"zh": None, "en": None}
        return {
            "speakers": [
                {"id": b["key"], "names": directory.get(b["key"], {"names": unknown})["names"], "count": b["doc_count"]} for b in buckets
            ],
            "years": [{"year": year, "count": count} for year, count in years],
            **shown,
        }


def _buckets(buckets: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """A histogram's keys (integers) and counts, read in C: a common word's matches fill
    thousands of day buckets."""
    keys = np.fromiter(map(_KEY, buckets), dtype=np.float64, count=len(buckets)).astype(np.int64)
    return keys, np.fromiter(map(_DOC_COUNT, buckets), dtype=np.int64, count=len(buckets))


class OpenSearchWriter(Writer):
    """Bulk writes for one indexing run: analysis in worker processes, streaming bulk requests."""

    def __init__(self, backend: OpenSearchBackend, *, procs: int, dedup: bool = True) -> None:
        self.backend = backend
        self.client = backend.client
        self.index = backend.index
        self.procs = procs
        self.dedup = dedup  # group near-duplicates (off only to measure what grouping costs)
        self._grouper: groups.Grouper | None = None
        self._pending: list[tuple[Article, str]] = []
        self._stored = 0  # articles stored by this run

    def __enter__(self) -> "OpenSearchWriter":
        with translated_errors(self.backend.config):
            self.client.indices.refresh(index=self.index)
            self._grouper = groups.Grouper(self.client, self.index, self.dedup)
        return self

    def __exit__(self, *exc) -> None:
        with translated_errors(self.backend.config):
            self.client.indices.refresh(index=self.index)

    def finish(self, merge: bool = True) -> tuple[list[str], list[str]]:
        """After a run that stored at least :data:`MERGE_SHARE` of the index's articles (and
        :data:`MERGE_MIN` articles): one segment per shard (:func:`merge_segments`)."""
        if not merge or self._stored < MERGE_MIN:
            return [], []
        if self._stored < MERGE_SHARE * self.backend.count():
            return [], []
        try:
            seconds = merge_segments(self.client, self.index)
        except Exception as exc:  # the articles are stored: a merge left undone only costs speed
            reason = f"{type(exc).__name__}: {str(exc)[:200]}"
            return [], [f"the index's segments were not merged ({reason}): searches work, and cost the cluster more until "
                        f"it merges them; to merge them later: POST /{self.index}/_forcemerge?max_num_segments=1"]
        return [f"merged the index's segments, one per shard, in {seconds:.1f} s (searches cost the cluster about half; --no-merge skips this)"], []

    def digests(self, ids: list[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        with translated_errors(self.backend.config):
            for start in range(0, len(ids), MGET_CHUNK):
                chunk = ids[start : start + MGET_CHUNK]
                answer = self.client.mget(index=self.index, body={"ids": chunk}, _source_includes=["digest"])
                for doc in answer["docs"]:
                    if doc.get("found"):
                        out[doc["_id"]] = doc["_source"].get("digest") or ""
        return out

    def add(self, article: Article, digest: str, exists: bool) -> None:
        self._pending.append((article, digest))

    def cancel(self) -> None:
        self._pending = []

    def commit(self) -> list[WriteFailure]:
        from opensearchpy import helpers

        items, self._pending = self._pending, []
        if not items:
            return []
        failures: list[WriteFailure] = []
        with _analyzed(items, self.procs) as sources:
            grouped = self._grouper.grouped(items, sources, parallel=self.procs > 1 and len(items) >= PARALLEL_MIN_BATCH)
            actions = ({"_op_type": "index", "_index": self.index, "_id": source["id"], "_source": source} for source in grouped)
            with translated_errors(self.backend.config):
                for ok, item in helpers.streaming_bulk(
                    self.client,
                    actions,
                    chunk_size=BULK_CHUNK,
                    max_retries=5,
                    initial_backoff=1,
                    max_backoff=30,
                    raise_on_error=False,
                    raise_on_exception=False,
                    yield_ok=False,
                ):
                    if not ok:
                        failures.append(_failure(item))
        with translated_errors(self.backend.config):
            self.client.indices.refresh(index=self.index)
        self._stored += len(items) - len(failures)
        return failures

    def paths(self) -> dict[str, set[str]]:
        from opensearchpy import helpers

        out: dict[str, set[str]] = {}
        with translated_errors(self.backend.config):
            self.client.indices.refresh(index=self.index)
            query = {"query": {"exists": {"field": "path"}}, "_source": ["id", "path"]}
            for hit in helpers.scan(self.client, index=self.index, query=query, size=2000):
                out.setdefault(hit["_source"]["path"], set()).add(hit["_source"]["id"])
        return out

    def delete(self, ids: list[str]) -> int:
        from opensearchpy import helpers

        deleted = 0
        actions = ({"_op_type": "delete", "_index": self.index, "_id": article_id} for article_id in ids)
        with translated_errors(self.backend.config):
            for ok, item in helpers.streaming_bulk(self.client, actions, chunk_size=BULK_CHUNK, raise_on_error=False, max_retries=5):
                if ok and item.get("delete", {}).get("result") == "deleted":
                    deleted += 1
            self.client.indices.refresh(index=self.index)
        return deleted


def merge_segments(client, index: str) -> float:
    """Merge ``index`` down to one segment per shard (a force merge), then refresh; the seconds
    it took.

    A bulk build leaves about ten segments per shard, and a search pays for each: every term is
    looked up in each segment, and collapsing, the story count and the facets map each segment's
    values to the index's (global ordinals). On the 4x benchmark corpus (154,548 articles, 632 MB,
    11 segments), merging took 11 s and the node's CPU per search fell from 13-15 ms to 7.4-9.2 ms
    (over HTTP at 8 clients: p99 148-150 ms -> 96-104 ms). Later runs that add a few articles
    make small segments again, which the node's merge policy merges with each other; the big
    segment, mostly old articles that do not change, stays as it is."""
    started = time.monotonic()
    client.indices.forcemerge(index=index, max_num_segments=1, request_timeout=MERGE_TIMEOUT)
    client.indices.refresh(index=index)
    return time.monotonic() - started


def _failure(item: dict) -> WriteFailure:
    """A failed bulk item as the engine reports it."""
    info = next(iter(item.values())) if item else {}
    error = info.get("error")
    if isinstance(error, dict):
        reason = f"{error.get('type')}: {error.get('reason')}"
    else:
        reason = str(error or info.get("exception") or "unknown error")
    status = info.get("status")
    return WriteFailure(str(info.get("_id")), f"OpenSearch refused it ({status}, {reason})" if status else f"OpenSearch refused it ({reason})")


#: Articles per task of an analysis process, and tasks asked ahead of each process.
ANALYSIS_CHUNK = 32
ANALYSIS_AHEAD = 4


@contextmanager
def _analyzed(items: list[tuple[Article, str]], procs: int) -> Iterator[Iterator[dict]]:
    """The documents for ``items`` in order, analyzed by ``procs`` processes when the batch is
    large enough. A process that dies fails the batch (:class:`WriterProcessError`): with
    ``multiprocessing.Pool`` its task was lost and ``imap`` waited for it for ever."""
    if procs <= 1 or len(items) < PARALLEL_MIN_BATCH:
        yield (to_source(item) for item in items)
        return
    # fork: the processes start with the parent's dictionaries already loaded.
    helpers = [Helper(worker_of, (os.getpid(),)) for _ in range(procs)]
    try:
        yield _in_order(helpers, [items[k : k + ANALYSIS_CHUNK] for k in range(0, len(items), ANALYSIS_CHUNK)])
    finally:
        for helper in helpers:
            helper.close()


def _in_order(helpers: list[Helper], chunks: list[list[tuple[Article, str]]]) -> Iterator[dict]:
    """Each chunk to the helpers in turn, at most :data:`ANALYSIS_AHEAD` each ahead; the
    documents back in the chunks' order."""
    ahead = ANALYSIS_AHEAD * len(helpers)
    asked = []
    try:
        for k in range(min(len(chunks), ahead)):
            asked.append(helpers[k % len(helpers)].submit(_sources, chunks[k]))
        for k in range(len(chunks)):
            documents, asked[k] = asked[k].result(), None
            if k + ahead < len(chunks):
                asked.append(helpers[(k + ahead) % len(helpers)].submit(_sources, chunks[k + ahead]))
            yield from documents
    except HelperDied as error:
        raise WriterProcessError(
            f"an analysis process died (exit status {error.exitcode}); the articles of this batch not stored yet were not: run the same command again"
        ) from error


def _sources(chunk: list[tuple[Article, str]]) -> list[dict]:
    return [to_source(item) for item in chunk]


__all__ = ["OpenSearchBackend", "OpenSearchWriter"]
