"""The storage interface: what the engine asks of a backend, and how one is chosen.

The engine (:mod:`search.searcher`, :mod:`search.indexer`) parses, analyzes, plans and
highlights; a backend stores analyzed articles and runs a :class:`~search.query.plan.Plan`
with filters, sort, paging and facets. Only dataclasses and plain dicts cross this line.

Stored fields, as every backend returns them: ``id``, ``title_zh``/``title_en``,
``body_*``, ``captions_*`` (original text), ``date_iso``, ``source``, ``url``,
``dateline``, ``meta``, ``lang``.
"""

from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Callable, Iterable, Mapping

from search.errors import SearchError
from search.filters import SearchFilters
from search.model import LANGS, Article
from search.query.plan import TEXT_FIELDS, Plan
from search.suggest import Suggestions

if TYPE_CHECKING:
    from search.lexicon.pinyin import PinyinTable

BACKENDS = ("whoosh", "opensearch")
DEFAULT_OPENSEARCH_URL = "http://127.0.0.1:9200"
DEFAULT_OPENSEARCH_INDEX = "news"


def default_index_dir() -> str:
    """``$SEARCH_INDEX`` if set, else ``index/`` in the current folder."""
    return os.environ.get("SEARCH_INDEX") or "index"


@dataclass(frozen=True)
class BackendConfig:
    """Which backend, and where its data lives.

    ``backend``: ``whoosh`` (an index folder, ``index_dir``) or ``opensearch`` (a cluster
    at ``urls``, index ``index_name``, created with ``shards``/``replicas``).
    """

    backend: str = "whoosh"
    index_dir: str = field(default_factory=default_index_dir)
    urls: tuple[str, ...] = (DEFAULT_OPENSEARCH_URL,)
    index_name: str = DEFAULT_OPENSEARCH_INDEX
    shards: int = 1
    replicas: int = 0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **given: object) -> "BackendConfig":
        """The configuration from ``given`` values (``None`` = not given), else ``$SEARCH_BACKEND``,
        ``$SEARCH_OPENSEARCH_URL`` and ``$SEARCH_INDEX``, else the defaults. Raises :class:`SearchError`."""
        env = os.environ if env is None else env
        values = {key: value for key, value in given.items() if value is not None}
        backend = str(values.pop("backend", None) or env.get("SEARCH_BACKEND") or "whoosh").strip().lower()
        if backend not in BACKENDS:
            raise SearchError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}", param="backend")
        urls = values.pop("urls", None) or env.get("SEARCH_OPENSEARCH_URL") or DEFAULT_OPENSEARCH_URL
        values.setdefault("index_dir", default_index_dir() if env is os.environ else env.get("SEARCH_INDEX") or "index")
        config = cls(backend=backend, urls=split_urls(urls), **values)
        for name in ("shards", "replicas"):
            value = getattr(config, name)
            if not isinstance(value, int) or value < (1 if name == "shards" else 0):
                raise SearchError(f"{name} must be a whole number of at least {1 if name == 'shards' else 0}, got {value!r}", param=name)
        return config

    @classmethod
    def resolve(cls, index_dir: str | None, config: "BackendConfig | None") -> "BackendConfig":
        """``config`` (from the environment when ``None``), with ``index_dir`` if one is given."""
        if config is None:
            return cls.from_env(index_dir=index_dir)
        return config if index_dir is None else replace(config, index_dir=index_dir)

    @property
    def where(self) -> str:
        """Where the data is, for messages."""
        if self.backend == "opensearch":
            return f"index {self.index_name!r} on {', '.join(self.urls)}"
        return os.path.abspath(self.index_dir)


def split_urls(value: str | Iterable[str]) -> tuple[str, ...]:
    """URLs given as one comma-separated string, or repeated (each may hold commas)."""
    items = [value] if isinstance(value, str) else list(value)
    urls = tuple(part.strip().rstrip("/") for item in items for part in str(item).split(",") if part.strip())
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise SearchError(f"an OpenSearch URL must start with http:// or https://, got {url!r}", param="opensearch")
    if not urls:
        raise SearchError("no OpenSearch URL given", param="opensearch")
    return urls


@dataclass(frozen=True)
class SearchRequest:
    """One search as a backend runs it: the plan, the filters, which hits, whether to count facets.

    ``speaker_ids`` is the speaker filter resolved to canonical ids (``None``: no speaker
    filter; empty: a speaker nobody in the index matches).
    """

    plan: Plan
    filters: SearchFilters
    speaker_ids: tuple[str, ...] | None
    offset: int
    size: int
    facets: bool = True
    collapse: bool = False  # one hit per group of near-duplicates (a backend without groups ignores it)


