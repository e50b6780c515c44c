"""Build Whoosh queries from the syntax tree, through the same analyzer as the index.

Every word goes through :func:`search.analysis.query_terms`, so 習近平 and
习近平 become the same term and ``cooperating`` becomes ``cooper``. A bare
sequence of words is planned in two passes (see :class:`Plan`): documents with
every word first, then documents with some.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Callable

from whoosh import query as wq

from search.analysis import Token, query_terms
from search.analysis.convert import convert_display
from search.model import Interpretation
from search.query.parse import And, Node, Not, Or, Parsed, Phrase, Pref, Word
from search.schema import TEXT_FIELDS

FIELD_GROUPS: dict[str | None, tuple[str, ...]] = {
    None: TEXT_FIELDS,
    "title": ("title_zh", "title_en"),
    "body": ("body_zh", "body_en"),
}

PHRASE_BONUS = 1.5
MAX_TERMS = 128


@dataclass
class Plan:
    """Whoosh queries for one search.

    ``primary`` hits rank first; ``fallback`` (if any) adds the documents that
    match only part of the query, ranked after every primary hit.
    """

    primary: wq.Query | None
    fallback: wq.Query | None
    highlight: set[str]
    phrases: list[list[str]]
    interpretation: Interpretation


@dataclass
class _Collect:
    terms: dict[str, list[str]] = field(default_factory=lambda: {"zh": [], "en": [], "other": []})
    phrases: list[list[str]] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    highlight: set[str] = field(default_factory=set)
    count: int = 0
    has_term: Callable[[str, str], bool] = lambda field, term: True

    def add(self, tokens: list[Token], negated: bool, *, highlight: bool = True) -> None:
        for tok in tokens:
            if negated:
                if tok.term not in self.excluded:
                    self.excluded.append(tok.term)
                continue
            if highlight:
                self.highlight.add(tok.term)
            bucket = self.terms["other" if tok.lang in ("num", "other") else tok.lang]
            if tok.term not in bucket:
                bucket.append(tok.term)


def plan(parsed: Parsed, raw: str, has_term: Callable[[str, str], bool] | None = None) -> Plan:
    """Turn a parsed query into a :class:`Plan`.

    ``has_term(field, term)`` (the index's lexicon) lets the builder leave out
    field/term pairs that cannot match, which keeps queries small and fast.
    """
    col = _Collect(has_term=has_term or (lambda field, term: True))
    node = parsed.node
    primary: wq.Query | None = None
    fallback: wq.Query | None = None
    if node is not None:
        positives, negatives = _split(node)
        units = [q for q in (_build(child, col, False) for child in positives) if q is not None]
        exclude = [q for q in (_build(child, col, True) for child in negatives) if q is not None]
        bonus = None
        if len(units) == 1 and isinstance(units[0], _Soft):
            units, bonus = list(units[0].parts), units[0].phrase
        if len(units) == 1:
            primary = _query_of(units[0])
        elif units:
            parts = [_query_of(u) for u in units]
            primary = wq.And(parts)
            fallback = wq.Or(parts)
            if bonus is not None:
                primary, fallback = wq.AndMaybe(primary, bonus), wq.AndMaybe(fallback, bonus)
        elif exclude:
            primary = wq.Every()
        if exclude:
            banned = exclude[0] if len(exclude) == 1 else wq.Or(exclude)
            primary = wq.AndNot(primary, banned) if primary is not None else None
            fallback = wq.AndNot(fallback, banned) if fallback is not None else None
    terms = {lang: values for lang, values in col.terms.items() if values or lang != "other"}
    interpretation = Interpretation(
        normalized=_normalize(raw),
        terms=terms,
        phrases=col.phrases,
        excluded=col.excluded,
        fields=sorted(set(col.fields)),
        warnings=list(parsed.warnings),
    )
    return Plan(primary, fallback, col.highlight, col.phrases, interpretation)


@dataclass
class _Soft:
    """A typed chunk that analyzed to several words (e.g. 金砖国家领导人)."""

    parts: list[wq.Query]
    phrase: wq.Query | None


def _query_of(unit: wq.Query | _Soft) -> wq.Query:
    if isinstance(unit, _Soft):
        inner = wq.Or(unit.parts)
        return wq.AndMaybe(inner, unit.phrase) if unit.phrase is not None else inner
    return unit


def _split(node: Node) -> tuple[list[Node], list[Node]]:
    children = node.children if isinstance(node, Pref) else [node]
    positives = [c for c in children if not isinstance(c, Not)]
    negatives = [c.child for c in children if isinstance(c, Not)]
    return positives, negatives


def _build(node: Node, col: _Collect, negated: bool) -> wq.Query | _Soft | None:
    if isinstance(node, Word):
        return _word(node, col, negated)
    if isinstance(node, Phrase):
        return _phrase(node, col, negated)
    if isinstance(node, Not):
        inner = _build(node.child, col, not negated)
        return wq.AndNot(wq.Every(), _query_of(inner)) if inner is not None else None
    parts = [p for p in (_build(child, col, negated) for child in node.children) if p is not None]
    if not parts:
        return None
    queries = [_query_of(p) for p in parts]
    if len(queries) == 1:
        return queries[0]
    if isinstance(node, And):
        return wq.And(queries)
    if isinstance(node, Or):
        return wq.Or(queries)
    return wq.Or(queries)


def _fields(name: str | None, col: _Collect) -> tuple[str, ...]:
    if name:
        col.fields.append(name)
    return FIELD_GROUPS[name]


def _term_query(term: str, fields: tuple[str, ...], col: _Collect) -> wq.Query:
    present = [wq.Term(f, term) for f in fields if col.has_term(f, term)]
    if not present:
        return wq.NullQuery
    return present[0] if len(present) == 1 else wq.Or(present)


def _tokens(text: str, col: _Collect) -> list[Token]:
    tokens = query_terms(text)
    room = MAX_TERMS - col.count
    tokens = tokens[: max(0, room)]
    col.count += len(tokens)
    return tokens


def _word(node: Word, col: _Collect, negated: bool) -> wq.Query | _Soft | None:
    tokens = _tokens(node.text, col)
    if not tokens:
        return None
    col.add(tokens, negated)
    fields = _fields(node.field, col)
    if len(tokens) == 1:
        return _term_query(tokens[0].term, fields, col)
    parts = [_term_query(tok.term, fields, col) for tok in tokens]
    if negated:
        return wq.And(parts)
    return _Soft(parts, _phrase_query([t.term for t in tokens], fields, col, boost=PHRASE_BONUS))


def _phrase(node: Phrase, col: _Collect, negated: bool) -> wq.Query | None:
    tokens = _tokens(node.text, col)
    if not tokens:
        return None
    col.add(tokens, negated, highlight=len(tokens) == 1)
    words = [tok.term for tok in tokens]
    if not negated and len(words) > 1:
        col.phrases.append(words)
    fields = _fields(node.field, col)
    if len(words) == 1:
        return _term_query(words[0], fields, col)
    return _phrase_query(words, fields, col)


def _phrase_query(words: list[str], fields: tuple[str, ...], col: _Collect, boost: float = 1.0) -> wq.Query:
    present = [wq.Phrase(f, words, boost=boost) for f in fields if all(col.has_term(f, w) for w in words)]
    if not present:
        return wq.NullQuery
    return present[0] if len(present) == 1 else wq.Or(present)


def _normalize(raw: str) -> str:
    return convert_display(unicodedata.normalize("NFKC", raw), "hans").strip()
