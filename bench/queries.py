"""Query latency and throughput: in-process against the baselines, and through the real HTTP server.

    python -m bench.queries [--limit N] [--workdir DIR] [--queries 1000] [--seed 20241022] [--no-http]

Queries are sampled with a fixed seed from the article titles of the indexed
corpora (``xwlb.jsonl`` + ``reuters21578.jsonl``; ``--limit N``: the first N
of each), in five equal groups: one simplified Chinese word, one traditional
word (OpenCC ``s2t``; words whose script changes are preferred), one English word,
two words (half Chinese, half English) and a quoted two-word phrase (half each).
Words come from jieba's precise segmentation of the titles.

In-process, each system runs in its own process over the same queries, after
50 warm-up queries from a different sample:

- ``engine``: ``Engine.search(q)`` as the API calls it (highlighted snippets, facets),
  and ``bare`` (``highlight=False, facets=False``);
- ``whoosh_jieba``: Whoosh + jieba ``ChineseAnalyzer``, ``QueryParser`` with ``OrGroup``,
  ``hit.highlights()`` for the top 10 (and ``bare``: no highlights);
- ``fts5``: SQLite FTS5 over jieba-tokenized text, words ORed, quoted parts as phrases,
  ``snippet()`` for the top 10 (and ``bare``).

Over HTTP: ``python -m search serve`` on 127.0.0.1 (a free port), ``GET /api/search?q=…&size=10``
from 1 and from 8 client threads (persistent ``http.client`` connections), each
level bounded by the query count and ``--seconds``. ``--targets api page`` also requests the
search page, ``GET /?q=…`` (the HTML a browser gets: 10 hits, snippets, facets, timeline): each
client sends each query to the API, then to the page, so both are measured under the same load. ``--http-only INDEX`` measures only that, over an index
already built (``bench/results/queries-http.json``)::

    python -m bench.queries --http-only index --targets api page --server-workers 2 --threads 8 --seconds 120

Indexes are built first (timed by ``bench.indexing``) unless ``--workdir`` already
holds them from an earlier ``python -m bench.indexing --workdir DIR`` with the same ``--limit``.
Results: ``bench/results/queries.json`` (``queries-limit.json`` with ``--limit``).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from bench.common import ROOT, header, iter_records, latency_summary, limited_copies, news_paths, own_peak_rss_mb, run_measured, versions, write_result
from bench.indexing import index_location, index_ready, measure

SYSTEMS = ("engine", "whoosh_jieba", "fts5")
INDEX_OF = {"engine": "project", "whoosh_jieba": "whoosh_jieba", "fts5": "fts5"}
KINDS = ("zh_hans", "zh_hant", "en", "two_word", "phrase")
WARMUP = 50
SEED = 20241022

_HAN = re.compile(r"^[\u4e00-\u9fff]+$")
_EN_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*")
_EN_STOP = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these they this to was will with".split()
)
_ZH_STOP = frozenset("的 了 和 是 在 与 及 等 为 对 将 把 被 就 也 都 而 或 但 并".split())


# --- the query sample -------------------------------------------------------------------------


def _titles(inputs: list[Path]) -> tuple[list[list[str]], list[list[str]]]:
    """Segmented Chinese titles (jieba precise mode) and tokenized English titles."""
    from bench.baselines import _jieba

    jieba = _jieba()
    zh: list[list[str]] = []
    en: list[list[str]] = []
    for record in iter_records(inputs):
        title = record.title.strip()
        if not title:
            continue
        if re.search(r"[\u4e00-\u9fff]", title):
            words = [w for w in jieba.lcut(title) if w.strip()]
            if words:
                zh.append(words)
        else:
            words = [w.lower() for w in _EN_WORD.findall(title)]
            if words:
                en.append(words)
    return zh, en


def _zh_content(word: str) -> bool:
    return len(word) >= 2 and bool(_HAN.match(word)) and word not in _ZH_STOP


def _en_content(word: str) -> bool:
    return len(word) >= 3 and word not in _EN_STOP


def sample_queries(inputs: list[Path], n: int, seed: int) -> list[dict[str, str]]:
    """``n`` distinct queries, equally many of each kind, shuffled with ``seed``."""
    import opencc

    s2t = opencc.OpenCC("s2t")
    zh_titles, en_titles = _titles(inputs)
    rng = random.Random(seed)
    per_kind = [n // len(KINDS) + (1 if i < n % len(KINDS) else 0) for i in range(len(KINDS))]
    seen: set[str] = set()
    out: list[dict[str, str]] = []

    def one(kind: str, alt: int) -> str | None:
        use_zh = kind in ("zh_hans", "zh_hant") or (kind in ("two_word", "phrase") and alt % 2 == 0)
        words = rng.choice(zh_titles if use_zh else en_titles)
        good = _zh_content if use_zh else _en_content
        content = [w for w in words if good(w)]
        if kind in ("zh_hans", "en"):
            return rng.choice(content) if content else None
        if kind == "zh_hant":
            if not content:
                return None
            changed = [s2t.convert(w) for w in content if s2t.convert(w) != w]
            return rng.choice(changed) if changed else None
        if kind == "two_word":
            distinct = sorted(set(content))
            return " ".join(rng.sample(distinct, 2)) if len(distinct) >= 2 else None
        # phrase: two consecutive words of the title
        if use_zh:
            pairs = [(a, b) for a, b in zip(words, words[1:]) if good(a) and good(b)]
        else:
            pairs = [(a, b) for a, b in zip(words, words[1:]) if (good(a) or good(b)) and len(a) > 1 and len(b) > 1]
        if not pairs:
            return None
        a, b = rng.choice(pairs)
        return f'"{a}{b}"' if use_zh else f'"{a} {b}"'

    for kind, count in zip(KINDS, per_kind):
        made = tries = 0
        while made < count and tries < count * 200:
            tries += 1
            q = one(kind, made)
            if q and q not in seen:
                seen.add(q)
                out.append({"q": q, "kind": kind})
                made += 1
    rng.shuffle(out)
    return out


# --- in-process workers ---------------------------------------------------------------------


def open_system(system: str, index: str):
    """A function ``search(q, full) -> (ids, snippets)`` for ``system``; and a closer."""
    if system == "engine":
        from search.searcher import Engine

        engine = Engine(index)

        def search(q: str, full: bool):
            result = engine.search(q, size=10) if full else engine.search(q, size=10, highlight=False, facets=False)
            return [h.id for h in result.hits], [h.snippets for h in result.hits] if full else []

        return search, engine.close
    from bench.baselines import FTS5Baseline, WhooshBaseline

    baseline = FTS5Baseline().open(index) if system == "fts5" else WhooshBaseline(system).open(index)
    return (lambda q, full: baseline.search(q, 10, highlight=full)), baseline.close


def worker(args: argparse.Namespace) -> int:
    payload = json.loads(Path(args.queries_file).read_text("utf-8"))
    queries, warm = payload["queries"], payload["warmup"]
    search, close = open_system(args.worker, args.index)
    deadline = time.monotonic() + args.seconds
    result: dict[str, object] = {"system": args.worker}
    try:
        for q in warm:
            search(q["q"], True)
        for mode in ("full", "bare"):
            latencies: list[float] = []
            by_kind: dict[str, list[float]] = {k: [] for k in KINDS}
            with_hits: dict[str, int] = {k: 0 for k in KINDS}
            errors: list[str] = []
            wall = time.perf_counter()
            for q in queries:
                if time.monotonic() > deadline:
                    break
                started = time.perf_counter()
                try:
                    ids, _ = search(q["q"], mode == "full")
                except Exception as exc:  # noqa: BLE001 - a failing query is counted, not fatal
                    errors.append(f"{q['q']}: {type(exc).__name__}: {exc}")
                    continue
                elapsed = time.perf_counter() - started
                latencies.append(elapsed)
                by_kind[q["kind"]].append(elapsed)
                with_hits[q["kind"]] += bool(ids)
            summary = latency_summary(latencies, time.perf_counter() - wall)
            summary["with_hits"] = round(sum(with_hits.values()) / max(1, len(latencies)), 3)
            summary["errors"] = len(errors)
            summary["error_examples"] = errors[:5]
            summary["by_kind"] = {
                kind: {
                    "queries": len(values),
                    "p50_ms": latency_summary(values)["p50_ms"],
                    "p95_ms": latency_summary(values)["p95_ms"],
                    "with_hits": round(with_hits[kind] / len(values), 3),
                }
                for kind, values in by_kind.items()
                if values
            }
            result[mode] = summary
    finally:
        close()
    result["peak_rss_mb"] = own_peak_rss_mb()
    Path(args.result).write_text(json.dumps(result), "utf-8")
    return 0


# --- HTTP -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str, timeout: float = 30) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def start_server(index: Path | list[str], log: Path, wait: float = 60, workers: int = 1, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, int]:
    """``serve`` over an index folder, or with the given options (``--backend opensearch ...``)."""
    port = free_port()
    env = env if env is not None else {k: v for k, v in os.environ.items() if k != "SEARCH_INDEX"}
    options = index if isinstance(index, list) else ["--index", str(index)]
    handle = open(log, "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "search", "serve", *options, "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    handle.close()
    deadline = time.monotonic() + wait
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {log.read_text('utf-8', 'replace')[-2000:]}")
        try:
            status, _ = _get(port, "/healthz", timeout=5)
            if status == 200:
                return proc, port
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_server(proc)
            raise RuntimeError(f"server did not answer /healthz within {wait:.0f} s")
        time.sleep(0.2)


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


#: What a query is sent to, and how an answer is checked (beyond status 200).
TARGETS = {
    "api": (lambda q: "/api/search?" + urllib.parse.urlencode({"q": q, "size": 10}), lambda body: "hits" in json.loads(body)),
    "page": (lambda q: "/?" + urllib.parse.urlencode({"q": q}), lambda body: b'<main id="results"' in body),
}


def http_load(port: int, queries: list[str], threads: int, seconds: float, targets: tuple[str, ...] = ("api",)) -> dict[str, dict]:
    """Send each query once to each target (one after the other, on the same connection, first
    one then the other first: the second finds what the first left in the caches), from
    ``threads`` client threads, stopping early after ``seconds``; a summary per target. Targets
    measured together share the load of the moment, so they compare on a busy machine."""
    lock = threading.Lock()
    pending = enumerate(queries)
    latencies: dict[str, list[float]] = {target: [] for target in targets}
    errors: dict[str, list[str]] = {target: [] for target in targets}
    deadline = time.monotonic() + seconds

    def work() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            while time.monotonic() < deadline:
                with lock:
                    n, q = next(pending, (0, None))
                if q is None:
                    return
                for target in targets if n % 2 == 0 else targets[::-1]:
                    make_path, answered = TARGETS[target]
                    started = time.perf_counter()
                    problem = None
                    try:
                        conn.request("GET", make_path(q))
                        response = conn.getresponse()
                        body = response.read()
                        if response.status != 200:
                            problem = f"HTTP {response.status}"
                        elif not answered(body):
                            problem = "not a search answer"
                    except (OSError, http.client.HTTPException, ValueError) as exc:
                        problem = type(exc).__name__
                        conn.close()
                        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    elapsed = time.perf_counter() - started
                    with lock:
                        latencies[target].append(elapsed)
                        if problem:
                            errors[target].append(problem)
        finally:
            conn.close()

    wall = time.perf_counter()
    pool = [threading.Thread(target=work, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(seconds + 60)
    wall = time.perf_counter() - wall
    out = {}
    for target in targets:
        summary = latency_summary(latencies[target], wall)
        summary["threads"] = threads
        summary["target"] = target
        summary["errors"] = len(errors[target])
        summary["error_kinds"] = sorted(set(errors[target]))
        summary["not_sent"] = len(queries) - len(latencies[target])
        out[target] = summary
    return out


def _server_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of the server process and its workers so far."""
    import psutil

    try:
        processes = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def http_bench(index: Path, queries: list[str], warm: list[str], levels: list[int], seconds: float, log: Path, workers: int = 1, targets: tuple[str, ...] = ("api",)) -> dict:
    """Results per level: ``threads_N`` for the API, ``page_threads_N`` for the search page."""
    import psutil

    proc, port = start_server(index, log, workers=workers, wait=300)
    try:
        http_load(port, warm, 1, seconds, targets)
        shape = "1 process" if workers == 1 else f"{workers} processes"
        out: dict[str, object] = {"server": f"python -m search serve --workers {workers} (waitress, {shape}) on 127.0.0.1", "workers": workers}
        for threads in levels:
            print(f"HTTP {' and '.join(targets)} with {threads} client thread(s) ...", file=sys.stderr, flush=True)
            cpu_before = _server_cpu_seconds(proc.pid)
            summaries = http_load(port, queries, threads, seconds, targets)
            cpu = _server_cpu_seconds(proc.pid) - cpu_before
            requests = sum(len(queries) - summary["not_sent"] for summary in summaries.values())
            for target, summary in summaries.items():
                # The server's CPU time per request over this level (all targets together): on a
                # shared virtual machine a steadier measure of a search's cost than its latency.
                summary["server_cpu_ms_per_request"] = round(cpu / requests * 1000, 2) if requests else None
                out[f"threads_{threads}" if target == "api" else f"{target}_threads_{threads}"] = summary
                print(json.dumps(summary), file=sys.stderr, flush=True)
        try:
            processes = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children()]
            memory = [p.memory_full_info() for p in processes]
            out["server_rss_mb"] = round(sum(m.rss for m in memory) / 2**20, 1)
            # RSS counts shared pages (the dictionaries and caches loaded before forking, the
            # mapped index) once per process; PSS splits them between the processes sharing
            # them, so its sum is the memory the server holds; USS leaves shared pages out.
            out["server_uss_mb"] = round(sum(m.uss for m in memory) / 2**20, 1)
            out["server_pss_mb"] = round(sum(getattr(m, "pss", m.uss) for m in memory) / 2**20, 1)
        except psutil.Error:
            pass
        return out
    finally:
        stop_server(proc)


