"""Dataclasses that cross every boundary: ingest → index, searcher → CLI/JSON/HTML.

Nothing here imports Whoosh or Flask.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterator, NamedTuple

LANGS = ("zh", "en")


@dataclass(frozen=True)
class Article:
    """One news article, possibly bilingual.

    ``title``/``body`` map a language code (``zh``/``en``) to original text;
    a missing language is absent or ``None``.
    """

    id: str
    title: dict[str, str | None] = field(default_factory=dict)
    body: dict[str, str | None] = field(default_factory=dict)
    date: datetime | None = None
    source: str | None = None
    url: str | None = None
    dateline: str | None = None
    path: str | None = None  # the file it came from (for incremental runs and --prune)
    captions: dict[str, str | None] = field(default_factory=dict)  # photo captions per language
    speakers: tuple["Speaker", ...] = ()
    meta: dict[str, object] = field(default_factory=dict)  # editor, reporters, dateline place...

    def text(self, part: str, lang: str) -> str:
        value = getattr(self, part).get(lang)
        return value or ""

    @property
    def languages(self) -> list[str]:
        return [lang for lang in LANGS if self.body.get(lang) or self.title.get(lang)]


@dataclass(frozen=True)
class Speaker:
    """A person quoted in an article, under one identity across scripts and languages."""

    id: str  # canonical id, e.g. "xi-jinping"
    names: dict[str, str | None]  # {"zh": "习近平", "en": "Xi Jinping"}
    quotes: int = 1

    def to_dict(self) -> dict:
        return {"id": self.id, "names": {"zh": self.names.get("zh"), "en": self.names.get("en")}, "quotes": self.quotes}


@dataclass(frozen=True)
class QueryTerm:
    """One analyzed query term as the engine searched for it."""

    text: str  # what the user typed for this term (original script)
    term: str  # the indexed form: simplified Chinese word, or stemmed lowercase English
    lang: str  # "zh", "en" or "other"


@dataclass(frozen=True)
class Interpretation:
    """What the engine understood from the query string (reported back to the user)."""

    normalized: str  # the query with Chinese converted to one script, width-normalized
    terms: dict[str, list[str]]  # indexed terms per language
    phrases: list[list[str]]
    excluded: list[str]
    fields: list[str]
    warnings: list[str] = field(default_factory=list)
    # Query terms searched in the other language too, one entry per concept:
    # {"term": "BRICS", "converted": "brics", "lang": "en", "translations": ["金砖国家", "金砖"]}
    # ("excluded": true for a NOT-ed term). Empty when translation is off or found nothing.
    translations: list[dict] = field(default_factory=list)
    # Query words left out of the complete matches because no article holds them all
    # with the others (as typed); empty when some article holds every word.
    dropped: list[str] = field(default_factory=list)
    # The searched words as typed, per language: {"zh": ["习近平"], "en": ["climate", "change"]}
    # (``terms`` holds what the index matches: simplified words, English stems).
    words: dict[str, list[str]] = field(default_factory=dict)
    # Typos corrected: [{"typed": "Pution", "corrected": "Putin"}], with the query as searched
    # ("Putin") and the query that searches the typed words instead ('"Pution"'); else None.
    corrections: list[dict] = field(default_factory=list)
    corrected_query: str | None = None
    verbatim_query: str | None = None
    # Latin input read as pinyin: [{"typed": "xijinping", "words": ["习近平"]}]
    pinyin: list[dict] = field(default_factory=list)
    # Site names ending a pasted page title ("… - 新华网"): searched, not required of any article.
    sources: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "normalized": self.normalized,
            "terms": self.terms,
            "phrases": self.phrases,
            "excluded": self.excluded,
            "fields": self.fields,
            "warnings": self.warnings,
            "translations": [dict(t) for t in self.translations],
            "dropped": list(self.dropped),
            "words": {lang: list(values) for lang, values in self.words.items()},
            "corrections": [dict(c) for c in self.corrections],
            "corrected_query": self.corrected_query,
            "verbatim_query": self.verbatim_query,
            "pinyin": [dict(p) for p in self.pinyin],
            "sources": list(self.sources),
        }


@dataclass(frozen=True)
class Hit:
    """One search result, with snippets already rendered as safe HTML."""

    id: str
    title: dict[str, str | None]
    date: str | None
    source: str | None
    url: str | None
    score: float
    snippets: dict[str, list[str]]
    speakers: list[dict] = field(default_factory=list)
    # Collapsed results: the other matching versions of this story ({"id", "title", "date",
    # "source"}, at most 50) and how many there are; None when results are not collapsed.
    duplicates: list[dict] | None = None
    duplicate_count: int = 0

    def to_dict(self) -> dict:
        out = {
            "id": self.id,
            "title": {lang: self.title.get(lang) for lang in LANGS},
            "date": self.date,
            "source": self.source,
            "url": self.url,
            "score": round(self.score, 4),
            "snippets": {lang: list(self.snippets.get(lang, [])) for lang in LANGS},
            "speakers": list(self.speakers),
        }
        if self.duplicates is not None:
            out["duplicates"] = {"count": self.duplicate_count, "ids": [item["id"] for item in self.duplicates]}
        return out


@dataclass(frozen=True)
class SearchResult:
    query: str
    interpreted: Interpretation
    total: int
    page: int
    size: int
    took_ms: float
    hits: list[Hit]
    facets: dict[str, list[dict]] = field(default_factory=dict)
    filters: dict[str, str] = field(default_factory=dict)
    sort: str = "relevance"
    groups: int = 0  # how many stories (groups of near-duplicates) the ``total`` articles make
    collapse: bool = False  # one hit per group
    #: Articles holding only part of the query, listed after the ``total`` complete matches.
    total_partial: int = 0

    def to_dict(self) -> dict:
        return {
            "query": self.query,
            "interpreted": self.interpreted.to_dict(),
            "total": self.total,
            "total_partial": self.total_partial,
            "total_groups": self.groups,
            "collapse": self.collapse,
            "page": self.page,
            "size": self.size,
            "took_ms": round(self.took_ms, 3),
            "sort": self.sort,
            "filters": dict(self.filters),
            "facets": {key: list(values) for key, values in self.facets.items()},
            "hits": [hit.to_dict() for hit in self.hits],
        }


class Matches(NamedTuple):
    """Every match of a search, for exports: the hits are read as they are iterated."""

    total: int  # articles matching (completely or partly)
    rows: int  # hits ``hits`` yields: at most the limit, one per story when collapsing
    hits: Iterator[Hit]
