"""Indexing speed, memory and index size: the project against the usual setups, same run, same machine.

    python -m bench.indexing [--limit N] [--systems project project_1proc whoosh_jieba fts5 tantivy] [--workdir DIR]

A system named more than once runs more than once, in the order given (``--systems project
whoosh_jieba project whoosh_jieba project``: runs alternating, same machine state);
``runs`` in the results lists every run, ``results`` and ``ratios`` use each system's median
run (by time; of an even number, the slower middle one). This machine's speed drifts by up to
a fifth within minutes, so one run of each is not a ratio to trust.

Indexes ``xwlb.jsonl`` (Chinese) + ``reuters21578.jsonl`` (English) from the
shared corpora (``--limit N``: the first N articles of each) with

- ``project``: ``python -m search index --nice 0`` (its defaults otherwise: batched, 2 writer processes; at the baselines' CPU priority);
- ``project_1proc``: the same with ``--procs 1``, single process like the baselines;
- ``whoosh_jieba``: Whoosh + jieba ``ChineseAnalyzer``, title + body in one stored TEXT field, one writer;
- ``fts5``: SQLite FTS5 over the same text pre-tokenized with jieba's search mode;
- ``tantivy``: tantivy over the same pre-tokenized text.

Each system is one command in its own process, timed whole: ``seconds`` runs from
starting Python to the committed index, imports and dictionary loading included
(``index_s``, the baselines' time from the first article read, is kept beside it).
``startup_s`` is the same command on a one-article file; ``rerun_s`` (this project) the same
command run again over the same input, every article unchanged, and ``add100_s`` once more
with 100 new articles besides (the first 100 of the input under new ids). ``peak_rss_mb`` is the
largest single process (``ru_maxrss``), ``peak_tree_pss_mb`` the sampled sum over
the process and its workers (shared pages counted once).
Results go to ``bench/results/indexing.json`` (``indexing-limit.json`` with ``--limit``).

``--workdir DIR`` keeps the indexes in ``DIR`` so ``python -m bench.queries --workdir DIR``
can reuse them; by default they live in a temporary folder that is removed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, dir_size, header, iter_records, limited_copies, news_paths, run_measured, versions, write_result

SYSTEMS = ("project", "project_1proc", "whoosh_jieba", "fts5", "tantivy")
INDEXER_SYSTEMS = ("indexer_dedup", "indexer_nodedup", "indexer_nospeakers")
BASELINE = "whoosh_jieba"
MARKER = "bench-complete.json"
ADDED = 100  # new articles of the "add100_s" run

DESCRIPTIONS = {
    "project": "this project: python -m search index (defaults: 2 writer processes)",
    "project_1proc": "this project, one process: python -m search index --procs 1",
    # bench/duplicates.py: the indexer in one command, with and without near-duplicate grouping.
    "indexer_dedup": "this project: search.indexer.Indexer (defaults, grouping near-duplicates)",
    "indexer_nodedup": "this project: search.indexer.Indexer(dedup=False)",
    # bench/speakers.py: what finding the people quoted (names, the entity lexicon) costs the indexer.
    "indexer_nospeakers": "this project: search.indexer.Indexer with speaker extraction replaced by nothing",
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
    """Index ``inputs`` with a baseline ``system`` into ``index_path``; the number of documents indexed."""
    if system in INDEXER_SYSTEMS:
        from search.indexer import Indexer

        if system == "indexer_nospeakers":
            from search import indexer
            from search.ingest import loader

            # this process only: the measurement's "without" (the indexer finds speakers itself)
            loader.with_speakers = indexer.with_speakers = lambda article: article
        report = Indexer(str(index_path), dedup=system != "indexer_nodedup").run([str(p) for p in inputs])
        if report.failed:
            raise SystemExit(f"{system}: {report.failed} articles failed: {report.failures[:3]}")
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
    """Load what every run of a baseline loads once (jieba's dictionary, tantivy)."""
    if system in INDEXER_SYSTEMS:
        return
    from bench import baselines

    baselines.jieba_search_text("中俄关系 cooperating")
    if system == "whoosh_jieba":
        baselines.jieba_chinese_analyzer()
    if system == "tantivy":
        import tantivy  # noqa: F401


def baseline_command(args: argparse.Namespace) -> int:
    """A baseline as one command: imports, dictionary, then indexing (``index_s``) to the commit."""
    index_path = Path(args.index)
    warm_up(args.build)
    started = time.perf_counter()
    docs = build(args.build, index_path, [Path(p) for p in args.input])
    Path(args.result).write_text(json.dumps({"docs": docs, "index_s": round(time.perf_counter() - started, 2)}), "utf-8")
    return 0


def command(system: str, index_path: Path, inputs: list[Path], result: Path) -> list[str]:
    if system.startswith("project"):
        procs = ["--procs", "1"] if system == "project_1proc" else []
        return [sys.executable, "-m", "search", "index", *map(str, inputs), "--index", str(index_path), "--quiet", "--nice", "0", *procs]
    return [sys.executable, "-m", "bench.indexing", "--build", system, "--index", str(index_path), "--result", str(result), "--input", *map(str, inputs)]


def worker(args: argparse.Namespace) -> int:
    """Time one system's whole command (a child process) and read its peak memory."""
    index_path = Path(args.index)
    inner = index_path.parent / "inner.json"
    started = time.perf_counter()
    done = subprocess.run(command(args.worker, index_path, [Path(p) for p in args.input], inner), cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{args.worker}: exit status {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    if args.worker.startswith("project"):
        counts = re.search(r"indexed (\d+) / updated (\d+)", done.stdout)
        result = {"docs": int(counts[1]) + int(counts[2])}
    else:
        result = json.loads(inner.read_text("utf-8"))
    kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result |= {"system": args.worker, "seconds": round(seconds, 2), "index_bytes": dir_size(index_path), "peak_rss_mb": round(kib / 1024, 1)}
    Path(args.result).write_text(json.dumps(result), "utf-8")
    return 0


def timed(system: str, index_path: Path, inputs: list[Path]) -> float:
    """Seconds of the system's whole command over ``inputs`` into ``index_path``."""
    started = time.perf_counter()
    subprocess.run(command(system, index_path, inputs, index_path.parent / "inner.json"), cwd=ROOT, check=True, capture_output=True)
    return round(time.perf_counter() - started, 2)


def startup(system: str, folder: Path, record: str) -> float:
    """Seconds of the system's whole command on a one-article file (a new index)."""
    folder.mkdir(parents=True, exist_ok=True)
    one = folder / "one.jsonl"
    one.write_text(record, "utf-8")
    return timed(system, folder / ("index.sqlite" if system == "fts5" else "index"), [one])


def measure(system: str, index_path: Path, inputs: list[Path], input_bytes: int, timeout: float) -> dict:
    if index_path.exists():
        shutil.rmtree(index_path.parent)
    index_path.parent.mkdir(parents=True)
    result_file = index_path.parent / "result.json"
    args = ["bench.indexing", "--worker", system, "--index", str(index_path), "--result", str(result_file), "--input", *map(str, inputs)]
    print(f"indexing with {system} ...", file=sys.stderr, flush=True)
    load = [round(x, 2) for x in os.getloadavg()]  # the machine is shared: how busy it was
    r = run_measured(args, result_file, timeout=timeout)
    r["load_avg_at_start"] = load
    r["description"] = DESCRIPTIONS[system]
    if system.startswith("project"):
        # The same command again over the same input: every article unchanged (a daily re-run).
        r["rerun_s"] = timed(system, index_path, inputs)
        # Then with 100 new articles besides (the first 100 of the input under new ids): a daily
        # run over a folder that grew; the new ones are grouped against every article held.
        fresh = index_path.parent / "added.jsonl"
        with open(inputs[0], encoding="utf-8") as source, open(fresh, "w", encoding="utf-8") as out:
            for _, line in zip(range(ADDED), source):
                record = json.loads(line)
                record["id"] = f"added-{record['id']}"
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
        r["add100_s"] = timed(system, index_path, [*inputs, fresh])
    with open(inputs[0], encoding="utf-8") as first:
        r["startup_s"] = startup(system, index_path.parent / "startup", first.readline())
    r["docs_per_s"] = round(r["docs"] / r["seconds"], 1)
    r["mb_per_s"] = round(input_bytes / 1e6 / r["seconds"], 3)
    r["index_mb"] = round(r["index_bytes"] / 1e6, 1)
    (index_path.parent / MARKER).write_text(json.dumps({"system": system, "docs": r["docs"]}), "utf-8")
    print(json.dumps(r), file=sys.stderr, flush=True)
    return r


def alternate(without: str, with_: str, rounds: int, target: float) -> dict:
    """What a part of the indexer costs: the whole news corpus indexed by ``without`` and
    ``with_`` (two of :data:`INDEXER_SYSTEMS`), alternating ABBA… ``rounds`` times in one run,
    best time of each; ``throughput_drop`` is the share of throughput ``with_`` loses."""
    inputs = news_paths()
    input_bytes = sum(p.stat().st_size for p in inputs)
    runs: dict[str, list[dict]] = {without: [], with_: []}
    order = []
    for n in range(rounds):
        order += [without, with_] if n % 2 == 0 else [with_, without]
    with tempfile.TemporaryDirectory(prefix="bench-alternate-") as work:
        for system in order:
            runs[system].append(measure(system, index_location(Path(work), system, None), inputs, input_bytes, 3600))
    best = {system: min(r["seconds"] for r in found) for system, found in runs.items()}
    docs = runs[with_][0]["docs"]
    return {
        "articles": docs,
        "order": order,
        "seconds": {system: [r["seconds"] for r in found] for system, found in runs.items()},
        "docs_per_s_best": {system: round(docs / seconds, 1) for system, seconds in best.items()},
        "throughput_drop": round(1 - best[without] / best[with_], 4),
        "index_mb": {system: found[0]["index_mb"] for system, found in runs.items()},
        "target_drop_at_most": target,
    }


def median_run(runs: list[dict]) -> dict:
    """The run of median time (of an even number, the slower of the two middle ones).

    >>> median_run([{"seconds": 9.0}, {"seconds": 7.0}, {"seconds": 8.0}])["seconds"]
    8.0
    >>> median_run([{"seconds": 9.0}, {"seconds": 7.0}])["seconds"]
    9.0
    """
    ordered = sorted(runs, key=lambda run: run["seconds"])
    return ordered[len(ordered) // 2]


def ratios(results: dict[str, dict], baseline: str = BASELINE) -> dict[str, dict]:
    """Project ÷ baseline for speed, size and memory (speed > 1 is faster, size/memory < 1 is smaller)."""
    base = results.get(baseline)
    if not base:
        return {}
    keys = ("docs_per_s", "mb_per_s", "index_mb", "peak_rss_mb", "peak_tree_pss_mb", "startup_s")
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
    parser.add_argument("--worker", choices=(*SYSTEMS, *INDEXER_SYSTEMS), help=argparse.SUPPRESS)
    parser.add_argument("--build", choices=(*SYSTEMS, *INDEXER_SYSTEMS), help=argparse.SUPPRESS)
    parser.add_argument("--index", help=argparse.SUPPRESS)
    parser.add_argument("--input", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)
    if args.build:
        return baseline_command(args)

    # The project's modules as `make install` leaves them, compiled, like the baselines' libraries
    # (pip compiled those): otherwise, where bytecode is never written, every run compiles them.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "search"), str(ROOT / "bench")], check=True)
    temp = None if args.workdir else tempfile.TemporaryDirectory(prefix="bench-indexing-")
    workdir = Path(args.workdir or temp.name).resolve()
    try:
        inputs, input_bytes = limited_copies(news_paths(), args.limit, workdir / f"input-limit{args.limit}")
        docs_in = sum(1 for _ in iter_records(inputs))
        results: dict[str, dict] = {}
        runs: list[dict] = []  # every run in order: a system named twice (alternating) runs twice
        for system in args.systems:
            runs.append(measure(system, index_location(workdir, system, args.limit), inputs, input_bytes, args.timeout))
        results = {system: median_run([r for r in runs if r["system"] == system]) for system in dict.fromkeys(args.systems)}
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
    report["results"] = results  # each system's median run
    report["runs"] = [{k: r[k] for k in ("system", "seconds", "rerun_s", "add100_s", "startup_s", "peak_rss_mb", "peak_tree_pss_mb", "load_avg_at_start") if k in r} for r in runs]
    report["ratios"] = ratios(results)
    path = write_result("indexing", args.limit, report)
    print(json.dumps({"results": {k: {m: v[m] for m in ("docs_per_s", "mb_per_s", "index_mb", "peak_rss_mb", "peak_tree_pss_mb")} for k, v in results.items()}, "ratios": report["ratios"]}, indent=1))
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
