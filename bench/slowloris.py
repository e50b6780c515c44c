"""Slow clients against the server: does ``/healthz`` still answer while N connections trickle
their request heads a byte at a time?

Runs ``python -m search serve`` and, when gunicorn is installed, gunicorn's sync and gthread
workers over the same app with the same number of processes (preloaded, like ``serve``), each
on a free loopback port: opens ``--connections`` connections that send one byte of a request
head every 0.5 s, waits 2 s, then asks ``/healthz`` ``--probes`` times (5 s timeout each).

    .venv/bin/python -m bench.slowloris --index index    # writes bench/results/slowloris.json
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.common import RESULTS, ROOT, header
from bench.load import free_port

HEAD = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Padding: y\r\n" * 200


def servers(index: str, port: int, workers: int) -> dict[str, list[str]]:
    found = {"this project (waitress workers)": [sys.executable, "-m", "search", "serve", "--index", index, "--port", str(port), "--workers", str(workers), "--threads", "1"]}
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        return found
    common = [sys.executable, "-m", "gunicorn", "--preload", "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning"]
    found["gunicorn sync"] = [*common, "-k", "sync", "web:create_app()"]
    found["gunicorn gthread, 1 thread"] = [*common, "-k", "gthread", "--threads", "1", "web:create_app()"]
    found["gunicorn gthread, 8 threads"] = [*common, "-k", "gthread", "--threads", "8", "web:create_app()"]
    return found


def healthz(port: int, timeout: float) -> float | None:
    """Seconds to an answer of /healthz, ``None`` if none came within ``timeout``."""
    started = time.monotonic()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            conn.request("GET", "/healthz")
            ok = conn.getresponse().status == 200
        finally:
            conn.close()
    except OSError:
        return None
    return round(time.monotonic() - started, 3) if ok else None


def trickle(port: int, stop: threading.Event, opened: list) -> None:
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError:
        return
    opened.append(sock)
    for byte in HEAD:
        if stop.wait(0.5):
            return
        try:
            sock.send(bytes([byte]))
        except OSError:
            return


def measure(command: list[str], port: int, index: str, connections: int, probes: int) -> dict:
    env = {**os.environ, "SEARCH_INDEX": index, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    stop, opened = threading.Event(), []
    try:
        deadline = time.monotonic() + 120
        while healthz(port, 2) is None:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{command}: did not start: {proc.stderr.read()[-1000:] if proc.poll() is not None else ''}")
            time.sleep(0.2)
        before = healthz(port, 5)
        threads = [threading.Thread(target=trickle, args=(port, stop, opened), daemon=True) for _ in range(connections)]
        for t in threads:
            t.start()
        time.sleep(2)
        answers = [healthz(port, 5) for _ in range(probes)]
    finally:
        stop.set()
        for sock in opened:
            sock.close()
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return {
        "healthz_before_s": before,
        "trickling_connections": len(opened),
        "healthz_during_s": answers,
        "answered": sum(a is not None for a in answers),
        "probes": probes,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.slowloris", description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=110)
    parser.add_argument("--probes", type=int, default=5)
    parser.add_argument("--out", help="result file (default bench/results/slowloris.json)")
    args = parser.parse_args(argv)
    report = header("python -m bench.slowloris " + " ".join(argv if argv is not None else sys.argv[1:]))
    report["config"] = {"workers": args.workers, "connections": args.connections, "probes": args.probes, "probe_timeout_s": 5}
    report["servers"] = {}
    for name, command in servers(os.path.abspath(args.index), free_port(), args.workers).items():
        port = int(command[command.index("--port") + 1]) if "--port" in command else int(command[command.index("-b") + 1].rsplit(":", 1)[1])
        result = measure(command, port, os.path.abspath(args.index), args.connections, args.probes)
        report["servers"][name] = result
        print(f"{name}: /healthz answered {result['answered']}/{result['probes']} with {result['trickling_connections']} trickling connections: {result['healthz_during_s']}")
    out = Path(args.out) if args.out else RESULTS / "slowloris.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
