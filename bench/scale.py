"""Scaling: the Whoosh and OpenSearch backends on the news corpus and on it repeated, same run.

    python -m bench.scale [--sizes 1 4] [--backends whoosh opensearch] [--queries 1000] [--procs 1 2]

For each corpus size (``xwlb.jsonl`` + ``reuters21578.jsonl``, 38,637 articles; ``4``: the same
articles 4 times, copies with new ids) and each backend (``whoosh``: an index folder;
``opensearch``: one local node started here, ``--heap`` MB):

- indexing: ``search.indexer.Indexer`` with 2 analysis processes, in its own process, timed from
  the first article read to the last one searchable (dictionaries loaded before): articles/s,
  index size (Whoosh: its folder; OpenSearch: the index's store after a flush), peak memory of
  the indexing processes (PSS) and of the node (JVM RSS);
- in-process searches: ``--queries`` sampled from the titles (bench/queries.py, seed 20241022)
  through the engine as the API calls it (snippets, facets), after 4,500 other warm-up queries
  (:data:`SCALE_WARMUP`: a node's JIT compiler takes that many to settle): p50/p99;
- over HTTP: ``python -m search serve --workers N`` (N = ``--server-workers``, else
  :data:`SERVER_WORKERS`), the warm-up
  queries, then every query once from 8 client threads: p50/p99, requests/s, errors, server
  memory (+ JVM RSS). The node's request cache is cleared before each timed phase.

``--procs 1``: the OpenSearch indexing of the smallest size is run again with that many analysis
processes (a fresh index each), to show how indexing grows with the Python side.
Results: ``bench/results/scale.json`` (``scale-limit.json`` with ``--limit``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.common import dir_size, header, latency_summary, limited_copies, news_paths, own_peak_rss_mb, run_measured, versions, write_result
from bench.queries import SEED, http_load, sample_queries, start_server, stop_server
from search.backends.opensearch.localnode import LocalCluster, get_json, rss_bytes

BACKENDS = ("whoosh", "opensearch")
#: ``serve --workers`` of the HTTP runs on this 2-core machine. A Whoosh worker computes all of a
#: search itself: one per core. An OpenSearch worker waits on the node for about half of each
#: search (the node computes meanwhile): two per core kept the cores busy. On the 4x corpus, 300
#: queries, three runs each alternating (2026-11-29): 2 workers 68-80 requests/s, p99 150-203 ms;
#: 3 workers 80-101/s; 4 workers 93-104/s, p99 119-148 ms; 6 workers no more requests/s than 4 and
#: a longer tail (p99 149-152 ms against 117-122 ms).
SERVER_WORKERS = {"whoosh": 2, "opensearch": 4}
SCALE_WARMUP = 4_500  # warm-up queries before each timed phase (see main())


def repeated(inputs: list[Path], times: int, target: Path) -> tuple[Path, int]:
    """One JSONL file holding every article of ``inputs`` ``times`` times (copy k > 0 gets id ``ID~k``);
    the file and its article count."""
    count = 0
    with open(target, "w", encoding="utf-8") as out:
        for copy in range(times):
            for path in inputs:
                with open(path, encoding="utf-8") as handle:
                    for line in handle:
                        if not line.strip():
                            continue
                        record = json.loads(line)
                        if copy:
                            record["id"] = f"{record['id']}~{copy}"
                        out.write(json.dumps(record, ensure_ascii=False) + "\n")
                        count += 1
    return target, count


class Sampler:
    """Peak RSS of one process (the JVM), sampled every half second while in a ``with`` block."""

    def __init__(self, pid: int | None) -> None:
        self.pid, self.peak = pid, 0
        self._stop = threading.Event()

    def rss(self) -> int:
        return rss_bytes(self.pid)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.peak = max(self.peak, self.rss())

    def __enter__(self) -> Sampler:
        self.peak = self.rss()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())

    @property
    def peak_mb(self) -> float:
        return round(self.peak / 2**20, 1)


class Target:
    """Where one (backend, size) index lives: its configuration and the command-line options that name it."""

    def __init__(self, backend: str, workdir: Path, tag: str, node_url: str | None) -> None:
        self.backend, self.tag, self.node_url = backend, tag, node_url
        self.index_dir = workdir / f"whoosh-{tag}"
        self.index_name = f"bench-{tag}"

    def config(self) -> dict:
        """``BackendConfig`` keyword arguments (JSON-able, for worker processes)."""
        if self.backend == "whoosh":
            return {"backend": "whoosh", "index_dir": str(self.index_dir)}
        return {"backend": "opensearch", "urls": [self.node_url], "index_name": self.index_name}

    def options(self) -> list[str]:
        if self.backend == "whoosh":
            return ["--backend", "whoosh", "--index", str(self.index_dir)]
        return ["--backend", "opensearch", "--opensearch", self.node_url, "--opensearch-index", self.index_name]

    def size_bytes(self) -> int:
        if self.backend == "whoosh":
            return dir_size(self.index_dir)
        from urllib.request import Request, urlopen

        for action in ("_refresh", "_flush"):
            urlopen(Request(f"{self.node_url}/{self.index_name}/{action}", method="POST"), timeout=600).read()
        stats = get_json(f"{self.node_url}/{self.index_name}/_stats/store", timeout=60)
        return stats["_all"]["primaries"]["store"]["size_in_bytes"]

    def forget_answers(self) -> None:
        """Clear the node's shard request cache of this index: it keeps whole answers of
        ``size: 0`` searches (a page's counts and facets, its stories' versions), so a phase
        repeating the previous phase's queries would be timed on answers already computed."""
        if self.backend == "opensearch":
            from urllib.request import Request, urlopen

            urlopen(Request(f"{self.node_url}/{self.index_name}/_cache/clear?request=true", method="POST"), timeout=120).read()

    def drop(self) -> None:
        if self.backend == "opensearch":
            from urllib.request import Request, urlopen

            urlopen(Request(f"{self.node_url}/{self.index_name}", method="DELETE"), timeout=120).read()


