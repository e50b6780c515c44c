"""Lookup keys for English words and phrases, shared by the dictionary compiler and the query side.

A key is what a dictionary gloss and a typed query word must agree on: the word
lowercased, British spelling folded to American (``organisation`` and
``organization`` meet), then Snowball-stemmed like the index (``meetings`` →
``meet``). Phrases are tuples of word keys with the index's stopwords left
out, so ``Belt and Road`` is ``("belt", "road")`` on both sides.

>>> phrase_key("Shanghai Cooperation Organisation")
('shanghai', 'cooper', 'organiz')
>>> phrase_key("the Belt and Road") == phrase_key("belt & road")
True
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from search.analysis.english import STOPWORDS_EN, normalize_word, stem
from search.analysis.scripts import _DIGIT, _LATIN

#: Gloss filler that is no part of a translation ("to inform sb of sth").
GLOSS_STOPWORDS = frozenset({"sb", "sth", "sb's", "sth's", "oneself", "one's", "etc", "something", "somebody", "someone"})

_SPELLING_WORDS = {
    "defence": "defense", "offence": "offense", "licence": "license", "pretence": "pretense",
    "programme": "program", "programmes": "programs", "cheque": "check", "tyre": "tire",
    "grey": "gray", "aluminium": "aluminum", "mould": "mold", "plough": "plow", "storey": "story",
    "kerb": "curb", "manoeuvre": "maneuver", "jewellery": "jewelry", "ageing": "aging",
}
_SPELLING_RULES = [
    (re.compile(r"(?<=\w{3})is(e|ed|es|ing|ation|ations|ational)$"), r"iz\1"),
    (re.compile(r"(?<=\w{2})ys(e|ed|es|ing)$"), r"yz\1"),
    (re.compile(r"(?<=\w[^aeiou])our(s|ed|ing|ite|ites|able|ably|ful|less)?$"), r"or\1"),
    (re.compile(r"(?<=\w{2})(t|b)re(s|d)?$"), r"\1er\2"),
    (re.compile(r"(?<=\w{3})ogue(s)?$"), r"og\1"),
    (re.compile(r"(?<=\w{3}[aeiou])ll(ed|ing|er|ers)$"), r"l\1"),
]

#: Every ending a rule above can change: a word with none of them is already American (one
#: C-level check instead of six regular expressions; ~85 % of English words fingerprinted).
_SPELLING_ENDS = tuple(
    [f"is{end}" for end in ("e", "ed", "es", "ing", "ation", "ations", "ational")]
    + [f"ys{end}" for end in ("e", "ed", "es", "ing")]
    + [f"our{end}" for end in ("", "s", "ed", "ing", "ite", "ites", "able", "ably", "ful", "less")]
    + [f"{c}re{end}" for c in "tb" for end in ("", "s", "d")]
    + ["ogue", "ogues"]
    + [f"ll{end}" for end in ("ed", "ing", "er", "ers")]
)


def american(word: str) -> str:
    """Fold common British spellings of a lowercase word to American.

    >>> [american(w) for w in ("organisation", "colour", "centre", "travelled", "analyse", "rise")]
    ['organization', 'color', 'center', 'traveled', 'analyze', 'rise']
    """
    if word in _SPELLING_WORDS:
        return _SPELLING_WORDS[word]
    if not word.endswith(_SPELLING_ENDS):
        return word
    for pattern, repl in _SPELLING_RULES:
        new = pattern.sub(repl, word)
        if new != word:
            return new
    return word


@lru_cache(maxsize=200_000)
def surface_form(word: str) -> str:
    """A word as typed → lowercase, NFKC, possessive dropped, accents kept, American spelling."""
    return american(normalize_word(unicodedata.normalize("NFKC", word)))


@lru_cache(maxsize=200_000)
def word_key(word: str) -> str:
    """The stemmed key of one word (as typed or as written in a gloss)."""
    return stem(surface_form(word))


# The analyzer's Latin and digit runs (search.analysis.scripts), without the other scripts.
_WORD = re.compile(rf"[{_LATIN}]+(?:['’\uff07][{_LATIN}]+)*|[{_DIGIT}]+(?:[.\uff0e][{_DIGIT}]+)*")


def words(text: str) -> list[str]:
    """The Latin and digit runs of ``text`` (the same split as the analyzer).

    >>> words("Xi's visit to 喀山 (Kazan), 2024")
    ["Xi's", 'visit', 'to', 'Kazan', '2024']
    """
    return _WORD.findall(text)


def content_words(text: str) -> list[str]:
    """``words`` without stopwords and gloss filler (sb, sth)."""
    return [w for w in words(text) if not is_stopword(w)]


@lru_cache(maxsize=200_000)
def is_stopword(word: str) -> bool:
    w = normalize_word(unicodedata.normalize("NFKC", word))
    return not w or w in STOPWORDS_EN or w in GLOSS_STOPWORDS


def phrase_key(text: str) -> tuple[str, ...]:
    """The key of an English word or phrase: stemmed words, stopwords dropped."""
    return tuple(word_key(w) for w in content_words(text))


def loose_key(stem_key: str) -> str:
    """A coarser key joining derivational relatives the stemmer keeps apart.

    ``strategic``/``strategy`` (``strateg``/``strategi``), ``economic``/``economy``,
    ``historic``/``history``: used for lower-weight family lookups only.

    >>> loose_key(word_key("strategic")) == loose_key(word_key("strategy"))
    True
    """
    key = re.sub(r"[iye]$", "", stem_key)
    if len(key) > 5:
        key = re.sub(r"(ic|al)$", "", key)
    return key
