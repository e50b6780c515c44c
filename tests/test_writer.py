"""The fast segment writer writes what Whoosh's own writer writes.

The index a user searches must not depend on which writer built it: the same
documents through ``whoosh.writing.SegmentWriter`` (with Whoosh's own
``TEXT.index``) and through ``FastSegmentWriter`` give byte-identical segment
files when every block is compressed and pickled as Whoosh does it and nothing is
inlined, and identical postings, lengths, stored fields and columns with the defaults
(small blocks stored uncompressed, smaller pickles, short posting lists inlined).
"""

from __future__ import annotations

import json
import random
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import index as whoosh_index
from whoosh.fields import FieldType
from whoosh.filedb.compound import CompoundStorage
from whoosh.writing import SegmentWriter

from search.backends.whoosh import internals
from search.backends.whoosh.indexing import to_document
from search.backends.whoosh.internals import FastSegmentWriter, _FieldWriter, _FlatField, _Pool
from search.backends.whoosh.schema import BilingualText, build_schema
from search.backends.whoosh.store import META_FILE, versions
from search.indexer import content_hash
from search.ingest import load_file
from search.ingest.jsonl import article_from_record
from search.searcher import Engine
from tests.reldata import synthetic

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def documents(count: int = 400) -> list[dict]:
    """The seed article plus ``count`` synthetic ones: words shared by hundreds of
    documents (several posting blocks), one-off words, both languages, speakers."""
    rng = random.Random(7)
    articles = [article for _, article in load_file(str(next(SAMPLES.glob("*.txt")))).articles]
    for i in range(count):
        record = synthetic(i, rng)
        record["body"] += f" 编号{i} ref{i} 普京表示，合作很重要。" + ("“We agree,” Putin said." if i % 3 == 0 else "")
        articles.append(article_from_record(record, f"synthetic:{i}")[0])
    # Terms of every UTF-8 length, in documents far apart: the pool sorts terms as strings, the
    # segment stores them in byte order (the same order for every code point a text can hold).
    for i in (0, count // 2):
        record = {"id": f"scripts-{i}", "title": "𠀀𠀁中文 café", "body": "zebra Ωmega ÿes 𠀀𠀁 中文 ｆｕｌｌ width éa ea 𡀀"}
        articles.append(article_from_record(record, f"scripts:{i}")[0])
    return [to_document(article, content_hash(article)) for article in articles]


def build(folder: Path, docs: list[dict], *, stock: bool, **writer_args) -> whoosh_index.Index:
    """An index of ``docs`` written by Whoosh's writer and analysis (``stock``) or by ours."""
    folder.mkdir(parents=True)
    ix = whoosh_index.create_in(str(folder), build_schema(), indexname="articles")
    with pytest.MonkeyPatch.context() as patch:
        if stock:
            patch.setattr(BilingualText, "index", FieldType.index)
            writer = SegmentWriter(ix, **writer_args)
        else:
            writer = FastSegmentWriter(ix, **writer_args)
        for doc in docs:
            writer.add_document(**doc)
        writer.commit()
    return whoosh_index.open_dir(str(folder), indexname="articles")


def segment_files(ix) -> dict[str, bytes]:
    """The files inside the index's one compound segment, by extension."""
    (segment,) = ix._segments()
    name = segment.make_filename(".seg")
    compound = CompoundStorage(ix.storage.open_file(name), name)
    return {f.split(".", 1)[1]: compound.open_file(f).read() for f in compound.list()}


def contents(ix) -> dict:
    """Everything a search can read: postings, term statistics, lengths, stored fields, columns."""
    out: dict = {"postings": {}, "stats": {}, "lengths": {}, "stored": [], "columns": {}}
    with ix.reader() as reader:
        for fieldname, text in reader.all_terms():
            out["postings"][(fieldname, text)] = postings(reader.postings(fieldname, text))
            info = reader.term_info(fieldname, text)
            out["stats"][(fieldname, text)] = (info.weight(), info.doc_frequency(), info.min_length(), info.max_length(), info.max_weight())
        for fieldname in ("title_zh", "title_en", "body_zh", "body_en", "captions_zh"):
            out["lengths"][fieldname] = [reader.doc_field_length(d, fieldname) for d in reader.all_doc_ids()]
        out["stored"] = [dict(fields) for fields in reader.all_stored_fields()]
        for fieldname in ("id", "day", "speakers_column", "digest"):
            out["columns"][fieldname] = list(reader.column_reader(fieldname))
    return out


def postings(matcher) -> list[tuple]:
    """(document, weight, value) of every posting, read the way searches read them. A field
    without values (an ``ID``) reads ``None`` from a block and ``""`` when inlined: ``None``."""
    out = []
    while matcher.is_active():
        out.append((matcher.id(), matcher.weight(), matcher.value() or None))
        matcher.next()
    return out


@pytest.fixture(scope="module")
def docs() -> list[dict]:
    return documents()


@pytest.fixture(scope="module")
def stock_contents(docs, tmp_path_factory) -> dict:
    return contents(build(tmp_path_factory.mktemp("writer") / "stock", docs, stock=True))


def test_segment_files_are_byte_identical_to_whooshs(docs, tmp_path, monkeypatch):
    monkeypatch.setattr(_FieldWriter, "min_compress", 0)  # compress every block, as Whoosh does,
    monkeypatch.setattr(_FieldWriter, "level", None)  # at Whoosh's level,
    monkeypatch.setattr(_FieldWriter, "protocol", 2)  # pickled as Whoosh pickles,
    monkeypatch.setattr(_FieldWriter, "memo", True)
    monkeypatch.setattr(_FieldWriter, "inline_limit", 1)  # nothing inlined
    monkeypatch.setattr(internals, "_compress", zlib.compress)  # by zlib, not libdeflate,
    monkeypatch.setattr(internals, "STORED_LEVEL", 3)  # the stored fields at Whoosh's level too
    stock = segment_files(build(tmp_path / "stock", docs, stock=True))
    fast = segment_files(build(tmp_path / "fast", docs, stock=False))
    assert sorted(fast) == sorted(stock)
    for ext in stock:
        assert fast[ext] == stock[ext], f"{ext} differs"
    assert len(stock["pst"]) > 100_000  # a real amount of postings was compared


def test_default_writer_reads_back_the_same_index(docs, stock_contents, tmp_path):
    fast = contents(build(tmp_path / "fast", docs, stock=False))
    assert fast == stock_contents
    # Several blocks per list were exercised: a synthetic word occurs in most documents.
    assert max(len(p) for p in stock_contents["postings"].values()) > 300


@pytest.mark.parametrize("boosts", [(0.3, 1.0), (1e-9, 1e7)], ids=["exact sums", "inexact sums"])
def test_document_boosts_give_whooshs_weights(docs, tmp_path, boosts, monkeypatch):
    """Weights of any size: sums that numpy's pairwise addition gets exactly (0.3: lists of one
    block written from the chunk's statistics) and sums it might round differently from
    Python's sum in order (1e-9 beside 1e7: each list summed on its own)."""
    calls = {"one block": 0, "in order": 0}

    def counted(name, method):
        def call(*args, **kwargs):
            calls[name] += 1
            return method(*args, **kwargs)
        return call

    monkeypatch.setattr(_FieldWriter, "_write_block", counted("one block", _FieldWriter._write_block))
    monkeypatch.setattr(_FieldWriter, "_write_blocks", counted("in order", _FieldWriter._write_blocks))
    boosted = [dict(doc, _boost=boosts[i % 2]) if i % 3 == 0 else doc for i, doc in enumerate(docs)]
    stock = contents(build(tmp_path / "stock", boosted, stock=True))
    assert contents(build(tmp_path / "fast", boosted, stock=False)) == stock
    if boosts[1] == 1.0:
        assert calls["one block"] > 100
    else:
        assert calls["one block"] == 0 and calls["in order"] > 100


def test_terms_handed_over_a_few_postings_at_a_time_are_the_same(docs, stock_contents, tmp_path, monkeypatch):
    monkeypatch.setattr(_FlatField, "CHUNK", 5)  # every few terms a new chunk (a long list: a chunk of its own)
    assert contents(build(tmp_path / "fast", docs, stock=False)) == stock_contents


def test_a_pool_over_its_memory_limit_spills_and_still_writes_the_same_postings(docs, stock_contents, tmp_path):
    ix = build(tmp_path / "fast", docs, stock=False, limitmb=0.05)
    assert contents(ix) == stock_contents


def test_searches_rank_the_same_whichever_writer_built_the_index(docs, tmp_path):
    build(tmp_path / "stock", docs, stock=True)
    build(tmp_path / "fast", docs, stock=False)
    for folder in ("stock", "fast"):
        (tmp_path / folder / META_FILE).write_text(json.dumps(versions()), "utf-8")
    queries = ["普京", "合作", "trade talks", '"oil prices"', "習近平 BRICS", "编号17", "ref3"]
    stock_engine, fast_engine = Engine(str(tmp_path / "stock")), Engine(str(tmp_path / "fast"))
    for q in queries:
        a, b = stock_engine.search(q, size=20), fast_engine.search(q, size=20)
        assert a.total == b.total and a.total > 0, q
        assert [(h.id, round(h.score, 9)) for h in a.hits] == [(h.id, round(h.score, 9)) for h in b.hits], q


def test_a_field_pooled_both_ways_is_merged_in_term_then_document_order(tmp_path):
    """Positions (the text fields) and ready postings (anything else) of one field: Whoosh's
    sorted list merges them, every posting weighed and encoded as it came."""
    from whoosh.filedb.filestore import FileStorage

    pool = _Pool(FileStorage(str(tmp_path)), None, limitmb=16)
    assert pool.add_positions("body_zh", 0, {"关系": [0, 3], "中俄": [1]}, 2.0) == 3
    pool.add_field("body_zh", 1, [("中俄".encode(), 1.0, b"\x07")])
    pool.add_positions("body_zh", 2, {"中俄": [200]}, 1.0)
    assert pool.term_lists() is None
    assert list(pool.iter_postings()) == [
        ("body_zh", "中俄".encode(), 0, 2.0, b"\x01"),
        ("body_zh", "中俄".encode(), 1, 1.0, b"\x07"),
        ("body_zh", "中俄".encode(), 2, 1.0, b"\xc8\x01"),
        ("body_zh", "关系".encode(), 0, 4.0, b"\x00\x03"),
    ]


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("習近平普京中俄關係关系合作 BRICS Putin's cooperating 2024 ３．５ ﬁne,。“”")), max_size=80))
def test_field_index_matches_whoosh_text_index(text):
    field = build_schema()["body_zh"]
    assert sorted(field.index(text)) == sorted(FieldType.index(field, text))


