"""Plan a search from the syntax tree, through the same analyzer as the index.

Every word goes through :func:`search.analysis.query_terms`, so 習近平 and
习近平 become the same term and ``cooperating`` becomes ``cooper``. A bare
sequence of words is planned in two passes (see :class:`~search.query.plan.Plan`): documents with
every word first, then documents with some. The plan is plain data
(:mod:`search.query.plan`) that each storage backend compiles.

With ``translate=True`` each query concept also searches its translations in
the other language (:mod:`search.query.translate`) as one synonym set
(Pirkola's structured query): the single-word
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

from search.analysis import Token, query_terms
from search.analysis.bigrams import query_bigrams, stopword_pairs
from search.analysis.convert import convert_display
from search.model import Interpretation
from search.query import plan as qp
from search.query.parse import MAX_QUERY_CHARS, And, Node, Not, Or, Parsed, Phrase, Pref, Word
from search.query.plan import NOTHING, TEXT_FIELDS, Plan, boosted
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

FIELD_GROUPS: dict[str | None, tuple[str, ...]] = {
    None: TEXT_FIELDS,
    "title": ("title_zh", "title_en"),
    "body": ("body_zh", "body_en"),
}

PHRASE_BONUS = 1.5
MAX_TERMS = 128
#: Weight of a concept's translations relative to the word as typed.
TRANSLATION_BOOST = 0.4


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
    # id(Word or Phrase node) → token index (or "phrase") → [(synonym set, share of a concept,
    # whether it is another form of the word in its own language rather than a translation)]
    trans: dict[int, dict[object, list[tuple[qp.Node, float, bool]]]] = field(default_factory=dict)
    concepts: list[dict] = field(default_factory=list)
    trans_phrases: list[list[str]] = field(default_factory=list)
    trans_count: int = 0
    strings: list[str] = field(default_factory=list)  # Chinese strings to mark as typed (simplified)

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
    primary: qp.Node | None = None
    fallback: qp.Node | None = None
    units: list[qp.Node] = []
    labels: list[str] = []
    extra: qp.Node | None = None
    banned: qp.Node | None = None
    chunk = False
    sources: list[tuple[qp.Node, str]] = []
    if node is not None:
        if translate:
            _prepare(node, col, False)
        positives, negatives = _split(node)
        built = [(q, _label(child)) for child in positives if (q := _build(child, col, False)) is not None]
        sources = _sources(parsed.sources, col)
        if not built:  # the title had nothing searchable: the site names are the query
            built, sources = list(sources), []
        exclude = [q for q in (_build(child, col, True) for child in negatives) if q is not None]
        extras: list[qp.Node] = []
        exact = pairs = None
        chunk = len(built) == 1 and isinstance(built[0][0], _Soft)
        if chunk:
            # One typed chunk of several words (金砖国家领导人, a question): each word is a unit.
            soft = built[0][0]
            units, labels = list(soft.parts), list(soft.labels)
            exact, pairs = soft.exact, soft.pairs
            # A sentence (a pasted headline, a question) is complete in its own language only:
            # an article in the other language holds a translation of every word mostly when
            # the words' glosses are common ("open", "mode"), while the article reporting the
            # story says "rain" where the headline's 降雨 reads "rainfall". Those articles rank
            # among the partial matches, by score.
            sentence = translate and sum(tok_lang == "zh" for tok_lang in soft.langs) >= SENTENCE_WORDS
            required = soft.own if sentence else units
            extras += [q for q in (soft.phrase,) if q is not None]
        else:
            units, labels = [_query_of(q) for q, _ in built], [label for _, label in built]
            required = units
        near = _proximity(positives, col)
        if near is not None:
            extras.append(near)
        extras += [q for q, _ in sources]
        if len(units) == 1:
            primary = _maybe(units[0], [q for q, _ in sources])
        elif units:
            # Complete matches: every unit (or a chunk's exact string); partial: any unit, or
            # any of the chunk's bigrams. Bigrams score beside the words with equal weight.
            complete = qp.All(tuple(required)) if exact is None else qp.Any((qp.All(tuple(required)), exact))
            primary = _maybe(complete, [*extras, *([pairs] if pairs is not None else [])])
            fallback = _maybe(qp.Any((*units, *([pairs] if pairs is not None else []))), extras)
            extra = _any(extras) if extras else None
        elif exclude:
            primary = qp.Everything()
        if exclude:
            banned = exclude[0] if len(exclude) == 1 else qp.Any(tuple(exclude))
            primary = qp.Without(primary, banned) if primary is not None else None
            fallback = qp.Without(fallback, banned) if fallback is not None else None
    terms = {lang: values for lang, values in col.terms.items() if values or lang != "other"}
    interpretation = Interpretation(
        sources=[label for _, label in sources],
        normalized=_normalize(raw[:MAX_QUERY_CHARS]),  # what the parser read (it stops there)
        terms=terms,
        phrases=col.phrases,
        excluded=col.excluded,
        fields=sorted(set(col.fields)),
        warnings=list(parsed.warnings),
        translations=col.concepts,
    )
    found = Plan(primary, fallback, col.highlight, col.phrases + col.trans_phrases, interpretation)
    found.strings = col.strings
    if fallback is not None and not chunk:
        # Words typed apart may be dropped (narrowed()); the words of one typed chunk (a
        # question, 金砖国家领导人) are not: its partial matches are ranked as they are.
        found.units, found.labels, found.extra, found.banned = tuple(units), tuple(labels), extra, banned
    return found


def _sources(names: list[str], col: _Collect) -> list[tuple[qp.Node, str]]:
    """The site names ending a pasted page title (:func:`search.query.parse.source_names`),
    each as a query (translated) that only adds to the score: no article must hold them."""
    words = [Word(name) for name in names]
    if col.translate and words:
        _prepare(Pref(words) if len(words) > 1 else words[0], col, False)
    return [(_query_of(q), name) for name, word in zip(names, words) if (q := _build(word, col, False)) is not None]


def narrowed(the_plan: Plan, keep: list[int]) -> Plan:
    """``the_plan`` with complete matches holding only the units ``keep`` (indexes into
    ``the_plan.units``); the others are reported in ``dropped``. Partial matches are unchanged."""
    kept = [the_plan.units[i] for i in keep]
    complete = _maybe(kept[0] if len(kept) == 1 else qp.All(tuple(kept)), [the_plan.extra] if the_plan.extra else [])
    if the_plan.banned is not None:
        complete = qp.Without(complete, the_plan.banned)
    found = replace(the_plan, primary=complete)
    found.dropped = [label for i, label in enumerate(the_plan.labels) if i not in keep]
    return found


def _maybe(required: qp.Node, optional: list[qp.Node]) -> qp.Node:
    return qp.Maybe(required, _any(optional)) if optional else required


def _any(parts: list[qp.Node]) -> qp.Node:
    return parts[0] if len(parts) == 1 else qp.Any(tuple(parts))


def _label(node: Node) -> str:
    """How a query unit is named to the user (in ``interpreted.dropped``)."""
    if isinstance(node, Word):
        return f"{node.field}:{node.text}" if node.field else node.text
    if isinstance(node, Phrase):
        return f'{node.field + ":" if node.field else ""}"{node.text}"'
    if isinstance(node, Not):
        return "-" + _label(node.child)
    joiner = " OR " if isinstance(node, Or) else " AND " if isinstance(node, And) else " "
    return "(" + joiner.join(_label(child) for child in node.children) + ")"


#: Weight of the words of a query standing side by side in an article, as a phrase.
PROXIMITY_BOOST = 1.0
MAX_PROXIMITY_PAIRS = 16


def _proximity(positives: list[Node], col: _Collect) -> qp.Node | None:
    """A bonus for articles where words typed side by side (``climate change``, 普京 乌克兰)
    stand side by side: each pair of neighbouring words as a phrase, in the fields both hold."""
    pairs: list[qp.Node] = []
    previous: tuple[str, str | None] | None = None
    for child in positives:
        if not isinstance(child, Word):
            previous = None
            continue
        tokens = query_terms(child.text)
        if not tokens:
            continue
        if previous is not None and previous[1] == child.field and len(pairs) < MAX_PROXIMITY_PAIRS:
            q = _phrase_query([previous[0], tokens[0].term], FIELD_GROUPS[child.field], col)
            if q is not NOTHING:
                pairs.append(q)
        previous = (tokens[-1].term, child.field)
    if not pairs:
        return None
    return boosted(_any(pairs), PROXIMITY_BOOST)


@dataclass
class _Soft:
    """A typed chunk that analyzed to several words (e.g. 金砖国家领导人)."""

    parts: list[qp.Node]
    phrase: qp.Node | None
    labels: list[str] = field(default_factory=list)  # each part's word as typed
    exact: qp.Node | None = None  # the chunk's Chinese string, as bigrams at consecutive positions
    pairs: qp.Node | None = None  # any of its bigrams (scored beside the words)
    own: list[qp.Node] = field(default_factory=list)  # the parts in their own language only (no translation)
    langs: list[str] = field(default_factory=list)  # each part's language


def _query_of(unit: qp.Node | _Soft) -> qp.Node:
    if isinstance(unit, _Soft):
        inner = _any([*unit.parts, *([unit.exact] if unit.exact is not None else [])])
        return _maybe(inner, [q for q in (unit.phrase, unit.pairs) if q is not None])
    return unit


def _split(node: Node) -> tuple[list[Node], list[Node]]:
    children = node.children if isinstance(node, Pref) else [node]
    positives = [c for c in children if not isinstance(c, Not)]
    negatives = [c.child for c in children if isinstance(c, Not)]
    return positives, negatives


def _build(node: Node, col: _Collect, negated: bool) -> qp.Node | _Soft | None:
    if isinstance(node, Word):
        return _word(node, col, negated)
    if isinstance(node, Phrase):
        return _phrase(node, col, negated)
    if isinstance(node, Not):
        inner = _build(node.child, col, not negated)
        return qp.Without(qp.Everything(), _query_of(inner)) if inner is not None else None
    parts = [p for p in (_build(child, col, negated) for child in node.children) if p is not None]
    if not parts:
        return None
    queries = [_query_of(p) for p in parts]
    if len(queries) == 1:
        return queries[0]
    if isinstance(node, And):
        return qp.All(tuple(queries))
    if isinstance(node, Or):
        return qp.Any(tuple(queries))
    return qp.Any(tuple(queries))


def _fields(name: str | None, col: _Collect) -> tuple[str, ...]:
    if name:
        col.fields.append(name)
    return FIELD_GROUPS[name]


def _term_query(term: str, fields: tuple[str, ...], col: _Collect) -> qp.Node:
    present = [qp.Term(f, term) for f in fields if col.has_term(f, term)]
    if not present:
        return NOTHING
    return present[0] if len(present) == 1 else qp.Any(tuple(present))


def _tokens(text: str, col: _Collect) -> list[Token]:
    tokens = query_terms(text)
    room = MAX_TERMS - col.count
    tokens = tokens[: max(0, room)]
    col.count += len(tokens)
    return tokens


def _word(node: Word, col: _Collect, negated: bool) -> qp.Node | _Soft | None:
    tokens = _tokens(node.text, col)
    if not tokens:
        return None
    # (index in tokens, token): the index keys the token's translations (col.trans).
    kept = list(enumerate(tokens))
    if len(tokens) > 1 and not negated:
        kept = [(k, tok) for k, tok in kept if not _asks(tok)] or kept
    col.add([tok for _, tok in kept], negated)
    fields = _fields(node.field, col)
    runs = query_bigrams(node.text)[:MAX_BIGRAM_RUNS]
    exact = _exact(runs, fields, col, negated)
    if len(kept) == 1:
        k, tok = kept[0]
        word = _translated(_term_query(tok.term, fields, col), col, node, k)
        return word if exact is None else qp.Any((word, exact)) if word is not NOTHING else exact
    held = [_term_query(tok.term, fields, col) if negated else _held_words(tok, fields, col) for _, tok in kept]
    parts = [_translated(q, col, node, k) for q, (k, _) in zip(held, kept)]
    if negated:
        whole = qp.All(tuple(parts))
        return whole if exact is None else qp.Any((whole, exact))
    labels = [node.text[tok.start : tok.end] for _, tok in kept]
    bigram_fields = _bigram_fields(fields)
    # Pairs wholly inside stopwords (什么 of 是什么) or inside a question word left out (哪一, 一年
    # of 哪一年) are left out, as those words are.
    dropped = stopword_pairs(node.text)
    dropped |= {tok.term[i : i + 2] for k, tok in enumerate(tokens) if (k, tok) not in kept for i in range(len(tok.term) - 1)}
    seen = [b for b in dict.fromkeys(b for run in runs for b in run) if b not in dropped][:MAX_TERMS]
    pairs = [q for q in (_term_query(b, bigram_fields, col) for b in seen) if q is not NOTHING]
    phrase = _phrase_query([tok.term for _, tok in kept], fields, col, boost=PHRASE_BONUS)
    own = [_translated(q, col, node, k, own=True) for q, (k, _) in zip(held, kept)]
    return _Soft(parts, phrase, labels, exact, boosted(_any(pairs), BIGRAM_WEIGHT) if pairs else None, own, [tok.lang for _, tok in kept])


def _asks(tok: Token) -> bool:
    """Whether ``tok`` is 哪 ("which") fused with what it asks about (哪一年, 哪部, 哪位, 哪些地方):
    jieba makes these one word, so the stopword list (哪, 哪个, 哪些) misses them; the paragraph
    that answers does not hold them, and they add only articles that happen to ask the same.
    Every word of jieba's dictionary that starts with 哪 asks (or is 哪怕, "even if"), but the
    name 哪吒 (Nezha); 哪儿 is 哪 with the 儿 suffix ("where"), not 哪 with what it asks about,
    and stays as question words outside the stopword list do (left out, its translation "where"
    no longer found the sentences that say it: Tatoeba zh→en 0.5410 → 0.5397)."""
    return tok.lang == "zh" and len(tok.term) > 1 and tok.term[0] == "哪" and not tok.term.startswith(_NOT_ASKING)


_NOT_ASKING = ("哪吒", "哪儿")


#: A Chinese chunk typed without spaces of this many words or more reads as a sentence (a pasted
#: headline, a question), not as keywords: its complete matches hold every word in its own
#: language (or another form of it), and articles holding only translations of its words rank
#: among the partial matches. WMT21 pasted headlines (the development set) zh→en MRR@10 0.8632 →
#: 0.8706 with any threshold from 2 to 8 words; 5 keeps short keyword runs (普京乌克兰,
#: 中国经济增长) complete through their translations. Not read so: English (its translations are
#: specific Chinese words; all words first raised English queries' cross-language figures), and
#: queries of several chunks (a headline with spaces or punctuation: each chunk counts as held
#: by any of its words; requiring them in Chinese took WMT21 zh→en from 0.8706 to 0.8279).
SENTENCE_WORDS = 5

#: Longest word of a chunk split into the words the index holds (:func:`_held_words`).
MAX_SPLIT_CHARS = 16


def _held_words(tok: Token, fields: tuple[str, ...], col: _Collect) -> qp.Node:
    """One word of a typed chunk (a question), in the fields that hold it. A Chinese word no
    field holds is searched as the longest words inside it that the index holds, left to
    right, every one required: jieba reads an unknown name in a question with the character
    after it (白岳峰现 of 白岳峰现效力于哪支球队, 尚恩有 of 尚恩有什么爱好), where the articles
    have the name as a word (白岳峰, 尚恩). Without this the name, the question's rarest word,
    counts only through its bigrams, at half weight. A word typed alone is not split: it is
    asked for as typed (its string is found whole through the bigrams)."""
    found = _term_query(tok.term, fields, col)
    word = tok.term
    if found is not NOTHING or tok.lang != "zh" or not 2 < len(word) <= MAX_SPLIT_CHARS:
        return found
    parts: list[qp.Node] = []
    start = 0
    while start < len(word) - 1:
        for end in range(len(word), start + 1, -1):
            held = _term_query(word[start:end], fields, col)
            if held is not NOTHING:
                parts.append(held)
                col.highlight.add(word[start:end])
                start = end
                break
        else:
            start += 1
    if not parts:
        return NOTHING
    return parts[0] if len(parts) == 1 else qp.All(tuple(parts))


#: Weight of a typed chunk's bigrams beside its words. DRCD dev MRR@10 (words alone 0.9536):
#: 0.3 → 0.9646, 0.5 → 0.9648, 0.75 → 0.9639, 1.0 → 0.9625, 2.0 → 0.9586; CMRC 2018 dev
#: (0.9756): 0.5 → 0.9833, 1.0 → 0.9819.
BIGRAM_WEIGHT = 0.5
#: Chinese strings of one query word searched as bigram phrases, and how long each may be.
MAX_BIGRAM_RUNS = 8
MAX_EXACT_BIGRAMS = 32


def _bigram_fields(fields: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(qp.BIGRAM_FIELDS[f] for f in fields if f in qp.BIGRAM_FIELDS)


def _exact(runs: list[list[str]], fields: tuple[str, ...], col: _Collect, negated: bool) -> qp.Node | None:
    """The articles holding each Chinese string of a word as typed (近平 in 习近平, 俄关 in
    中俄关系): its bigrams at consecutive positions. ``None`` when the word has no such string."""
    bigram_fields = _bigram_fields(fields)
    runs = [run for run in runs if len(run) <= MAX_EXACT_BIGRAMS]
    if not runs or not bigram_fields:
        return None
    found = [_phrase_query(run, bigram_fields, col) if len(run) > 1 else _term_query(run[0], bigram_fields, col) for run in runs]
    if not negated:
        col.strings += [run[0] + "".join(b[1] for b in run[1:]) for run in runs]
    return found[0] if len(found) == 1 else qp.All(tuple(found))


def _phrase(node: Phrase, col: _Collect, negated: bool) -> qp.Node | None:
    tokens = _tokens(node.text, col)
    if not tokens:
        return None
    col.add(tokens, negated, highlight=len(tokens) == 1)
    words = [tok.term for tok in tokens]
    if not negated and len(words) > 1:
        col.phrases.append(words)
    fields = _fields(node.field, col)
    runs = query_bigrams(node.text)
    # A quoted Chinese string is also found where the word splitter cut it otherwise.
    exact = _exact(runs, fields, col, negated) if len(runs) == 1 and len(words) > 1 else None
    if len(words) == 1:
        return _translated(_term_query(words[0], fields, col), col, node, 0)
    found = _translated(_phrase_query(words, fields, col), col, node, "phrase")
    if exact is None:
        return found
    return exact if found is NOTHING else qp.Any((found, exact))


def _phrase_query(words: list[str], fields: tuple[str, ...], col: _Collect, boost: float = 1.0) -> qp.Node:
    present = [qp.Phrase(f, tuple(words), boost=boost) for f in fields if all(col.has_term(f, w) for w in words)]
    if not present:
        return NOTHING
    return present[0] if len(present) == 1 else qp.Any(tuple(present))


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


def _absent(word: str, col: _Collect) -> bool:
    """Whether the articles do not use the Chinese string ``word`` as a word (jieba, which reads a
    name it does not know as one word, did not find it in any of them)."""
    return not any(col.has_term(field, word) for field in qp.BIGRAM_FIELDS)


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
    concepts = translate_run(sources, text=text, absent=lambda word: _absent(word, col))
    same_span: dict[tuple[int, int], int] = {}
    for concept in concepts:
        if not _variant(concept, sources):
            same_span[(concept.start, concept.end)] = same_span.get((concept.start, concept.end), 0) + 1
    for concept in concepts:
        synset = _synonym_set(concept, fields, col, negated)
        if synset is None:
            continue
        weight = 1.0 / (concept.end - concept.start)
        own = _variant(concept, sources)
        if not own:
            weight *= TRANSLATION_BOOST / same_span[(concept.start, concept.end)]
        for index in range(concept.start, concept.end):
            word, k = owners[index]
            col.trans.setdefault(id(word), {}).setdefault(k, []).append((synset, weight, own))


def _variant(concept: Concept, sources: list[Source]) -> bool:
    """Another form of the typed words in their own language (網路 → 网络, 普丁 → 普京): it stands
    for the word itself, searched at full weight beside it, not as a down-weighted translation
    (軟體 ranked English "software" articles above 软件 ones)."""
    return all(s.lang == concept.target for s in sources[concept.start : concept.end])


def _prepare_phrase(node: Phrase, col: _Collect, negated: bool) -> None:
    concept = translate_phrase(sources_of(node.text))
    if concept is None:
        return
    synset = _synonym_set(concept, FIELD_GROUPS[node.field], col, negated)
    if synset is not None:
        key = 0 if concept.end == 1 else "phrase"
        col.trans.setdefault(id(node), {})[key] = [(synset, TRANSLATION_BOOST, False)]


def _synonym_set(concept: Concept, fields: tuple[str, ...], col: _Collect, negated: bool) -> qp.Node | None:
    """The concept's selected translations as one :class:`~search.query.plan.Best` (or one query)."""
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
    parts: list[qp.Node] = []
    singles = [c for c in chosen if len(c.terms) == 1]
    if singles:
        # One weighted term per field for all single-word translations; fields are summed as for any word.
        best = max(c.weight for c in singles)
        per_field: list[qp.Node] = []
        for f in targets:
            items = [(c.terms[0], c.weight / best) for c in singles if col.has_term(f, c.terms[0])]
            if len(items) > 1:
                per_field.append(qp.WeightedTerms(f, tuple(items)))
            elif items:
                per_field.append(qp.Term(f, items[0][0], boost=items[0][1]))
        if per_field:
            parts.append(boosted(per_field[0] if len(per_field) == 1 else qp.Any(tuple(per_field)), best))
    for cand in chosen:
        if len(cand.terms) > 1:
            q = _phrase_query(list(cand.terms), targets, col)
            if q is not NOTHING:
                parts.append(boosted(q, cand.weight))
    parts = [q for q in parts if q is not NOTHING]
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
    return parts[0] if len(parts) == 1 else qp.Best(tuple(parts))


def _translated(q: qp.Node, col: _Collect, node: Word | Phrase, key: object, *, own: bool = False) -> qp.Node:
    """``q`` (the word as typed) OR its synonym sets, each at its weight (a translation's is
    TRANSLATION_BOOST × its share; another form of the word itself, its share). ``own``: only
    the other forms of the word in its own language (網路 → 网络, 普丁 → 普京), no translation."""
    items = [item for item in col.trans.get(id(node), {}).get(key) or () if item[2] or not own]
    if not items:
        return q
    sets = [boosted(synset, weight) for synset, weight, _ in items]
    translated = sets[0] if len(sets) == 1 else qp.Any(tuple(sets))
    if q is NOTHING:
        return translated
    return qp.Any((q, translated))
