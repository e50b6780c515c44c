"""Structured query translation (Pirkola): each query concept becomes one synonym set.

A run of query words is read left to right, longest dictionary match first:

- English: ``Shanghai Cooperation Organization`` or ``Belt and Road`` is looked up
  as a phrase before its words; a single word by its exact form (``goods`` is
  not ``good``), then its stem (``meetings`` → ``meet``), then its derivational
  family at a lower weight (``strategic`` also finds the 战略 of ``strategy``).
- Chinese: jieba's words are merged when the dictionary has the longer word
  (一带 + 一路 → 一带一路, 上海 + 合作 + 组织 → 上海合作组织); a word the
  dictionary lacks is transliterated if jieba tags it as a name (郝薇薇 → Hao
  Weiwei), else split into the dictionary's words (试试 → 试; 书架上 → 书架 + 上),
  each piece its own synonym set sharing the word's weight.

Every translation is analyzed with the index's own analyzer (so ``Vladimir
Putin`` becomes the phrase ``vladimir putin`` and 上海合作组织 the phrase
上海/合作/组织). :func:`select` then keeps, per concept, the translations the
index can match, drops the weak and the flooding ones, and caps the count.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Callable

from search.analysis import query_terms
from search.lexicon import Lexicon, lexicon
from search.lexicon.keys import american, loose_key, surface_form, word_key
from search.lexicon.entities import fold_ascii, learned, mainland_form
from search.lexicon.names import transliterate
from search.lexicon.sound import CLOSELY_SPELLED, SPELLED, THRESHOLD, SoundIndex, spellable

#: At most this many query tokens are merged into one dictionary lookup.
MAX_MERGE = 6
#: Candidates considered per concept (before checking the index), kept per concept, and per query.
MAX_CANDIDATES = 12
MAX_PER_CONCEPT = 6
MAX_TRANSLATIONS = 48
#: A translation weaker than this fraction of the concept's best one is dropped.
MIN_RELATIVE = 0.2
#: Weights of lookups that are less direct than the exact word.
STEM_WEIGHT = 0.4
FAMILY_WEIGHT = 0.35
IRREGULAR_WEIGHT = 0.9
#: Flood control: a secondary translation in more than FLOOD_SHARE of the documents
#: and FLOOD_FACTOR times as many documents as the concept's best translation is dropped;
#: one merely more common than SOFT_FACTOR times the best is weighted down.
FLOOD_SHARE = 0.02
FLOOD_FACTOR = 20.0
SOFT_FACTOR = 3.0
MAX_TARGET_TERMS = 6


@dataclass(frozen=True)
class Source:
    """One analyzed query token: its indexed term, the text typed, its language."""

    term: str
    surface: str
    lang: str  # zh, en, num, other
    start: int = -1  # offsets in the run's text (see translate_run), if known
    end: int = -1


@dataclass
class Candidate:
    """One translation of a concept, analyzed for the target language."""

    text: str  # as shown to the user: 金砖国家, Vladimir Putin
    terms: tuple[str, ...]  # indexed terms; several = a phrase
    weight: float  # relative to the concept's best translation (best = 1)
    origin: str  # alias, cedict, stem, family, piece, name


@dataclass
class Concept:
    """Query tokens ``start:end`` of a run and their translations: one synonym set."""

    start: int
    end: int
    source: str  # as typed
    converted: str  # simplified Chinese / lookup form of English
    lang: str  # source language
    target: str  # target language
    candidates: list[Candidate] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "term": self.source,
            "converted": self.converted,
            "lang": self.lang,
            "translations": [c.text for c in self.candidates],
        }


def sources_of(text: str) -> list[Source]:
    """The query tokens of ``text`` as :class:`Source` items (offsets into ``text``)."""
    return [Source(tok.term, text[tok.start : tok.end], tok.lang, tok.start, tok.end) for tok in query_terms(text)]


def translate_run(sources: list[Source], lex: Lexicon | None = None, text: str | None = None,
                  absent: Callable[[str], bool] | None = None) -> list[Concept]:
    """Concepts for a run of consecutive query tokens (words typed side by side).

    ``text`` is what the sources' offsets point into; it gives each concept
    its source as typed (``Belt and Road``, stopword included). ``absent(word)`` says the
    index does not hold a (simplified) Chinese string: only such a string may be another
    region's form of a name the index holds (:func:`_zh_sound_at`); without it none is.

    >>> text = "Belt and Road"
    >>> [(c.source, c.start, c.end, c.target) for c in translate_run(sources_of(text), text=text)]
    [('Belt and Road', 0, 2, 'zh')]
    """
    lex = lex or lexicon()
    concepts: list[Concept] = []
    i = 0
    while i < len(sources):
        lang = sources[i].lang
        if lang == "zh":
            i = _zh_at(sources, i, lex, concepts, absent)
        elif lang == "en":
            i = _en_at(sources, i, lex, concepts)
        else:
            i += 1
    if text is not None:
        for concept in concepts:
            first, last = sources[concept.start], sources[concept.end - 1]
            if 0 <= first.start < last.end <= len(text):
                concept.source = text[first.start : last.end]
    for concept in concepts:
        if concept.lang == "en":
            concept.converted = unicodedata.normalize("NFKC", concept.source)
    return [c for c in concepts if c.candidates]


def translate_phrase(sources: list[Source], lex: Lexicon | None = None) -> Concept | None:
    """A quoted phrase is translated only as a whole (a dictionary phrase), never word by word."""
    lex = lex or lexicon()
    if not sources:
        return None
    if len(sources) == 1:
        found = translate_run(sources, lex)
        return found[0] if found and found[0].end == 1 else None
    langs = {s.lang for s in sources}
    concepts: list[Concept] = []
    if langs <= {"zh"}:
        word = "".join(s.term for s in sources)
        if lex.has_zh(word):
            concepts.append(_zh_concept(sources, 0, len(sources), word, lex))
    elif langs <= {"en", "num"}:
        for key in _phrase_keys(sources, lex):
            if lex.has_en(key):
                concepts.append(_en_concept(sources, 0, len(sources), lex.en_phrase(key), "cedict"))
                break
    concepts = [c for c in concepts if c.candidates]
    return concepts[0] if concepts else None


# Chinese → English


def _zh_at(sources: list[Source], i: int, lex: Lexicon, out: list[Concept], absent: Callable[[str], bool] | None = None) -> int:
    last = i
    while last < len(sources) and sources[last].lang == "zh" and last - i < MAX_MERGE:
        last += 1
    # Another region's form of a word or a name (普丁 → 普京, 網路 → 网络, 网络 → 网路): the same
    # language, so it searches the Chinese fields, and its translation is the mapped word's.
    for j in range(last, i, -1):
        word = "".join(s.term for s in sources[i:j])
        person = _person_forms(word)
        if person:
            out.append(_regional_concept(sources, i, j, word, person, "alias"))
            english = person_english(word)
            if english:
                concept = _concept(sources, i, j, word, "en")
                concept.candidates = _english_candidates([(en, 1.0 - 0.05 * k, "alias") for k, en in enumerate(english)])
                out.append(concept)
            return j
        if (j - i == 1 or lex.has_zh(word)) and mainland_form(word) != word:
            # A Taiwan/HK form (網路, 軟體) means its mainland word: that word is the concept, not the
            # typed one's own glosses (软体 "soft-bodied"), with the mainland word's translations.
            # (A mainland word does not add its Taiwan form: its own word finds those articles.)
            mainland = mainland_form(word)
            out.append(_regional_concept(sources, i, j, word, [mainland], "opencc"))
            if lex.has_zh(mainland):  # and the mainland word's English: 滑鼠 finds "mouse" as 鼠标 does
                english = _zh_concept(sources, i, j, mainland, lex)
                if english.candidates:
                    out.append(english)
            return j
    sounded = _zh_sound_at(sources, i, last, lex, absent) if absent is not None else []
    if sounded:
        out.extend(sounded)
        return sounded[0].end
    for j in range(last, i + 1, -1):
        word = "".join(s.term for s in sources[i:j])
        if len(word) <= 12 and lex.has_zh(word):
            out.append(_zh_concept(sources, i, j, word, lex))
            return j
    word = sources[i].term
    if lex.has_zh(word):
        out.append(_zh_concept(sources, i, i + 1, word, lex))
        return i + 1
    # A name jieba does not know is often cut in two (郝薇薇 → 郝薇 + 薇): try the glued tokens whole.
    for j in range(min(len(sources), i + 3), i, -1):
        group = sources[i:j]
        if any(s.lang != "zh" for s in group) or not _glued(group):
            continue
        name_text = "".join(s.term for s in group)
        name = transliterate(name_text, lex.surnames) if 2 <= len(name_text) <= 4 else None
        if name:
            concept = _concept(sources, i, j, name_text, "en")
            concept.candidates = _english_candidates([(name, 1.0, "name")])
            out.append(concept)
            return j
    for piece in _pieces(word, lex):
        concept = _zh_concept(sources, i, i + 1, piece, lex, origin="piece")
        out.append(concept)
    return i + 1


#: A typed run of at least this many characters may be matched by sound (two are too ambiguous).
MIN_SOUND_CHARS = 3


def _zh_sound_at(sources: list[Source], i: int, last: int, lex: Lexicon, absent: Callable[[str], bool]) -> list[Concept]:
    """Another region's transliteration of a foreign name the indexes hold, matched by sound
    (澤倫斯基 *ze-lun-si-ji* → 泽连斯基 *ze-lian-si-ji*, 梅克爾 → 默克尔, 納坦雅胡 → 内塔尼亚胡):
    glued tokens the dictionary does not know as a whole, one of them unknown too (jieba cut a
    name it does not know: 泽 + 伦斯基), no name the indexes hold, nor part of one or holding one,
    and a string no article holds (``absent``: a form the archive uses finds its articles as it
    is; 卡米拉 Camilla is not 卡马拉 Kamala). The concept searches the matched names (at most two)
    and their English names."""
    names = learned.zh_names()
    for j in range(last, i, -1):
        group = sources[i:j]
        word = "".join(s.term for s in group)
        if lex.has_zh(word) or word in names:
            break  # a word or name: shorter spans are pieces of it
        if len(word) < MIN_SOUND_CHARS or not _glued(group):
            continue
        if len(group) > 1 and all(lex.has_zh(s.term) for s in group):
            continue  # known words side by side (阿富汗 + 塔利班), not a name cut by jieba
        matches = _sounded_zh(word, names)
        if not matches or len(matches) > 2:
            continue
        if any(len(name) >= 2 and name in word for name in names) or not absent(word):
            continue  # a held name and a character more (和普京), or a string the archive uses
        concepts = [_regional_concept(sources, i, j, word, [zh for zh, _ in matches], "sound")]
        english = [(en, 1.0 - 0.05 * k, "sound") for zh, _ in matches for k, en in enumerate(person_english(zh))]
        english += [(text, weight, "sound") for zh, _ in matches for text, weight, _ in lex.zh_to_en(zh)]
        if english:
            concept = _concept(sources, i, j, word, "en")
            concept.candidates = _english_candidates(english)
            concepts.append(concept)
        return concepts
    return []


@lru_cache(maxsize=4096)
def _sounded_zh(word: str, names: frozenset[str]) -> list[tuple[str, float]]:
    """The transliterated ``names`` that sound like the Chinese ``word``: once per word and set of names."""
    from search.lexicon.people import people

    spelled = SPELLED if people().transliterated(word) else CLOSELY_SPELLED
    return _sound_index(names).match_chinese(word, THRESHOLD, spelled)


def _regional_concept(sources: list[Source], i: int, j: int, word: str, forms: list[str], origin: str) -> Concept:
    concept = _concept(sources, i, j, word, "zh")
    out: dict[tuple[str, ...], Candidate] = {}
    for form in forms:
        terms = tuple(t.term for t in query_terms(form) if t.lang == "zh")
        if terms and len(terms) <= MAX_TARGET_TERMS and terms not in out:
            out[terms] = Candidate(form, terms, 1.0, origin)
    concept.candidates = list(out.values())
    return concept


def _person_forms(word: str) -> list[str]:
    """Other Chinese forms of a person's name, from the entity lexicon: a Taiwan/HK form finds the
    mainland one (普丁 → 普京, 川普 → 特朗普) and back (普京 → 普丁)."""
    from search.analysis.convert import to_simplified
    from search.lexicon.people import people

    found = people().entity(word)
    if found is None:
        return []
    out: list[str] = []
    for form in found.forms:
        text = to_simplified(form.text)
        if form.lang == "zh" and text != word and text not in out:
            out.append(text)
    return out


def person_english(word: str) -> list[str]:
    """English names of the person a Chinese name refers to, full name first (普丁 → Vladimir Putin, Putin)."""
    from search.lexicon.people import people

    found = people().entity(word)
    if found is None:
        return []
    best = found.best("en")
    return ([best] if best else []) + [f.text for f in found.forms if f.lang == "en" and f.text != best][:3]


def _glued(group: list[Source]) -> bool:
    """Tokens typed without a space between them (one token always is)."""
    return len(group) == 1 or all(a.end >= 0 and a.end == b.start for a, b in zip(group, group[1:]))


def _pieces(word: str, lex: Lexicon) -> list[str]:
    """Split a word the dictionary lacks into dictionary words, longest first (试试 → 试)."""
    pieces: list[str] = []
    k = 0
    while k < len(word):
        for end in range(min(len(word), k + 8), k, -1):
            chunk = word[k:end]
            if lex.has_zh(chunk) and (end - k > 1 or len(word) <= 3):
                if chunk not in pieces:
                    pieces.append(chunk)
                k = end
                break
        else:
            k += 1
    return pieces


def _zh_concept(sources: list[Source], i: int, j: int, word: str, lex: Lexicon, origin: str | None = None) -> Concept:
    concept = _concept(sources, i, j, word, "en")
    glosses = [(text, w, origin or how) for text, w, how in lex.zh_to_en(word)]
    concept.candidates = _english_candidates(glosses)
    return concept


def _english_candidates(glosses: list[tuple[str, float, str]]) -> list[Candidate]:
    """English glosses → analyzed candidates (British spellings get an American twin)."""
    out: dict[tuple[str, ...], Candidate] = {}
    for text, weight, origin in glosses:
        variants = [text]
        americanized = " ".join(_american_word(w) for w in text.split())
        if americanized != text:
            variants.append(americanized)
        for variant in variants:
            terms = tuple(t.term for t in query_terms(variant) if t.lang == "en")
            if not terms or len(terms) > MAX_TARGET_TERMS:
                continue
            old = out.get(terms)
            if old is None or old.weight < weight:
                out[terms] = Candidate(variant, terms, weight, origin)
    return _relative(list(out.values()))


def _american_word(word: str) -> str:
    """``Organisation`` → ``Organization`` (case kept); other words unchanged."""
    if not word.isalpha():
        return word
    folded = american(word.lower())
    if folded == word.lower():
        return word
    return folded.capitalize() if word[:1].isupper() else folded


# English → Chinese


#: English words not translated: auxiliaries with no Chinese counterpart (their
#: translations would only be noise that every document must match).
UNTRANSLATED_EN = frozenset(
    {"do", "does", "did", "doing", "have", "has", "had", "having", "would", "could", "shall", "may", "might", "am", "been", "being"}
)
#: A dictionary phrase does not start with these ("I see" is not 喔 in "I see her").
NO_PHRASE_START = UNTRANSLATED_EN | frozenset(
    {"i", "you", "he", "she", "it", "we", "they", "me", "him", "her", "us", "them", "my", "your", "his", "its", "our", "their"}
)
_CONTRACTIONS = {"n't": "not", "'ll": "", "'ve": "", "'re": "", "'m": "", "'d": ""}
_NEGATED = {"ca": "can", "wo": "will", "sha": "shall", "ai": "is"}  # can't, won't, shan't, ain't


def split_contraction(word: str) -> list[str]:
    """``didn't`` → ``["did", "not"]``; ``I'll`` → ``["I"]``; other words unchanged.

    >>> split_contraction("can't"), split_contraction("I'll"), split_contraction("Tom")
    (['can', 'not'], ['I'], ['Tom'])
    """
    low = word.lower().replace("’", "'")
    for suffix, meaning in _CONTRACTIONS.items():
        if low.endswith(suffix) and len(low) > len(suffix):
            head = word[: len(word) - len(suffix)]
            head = _NEGATED.get(head.lower(), head)
            return [head, meaning] if meaning else [head]
    return [word]


def _phrase_keys(sources: list[Source], lex: Lexicon) -> list[tuple[str, ...]]:
    """The stem key of a run of words, and the key with irregular forms as their base (given up → give up)."""
    keys = [tuple(word_key(s.surface) for s in sources)]
    base = tuple(word_key(lex.irregular.get(s.surface.lower(), s.surface)) for s in sources)
    if base != keys[0]:
        keys.append(base)
    return keys


def _en_at(sources: list[Source], i: int, lex: Lexicon, out: list[Concept]) -> int:
    last = i
    while last < len(sources) and sources[last].lang in ("en", "num") and last - i < MAX_MERGE:
        last += 1
    named = _en_name_at(sources, i, last, lex)
    if named is not None:
        out.append(named)
        return named.end
    if sources[i].surface.lower() not in NO_PHRASE_START:
        for j in range(last, i + 1, -1):
            for key in _phrase_keys(sources[i:j], lex):
                if lex.has_en(key):
                    out.append(_en_concept(sources, i, j, lex.en_phrase(key), "cedict"))
                    return j
    sounded = _en_sound_at(sources, i, lex)
    if sounded is not None:
        out.append(sounded)
        return i + 1
    surface = sources[i].surface
    parts = [surface] if lex.en_exact(surface) else split_contraction(surface)
    for part in parts:  # didn't → did (not translated) + not (不, 没有)
        found = _en_word(part, lex)
        if found:
            out.append(_en_concept(sources, i, i + 1, found, None))
    return i + 1


#: A person's name is at most this many words (Luiz Inacio Lula da Silva is written shorter in news).
MAX_NAME_WORDS = 3


def _en_name_at(sources: list[Source], i: int, last: int, lex: Lexicon) -> Concept | None:
    """A person's English name at ``i`` → the Chinese names the indexes hold for it.

    ``Li Qiang`` is 李强 (not 里 + 强): the whole name is looked up among the names
    the indexes pair with it (their speakers), before any word is translated. A
    single word the dictionary does not know (``Zelensky``, ``Peskov``) is
    matched by sound later (:func:`_en_sound_at`), after the dictionary's phrases
    (``Nord Stream`` is 北溪, not a name that sounds like *Nord*).
    """
    from search.lexicon.people import people

    for j in range(min(last, i + MAX_NAME_WORDS), i, -1):
        group = sources[i:j]
        if any(s.lang != "en" for s in group):
            continue
        name = " ".join(s.surface for s in group)
        found = learned.zh_for_en(name)
        if j - i > 1 and not found:
            person = people().by_en.get(name.lower())
            found = [person.zh] if person is not None and person.zh else []
        if found:
            concept = _concept(sources, i, j, name, "zh")
            concept.candidates = _relative([Candidate(zh, tuple(t.term for t in query_terms(zh) if t.lang == "zh"), 1.0, "name") for zh in found])
            concept.candidates = [c for c in concept.candidates if c.terms]
            return concept if concept.candidates else None
    return None


def _en_sound_at(sources: list[Source], i: int, lex: Lexicon) -> Concept | None:
    """One English word no dictionary knows, matched by sound to a transliterated name the indexes hold."""
    from search.lexicon.people import people

    word = sources[i].surface
    if len(word) < 4 or not word.isalpha() or lex.has_en((word_key(word),)) or lex.en_exact(word) or word.lower() in lex.irregular:
        return None
    if not spellable(fold_ascii(word), people().spelling):
        return None
    matches = _sounded(word, learned.zh_names())
    if not matches or len(matches) > 2:
        return None
    concept = _concept(sources, i, i + 1, word, "zh")
    concept.candidates = [
        Candidate(zh, tuple(t.term for t in query_terms(zh) if t.lang == "zh"), round(score, 4), "sound") for zh, score in matches
    ]
    concept.candidates = _relative([c for c in concept.candidates if c.terms])
    return concept if concept.candidates else None


@lru_cache(maxsize=8)
def _sound_index(names: frozenset[str]) -> SoundIndex:
    from search.lexicon.people import people

    return SoundIndex(zh for zh in names if people().transliterated(zh))


@lru_cache(maxsize=4096)
def _sounded(word: str, names: frozenset[str]) -> list[tuple[str, float]]:
    """The transliterated ``names`` that sound like ``word``: once per word and set of names."""
    return _sound_index(names).match(word, THRESHOLD)


def _en_word(word: str, lex: Lexicon) -> list[tuple[str, float, str]]:
    """Chinese candidates of one English word: exact form, stem, irregular base form, derivational family."""
    if word.lower() in UNTRANSLATED_EN or not word_key(word):
        return []
    found = _en_forms(word, lex)
    base = lex.irregular.get(word.lower())
    if base:
        found += [(zh, score * IRREGULAR_WEIGHT, origin) for zh, score, origin in _en_forms(base, lex)]
    stem_key = word_key(word)
    loose = loose_key(stem_key)
    if len(loose) >= 5:
        top = max((score for _, score, origin in found if origin != "alias"), default=0.0)
        for relative in lex.family(loose):
            if relative != stem_key:
                # A relative's candidates count at most FAMILY_WEIGHT of this word's best.
                family = [f for f in lex.en_phrase((relative,)) if f[2] != "alias"]
                best = max((s for _, s, _ in family), default=0.0)
                if best:
                    base_score = top or best
                    found += [(zh, FAMILY_WEIGHT * base_score * s / best, "family") for zh, s, _ in family]
    return found


def _en_forms(word: str, lex: Lexicon) -> list[tuple[str, float, str]]:
    exact = lex.en_exact(word)
    direct = lex.en_phrase((word_key(word),))
    scale = STEM_WEIGHT if exact else 1.0
    return exact + [(zh, score if origin == "alias" else score * scale, "alias" if origin == "alias" else "stem") for zh, score, origin in direct]


def _en_concept(sources: list[Source], i: int, j: int, found: list[tuple[str, float, str]], origin: str | None) -> Concept:
    concept = _concept(sources, i, j, " ".join(surface_form(s.surface) for s in sources[i:j]), "zh")
    best: dict[str, tuple[float, str]] = {}
    for zh, score, how in found:
        if zh not in best or best[zh][0] < score:
            best[zh] = (score, origin or how)
    ranked = sorted(best.items(), key=lambda kv: -kv[1][0])[:MAX_CANDIDATES]
    out: dict[tuple[str, ...], Candidate] = {}
    for zh, (score, how) in ranked:
        terms = tuple(t.term for t in query_terms(zh) if t.lang == "zh")
        if terms and len(terms) <= MAX_TARGET_TERMS and terms not in out:
            out[terms] = Candidate(zh, terms, score, how)
    concept.candidates = _relative(list(out.values()))
    return concept


# Shared


def _concept(sources: list[Source], i: int, j: int, converted: str, target: str) -> Concept:
    typed = sources[i:j]
    sep = "" if typed[0].lang == "zh" else " "
    return Concept(i, j, sep.join(s.surface for s in typed), converted, typed[0].lang, target)


def _relative(candidates: list[Candidate]) -> list[Candidate]:
    if not candidates:
        return []
    top = max(c.weight for c in candidates)
    ranked = sorted(candidates, key=lambda c: -c.weight)[:MAX_CANDIDATES]
    return [replace(c, weight=round(c.weight / top, 4)) for c in ranked if top > 0]


def select(
    concept: Concept,
    present: Callable[[tuple[str, ...]], bool],
    doc_frequency: Callable[[tuple[str, ...]], int] | None = None,
    doc_count: int | None = None,
    limit: int = MAX_PER_CONCEPT,
) -> list[Candidate]:
    """The translations of ``concept`` to search, best first, with weights relative to the best.

    ``present(terms)``: can the index match this translation at all (a term it
    has, a phrase whose words it has). ``doc_frequency(terms)``: in how many
    documents (an upper bound is fine); with ``doc_count`` it drives flood
    control, so a rare word is not searched as a translation found everywhere.
    """
    kept = [c for c in concept.candidates if present(c.terms)]
    if not kept:
        return []
    top = max(c.weight for c in kept)
    kept = [replace(c, weight=c.weight / top) for c in kept if c.weight / top >= MIN_RELATIVE]
    kept.sort(key=lambda c: -c.weight)
    if doc_frequency is not None and doc_count:
        best_df = max(1, doc_frequency(kept[0].terms))
        chosen = [kept[0]]
        for cand in kept[1:]:
            df = doc_frequency(cand.terms)
            if df > FLOOD_SHARE * doc_count and df > FLOOD_FACTOR * best_df:
                continue  # would flood the results with a secondary sense
            if df > SOFT_FACTOR * best_df:
                cand = replace(cand, weight=cand.weight * math.sqrt(SOFT_FACTOR * best_df / df))
            chosen.append(cand)
        kept = sorted(chosen, key=lambda c: -c.weight)
    return [replace(c, weight=round(c.weight, 4)) for c in kept[:limit]]
