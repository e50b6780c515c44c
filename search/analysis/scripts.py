"""Split text into script runs (Han, Latin, digits, other letters) with NFKC width folding.

Punctuation, spaces, symbols and emoji separate runs and are not indexed.
Each run keeps a map from its normalized characters back to the original,
because NFKC may change length (ﬁ → fi, ½ → 1⁄2).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterator, NamedTuple

_HAN = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_LATIN = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff\uff21-\uff3a\uff41-\uff5a\ufb00-\ufb06"
_DIGIT = "0-9\uff10-\uff19"
#: The letters a Latin run is made of, as a regular-expression character class body.
LATIN_LETTERS = _LATIN
#: The characters a Han run is made of (〇, the unified ideographs with extension A and those
#: past the Basic Plane, the compatibility ideographs), as a character class body.
HAN_CHARACTERS = _HAN

_RUN = re.compile(
    rf"(?P<han>[{_HAN}]+)"
    rf"|(?P<latin>[{_LATIN}]+(?:['’\uff07][{_LATIN}]+)*)"
    rf"|(?P<digit>[{_DIGIT}]+(?:[.\uff0e][{_DIGIT}]+)*)"
    rf"|(?P<other>(?:(?![{_HAN}{_LATIN}])[^\W\d_])+)"
)


class Run(NamedTuple):
    """A maximal stretch of one script; ``text`` is NFKC-normalized."""

    kind: str  # "han", "latin", "digit", "other"
    start: int
    end: int
    text: str
    offsets: tuple[int, ...] | None  # original index of each char of ``text``; None = identity


def script_runs(text: str) -> Iterator[Run]:
    """Yield the script runs of ``text`` in order.

    >>> [(r.kind, r.text) for r in script_runs("習近平 met Ｐｕｔｉｎ in 2024.")]
    [('han', '習近平'), ('latin', 'met'), ('latin', 'Putin'), ('latin', 'in'), ('digit', '2024')]
    """
    for match in _RUN.finditer(text):
        kind = match.lastgroup or "other"
        start, end = match.span()
        raw = match.group()
        if raw.isascii():
            yield Run(kind, start, end, raw, None)
            continue
        normalized, offsets = nfkc_with_offsets(raw, start)
        yield Run(kind, start, end, normalized, offsets)


def script_texts(text: str) -> Iterator[tuple[str, str]]:
    """``(kind, text)`` of each of :func:`script_runs`, without the offsets (what indexing needs).

    >>> list(script_texts("習近平 met Ｐｕｔｉｎ"))
    [('han', '習近平'), ('latin', 'met'), ('latin', 'Putin')]
    """
    for match in _RUN.finditer(text):
        raw = match.group()
        yield match.lastgroup or "other", raw if raw.isascii() else _nfkc(raw)


def _nfkc(raw: str) -> str:
    """The text of :func:`nfkc_with_offsets` alone."""
    normalized = unicodedata.normalize("NFKC", raw)
    if len(normalized) == len(raw):
        return normalized
    return "".join(unicodedata.normalize("NFKC", ch) for ch in raw)


def nfkc_with_offsets(raw: str, base: int) -> tuple[str, tuple[int, ...] | None]:
    """NFKC-normalize ``raw``; map each output char to ``base`` + its source index.

    Returns ``None`` for the map when the length is unchanged (the common case:
    full-width letters, compatibility ideographs), so callers can use identity.
    """
    normalized = unicodedata.normalize("NFKC", raw)
    if len(normalized) == len(raw):
        return normalized, None
    pieces: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(raw):
        folded = unicodedata.normalize("NFKC", ch)
        pieces.append(folded)
        offsets.extend([base + i] * len(folded))
    return "".join(pieces), tuple(offsets)


def span_in_original(run: Run, start: int, end: int) -> tuple[int, int]:
    """Map a ``[start, end)`` range of ``run.text`` back to the original text."""
    if run.offsets is None:
        return run.start + start, run.start + end
    first = run.offsets[start]
    last = run.offsets[end - 1] + 1
    return first, last
