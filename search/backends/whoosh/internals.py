"""Every use of Whoosh's private names, in one module.

Whoosh-Reloaded's public API reads postings one at a time and copies every file of a
compound segment into memory; the ranking reads whole posting blocks instead, the store
shares the mapped file, and the indexer's writer is Whoosh's multi-process writer made
crash-safe (:class:`ParallelWriter`, overriding some of its private methods) whose
processes write with :class:`FastSegmentWriter`, Whoosh's segment writer keeping postings
by term (a whole index run of 38,637 articles: 17 % less CPU, 37 % less peak memory).
Those need names Whoosh does not promise to keep. They are all here, each used directly
(never ``getattr(..., default)``: a renamed attribute must fail, not drift silently), and
``tests/test_whoosh_internals.py`` checks every one of :data:`REQUIRED` against a real
index, so upgrading Whoosh fails that test by name instead of changing scores.
"""

from __future__ import annotations

import functools
import gc
import io
import itertools
import multiprocessing.connection
import operator
import os
import pickle
import queue
from array import array
from hashlib import md5
from typing import Callable, Iterator, NamedTuple

import deflate
import numpy as np
from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    WHOOSH3_HEADER_MAGIC,
    W3Codec,
    W3FieldWriter,
    W3LeafMatcher,
    W3PerDocReader,
    W3Segment,
    W3TermInfo,
    _lenfield,
)
from whoosh.filedb.filetables import OrderedHashWriter, _lengths, _pointer, md5_hash
from whoosh.filedb.structfile import BufferFile, StructFile
from whoosh.matching import ListMatcher
from whoosh.scoring import BM25F
from whoosh.system import IS_LITTLE, emptybytes, pack_int, pack_long, pack_ushort
from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.reading import TermNotFound
from whoosh.util import random_name
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import PostingPool, SegmentWriter

from search.analysis.pipeline import pair_text
from search.backends.whoosh.schema import _TABLE_SIZE, _VARINTS, VarintPositions
from search.errors import WriterProcessError
from search.processes import worker_of

#: What this module touches, by where it lives: checked by tests/test_whoosh_internals.py.
REQUIRED = {
    "whoosh.codec.whoosh3": (
        "LENGTHS_COLUMN", "WHOOSH3_HEADER_MAGIC", "W3Codec", "W3FieldWriter", "W3LeafMatcher", "W3PerDocReader",
        "W3Segment", "W3TermInfo", "_lenfield",
    ),
    "whoosh.filedb.filetables": ("OrderedHashWriter", "_lengths", "_pointer", "md5_hash"),
    "term index writer (OrderedHashWriter)": (
        "dbfile", "hashfn", "lastkey", "index", "buckets", "directory", "add", "close", "_write_hashes",
    ),
    "whoosh.system": ("emptybytes", "pack_int", "pack_long", "pack_ushort"),
    "segment reader (SegmentReader)": ("_terms", "_perdoc"),
    "terms reader (W3TermsReader)": ("_codec", "_postfile", "term_info", "items"),
    "codec (W3Codec)": ("postings_reader", "_blocklimit", "_compression", "_inlinelimit", "length_stats"),
    "per-document reader (W3PerDocReader)": ("_cached_reader",),
    "block matcher (W3LeafMatcher)": ("_atend", "_maxid", "_data", "_read_data", "_next_block"),
    "inlined postings (ListMatcher)": ("_ids", "_values"),
    "BM25F": ("B", "K1", "_field_B"),
    "BufferFile.__init__ sets": ("_buf", "_name", "file", "onclose", "is_real", "is_closed"),
    "multi-process writer (MpWriter)": (
        "_new_task", "_enqueue", "_commit", "_merge_segments", "_finalize_segment", "_close_segment",
        "_commit_toc", "_finish", "_added", "docbuffer", "tasks", "jobqueue", "resultqueue", "subargs",
        "multisegment", "procs", "temp_storage", "storage", "indexname", "batchsize", "_grouping", "_added_sub",
    ),
    "writer process (SubWriterTask)": ("_process_file", "running", "jobqueue", "resultqueue", "kwargs", "storage", "indexname"),
    "segment writer (SegmentWriter)": (
        "_check_state", "_doc_boost", "_check_fields", "_field_boost", "_flush_segment", "_finalize_segment",
        "_tempstorage", "_added", "pool", "perdocwriter", "fieldwriter", "newsegment", "docnum", "codec", "schema",
        "per_document_reader", "cancel",
    ),
    "posting pool (PostingPool)": ("runs", "current", "currentsize", "limit", "fieldnames", "save", "iter_postings"),
    "field writer (W3FieldWriter)": (
        "_codec", "_format", "_postfile", "_tindex", "_fieldid", "_btext", "_create_file", "start_field", "finish_field",
        "close",
    ),
    "structured file (StructFile)": ("file", "_name", "onclose"),
    # The stored fields' column: its writer's compressor is libdeflate's (_Codec.per_document_writer).
    "per-document writer (W3PerDocWriter)": ("_colwriters",),
    "stored fields' writer (PickleColumn.Writer)": ("_child",),
    "compressing column writer (CompressedBytesColumn.Writer)": ("_compress", "_level"),
    "term info (W3TermInfo)": ("_struct",),
}