@dataclass
class StoredHit:
    """One hit: the article's stored fields, its score and who it quotes."""

    fields: dict
    score: float
    speakers: list[dict]
    # Collapsed results: the other matching versions of this story ({"id", "title", "date",
    # "source"}, the first MAX_DUPLICATES) and how many there are; None when not collapsed.
    duplicates: list[dict] | None = None
    duplicate_count: int = 0
    complete: bool = True  # listed among the complete matches (every word), not the partial ones


@dataclass
class BackendResult:
    """What a backend answers: how many articles match the whole query (``total``, the plan's
    primary) and only part of it (``partial``), the facets of the complete matches, and one
    page of hits, complete matches first (an iterable: a backend may read each hit's article
    only when it is reached)."""

    total: int
    hits: Iterable[StoredHit]
    facets: dict[str, list[dict]]
    groups: int = 0  # how many stories (groups of near-duplicates) the listed articles make; 0: not known
    partial: int = 0  # articles matching only part of the query (listed after the complete ones)


MAX_DUPLICATES = 50  # other versions listed with a collapsed hit (all are counted)


def summary(fields: dict) -> dict:
    """An article as listed under another (a version of it, related coverage): id, titles, date, source."""
    return {"id": fields["id"], "title": {lang: fields.get(f"title_{lang}") for lang in LANGS}, "date": fields.get("date_iso"), "source": fields.get("source")}