def env_without_search() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SEARCH_")} | {"PYTHONUNBUFFERED": "1"}


def backend_config(config: dict):
    from search.backends.base import BackendConfig

    return BackendConfig(**{key: tuple(value) if key == "urls" else value for key, value in config.items()})


def index_worker(args: argparse.Namespace) -> int:
    """Timed from the first article read to the last one searchable (dictionaries loaded before)."""
    from search.analysis import analyze
    from search.indexer import Indexer

    list(analyze("中俄關係 cooperating"))
    indexer = Indexer(config=backend_config(json.loads(args.config)), procs=args.analysis_procs)
    started = time.perf_counter()
    report = indexer.run([args.data])
    seconds = time.perf_counter() - started
    indexer.backend.close()
    result = {"seconds": round(seconds, 2), "summary": report.summary(), "failures": report.failures[:5], "peak_rss_mb": own_peak_rss_mb()}
    Path(args.result).write_text(json.dumps(result), "utf-8")
    return 0


def index(target: Target, data: Path, articles: int, workdir: Path, jvm: int | None, procs: int = 2) -> dict:
    """Index ``data`` into ``target`` in a worker process; speed, index size, memory."""
    print(f"indexing {articles} articles into {target.backend} {target.tag} ({procs} analysis processes) ...", file=sys.stderr, flush=True)
    result_file = workdir / f"index-{target.backend}-{target.tag}.json"
    with Sampler(jvm) as node:
        result = run_measured(["bench.scale", "--worker", "index", "--config", json.dumps(target.config()), "--data", str(data),
                               "--analysis-procs", str(procs), "--result", str(result_file)], result_file, timeout=7200)
    if not result["summary"].endswith("failed 0"):
        raise SystemExit(f"{target.backend} {target.tag}: {result['summary']}: {result['failures']}")
    return {"articles": articles, "procs": procs, **result, "docs_per_s": round(articles / result["seconds"], 1),
            "index_mb": round(target.size_bytes() / 1e6, 1), "node_peak_rss_mb": node.peak_mb if jvm else None}