def test_whoosh_merges_segments_with_inlined_postings(tmp_path):
    """Whoosh's own merge (optimize, or its merge policy on a later commit) reads the short
    posting lists the writer inlines: an ID field's inlined values must read back as bytes."""
    from search.indexer import Indexer

    folder = tmp_path / "data"
    folder.mkdir()
    for part in range(2):  # two runs: two segments
        rows = [{"id": f"m{part}-{n}", "title": f"合作 {part} {n}", "body": f"Markets moved on day {n}.", "date": "2024-10-05T19:00:00+08:00"} for n in range(5)]
        (folder / f"part{part}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
        Indexer(str(tmp_path / "ix")).run([str(folder / f"part{part}.jsonl")])
    before = Engine(str(tmp_path / "ix")).search("合作", size=20)
    ix = whoosh_index.open_dir(str(tmp_path / "ix"), indexname="articles")
    assert len(ix.reader().leaf_readers()) >= 2
    ix.optimize()  # Whoosh's merge path: failed with "vbytes=''" on inlined ID postings
    after = Engine(str(tmp_path / "ix")).search("合作", size=20)
    assert after.total == before.total == 10 and {h.id for h in after.hits} == {h.id for h in before.hits}


def test_lengths_are_quantized_for_a_whole_chunk_as_whoosh_quantizes_each():
    # The term infos of a chunk's inlined lists quantize their lengths with numpy.
    from whoosh.util.numeric import length_to_byte

    from search.backends.whoosh.internals import _length_bytes

    lengths = np.arange(0, 120_000)
    assert _length_bytes(lengths).tolist() == [length_to_byte(n) for n in lengths.tolist()]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(0, 3_000_000), min_size=1, max_size=6).map(sorted), min_size=1, max_size=40))
