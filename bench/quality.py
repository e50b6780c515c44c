"""Retrieval quality on the QA sets: question → the paragraph holding its answer.

    python -m bench.quality [--sets drcd drcd-hans ...] [--systems engine whoosh_jieba cjk_bigram]
                            [--backend whoosh|opensearch ...] [--opensearch URL]
                            [--limit N] [--out bench/results/quality.json]

Indexes each set's paragraphs with the project's real indexer into a temporary
index (one writer process, so one segment and the same ranking on every run),
runs every question through the real engine, and reports MRR@10, Success@10 (one
relevant paragraph per question: the same as Recall@10) and nDCG@10 per set. In the same run, the same paragraphs and
questions go through two baselines (see ``bench/baselines.py``):

- ``whoosh_jieba``: Whoosh + jieba's ``ChineseAnalyzer`` on one TEXT field, BM25F
  defaults, questions parsed by Whoosh's ``QueryParser`` with ``OrGroup``;
- ``cjk_bigram``: the same with a Lucene ``CJKAnalyzer``-style analyzer (overlapping
  Han bigrams, lowercase Latin words);
- ``words_bigrams``: a minimal setup: t2s, jieba search-mode words and those bigrams
  in two fields, ORed with equal weight.

``--backend opensearch`` runs the engine on an OpenSearch cluster (``--opensearch URL``,
default ``$SEARCH_OPENSEARCH_URL``) instead; ``--backend whoosh opensearch`` runs both in the
same run, the OpenSearch results as ``engine-opensearch``.

Results: ``results[set]["engine"]``, ``results[set]["whoosh_jieba"]``, ``results[set]["cjk_bigram"]``, ``results[set]["words_bigrams"]``.
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
from bench.metrics import score_runs
from search.backends.base import BackendConfig
from search.indexer import Indexer
from search.searcher import Engine

RESULTS = Path(__file__).with_name("results")


def build_index(qa: QASet, folder: Path, config: BackendConfig | None = None) -> BackendConfig:
    """Index the set's paragraphs (a temporary folder, or a fresh index on the cluster ``config`` names)."""
    data = folder / f"{qa.name}.jsonl"
    with data.open("w", encoding="utf-8") as out:
        for pid, text in qa.docs.items():
            out.write(json.dumps({"id": pid, "body": text}, ensure_ascii=False) + "\n")
    if config is None:
        config = BackendConfig(index_dir=str(folder / "index"))
    # One writer process, so one segment: with the default 2 processes the segment order is
    # a race, and the engine's hits (Whoosh's AndNot over several segments) change with it.
    report = Indexer(procs=1, config=config).run([str(data)])
    if report.failed:
        raise SystemExit(f"{qa.name}: {report.failed} paragraphs failed to index: {report.failures[:3]}")
    return config


def opensearch_config(qa: QASet, urls: str | None) -> BackendConfig:
    """A fresh index for the set on the cluster (an old one of the same name is deleted)."""
    from opensearchpy import OpenSearch

    config = BackendConfig.from_env(backend="opensearch", urls=urls, index_name=f"bench-quality-{qa.name}")
    OpenSearch(hosts=list(config.urls)).indices.delete(index=config.index_name, ignore=[404])
    return config


def evaluate(qa: QASet, limit: int | None = None, backend: str = "whoosh", urls: str | None = None) -> dict:
    queries = qa.queries[:limit] if limit else qa.queries
    with tempfile.TemporaryDirectory() as tmp:
        config = build_index(qa, Path(tmp), opensearch_config(qa, urls) if backend == "opensearch" else None)
        engine = Engine(config=config)
        runs: list[tuple[list[str], set[str]]] = []
        errors: list[str] = []
        started = time.perf_counter()
        for question, relevant in queries:
            try:
                ids = [hit.id for hit in engine.search(question, size=10, highlight=False, facets=False).hits]
            except Exception as exc:  # noqa: BLE001 - an engine error is a miss, counted and shown
                errors.append(f"{question}: {type(exc).__name__}: {exc}")
                ids = []
            runs.append((ids, {relevant}))
        elapsed = time.perf_counter() - started
        engine.close()
    scores = score_runs(runs)
    if errors:
        scores["errors"] = len(errors)
        scores["error_examples"] = errors[:3]
    scores["documents"] = len(qa.docs)
    scores["ms_per_query"] = round(1000 * elapsed / max(1, len(queries)), 2)
    return scores