def analyzed_sources(inputs: list[Path], procs: int = 2) -> list[dict]:
    """Every article of ``inputs`` as the OpenSearch backend stores it (analyzed once, ``procs`` processes)."""
    import multiprocessing

    from search.backends.opensearch.documents import to_source
    from search.indexer import content_hash
    from search.ingest import load_file

    items = [(article, content_hash(article)) for path in inputs for _, article in load_file(str(path)).articles]
    with multiprocessing.get_context("fork").Pool(procs) as pool:
        return pool.map(to_source, items, chunksize=64)


def index_copies(target: Target, sources: list[dict], times: int, jvm: int | None) -> dict:
    """Store ``sources`` ``times`` times (copy k > 0 with id ``ID~k``, as :func:`repeated` names them) in
    bulk: the documents the indexer would store for the repeated corpus, built without analyzing each
    copy again. Measures the cluster's bulk intake, not the indexer's speed."""
    from opensearchpy import helpers

    from search.backends.base import open_backend
    from search.backends.opensearch.backend import merge_segments

    print(f"storing {len(sources)} analyzed articles {times}x into opensearch {target.tag} ...", file=sys.stderr, flush=True)
    backend = open_backend(backend_config(target.config()), create=True)

    def actions():
        # Each copy in the story of its original (``dup_group``, what searches collapse on), as the
        # indexer's duplicate detection would place an identical article; the originals are not
        # compared with each other here (that is the indexer's work, not the cluster's).
        for copy in range(times):
            for source in sources:
                doc = dict(source, id=f"{source['id']}~{copy}" if copy else source["id"], dup_group=source["id"])
                yield {"_index": target.index_name, "_id": doc["id"], "_source": doc}

    with Sampler(jvm) as node:
        started = time.perf_counter()
        stored = sum(ok for ok, _ in helpers.streaming_bulk(backend.client, actions(), chunk_size=500, max_retries=5, initial_backoff=1))
        backend.client.indices.refresh(index=target.index_name)
        seconds = time.perf_counter() - started
        segments_after_bulk = len(backend.client.cat.segments(index=target.index_name, format="json"))
        # What the indexer's run ends with when it stored a fifth of the index or more (here all of it).
        merge_seconds = merge_segments(backend.client, target.index_name)
    backend.close()
    articles = len(sources) * times
    if stored != articles:
        raise SystemExit(f"opensearch {target.tag}: stored {stored} of {articles}")
    return {"articles": articles, "method": "analyzed once, stored as copies (bulk only), then merged as the indexer does",
            "seconds": round(seconds, 1), "bulk_docs_per_s": round(articles / seconds, 1), "segments_after_bulk": segments_after_bulk,
            "merge_s": round(merge_seconds, 1), "index_mb": round(target.size_bytes() / 1e6, 1), "node_peak_rss_mb": node.peak_mb}


# --- in-process searches -------------------------------------------------------------------------


def search_worker(args: argparse.Namespace) -> int:
    from search.searcher import Engine

    payload = json.loads(Path(args.queries_file).read_text("utf-8"))
    engine = Engine(config=backend_config(json.loads(args.config)))
    try:
        for q in payload["warmup"]:
            engine.search(q["q"], size=10)
        latencies, errors = [], []
        wall = time.perf_counter()
        for q in payload["queries"]:
            started = time.perf_counter()
            try:
                engine.search(q["q"], size=10)
            except Exception as exc:  # a failing query is counted, not fatal
                errors.append(f"{q['q']}: {type(exc).__name__}: {exc}")
                continue
            latencies.append(time.perf_counter() - started)
        result = latency_summary(latencies, time.perf_counter() - wall)
    finally:
        engine.close()
    result |= {"errors": len(errors), "error_examples": errors[:5], "peak_rss_mb": own_peak_rss_mb()}
    Path(args.result).write_text(json.dumps(result), "utf-8")
    return 0


def in_process(target: Target, qfile: Path, workdir: Path, jvm: int | None) -> dict:
    print(f"in-process searches, {target.backend} {target.tag} ...", file=sys.stderr, flush=True)
    target.forget_answers()
    result_file = workdir / f"inproc-{target.backend}-{target.tag}.json"
    with Sampler(jvm) as node:
        result = run_measured(["bench.scale", "--worker", "search", "--config", json.dumps(target.config()), "--queries-file", str(qfile),
                               "--result", str(result_file)], result_file, timeout=3600)
    result["node_peak_rss_mb"] = node.peak_mb if jvm else None
    return result


