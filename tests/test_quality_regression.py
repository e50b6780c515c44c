"""Retrieval quality must not regress (Anserini-style check against ``bench/expected.json``).

Runs the fast subset — the first DRCD questions as typed (traditional) and
converted to simplified, against an index of the 1,000 DRCD paragraphs — through
the real indexer and engine. Only quality is checked, never speed.
Skipped when the evaluation corpora are not beside the project.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"


@pytest.mark.slow
def test_fast_subset_meets_expected_quality():
    if not (CORPORA / "qa" / "DRCD_dev.json").is_file():
        pytest.skip(f"{CORPORA} not present")
    from bench.check import compare, fast_subset, load_expected

    expected = load_expected()["fast"]
    measured = fast_subset(CORPORA, expected["questions"])
    lines = compare(expected["sets"], measured, expected["tolerance"])
    failures = [line for line in lines if line.status == "FAIL"]
    assert not failures, "retrieval quality below bench/expected.json:\n" + "\n".join(map(str, lines))
