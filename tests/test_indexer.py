"""Incremental indexing on real on-disk indexes: counts, updates, pruning, bad input, encodings."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path

import pytest

from search.errors import IndexVersionError
from search.filters import SearchFilters
from search.backends.whoosh.indexing import PARALLEL_MIN_BATCH
from search import indexer as indexer_module
from search.indexer import Indexer
from search.searcher import Engine
from search.backends.whoosh.store import META_FILE, open_index

ZH_HANS = (
    "俄罗斯总统普京在莫斯科会见来访的外国领导人。\n\n"
    "双方就两国关系和共同关心的国际问题深入交换了意见，一致同意继续加强经贸合作。"
)
ZH_HANT = (
    "俄羅斯總統普京在莫斯科會見來訪的外國領導人。\n\n"
    "雙方就兩國關係和共同關心的國際問題深入交換了意見，一致同意繼續加強經貿合作。"
)


def record(id, body, title=None, **extra):
    out = {"id": id, "body": body}
    if title:
        out["title"] = title
    out.update(extra)
    return out


def write_jsonl(path: Path, rows) -> Path:
    lines = [row if isinstance(row, str) else json.dumps(row, ensure_ascii=False) for row in rows]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def stored_ids(index_dir) -> list[str]:
    ix = open_index(str(index_dir))
    with ix.searcher() as s:
        return sorted(fields["id"] for fields in s.all_stored_fields())


def found(index_dir, query) -> list[str]:
    """Ids of the articles holding ``query`` as written (untranslated: Putin does not also find 普京)."""
    engine = Engine(str(index_dir))
    try:
        return sorted(hit.id for hit in engine.search(query, size=100, filters=SearchFilters(translate=False)).hits)
    finally:
        engine.close()


def article(index_dir, article_id) -> dict:
    engine = Engine(str(index_dir))
    try:
        return engine.article(article_id)
    finally:
        engine.close()


def counts(report):
    return (report.indexed, report.updated, report.unchanged, report.failed)


@pytest.fixture
def data(tmp_path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


@pytest.fixture
def ix(tmp_path) -> str:
    return str(tmp_path / "index")


def small_corpus(data: Path) -> None:
    write_jsonl(
        data / "news.jsonl",
        [
            record("n1", "Putin met Xi Jinping in Kazan.", "Kazan summit"),
            record("n2", "俄罗斯总统普京在莫斯科表示，双方关系发展良好。", "普京会见外国领导人"),
            record("n3", "Stocks rallied on trade hopes.", "Markets rally"),
        ],
    )
    (data / "farm.txt").write_text("Xi visits a farm today\n\nXi Jinping spoke with farmers about the harvest.\n", "utf-8")


# --- incremental runs ---------------------------------------------------------------


def test_first_run_indexes_everything(data, ix):
    small_corpus(data)
    report = Indexer(ix).run([str(data)])
    assert counts(report) == (4, 0, 0, 0)
    assert report.summary() == "indexed 4 / updated 0 / unchanged 0 / failed 0"
    assert stored_ids(ix) == ["farm", "n1", "n2", "n3"]
    assert found(ix, "Putin") == ["n1"]
    assert found(ix, "普京") == ["n2"]


def test_second_run_reports_everything_unchanged(data, ix):
    small_corpus(data)
    Indexer(ix).run([str(data)])
    report = Indexer(ix).run([str(data)])
    assert counts(report) == (0, 0, 4, 0)
    assert report.summary() == "indexed 0 / updated 0 / unchanged 4 / failed 0"
    assert stored_ids(ix) == ["farm", "n1", "n2", "n3"]


def spying_on_speakers(monkeypatch, change=None) -> list[str]:
    """The ids of the articles whose speakers the indexer looks for (``change``: a function
    that may alter the article found, as changed speaker rules would)."""
    looked: list[str] = []
    real = indexer_module.with_speakers

    def spying(article):
        looked.append(article.id)
        found = real(article)
        return change(found) if change else found

    monkeypatch.setattr(indexer_module, "with_speakers", spying)
    return looked


def test_a_second_run_does_not_look_for_speakers_again(data, ix, monkeypatch):
    small_corpus(data)
    looked = spying_on_speakers(monkeypatch)
    Indexer(ix).run([str(data)])
    assert sorted(looked) == ["farm", "n1", "n2", "n3"]
    looked.clear()
    assert counts(Indexer(ix).run([str(data)])) == (0, 0, 4, 0)
    assert looked == []  # the input hashes matched
    farm = data / "farm.txt"
    farm.write_text(farm.read_text("utf-8").replace("harvest", "drought"), "utf-8")
    assert counts(Indexer(ix).run([str(data)])) == (0, 1, 3, 0)
    assert looked == ["farm"]


def test_a_changed_speaker_finder_looks_again_and_updates_only_what_it_changes(data, ix, monkeypatch):
    """Another speaker finder (new rules or lexicon: another fingerprint): every article is read
    again, and only one whose speakers now differ is updated."""
    from search.model import Speaker

    small_corpus(data)
    Indexer(ix).run([str(data)])
    monkeypatch.setattr(indexer_module, "speakers_fingerprint", lambda: "new rules")
    looked = spying_on_speakers(monkeypatch)
    assert counts(Indexer(ix).run([str(data)])) == (0, 0, 4, 0)
    assert sorted(looked) == ["farm", "n1", "n2", "n3"]

    def new_speaker(article):
        if article.id != "n3":
            return article
        return dataclasses.replace(article, speakers=(Speaker("someone", {"zh": None, "en": "Someone"}, 1),))

    monkeypatch.setattr(indexer_module, "speakers_fingerprint", lambda: "newer rules")
    spying_on_speakers(monkeypatch, new_speaker)
    assert counts(Indexer(ix).run([str(data)])) == (0, 1, 3, 0)


def test_a_run_that_changes_nothing_does_not_read_the_groups(data, ix, monkeypatch):
    """The near-duplicate groups (every article's signatures) are read at the run's first write."""
    from search.backends.whoosh import indexing

    small_corpus(data)
    Indexer(ix).run([str(data)])
    loads = []
    real = indexing.load_deduper
    monkeypatch.setattr(indexing, "load_deduper", lambda reader: loads.append(1) or real(reader))
    assert counts(Indexer(ix).run([str(data)])) == (0, 0, 4, 0)
    assert loads == []
    (data / "n4.txt").write_text("Xi visits a farm today\n\nXi Jinping spoke with farmers about the harvest.\n", "utf-8")
    assert counts(Indexer(ix).run([str(data)])) == (1, 0, 4, 0)
    assert loads == [1]
    engine = Engine(ix)
    try:  # the copy of farm.txt joined its group: the groups were there to compare with
        assert len(engine.search("farmers").hits) == 1
    finally:
        engine.close()


def test_an_index_holding_content_hashes_only_is_still_current(data, ix, monkeypatch):
    """An index written before input hashes (each digest the content hash alone): a run over
    the same input finds every article unchanged, looking for speakers to compare."""
    small_corpus(data)
    real_add = indexer_module._Batch.add
    with monkeypatch.context() as patch:
        patch.setattr(indexer_module._Batch, "add", lambda self, article, digest, exists: real_add(self, article, digest[: indexer_module.HASH_CHARS], exists))
        Indexer(ix).run([str(data)])
    looked = spying_on_speakers(monkeypatch)
    assert counts(Indexer(ix).run([str(data)])) == (0, 0, 4, 0)
    assert sorted(looked) == ["farm", "n1", "n2", "n3"]


def test_speaker_rules_failing_on_one_article_fail_it_alone(data, ix, monkeypatch):
    small_corpus(data)

    def crashing(article):
        if article.id == "n2":
            raise ValueError("hostile text")
        return article

    spying_on_speakers(monkeypatch, crashing)
    report = Indexer(ix).run([str(data)])
    assert counts(report) == (3, 0, 0, 1)
    assert report.failures == [f"{data / 'news.jsonl'}:2: cannot be read as an article (ValueError: hostile text)"]
    assert stored_ids(ix) == ["farm", "n1", "n3"]


def test_editing_one_article_updates_only_it(data, ix):
    small_corpus(data)
    Indexer(ix).run([str(data)])
    farm = data / "farm.txt"
    farm.write_text(farm.read_text("utf-8").replace("harvest", "drought"), "utf-8")
    report = Indexer(ix).run([str(data)])
    assert counts(report) == (0, 1, 3, 0)
    assert found(ix, "drought") == ["farm"]
    assert found(ix, "harvest") == []
    assert stored_ids(ix) == ["farm", "n1", "n2", "n3"]  # replaced, not added twice


def test_editing_a_jsonl_line_updates_that_article(data, ix):
    small_corpus(data)
    Indexer(ix).run([str(data)])
    rows = [json.loads(line) for line in (data / "news.jsonl").read_text("utf-8").splitlines()]
    rows[1]["body"] = "俄罗斯总统普京在喀山出席金砖国家领导人会晤。"
    write_jsonl(data / "news.jsonl", rows)
    report = Indexer(ix).run([str(data)])
    assert counts(report) == (0, 1, 3, 0)
    assert found(ix, "喀山") == ["n2"]
    assert found(ix, "莫斯科") == []


def test_changing_only_metadata_counts_as_an_update(data, ix):
    write_jsonl(data / "a.jsonl", [record("m1", "Putin spoke.", source="Wire A")])
    Indexer(ix).run([str(data)])
    write_jsonl(data / "a.jsonl", [record("m1", "Putin spoke.", source="Wire B")])
    report = Indexer(ix).run([str(data)])
    assert counts(report) == (0, 1, 0, 0)
    assert article(ix, "m1")["source"] == "Wire B"


def test_progress_reports_bytes_read(data, ix):
    small_corpus(data)
    seen = []
    Indexer(ix).run([str(data)], progress=seen.append)
    assert sum(seen) == sum(p.stat().st_size for p in data.iterdir())


# --- pruning -------------------------------------------------------------------------


def test_without_prune_removed_files_stay_searchable(data, ix):
    small_corpus(data)
    Indexer(ix).run([str(data)])
    (data / "farm.txt").unlink()
    report = Indexer(ix).run([str(data)])
    assert report.deleted == 0
    assert "farm" in stored_ids(ix)


def test_prune_deletes_articles_whose_file_was_removed(data, ix):
    small_corpus(data)
    Indexer(ix).run([str(data)])
    (data / "farm.txt").unlink()
    report = Indexer(ix).run([str(data)], prune=True)
    assert report.deleted == 1
    assert report.summary().endswith("/ deleted 1")
    assert stored_ids(ix) == ["n1", "n2", "n3"]
    assert found(ix, "farmers") == []


def test_prune_deletes_ids_removed_from_a_jsonl_file(data, ix):
    small_corpus(data)
    Indexer(ix).run([str(data)])
    rows = [json.loads(line) for line in (data / "news.jsonl").read_text("utf-8").splitlines()]
    write_jsonl(data / "news.jsonl", [r for r in rows if r["id"] != "n3"])
    report = Indexer(ix).run([str(data)], prune=True)
    assert report.deleted == 1
    assert counts(report) == (0, 0, 3, 0)
    assert stored_ids(ix) == ["farm", "n1", "n2"]
    assert found(ix, "rallied") == []


def test_prune_keeps_ids_of_a_jsonl_file_that_failed_to_read_cleanly(data, ix):
    small_corpus(data)
    Indexer(ix).run([str(data)])
    rows = [json.loads(line) for line in (data / "news.jsonl").read_text("utf-8").splitlines()]
    # n3's line is now broken: it must not be taken as "removed"
    write_jsonl(data / "news.jsonl", [rows[0], rows[1], '{"id": "n3", "body": '])
    report = Indexer(ix).run([str(data)], prune=True)
    assert report.failed == 1 and report.deleted == 0
    assert stored_ids(ix) == ["farm", "n1", "n2", "n3"]


def test_prune_handles_paths_with_spaces_and_chinese(data, ix):
    folder = data / "新闻 稿件"
    folder.mkdir()
    (folder / "普京 会见.txt").write_text(ZH_HANS, "utf-8")
    write_jsonl(folder / "更多 文章.jsonl", [record("x1", "Putin spoke."), record("x2", "Xi spoke.")])
    Indexer(ix).run([str(data)])
    assert stored_ids(ix) == ["x1", "x2", "普京 会见"]
    (folder / "普京 会见.txt").unlink()
    write_jsonl(folder / "更多 文章.jsonl", [record("x1", "Putin spoke.")])
    report = Indexer(ix).run([str(data)], prune=True)
    assert report.deleted == 2
    assert stored_ids(ix) == ["x1"]


# --- bad input --------------------------------------------------------------------------


def test_one_broken_jsonl_line_among_good_ones(data, ix):
    path = write_jsonl(
        data / "mixed.jsonl",
        [record("g1", "Putin spoke."), '{"id": "bad", "body": "oops"', record("g2", "Xi spoke."), "", record("g3", "普京讲话。")],
    )
    report = Indexer(ix).run([str(data)])
    assert counts(report) == (3, 0, 0, 1)
    assert stored_ids(ix) == ["g1", "g2", "g3"]
    (message,) = report.failures
    assert message.startswith(f"{path}:2: invalid JSON")


@pytest.mark.parametrize(
    "line, says",
    [
        ({"title": "No id", "body": "text"}, 'missing or empty "id"'),
        ({"id": "", "body": "text"}, 'missing or empty "id"'),
        ({"id": "   ", "body": "text"}, 'missing or empty "id"'),
        ({"id": True, "body": "text"}, 'missing or empty "id"'),
        ({"id": ["a"], "body": "text"}, 'missing or empty "id"'),
        ({"id": "t1", "title": 5, "body": "text"}, '"title" must be a string'),
        ({"id": "t2", "body": ["a", "b"]}, '"body" must be a string'),
        ({"id": "t3", "body": {"zh": 1}}, '"body.zh" must be a string'),
        ({"id": "t4", "body": {"fr": "texte"}}, "unknown language 'fr'"),
        ({"id": "t7", "body": "text", "source": 3}, '"source" must be a string'),
        ({"id": "t8", "body": "text", "url": {"a": 1}}, '"url" must be a string'),
        ({"id": "t9"}, "has neither title nor body"),
        (["not", "an", "object"], "expected a JSON object, got list"),
    ],
)
def test_invalid_record_is_reported_with_file_and_line(data, ix, line, says):
    path = write_jsonl(data / "records.jsonl", [record("ok", "Putin spoke."), json.dumps(line)])
    report = Indexer(ix).run([str(data)])
    assert counts(report) == (1, 0, 0, 1)
    (message,) = report.failures
    assert message.startswith(f"{path}:2: ")
    assert says in message
    assert stored_ids(ix) == ["ok"]


def test_numeric_id_is_accepted_as_text(data, ix):
    write_jsonl(data / "n.jsonl", [record(42, "Putin spoke.")])
    report = Indexer(ix).run([str(data)])
    assert report.failed == 0
    assert stored_ids(ix) == ["42"]


def test_duplicate_id_in_one_file_keeps_the_first(data, ix):
    path = write_jsonl(
        data / "dups.jsonl",
        [record("d1", "The first version mentions Putin."), record("d2", "Other."), record("d1", "The second version mentions Xi.")],
    )
    report = Indexer(ix).run([str(data)])
    assert counts(report) == (2, 0, 0, 1)
    (message,) = report.failures
    assert message.startswith(f"{path}:3: duplicate id 'd1'")
    assert f"first seen at {path}:1" in message
    assert found(ix, "Putin") == ["d1"]
    assert found(ix, "Xi") == []


def test_duplicate_id_across_files_is_reported_once_per_run(data, ix):
    write_jsonl(data / "a.jsonl", [record("same", "Putin spoke.")])
    write_jsonl(data / "b.jsonl", [record("same", "Xi spoke.")])
    report = Indexer(ix).run([str(data)])
    assert counts(report) == (1, 0, 0, 1)
    assert "duplicate id 'same'" in report.failures[0]
    assert found(ix, "Putin") == ["same"]


@pytest.mark.parametrize("name", ["empty.jsonl", "empty.txt"])
@pytest.mark.parametrize("content", [b"", b"\n\n   \n"])
def test_empty_file_is_a_failure_naming_the_file(data, ix, name, content):
    (data / name).write_bytes(content)
    write_jsonl(data / "good.jsonl", [record("ok", "Putin spoke.")])
    report = Indexer(ix).run([str(data)])
    assert counts(report) == (1, 0, 0, 1)
    assert report.failures == [f"{data / name}: empty file"]


def test_binary_file_is_a_failure_not_garbage(data, ix):
    (data / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)) * 4)
    write_jsonl(data / "good.jsonl", [record("ok", "Putin spoke.")])
    report = Indexer(ix).run([str(data)])
    assert counts(report) == (1, 0, 0, 1)
    assert report.failures == [f"{data / 'image.txt'}: binary data, not text"]
    assert stored_ids(ix) == ["ok"]


def test_text_file_with_no_words_is_a_failure(data, ix):
    (data / "numbers.txt").write_text("12345 67890\n-- !!! --\n", "utf-8")
    report = Indexer(ix).run([str(data)])
    assert report.failed == 1
    assert "no Chinese or English text found" in report.failures[0]


def test_unsupported_file_types_are_skipped_and_counted(data, ix):
    small_corpus(data)
    (data / "report.pdf").write_bytes(b"%PDF-1.4 Putin")
    (data / "sheet.xlsx").write_bytes(b"PK\x03\x04 Putin")
    (data / "README").write_text("Putin", "utf-8")
    (data / ".hidden.txt").write_text("Putin hidden", "utf-8")  # dot files are not even listed
    report = Indexer(ix).run([str(data)])
    assert counts(report) == (4, 0, 0, 0)
    assert sorted(os.path.basename(p) for p in report.skipped_files) == ["README", "report.pdf", "sheet.xlsx"]
    assert report.summary().endswith("(3 files of unsupported type skipped)")
    assert found(ix, "Putin") == ["n1"]


def test_upper_case_suffix_is_supported(data, ix):
    (data / "LOUD.TXT").write_text("Putin spoke loudly today.", "utf-8")
    report = Indexer(ix).run([str(data)])
    assert counts(report) == (1, 0, 0, 0)
    assert found(ix, "Putin") == ["LOUD"]


def test_a_single_file_path_works(data, ix):
    small_corpus(data)
    report = Indexer(ix).run([str(data / "news.jsonl")])
    assert counts(report) == (3, 0, 0, 0)
    assert stored_ids(ix) == ["n1", "n2", "n3"]


# --- encodings and file names ----------------------------------------------------------------


@pytest.mark.parametrize(
    "encoding, text, expected_encoding",
    [
        ("gbk", ZH_HANS, "gb18030"),
        ("gb18030", ZH_HANS, "gb18030"),
        ("big5", ZH_HANT, "big5"),
        ("utf-16", ZH_HANT, "utf-16"),
        ("utf-8-sig", ZH_HANS, "utf-8-sig"),
        ("utf-8", ZH_HANT, "utf-8"),
    ],
)
def test_encoded_text_files_are_decoded_in_their_own_script(data, ix, encoding, text, expected_encoding):
    path = data / f"doc-{encoding}.txt"
    path.write_bytes(text.encode(encoding))
    report = Indexer(ix).run([str(data)])
    assert counts(report) == (1, 0, 0, 0), report.failures
    assert report.encodings == {str(path): expected_encoding}
    stored = article(ix, f"doc-{encoding}")
    # The original characters are kept (simplified stays simplified, traditional stays traditional) ...
    assert "普京" in stored["body_zh"]
    assert ("總統" if text is ZH_HANT else "总统") in stored["body_zh"]
    assert "\ufeff" not in stored["body_zh"]
    # ... and either script finds it.
    assert found(ix, "总统") == [f"doc-{encoding}"]
    assert found(ix, "總統") == [f"doc-{encoding}"]


@pytest.mark.parametrize("text, word", [(ZH_HANS, "普京"), ("Putin meets Xi in Kazan\n\nPutin met Xi Jinping on Tuesday.\n", "Putin")])
def test_utf16_without_bom_is_decoded(data, ix, text, word):
    (data / "le.txt").write_bytes(text.encode("utf-16-le"))
    report = Indexer(ix).run([str(data)])
    assert report.failed == 0, report.failures
    assert found(ix, word) == ["le"]


def test_gbk_jsonl_is_decoded(data, ix):
    rows = [record("g1", "俄罗斯总统普京在莫斯科会见来访的外国领导人，双方就两国关系深入交换了意见。", "普京会见外国领导人")]
    (data / "gbk.jsonl").write_bytes(("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n").encode("gbk"))
    report = Indexer(ix).run([str(data)])
    assert report.failed == 0, report.failures
    assert article(ix, "g1")["title_zh"] == "普京会见外国领导人"


def test_short_big5_file_is_not_indexed_as_mojibake(data, ix):
    (data / "short.txt").write_bytes("俄羅斯總統普京在莫斯科會見".encode("big5"))
    report = Indexer(ix).run([str(data)])
    assert report.encodings[str(data / "short.txt")] == "big5"
    assert found(ix, "普京") == ["short"]


def test_file_names_with_spaces_and_chinese(data, ix):
    (data / "my news story.txt").write_text("Putin meets Xi in Kazan today\n\nPutin met Xi Jinping in Kazan.", "utf-8")
    (data / "普京 会见 领导人.txt").write_text(ZH_HANS, "utf-8")
    write_jsonl(data / "更多 新闻.jsonl", [record("j1", "习近平在北京会见外宾。")])
    report = Indexer(ix).run([str(data)])
    assert counts(report) == (3, 0, 0, 0)
    assert stored_ids(ix) == ["j1", "my news story", "普京 会见 领导人"]
    engine = Engine(ix)
    try:
        s = engine.backend.searcher()
        docnum = s.document_number(path=str((data / "普京 会见 领导人.txt").resolve()))  # what --prune looks up
        assert docnum is not None and s.stored_fields(docnum)["id"] == "普京 会见 领导人"
    finally:
        engine.close()
    assert found(ix, "莫斯科") == ["普京 会见 领导人"]
    # and a second run recognizes them as unchanged
    assert counts(Indexer(ix).run([str(data)])) == (0, 0, 3, 0)


# --- large batch (multi-process writer) -------------------------------------------------------


def test_large_batch_uses_worker_processes_and_ends_with_exact_ids(data, ix):
    n = PARALLEL_MIN_BATCH + 50
    rows = [
        record(f"a{i:04d}", f"Report {i} about trade. 第{i}号报告 关于贸易合作。", f"Article {i}", date=f"2024-01-{i % 28 + 1:02d}")
        for i in range(n)
    ]
    rows.insert(100, '{"id": "broken"')
    rows.append(record("a0007", "a duplicate that must be ignored zebra"))
    write_jsonl(data / "part1.jsonl", rows[: n // 2])
    write_jsonl(data / "part2.jsonl", rows[n // 2 :])
    expected = sorted(f"a{i:04d}" for i in range(n))

    report = Indexer(ix, procs=2).run([str(data)])
    assert counts(report) == (n, 0, 0, 2)
    assert stored_ids(ix) == expected  # every id exactly once
    assert found(ix, "zebra") == []
    engine = Engine(ix)
    try:
        assert engine.search("贸易").total == n
        assert engine.search('"第123号报告"').hits[0].id == "a0123"
    finally:
        engine.close()

    # Every article changes: the update path through the worker processes replaces, never duplicates.
    for part in ("part1.jsonl", "part2.jsonl"):
        path = data / part
        path.write_text(path.read_text("utf-8").replace("trade", "tariffs"), "utf-8")
    report = Indexer(ix, procs=2).run([str(data)])
    assert counts(report) == (0, n, 0, 2)
    assert stored_ids(ix) == expected
    assert found(ix, "trade") == []
    engine = Engine(ix)
    try:
        assert engine.search("tariffs").total == n
    finally:
        engine.close()


def test_a_run_collects_garbage_rarely_and_restores_the_thresholds(data, ix, monkeypatch):
    """The run (and the writers it forks) use RARE_COLLECTIONS; the caller's come back after,
    also when the run fails."""
    import gc

    from search.processes import RARE_COLLECTIONS

    small_corpus(data)
    seen = []
    real_run = Indexer._run

    def spying(self, *args, **kwargs):
        seen.append(gc.get_threshold())
        return real_run(self, *args, **kwargs)

    monkeypatch.setattr(Indexer, "_run", spying)
    before = gc.get_threshold()
    assert before != RARE_COLLECTIONS
    assert counts(Indexer(ix).run([str(data)])) == (4, 0, 0, 0)
    assert seen == [RARE_COLLECTIONS]
    assert gc.get_threshold() == before

    def failing(self, *args, **kwargs):
        raise RuntimeError("disk gone")

    monkeypatch.setattr(Indexer, "_run", failing)
    with pytest.raises(RuntimeError):
        Indexer(ix).run([str(data)])
    assert gc.get_threshold() == before


def test_a_first_build_of_many_articles_starts_its_writer_processes_at_the_first_one(data, ix, monkeypatch):
    """An empty index and at least PARALLEL_MIN_BATCH articles to read: the writer processes start
    with the first article; a run over an index holding articles first sees how many change."""
    from search.backends.whoosh import indexing

    opened: list[int] = []
    original = indexing.WhooshWriter._open

    def spy(self, count):
        opened.append(len(self._held))
        return original(self, count)

    monkeypatch.setattr(indexing.WhooshWriter, "_open", spy)
    counted: list[str] = []
    count = indexer_module._articles_in
    monkeypatch.setattr(indexer_module, "_articles_in", lambda path: counted.append(path) or count(path))
    n = PARALLEL_MIN_BATCH + 20
    write_jsonl(data / "first.jsonl", [record(f"b{i:04d}", f"第{i}号报告 关于贸易合作。", f"Report {i}") for i in range(n)])
    assert counts(Indexer(ix, procs=2).run([str(data)])) == (n, 0, 0, 0)
    assert opened == [1] and len(counted) == 1
    opened.clear()
    counted.clear()
    write_jsonl(data / "second.jsonl", [record(f"c{i:04d}", f"第{i}号通知 关于农业合作。", f"Notice {i}") for i in range(n)])
    assert counts(Indexer(ix, procs=2).run([str(data)])) == (n, 0, n, 0)
    assert opened == [PARALLEL_MIN_BATCH]
    assert counted == []  # an index holding articles: its input is not read twice to count them
    engine = Engine(ix)
    try:
        assert engine.search("贸易").total == n and engine.search("农业").total == n
    finally:
        engine.close()


# --- index version -----------------------------------------------------------------------------


def test_index_built_by_another_analyzer_version_refuses_to_open(data, ix):
    small_corpus(data)
    Indexer(ix).run([str(data)])
    meta_path = Path(ix, META_FILE)
    meta = json.loads(meta_path.read_text("utf-8"))
    meta["analyzer_version"] = meta["analyzer_version"] + 1
    meta_path.write_text(json.dumps(meta), "utf-8")
    for opener in (Engine, Indexer):
        with pytest.raises(IndexVersionError) as info:
            opener(ix)
        message = info.value.message
        assert "incompatible version" in message
        assert re.search(r"re-index", message)
        assert f"python -m search index PATH --index {ix}" in message
        assert info.value.code == "index_version"


def test_index_without_meta_file_refuses_to_open(data, ix):
    small_corpus(data)
    Indexer(ix).run([str(data)])
    Path(ix, META_FILE).unlink()
    with pytest.raises(IndexVersionError, match="re-index"):
        Engine(ix)


# --- hostile input (reliability): nothing indexed before is lost, each failure names file and line -------

BIG_MB = 50


def _big_text_file(path: Path) -> Path:
    paragraph = ("俄罗斯总统普京在莫斯科会见来访的外国领导人，双方就两国关系深入交换了意见。" * 20 + "\n\n").encode("utf-8")
    with open(path, "wb") as handle:
        handle.write(b"A very large file\n\n")
        for _ in range(BIG_MB * 1024 * 1024 // len(paragraph) + 1):
            handle.write(paragraph)
    assert path.stat().st_size >= BIG_MB * 1024 * 1024
    return path


def _nested_html(depth: int) -> str:
    return "<html><head><title>Deep page</title></head><body>" + "<div>" * depth + "Putin met Xi in Kazan. " * 30 + "</div>" * depth + "</body></html>"


def test_a_50_mb_text_file_is_refused_by_name_and_the_old_version_kept(data, ix):
    story = data / "story.txt"
    story.write_text("Putin meets Xi in Kazan\n\nPutin met Xi Jinping in Kazan on Tuesday.\n", "utf-8")
    write_jsonl(data / "other.jsonl", [record("o1", "Stocks rallied.")])
    Indexer(ix).run([str(data)])
    before = article(ix, "story")
    _big_text_file(story)  # the same file, replaced by 50 MB of text
    report = Indexer(ix).run([str(data)])
    assert counts(report) == (0, 0, 1, 1)
    (message,) = report.failures
    assert message.startswith(f"{story}: ") and message.endswith("characters of text, over the limit of 200,000 for one article; split it")
    assert article(ix, "story") == before  # the indexed version is untouched
    assert found(ix, "Kazan") == ["story"]


def test_an_over_long_jsonl_article_is_refused_by_file_and_line(data, ix):
    from search.ingest.loader import MAX_ARTICLE_CHARS

    path = write_jsonl(data / "long.jsonl", [record("ok", "Putin spoke."), record("long", "普京" * (MAX_ARTICLE_CHARS // 2 + 1))])
    report = Indexer(ix).run([str(data)])
    assert counts(report) == (1, 0, 0, 1)
    assert report.failures[0].startswith(f"{path}:2: article 'long' has ")
    assert report.failures[0].endswith(f"characters, over the limit of {MAX_ARTICLE_CHARS:,} for one article; split it")
    assert stored_ids(ix) == ["ok"]


def test_deeply_nested_html_is_indexed_or_fails_alone(data, ix):
    (data / "deep.html").write_text(_nested_html(100_000), "utf-8")
    write_jsonl(data / "good.jsonl", [record("g1", "Xi spoke.")])
    report = Indexer(ix).run([str(data)])
    assert report.indexed >= 1 and "g1" in stored_ids(ix)
    assert report.failed == 0 or report.failures[0].startswith(f"{data / 'deep.html'}: ")


def test_deeply_nested_json_fails_its_line_only(data, ix):
    path = data / "deep.jsonl"
    path.write_text(
        json.dumps(record("d1", "Putin spoke.")) + "\n" + '{"id": "deep", "body": ' + "[" * 100_000 + "]" * 100_000 + "}\n" + json.dumps(record("d2", "Xi spoke.")) + "\n",
        "utf-8",
    )
    report = Indexer(ix).run([str(data)])
    assert counts(report) == (2, 0, 0, 1)
    assert report.failures == [f"{path}:2: invalid JSON (nested too deeply)"]
    assert stored_ids(ix) == ["d1", "d2"]


def test_a_parser_crashing_on_one_file_fails_that_file_only(data, ix, monkeypatch):
    import search.ingest.html as html_module

    def explode(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(html_module, "parse_html", explode)
    (data / "page.html").write_text("<html><body><p>Putin spoke.</p></body></html>", "utf-8")
    write_jsonl(data / "good.jsonl", [record("g1", "Xi spoke.")])
    report = Indexer(ix).run([str(data)])
    assert counts(report) == (1, 0, 0, 1)
    assert report.failures == [f"{data / 'page.html'}: cannot be parsed (RecursionError: maximum recursion depth exceeded)"]


def test_undecodable_line_in_a_utf8_jsonl_file_fails_alone(data, ix):
    good = [json.dumps(record(f"u{i}", f"俄罗斯总统普京在莫斯科表示，第{i}条。", f"标题{i}"), ensure_ascii=False).encode("utf-8") for i in range(4)]
    broken = '{"id": "bad", "body": "普京'.encode("utf-8")[:-2] + b'\xff\xfe"}'  # a cut character, then junk
    path = data / "坏 字节.jsonl"
    path.write_bytes(b"\n".join(good[:2] + [broken] + good[2:]) + b"\n")
    report = Indexer(ix).run([str(data)])
    assert counts(report) == (4, 0, 0, 1)
    (message,) = report.failures
    assert message.startswith(f"{path}:3: not valid UTF-8 (")
    assert stored_ids(ix) == ["u0", "u1", "u2", "u3"]
    assert article(ix, "u3")["title_zh"] == "标题3"  # not mojibake


def test_line_separators_inside_json_strings_do_not_split_records(data, ix):
    path = data / "seps.jsonl"
    rows = [record("s1", "第一段\u2028第二段 Putin"), record("s2", "one\x85two\u2029three Xi"), '{"id": "bad"', record("s3", "last\x0bline")]
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")
    report = Indexer(ix).run([str(data)])
    assert counts(report) == (3, 0, 0, 1)
    assert report.failures[0].startswith(f"{path}:3: invalid JSON")  # the right line number
    assert article(ix, "s1")["body_zh"] == "第一段\u2028第二段 Putin"
    assert article(ix, "s2")["body_en"] == "one\x85two\u2029three Xi"


def test_cli_hostile_inputs_fail_alone_and_keep_what_was_indexed(tmp_path):
    """Through ``python -m search index``: messages name file and line, the exit status is 1
    only because something failed, and the articles indexed before are untouched."""
    from tests.reldata import run_cli

    ix = tmp_path / "索引 dir"
    good = tmp_path / "good"
    good.mkdir()
    write_jsonl(good / "新闻 稿.jsonl", [record("g1", "Putin met Xi in Kazan.", "Kazan summit"), record("g2", "俄罗斯总统普京在莫斯科表示，双方关系发展良好。", "普京会见外国领导人")])
    (good / "my story.txt").write_text("Xi visits a farm today\n\nXi Jinping spoke with farmers about the harvest.\n", "utf-8")
    first = run_cli("index", good, "--index", ix, "--quiet")
    assert first.returncode == 0, first.stderr
    before = {a["id"]: a for a in _stored(ix)}

    bad = tmp_path / "坏 输入"
    bad.mkdir()
    big = _big_text_file(bad / "大 文件.txt")
    (bad / "深 嵌套.html").write_text(_nested_html(50_000), "utf-8")
    types = write_jsonl(bad / "wrong types.jsonl", [record("t1", "Fine article about trade."), {"id": "t2", "body": ["not", "text"]}, {"id": "t3", "title": 5, "body": "x"}])
    dups = write_jsonl(bad / "dup ids.jsonl", [record("d1", "First version."), record("d1", "Second version.")])
    raw = bad / "坏 字节.jsonl"
    raw.write_bytes(json.dumps(record("r1", "普京表示双方关系良好。"), ensure_ascii=False).encode() + b"\n" + b'{"id": "r2", "body": "\xe6\x99"}\n')
    (bad / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)) * 8)

    proc = run_cli("index", bad, "--index", ix, "--quiet", timeout=300)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    failed = [line for line in proc.stderr.splitlines() if line.startswith("failed: ")]
    assert any(line.startswith(f"failed: {big}: ") and "over the limit of 200,000 for one article" in line for line in failed), failed
    assert f"failed: {types}:2: \"body\" must be a string" in proc.stderr
    assert f"failed: {types}:3: \"title\" must be a string" in proc.stderr
    assert f"failed: {dups}:2: duplicate id 'd1'" in proc.stderr
    assert f"failed: {raw}:2: not valid UTF-8" in proc.stderr
    assert f"failed: {bad / 'binary.txt'}: binary data, not text" in proc.stderr
    summary = proc.stdout.strip()
    assert summary.startswith("indexed ") and summary.endswith(f"failed {len(failed)}")
    after = {a["id"]: a for a in _stored(ix)}
    for article_id, fields in before.items():
        assert after[article_id] == fields, f"{article_id} changed"
    assert {"t1", "d1", "r1"} <= set(after)
    assert "大 文件" not in after

    # Running the good folder again: all unchanged, exit 0 (only failures make it 1).
    again = run_cli("index", good, "--index", ix, "--quiet")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "indexed 0 / updated 0 / unchanged 3 / failed 0"


def _stored(index_dir) -> list[dict]:
    ix = open_index(str(index_dir))
    try:
        with ix.searcher() as s:
            return [dict(fields) for fields in s.all_stored_fields()]
    finally:
        ix.close()


def test_ctrl_c_stops_the_indexer_and_its_workers_with_one_message(tmp_path):
    """Ctrl-C reaches every process of the terminal's foreground group: the workers (writer
    processes, the near-duplicate helper) leave it to the indexer, which stops them and says
    what was kept; no worker prints a traceback."""
    import signal
    import subprocess
    import sys
    import time

    from tests.reldata import ROOT, cli_env

    data = tmp_path / "data"
    data.mkdir()
    rows = [record(f"n{i:05d}", f"第{i}号报告：粮食收成与贸易合作。" * 40 + f" Report {i} on the harvest and trade. " * 40, f"报告 {i}") for i in range(6000)]
    write_jsonl(data / "news.jsonl", rows)
    proc = subprocess.Popen(
        [sys.executable, "-m", "search", "index", str(data), "--index", str(tmp_path / "index")],
        cwd=ROOT, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
        start_new_session=True,  # its own group, as a terminal's foreground job
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # a test runner may ignore it
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(_children(proc.pid)) < 3:  # 2 writers + the helper
            time.sleep(0.2)
        assert len(_children(proc.pid)) >= 3, "the workers never started"
        time.sleep(1.0)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "interrupted" in err


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(p) for p in handle.read().split()]
    except OSError:
        return []
