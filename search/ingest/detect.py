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
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if b"\x00" in data[:4096] and not _looks_utf16(data):
        raise IngestError(f"{name}: binary data, not text", param=name)
    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise IngestError(f"{name}: cannot detect a text encoding (not UTF-8, UTF-16, GB18030 or Big5)", param=name)
    try:
        return data.decode(best.encoding), best.encoding
    except (UnicodeDecodeError, LookupError) as exc:
        raise IngestError(f"{name}: undecodable bytes for detected encoding {best.encoding}", param=name) from exc


def _looks_utf16(data: bytes) -> bool:
    sample = data[:4096]
    zeros_even = sample[0::2].count(0)
    zeros_odd = sample[1::2].count(0)
    half = max(1, len(sample) // 2)
    return max(zeros_even, zeros_odd) / half > 0.3
