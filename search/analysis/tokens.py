"""The token every analysis stage produces."""

from __future__ import annotations

from typing import NamedTuple


class Token(NamedTuple):
    """One indexed term and where it came from.

    ``original[start:end]`` is the surface text the user sees. Sub-words that
    jieba's search mode emits inside a longer word share that word's ``pos``,
    so phrase queries over the longer words still match.

    >>> Token("关系", 2, 4, 1, "zh")
    Token(term='关系', start=2, end=4, pos=1, lang='zh')
    """

    term: str
    start: int
    end: int
    pos: int
    lang: str  # "zh", "en", "num" or "other"