#: Whoosh methods replaced or copied here, or whose behaviour is relied on (the segment writer's
#: set-up and commit steps; the pool's runs; the postings writer whose files FastSegmentWriter
#: reproduces), by the SHA-256 (first 16 hex digits) of their source: a Whoosh release that
#: changes one fails the test, for a person to review.
REPLACED = {
    "whoosh.multiproc.MpWriter._commit": "2b4e30883be51fb7",
    "whoosh.multiproc.MpWriter._enqueue": "25e18a6beecaab43",
    "whoosh.multiproc.MpWriter.add_document": "a3681da51c1fc020",
    "whoosh.multiproc.MpWriter._new_task": "07d765c7cc495662",
    "whoosh.multiproc.MpWriter.cancel": "3799589d69bc54d9",
    "whoosh.multiproc.SubWriterTask.__init__": "115f33f78910af1f",
    "whoosh.multiproc.SubWriterTask.run": "901fe6b1f40cfaed",
    "whoosh.multiproc.SubWriterTask._process_file": "704ec29d80fe0753",
    "whoosh.filedb.structfile.BufferFile.__init__": "92f1c0a5b1a2fd70",
    "whoosh.writing.SegmentWriter.__init__": "6f5e4c4237ba887e",
    "whoosh.writing.SegmentWriter.add_document": "399433d1cb30d9d0",
    "whoosh.writing.SegmentWriter._flush_segment": "a4b79c8a3687febd",
    "whoosh.writing.SegmentWriter._finalize_segment": "6a50f86829f60280",
    "whoosh.writing.PostingPool.__init__": "2d59552e1ed466f1",
    "whoosh.writing.PostingPool.add": "6b73def050008daf",
    "whoosh.writing.PostingPool.save": "5c65fc6566aeff0d",
    "whoosh.writing.PostingPool.iter_postings": "78edf6b5c84a0acb",
    "whoosh.externalsort.SortingPool.save": "07b6aebd129b8f22",
    "whoosh.codec.base.FieldWriter.add_postings": "fea6bedbce63a134",
    "whoosh.codec.whoosh3.W3Codec.__init__": "c09a6a74aac96575",
    "whoosh.codec.whoosh3.W3Codec.field_writer": "8947bb1e1fd6f803",
    "whoosh.codec.whoosh3.W3Codec.new_segment": "081ee32bea746648",
    "whoosh.codec.whoosh3.W3FieldWriter.__init__": "385c65dcdaa448e9",
    "whoosh.codec.whoosh3.W3FieldWriter.start_field": "14b57944c4aeaee6",
    "whoosh.codec.whoosh3.W3FieldWriter.start_term": "ec3f34231ac58f19",
    "whoosh.codec.whoosh3.W3FieldWriter.finish_term": "ead26346d81433a0",
    "whoosh.codec.whoosh3.W3PostingsWriter.add_posting": "09bb36fe5125764d",
    "whoosh.codec.whoosh3.W3PostingsWriter.finish_postings": "d73a95bf811a6541",
    "whoosh.codec.whoosh3.W3PostingsWriter._write_block": "19e3c784208a0cdd",
    "whoosh.codec.whoosh3.W3PostingsWriter._mini_ids": "f2287d08ab760c13",
    "whoosh.codec.whoosh3.W3PostingsWriter._mini_weights": "9471308d1d7d273f",
    "whoosh.codec.whoosh3.W3PostingsWriter._mini_values": "2b6770f09266eedc",
    "whoosh.codec.whoosh3.W3TermInfo.add_block": "e483f804944ee312",
    "whoosh.codec.whoosh3.W3TermInfo.to_bytes": "182103aeda37ce64",
    "whoosh.filedb.filetables.OrderedHashWriter.add": "a6dc6e9ae8ad6e6d",
    "whoosh.filedb.filetables.HashWriter.add": "c156f8f2daba0f27",
    "whoosh.filedb.filetables.HashWriter._write_hashes": "3455643a570eaced",
    "whoosh.filedb.filetables.HashWriter.close": "c127f4cd0c406980",
    "whoosh.filedb.filetables.md5_hash": "c97187d79a7a6108",
    "whoosh.filedb.structfile.StructFile.__init__": "6778e439e9303076",
    "whoosh.filedb.structfile.StructFile.write_array": "8c1802867a015c3a",
    "whoosh.codec.whoosh3.W3FieldWriter._create_file": "029c4768ca4e37f4",
}

_LENGTH_OF_BYTE = [0] + [byte_to_length(b) for b in range(1, 256)]


# --- reading postings ----------------------------------------------------------------------------


def term_items(segment) -> Iterator[tuple[tuple[str, bytes], object]]:
    """``((fieldname, term bytes), term info)`` of every term of one segment."""
    return segment._terms.items()


def term_info(segment, fieldname: str, tbytes: bytes):
    """The term's info in one segment, or ``None``: one probe of the term table (``term in
    segment`` then a lookup is two)."""
    try:
        return segment._terms.term_info(fieldname, tbytes)
    except TermNotFound:
        return None


def postings_reader(segment, fieldname: str, tbytes: bytes, info, format_):
    """The raw posting matcher of a term in one segment (deleted documents included)."""
    terms = segment._terms
    return terms._codec.postings_reader(terms._postfile, info, format_, term=(fieldname, tbytes))


def inlined_postings(matcher: ListMatcher) -> tuple[list[int], list]:
    """Document numbers and values of a term stored inside the term index."""
    return matcher._ids, matcher._values


def blocks(matcher: W3LeafMatcher) -> Iterator[tuple[int, Callable[[], tuple]]]:
    """``(last document, read)`` per posting block; ``read()`` decodes the block into
    ``(document deltas, weights, values)``. Blocks not read are skipped undecoded."""
    while not matcher._atend:
        yield matcher._maxid, lambda: _block_data(matcher)
        matcher._next_block()


def _block_data(matcher: W3LeafMatcher) -> tuple:
    if matcher._data is None:
        matcher._read_data()
    return matcher._data


def field_lengths(segment, fieldname: str):
    """Every document's length of ``fieldname`` in one segment, quantized as Whoosh's scorer
    reads it (a list, or an object indexed by document), or ``None`` if it has no lengths."""
    return perdoc_field_lengths(segment._perdoc, fieldname)


def perdoc_field_lengths(perdoc, fieldname: str):
    """:func:`field_lengths` from a segment's per-document reader (``None``: no lengths)."""
    if perdoc is None:
        return None
    if not isinstance(perdoc, W3PerDocReader):
        return _Lengths(perdoc, fieldname)
    column = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if column is None:
        return None
    return [_LENGTH_OF_BYTE[b] for b in column]


class _Lengths:
    """Lengths from any per-document reader, looked up one at a time (Whoosh's own way)."""

    def __init__(self, reader, fieldname: str) -> None:
        self.reader, self.fieldname = reader, fieldname

    def __getitem__(self, docnum: int) -> int:
        return self.reader.doc_field_length(docnum, self.fieldname)


def bm25f_parameters(weighting: BM25F) -> tuple[float, dict[str, float], float]:
    """``(B, B per field, K1)`` of a BM25F weighting."""
    if not isinstance(weighting, BM25F):
        raise TypeError(f"the ranking reproduces BM25F only, not {type(weighting).__name__}")
    return weighting.B, weighting._field_B, weighting.K1


# --- sharing the mapped index file ---------------------------------------------------------------


class _ViewReader:
    """A read-only file over a memoryview that copies only what is read.

    Whoosh opens each file inside a compound segment as ``BufferFile(view)``, which
    wraps the view in ``BytesIO`` — a full copy. Every searcher (one per server
    thread, a new one after each commit) thus held its own copy of the postings,
    terms and stored fields: 1.5 GB of private memory for 8 threads on a 170 MB
    index. With this reader they share the mapped file.
    """

    def __init__(self, view) -> None:
        self._view = memoryview(view)
        self._pos = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._view) if size is None or size < 0 else min(len(self._view), self._pos + size)
        out = self._view[self._pos : end].tobytes()
        self._pos = max(self._pos, end)
        return out

    def peek(self, size: int = 0) -> bytes:
        # With peek, pickle.load (Whoosh's block headers) prefetches instead of calling
        # read() once per opcode; the unpickler asks for 64 KiB, a header is ~40 bytes.
        end = min(len(self._view), self._pos + min(max(size, 1), 256))
        return self._view[self._pos : end].tobytes()

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readline(self, size: int = -1) -> bytes:
        view = self._view
        end = len(view) if size is None or size < 0 else min(len(view), self._pos + size)
        chunk = view[self._pos : end].tobytes()
        cut = chunk.find(b"\n")
        if cut >= 0:
            chunk = chunk[: cut + 1]
        self._pos += len(chunk)
        return chunk

    def __iter__(self):
        while True:
            line = self.readline()
            if not line:
                return
            yield line

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: len(self._view)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self._view.release()


_STOCK_BUFFER_FILE_INIT = BufferFile.__init__


def _shared_buffer_file_init(self, buf, name=None, onclose=None) -> None:
    # Whoosh's own __init__ with BytesIO(buf) replaced by a view reader; the attributes it
    # sets are pinned by tests/test_whoosh_internals.py.
    self._buf = buf
    self._name = name
    self.file = _ViewReader(buf)
    self.onclose = onclose
    self.is_real = False
    self.is_closed = False


