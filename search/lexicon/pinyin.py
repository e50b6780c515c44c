"""Chinese words by their pinyin: ``xijinping`` → 习近平, ``beixi`` → 北溪 (tones ignored).

A :class:`PinyinTable` is built from a list of Chinese words (an index's vocabulary) and
maps each word's toneless pinyin, syllables run together, to the words read so. A character
with several readings (重: zhong, chong) gives its word one key per reading (at most
:data:`MAX_READINGS` per word), so 重庆 is found as ``chongqing`` although 重 alone is
read ``zhong`` more often; a word pypinyin's phrase table knows is read only as the table
reads it (角落 is ``jiaoluo``, not also ``lula``). Readings come from pypinyin's tables: a
dictionary lookup per word and character, no segmentation.

>>> table = PinyinTable.build(["习近平", "北溪", "悲喜", "一带", "一路", "我们"])
>>> table.words("beixi")
['北溪', '悲喜']
>>> table.split("yidaiyilu")
[[['一带'], ['一路']]]
>>> is_pinyin("xijinping"), is_pinyin("putin")
(True, False)
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import product

from pypinyin.pinyin_dict import pinyin_dict

#: Keys kept per word (the product of its characters' readings is capped).
MAX_READINGS = 8
#: A word of the table has at least this many characters (one syllable alone is too ambiguous).
MIN_CHARS = 2
#: A typed run is read as at most this many words (yidaiyilu: 一带 + 一路).
MAX_PARTS = 3
_HAN = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+$")


@lru_cache(maxsize=None)  # a few thousand syllables with tones, asked once per character of 100,000 words
def _toneless(reading: str) -> str:
    """``lǜ`` → ``lv`` (ü typed as v, as every pinyin keyboard does)."""
    decomposed = unicodedata.normalize("NFD", reading).replace("u\u0308", "v")  # ǜ is u + diaeresis + grave
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _characters() -> dict[str, tuple[str, ...]]:
    """Character → its toneless readings, most usual first."""
    table: dict[str, tuple[str, ...]] = {}
    for code, readings in pinyin_dict.items():
        found: list[str] = []
        for reading in readings.split(","):
            key = _toneless(reading)
            if key and key not in found and any(v in key for v in "aeiouv"):  # not the interjections m, ng, hm
                found.append(key)
        if found:
            table[chr(code)] = tuple(found)
    return table


@lru_cache(maxsize=1)
def syllables() -> frozenset[str]:
    """Every toneless syllable some character is read as (about 420)."""
    return frozenset(key for keys in _characters().values() for key in keys)


def is_pinyin(text: str) -> bool:
    """Whether ``text`` (letters, any case) is a run of toneless pinyin syllables."""
    text = text.lower()
    if not text.isascii() or not text.isalpha():
        return False
    known = syllables()
    ends = {0}
    for end in range(1, len(text) + 1):
        if any(start in ends and text[start:end] in known for start in range(max(0, end - 6), end)):
            ends.add(end)
    return len(text) in ends


@lru_cache(maxsize=1)
def _phrases() -> dict[str, list[list[str]]]:
    from pypinyin.phrases_dict import phrases_dict

    return phrases_dict


def readings(word: str) -> list[str]:
    """The toneless pinyin keys of a Chinese word (several when characters have several readings).

    A word of pypinyin's phrase table (47,000 words) is read as the table reads it: 角落 is
    ``jiaoluo`` only, where its characters' readings would also give ``lula``, and a user
    typing the name Lula must not get "corner"."""
    table = _characters()
    phrase = _phrases().get(word)
    if phrase is not None and len(phrase) == len(word):
        per_char = [tuple(dict.fromkeys(_toneless(r) for r in options)) for options in phrase]
    else:
        per_char = [table.get(ch) for ch in word]
    if not per_char or any(r is None for r in per_char):
        return []
    keys: list[str] = []
    for combo in product(*per_char):
        keys.append("".join(combo))
        if len(keys) >= MAX_READINGS:
            break
    return keys


#: Each word's readings, kept across builds: a commit's new table (one per index generation)
#: reads only the new words (the 88,000 words of the benchmark index took 1.6 s to read).
_READ: dict[str, list[str]] = {}


@dataclass
class PinyinTable:
    """Toneless pinyin (syllables run together) → the Chinese words of a vocabulary read so."""

    by_key: dict[str, list[str]]

    @classmethod
    def build(cls, words) -> "PinyinTable":
        by_key: dict[str, list[str]] = {}
        for word in words:
            if len(word) < MIN_CHARS or not _HAN.match(word):
                continue
            known = _READ.get(word)
            if known is None:
                known = _READ[word] = readings(word)
            for key in known:
                by_key.setdefault(key, []).append(word)
        return cls(by_key)

    def words(self, key: str) -> list[str]:
        return list(self.by_key.get(key.lower(), ()))

    def split(self, text: str, max_parts: int = MAX_PARTS) -> list[list[list[str]]]:
        """``text`` cut into the fewest pieces (at most ``max_parts``) that are each some words'
        pinyin: every such cut, as the words of each piece (``yidaiyilu`` → 一带 | 一路)."""
        text = text.lower()
        for parts in range(1, max_parts + 1):
            cuts = self._cuts(text, parts)
            if cuts:
                return [[self.by_key[piece] for piece in cut] for cut in cuts]
        return []

    def _cuts(self, text: str, parts: int) -> list[list[str]]:
        if parts == 1:
            return [[text]] if text in self.by_key else []
        out = []
        for end in range(2, len(text) - 1):
            head = text[:end]
            if head in self.by_key:
                out += [[head, *rest] for rest in self._cuts(text[end:], parts - 1)]
        return out
