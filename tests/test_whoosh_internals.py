"""Every Whoosh private name the project uses still exists and still means what it did.

``search/backends/whoosh/internals.py`` is the only module touching Whoosh's private names;
its ``REQUIRED`` table lists them. Each is looked up here on real objects of a real index
(several segments, long posting lists in several blocks, an inlined short one): a Whoosh
upgrade that renames or drops one fails this test by name, instead of the ranking drifting.
"""

from __future__ import annotations

import importlib
import inspect
import json
import random

import numpy as np
import pytest
from whoosh.filedb.structfile import BufferFile
from whoosh.matching import ListMatcher
from whoosh.scoring import BM25F

from search.backends.whoosh import internals
from search.backends.whoosh.store import open_index
from search.indexer import Indexer
from tests.reldata import synthetic


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
        yield searcher.reader()


def _missing(obj, names) -> list[str]:
    return [name for name in names if not hasattr(obj, name)]


def test_every_required_name_exists(reader):
    segment, _ = reader.leaf_readers()[0]
    info = internals.term_info(segment, "body_en", b"common")
    format_ = reader.schema["body_en"].format
    block_matcher = internals.postings_reader(segment, "body_en", b"common", info, format_)
    # A term inlined in the term index reads as a ListMatcher (Whoosh's default writer does
    # not inline, but an index written with an inline limit does).
    inlined = ListMatcher([3, 7], values=[b"a", b"b"])
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
    }
    missing = {}
    for where, names in internals.REQUIRED.items():
        target = importlib.import_module(where) if where.startswith("whoosh.") else objects[where]
        if _missing(target, names):
            missing[where] = _missing(target, names)
    assert not missing, f"Whoosh changed: these private names are gone: {missing}"
    assert isinstance(block_matcher, internals.W3LeafMatcher)
    # Whoosh's BufferFile sets exactly the attributes the shared-view __init__ sets.
    shared = BufferFile.__new__(BufferFile)
    internals._shared_buffer_file_init(shared, memoryview(b"x"))
    assert set(vars(stock)) == set(vars(shared)) == set(internals.REQUIRED["BufferFile.__init__ sets"])
    stock_params = inspect.signature(internals._STOCK_BUFFER_FILE_INIT).parameters
    assert list(stock_params) == list(inspect.signature(internals._shared_buffer_file_init).parameters)


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
