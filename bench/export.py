"""Export memory: does streaming every match of a search (``/api/export``) need constant memory?

Starts ``python -m search serve`` over an index (``--index``), then downloads exports of
growing size (``q=*`` with ``limit`` = 1,000 … 10,000 articles, CSV and JSON Lines, with the
articles' whole text: ``body=true``), reading the response in 64 KB chunks while sampling the
server's resident memory every 20 ms, by kind: its own memory (``RssAnon``) and the pages of
the index files it maps (``RssFile``: the stored texts, read once, then page cache). Constant
memory means the peak growth of its own memory does not grow with the number of rows. Not a test: nothing is asserted.

    .venv/bin/python -m bench.export --index index          # writes bench/results/export.json
"""

from __future__ import annotations

import argparse
import http.client
import threading
import time
import urllib.parse

from bench.common import header, write_result
from pathlib import Path

from bench import load
from bench.load import start_server, stop_server

SIZES = (1_000, 2_500, 5_000, 10_000)
KINDS = ("RssAnon", "RssFile")


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
CHUNK = 64 * 1024


def export_once(port: int, pid: int, fmt: str, limit: int) -> dict:
    """One export, streamed and discarded; the server's RSS sampled meanwhile."""
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
    query = urllib.parse.urlencode({"q": "*", "format": fmt, "limit": limit, "body": "true"})
    conn.request("GET", "/api/export?" + query)
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
        "rows": limit,
        "status": response.status,
        "exported": int(response.getheader("X-Export-Count") or 0),
        "bytes": total,
        "newlines": lines,
        "seconds": round(took, 2),
        "first_byte_ms": round((first_byte or took) * 1000, 1),
        "rss_before_mb": before,
        "rss_peak_mb": peak,
        "heap_growth_mb": round(peak["RssAnon"] - before["RssAnon"], 1),
        "mapped_file_growth_mb": round(peak["RssFile"] - before["RssFile"], 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True, help="an index of at least 10,000 articles")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--out", default="export", help="result name under bench/results/")
    args = parser.parse_args(argv)
    load.STARTUP_WAIT = 300.0  # the warm-up of a full index takes minutes on a busy machine
    proc, port = start_server(args.index, threads=1)
    try:
        runs = []
        for fmt in ("csv", "jsonl"):
            export_once(port, proc.pid, fmt, 200)  # the first export loads what every export uses
            for size in args.sizes:
                run = export_once(port, proc.pid, fmt, size)
                runs.append(run)
                print(f"{fmt:5} {size:>6} rows: {run['bytes'] / 2**20:7.1f} MB in {run['seconds']:5.1f} s, "
                      f"server heap (RssAnon) {run['rss_before_mb']['RssAnon']} MB, +{run['heap_growth_mb']} at the peak; "
                      f"index pages mapped +{run['mapped_file_growth_mb']} MB")
    finally:
        stop_server(proc)
    report = {**header("python -m bench.export " + " ".join(argv or [])), "index": args.index, "runs": runs}
    path = write_result(args.out, None, report)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
