"""Load test of the served API: 8 concurrent keep-alive clients on 127.0.0.1 for 60 s.

Starts ``python -m search serve`` on a free loopback port over an index (``--index``, or one
built from the first ``--limit`` lines of each news corpus into a temporary folder), warms
it up, then sends a fixed mix of requests (searches in both languages and scripts, phrases,
boolean queries, filters, deep pages, date sort, articles, speakers, stats, health, the HTML
page) from ``--clients`` threads until ``--duration`` seconds or ``--max-requests`` have
passed, whichever comes first. It stops by itself and talks to 127.0.0.1 only.

Reported (``bench/results/load.json``, or ``--out``): requests, errors (5xx, connection
failures, unexpected statuses; the first few described), latency p50/p95/p99/max, requests
per second, and the server's resident memory after warm-up, at the end and at its peak
(psutil, else ``/proc/PID/status``).

    .venv/bin/python -m bench.load                  # 60 s, 8 clients, 1,000 + 1,000 articles
    .venv/bin/python -m bench.load --index index --duration 10
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from bench.common import RESULTS, ROOT, header, latency_summary, limited_copies, news_paths

STARTUP_WAIT = 60.0
REQUEST_TIMEOUT = 30.0
MAX_ERRORS_SHOWN = 10

#: (path, expected status). Searches dominate, as in real use.
SEARCHES = [
    {"q": "习近平"}, {"q": "習近平"}, {"q": "普京"}, {"q": "经济 发展"}, {"q": "長江 經濟帶"}, {"q": '"一带一路"'},
    {"q": "Putin"}, {"q": "oil prices"}, {"q": '"interest rates"'}, {"q": "trade OR tariffs"}, {"q": "(farm OR harvest) NOT drought"},
    {"q": "title:中国"}, {"q": "cooperation", "lang": "zh"}, {"q": "合作", "sort": "date"}, {"q": "bank", "page": "5", "size": "20"},
    {"q": "*", "from": "1987-03-01", "to": "1987-03-31"}, {"q": "*", "speaker": "习近平"}, {"q": "coffee", "translate": "false"},
    {"q": "会议 NOT 经济", "size": "50"}, {"q": "Ｐｕｔｉｎ ＢＲＩＣＳ"},
]


def request_mix(article_ids: list[str]) -> list[tuple[str, int]]:
    mix = [("/api/search?" + urllib.parse.urlencode(params), 200) for params in SEARCHES]
    mix += [("/api/articles/" + urllib.parse.quote(aid, safe=""), 200) for aid in article_ids[:10]]
    mix += [
        ("/api/articles/no-such-article", 404),
        ("/api/search?q=x&size=0", 400),
        ("/api/speakers?prefix=" + urllib.parse.quote("习"), 200),
        ("/api/speakers?prefix=Pu", 200),
        ("/healthz", 200),
        ("/api/stats", 200),
        ("/?" + urllib.parse.urlencode({"q": "普京 合作"}), 200),
    ]
    return mix


# --- server ------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    try:
        import psutil

        return round(psutil.Process(pid).memory_info().rss / 2**20, 1)
    except ImportError:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def get(conn: http.client.HTTPConnection, path: str) -> tuple[int, bytes]:
    conn.request("GET", path, headers={"Accept": "application/json"})
    response = conn.getresponse()
    return response.status, response.read()


def start_server(index_dir: str, threads: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "SEARCH_INDEX"}
    env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.Popen(
        [sys.executable, "-m", "search", "serve", "--index", index_dir, "--host", "127.0.0.1", "--port", str(port), "--threads", str(threads)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + STARTUP_WAIT
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}: {proc.stderr.read()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                if get(conn, "/healthz")[0] == 200:
                    return proc, port
            finally:
                conn.close()
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"server did not answer within {STARTUP_WAIT:.0f} s")
        time.sleep(0.1)


def stop_server(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        proc.terminate()
    try:
        _, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err or ""


# --- clients -------------------------------------------------------------------------------------------


class Load:
    """``clients`` threads sending ``mix`` round-robin until the deadline or the request budget."""

    def __init__(self, port: int, mix: list[tuple[str, int]], clients: int) -> None:
        self.port, self.mix, self.clients = port, mix, clients
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.errors: list[str] = []
        self.error_count = 0
        self.sent = 0

    def run(self, seconds: float, max_requests: int, record: bool = True) -> float:
        deadline = time.monotonic() + seconds
        budget = [max_requests]
        started = time.monotonic()
        threads = [threading.Thread(target=self._client, args=(n, deadline, budget, record), daemon=True) for n in range(self.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + REQUEST_TIMEOUT + 10)
        return time.monotonic() - started

    def _take(self, budget: list[int]) -> bool:
        with self.lock:
            if budget[0] <= 0:
                return False
            budget[0] -= 1
            return True

    def _client(self, n: int, deadline: float, budget: list[int], record: bool) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        i = n * 7
        try:
            while time.monotonic() < deadline and self._take(budget):
                path, expected = self.mix[i % len(self.mix)]
                i += 1
                started = time.perf_counter()
                try:
                    status, body = get(conn, path)
                    problem = None
                    if status != expected:
                        problem = f"{path}: status {status}, expected {expected}: {body[:200]!r}"
                    elif b"Traceback" in body:
                        problem = f"{path}: traceback in the body"
                except (OSError, http.client.HTTPException) as exc:
                    status, problem = -1, f"{path}: {type(exc).__name__}: {exc}"
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
                elapsed = time.perf_counter() - started
                if not record:
                    continue
                with self.lock:
                    self.sent += 1
                    self.latencies.append(elapsed)
                    self.statuses[status] = self.statuses.get(status, 0) + 1
                    if problem:
                        self.error_count += 1
                        if len(self.errors) < MAX_ERRORS_SHOWN:
                            self.errors.append(problem)
        finally:
            conn.close()


# --- main ---------------------------------------------------------------------------------------------------


def build_index(limit: int, folder: Path) -> str:
    paths, _ = limited_copies(news_paths(), limit, folder / "data")
    index_dir = folder / "index"
    proc = subprocess.run(
        [sys.executable, "-m", "search", "index", *map(str, paths), "--index", str(index_dir), "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if proc.returncode != 0:
        raise SystemExit(f"indexing failed: {proc.stderr[-2000:]}")
    return str(index_dir)


def some_ids(port: int) -> list[str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        ids: list[str] = []
        for q in ("经济", "the", "*"):
            status, body = get(conn, "/api/search?" + urllib.parse.urlencode({"q": q, "size": 10}))
            if status == 200:
                ids += [hit["id"] for hit in json.loads(body)["hits"] if hit["id"] not in ids]
        return ids
    finally:
        conn.close()


def run(index_dir: str, *, clients: int, duration: float, warmup: float, max_requests: int, threads: int) -> dict:
    proc, port = start_server(index_dir, threads)
    try:
        mix = request_mix(some_ids(port))
        load = Load(port, mix, clients)
        load.run(warmup, max_requests, record=False)  # warm-up: caches, searchers, first queries
        rss_warm = rss_mb(proc.pid)
        peak = [rss_warm]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.5):
                peak[0] = max(peak[0], rss_mb(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        wall = load.run(duration, max_requests)
        done.set()
        sampler.join(timeout=5)
        rss_end = rss_mb(proc.pid)
        peak[0] = max(peak[0], rss_end)
        alive = proc.poll() is None
    finally:
        stderr = stop_server(proc)
    return {
        "config": {"clients": clients, "duration_s": duration, "warmup_s": warmup, "max_requests": max_requests, "server_threads": threads, "request_kinds": len(mix)},
        "requests": load.sent,
        "errors": load.error_count,
        "error_examples": load.errors,
        "statuses": {str(k): v for k, v in sorted(load.statuses.items())},
        "latency": latency_summary(load.latencies, wall),
        "wall_s": round(wall, 1),
        "server_rss_mb": {"after_warmup": rss_warm, "end": rss_end, "peak": peak[0], "growth": round(rss_end / rss_warm, 3) if rss_warm else None},
        "server_alive_at_end": alive,
        "server_tracebacks": stderr.count("Traceback"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", help="an existing index (default: build one from --limit lines of each news corpus)")
    parser.add_argument("--limit", type=int, default=1000, help="lines per corpus file for the built index (default 1000)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds (default 60)")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of load before measuring (default 5)")
    parser.add_argument("--max-requests", type=int, default=200_000, help="stop after this many requests (default 200,000)")
    parser.add_argument("--threads", type=int, default=8, help="server worker threads (default 8)")
    parser.add_argument("--out", help="result file (default bench/results/load.json)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        index_dir = args.index or build_index(args.limit, Path(tmp))
        report = header("python -m bench.load " + " ".join(argv if argv is not None else sys.argv[1:]))
        report["index"] = {"path": "temporary" if not args.index else os.path.abspath(index_dir), "limit_per_file": None if args.index else args.limit}
        report.update(run(index_dir, clients=args.clients, duration=args.duration, warmup=args.warmup, max_requests=args.max_requests, threads=args.threads))
    out = Path(args.out) if args.out else RESULTS / "load.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
    lat = report["latency"]
    rss = report["server_rss_mb"]
    print(
        f"{report['requests']} requests, {report['errors']} errors, p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms, "
        f"{lat['qps']} req/s; server RSS {rss['after_warmup']} → {rss['end']} MB (peak {rss['peak']}) → {out}"
    )
    return 1 if report["errors"] or not report["server_alive_at_end"] else 0


if __name__ == "__main__":
    sys.exit(main())
