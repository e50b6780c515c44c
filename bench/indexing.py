"""Indexing speed, memory and index size: the project against the usual setups, same run, same machine.

    python -m bench.indexing [--limit N] [--systems project project_1proc whoosh_jieba fts5 tantivy] [--workdir DIR]

Indexes ``xwlb.jsonl`` (Chinese) + ``reuters21578.jsonl`` (English) from the
shared corpora (``--limit N``: the first N articles of each) with

- ``project``: ``search.indexer.Indexer`` (its defaults: batched, 2 writer processes);
- ``project_1proc``: the same with ``procs=1``, single process like the baselines;
- ``whoosh_jieba``: Whoosh + jieba ``ChineseAnalyzer``, title + body in one stored TEXT field, one writer;
- ``fts5``: SQLite FTS5 over the same text pre-tokenized with jieba's search mode;
- ``tantivy``: tantivy over the same pre-tokenized text.

Each system runs in its own process, so its memory is its own: ``peak_rss_mb``
is the largest single process (``ru_maxrss``), ``peak_tree_pss_mb`` the sampled
sum over the process and its workers (shared pages counted once). The timed part
starts after imports and dictionary loading (jieba's and the project's alike)
and ends when the index is committed; it includes reading and parsing the JSONL.
Results go to ``bench/results/indexing.json`` (``indexing-limit.json`` with ``--limit``).

``--workdir DIR`` keeps the indexes in ``DIR`` so ``python -m bench.queries --workdir DIR``
can reuse them; by default they live in a temporary folder that is removed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.common import dir_size, header, iter_records, limited_copies, news_paths, own_peak_rss_mb, run_measured, versions, write_result

SYSTEMS = ("project", "project_1proc", "whoosh_jieba", "fts5", "tantivy")
BASELINE = "whoosh_jieba"
MARKER = "bench-complete.json"

DESCRIPTIONS = {
    "project": "this project (search.indexer.Indexer, defaults: 2 writer processes)",
    "project_1proc": "this project, one process (Indexer(procs=1))",
    "whoosh_jieba": "Whoosh + jieba ChineseAnalyzer, one TEXT field, one writer",
    "fts5": "SQLite FTS5, text pre-tokenized by jieba (search mode)",
    "tantivy": "tantivy, text pre-tokenized by jieba (search mode)",
}


def index_location(workdir: Path, system: str, limit: int | None) -> Path:
    tag = f"limit{limit}" if limit else "full"
    name = "index.sqlite" if system == "fts5" else "index"
    return workdir / f"{system}-{tag}" / name


def index_ready(workdir: Path, system: str, limit: int | None) -> bool:
    return (index_location(workdir, system, limit).parent / MARKER).is_file()


def build(system: str, index_path: Path, inputs: list[Path]) -> int:
    """Index ``inputs`` with ``system`` into ``index_path``; the number of documents indexed."""
    if system in ("project", "project_1proc"):
        from search.indexer import Indexer

        procs = 1 if system == "project_1proc" else None
        report = Indexer(str(index_path), procs=procs).run([str(p) for p in inputs])
        if report.failed:
            raise SystemExit(f"project: {report.failed} articles failed: {report.failures[:3]}")
        return report.indexed
    records = iter_records(inputs)
    if system == "whoosh_jieba":
        from bench.baselines import WhooshBaseline

        return WhooshBaseline("whoosh_jieba").build(index_path, ((r.id, r.text) for r in records))
    if system == "fts5":
        from bench.baselines import fts5_build

        return fts5_build(index_path, records)
    if system == "tantivy":
        from bench.baselines import tantivy_build

        return tantivy_build(index_path, records)
    raise SystemExit(f"unknown system {system!r}")


def warm_up(system: str) -> None:
    """Load what every run loads once (dictionaries, converters), outside the timed part."""
    if system.startswith("project"):
        from search.analysis import analyze
        from search.indexer import Indexer  # noqa: F401

        list(analyze("中俄關係 cooperating"))
    else:
        from bench import baselines

        baselines.jieba_search_text("中俄关系 cooperating")
        if system == "whoosh_jieba":
            baselines.jieba_chinese_analyzer()
        if system == "tantivy":
            import tantivy  # noqa: F401


def worker(args: argparse.Namespace) -> int:
    index_path = Path(args.index)
    warm_up(args.worker)
    started = time.perf_counter()
    docs = build(args.worker, index_path, [Path(p) for p in args.input])
    seconds = time.perf_counter() - started
    result = {
        "system": args.worker,
        "docs": docs,
        "seconds": round(seconds, 2),
        "index_bytes": dir_size(index_path),
        "peak_rss_mb": own_peak_rss_mb(),
    }
    Path(args.result).write_text(json.dumps(result), "utf-8")
    return 0


def measure(system: str, index_path: Path, inputs: list[Path], input_bytes: int, timeout: float) -> dict:
    if index_path.exists():
        shutil.rmtree(index_path.parent)
    index_path.parent.mkdir(parents=True)
    result_file = index_path.parent / "result.json"
    args = ["bench.indexing", "--worker", system, "--index", str(index_path), "--result", str(result_file), "--input", *map(str, inputs)]
    print(f"indexing with {system} ...", file=sys.stderr, flush=True)
    r = run_measured(args, result_file, timeout=timeout)
    r["description"] = DESCRIPTIONS[system]
    r["docs_per_s"] = round(r["docs"] / r["seconds"], 1)
    r["mb_per_s"] = round(input_bytes / 1e6 / r["seconds"], 3)
    r["index_mb"] = round(r["index_bytes"] / 1e6, 1)
    (index_path.parent / MARKER).write_text(json.dumps({"system": system, "docs": r["docs"]}), "utf-8")
    print(json.dumps(r), file=sys.stderr, flush=True)
    return r


def ratios(results: dict[str, dict], baseline: str = BASELINE) -> dict[str, dict]:
    """Project ÷ baseline for speed, size and memory (speed > 1 is faster, size/memory < 1 is smaller)."""
    base = results.get(baseline)
    if not base:
        return {}
    keys = ("docs_per_s", "mb_per_s", "index_mb", "peak_rss_mb", "peak_tree_pss_mb")
    return {
        f"{mine}/{baseline}": {k: round(results[mine][k] / base[k], 2) for k in keys if base.get(k)}
        for mine in ("project", "project_1proc")
        if mine in results
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="index only the first N articles of each corpus")
    parser.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS))
    parser.add_argument("--workdir", default=None, help="keep indexes here (reused by bench.queries) instead of a temp folder")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed per system (default 3600)")
    parser.add_argument("--worker", choices=SYSTEMS, help=argparse.SUPPRESS)
    parser.add_argument("--index", help=argparse.SUPPRESS)
    parser.add_argument("--input", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)

    temp = None if args.workdir else tempfile.TemporaryDirectory(prefix="bench-indexing-")
    workdir = Path(args.workdir or temp.name).resolve()
    try:
        inputs, input_bytes = limited_copies(news_paths(), args.limit, workdir / f"input-limit{args.limit}")
        docs_in = sum(1 for _ in iter_records(inputs))
        results: dict[str, dict] = {}
        for system in args.systems:
            results[system] = measure(system, index_location(workdir, system, args.limit), inputs, input_bytes, args.timeout)
    finally:
        if temp is not None:
            temp.cleanup()
    report = header("python -m bench.indexing" + (f" --limit {args.limit}" if args.limit else ""))
    report["input"] = {
        "files": [p.name for p in news_paths()],
        "articles": docs_in,
        "mb": round(input_bytes / 1e6, 1),
        "limit_per_file": args.limit,
    }
    report["versions"] = versions("Whoosh-Reloaded", "jieba", "rjieba", "OpenCC", "tantivy", "psutil") | {"sqlite": __import__("sqlite3").sqlite_version}
    report["results"] = results
    report["ratios"] = ratios(results)
    path = write_result("indexing", args.limit, report)
    print(json.dumps({"results": {k: {m: v[m] for m in ("docs_per_s", "mb_per_s", "index_mb", "peak_rss_mb", "peak_tree_pss_mb")} for k, v in results.items()}, "ratios": report["ratios"]}, indent=1))
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
