"""``bench/load.py`` for 5 seconds: 8 concurrent clients against the real server on 127.0.0.1.

No timing is asserted (machines differ); what must hold is that nothing fails and memory
does not creep: 0 errors, the server alive and without tracebacks, and its resident memory
at the end at most 1.2 times what it was after warm-up.
"""

from __future__ import annotations

import json

from bench.load import main
from search.indexer import Indexer
from tests.reldata import sample_records, write_files

MAX_RSS_GROWTH = 1.2


def test_five_seconds_of_load_without_errors_or_memory_growth(tmp_path):
    write_files(sample_records(400, seed=3), tmp_path / "data", 100)
    index_dir = tmp_path / "index"
    report = Indexer(str(index_dir)).run([str(tmp_path / "data")])
    assert report.failed == 0, report.failures
    out = tmp_path / "load.json"
    status = main(["--index", str(index_dir), "--clients", "8", "--duration", "5", "--warmup", "3", "--max-requests", "20000", "--out", str(out)])
    result = json.loads(out.read_text("utf-8"))
    assert result["requests"] > 0
    assert result["errors"] == 0, result["error_examples"]
    assert result["server_alive_at_end"] and result["server_tracebacks"] == 0
    rss = result["server_rss_mb"]
    assert rss["end"] <= MAX_RSS_GROWTH * rss["after_warmup"], rss
    assert status == 0
