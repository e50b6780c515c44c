"""Retrieval-quality regression check, Anserini style: measured vs ``bench/expected.json``.

    python -m bench.check                  # the fast subset through the real engine (~15 s)
    python -m bench.check --full           # every QA set through the real engine (minutes)
    python -m bench.check --results bench/results/quality.json   # compare stored results, run nothing

Prints one line per set and metric — ``OK`` or ``FAIL`` — and exits 1 if any
metric is below its expected value minus the tolerance. A value above expected
plus the tolerance is still OK, flagged so that ``expected.json`` gets updated.
Only retrieval quality is checked: speed is never asserted.

The fast subset is the first N DRCD questions (traditional, as typed) and the
same questions converted to simplified, against one index of the 1,000 DRCD
paragraphs; ``tests/test_quality_regression.py`` runs it in the test suite.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.datasets import CORPORA, converted, qa_sets, squad
from bench.metrics import score_runs

EXPECTED = Path(__file__).with_name("expected.json")


def load_expected(path: Path = EXPECTED) -> dict:
    return json.loads(Path(path).read_text("utf-8"))


@dataclass(frozen=True)
class Line:
    status: str  # "OK" or "FAIL"
    set: str
    metric: str
    measured: float | None
    expected: float
    tolerance: float
    note: str = ""

    def __str__(self) -> str:
        got = "missing" if self.measured is None else f"{self.measured:.4f}"
        text = f"{self.status:<4} {self.set:<22} {self.metric:<10} {got} (expected {self.expected:.4f} ± {self.tolerance})"
        return f"{text}  {self.note}" if self.note else text


def compare(expected: dict[str, dict[str, float]], measured: dict[str, dict], tolerance: float) -> list[Line]:
    """One :class:`Line` per expected set and metric.

    >>> [str(l) for l in compare({"s": {"mrr@10": 0.9}}, {"s": {"mrr@10": 0.85}}, 0.02)]
    ['FAIL s                      mrr@10     0.8500 (expected 0.9000 ± 0.02)']
    >>> compare({"s": {"mrr@10": 0.9}}, {"s": {"mrr@10": 0.95}}, 0.02)[0].note
    'better than expected: update bench/expected.json'
    """
    lines = []
    for name, metrics in expected.items():
        for metric, want in metrics.items():
            got = measured.get(name, {}).get(metric)
            if got is None:
                lines.append(Line("FAIL", name, metric, None, want, tolerance, "not measured"))
            elif got < want - tolerance - 1e-9:
                lines.append(Line("FAIL", name, metric, got, want, tolerance))
            elif got > want + tolerance + 1e-9:
                lines.append(Line("OK", name, metric, got, want, tolerance, "better than expected: update bench/expected.json"))
            else:
                lines.append(Line("OK", name, metric, got, want, tolerance))
    return lines


def _runs(engine, queries: list[tuple[str, str]]) -> list[tuple[list[str], set[str]]]:
    return [([hit.id for hit in engine.search(question, size=10, highlight=False, facets=False).hits], {relevant}) for question, relevant in queries]


def fast_subset(corpora: Path = CORPORA, questions: int | None = None) -> dict[str, dict]:
    """The fast subset through the real indexer and engine: ``{set name: scores}``."""
    from bench.quality import build_index
    from search.searcher import Engine

    n = questions or load_expected()["fast"]["questions"]
    drcd = squad(Path(corpora) / "qa" / "DRCD_dev.json", "drcd")
    hans = converted(drcd, "t2s", "drcd-hans")
    out: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(config=build_index(drcd, Path(tmp)))
        try:
            for qa in (drcd, hans):
                out[f"{qa.name}-first{n}"] = score_runs(_runs(engine, qa.queries[:n]))
        finally:
            engine.close()
    return out


def full_sets(names: list[str]) -> dict[str, dict]:
    from bench.quality import evaluate

    return {qa.name: evaluate(qa) for qa in qa_sets(names)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--full", action="store_true", help="run every set of expected.json's \"full\" section")
    mode.add_argument("--results", metavar="FILE", help="compare a quality.json (engine results) instead of running")
    parser.add_argument("--expected", default=str(EXPECTED))
    args = parser.parse_args(argv)
    expected = load_expected(Path(args.expected))
    if args.results:
        section = expected["full"]
        stored = json.loads(Path(args.results).read_text("utf-8"))["results"]
        measured = {name: systems.get("engine", {}) for name, systems in stored.items()}
    elif args.full:
        section = expected["full"]
        measured = full_sets(list(section["sets"]))
    else:
        section = expected["fast"]
        measured = fast_subset()
    lines = compare(section["sets"], measured, section["tolerance"])
    for line in lines:
        print(line)
    failed = sum(1 for line in lines if line.status == "FAIL")
    print(f"{len(lines) - failed} OK, {failed} FAIL")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
