"""Speakers found a few parts ahead in a helper process: the same articles, speakers and errors
as when the reading process finds them, in the same order."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from search.errors import WriterProcessError
from search.filters import SearchFilters
from search.indexer import Indexer
from search.ingest import ahead, loader
from search.ingest.ahead import SpeakerHelper
from search.ingest.loader import load_parts
from search.searcher import Engine

SPOKEN = [
    "“We will keep talking,” Putin said on Tuesday. Trade rose 5 percent, officials said.",
    "Xi Jinping said the two countries should deepen cooperation. He said talks would go on.",
    "普京表示，双方将继续对话。习近平指出，中俄关系保持高水平运行。",
    "Oil prices rose. Analysts expect further gains.",
]


def write_jsonl(path: Path, count: int) -> Path:
    """``count`` records (several parts of :data:`loader.PART_LINES`), a few not articles at all."""
    lines = []
    for i in range(count):
        if i % 97 == 13:
            lines.append("{not json")
            continue
        lines.append(json.dumps({"id": f"s{i:05d}", "title": f"Story {i}", "body": SPOKEN[i % len(SPOKEN)] + f" Item {i}."}, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def summary(parts) -> list:
    return [
        ([(where, article.id, [sp.to_dict() for sp in article.speakers]) for where, article in part.articles], [e.message for e in part.errors], part.warnings)
        for part in parts
    ]


def test_parts_come_in_order_with_the_speakers_the_reading_process_finds(tmp_path):
    path = str(write_jsonl(tmp_path / "news.jsonl", 3 * loader.PART_LINES + 40))
    with SpeakerHelper() as helper:
        got = summary(helper.parts(path))
    expected = summary(load_parts(path))
    assert got == expected
    assert len(got) == 4 and sum(len(articles) for articles, _, _ in got) > 700
    assert any(speakers for articles, _, _ in got for _, _, speakers in articles)  # speakers were found
    assert any(errors for _, errors, _ in got)  # and the lines that are not records reported


def test_an_article_whose_speakers_fail_is_an_error_of_its_line(tmp_path, monkeypatch):
    path = str(write_jsonl(tmp_path / "news.jsonl", 30))
    real = loader.with_speakers

    def failing(article):
        if article.id == "s00007":
            raise ValueError("boom")
        return real(article)

    monkeypatch.setattr(ahead, "with_speakers", failing)  # the helper is forked after this
    monkeypatch.setattr(loader, "with_speakers", failing)
    with SpeakerHelper() as helper:
        got = summary(helper.parts(path))
    assert f"{path}:8: cannot be read as an article (ValueError: boom)" in got[0][1]
    assert "s00007" not in {article_id for _, article_id, _ in got[0][0]}
    assert {article_id for _, article_id, _ in got[0][0]} == {article_id for _, article_id, _ in summary(load_parts(path))[0][0]}


def _die(articles):
    os._exit(3)  # the helper process dies mid-part


def test_a_helper_that_dies_fails_the_run_clearly(tmp_path, monkeypatch):
    path = str(write_jsonl(tmp_path / "news.jsonl", 30))
    monkeypatch.setattr(ahead, "_find_speakers", _die)
    with SpeakerHelper() as helper, pytest.raises(WriterProcessError, match="finding speakers"):
        list(helper.parts(path))


def test_the_indexer_stores_the_same_speakers_with_the_helper(tmp_path, monkeypatch):
    monkeypatch.setattr(ahead, "MIN_BYTES", 0)
    monkeypatch.setattr("search.indexer.MIN_BYTES", 0)
    started = []
    monkeypatch.setattr(SpeakerHelper, "__init__", lambda self, real=SpeakerHelper.__init__: (started.append(1), real(self))[1])
    path = str(write_jsonl(tmp_path / "news.jsonl", 500))
    with_helper = Indexer(str(tmp_path / "a"), procs=2).run([path])
    without = Indexer(str(tmp_path / "b"), procs=1).run([path])
    assert started == [1]  # one helper for the run (procs=1 never starts one)
    assert (with_helper.indexed, with_helper.failed) == (without.indexed, without.failed) and with_helper.indexed > 400
    for speaker in ("Putin", "习近平"):
        found = [Engine(str(tmp_path / name)).search("*", size=50, filters=SearchFilters(speaker=speaker, collapse=False)) for name in "ab"]
        assert found[0].total == found[1].total > 0, speaker
        assert sorted(h.id for h in found[0].hits) == sorted(h.id for h in found[1].hits)