def share_mapped_files() -> None:
    """Make every file opened inside a compound segment read the mapped index in place
    instead of copying it. Called by :func:`search.backends.whoosh.store.open_index` before
    it opens an index; process-wide, and doing it again changes nothing."""
    BufferFile.__init__ = _shared_buffer_file_init


# --- Whoosh's segment writer, a term at a time -----------------------------------------------------
#
# Whoosh's SegmentWriter spends most of an indexing run in per-posting loops: it makes a
# 5-tuple per posting, type-checks it and estimates its size, sorts all of them at commit,
# then for every posting looks up the document's field length through the column file and
# appends it to a block through four type assertions. FastSegmentWriter keeps postings in
# typed arrays as documents arrive (documents come in order, so each term's are sorted),
# groups them by term once (the text fields': see _FlatField) and writes a term at a time: block statistics, pickling and compression as Whoosh does
# them, with field lengths read once per field. Its segments are ordinary Whoosh 3 segments
# naming Whoosh's own W3Codec, byte for byte what SegmentWriter writes when every block is
# compressed at Whoosh's level and pickled as Whoosh pickles, and nothing is inlined
# (tests/test_writer.py compares the files); by default they are a third of that size
# (smaller pickles, short lists inlined: see _FieldWriter), which Whoosh's readers read as
# they read their own. Merging segments, deletions, and schemas with spelling or
# term-vector fields go through Whoosh's code.

# Memory of the pool (measured with tracemalloc): a posting, besides its value's bytes,
# and a new term (dict entry, key, arrays, list), besides the term's bytes.
_POSTING_BYTES = 60
_NEW_TERM_BYTES = 400


class _Pool(PostingPool):
    """The posting pool, kept by term in memory and handed to the segment writer sorted.

    Postings that come one document field at a time (``add_field``) are kept as one
    ``(docnums, weights, values)`` triple per term, in typed arrays (4 + 8 bytes a posting
    rather than two Python objects). The positional text fields' postings (``add_positions``,
    nine in ten) are kept flat per field, in arrival order: a term number, a frequency and the
    positions of each posting, the document number and weight per document; they are grouped
    by term and their positions encoded once, at :meth:`term_lists`, with numpy, so that adding
    a document costs no Python work per posting (a dictionary probe through ``map``, in C). The
    character-pair fields' postings (``add_pairs``) come as numbers and are grouped by numpy
    alone, without that dictionary (:class:`_PairField`).
    Postings that arrive the ordinary way (``add``: merged segments) and pools that outgrow
    their memory limit fall back to Whoosh's sorted runs.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # By field, then by term: one dictionary probe a posting, and terms sorted a field at a time.
        self.terms: dict[str, dict[bytes, tuple[array, array, list]]] = {}
        self.flat: dict[str, _FlatField] = {}

    def add_field(self, fieldname: str, docnum: int, postings: list[tuple[bytes, float, bytes | None]]) -> None:
        """Add one document's postings of one field: ``(term bytes, weight, value)``."""
        if not postings:
            return
        terms = self._field_terms(fieldname)
        size = _POSTING_BYTES * len(postings)
        for tbytes, weight, vbytes in postings:
            entry = terms.get(tbytes)
            if entry is None:
                terms[tbytes] = (array("I", (docnum,)), array("d", (weight,)), [vbytes])
                size += _NEW_TERM_BYTES + len(tbytes)
            else:
                entry[0].append(docnum)
                entry[1].append(weight)
                entry[2].append(vbytes)
            if vbytes:
                size += len(vbytes)
        self._grew(size)

    def add_positions(self, fieldname: str, docnum: int, positions: dict[str, list[int]], weight: float) -> int:
        """:meth:`add_field` of a document's ``{term: positions}``: each posting weighs its number
        of positions times ``weight``, its value is the positions as :class:`VarintPositions`
        encodes them (encoded at :meth:`term_lists`, a chunk at a time). Returns the field's length."""
        if not positions:
            return 0
        flat = self.flat.get(fieldname)
        if flat is None:
            self.fieldnames.add(fieldname)
            flat = self.flat[fieldname] = _FlatField()
        before = len(flat.numbers)
        flat.terms.extend(map(flat.numbers.setdefault, positions, flat.counter))
        lists = positions.values()
        counts = array("I", map(len, lists))
        flat.counts.extend(counts)
        held = len(flat.positions)
        flat.positions.extend(itertools.chain.from_iterable(lists))
        flat.docs.append(docnum)
        flat.sizes.append(len(counts))
        flat.weights.append(weight)
        added = len(flat.positions) - held
        self._grew(_POSTING_BYTES * len(counts) + _NEW_TERM_BYTES * (len(flat.numbers) - before) + 4 * added)
        return added

    def add_pairs(self, fieldname: str, docnum: int, codes: np.ndarray, positions: np.ndarray, weight: float) -> int:
        """:meth:`add_positions` of a document's character pairs given as numbers and positions
        in text order (:class:`_PairField`). Returns the field's length."""
        if not len(codes):
            return 0
        field = self.flat.get(fieldname)
        if field is None:
            self.fieldnames.add(fieldname)
            field = self.flat[fieldname] = _PairField()
        field.add(docnum, codes, positions, weight)
        self._grew(12 * len(codes) + 256)  # 8 + 4 bytes a pair, two arrays a document
        return len(codes)

    def _field_terms(self, fieldname: str) -> dict[bytes, tuple[array, array, list]]:
        """The pooled terms of ``fieldname`` (made on its first posting)."""
        terms = self.terms.get(fieldname)
        if terms is None:
            self.fieldnames.add(fieldname)
            terms = self.terms[fieldname] = {}
        return terms

    def _grew(self, size: int) -> None:
        """Count ``size`` more bytes pooled; write a run to disk past the limit."""
        self.currentsize += size
        if self.currentsize > self.limit:
            self.save()

    def _spill_terms(self) -> None:
        """Move the pooled postings into Whoosh's list of posting tuples."""
        current = self.current
        for fieldname, terms in self.terms.items():
            for tbytes, (docnums, weights, values) in terms.items():
                current.extend(zip([fieldname] * len(docnums), [tbytes] * len(docnums), docnums, weights, values))
        for fieldname, flat in self.flat.items():
            for (_, tbytes), (docnums, weights, values) in flat.term_lists(fieldname):
                current.extend(zip([fieldname] * len(docnums), [tbytes] * len(docnums), docnums, weights, values))
        self.terms = {}
        self.flat = {}

    def save(self) -> None:
        self._spill_terms()
        super().save()

    def term_lists(self):
        """The postings by term in order, if they are all in memory as term lists (a positional
        field's as :class:`_Chunk` s); else None."""
        if self.runs or self.current:
            return None
        if set(self.terms) & set(self.flat):
            # A field pooled both ways (a positional field given a value it cannot analyze
            # itself): through Whoosh's sorted list, which merges them.
            self._spill_terms()
            return None
        return self._term_lists()

    def _term_lists(self):
        for fieldname in sorted({*self.terms, *self.flat}):
            if fieldname in self.flat:
                yield from self.flat.pop(fieldname).chunks(fieldname)
            else:
                yield from (((fieldname, tbytes), entry) for tbytes, entry in sorted(self.terms.pop(fieldname).items()))

    def iter_postings(self):
        self._spill_terms()
        return super().iter_postings()