BASELINES = ("whoosh_jieba", "cjk_bigram", "words_bigrams")
SYSTEMS = ("engine", *BASELINES)
DESCRIPTIONS = {
    "engine": "this project: Indexer + Engine.search (highlight off)",
    "whoosh_jieba": "Whoosh + jieba ChineseAnalyzer, one TEXT field, BM25F defaults, QueryParser with OrGroup",
    "cjk_bigram": "Whoosh + Lucene CJKAnalyzer-style bigrams, one TEXT field, BM25F defaults, QueryParser with OrGroup",
    "words_bigrams": "Whoosh, text and questions converted with OpenCC t2s, jieba search-mode words and CJK bigrams in two fields, ORed with equal weight, BM25F defaults",
}


def evaluate_baseline(qa: QASet, name: str, limit: int | None = None) -> dict:
    """The same set through a baseline (``whoosh_jieba``, ``cjk_bigram`` or ``words_bigrams``) in a temporary index."""
    from bench.baselines import WhooshBaseline

    queries = qa.queries[:limit] if limit else qa.queries
    with tempfile.TemporaryDirectory() as tmp:
        baseline = WhooshBaseline(name)
        baseline.build(tmp, qa.docs.items())
        baseline.open(tmp)
        runs: list[tuple[list[str], set[str]]] = []
        started = time.perf_counter()
        try:
            for question, relevant in queries:
                ids, _ = baseline.search(question, 10)
                runs.append((list(ids), {relevant}))
        finally:
            baseline.close()
        elapsed = time.perf_counter() - started
    scores = score_runs(runs)
    scores["documents"] = len(qa.docs)
    scores["ms_per_query"] = round(1000 * elapsed / max(1, len(queries)), 2)
    return scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="*", default=None, help="drcd drcd-hans cmrc-dev cmrc-dev-hant cmrc-trial")
    parser.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS), help="engine and/or baselines (default: all)")
    parser.add_argument(
        "--backend", nargs="+", choices=("whoosh", "opensearch"), default=["whoosh"], help="storage backends the engine runs on"
    )
    parser.add_argument("--opensearch", default=None, metavar="URL", help="OpenSearch URL(s) (default $SEARCH_OPENSEARCH_URL)")
    parser.add_argument("--limit", type=int, default=None, help="evaluate only the first N questions of each set")
    parser.add_argument("--out", default=str(RESULTS / "quality.json"))
    args = parser.parse_args(argv)
    results = {}
    for qa in qa_sets(args.sets):
        results[qa.name] = {}
        for system in args.systems:
            if system == "engine":
                for backend in args.backend:
                    name = "engine" if backend == "whoosh" else f"engine-{backend}"
                    results[qa.name][name] = evaluate(qa, args.limit, backend, args.opensearch)
                    print(json.dumps({qa.name: {name: results[qa.name][name]}}, ensure_ascii=False), flush=True)
                continue
            else:
                results[qa.name][system] = evaluate_baseline(qa, system, args.limit)
            print(json.dumps({qa.name: {system: results[qa.name][system]}}, ensure_ascii=False), flush=True)
    report = {
        "command": "python -m bench.quality" + (f" --sets {' '.join(args.sets)}" if args.sets else "")
        + (f" --systems {' '.join(args.systems)}" if list(args.systems) != list(SYSTEMS) else "")
        + (f" --backend {' '.join(args.backend)}" if args.backend != ["whoosh"] else "")
        + (f" --limit {args.limit}" if args.limit else ""),
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()} {platform.system()}, Python {platform.python_version()}",
        "systems": {name: DESCRIPTIONS[name] for name in args.systems}
        | ({"engine-opensearch": "this project on OpenSearch (one node): Indexer + Engine.search"} if "opensearch" in args.backend else {}),
        "results": results,
    }
    if not args.limit:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
