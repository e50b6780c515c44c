"""Every Whoosh private name the project uses still exists and still means what it did.

``search/backends/whoosh/internals.py`` is the only module touching Whoosh's private names;
its ``REQUIRED`` table lists them. Each is looked up here on real objects of a real index
(several segments, long posting lists in several blocks, an inlined short one): a Whoosh
upgrade that renames or drops one fails this test by name, instead of the ranking drifting.
"""

from __future__ import annotations

import hashlib
import io
import importlib
import inspect
import json
import random

import numpy as np
import pytest
from whoosh.filedb.structfile import BufferFile, StructFile
from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import W3TermInfo
from whoosh.matching import ListMatcher
from whoosh.multiproc import SubWriterTask
from whoosh.scoring import BM25F
from whoosh.writing import SegmentWriter

from search.backends.whoosh import internals
from search.backends.whoosh.schema import build_schema
from search.backends.whoosh.store import open_index
from search.indexer import Indexer
from tests.reldata import synthetic


@pytest.fixture(scope="module")
def reader_dir(reader):
    return reader.index_dir


@pytest.fixture(scope="module")
def reader(tmp_path_factory):
    folder = tmp_path_factory.mktemp("internals")
    rng = random.Random(5)
    records = [dict(synthetic(i, rng), body={"en": f"common words, item {i}. " * 3, "zh": f"合作编号{i}"}) for i in range(300)]
    (folder / "a.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    index_dir = str(folder / "index")
    Indexer(index_dir, procs=1, batch_size=200).run([str(folder)])  # two segments
    ix = open_index(index_dir)
    with ix.searcher() as searcher:
        found = searcher.reader()
        found.index_dir = index_dir
        yield found


def _missing(obj, names) -> list[str]:
    return [name for name in names if not hasattr(obj, name)]


def test_every_required_name_exists(reader, reader_dir, tmp_path):
    segment, _ = reader.leaf_readers()[0]
    info = internals.term_info(segment, "body_en", b"common")
    format_ = reader.schema["body_en"].format
    block_matcher = internals.postings_reader(segment, "body_en", b"common", info, format_)
    # A term inlined in the term index reads as a ListMatcher (Whoosh's default writer does
    # not inline, but an index written with an inline limit does).
    inlined = ListMatcher([3, 7], values=[b"a", b"b"])
    writer = internals.ParallelWriter(open_index(reader_dir), 2, None, 64)
    task = SubWriterTask(writer.storage, writer.indexname, None, None, {}, True)
    # On an index of its own: two writers on one index share (and each destroys) its temp folder.
    segment_writer = SegmentWriter(whoosh_index.create_in(str(tmp_path), build_schema()), _lk=False)
    stock = BufferFile.__new__(BufferFile)
    internals._STOCK_BUFFER_FILE_INIT(stock, memoryview(b"x"))
    objects = {
        "segment reader (SegmentReader)": segment,
        "terms reader (W3TermsReader)": segment._terms,
        "codec (W3Codec)": segment._terms._codec,
        "per-document reader (W3PerDocReader)": segment._perdoc,
        "block matcher (W3LeafMatcher)": block_matcher,
        "inlined postings (ListMatcher)": inlined,
        "BM25F": BM25F(),
        "BufferFile.__init__ sets": stock,
        "multi-process writer (MpWriter)": writer,
        "writer process (SubWriterTask)": task,
        "segment writer (SegmentWriter)": segment_writer,
        "posting pool (PostingPool)": segment_writer.pool,
        "field writer (W3FieldWriter)": segment_writer.fieldwriter,
        "term info (W3TermInfo)": W3TermInfo(),
        "term index writer (OrderedHashWriter)": segment_writer.fieldwriter._tindex,
        "structured file (StructFile)": StructFile(io.BytesIO(), "x"),
        "per-document writer (W3PerDocWriter)": segment_writer.perdocwriter,
        "stored fields' writer (PickleColumn.Writer)": segment_writer.perdocwriter._colwriters["_stored"],
        "compressing column writer (CompressedBytesColumn.Writer)": segment_writer.perdocwriter._colwriters["_stored"]._child,
    }
    missing = {}
    for where, names in internals.REQUIRED.items():
        target = importlib.import_module(where) if where.startswith("whoosh.") else objects[where]
        if _missing(target, names):
            missing[where] = _missing(target, names)
    writer.cancel()
    segment_writer.cancel()
    assert not missing, f"Whoosh changed: these private names are gone: {missing}"
    assert isinstance(block_matcher, internals.W3LeafMatcher)
    # Whoosh's BufferFile sets exactly the attributes the shared-view __init__ sets.
    shared = BufferFile.__new__(BufferFile)
    internals._shared_buffer_file_init(shared, memoryview(b"x"))
    assert set(vars(stock)) == set(vars(shared)) == set(internals.REQUIRED["BufferFile.__init__ sets"])
    stock_params = inspect.signature(internals._STOCK_BUFFER_FILE_INIT).parameters
    assert list(stock_params) == list(inspect.signature(internals._shared_buffer_file_init).parameters)


def test_replaced_whoosh_methods_are_the_ones_reviewed():
    changed = []
    for qualified, digest in internals.REPLACED.items():
        module, owner, method = qualified.rsplit(".", 2)
        found = getattr(getattr(importlib.import_module(module), owner), method)
        if found is internals._shared_buffer_file_init:  # replaced in this process: check Whoosh's own
            found = internals._STOCK_BUFFER_FILE_INIT
        source = inspect.getsource(found)
        if hashlib.sha256(source.encode()).hexdigest()[:16] != digest:
            changed.append(qualified)
    assert not changed, f"Whoosh changed methods that search/backends/whoosh/internals.py replaces; review them: {changed}"


def test_blocks_give_the_postings_whoosh_matchers_give(reader):
    blocks = 0
    for segment, _ in reader.leaf_readers():
        info = internals.term_info(segment, "body_en", b"common")
        format_ = reader.schema["body_en"].format
        expected = list(internals.postings_reader(segment, "body_en", b"common", info, format_).all_ids())
        docs = []
        for last, read in internals.blocks(internals.postings_reader(segment, "body_en", b"common", info, format_)):
            deltas, _, _ = read()
            ids = np.cumsum(deltas).tolist()
            assert ids[-1] == last
            docs += ids
            blocks += 1
        assert docs == expected
    assert blocks > len(reader.leaf_readers())  # some segment has several blocks


def test_inlined_postings_and_lengths(reader):
    assert internals.inlined_postings(ListMatcher([3, 7], values=[b"a", b"b"])) == ([3, 7], [b"a", b"b"])
    segment, _ = reader.leaf_readers()[0]
    lengths = internals.field_lengths(segment, "body_en")
    assert [lengths[d] for d in range(segment.doc_count_all())] == [segment.doc_field_length(d, "body_en") for d in range(segment.doc_count_all())]


def test_bm25f_parameters_are_read_not_defaulted():
    assert internals.bm25f_parameters(BM25F(B=0.5, K1=2.0, title_en_B=0.3)) == (0.5, {"title_en": 0.3}, 2.0)
    with pytest.raises(TypeError):
        internals.bm25f_parameters(object())


def test_opened_indexes_read_the_mapped_file_in_place(reader):
    internals.share_mapped_files()
    opened = BufferFile(memoryview(b"abc\ndef"))
    assert isinstance(opened.file, internals._ViewReader)
    assert opened.read(2) == b"ab" and opened.file.readline() == b"c\n"
