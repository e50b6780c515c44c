"""Every use of Whoosh's private names, in one module.

Whoosh-Reloaded's public API reads postings one at a time and copies every file of a
compound segment into memory; the ranking reads whole posting blocks instead, the store
shares the mapped file, and the indexer makes Whoosh's multi-process writer crash-safe.
Those need names Whoosh does not promise to keep. They are all here, each used directly
(never ``getattr(..., default)``: a renamed attribute must fail, not drift silently), and
``tests/test_whoosh_internals.py`` checks every one of :data:`REQUIRED` against a real
index, so upgrading Whoosh fails that test by name instead of changing scores.
"""

from __future__ import annotations

from typing import Callable, Iterator

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, W3PerDocReader, _lenfield
from whoosh.filedb.structfile import BufferFile
from whoosh.matching import ListMatcher
from whoosh.scoring import BM25F
from whoosh.system import _INT_SIZE
from whoosh.util.numeric import byte_to_length

#: What this module touches, by where it lives: checked by tests/test_whoosh_internals.py.
REQUIRED = {
    "whoosh.codec.whoosh3": ("LENGTHS_COLUMN", "W3LeafMatcher", "W3PerDocReader", "_lenfield"),
    "whoosh.system": ("_INT_SIZE",),
    "segment reader (SegmentReader)": ("_terms", "_perdoc"),
    "terms reader (W3TermsReader)": ("_codec", "_postfile", "term_info", "items"),
    "codec (W3Codec)": ("postings_reader",),
    "per-document reader (W3PerDocReader)": ("_cached_reader",),
    "block matcher (W3LeafMatcher)": ("_atend", "_maxid", "_data", "_read_data", "_next_block"),
    "inlined postings (ListMatcher)": ("_ids", "_values"),
    "BM25F": ("B", "K1", "_field_B"),
    "BufferFile.__init__ sets": ("_buf", "_name", "file", "onclose", "is_real", "is_closed"),
}

#: Bytes before the pickled position deltas of a ``Positions`` posting value (the count).
POSITIONS_COUNT_SIZE = _INT_SIZE

_LENGTH_OF_BYTE = [0] + [byte_to_length(b) for b in range(1, 256)]


# --- reading postings ----------------------------------------------------------------------------


def term_items(segment) -> Iterator[tuple[tuple[str, bytes], object]]:
    """``((fieldname, term bytes), term info)`` of every term of one segment."""
    return segment._terms.items()


def term_info(segment, fieldname: str, tbytes: bytes):
    return segment._terms.term_info(fieldname, tbytes)


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
