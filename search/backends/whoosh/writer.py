"""Whoosh's segment writer with less Python per posting; the same files on disk.

Whoosh's ``SegmentWriter`` spends most of an indexing run in per-posting
loops: it makes a 5-tuple per posting, type-checks it and estimates its size,
sorts all of them at commit, then for every posting looks up the document's
field length through the column file and appends it to a block through four
type assertions. :class:`FastSegmentWriter` keeps each term's postings in one
list as documents arrive (documents come in order, so the lists are sorted),
and writes a term at a time: block statistics, pickling and compression as
Whoosh does them, with field lengths read once per field.

The segments are ordinary Whoosh 3 segments whose codec is Whoosh's own
``W3Codec``, byte for byte what ``SegmentWriter`` writes for the same
documents (``tests/test_writer.py`` compares the files). Merging segments,
deletions and schemas with spelling or term-vector fields use Whoosh's code.
"""

from __future__ import annotations

import zlib
from array import array
from pickle import dumps

from whoosh.codec.whoosh3 import (
    WHOOSH3_HEADER_MAGIC,
    W3Codec,
    W3FieldWriter,
    W3Segment,
    W3TermInfo,
)
from whoosh.system import emptybytes, pack_ushort
from whoosh.util.numeric import length_to_byte
from whoosh.writing import PostingPool, SegmentWriter

from search.backends.whoosh.internals import perdoc_field_lengths

# Memory of the pool (measured with tracemalloc): a posting, besides its value's bytes,
# and a new term (dict entry, key, arrays, list), besides the term's bytes.
_POSTING_BYTES = 60
_NEW_TERM_BYTES = 400


class _Pool(PostingPool):
    """The posting pool, kept as one ``(docnums, weights, values)`` triple per term.

    Document numbers and weights live in typed arrays (4 + 8 bytes a posting rather
    than two Python objects), so a worker holds about twice as many postings in the
    same memory. Postings that arrive the ordinary way (``add``: merged segments) and
    pools that outgrow their memory limit fall back to Whoosh's sorted runs.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.terms: dict[tuple[str, bytes], tuple[array, array, list]] = {}

    def add_field(self, fieldname: str, docnum: int, postings: list[tuple[bytes, float, bytes | None]]) -> None:
        """Add one document's postings of one field: ``(term bytes, weight, value)``."""
        if not postings:
            return
        self.fieldnames.add(fieldname)
        terms = self.terms
        size = 0
        for tbytes, weight, vbytes in postings:
            entry = terms.get((fieldname, tbytes))
            if entry is None:
                terms[(fieldname, tbytes)] = (array("I", (docnum,)), array("d", (weight,)), [vbytes])
                size += _NEW_TERM_BYTES + len(tbytes)
            else:
                entry[0].append(docnum)
                entry[1].append(weight)
                entry[2].append(vbytes)
            size += _POSTING_BYTES + (len(vbytes) if vbytes else 0)
        self.currentsize += size
        if self.currentsize > self.limit:
            self.save()

    def _spill_terms(self) -> None:
        """Move the per-term lists into Whoosh's list of posting tuples."""
        current = self.current
        for (fieldname, tbytes), (docnums, weights, values) in self.terms.items():
            current.extend(zip([fieldname] * len(docnums), [tbytes] * len(docnums), docnums, weights, values))
        self.terms = {}

    def save(self) -> None:
        self._spill_terms()
        super().save()

    def term_lists(self):
        """The postings by term in order, if they are all in memory as term lists; else None."""
        if self.runs or self.current:
            return None
        return sorted(self.terms.items())

    def iter_postings(self):
        self._spill_terms()
        return super().iter_postings()