# --- driver ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="index only the first N articles of each corpus")
    parser.add_argument("--workdir", default=None, help="reuse (or keep) indexes here; see bench.indexing --workdir")
    parser.add_argument("--queries", type=int, default=1000, help="number of queries (default 1000)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS))
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP measurements")
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 8], help="client thread counts for HTTP (default 1 8)")
    parser.add_argument("--server-workers", nargs="+", type=int, default=[1, 2], help="server processes (serve --workers), one HTTP run each (default 1 2)")
    parser.add_argument("--seconds", type=float, default=900, help="time bound per system pass / HTTP level (default 900)")
    parser.add_argument("--targets", nargs="+", choices=tuple(TARGETS), default=["api"], help="what HTTP requests: the API, the search page (default api)")
    parser.add_argument("--http-only", metavar="INDEX", help="only the HTTP measurements, over this index (already built)")
    parser.add_argument("--worker", choices=SYSTEMS, help=argparse.SUPPRESS)
    parser.add_argument("--index", help=argparse.SUPPRESS)
    parser.add_argument("--queries-file", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)
    if args.http_only:
        return http_only(args)

    temp = None if args.workdir else tempfile.TemporaryDirectory(prefix="bench-queries-")
    workdir = Path(args.workdir or temp.name).resolve()
    try:
        inputs, input_bytes = limited_copies(news_paths(), args.limit, workdir / f"input-limit{args.limit}")
        needed = {INDEX_OF[s] for s in args.systems} | (set() if args.no_http else {"project"})
        built = {}
        for system in sorted(needed):
            if not index_ready(workdir, system, args.limit):
                built[system] = measure(system, index_location(workdir, system, args.limit), inputs, input_bytes, 3600)
        queries = sample_queries(inputs, args.queries, args.seed)
        warm = sample_queries(inputs, WARMUP, args.seed + 1)
        qfile = workdir / "queries-sample.json"
        qfile.write_text(json.dumps({"queries": queries, "warmup": warm}, ensure_ascii=False), "utf-8")
        inproc: dict[str, dict] = {}
        for system in args.systems:
            print(f"in-process queries with {system} ...", file=sys.stderr, flush=True)
            index = index_location(workdir, INDEX_OF[system], args.limit)
            result_file = workdir / f"queries-{system}.json"
            cmd = ["bench.queries", "--worker", system, "--index", str(index), "--queries-file", str(qfile), "--result", str(result_file), "--seconds", str(args.seconds)]
            inproc[system] = run_measured(cmd, result_file, timeout=2 * args.seconds + 600)
            print(json.dumps({k: inproc[system][k] for k in ("full", "bare")})[:600], file=sys.stderr, flush=True)
        http = None
        http_workers: dict[str, dict] = {}
        if not args.no_http:
            for workers in args.server_workers:
                print(f"HTTP server with {workers} process(es) ...", file=sys.stderr, flush=True)
                http_workers[str(workers)] = http_bench(
                    index_location(workdir, "project", args.limit),
                    [q["q"] for q in queries],
                    [q["q"] for q in warm],
                    args.threads,
                    args.seconds,
                    workdir / "server.log",
                    workers=workers,
                    targets=tuple(args.targets),
                )
            http = http_workers.get("1") or next(iter(http_workers.values()), None)
    finally:
        if temp is not None:
            temp.cleanup()
    command = "python -m bench.queries" + (f" --limit {args.limit}" if args.limit else "")
    report = header(command)
    report["corpus"] = {"files": [p.name for p in news_paths()], "limit_per_file": args.limit, "mb": round(input_bytes / 1e6, 1)}
    report["sample"] = {
        "queries": len(queries),
        "seed": args.seed,
        "kinds": {k: sum(1 for q in queries if q["kind"] == k) for k in KINDS},
        "examples": {k: [q["q"] for q in queries if q["kind"] == k][:5] for k in KINDS},
    }
    report["versions"] = versions("Whoosh-Reloaded", "jieba", "rjieba", "OpenCC", "waitress")
    report["in_process"] = inproc
    if http is not None:
        report["http"] = http
    if http_workers:
        report["http_by_workers"] = http_workers
    if built:
        report["indexes_built_in_this_run"] = {k: {m: v[m] for m in ("docs", "seconds", "index_mb")} for k, v in built.items()}
    path = write_result("queries", args.limit, report)
    brief = {s: {m: r["full"][m] for m in ("p50_ms", "p95_ms", "p99_ms", "qps", "with_hits")} for s, r in inproc.items()}
    if http is not None:
        brief["http"] = {k: v for k, v in http.items() if k.startswith("threads_")}
    print(json.dumps(brief, indent=1))
    print(f"wrote {path}", file=sys.stderr)
    return 0


