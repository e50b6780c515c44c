"""English (and other alphabetic) words: lowercase, stopwords, Snowball stemming."""

from __future__ import annotations

from pathlib import Path

import Stemmer

_STEMMER = Stemmer.Stemmer("english")
_STEMMER.maxCacheSize = 200_000


def _load(name: str) -> frozenset[str]:
    path = Path(__file__).with_name(name)
    words = (line.split("#", 1)[0].strip() for line in path.read_text("utf-8").splitlines())
    return frozenset(w for w in words if w)


STOPWORDS_EN = _load("stopwords_en.txt")


def normalize_word(word: str) -> str:
    """Lowercase, strip a possessive, fold curly apostrophes.

    >>> normalize_word("Russia’s")
    'russia'
    """
    word = word.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    return word.strip("'")


def stem(word: str) -> str:
    """Snowball (Porter2) stem of a normalized word.

    >>> stem("cooperating") == stem("cooperation")
    True
    """
    return _STEMMER.stemWord(word)