class _FlatField:
    """One field's positional postings in arrival order (:meth:`_Pool.add_positions`)."""

    def __init__(self) -> None:
        # Each term's number: the posting count when it first came (a counter that moves on
        # every posting: dict.setdefault through map() gives an old term its number and a
        # new one the next count, without a Python loop).
        self.numbers: dict[str, int] = {}
        self.counter = itertools.count()
        self.terms = array("i")  # per posting: its term's number
        self.counts = array("I")  # per posting: how many positions
        self.positions = array("I")  # every posting's positions, one posting after the other
        self.docs = array("I")  # per document: its number,
        self.sizes = array("I")  # its postings,
        self.weights = array("d")  # the weight of one position

    CHUNK = 1 << 16  # postings handed over at a time

    def chunks(self, fieldname: str) -> Iterator["_Chunk"]:
        """The postings in term order, each term's in document order (the order they came in),
        about :data:`CHUNK` postings at a time (a term's list is never split)."""
        if not self.terms:
            return
        # Code point order is UTF-8 byte order: the order of the terms' bytes in the segment.
        words = sorted(self.numbers)
        rank_of = np.empty(next(self.counter), dtype=np.int32)
        rank_of[np.fromiter(map(self.numbers.__getitem__, words), dtype=np.int64, count=len(words))] = np.arange(len(words))
        ranks = rank_of[np.frombuffer(self.terms, dtype=np.int32)]
        del rank_of
        self.numbers, self.terms = {}, array("i")
        order = np.argsort(ranks, kind="stable")  # stable: by document within a term
        ends = np.cumsum(np.bincount(ranks, minlength=len(words)))
        del ranks
        sizes = np.frombuffer(self.sizes, dtype=np.uint32)
        docnums = np.repeat(np.frombuffer(self.docs, dtype=np.uint32), sizes)
        counts = np.frombuffer(self.counts, dtype=np.uint32)
        # count * weight, as Python multiplies them (both float64).
        weights = counts * np.repeat(np.frombuffer(self.weights, dtype=np.float64), sizes)
        counts = counts.astype(np.int64)
        offsets = np.cumsum(counts) - counts  # where each posting's positions start
        positions = np.frombuffer(self.positions, dtype=np.uint32)
        for term, last, first, stop in _chunk_bounds(ends, self.CHUNK):
            part = order[first:stop]
            yield _Chunk(
                fieldname, [word.encode("utf-8") for word in words[term:last]], ends[term:last] - first,
                docnums[part], weights[part], _varint_values(positions, offsets[part], counts[part]),
            )

    def term_lists(self, fieldname: str):
        """``((fieldname, term bytes), (docnums, weights, values))`` of :meth:`chunks`, a term at
        a time, as lists (what Whoosh's pool takes when it spills to disk)."""
        for chunk in self.chunks(fieldname):
            yield from _term_lists(chunk)



class _PairField(_FlatField):
    """A field of character pairs (:meth:`_Pool.add_pairs`): each document's pairs as numbers
    (:func:`search.analysis.pipeline.pair_code`) with their positions, in text order, grouped
    by pair and then by document at :meth:`chunks`: no dictionary of the field's pairs, which
    cost a CPU cache miss per posting (0.3-0.5 µs) while adding documents."""

    def __init__(self) -> None:
        self.codes: list[np.ndarray] = []  # per document: its pairs' numbers (int64),
        self.at: list[np.ndarray] = []  # their positions (uint32)
        self.docs = array("I")  # per document: its number,
        self.sizes = array("I")  # its pairs,
        self.weights = array("d")  # the weight of one position

    def add(self, docnum: int, codes: np.ndarray, positions: np.ndarray, weight: float) -> None:
        self.codes.append(codes)
        self.at.append(positions.astype(np.uint32))
        self.docs.append(docnum)
        self.sizes.append(len(codes))
        self.weights.append(weight)

    def chunks(self, fieldname: str) -> Iterator["_Chunk"]:
        """:meth:`_FlatField.chunks`: the postings in term order (a pair's code order is its UTF-8
        byte order), each term's in document order, about :data:`CHUNK` postings at a time."""
        if not self.codes:
            return
        # Sorted one array at a time, each unsorted one freed at once: the writer's peak memory.
        codes = np.concatenate(self.codes)
        self.codes = []
        order = np.argsort(codes, kind="stable")  # stable: by document, then position, within a pair
        codes = codes[order]
        documents = np.frombuffer(self.docs, dtype=np.uint32)
        docs = np.repeat(documents, np.frombuffer(self.sizes, dtype=np.uint32))[order]
        positions = np.concatenate(self.at)
        self.at = []
        positions = positions[order]
        del order
        count = len(codes)
        first = np.empty(count, dtype=bool)  # each posting's first occurrence
        first[0] = True
        np.not_equal(codes[1:], codes[:-1], out=first[1:])
        first[1:] |= docs[1:] != docs[:-1]
        starts = np.flatnonzero(first)  # where each posting's positions start
        del first
        counts = np.diff(np.append(starts, count))
        posted = codes[starts]
        del codes
        new_term = np.empty(len(starts), dtype=bool)
        new_term[0] = True
        np.not_equal(posted[1:], posted[:-1], out=new_term[1:])
        term_starts = np.flatnonzero(new_term)
        ends = np.append(term_starts[1:], len(starts))  # where each term's postings end
        words = posted[term_starts].tolist()
        docnums = docs[starts]
        del docs
        # A document's weight of one position, by document number (they increase).
        unit = np.frombuffer(self.weights, dtype=np.float64)[np.searchsorted(documents, docnums)]
        # count * weight, as Python multiplies them (both float64).
        weights = counts.astype(np.float64) * unit
        for term, last, first, stop in _chunk_bounds(ends, self.CHUNK):
            yield _Chunk(
                fieldname, [pair_text(code).encode("utf-8") for code in words[term:last]], ends[term:last] - first,
                docnums[first:stop], weights[first:stop], _varint_values(positions, starts[first:stop], counts[first:stop]),
            )


def _chunk_bounds(ends: np.ndarray, size: int) -> Iterator[tuple[int, int, int, int]]:
    """``(first term, past the last term, first posting, past the last posting)`` of each chunk
    of about ``size`` postings, given where each term's postings end: a term is never split."""
    term = first = 0
    while term < len(ends):
        last = max(term + 1, int(np.searchsorted(ends, first + size, side="right")))
        stop = int(ends[last - 1])
        yield term, last, first, stop
        term, first = last, stop


def _term_lists(item):
    """The terms of an item :meth:`_Pool.term_lists` yields: a term's, or a chunk's, one at a time."""
    if not isinstance(item, _Chunk):
        return (item,)
    docnums, weights, values = item.docnums.tolist(), item.weights.tolist(), item.values
    found = []
    start = 0
    for word, end in zip(item.words, item.ends.tolist()):
        found.append(((item.fieldname, word), (docnums[start:end], weights[start:end], values[start:end])))
        start = end
    return found


