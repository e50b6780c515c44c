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

With ``--commit N`` a copy of the index is served and N new articles are indexed into it
(``python -m search index``, competing for the same cores) ``--commit-at`` seconds into the measured run;
with ``--sigterm`` the run ends with SIGTERM to the server while the clients are mid-request
(they start no new request from then on; every request already sent must succeed, and the
server must exit 0). Per-second figures (requests, errors, p50, p99) are reported, and the
worst second after the commit against the p99 before it.

    .venv/bin/python -m bench.load                  # 60 s, 8 clients, 1,000 + 1,000 articles
    .venv/bin/python -m bench.load --index index --duration 10
    .venv/bin/python -m bench.load --index index --workers 2 --threads 1 --commit 2000 --commit-at 30 \\
        --sigterm --duration 480 --out bench/results/reliability-live.json
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from bench.common import RESULTS, ROOT, header, latency_summary, limited_copies, news_paths

STARTUP_WAIT = 300.0  # the full index warms in 9 s on an idle machine, minutes on a busy one
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
    """Resident memory of the server: its process and its workers."""
    try:
        import psutil

        try:
            parent = psutil.Process(pid)
            return round(sum(p.memory_info().rss for p in [parent, *parent.children()]) / 2**20, 1)
        except psutil.Error:
            return float("nan")
    except ImportError:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def get(conn: http.client.HTTPConnection, path: str) -> tuple[int, bytes]:
    conn.request("GET", path, headers={"Accept": "application/json"})
    response = conn.getresponse()
    return response.status, response.read()


def start_server(index_dir: str, threads: int, workers: int = 1) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "SEARCH_INDEX"}
    env["PYTHONUNBUFFERED"] = "1"
    # The server's stderr goes to a file: a pipe nobody reads meanwhile fills up and blocks the server.
    log = tempfile.TemporaryFile("w+", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "search", "serve", "--index", index_dir, "--host", "127.0.0.1", "--port", str(port), "--threads", str(threads), "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
        text=True,
    )
    proc.log = log
    deadline = time.monotonic() + STARTUP_WAIT
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}: {server_log(proc)[-2000:]}")
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


def server_log(proc: subprocess.Popen) -> str:
    proc.log.seek(0)
    return proc.log.read()


def stop_server(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=45)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    err = server_log(proc)
    proc.log.close()
    return err


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
        self.samples: list[tuple[float, float, bool]] = []  # (seconds since the run began, latency, ok)
        self.stopping = threading.Event()  # no new request once set
        self.counts_seen: dict[int, float] = {}  # article count in /healthz → when first seen (s since the run began)
        self.started = time.monotonic()

    def run(self, seconds: float, max_requests: int, record: bool = True) -> float:
        deadline = time.monotonic() + seconds
        budget = [max_requests]
        started = self.started = time.monotonic()
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
            while time.monotonic() < deadline and not self.stopping.is_set() and self._take(budget):
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
                    elif path == "/healthz" and record:
                        count = json.loads(body)["articles"]
                        with self.lock:
                            self.counts_seen.setdefault(count, round(time.monotonic() - self.started, 2))
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
                    self.samples.append((time.monotonic() - self.started, elapsed, problem is None))
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


def commit_file(count: int, folder: Path) -> Path:
    """``count`` articles not in the index: the first lines of the news corpora under new ids."""
    target = folder / "commit.jsonl"
    written = 0
    with open(target, "w", encoding="utf-8") as out:
        for path in news_paths():
            with open(path, encoding="utf-8") as src:
                for line in src:
                    if written >= count:
                        break
                    record = json.loads(line)
                    record["id"] = f"reliability-{record['id']}"
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
                    written += 1
    return target


def per_second(samples: list[tuple[float, float, bool]]) -> list[dict]:
    """Requests, errors, p50 and p99 of the requests that ended in each second of the run."""
    seconds: dict[int, list[tuple[float, bool]]] = {}
    for at, latency, ok in samples:
        seconds.setdefault(int(at), []).append((latency, ok))
    out = []
    for second in sorted(seconds):
        latencies = [latency for latency, _ in seconds[second]]
        summary = latency_summary(latencies, 1.0)
        out.append({"second": second, "requests": len(latencies), "errors": sum(1 for _, ok in seconds[second] if not ok), "p50_ms": summary["p50_ms"], "p99_ms": summary["p99_ms"]})
    return out


#: Seconds after the served article count changes that still count as the switch to the new generation.
SWITCH_WINDOW_S = 30


