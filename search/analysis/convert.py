"""Convert Chinese to simplified script with OpenCC, keeping character offsets.

OpenCC's ``t2s`` maps phrases and characters; it is almost always
length-preserving. When a conversion changes length we fall back to
character-by-character conversion so offsets stay exact.
"""

from __future__ import annotations

from functools import lru_cache

import opencc

_converters: dict[str, opencc.OpenCC] = {}


def _converter(config: str) -> opencc.OpenCC:
    conv = _converters.get(config)
    if conv is None:
        conv = _converters[config] = opencc.OpenCC(config)
    return conv


def to_simplified(text: str) -> str:
    """Convert a Han run to simplified script with the same length.

    >>> to_simplified("中俄關係")
    '中俄关系'
    """
    if text.isascii():
        return text  # nothing to convert: skips OpenCC's copy (half the texts a search highlights are English)
    converted = _converter("t2s").convert(text)
    if len(converted) == len(text):
        return converted
    return "".join(_char_t2s(ch) for ch in text)


def to_simplified_lines(texts: list[str]) -> list[str]:
    """:func:`to_simplified` of each of ``texts`` (Han runs, no line breaks), in one call of
    OpenCC: its phrases never span a line break, so each line converts as it would alone.

    >>> to_simplified_lines(["中俄關係", "習近平"])
    ['中俄关系', '习近平']
    """
    converted = _converter("t2s").convert("\n".join(texts)).split("\n")
    if len(converted) != len(texts):  # a line break made or lost: one at a time
        return [to_simplified(text) for text in texts]
    return [new if len(new) == len(old) else to_simplified(old) for old, new in zip(texts, converted)]


@lru_cache(maxsize=65536)
def _char_t2s(ch: str) -> str:
    converted = _converter("t2s").convert(ch)
    return converted if len(converted) == 1 else ch


def convert_display(text: str, script: str) -> str:
    """Convert any text for display: ``script`` is ``hans`` (simplified) or ``hant`` (traditional,
    in Taiwan's standard forms: 為, 著, 裡, not the OpenCC standard's 爲, 着, 裏).

    >>> convert_display("为了着急", "hant")
    '為了著急'
    """
    config = {"hans": "t2s", "hant": "s2tw"}[script]
    return _converter(config).convert(text)