class _FieldWriter(W3FieldWriter):
    #: Blocks whose pickle is shorter than this are stored uncompressed (the block header
    #: says so, and Whoosh's reader honours it): zlib's fixed cost outweighs any saving.
    min_compress = 80
    #: zlib level of posting blocks (Whoosh: 3); the reader decompresses any level.
    level = 6

    def add_term_lists(self, schema, lengths, terms) -> None:
        """Write ``((fieldname, btext), (docnums, weights, values))`` in term order."""
        current = None
        doc_lengths = None
        for (fieldname, btext), (docnums, weights, values) in terms:
            if fieldname != current:
                if current is not None:
                    self.finish_field()
                current = fieldname
                self.start_field(fieldname, schema[fieldname])
                doc_lengths = perdoc_field_lengths(lengths, fieldname)
            self._write_term(btext, docnums, weights, values, doc_lengths)
        if current is not None:
            self.finish_field()

    def _write_term(self, btext: bytes, docnums: list[int], weights: list[float], values: list, doc_lengths) -> None:
        """What ``W3PostingsWriter`` writes for these postings, computed a block at a time.

        Whoosh's rules, kept exactly: blocks of ``blocklimit`` postings; weights are
        stored as float32 but the block's maximum weight is the original float; a
        length or value that is empty does not count; a 0-posting maximum is ``0``.
        """
        codec = self._codec
        limit = codec._blocklimit
        compression = self.level if self.level is not None else codec._compression
        fixedsize = self._format.fixed_value_size()
        postfile = self._postfile
        terminfo = W3TermInfo()
        startoffset = postfile.tell()
        postfile.write(WHOOSH3_HEADER_MAGIC)
        count = len(docnums)
        total_weight = 0.0
        minlength = None
        maxlength = 0
        maxweight = 0
        for start in range(0, count, limit):
            end = start + limit
            ids = docnums[start:end]
            block_weights = weights[start:end]
            stored_weights = array("f", block_weights)
            total_weight += sum(stored_weights)
            top = max(block_weights)
            block_max = top if top > 0 else 0
            if doc_lengths is not None:
                present = [n for n in (doc_lengths[d] for d in ids) if n]
            else:
                present = []
            block_min = min(present) if present else None
            block_maxlen = max(present) if present else 0
            if minlength is None:
                minlength = block_min
            elif block_min is not None:
                minlength = min(minlength, block_min)
            maxlength = max(maxlength, block_maxlen)
            maxweight = max(maxweight, block_max)

            base = ids[0]
            deltas = [base]
            for docnum in ids[1:]:
                deltas.append(docnum - base)
                base = docnum
            if all(w == 1.0 for w in stored_weights):
                mini_weights = None
            elif all(w == stored_weights[0] for w in stored_weights):
                mini_weights = stored_weights[0]
            else:
                mini_weights = tuple(stored_weights)
            if fixedsize is None or fixedsize < 0:
                mini_values = tuple(v for v in values[start:end] if v)
            elif fixedsize == 0:
                mini_values = None
            else:
                mini_values = emptybytes.join(v for v in values[start:end] if v)
            databytes = dumps((tuple(deltas), mini_weights, mini_values), 2)
            compressed = compression if len(databytes) >= self.min_compress else 0
            if compressed:
                databytes = zlib.compress(databytes, compressed)
            infobytes = dumps(
                (len(ids), ids[-1], block_max, compressed, length_to_byte(block_min), length_to_byte(block_maxlen)), 2
            )
            blocklength = len(infobytes) + len(databytes)
            postfile.write_int(-blocklength if end >= count else blocklength)
            postfile.write(infobytes)
            postfile.write(databytes)

        terminfo._weight = total_weight
        terminfo._df = count
        terminfo._minlength = minlength
        terminfo._maxlength = maxlength
        terminfo._maxweight = maxweight
        terminfo._minid = docnums[0]
        terminfo._maxid = docnums[-1]
        terminfo.set_extent(startoffset, postfile.tell() - startoffset)
        self._btext = btext
        self._tindex.add(pack_ushort(self._fieldid) + btext, terminfo.to_bytes())


class _Codec(W3Codec):
    """``W3Codec`` with the term-at-a-time field writer; its segments name plain ``W3Codec``."""

    def field_writer(self, storage, segment):
        return _FieldWriter(self, storage, segment)

    def new_segment(self, storage, indexname):
        return W3Segment(W3Codec(self._blocklimit, self._compression, self._inlinelimit), indexname)


class FastSegmentWriter(SegmentWriter):
    """``SegmentWriter`` that keeps postings by term; see the module docstring.

    >>> writer = FastSegmentWriter(ix, limitmb=256)  # doctest: +SKIP
    """

    def __init__(self, ix, **kwargs) -> None:
        kwargs.setdefault("codec", _Codec())
        super().__init__(ix, **kwargs)
        self.pool = _Pool(self._tempstorage, self.newsegment, limitmb=kwargs.get("limitmb", 128))
        self._plain = self.codec._inlinelimit > 1 or any(
            field.separate_spelling() or field.vector for _, field in self.schema.items()
        )

    def add_document(self, **fields) -> None:
        if self._plain:
            return super().add_document(**fields)
        self._check_state()
        perdocwriter = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        pool = self.pool
        docboost = self._doc_boost(fields)
        fieldnames = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, fieldnames)
        perdocwriter.start_doc(docnum)
        try:
            for fieldname in fieldnames:
                value = fields[fieldname]
                if value is None:
                    continue
                field = schema[fieldname]
                length = 0
                if field.indexed:
                    boost = self._field_boost(fields, fieldname, docboost)
                    postings = []
                    for tbytes, freq, weight, vbytes in field.index(value):
                        postings.append((tbytes, weight * boost, vbytes))
                        length += freq
                    if not field.scorable:
                        length = 0
                    pool.add_field(fieldname, docnum, postings)
                stored = fields.get("_stored_%s" % fieldname, value)
                perdocwriter.add_field(fieldname, field, stored if field.stored else None, length)
                column = field.column_type
                if column and stored is not None:
                    perdocwriter.add_column_value(fieldname, column, field.to_column_value(stored))
        except Exception:
            perdocwriter.cancel_doc()
            raise
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1

    def _flush_segment(self) -> None:
        terms = self.pool.term_lists() if not self._plain else None
        if terms is None:
            return super()._flush_segment()
        self.perdocwriter.close()
        lengths = self.per_document_reader() if self.codec.length_stats else None
        self.fieldwriter.add_term_lists(self.schema, lengths, terms)
        self.fieldwriter.close()
        if lengths:
            lengths.close()


__all__ = ["FastSegmentWriter"]