def over_http(target: Target, queries: list[str], warm: list[str], workers: int, workdir: Path, jvm: int | None) -> dict:
    import psutil

    print(f"HTTP, 8 clients, {target.backend} {target.tag} ...", file=sys.stderr, flush=True)
    target.forget_answers()  # the same queries ran in-process just before
    proc, port = start_server(target.options(), workdir / f"server-{target.backend}-{target.tag}.log", wait=600, workers=workers,
                              env=env_without_search())
    try:
        with Sampler(jvm) as node:
            http_load(port, warm, 8, 600)
            result = http_load(port, queries, 8, 1800)["api"]
        processes = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children()]
        result["server_pss_mb"] = round(sum(getattr(m, "pss", m.uss) for m in (p.memory_full_info() for p in processes)) / 2**20, 1)
        result["node_peak_rss_mb"] = node.peak_mb if jvm else None
        result["server_workers"] = workers
        return result
    finally:
        stop_server(proc)


def ratios(results: dict) -> dict:
    """Per backend, the largest size ÷ the smallest: articles, index size, indexing speed, latencies."""
    out = {}
    for backend, by_size in results.items():
        sizes = sorted(by_size, key=int)
        if len(sizes) < 2:
            continue
        small, big = by_size[sizes[0]], by_size[sizes[-1]]
        pick = {
            "articles": lambda r: r["indexing"]["articles"], "index_mb": lambda r: r["indexing"]["index_mb"],
            "docs_per_s": lambda r: r["indexing"]["docs_per_s"],
            "in_process_p50_ms": lambda r: r["in_process"]["p50_ms"], "in_process_p99_ms": lambda r: r["in_process"]["p99_ms"],
            "http8_p50_ms": lambda r: r["http_8_clients"]["p50_ms"], "http8_p99_ms": lambda r: r["http_8_clients"]["p99_ms"],
        }
        pair = {}
        for key, get in pick.items():
            try:
                pair[key] = round(get(big) / get(small), 2)
            except (KeyError, ZeroDivisionError):  # not measured (yet)
                pass
        out[f"{backend} {sizes[-1]}x/{sizes[0]}x"] = pair
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", type=int, default=[1, 4], help="corpus repetitions (default 1 4)")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--limit", type=int, default=None, help="only the first N articles of each corpus file")
    parser.add_argument("--queries", type=int, default=1000, help="queries sampled from the titles (default 1000)")
    parser.add_argument("--procs", nargs="*", type=int, default=[1], help="analysis processes of extra OpenSearch indexing runs of the smallest size (default 1; the main runs use 2)")
    parser.add_argument("--server-workers", type=int, default=None,
                        help="serve --workers for the HTTP runs (default: whoosh 2, one per core; opensearch 4, see SERVER_WORKERS)")
    parser.add_argument("--heap", type=int, default=1024, help="OpenSearch node heap, MB (default 1024)")
    parser.add_argument("--analyze-once", action="store_true",
                        help="OpenSearch only: analyze the corpus once and store it SIZE times by bulk (fast; no indexer speed)")
    parser.add_argument("--out", default="scale", help="result name: bench/results/NAME.json (default scale)")
    parser.add_argument("--workdir", default=None, help="keep inputs, indexes and the node's data here (default: a temporary folder)")
    parser.add_argument("--worker", choices=("index", "search"), help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--analysis-procs", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--queries-file", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.analyze_once and args.backends != ["opensearch"]:
        parser.error("--analyze-once builds OpenSearch indexes only: add --backends opensearch")
    if args.worker == "index":
        return index_worker(args)
    if args.worker == "search":
        return search_worker(args)

    temp = None if args.workdir else tempfile.TemporaryDirectory(prefix="bench-scale-")
    workdir = Path(args.workdir or temp.name).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    report = header("python -m bench.scale " + " ".join(argv if argv is not None else sys.argv[1:]))
    report["corpus"] = {"files": [p.name for p in news_paths()], "limit_per_file": args.limit, "sizes": args.sizes}
    report["versions"] = versions("Whoosh-Reloaded", "opensearch-py", "rjieba", "OpenCC", "waitress")
    report["opensearch_node"] = {"version": "2.19.6", "nodes": 1, "heap_mb": args.heap} if "opensearch" in args.backends else None
    results: dict[str, dict[str, dict]] = {backend: {} for backend in args.backends}
    procs_runs: dict[str, dict] = {}
    report["results"], report["opensearch_indexing_by_analysis_processes"] = results, procs_runs

    def save(complete: bool) -> Path:
        """The report so far (a long run that is cut short still leaves its measurements)."""
        report["complete"] = complete
        report["ratios"] = ratios({b: r for b, r in results.items() if len(r) == len(args.sizes)})
        return write_result(args.out, args.limit, report)

    cluster = None
    try:
        base, _ = limited_copies(news_paths(), args.limit, workdir / f"input-limit{args.limit}")
        queries = sample_queries(base, args.queries, SEED)
        # Warm-up queries: other queries than the measured ones (a warm-up query measured again
        # would find its statistics in the server's caches), enough for the node's JIT compiler.
        # Its CPU per search falls block by block over a new node's first 4,500 searches: on the 4x
        # corpus merged to one segment (2026-11-29), per block of 300: 32, 14, 12, 10, 10, 8.4, 7.6
        # ms, ~6.7 ms from the 10th block, 5.2-5.5 ms from the 16th; after the 1,500 used before, a
        # node still cost about 1.6 times what it costs settled (50 before that: 3 to 6 times).
        measured = {q["q"] for q in queries}
        warm = [q for q in sample_queries(base, SCALE_WARMUP + len(queries), SEED + 1) if q["q"] not in measured][:SCALE_WARMUP]
        report["sample"] = {"queries": len(queries), "seed": SEED, "warmup": len(warm)}
        qfile = workdir / "queries-sample.json"
        qfile.write_text(json.dumps({"queries": queries, "warmup": warm}, ensure_ascii=False), "utf-8")
        jvm = None
        if "opensearch" in args.backends:
            cluster = LocalCluster(workdir / "opensearch", size=1, heap_mb=args.heap, name="search-bench").start()
            jvm = cluster.nodes[0].pid
        sources = analyzed_sources(base) if args.analyze_once else None
        for size in args.sizes:
            if not args.analyze_once:
                data, articles = repeated(base, size, workdir / f"corpus-x{size}.jsonl")
            for backend in args.backends:
                target = Target(backend, workdir, f"x{size}", cluster.url if cluster else None)
                node_pid = jvm if backend == "opensearch" else None
                if sources is not None:
                    indexing = index_copies(target, sources, size, node_pid)
                else:
                    indexing = index(target, data, articles, workdir, node_pid)
                run = results[backend][str(size)] = {"indexing": indexing}
                save(False)
                run["in_process"] = in_process(target, qfile, workdir, node_pid)
                save(False)
                workers = args.server_workers or SERVER_WORKERS[backend]
                run["http_8_clients"] = over_http(target, [q["q"] for q in queries], [q["q"] for q in warm], workers, workdir, node_pid)
                save(False)
                print(json.dumps({backend: {size: run}})[:1500], file=sys.stderr, flush=True)
            if size == min(args.sizes) and "opensearch" in args.backends and not args.analyze_once:
                procs_runs["2"] = results["opensearch"][str(size)]["indexing"]
                for procs in args.procs:
                    target = Target("opensearch", workdir, f"x{size}-procs{procs}", cluster.url)
                    procs_runs[str(procs)] = index(target, data, articles, workdir, jvm, procs=procs)
                    target.drop()
                    save(False)
        if cluster:
            report["opensearch_node"]["rss_mb_at_end"] = round(cluster.nodes[0].rss_bytes() / 2**20, 1)
    finally:
        if cluster is not None:
            cluster.stop()
        if temp is not None:
            temp.cleanup()
    path = save(True)
    print(json.dumps({"ratios": report["ratios"], "procs": {k: v["docs_per_s"] for k, v in procs_runs.items()}}, indent=1))
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
