"""Export memory: does streaming every match of a search (``/api/export``) need constant memory?

Exports of growing size (``q=*`` with ``limit`` = 1,000, 10,000 and the cap, 50,000, which on
the 38,637 news articles is every story; CSV and JSON Lines, with the articles' whole text:
``body=true``), measured two ways:

- **served**: ``python -m search serve`` over ``--index``; each export is downloaded in 64 KB
  chunks (and discarded) while the resident memory of the worker process answering it is
  sampled every 20 ms, by kind: its own memory (``RssAnon``) and the pages of the index files it
  maps (``RssFile``: the stored texts, read once, then page cache). Each size is exported
  ``--repeat`` times: a first export may raise the process's high-water mark once (the
  allocator keeps freed memory), the later ones show whether it keeps rising.
- **traced**: the same requests to the app in this process (Flask's test client, the response
  streamed as the server streams it) under ``tracemalloc``: the peak of Python's allocations
  during the request above what was allocated before it, the most allocated at any time while
  rows were being written, and how many more objects the garbage collector tracks about
  halfway through the rows than before the request (a list of hits or rows kept alive would show here
  as one object or more per row).

Constant memory means none of these grows with the number of rows. What may grow is the
ranking: two numbers (16 bytes) per exported hit, in numpy arrays. Not a test: nothing is asserted.

    .venv/bin/python -m bench.export --index index          # writes bench/results/export.json
"""

from __future__ import annotations

import argparse
import gc
import http.client
import threading
import time
import tracemalloc
import urllib.parse
from pathlib import Path

from bench import load
from bench.common import header, write_result
from bench.load import start_server, stop_server

SIZES = (1_000, 10_000, 50_000)
KINDS = ("RssAnon", "RssFile")
CHUNK = 64 * 1024
MB = 2**20


def rss_mb(pid: int) -> dict[str, float]:
    """Resident memory by kind: ``RssAnon`` is the process's own (heap) memory; ``RssFile`` is
    pages of files it maps (the index's stored texts, as they are read: page cache, shared and
    given back under pressure)."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name = line.split(":")[0]
        if name in KINDS:
            found[name] = round(int(line.split()[1]) / 1024, 1)
    return found


def worker_pid(supervisor: int) -> int:
    """The one worker process ``serve --workers 1`` forks (it answers the requests)."""
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    if len(children) != 1:
        raise RuntimeError(f"expected one worker process under {supervisor}, found {children}")
    return int(children[0])


def export_path(fmt: str, limit: int) -> str:
    return "/api/export?" + urllib.parse.urlencode({"q": "*", "format": fmt, "limit": limit, "body": "true"})


def export_served(port: int, pid: int, fmt: str, limit: int) -> dict:
    """One export, streamed and discarded; the worker's RSS sampled meanwhile."""
    before = rss_mb(pid)
    peak = dict(before)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            now = rss_mb(pid)
            for kind in KINDS:
                peak[kind] = max(peak[kind], now[kind])
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request("GET", export_path(fmt, limit))
    response = conn.getresponse()
    total = 0
    lines = 0
    first_byte = None
    while True:
        chunk = response.read(CHUNK)
        if not chunk:
            break
        if first_byte is None:
            first_byte = time.perf_counter() - started
        total += len(chunk)
        lines += chunk.count(b"\n")
    conn.close()
    took = time.perf_counter() - started
    done.set()
    sampler.join()
    return {
        "format": fmt,
        "limit": limit,
        "status": response.status,
        "exported": int(response.getheader("X-Export-Count") or 0),
        "bytes": total,
        "newlines": lines,
        "seconds": round(took, 2),
        "first_byte_ms": round((first_byte or took) * 1000, 1),
        "rss_before_mb": before,
        "rss_peak_mb": peak,
        "rss_after_mb": rss_mb(pid),
        "heap_growth_mb": round(peak["RssAnon"] - before["RssAnon"], 1),
        "mapped_file_growth_mb": round(peak["RssFile"] - before["RssFile"], 1),
    }


def export_traced(client, fmt: str, limit: int) -> dict:
    """One export through the app in this process, under ``tracemalloc``."""
    gc.collect()
    objects_before = len(gc.get_objects())
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    started = time.perf_counter()
    response = client.get(export_path(fmt, limit), buffered=False)
    rows = int(response.headers.get("X-Export-Count") or 0)
    total = lines = 0
    held = 0
    objects_mid = None
    for chunk in response.iter_encoded():
        total += len(chunk)
        lines += chunk.count(b"\n")  # about a row each (CSV bodies hold line breaks too)
        held = max(held, tracemalloc.get_traced_memory()[0] - base)
        if objects_mid is None and lines >= rows // 2:
            objects_mid = len(gc.get_objects())
    response.close()
    took = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return {
        "format": fmt,
        "limit": limit,
        "status": response.status_code,
        "exported": rows,
        "bytes": total,
        "seconds_traced": round(took, 2),
        "traced_peak_mb": round(peak / MB, 2),
        "traced_while_streaming_mb": round(held / MB, 2),
        "gc_objects_growth_at_half": (objects_mid or objects_before) - objects_before,
    }


def served(index: str, sizes: list[int], repeat: int) -> list[dict]:
    load.STARTUP_WAIT = 300.0  # the warm-up of a full index takes minutes on a busy machine
    proc, port = start_server(index, threads=1)
    try:
        pid = worker_pid(proc.pid)
        runs = []
        for fmt in ("csv", "jsonl"):
            export_served(port, pid, fmt, 200)  # the first export loads what every export uses
            for size in sizes:
                for attempt in range(1, repeat + 1):
                    run = {**export_served(port, pid, fmt, size), "attempt": attempt}
                    runs.append(run)
                    print(f"served {fmt:5} limit {size:>6} #{attempt}: {run['exported']} rows, {run['bytes'] / MB:6.1f} MB in {run['seconds']:5.1f} s; "
                          f"worker RssAnon {run['rss_before_mb']['RssAnon']} MB, +{run['heap_growth_mb']} at the peak; "
                          f"index pages mapped +{run['mapped_file_growth_mb']} MB", flush=True)
        return runs
    finally:
        stop_server(proc)


def traced(index: str, sizes: list[int]) -> list[dict]:
    from web import create_app

    client = create_app({"INDEX_DIR": index}).test_client()
    runs = []
    for fmt in ("csv", "jsonl"):
        export_traced(client, fmt, 200)  # loads what every export uses
        for size in sizes:
            run = export_traced(client, fmt, size)
            runs.append(run)
            print(f"traced {fmt:5} limit {size:>6}: {run['exported']} rows, peak +{run['traced_peak_mb']} MB, "
                  f"while streaming +{run['traced_while_streaming_mb']} MB, gc objects +{run['gc_objects_growth_at_half']}", flush=True)
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True, help="an index of at least 10,000 articles")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--repeat", type=int, default=2, help="served exports of each size (default 2)")
    parser.add_argument("--skip", choices=("served", "traced"), help="leave one measurement out")
    parser.add_argument("--out", default="export", help="result name under bench/results/")
    args = parser.parse_args(argv)
    report = {**header("python -m bench.export " + " ".join(argv or [])), "index": args.index}
    if args.skip != "served":
        report["served"] = served(args.index, args.sizes, args.repeat)
    if args.skip != "traced":
        report["traced"] = traced(args.index, args.sizes)
    path = write_result(args.out, None, report)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
