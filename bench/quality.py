"""Retrieval quality on the QA sets: question → the paragraph holding its answer.

    python -m bench.quality [--sets drcd drcd-hans ...] [--limit N] [--out bench/results/quality.json]

Indexes each set's paragraphs with the project's real indexer into a temporary
index, runs every question through the real engine, and reports MRR@10,
Recall@10 and nDCG@10 per set.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.datasets import QASet, qa_sets
from bench.metrics import score_ranks
from search.indexer import Indexer
from search.searcher import Engine

RESULTS = Path(__file__).with_name("results")


def build_index(qa: QASet, folder: Path) -> str:
    data = folder / f"{qa.name}.jsonl"
    with data.open("w", encoding="utf-8") as out:
        for pid, text in qa.docs.items():
            out.write(json.dumps({"id": pid, "body": text}, ensure_ascii=False) + "\n")
    index_dir = str(folder / "index")
    report = Indexer(index_dir).run([str(data)])
    if report.failed:
        raise SystemExit(f"{qa.name}: {report.failed} paragraphs failed to index: {report.failures[:3]}")
    return index_dir


def evaluate(qa: QASet, limit: int | None = None) -> dict:
    queries = qa.queries[:limit] if limit else qa.queries
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = build_index(qa, Path(tmp))
        engine = Engine(index_dir)
        ranks: list[int | None] = []
        started = time.perf_counter()
        for question, relevant in queries:
            ids = [hit.id for hit in engine.search(question, size=10, highlight=False).hits]
            ranks.append(ids.index(relevant) + 1 if relevant in ids else None)
        elapsed = time.perf_counter() - started
        engine.close()
    scores = score_ranks(ranks)
    scores["documents"] = len(qa.docs)
    scores["ms_per_query"] = round(1000 * elapsed / max(1, len(queries)), 2)
    return scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="*", default=None, help="drcd drcd-hans cmrc-dev cmrc-dev-hant cmrc-trial")
    parser.add_argument("--limit", type=int, default=None, help="evaluate only the first N questions of each set")
    parser.add_argument("--out", default=str(RESULTS / "quality.json"))
    args = parser.parse_args(argv)
    results = {}
    for qa in qa_sets(args.sets):
        results[qa.name] = {"engine": evaluate(qa, args.limit)}
        print(json.dumps({qa.name: results[qa.name]}, ensure_ascii=False), flush=True)
    report = {
        "command": "python -m bench.quality" + (f" --limit {args.limit}" if args.limit else ""),
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()} {platform.system()}, Python {platform.python_version()}",
        "results": results,
    }
    if not args.limit:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