def http_only(args: argparse.Namespace) -> int:
    """The HTTP measurements alone, over an index already built, with the benchmark's queries."""
    inputs = news_paths()
    queries = sample_queries(inputs, args.queries, args.seed)
    warm = sample_queries(inputs, WARMUP, args.seed + 1)
    http_workers: dict[str, dict] = {}
    report = header("python -m bench.queries --http-only INDEX --targets " + " ".join(args.targets))  # the load before the run
    with tempfile.TemporaryDirectory(prefix="bench-queries-") as temp:
        for workers in args.server_workers:
            print(f"HTTP server with {workers} process(es) ...", file=sys.stderr, flush=True)
            http_workers[str(workers)] = http_bench(
                Path(args.http_only), [q["q"] for q in queries], [q["q"] for q in warm], args.threads, args.seconds,
                Path(temp) / "server.log", workers=workers, targets=tuple(args.targets),
            )
    report["index"] = str(args.http_only)
    report["sample"] = {"queries": len(queries), "seed": args.seed, "kinds": {k: sum(1 for q in queries if q["kind"] == k) for k in KINDS}}
    report["versions"] = versions("Whoosh-Reloaded", "waitress")
    report["http_by_workers"] = http_workers
    path = write_result("queries-http", None, report)
    brief = {w: {k: {m: v[m] for m in ("queries", "p50_ms", "p95_ms", "p99_ms", "qps", "errors", "not_sent")} for k, v in r.items() if "threads_" in k} for w, r in http_workers.items()}
    print(json.dumps(brief, indent=1))
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
