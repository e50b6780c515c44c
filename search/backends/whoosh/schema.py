"""The Whoosh schema: per-language text fields, stored originals, metadata.

Every article has the same fields; a monolingual article leaves the other
language's fields empty. Titles get a BM25F field boost.
"""

from __future__ import annotations

import numpy as np
from whoosh.columns import VarBytesColumn
from whoosh.fields import COLUMN, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.formats import Positions

from search.backends.whoosh.analyzer import BigramAnalyzer, BilingualAnalyzer
from search.query.plan import CAPTION_BOOST, TITLE_BOOST

#: Bump when fields change (stored in the index beside the analyzer version).
SCHEMA_VERSION = 8  # 7: Chinese bigram fields (title_bigrams, body_bigrams, captions_bigrams); 8: VarintPositions


def _varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


_TABLE_SIZE = 1 << 14  # the one- and two-byte varints
_VARINTS = [_varint(n) for n in range(_TABLE_SIZE)]


class VarintPositions(Positions):
    """Whoosh's ``Positions`` format with each posting's positions stored as varints.

    ``Positions.encode`` stores a 4-byte count then ``pickle.dumps(deltas, 2)``: 13 bytes
    for one position. Here the deltas (the first position, then the gap to each next one)
    are unsigned LEB128 varints, 7 bits a byte, the high bit set on every byte but a
    number's last: one position usually takes one byte, and the count is the number of
    bytes below 0x80. Whoosh's matchers, phrase queries and merges read positions through
    these ``decode_*`` methods; the ranking decodes whole blocks at once with numpy
    (:func:`search.backends.whoosh.ranking._varint_lists`).
    """

    def encode(self, poslist) -> bytes:
        # Most words occur once, most gaps are below 2**14: their varints come from a table.
        if len(poslist) == 1:
            if poslist[0] < _TABLE_SIZE:
                return _VARINTS[poslist[0]]
            deltas = poslist
        else:
            deltas = [pos - before for before, pos in zip((0, *poslist), poslist)]
            if max(deltas, default=0) < _TABLE_SIZE:
                return b"".join(map(_VARINTS.__getitem__, deltas))
        return b"".join(map(_varint, deltas))

    def decode_positions(self, valuestring: bytes) -> list[int]:
        positions = []
        position = shift = delta = 0
        for byte in valuestring:
            delta |= (byte & 0x7F) << shift
            if byte & 0x80:
                shift += 7
            else:
                position += delta
                positions.append(position)
                shift = delta = 0
        return positions

    def decode_frequency(self, valuestring: bytes) -> int:
        return sum(1 for byte in valuestring if byte < 0x80)

    def decode_weight(self, valuestring: bytes) -> float:
        return self.decode_frequency(valuestring) * self.field_boost


class BilingualText(TEXT):
    """A ``TEXT`` field analyzed by :class:`BilingualAnalyzer`, indexed without Whoosh tokens.

    Whoosh's ``TEXT.index`` runs the analyzer through reusable ``Token`` objects and
    its posting format's ``word_values``; this builds the same ``(term, frequency,
    weight, positions)`` postings straight from the analysis pipeline, which is where
    most of the per-word indexing time went. Queries still use the analyzer. Positions
    are stored as :class:`VarintPositions`.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if type(self.format) is Positions:
            self.format = VarintPositions(field_boost=self.format.field_boost)

    def index(self, value, **kwargs):
        positions = self.term_positions(value)
        if positions is None:
            yield from super().index(value, **kwargs)
            return
        boost = self.format.field_boost
        encode = self.format.encode
        for term, found in positions.items():
            yield term.encode("utf-8"), len(found), float(len(found)) * boost, encode(found)

    def term_positions(self, value) -> dict[str, list[int]] | None:
        """What :meth:`index` indexes of ``value``: each term's positions (the segment writer
        pools them itself); ``None`` when :meth:`index` must be asked."""
        if not isinstance(value, str) or not isinstance(self.analyzer, BilingualAnalyzer):
            return None
        return self.analyzer.positions(value)

    def term_pairs(self, value) -> tuple[np.ndarray, np.ndarray] | None:
        """What :meth:`index` indexes of ``value`` in a field of character pairs, as the
        pairs' numbers and positions in text order (:func:`search.analysis.pipeline.document_pairs`,
        which the segment writer pools and groups itself); ``None`` for another field or value."""
        if not isinstance(value, str) or not isinstance(self.analyzer, BigramAnalyzer):
            return None
        return self.analyzer.pair_codes(value)


def build_schema() -> Schema:
    analyzer = BilingualAnalyzer()

    def text(boost: float = 1.0) -> TEXT:
        return BilingualText(analyzer=analyzer, phrase=True, stored=True, field_boost=boost)

    def pairs(boost: float = 1.0) -> TEXT:
        # Not stored: the text is the Chinese field's.
        return BilingualText(analyzer=BigramAnalyzer(), phrase=True, stored=False, field_boost=boost)

    return Schema(
        id=ID(stored=True, unique=True, sortable=True),
        digest=COLUMN(VarBytesColumn()),  # content hash: an unchanged article is skipped
        path=ID(),  # the source file, for --prune (not shown: stored would cost 1.5 MB per 40k articles)
        title_zh=text(TITLE_BOOST),
        title_en=text(TITLE_BOOST),
        body_zh=text(),
        body_en=text(),
        captions_zh=text(CAPTION_BOOST),
        captions_en=text(CAPTION_BOOST),
        title_bigrams=pairs(TITLE_BOOST),
        body_bigrams=pairs(),
        captions_bigrams=pairs(CAPTION_BOOST),
        day=NUMERIC(int, bits=32, signed=False, sortable=True),  # YYYYMMDD in the article's own time zone
        date_iso=STORED(),
        speakers=KEYWORD(commas=True, lowercase=False, scorable=False),  # canonical speaker ids
        speakers_column=COLUMN(VarBytesColumn()),  # [{"id", "names": {"zh", "en"}, "quotes"}] as JSON
        meta=STORED(),  # editor, reporters, dateline place, encoding...
        source=ID(stored=True),
        url=STORED(),
        dateline=STORED(),
        lang=KEYWORD(stored=True, lowercase=True),
        # Near-duplicates (search/dedup.py): the group's id, and the MinHash signatures it was found with.
        dup_group=ID(stored=True, sortable=True),
        dup_sig=COLUMN(VarBytesColumn()),
    )
