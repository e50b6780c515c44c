"""Decode bytes to text: BOMs and strict UTF-8 first, then charset-normalizer.

>>> decode("国家主席习近平在喀山同俄罗斯总统普京举行会晤。".encode("gbk"), "x.txt")
('国家主席习近平在喀山同俄罗斯总统普京举行会晤。', 'gb18030')
"""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes

from search.errors import IngestError

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode(data: bytes, name: str) -> tuple[str, str]:
    """Return ``(text, encoding)``; raise :class:`IngestError` naming ``name`` if undecodable."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise IngestError(f"{name}: starts with a {encoding} byte-order mark but is not valid {encoding} ({exc.reason} at byte {exc.start})", param=name) from exc
    utf16 = _utf16_guess(data)
    if utf16:
        try:
            return data.decode(utf16), utf16
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if b"\x00" in data[:4096]:
        raise IngestError(f"{name}: binary data, not text", param=name)
    best = from_bytes(data).best()
    candidates = ["gb18030", "big5"]
    if best is not None and best.encoding and best.encoding not in candidates:
        candidates.append(best.encoding)
    decoded = []
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        decoded.append((_plausibility(text), -len(decoded), text, encoding))
    if not decoded:
        raise IngestError(f"{name}: undecodable bytes: not UTF-8, UTF-16, GB18030, Big5 or another detectable encoding", param=name)
    score, _, text, encoding = max(decoded)
    if score < 0.5:
        raise IngestError(f"{name}: cannot detect a text encoding (best guess {encoding} gives unreadable text)", param=name)
    return text, encoding


def _plausibility(text: str) -> float:
    """Share of characters that real text is made of: common Han characters, ASCII, Latin letters.

    Text decoded with the wrong CJK codec is full of rare characters; the
    common set is GB2312 level 1 (the 3,755 most frequent characters), checked
    after converting to simplified so Big5 text scores like GBK text.
    """
    if not text:
        return 0.0
    sample = _to_simplified_for_check(text[:4000])
    good = 0
    for ch in sample:
        if ch.isascii() or ch in _COMMON_PUNCT or "\u00c0" <= ch <= "\u024f":
            good += 1
        elif "\u4e00" <= ch <= "\u9fff":
            try:
                lead = ch.encode("gb2312")[0]
            except UnicodeEncodeError:
                continue
            if 0xB0 <= lead <= 0xD7:
                good += 1
    return good / len(sample)


_COMMON_PUNCT = set("，。、；：？！“”‘’（）《》【】—…·「」『』　\u00a0")


def _to_simplified_for_check(text: str) -> str:
    from search.analysis.convert import to_simplified

    return to_simplified(text)


def _utf16_guess(data: bytes) -> str | None:
    """The byte order of BOM-less UTF-16, or ``None`` if ``data`` does not look like it.

    Latin text in UTF-16 has zero bytes on one side; Han text has none, so
    both byte orders are decoded and kept only if one reads as plausible text.
    """
    sample = data[:4096]
    if len(data) % 2 or len(sample) < 2:
        return None
    half = len(sample) // 2
    zeros_even = sample[0::2].count(0)
    zeros_odd = sample[1::2].count(0)
    if max(zeros_even, zeros_odd) / half > 0.3:
        return "utf-16-le" if zeros_odd >= zeros_even else "utf-16-be"
    best = None
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        han = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
        score = _plausibility(text)
        if han / max(1, len(text)) > 0.5 and score > 0.8 and (best is None or score > best[0]):
            best = (score, encoding)
    return best[1] if best else None