class _Chunk(NamedTuple):
    """Consecutive terms of one field with their postings, term after term."""

    fieldname: str
    words: list[bytes]  # the terms, in order
    ends: np.ndarray  # where each term's postings end in the arrays below
    docnums: np.ndarray  # uint32
    weights: np.ndarray  # float64
    values: list[bytes]


#: What ``W3TermInfo._struct`` (``!BfIBBfII``) packs, as a numpy record: the term infos of a chunk's
#: inlined lists are packed at once.
_TERM_INFO = np.dtype([
    ("inlined", "u1"), ("weight", ">f4"), ("df", ">u4"), ("minlength", "u1"), ("maxlength", "u1"),
    ("maxweight", ">f4"), ("minid", ">u4"), ("maxid", ">u4"),
])
#: ``length_to_byte`` of an array: the first byte whose length is at least the given one.
_BYTE_LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.int64)


def _length_bytes(lengths: np.ndarray) -> np.ndarray:
    return np.minimum(np.searchsorted(_BYTE_LENGTHS, lengths, side="left"), 255).astype(np.uint8)


def _varint_values(positions: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> list[bytes]:
    """:meth:`VarintPositions.encode` of many postings at once: the ``counts[i]`` positions from
    ``positions[starts[i]]`` of each posting. A posting of one position below the table's size
    (most) gets the table's value, as ``encode`` gives it; the others are encoded together: the
    gaps between their positions (the first: itself) as LEB128 varints, 7 bits a byte, low bits
    first, the high bit on every byte but a number's last. Encoding each document's postings
    as they came took a seventh of a writer's time for adding documents."""
    if not len(counts):
        return []
    first_positions = positions[starts].astype(np.int64)
    values = list(map(_VARINTS.__getitem__, np.minimum(first_positions, _TABLE_SIZE - 1).tolist()))
    others = np.flatnonzero((counts > 1) | (first_positions >= _TABLE_SIZE))
    if not len(others):
        return values
    counts, starts = counts[others], starts[others]
    first = np.cumsum(counts) - counts  # each posting's first position among those gathered
    gathered = positions[np.repeat(starts - first, counts) + np.arange(int(counts.sum()))].astype(np.int64)
    deltas = gathered.copy()
    deltas[1:] -= gathered[:-1]
    deltas[first] = gathered[first]
    sizes = np.ones(len(deltas), dtype=np.int64)
    for bits in (7, 14, 21, 28):
        sizes += deltas >= (1 << bits)
    at = np.cumsum(sizes) - sizes  # each number's first byte
    out = np.empty(int(sizes.sum()), dtype=np.uint8)
    for k in range(int(sizes.max())):
        wide = sizes > k
        out[at[wide] + k] = ((deltas[wide] >> (7 * k)) & 0x7F) | ((sizes[wide] > k + 1) << 7)
    data = out.tobytes()
    bounds = at[first].tolist()
    bounds.append(len(data))
    for i, a, b in zip(others.tolist(), bounds[:-1], bounds[1:]):
        values[i] = data[a:b]
    return values


class _CountingFile(StructFile):
    """The postings file, knowing its position without asking the system: ``tell`` on a
    buffered file is a system call, twice per term written in blocks (an eighth of the samples
    of writing a segment, in a sampled profile). Every write goes through :meth:`write`."""

    def __init__(self, made: StructFile) -> None:
        super().__init__(made.file, made._name, made.onclose)
        self._at = made.file.tell()

    def write(self, data) -> int:
        written = self.file.write(data)
        self._at += written
        return written

    def write_array(self, arry) -> None:
        # StructFile writes an array straight to the file object: through write() here.
        arry = array(arry.typecode, arry)
        if IS_LITTLE:
            arry.byteswap()
        self.write(arry.tobytes())

    def tell(self) -> int:
        return self._at

    def seek(self, *args) -> int:
        self._at = self.file.seek(*args)
        return self._at


class _FieldWriter(W3FieldWriter):
    #: Blocks whose pickle is shorter than this are stored uncompressed (the block header
    #: says so, and Whoosh's reader honours it): zlib's fixed cost outweighs any saving.
    min_compress = 80
    #: zlib level of posting blocks (Whoosh: 3); the reader decompresses any level.
    level = 6
    #: Posting lists shorter than this are stored inside the term index instead of the
    #: postings file, as ``W3Codec(inlinelimit=...)`` would store them (its reader reads
    #: them; its writer cannot write them: ``W3PostingsWriter.finish_postings`` calls a
    #: method ``W3TermInfo`` does not have). Most terms occur in one or two documents,
    #: and a block costs about 60 bytes besides its postings. 1: nothing inlined (Whoosh).
    inline_limit = 8
    #: How blocks and inlined postings are pickled (Whoosh: protocol 2, memoized; its reader
    #: unpickles any protocol). Protocol 2 writes each ``bytes`` value as a call of
    #: ``_codecs.encode`` on a latin-1 string, about 20 bytes besides the value; protocol 3
    #: writes the bytes. Without the memo (``Pickler.fast``) no PUT follows each tuple and
    #: value: nothing in a block is shared, so nothing refers back to them.
    protocol = 3
    memo = False

    def _pickle(self, obj) -> bytes:
        if self.memo:
            return pickle.dumps(obj, self.protocol)
        if self._pickler is None or self._pickler[0] != self.protocol:
            # One pickler for every block: without the memo, it keeps nothing from one to the next.
            out = io.BytesIO()
            pickler = pickle.Pickler(out, self.protocol)
            pickler.fast = True
            self._pickler = (self.protocol, pickler, out)
        _, pickler, out = self._pickler
        out.seek(0)
        out.truncate()
        pickler.dump(obj)
        return out.getvalue()

    _pickler = None  # (protocol, pickler, its output)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Whoosh made it an OrderedHashWriter; it is one, writing its tables faster (_TermIndex).
        self._tindex.__class__ = _TermIndex

    def _create_file(self, ext: str) -> StructFile:
        made = super()._create_file(ext)
        return _CountingFile(made) if ext == W3Codec.POSTS_EXT else made

    def add_term_lists(self, schema, lengths, terms) -> None:
        """Write ``((fieldname, btext), (docnums, weights, values))`` in term order, or
        :class:`_Chunk` s of such terms."""
        current = None
        doc_lengths = None
        entries: list[tuple[bytes, bytes]] = []  # term index entries not yet written
        for item in terms:
            fieldname = item.fieldname if isinstance(item, _Chunk) else item[0][0]
            if fieldname != current:
                if current is not None:
                    self.finish_field()
                current = fieldname
                self.start_field(fieldname, schema[fieldname])
                doc_lengths = perdoc_field_lengths(lengths, fieldname)
                length_array = np.asarray(doc_lengths, dtype=np.int64) if isinstance(doc_lengths, list) else None
                prefix = pack_ushort(self._fieldid)
            if isinstance(item, _Chunk) and (doc_lengths is None or length_array is not None):
                self._add_chunk(item, doc_lengths, length_array, prefix, entries)
            else:
                for (_, btext), (docnums, weights, values) in _term_lists(item):
                    if len(docnums) < self.inline_limit and len(docnums) <= self._codec._blocklimit:
                        info = self._inline_info(docnums, weights, values, doc_lengths)
                    else:
                        info = self._write_blocks(docnums, weights, values, doc_lengths)
                    self._btext = btext
                    entries.append((prefix + btext, info))
            if len(entries) >= 4096:
                _add_ordered(self._tindex, entries)
                entries.clear()
        _add_ordered(self._tindex, entries)
        if current is not None:
            self.finish_field()

    def _add_chunk(self, chunk: "_Chunk", doc_lengths, length_array: np.ndarray | None, prefix: bytes, entries: list[tuple[bytes, bytes]]) -> None:
        """:meth:`add_term_lists` of a chunk's terms. The statistics of the lists stored inline
        (most terms: one or two documents) are computed for the whole chunk with numpy, as
        :meth:`_inline_info` computes them for one list; a list of one block goes to
        :meth:`_write_block` with its statistics, a longer one to :meth:`_write_blocks`."""
        ends = chunk.ends
        starts = np.empty_like(ends)
        starts[0] = 0
        starts[1:] = ends[:-1]
        counts = ends - starts
        inline = counts < min(self.inline_limit, self._codec._blocklimit + 1)
        docnums = chunk.docnums.astype(np.int64)
        weights = chunk.weights
        stored = weights.astype(np.float32)
        infos = np.zeros(len(ends), dtype=_TERM_INFO)
        infos["inlined"] = 1
        # sum() of the float32 weights as Python adds them: a list this short is summed in order.
        infos["weight"] = np.add.reduceat(stored.astype(np.float64), starts)
        infos["df"] = counts
        top = np.maximum.reduceat(weights, starts)
        infos["maxweight"] = np.where(top > 0, top, 0)
        infos["minid"] = docnums[starts]
        infos["maxid"] = docnums[ends - 1]
        if length_array is not None:
            found = length_array[docnums]
            # The lengths that are not 0 ("present"): their minimum (none: 0) and maximum.
            least = np.minimum.reduceat(np.where(found > 0, found, np.iinfo(np.int64).max), starts)
            infos["minlength"] = np.where(least < np.iinfo(np.int64).max, _length_bytes(least), 0)
            infos["maxlength"] = _length_bytes(np.maximum.reduceat(found, starts))
        ones = np.logical_and.reduceat(stored == 1.0, starts).tolist()
        # A list of one block (up to blocklimit postings) is written here from the chunk's
        # statistics (:meth:`_write_block`) when they are the ones Whoosh computes: the weights'
        # sum above (numpy adds pairwise) is Python's sum in order if every partial sum is exact,
        # so if all weights are multiples of the smallest one's float32 step and their total is
        # under 2**53 such steps. With the schema's boosts (1, 2.5, 0.5) and any counts, it is.
        magnitudes = np.abs(stored[stored != 0]).astype(np.float64)
        exact = not len(magnitudes) or float(magnitudes.sum()) < 2.0**53 * float(np.spacing(np.float32(magnitudes.min())))
        one_block = (~inline & (counts <= self._codec._blocklimit)).tolist() if exact else [False] * len(ends)
        infos["inlined"][~inline] = 0
        packed = infos.tobytes()
        size = _TERM_INFO.itemsize
        docs, stored_weights, values = docnums.tolist(), stored.tolist(), chunk.values
        deltas = docnums.copy()  # each posting's gap from the one before, a term's first its document
        deltas[1:] -= docnums[:-1]
        deltas[starts] = docnums[starts]
        gaps, tops = deltas.tolist(), top.tolist()
        minlengths, maxlengths = infos["minlength"].tolist(), infos["maxlength"].tolist()
        same = np.logical_and.reduceat(stored == np.repeat(stored[starts], counts), starts).tolist()
        pickle_ = self._pickle
        start = 0
        for i, (word, end, short) in enumerate(zip(chunk.words, ends.tolist(), inline.tolist())):
            if short:
                inlined = _inlined(docs[start:end], stored_weights[start:end], ones[i], values[start:end])
                info = packed[i * size : (i + 1) * size] + pickle_(inlined)
            elif one_block[i]:
                weight = None if ones[i] else stored_weights[start] if same[i] else tuple(stored_weights[start:end])
                info = self._write_block(
                    packed[i * size : (i + 1) * size], tuple(gaps[start:end]), weight, values[start:end], docs[end - 1], tops[i],
                    minlengths[i], maxlengths[i],
                )
            else:
                info = self._write_blocks(docs[start:end], weights[start:end].tolist(), values[start:end], doc_lengths)
            entries.append((prefix + word, info))
            start = end
        self._btext = chunk.words[-1]

    def _write_block(self, info: bytes, gaps: tuple, weights, values: list, last: int, top: float, minlength: int, maxlength: int) -> bytes:
        """:meth:`_write_blocks` of a list of one block, its statistics given: the term info's
        first part (``info``, packed), the gaps between its documents, the weights as the block
        stores them, the last document, the highest weight, the length bytes."""
        postfile = self._postfile
        startoffset = postfile.tell()
        postfile.write(WHOOSH3_HEADER_MAGIC)
        self._put_block(gaps, weights, values, last, top if top > 0 else 0, minlength, maxlength, last=True)
        return info + pack_long(startoffset) + pack_int(postfile.tell() - startoffset)

    def _put_block(self, gaps: tuple, weights, values: list, last_id: int, top, minlength: int, maxlength: int, *, last: bool) -> None:
        """Write one block of postings as ``W3PostingsWriter`` does: its gaps, weights (as the
        block stores them) and values pickled, compressed when long enough, after its header
        (count, last document, highest weight, compression, length bytes); the term's ``last``
        block says so by a negative length."""
        fixedsize = self._format.fixed_value_size()
        if fixedsize is None or fixedsize < 0:
            mini_values = tuple(filter(None, values))
        elif fixedsize == 0:
            mini_values = None
        else:
            mini_values = emptybytes.join(filter(None, values))
        databytes = self._pickle((gaps, weights, mini_values))
        level = self.level if self.level is not None else self._codec._compression
        compressed = level if len(databytes) >= self.min_compress else 0
        if compressed:
            databytes = _compress(databytes, compressed)
        infobytes = self._pickle((len(gaps), last_id, top, compressed, minlength, maxlength))
        blocklength = len(infobytes) + len(databytes)
        postfile = self._postfile
        postfile.write_int(-blocklength if last else blocklength)
        postfile.write(infobytes)
        postfile.write(databytes)

    def _inline_info(self, docnums, weights, values: list, doc_lengths) -> bytes:
        """The term info of a posting list stored inside the term index (:meth:`_write_blocks`'
        statistics of its one block, then the postings)."""
        stored_weights = array("f", weights)
        top = max(weights)
        present = list(filter(None, map(doc_lengths.__getitem__, docnums))) if doc_lengths is not None else None
        inlined = _inlined(docnums, stored_weights, stored_weights.count(1.0) == len(stored_weights), values)
        return _term_info(
            True, sum(stored_weights), len(docnums), min(present) if present else None, max(present) if present else 0,
            top if top > 0 else 0, docnums[0], docnums[-1],
        ) + self._pickle(inlined)

    def _write_blocks(self, docnums, weights, values: list, doc_lengths) -> bytes:
        """What ``W3PostingsWriter`` writes for these postings, computed a block at a time;
        the term info.

        Whoosh's rules, kept exactly: blocks of ``blocklimit`` postings; weights are
        stored as float32 but the block's maximum weight is the original float; a
        length or value that is empty does not count; a 0-posting maximum is ``0``.
        A list shorter than the inline limit is one block's worth of term statistics
        and its ``(ids, weights, values)`` in the term info instead (:meth:`_inline_info`).
        """
        limit = self._codec._blocklimit
        postfile = self._postfile
        count = len(docnums)
        startoffset = postfile.tell()
        postfile.write(WHOOSH3_HEADER_MAGIC)
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
            present = list(filter(None, map(doc_lengths.__getitem__, ids))) if doc_lengths is not None else []
            block_min = min(present) if present else None
            block_maxlen = max(present) if present else 0
            if minlength is None:
                minlength = block_min
            elif block_min is not None:
                minlength = min(minlength, block_min)
            maxlength = max(maxlength, block_maxlen)
            maxweight = max(maxweight, block_max)

            deltas = (ids[0], *map(operator.sub, ids[1:], ids[:-1]))  # the first, then each gap
            if stored_weights.count(1.0) == len(stored_weights):
                mini_weights = None
            elif stored_weights.count(stored_weights[0]) == len(stored_weights):
                mini_weights = stored_weights[0]
            else:
                mini_weights = tuple(stored_weights)
            self._put_block(
                deltas, mini_weights, values[start:end], ids[-1], block_max, length_to_byte(block_min),
                length_to_byte(block_maxlen), last=end >= count,
            )
        return _term_info(False, total_weight, count, minlength, maxlength, maxweight, docnums[0], docnums[-1]) + (
            pack_long(startoffset) + pack_int(postfile.tell() - startoffset)
        )


def _inlined(docnums, stored_weights, all_one: bool, values: list) -> tuple:
    """The postings a term info stores inline: ``(ids, weights, values)``. No weights when all
    are 1.0 (ListMatcher's default), as a block stores them. One value per posting, b"" for a
    format without values (an ID field): Whoosh's ListMatcher reads no values as "" (a str),
    which its own merge refuses."""
    return (
        tuple(docnums),
        None if all_one else tuple(stored_weights),
        tuple(values) if all(values) else tuple(v or b"" for v in values),
    )


class _TermIndex(OrderedHashWriter):
    """The term index writer, writing its 256 hash tables a table at a time.

    ``HashWriter._write_hashes`` places each bucket's entries by linear probing in a list of
    tuples, then writes every slot with its own ``struct.pack`` and ``write``: two calls per
    term. Here the probing is the same, in the same order, over two lists of numbers, and
    each table is packed at once (closing the term index of 5,000 CCTV stories: 0.33 → 0.18 s
    of CPU); the file is byte for byte Whoosh's (tests/test_writer.py)."""

    def _write_hashes(self) -> None:
        dbfile = self.dbfile
        for entries in self.buckets:
            numslots = 2 * len(entries)
            self.directory.append((dbfile.tell(), numslots))
            hashes = [0] * numslots
            positions = [0] * numslots  # 0: an empty slot (no key starts at 0: the header is there)
            for hashval, position in entries:
                slot = (hashval >> 8) % numslots
                while positions[slot] or hashes[slot]:
                    slot = (slot + 1) % numslots
                hashes[slot] = hashval
                positions[slot] = position
            table = np.empty(numslots, dtype=_POINTER)
            table["hash"] = hashes
            table["position"] = positions
            dbfile.write(table.tobytes())


#: ``filetables._pointer`` (``!Iq``) as a numpy record, for a whole hash table at once.
_POINTER = np.dtype([("hash", ">u4"), ("position", ">i8")])
assert _POINTER.itemsize == _pointer.size


def _add_ordered(tindex: OrderedHashWriter, entries: list[tuple[bytes, bytes]]) -> None:
    """``tindex.add(key, value)`` of each entry, keys in order, with one write: what
    ``OrderedHashWriter.add`` and ``HashWriter.add`` do (the key's position, the lengths,
    key and value, the key's hash in its bucket), without three writes and a hex string
    per term."""
    if not entries:
        return
    if tindex.hashfn is not md5_hash:
        for key, value in entries:
            tindex.add(key, value)
        return
    dbfile = tindex.dbfile
    position = dbfile.tell()
    lastkey = tindex.lastkey
    index = tindex.index
    buckets = tindex.buckets
    pack = _lengths.pack
    parts = []
    for key, value in entries:
        if key <= lastkey:
            raise ValueError("Keys must increase: %r..%r" % (lastkey, key))
        index.append(position)
        parts.append(pack(len(key), len(value)))
        parts.append(key)
        parts.append(value)
        # md5_hash: the digest's last 32 bits, as int(hexdigest, 16) & 0xFFFFFFFF reads them.
        digest = int.from_bytes(_md5(key).digest()[12:], "big")
        buckets[digest & 255].append((digest, position))
        position += _lengths.size + len(key) + len(value)
        lastkey = key
    dbfile.write(b"".join(parts))
    tindex.lastkey = lastkey


try:
    # CPython's own MD5: for keys this short, 2.5 times as fast as OpenSSL's through hashlib
    # (0.54 against 1.34 µs a key: the context hashlib allocates costs more than the hashing).
    from _md5 import md5 as _md5
except ImportError:  # a Python built without it
    _md5 = functools.partial(md5, usedforsecurity=False)


def _term_info(inlined: bool, weight: float, df: int, minlength, maxlength: int, maxweight, minid: int, maxid: int) -> bytes:
    """The statistics ``W3TermInfo.to_bytes`` packs first (then the inlined postings pickled,
    or the extent of the posting blocks)."""
    return W3TermInfo._struct.pack(
        inlined, weight, df, 0 if minlength is None else length_to_byte(minlength), length_to_byte(maxlength), maxweight, minid, maxid,
    )


def _compress(data: bytes, level: int) -> bytes:
    """``zlib.compress`` by libdeflate: the same format, within 0.2 % of zlib's size at the same
    level, in two thirds of the time (the sample's 29,543 posting blocks, 17.7 MB: 621 → 422 ms
    at level 6). Whoosh's readers decompress it with ``zlib``."""
    return bytes(deflate.zlib_compress(data, level))  # libdeflate answers a bytearray


#: libdeflate's level for the stored fields (Whoosh: zlib at 3): the sample's 6,000 articles'
#: 8.4 MB went to 5.30 MB in 120 ms, against 5.34 MB in 209 ms.
STORED_LEVEL = 4


class _Codec(W3Codec):
    """``W3Codec`` with the term-at-a-time field writer; its segments name plain ``W3Codec``."""

    def field_writer(self, storage, segment):
        return _FieldWriter(self, storage, segment)

    def per_document_writer(self, storage, segment):
        writer = super().per_document_writer(storage, segment)
        # Each document's stored fields are pickled, then compressed by the column's writer.
        stored = writer._colwriters["_stored"]._child
        stored._compress, stored._level = _compress, STORED_LEVEL
        return writer

    def new_segment(self, storage, indexname):
        return W3Segment(W3Codec(self._blocklimit, self._compression, self._inlinelimit), indexname)


class FastSegmentWriter(SegmentWriter):
    """``SegmentWriter`` that keeps postings by term and writes a term at a time (see above).

    >>> writer = FastSegmentWriter(ix, limitmb=256, _lk=False)  # doctest: +SKIP
    """

    def __init__(self, ix, **kwargs) -> None:
        kwargs.setdefault("codec", _Codec())
        super().__init__(ix, **kwargs)
        self.pool = _Pool(self._tempstorage, self.newsegment, limitmb=kwargs.get("limitmb", 128))
        self._plain = self.codec._inlinelimit > 1 or any(
            field.separate_spelling() or field.vector for _, field in self.schema.items()
        )
        # Fields that hand over their terms' positions to pool (search.backends.whoosh.schema.BilingualText),
        # stored as VarintPositions (the pool encodes them so, a chunk at a time).
        self._positional = {
            name for name, field in self.schema.items()
            if callable(getattr(type(field), "term_positions", None)) and type(field.format) is VarintPositions
        }
        # Of those, the fields of character pairs (BilingualText.term_pairs answers for them).
        self._paired = {name for name in self._positional if callable(getattr(type(self.schema[name]), "term_pairs", None)) and self.schema[name].term_pairs("") is not None}

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
                    pairs = field.term_pairs(value) if fieldname in self._paired else None
                    positions = field.term_positions(value) if pairs is None and fieldname in self._positional else None
                    if pairs is not None:
                        length = pool.add_pairs(fieldname, docnum, pairs[0], pairs[1], field.format.field_boost * boost)
                    elif positions is not None:
                        # What field.index() yields, weighted as below.
                        length = pool.add_positions(fieldname, docnum, positions, field.format.field_boost * boost)
                    else:
                        postings = []
                        for tbytes, freq, weight, vbytes in field.index(value):
                            postings.append((tbytes, weight * boost, vbytes))
                            length += freq
                        pool.add_field(fieldname, docnum, postings)
                    if not field.scorable:
                        length = 0
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


# --- Whoosh's multi-process writer, made crash-safe ---------------------------------------------
#
# Whoosh forks its writer processes while the parent holds the write lock, so they
# inherit the lock's file descriptor: if the indexer is killed they linger, blocked
# on their job queue, and keep the index locked for ever. And when a writer process
# dies, Whoosh commits the batch without its documents. Here the processes drop the
# inherited descriptor, are killed by the kernel when the indexer dies (Linux), and a
# batch is committed only if every one of them finished.


class _WriterProcess(SubWriterTask):
    def __init__(self, *args, parent: int, lock_file: tuple[int, int, int] | None) -> None:
        super().__init__(*args)
        self.parent = parent
        self.lock_file = lock_file

    def run(self) -> None:
        _drop_inherited_lock(self.lock_file)
        worker_of(self.parent)
        # SubWriterTask.run with FastSegmentWriter instead of SegmentWriter; multisegment only.
        ix = self.storage.open_index(self.indexname)
        writer = self.writer = FastSegmentWriter(ix, _lk=False, **self.kwargs)
        while self.running:
            job = self.jobqueue.get()
            if job is None:
                break
            self._process_file(*job)
            # The postings pooled so far live until the segment is written: out of the garbage
            # collector's sight, its collections scan only what the next documents make (a
            # seventh of this process's time went to scanning the pool again and again).
            gc.freeze()
        if not self.running:
            writer.cancel()
            return
        fieldnames = writer.pool.fieldnames
        segment = writer._finalize_segment()
        self.resultqueue.put((None, fieldnames, segment), timeout=5)


def _drop_inherited_lock(lock_file: tuple[int, int, int] | None) -> None:
    """Close this (forked) process's copy of the lock descriptor; the parent keeps the lock."""
    if lock_file is None:
        return
    fd, device, inode = lock_file
    try:
        info = os.fstat(fd)
        if (info.st_dev, info.st_ino) == (device, inode):  # the inherited copy, not a reused number
            os.close(fd)
    except OSError:
        pass


class ParallelWriter(MpWriter):
    """``MpWriter(multisegment=True)`` without the lock, with the fixes described above; each
    writer process writes its own segment with :class:`FastSegmentWriter`."""

    def __init__(self, ix, procs: int, lock_file: tuple[int, int, int] | None, limitmb: int) -> None:
        super().__init__(ix, procs=procs, multisegment=True, subargs={"limitmb": limitmb}, _lk=False, limitmb=limitmb)
        self._lock_file = lock_file

    def _new_task(self):
        task = _WriterProcess(
            self.storage, self.indexname, self.jobqueue, self.resultqueue, self.subargs, self.multisegment,
            parent=os.getpid(), lock_file=self._lock_file,
        )
        self.tasks.append(task)
        task.start()
        return task

    def _put(self, item) -> None:
        """Queue a job; fail instead of waiting for ever when a writer process died."""
        while True:
            self._check_workers()
            try:
                self.jobqueue.put(item, timeout=0.5)
                return
            except queue.Full:
                pass

    def _check_workers(self) -> None:
        # One death is enough to fail: a process killed while holding the job queue's lock
        # leaves the others blocked on it for ever.
        failed = [task.exitcode for task in self.tasks if task.exitcode not in (None, 0)]
        if failed:
            raise WriterProcessError(
                f"a writer process died (exit status {failed[0]}); nothing of this batch was committed: run the same command again"
            )

    #: Documents of each writer process's first job (later ones: ``batchsize``, 100): the
    #: processes start on the first documents instead of the hundredth, while this process
    #: is still the only one at work.
    FIRST_JOB = 10

    def add_document(self, **fields) -> None:
        self.docbuffer.append((0, fields))
        if not self._grouping and len(self.docbuffer) >= (self.FIRST_JOB if len(self.tasks) < self.procs else self.batchsize):
            self._enqueue()
        self._added_sub = True

    def _enqueue(self) -> None:
        filename = f"{random_name()}.doclist"
        with self.temp_storage().create_file(filename).raw_file() as handle:
            for item in self.docbuffer:
                pickle.dump(item, handle, 2)
        if len(self.tasks) < self.procs:
            self._new_task()
        self._put((filename, len(self.docbuffer)))
        self.docbuffer = []

    def _commit(self, mergetype, optimize, merge) -> None:
        if self.docbuffer:
            self._enqueue()
        for _ in self.tasks:
            self._put(None)
        finalsegments = self._merge_segments(mergetype, optimize, merge)
        while any(task.is_alive() for task in self.tasks):
            self._check_workers()
            multiprocessing.connection.wait([task.sentinel for task in self.tasks if task.is_alive()], timeout=1.0)
        self._check_workers()
        results = []
        for _ in self.tasks:
            try:
                results.append(self.resultqueue.get(timeout=5))
            except queue.Empty:
                break
        if len(results) != len(self.tasks):
            raise WriterProcessError("a writer process ended without its results; nothing of this batch was committed: run the same command again")
        finalsegments += [segment for _, _, segment in results]
        if self._added:
            finalsegments.append(self._finalize_segment())
        else:
            self._close_segment()
        self._commit_toc(finalsegments)
        self._finish()

    def cancel(self) -> None:
        try:
            for task in self.tasks:
                if task.is_alive():
                    task.terminate()
            for task in self.tasks:
                task.join(timeout=5)
        finally:
            SegmentWriter.cancel(self)
