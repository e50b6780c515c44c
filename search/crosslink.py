"""Cross-language versions: a Chinese article and its English translation published separately.

Each single-language article becomes a set of language-neutral *features*:

- English words by their lexicon key (lowercase, American spelling, Snowball stem: the keys of
  :mod:`search.lexicon.keys`);
- Chinese words (jieba, after conversion to simplified) by the keys of their English glosses in
  the bilingual lexicon (CC-CEDICT and the curated aliases: 普京 → ``vladimir``, ``putin``;
  经济 → ``economi``), so both languages land on the English side's keys;
- numbers by their value, Chinese units and English scale words resolved (3.5亿 and
  "350 million" are both ``#350000000``; 2021年 and 2021 are ``#2021``): rare, and the same in
  both languages.

Features are weighted by their rarity over the articles seen so far (idf) and two articles are
compared by the cosine of their weighted feature sets. An arriving article is compared with the
articles of the other language within ``DATE_WINDOW`` days of it (undated ones with undated ones
only: nothing says when they appeared); it is linked to the most similar one when the cosine is
``THRESHOLD`` or more and that one's group holds no article in the arriving article's language
yet (a translation has one original: the next story on the same subject stays apart).

Deterministic (CRC-32 hashes, no randomness) and incremental: the features are stored with the
MinHash signatures (:func:`search.dedup.encode`), and the document frequencies are rebuilt from
them when an indexing run starts.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
import zlib
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import numpy as np

from search.analysis.convert import to_simplified
from search.lexicon import GLOSS_KEYS
from search.lexicon.keys import is_stopword, word_key

#: Cosine of the weighted feature sets from which an article is another's translation: above
#: every labelled different pair of the dev half (WMT21 zh→en: at most 0.234; translations
#: 0.19 to 0.6, median 0.37; see bench/duplicates.py).
THRESHOLD = 0.24
#: Translations appear within this many days of each other.
DATE_WINDOW = 3
#: Glosses of a Chinese word used (the dictionary's first senses are its best): the lexicon
#: compiles the keys of that many.
GLOSSES = GLOSS_KEYS
#: Two articles sharing fewer features than this are not linked: short texts sharing a name or
#: two (Singapore, Lee Hsien Loong) reach the threshold without being one story, while the
#: labelled translations share 40 or more.
MIN_SHARED = 12

#: Characters of the body read for features: the lead of a news story says what it is about
#: (about as much text in each language: a Chinese character carries about three English ones).
#: On the labelled pairs the lead finds the same translations as the whole text (precision 1.0,
#: recall 0.95 dev, 0.983 test) and the link's grouping time fell from 48 to 40 s over 39,000
#: articles. Features an older version stored from a whole text are compared as they are.
LEAD = {"zh": 600, "en": 1800}
_HAN = re.compile(r"[\u3400-\u9fff]")
_EN_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_ZH_NUMBER = re.compile(r"(\d+(?:,\d{3})*(?:\.\d+)?)\s*(万亿|亿|万)?")
_EN_NUMBER = re.compile(r"(\d+(?:,\d{3})*(?:\.\d+)?)(?:\s*(trillion|billion|million|thousand|bln|mln|pct))?")
_UNITS = {"万": 10**4, "亿": 10**8, "万亿": 10**12, "thousand": 10**3, "million": 10**6, "mln": 10**6,
          "billion": 10**9, "bln": 10**9, "trillion": 10**12}
#: Per-word caches: a word → its features (an English word has one or none).
_zh_cache: dict[str, tuple[int, ...]] = {}
_en_cache: dict[str, tuple[int, ...]] = {}
CACHE_LIMIT = 400_000


def _number(digits: str, unit: str | None) -> str | None:
    try:
        value = Decimal(digits.replace(",", "")) * _UNITS.get(unit or "", 1)
    except InvalidOperation:
        return None
    return "#" + format(value.normalize(), "f")


@lru_cache(maxsize=100_000)
def _number_feature(found: tuple[str, str]) -> int:
    key = _number(*found)
    return _hash(key) if key else 0


def _hash(key: str) -> int:
    return zlib.crc32(key.encode("utf-8"))


def _gloss_keys(per_gloss: list[tuple[str, ...]]) -> list[str]:
    keys: list[str] = []
    for gloss in per_gloss[:GLOSSES]:
        keys.extend(k for k in gloss if len(k) > 1 and k not in keys)
    return keys


def _map_zh_words(words: set[str]) -> None:
    """Put new Chinese words' features in the cache: the Han words' gloss keys read in one batch
    (compiled with the lexicon)."""
    from search.lexicon import lexicon

    han = [word for word in words if _HAN.match(word)]
    for word, per_gloss in lexicon().gloss_keys_many(han).items():
        _zh_cache[word] = tuple(_hash(k) for k in _gloss_keys(per_gloss))
    for word in words:
        if word not in _zh_cache:
            _zh_cache[word] = _ascii_word(word)


def _ascii_word(word: str) -> tuple[int, ...]:
    # A Latin word in Chinese text (G20, APEC): its English key.
    word = word.lower()
    return (_hash(word_key(word)),) if word.isascii() and word.isalpha() and len(word) > 1 and not is_stopword(word) else ()


def _map_en_words(words: set[str]) -> None:
    for word in words:
        _en_cache[word] = (_hash(word_key(word)),) if len(word) > 1 and not is_stopword(word) else ()


def feature_set(text: str, lang: str) -> set[int]:
    """The language-neutral features of ``text`` written in ``lang`` (``zh`` or ``en``), hashed."""
    text = unicodedata.normalize("NFKC", text)
    return normalized_feature_set(to_simplified(text) if lang == "zh" else text, lang)


def normalized_feature_set(text: str, lang: str) -> set[int]:
    """:func:`feature_set` of a text already width-folded (NFKC) and, if Chinese, simplified
    (case does not matter): what :mod:`search.dedup` compares, so it is normalized once."""
    import rjieba

    text = text.lower()
    out = set(map(_number_feature, (_ZH_NUMBER if lang == "zh" else _EN_NUMBER).findall(text)))
    if lang == "zh":
        words, cache, new_words = set(rjieba.cut(text)), _zh_cache, _map_zh_words
    else:
        words, cache, new_words = set(_EN_WORD.findall(text)), _en_cache, _map_en_words
    # One probe of the cache per word (with hundreds of thousands of words, each probe is a
    # cache miss of the CPU's: asking first which are new, then reading all, took twice as long).
    words = list(words)
    found = list(map(cache.get, words))
    if None in found:
        new = {word for word, features in zip(words, found) if features is None}
        if len(cache) + len(new) > CACHE_LIMIT:
            cache.clear()
            new = set(words)
        new_words(new)
        found = [cache[word] if features is None else features for word, features in zip(words, found)]
    out.update(itertools.chain.from_iterable(found))
    out.discard(0)
    return out


def as_array(found: set[int]) -> np.ndarray:
    array = np.fromiter(found, dtype=np.uint32, count=len(found))
    array.sort()
    return array


@dataclass
class CrossLinker:
    """Every single-language article's features, by language and day, with their document frequencies."""

    feats: dict[str, tuple[str, np.ndarray, int | None]] = field(default_factory=dict)  # id → (lang, features, day)
    by_day: dict[tuple[str, int | None], set[str]] = field(default_factory=dict)  # (lang, day or None) → ids
    df: Counter = field(default_factory=Counter)  # feature → articles holding it, beyond the bulk's counts
    count: int = 0  # articles held
    # The features loaded before the first frequency was asked for (an index's articles, read at
    # the start of a run), counted at once by numpy when it is: counting 38,637 articles' features
    # one Counter update at a time took 0.7 s of the 2 s that reading them takes.
    _bulk: list[np.ndarray] | None = field(default_factory=list, repr=False)
    _bulk_keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint32), repr=False)
    _bulk_counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)
    # The features loaded since, counted in ``df`` when a frequency is next asked for: articles
    # with no article of the other language in their date window never ask (in the 6,000-article
    # sample, every one after the first thousand), and counting each as it came took 0.48 s.
    _pending: list[np.ndarray] = field(default_factory=list, repr=False)

    def load(self, article_id: str, lang: str, found: np.ndarray, day: int | None) -> None:
        self.feats[article_id] = (lang, found, day)
        self.by_day.setdefault((lang, day), set()).add(article_id)
        if self._bulk is not None:
            self._bulk.append(found)
        else:
            self._pending.append(found)
        self.count += 1

    def remove(self, article_id: str) -> None:
        held = self.feats.pop(article_id, None)
        if held is None:
            return
        lang, found, day = held
        self.by_day[(lang, day)].discard(article_id)
        self.df.subtract(found.tolist())
        self.count -= 1

    def frequencies(self, found: np.ndarray) -> np.ndarray:
        """How many held articles hold each of ``found`` (sorted features), as floats."""
        if self._bulk is not None:
            if self._bulk:
                self._bulk_keys, self._bulk_counts = np.unique(np.concatenate(self._bulk), return_counts=True)
            self._bulk = None
        if self._pending:
            self.df.update(np.concatenate(self._pending).tolist())
            self._pending = []
        dfs = np.fromiter(map(self.df.__getitem__, found.tolist()), dtype=np.float64, count=len(found))
        keys = self._bulk_keys
        if len(keys) and len(found):
            at = np.minimum(np.searchsorted(keys, found), len(keys) - 1)
            dfs += np.where(keys[at] == found, self._bulk_counts[at], 0)
        return dfs

    def _weights(self, found: np.ndarray) -> np.ndarray:
        # The logarithms in one numpy call, not a math.log per feature.
        return np.log((self.count + 1) / (self.frequencies(found) + 1))

    def candidates(self, lang: str, day: int | None) -> list[str]:
        """Articles in the other language within the date window (undated: the undated ones), sorted."""
        other = "en" if lang == "zh" else "zh"
        days = [None] if day is None else range(day - DATE_WINDOW, day + DATE_WINDOW + 1)
        out: list[str] = []
        for d in days:
            out.extend(self.by_day.get((other, d), ()))
        return sorted(out)

    def similarity(self, a: np.ndarray, b: np.ndarray, a_weights: np.ndarray | None = None) -> float:
        """Cosine of the two idf-weighted feature sets (``a_weights``: ``a``'s, if known)."""
        if len(a) < MIN_SHARED or len(b) < MIN_SHARED:
            return 0.0
        shared = np.isin(a, b, assume_unique=True)
        if np.count_nonzero(shared) < MIN_SHARED:
            return 0.0
        wa = self._weights(a) if a_weights is None else a_weights
        wb = self._weights(b)
        dot = float(np.square(wa[shared]).sum())
        norm = math.sqrt(float(np.square(wa).sum()) * float(np.square(wb).sum()))
        return dot / norm if norm else 0.0

    def best_match(self, lang: str, found: np.ndarray, day: int | None, allowed=lambda other: True) -> tuple[str, float] | None:
        """The most similar article of the other language passing ``THRESHOLD`` (ties: the smaller
        id) among those ``allowed``, with its similarity."""
        best: tuple[float, str] | None = None
        weights = None
        for other in self.candidates(lang, day):
            if weights is None:
                weights = self._weights(found)  # once per arrival: the counts do not change meanwhile
            score = self.similarity(found, self.feats[other][1], weights)
            if score >= THRESHOLD and (best is None or score > best[0]) and allowed(other):
                best = (score, other)
        return (best[1], best[0]) if best else None


__all__ = ["CrossLinker", "LEAD", "THRESHOLD", "as_array", "feature_set", "normalized_feature_set"]