def commit_phases(seconds: list[dict], events: dict, counts_seen: dict[int, float], steady_p99: float, clients: int) -> dict:
    """The seconds of a run with a commit, by phase, each against the steady p99 (before the
    commit started): ``steady``; ``indexing`` (the indexer running beside the server, until its
    commit); ``until_switch`` (committed, the server warming the new generation while the old
    one answers); ``switch`` (from the first request that saw the new article count,
    :data:`SWITCH_WINDOW_S` seconds); ``after``. Per phase: seconds, median and worst per-second
    p99 over the steady p99, and how many seconds were worse than 2×. A second's p99 is over
    that second's few dozen requests, the steady p99 over thousands: ``steady`` shows what
    the per-second figure gives with nothing else running."""
    started, finished = events.get("commit_started_s"), events.get("commit_finished_s")
    first_count = min(counts_seen.items(), key=lambda kv: kv[1])[0] if counts_seen else None
    switched = min((at for count, at in counts_seen.items() if count != first_count), default=None)
    bounds = {
        "steady": (0, started),
        "indexing": (started, finished),
        "until_switch": (finished, switched),
        "switch": (switched, switched + SWITCH_WINDOW_S if switched is not None else None),
        "after": (switched + SWITCH_WINDOW_S if switched is not None else None, float("inf")),
    }
    phases = {}
    for name, (low, high) in bounds.items():
        if low is None:
            continue
        high = float("inf") if high is None else high
        ratios = sorted(s["p99_ms"] / steady_p99 for s in seconds if low <= s["second"] < high and s["requests"] >= clients) if steady_p99 else []
        if not ratios:
            continue
        phases[name] = {
            "from_s": round(low, 1),
            "seconds": len(ratios),
            "median_p99_ratio": round(ratios[len(ratios) // 2], 2),
            "worst_p99_ratio": round(ratios[-1], 2),
            "seconds_over_2x": sum(1 for r in ratios if r > 2),
        }
    return phases


def run(index_dir: str, *, clients: int, duration: float, warmup: float, max_requests: int, threads: int, workers: int = 1, commit: int = 0, commit_at: float = 20.0, sigterm: bool = False, scratch: Path | None = None) -> dict:
    if commit:
        served = scratch / "served-index"
        shutil.copytree(index_dir, served)  # the commit must not change the index given
        index_dir = str(served)
        articles = commit_file(commit, scratch)
    proc, port = start_server(index_dir, threads, workers)
    events: dict[str, float | int | str | None] = {}
    try:
        mix = request_mix(some_ids(port))
        load = Load(port, mix, clients)
        load.run(warmup, max_requests, record=False)  # warm-up: caches, searchers, first queries
        rss_warm = rss_mb(proc.pid)
        peak = [rss_warm]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.5):
                if proc.poll() is None:
                    peak[0] = max(peak[0], rss_mb(proc.pid))

        def index_meanwhile() -> None:
            time.sleep(commit_at)
            events["commit_started_s"] = round(time.monotonic() - load.started, 2)
            result = subprocess.run(
                [sys.executable, "-m", "search", "index", str(articles), "--index", index_dir, "--quiet"],
                cwd=ROOT, capture_output=True, text=True, timeout=600,
            )
            events["commit_finished_s"] = round(time.monotonic() - load.started, 2)
            events["commit_output"] = (result.stdout.strip() or result.stderr.strip()[-500:])
            events["commit_status"] = result.returncode

        def terminate_at_the_end() -> None:
            time.sleep(duration)
            load.stopping.set()  # then the signal, while the clients' last requests are in flight
            proc.send_signal(signal.SIGTERM)
            events["sigterm_s"] = round(time.monotonic() - load.started, 2)
            try:
                events["exit_status"] = proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                events["exit_status"] = None
            events["exited_s"] = round(time.monotonic() - load.started, 2)

        helpers = [threading.Thread(target=sample, daemon=True)]
        if commit:
            helpers.append(threading.Thread(target=index_meanwhile, daemon=True))
        if sigterm:
            helpers.append(threading.Thread(target=terminate_at_the_end, daemon=True))
            rss_end = None
        for helper in helpers:
            helper.start()
        wall = load.run(duration + (5 if sigterm else 0), max_requests)
        for helper in helpers[1:]:
            helper.join(timeout=600)
        done.set()
        helpers[0].join(timeout=5)
        if not sigterm:
            rss_end = rss_mb(proc.pid)
            peak[0] = max(peak[0], rss_end)
        alive = proc.poll() is None
    finally:
        stderr = stop_server(proc)
    report = {
        "config": {"clients": clients, "duration_s": duration, "warmup_s": warmup, "max_requests": max_requests, "server_threads": threads, "server_workers": workers, "request_kinds": len(mix), "commit_articles": commit, "sigterm_at_end": sigterm},
        "requests": load.sent,
        "errors": load.error_count,
        "error_examples": load.errors,
        "statuses": {str(k): v for k, v in sorted(load.statuses.items())},
        "latency": latency_summary(load.latencies, wall),
        "wall_s": round(wall, 1),
        "server_rss_mb": {"after_warmup": rss_warm, "end": rss_end, "peak": peak[0], "growth": round(rss_end / rss_warm, 3) if rss_warm and rss_end else None},
        "server_alive_at_end": alive,
        "server_tracebacks": stderr.count("Traceback"),
        "server_generation_log": [line for line in stderr.splitlines() if "generation" in line][:20],
    }
    if commit or sigterm:
        seconds = per_second(load.samples)
        report["events"] = {**events, "article_counts_seen": {str(k): v for k, v in sorted(load.counts_seen.items(), key=lambda kv: kv[1])}}
        report["per_second"] = seconds
        if commit and "commit_started_s" in events:
            before = [latency for at, latency, _ in load.samples if at < events["commit_started_s"]]
            steady = latency_summary(before)["p99_ms"]
            after = [s for s in seconds if s["second"] >= int(events["commit_started_s"]) and s["requests"] >= clients]
            worst = max(after, key=lambda s: s["p99_ms"], default=None)
            report["commit"] = {
                "steady_p99_ms": steady,
                "steady_requests_per_s": round(len(before) / events["commit_started_s"], 1),
                "worst_second_after_commit": worst,
                "worst_p99_ratio": round(worst["p99_ms"] / steady, 2) if worst and steady else None,
                "phases": commit_phases(seconds, events, load.counts_seen, steady, clients),
            }
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", help="an existing index (default: build one from --limit lines of each news corpus)")
    parser.add_argument("--limit", type=int, default=1000, help="lines per corpus file for the built index (default 1000)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds (default 60)")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of load before measuring (default 5)")
    parser.add_argument("--max-requests", type=int, default=200_000, help="stop after this many requests (default 200,000)")
    parser.add_argument("--threads", type=int, default=8, help="server worker threads (default 8)")
    parser.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    parser.add_argument("--commit", type=int, default=0, metavar="N", help="index N new articles into a copy of the index while serving")
    parser.add_argument("--commit-at", type=float, default=20.0, metavar="S", help="seconds into the measured run to start the commit (default 20)")
    parser.add_argument("--sigterm", action="store_true", help="end the run with SIGTERM to the server under load")
    parser.add_argument("--out", help="result file (default bench/results/load.json)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        index_dir = args.index or build_index(args.limit, Path(tmp))
        report = header("python -m bench.load " + " ".join(argv if argv is not None else sys.argv[1:]))
        report["index"] = {"path": "temporary" if not args.index else os.path.abspath(index_dir), "limit_per_file": None if args.index else args.limit}
        report.update(run(index_dir, clients=args.clients, duration=args.duration, warmup=args.warmup, max_requests=args.max_requests, threads=args.threads,
                          workers=args.workers, commit=args.commit, commit_at=args.commit_at, sigterm=args.sigterm, scratch=Path(tmp)))
    out = Path(args.out) if args.out else RESULTS / "load.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
    lat = report["latency"]
    rss = report["server_rss_mb"]
    print(
        f"{report['requests']} requests, {report['errors']} errors, p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms, "
        f"{lat['qps']} req/s; server RSS {rss['after_warmup']} → {rss['end']} MB (peak {rss['peak']}) → {out}"
    )
    if "commit" in report:
        c = report["commit"]
        print(f"commit: steady p99 {c['steady_p99_ms']} ms; worst second after it {c['worst_second_after_commit']} ({c['worst_p99_ratio']}×)")
        for name, phase in c["phases"].items():
            print(f"  {name}: {phase}")
    if args.sigterm:
        print(f"SIGTERM: exit status {report['events'].get('exit_status')}")
        return 1 if report["errors"] or report["events"].get("exit_status") != 0 else 0
    return 1 if report["errors"] or not report["server_alive_at_end"] else 0


if __name__ == "__main__":
    sys.exit(main())
