"""Three real OpenSearch nodes; the elected cluster manager is SIGKILLed during bulk indexing and
during searches (bench/cluster.py). Minutes long: run with ``pytest -m cluster`` (.ci/run does)."""

from __future__ import annotations

import json

import pytest

from bench.cluster import run
from tests.opensearch_node import need_java

pytestmark = pytest.mark.cluster


def test_killing_the_cluster_manager_loses_nothing(tmp_path):
    need_java()
    report = run(tmp_path, articles_n=2000, clients=2, calm_s=3, heap_mb=384)
    print(json.dumps(report, indent=1))
    indexing, searching = report["indexing"], report["searching"]
    # Indexing: the kill came mid-way; whatever failed was indexed again and nothing is lost or altered.
    assert 0 < indexing["count_when_killed"] < indexing["articles"]
    assert indexing["still_failed"] == 0
    assert indexing["count"] == indexing["articles"]
    assert indexing["missing"] == indexing["unexpected"] == 0
    assert indexing["digest_mismatches"] == indexing["text_mismatches"] == 0
    # Searches kept answering, with the full totals, while a node was gone and while it rejoined.
    failure = searching["failure"]
    assert failure["queries"] > 0
    assert failure["errors"] + failure["wrong_total"] <= 0.05 * failure["queries"], failure["outcomes"]
    assert searching["after"]["queries"] > 0 and searching["after"]["outcomes"].keys() == {"ok"}, searching["after"]["outcomes"]
    # Both killed nodes came back (run() waits for 3 nodes and green, or fails).
    assert indexing["rejoin_s"] > 0 and searching["rejoin_s"] > 0
