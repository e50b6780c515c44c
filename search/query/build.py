"""Build Whoosh queries from the syntax tree, through the same analyzer as the index.

Every word goes through :func:`search.analysis.query_terms`, so 習近平 and
习近平 become the same term and ``cooperating`` becomes ``cooper``. A bare
sequence of words is planned in two passes (see :class:`Plan`): documents with
every word first, then documents with some.

With ``translate=True`` each query concept also searches its translations in
the other language (:mod:`search.query.translate`) as one synonym set
(:mod:`search.backends.whoosh.synonyms`, Pirkola's structured query): the single-word
translations are one weighted BM25 term per field (summed term frequency,
expected document frequency), a phrase translation is an alternative to them
scored by disjunction-max, so a word with eight translations weighs no more
than a word with one. Each unit of the plan becomes ``original OR synonym
set``, the set boosted by :data:`TRANSLATION_BOOST` < 1: original-language
matches rank above translated ones, and an article matching in both languages
(the two scores add up) above an article matching in one. The two passes are
unchanged: a unit is satisfied by the word as typed or by a translation.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, replace
from typing import Callable

from whoosh import query as wq

from search.analysis import Token, query_terms
from search.analysis.convert import convert_display
from search.model import Interpretation
from search.query.parse import And, Node, Not, Or, Parsed, Phrase, Pref, Word
from search.query.translate import (
    MAX_PER_CONCEPT,
    MAX_TRANSLATIONS,
    Concept,
    Source,
    select,
    sources_of,
    translate_phrase,
    translate_run,
)
from search.backends.whoosh.synonyms import SynonymSet, WeightedSynonyms
from search.backends.whoosh.schema import TEXT_FIELDS

FIELD_GROUPS: dict[str | None, tuple[str, ...]] = {
    None: TEXT_FIELDS,
    "title": ("title_zh", "title_en"),
    "body": ("body_zh", "body_en"),
}

PHRASE_BONUS = 1.5
MAX_TERMS = 128
#: Weight of a concept's translations relative to the word as typed.
TRANSLATION_BOOST = 0.4


def _boosted(q: wq.Query, factor: float) -> wq.Query:
    """``q`` with its boost multiplied (a one-child compound passes it down: Whoosh ignores it there)."""
    if factor == 1.0:
        return q
    if isinstance(q, wq.CompoundQuery) and len(q.subqueries) == 1:
        return _boosted(q.subqueries[0], factor * q.boost)
    return q.with_boost(q.boost * factor)


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
    translate: bool = False
    doc_frequency: Callable[[str, str], int] | None = None
    doc_count: int | None = None
    # id(Word or Phrase node) → token index (or "phrase") → [(synonym set, share of a concept)]
    trans: dict[int, dict[object, list[tuple[wq.Query, float]]]] = field(default_factory=dict)
    concepts: list[dict] = field(default_factory=list)
    trans_phrases: list[list[str]] = field(default_factory=list)
    trans_count: int = 0

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


def plan(
    parsed: Parsed,
    raw: str,
    has_term: Callable[[str, str], bool] | None = None,
    *,
    translate: bool = False,
    doc_frequency: Callable[[str, str], int] | None = None,
    doc_count: int | None = None,
) -> Plan:
    """Turn a parsed query into a :class:`Plan`.

    ``has_term(field, term)`` (the index's lexicon) lets the builder leave out
    field/term pairs that cannot match, which keeps queries small and fast.
    ``translate`` also searches each concept's translations (the engine turns
    it on unless ``SearchFilters.translate`` is false); ``doc_frequency(field,
    term)`` and ``doc_count`` let it leave out translations that would flood
    the results.
    """
    col = _Collect(
        has_term=has_term or (lambda field, term: True),
        translate=translate,
        doc_frequency=doc_frequency,
        doc_count=doc_count,
    )
    node = parsed.node
    primary: wq.Query | None = None
    fallback: wq.Query | None = None
    if node is not None:
        if translate:
            _prepare(node, col, False)
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
        translations=col.concepts,
    )
    return Plan(primary, fallback, col.highlight, col.phrases + col.trans_phrases, interpretation)


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
        return _translated(_term_query(tokens[0].term, fields, col), col, node, 0)
    parts = [_translated(_term_query(tok.term, fields, col), col, node, k) for k, tok in enumerate(tokens)]
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
        return _translated(_term_query(words[0], fields, col), col, node, 0)
    return _translated(_phrase_query(words, fields, col), col, node, "phrase")


def _phrase_query(words: list[str], fields: tuple[str, ...], col: _Collect, boost: float = 1.0) -> wq.Query:
    present = [wq.Phrase(f, words, boost=boost) for f in fields if all(col.has_term(f, w) for w in words)]
    if not present:
        return wq.NullQuery
    return present[0] if len(present) == 1 else wq.Or(present)


def _normalize(raw: str) -> str:
    return convert_display(unicodedata.normalize("NFKC", raw), "hans").strip()


# Translation: a pre-pass over the tree finds the concepts (runs of words typed
# side by side are looked up together, so "Belt and Road" is one concept), then
# _word/_phrase attach each token's synonym sets to its query.


def _prepare(node: Node, col: _Collect, negated: bool) -> None:
    if isinstance(node, Not):
        _prepare(node.child, col, not negated)
    elif isinstance(node, Word):
        _prepare_run([node], col, negated)
    elif isinstance(node, Phrase):
        _prepare_phrase(node, col, negated)
    elif isinstance(node, Pref):
        run: list[Word] = []
        for child in node.children:
            if isinstance(child, Word) and (not run or child.field == run[-1].field):
                run.append(child)
                continue
            if run:
                _prepare_run(run, col, negated)
                run = []
            if isinstance(child, Word):
                run = [child]
            else:
                _prepare(child, col, negated)
        if run:
            _prepare_run(run, col, negated)
    else:
        for child in node.children:
            _prepare(child, col, negated)


def _prepare_run(words: list[Word], col: _Collect, negated: bool) -> None:
    sources: list[Source] = []
    owners: list[tuple[Word, int]] = []
    text = ""
    for word in words:
        base = len(text) + (1 if text else 0)
        text = f"{text} {word.text}" if text else word.text
        for k, source in enumerate(sources_of(word.text)):
            sources.append(replace(source, start=source.start + base, end=source.end + base))
            owners.append((word, k))
    if not sources:
        return
    fields = FIELD_GROUPS[words[0].field]
    concepts = translate_run(sources, text=text)
    same_span: dict[tuple[int, int], int] = {}
    for concept in concepts:
        same_span[(concept.start, concept.end)] = same_span.get((concept.start, concept.end), 0) + 1
    for concept in concepts:
        synset = _synonym_set(concept, fields, col, negated)
        if synset is None:
            continue
        share = 1.0 / (concept.end - concept.start) / same_span[(concept.start, concept.end)]
        for index in range(concept.start, concept.end):
            word, k = owners[index]
            col.trans.setdefault(id(word), {}).setdefault(k, []).append((synset, share))


def _prepare_phrase(node: Phrase, col: _Collect, negated: bool) -> None:
    concept = translate_phrase(sources_of(node.text))
    if concept is None:
        return
    synset = _synonym_set(concept, FIELD_GROUPS[node.field], col, negated)
    if synset is not None:
        key = 0 if concept.end == 1 else "phrase"
        col.trans.setdefault(id(node), {})[key] = [(synset, 1.0)]


def _synonym_set(concept: Concept, fields: tuple[str, ...], col: _Collect, negated: bool) -> wq.Query | None:
    """The concept's selected translations as one :class:`SynonymSet` (or one query)."""
    targets = tuple(f for f in fields if f.endswith("_" + concept.target))
    room = MAX_TRANSLATIONS - col.trans_count
    if not targets or room <= 0:
        return None

    def present(terms: tuple[str, ...]) -> bool:
        return any(all(col.has_term(f, t) for t in terms) for f in targets)

    frequency = None
    if col.doc_frequency is not None:
        df = col.doc_frequency

        def frequency(terms: tuple[str, ...]) -> int:
            return max(min(df(f, t) for t in terms) for f in targets)

    chosen = select(concept, present, frequency, col.doc_count, 1 if negated else min(MAX_PER_CONCEPT, room))
    if not chosen:
        return None
    parts: list[wq.Query] = []
    singles = [c for c in chosen if len(c.terms) == 1]
    if singles:
        # One weighted term per field for all single-word translations; fields are summed as for any word.
        best = max(c.weight for c in singles)
        per_field: list[wq.Query] = []
        for f in targets:
            items = [(c.terms[0], c.weight / best) for c in singles if col.has_term(f, c.terms[0])]
            if len(items) > 1:
                per_field.append(WeightedSynonyms(f, items))
            elif items:
                per_field.append(wq.Term(f, items[0][0], boost=items[0][1]))
        if per_field:
            parts.append(_boosted(per_field[0] if len(per_field) == 1 else wq.Or(per_field), best))
    for cand in chosen:
        if len(cand.terms) > 1:
            q = _phrase_query(list(cand.terms), targets, col)
            if q is not wq.NullQuery:
                parts.append(_boosted(q, cand.weight))
    parts = [q for q in parts if q is not wq.NullQuery]
    if not parts:
        return None
    for cand in chosen if not negated else ():
        terms = list(cand.terms)
        if len(terms) == 1:
            col.highlight.add(terms[0])
        elif terms not in col.trans_phrases:
            col.trans_phrases.append(terms)
    col.trans_count += len(chosen)
    concept.candidates = chosen
    entry = concept.to_dict()
    if negated:
        entry["excluded"] = True
    col.concepts.append(entry)
    return parts[0] if len(parts) == 1 else SynonymSet(parts)


def _translated(q: wq.Query, col: _Collect, node: Word | Phrase, key: object) -> wq.Query:
    """``q`` (the word as typed) OR its synonym sets, each down-weighted by TRANSLATION_BOOST × its share."""
    items = col.trans.get(id(node), {}).get(key)
    if not items:
        return q
    sets = [_boosted(synset, TRANSLATION_BOOST * share) for synset, share in items]
    translated = sets[0] if len(sets) == 1 else wq.Or(sets)
    if q is wq.NullQuery:
        return translated
    return wq.Or([q, translated])