def test_postings_encoded_together_are_what_varint_positions_encodes_one_by_one(lists):
    from array import array

    from search.backends.whoosh.internals import _varint_values

    format_ = build_schema()["body_zh"].format
    flat = np.frombuffer(array("I", [p for found in lists for p in found]), dtype=np.uint32)
    counts = np.array([len(found) for found in lists], dtype=np.int64)
    starts = np.cumsum(counts) - counts
    order = np.random.default_rng(len(lists)).permutation(len(lists))  # any postings, in any order
    assert _varint_values(flat, starts[order], counts[order]) == [format_.encode(lists[i]) for i in order]


def test_term_index_written_in_batches_is_whooshs_byte_for_byte(tmp_path):
    """``_add_ordered`` (batches of keys; the file past 65,535 bytes, so the key-position array
    widens) and ``_TermIndex`` (the hash tables, probing collisions) write the file Whoosh's
    ``OrderedHashWriter`` writes key by key; keys out of order are refused alike."""
    from whoosh.filedb.filestore import FileStorage
    from whoosh.filedb.filetables import OrderedHashReader, OrderedHashWriter

    from search.backends.whoosh.internals import _TermIndex, _add_ordered

    rng = random.Random(11)
    keys = sorted({bytes(rng.choices(b"abcdefgh\x00\xff", k=rng.randint(1, 12))) for _ in range(6000)})
    entries = [(key, bytes(rng.randint(0, 255) for _ in range(rng.randint(0, 40)))) for key in keys]
    storage = FileStorage(str(tmp_path))
    stock = OrderedHashWriter(storage.create_file("stock"))
    for key, value in entries:
        stock.add(key, value)
    stock.close()
    ours = OrderedHashWriter(storage.create_file("ours"))
    ours.__class__ = _TermIndex
    for start in range(0, len(entries), 1000):
        _add_ordered(ours, entries[start : start + 1000])
    ours.close()
    assert (tmp_path / "ours").read_bytes() == (tmp_path / "stock").read_bytes()
    assert (tmp_path / "ours").stat().st_size > 1 << 16
    reader = OrderedHashReader.open(storage, "ours")
    try:
        assert reader[keys[4321]] == entries[4321][1]
    finally:
        reader.close()
    late = OrderedHashWriter(storage.create_file("late"))
    _add_ordered(late, entries[10:20])
    with pytest.raises(ValueError, match="Keys must increase"):
        _add_ordered(late, [entries[30], entries[5]])
    late.close()


def test_blocks_and_stored_fields_are_compressed_by_libdeflate(tmp_path):
    ix = whoosh_index.create_in(str(tmp_path), build_schema(), indexname="articles")
    writer = FastSegmentWriter(ix, _lk=False)
    try:
        stored = writer.perdocwriter._colwriters["_stored"]._child
        assert (stored._compress, stored._level) == (internals._compress, internals.STORED_LEVEL)
        text = " ".join(str(n) for n in range(2000)).encode()
        compressed = internals._compress(text, 6)
        assert type(compressed) is bytes and zlib.decompress(compressed) == text  # zlib's format
    finally:
        writer.cancel()
