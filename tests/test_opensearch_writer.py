"""The OpenSearch writer's analysis processes (search/backends/opensearch/backend.py): documents
in order, and a process that dies fails the batch instead of hanging the run."""

from __future__ import annotations

import os
import signal
import time

import pytest

from search.backends.opensearch import backend
from search.backends.opensearch.documents import to_source
from search.errors import WriterProcessError
from search.indexer import content_hash
from search.model import Article


def _items(n: int) -> list[tuple[Article, str]]:
    articles = [
        Article(f"a{i:04d}", title={"zh": f"第{i}号报告", "en": f"Report {i}"}, body={"zh": f"第{i % 7}省粮食收成。" * 5, "en": f"The grain harvest in province {i % 7}. " * 5})
        for i in range(n)
    ]
    return [(article, content_hash(article)) for article in articles]


def test_documents_come_back_in_order_as_one_process_makes_them():
    items = _items(backend.PARALLEL_MIN_BATCH + 37)
    with backend._analyzed(items, 2) as sources:
        parallel = list(sources)
    assert parallel == [to_source(item) for item in items]


@pytest.mark.parametrize("after", [0, 40, 70])  # while it has chunks to do: 19 of 32 articles, 4 each ahead
def test_an_analysis_process_that_dies_fails_the_batch_at_once(monkeypatch, after):
    from search.processes import Helper

    started: list[Helper] = []
    monkeypatch.setattr(backend, "Helper", lambda *a, **k: started.append(Helper(*a, **k)) or started[-1])
    items = _items(backend.PARALLEL_MIN_BATCH + 100)
    began = time.monotonic()
    with pytest.raises(WriterProcessError, match="an analysis process died .*exit status -9.*run the same command again"):
        with backend._analyzed(items, 2) as sources:
            for k, _ in enumerate(sources):
                if k == after:
                    os.kill(started[k % 2].process.pid, signal.SIGKILL)
    assert time.monotonic() - began < 60
    assert all(not helper.process.is_alive() for helper in started)  # both stopped with the batch