class View(ABC):
    """One consistent state of the index, for one search: term statistics to plan with
    (leaving out terms that cannot match, translations that would flood), then the search."""

    doc_count: int

    @abstractmethod
    def doc_frequency(self, fieldname: str, term: str) -> int:
        """Articles whose ``fieldname`` holds ``term``."""

    def has_term(self, fieldname: str, term: str) -> bool:
        return self.doc_frequency(fieldname, term) > 0

    def frequencies(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Document frequencies of many ``(field, term)`` pairs at once (a backend whose
        statistics live elsewhere fetches them in one request)."""
        return {pair: self.doc_frequency(*pair) for pair in pairs}

    def field_terms(self, fieldname: str) -> Iterable[str]:
        """Every term of ``fieldname``, where the backend can list them cheaply (none otherwise)."""
        return ()

    def memo(self, key: object, build: Callable[[], object]) -> object:
        """``build()``, kept while the index is unchanged (a backend keeps it per index state)."""
        return build()

    def similar_terms(self, fieldnames: tuple[str, ...], term: str, max_edits: int) -> dict[str, tuple[int, int]]:
        """Terms of ``fieldnames`` at most ``max_edits`` edits from ``term`` (optimal string
        alignment: a swap of neighbours is one edit), not ``term`` itself: term → (edits,
        articles holding it in the field holding it most)."""
        from search.query.spelling import nearest, vocabulary_list

        vocabulary = self.memo(("vocabulary", fieldnames), lambda: vocabulary_list(t for f in fieldnames for t in self.field_terms(f)))
        near = nearest(term, vocabulary, max_edits)
        found = self.frequencies([(f, t) for t in near for f in fieldnames])
        return {t: (edits, max(found[(f, t)] for f in fieldnames)) for t, edits in near.items()}

    def pinyin_table(self) -> "PinyinTable":
        """The index's Chinese words by their pinyin (:mod:`search.lexicon.pinyin`), kept while the index is unchanged."""
        from search.lexicon.pinyin import PinyinTable

        fields = tuple(f for f in TEXT_FIELDS if f.endswith("_zh"))
        return self.memo("pinyin", lambda: PinyinTable.build({t for f in fields for t in self.field_terms(f)}))

    def planned(self, make_plan: Callable[["View"], Plan]) -> Plan:
        """``make_plan(self)``; a backend whose statistics live elsewhere may fetch the ones the
        planner asked for and plan again."""
        return make_plan(self)

    @abstractmethod
    def search(self, request: SearchRequest) -> BackendResult:
        """Run the request: matches of ``plan.primary`` first, then those only ``plan.fallback``
        matches, each by score (or newest first for ``sort=date``); ``total`` and facets over
        the primary's matches, ``partial`` the others."""

    @abstractmethod
    def count(self, nodes: list, filters: SearchFilters, speaker_ids: tuple[str, ...] | None) -> list[int]:
        """How many articles each plan node matches within the filters."""

    @abstractmethod
    def speaker_directory(self) -> dict[str, dict]:
        """Every speaker quoted in the index: id → ``{"names", "count"}``."""

    def speaker_aliases(self) -> dict[str, list[str]]:
        """Speaker id → the ids merged into it in the directory (``james-baker`` → ``[baker]``:
        a surname quoted alone); a backend that does not merge them has none."""
        return {}

    def similar(self, article_id: str, limit: int) -> dict | None:
        """``{"id", "versions", "related"}`` of an article (``None`` if there is none):
        its near-duplicates and up to ``limit`` other stories like it, each a :func:`summary`.
        A backend without near-duplicate groups or more-like-this answers no versions and no related."""
        return {"id": article_id, "versions": [], "related": []}


@dataclass
class WriteFailure:
    """An article a backend could not store, and why."""

    article_id: str
    reason: str


class Writer(AbstractContextManager):
    """Exclusive write access for one indexing run (a context manager)."""

    @abstractmethod
    def digests(self, ids: list[str]) -> dict[str, str]:
        """Id → the content hash (hex) stored with it, for the ids the index holds."""

    @abstractmethod
    def add(self, article: Article, digest: str, exists: bool) -> None:
        """Queue ``article`` (replacing the stored one if ``exists``); a backend may start
        storing it at once while the indexer reads on."""

    @abstractmethod
    def commit(self) -> list[WriteFailure]:
        """Store what was added since the last commit and make it searchable; return the
        articles that could not be stored (the rest are stored)."""

    @abstractmethod
    def cancel(self) -> None:
        """Drop what was added since the last commit (a run that fails or is interrupted)."""

    def expect(self, articles: Callable[[], int]) -> None:
        """A hint before the first :meth:`add`: ``articles()`` tells about how many articles the
        run reads (it reads the input to count them: called only by a backend that would act on
        the answer). A backend may get ready for them at once (start its writer processes); by
        default nothing."""

    def finish(self, merge: bool = True) -> tuple[list[str], list[str]]:
        """Work for the end of a run that succeeded (after its last commit and pruning):
        ``(notes, warnings)`` to show the user. ``merge=False``: leave the storage's segments to
        its own merging. By default nothing."""
        return [], []

    def write(self, batch: list[tuple[Article, str, bool]]) -> list[WriteFailure]:
        """Add ``(article, digest, exists)`` items and commit them."""
        for article, digest, exists in batch:
            self.add(article, digest, exists)
        return self.commit()

    @abstractmethod
    def paths(self) -> dict[str, set[str]]:
        """Source file (absolute path) → ids of the articles indexed from it."""

    @abstractmethod
    def delete(self, ids: list[str]) -> int:
        """Delete articles by id; return how many were deleted."""


class Backend(ABC):
    """Storage for analyzed articles: write, search, fetch, describe."""

    name: str
    config: BackendConfig

    @abstractmethod
    def view(self) -> View:
        """The current state of the index, for one search."""

    @abstractmethod
    def writer(self, *, procs: int, batch_size: int, dedup: bool = True) -> Writer:
        """Exclusive write access (``procs`` analysis processes; ``dedup``: group near-duplicates
        where the backend does); raises if another run holds it."""

    @abstractmethod
    def article(self, article_id: str) -> dict | None:
        """One article's stored fields plus ``speakers_data``, or ``None``."""

    @abstractmethod
    def count(self) -> int:
        """Articles in the index."""

    @abstractmethod
    def stats(self) -> dict:
        """``articles``, ``languages``, ``years``, ``undated``, ``index_bytes`` (and versions)."""

    @abstractmethod
    def suggestions(self) -> "Suggestions":
        """Words, speakers and titles to complete a prefix with (built once, kept while the index is unchanged)."""

    def warm(self, min_df: int, rehearse: Callable[..., None] | None = None) -> int:
        """Load what first searches would otherwise load; return a measure of what was loaded.
        ``rehearse()`` runs typical searches; a backend that sees the index change under it
        (a commit while serving) may run it again to warm the new state before switching."""
        return 0

    def pin(self) -> None:
        """Keep answering from the state of the index this process has, whatever commits land:
        a server's supervisor warms the next state once, at low priority, and replaces its
        workers with processes forked from it (a backend whose state is the cluster's ignores this)."""

    def pinned_generation(self) -> int | None:
        """The generation a pinned process answers from (``None``: not pinned, or no generations)."""
        return None

    def newest_unwarmed(self) -> object | None:
        """The newest state of the index when it is newer than the warmed ones (after
        :meth:`warm`), else ``None``: nothing to prepare."""
        return None

    def warm_newest(self, pause: Callable[[], None], niceness: int) -> threading.Thread:
        """Start warming :meth:`newest_unwarmed` in a thread of its own, at ``niceness``
        (Linux: a thread's own priority), calling ``pause()`` between steps, each of them
        holding no lock (a supervisor forks there)."""
        raise NotImplementedError(f"{self.name} has no index generations to warm")

    def is_warmed(self, generation: object) -> bool:
        """``generation`` was warmed here."""
        return False

    @abstractmethod
    def close(self) -> None:
        """Release connections, files and caches."""


def open_backend(config: BackendConfig, *, create: bool = False) -> Backend:
    """The backend ``config`` names, opened (``create``: made if there is no index yet)."""
    if config.backend == "opensearch":
        from search.backends.opensearch import OpenSearchBackend

        return OpenSearchBackend(config, create=create)
    from search.backends.whoosh import WhooshBackend

    return WhooshBackend(config, create=create)
