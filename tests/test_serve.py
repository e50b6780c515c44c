"""``python -m search serve``: a real waitress server on 127.0.0.1, spoken to over real HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED_ID = "000_1797282344cdefbc"
STARTUP_WAIT = 120.0  # generous: a busy CI machine warms up slowly


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str):
    """(status, headers, body bytes) for any status, closing the connection."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.headers, exc.read()


def stop(proc: subprocess.Popen) -> tuple[str, str]:
    if proc.poll() is None:
        proc.terminate()
    try:
        return proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()


def start(index: str, *extra: str) -> tuple[str, subprocess.Popen]:
    """Start ``python -m search serve`` on a free port; return once /healthz answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "SEARCH_INDEX"}
    env["PYTHONIOENCODING"] = "utf-8"
    env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.Popen(
        [sys.executable, "-m", "search", "serve", "--index", index, "--host", "127.0.0.1", "--port", str(port), *extra],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_WAIT
    while True:
        if proc.poll() is not None:
            out, err = stop(proc)
            pytest.fail(f"server exited with {proc.returncode} before answering:\n{out}\n{err}")
        try:
            status, _, _ = get(base + "/healthz")
            if status == 200:
                return base, proc
        except (urllib.error.URLError, ConnectionError, socket.timeout):
            pass
        if time.monotonic() > deadline:
            stop(proc)
            pytest.fail(f"server did not answer /healthz within {STARTUP_WAIT:.0f} s")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def server(seed_index):
    base, proc = start(seed_index)
    try:
        yield base, proc
    finally:
        stop(proc)


def test_healthz_over_http(server):
    base, _ = server
    status, headers, body = get(base + "/healthz")
    assert status == 200
    assert json.loads(body) == {"status": "ok", "articles": 4}


def test_search_over_http(server):
    base, _ = server
    status, headers, body = get(base + "/api/search?" + urllib.parse.urlencode({"q": "普京"}))
    assert status == 200
    assert headers.get_content_type() == "application/json"
    assert "Content-Security-Policy" in headers
    text = body.decode("utf-8")
    assert "\\u" not in text
    result = json.loads(text)
    assert result["query"] == "普京"
    assert result["total"] == 2
    assert {h["id"] for h in result["hits"]} == {SEED_ID, "zh-simplified-1"}
    seed = next(h for h in result["hits"] if h["id"] == SEED_ID)
    assert seed["title"]["zh"] == "習近平同俄羅斯總統普京舉行會晤"
    assert any("<mark>普京</mark>" in s for s in seed["snippets"]["zh"])


def test_bad_parameter_over_http(server):
    base, _ = server
    status, headers, body = get(base + "/api/search?" + urllib.parse.urlencode({"q": "普京", "size": "0"}))
    assert status == 400
    assert json.loads(body)["error"]["param"] == "size"


def test_html_page_over_http(server):
    base, _ = server
    status, headers, body = get(base + "/?" + urllib.parse.urlencode({"q": "習近平"}))
    assert status == 200
    assert headers.get_content_type() == "text/html"
    assert "<mark>習近平</mark>" in body.decode("utf-8")


def test_server_announces_where_it_listens(server):
    base, proc = server
    # the server reports its warm-up, then where it listens; both are flushed before serving
    ready = proc.stdout.readline()
    assert ready.startswith("ready in ") and "postings in memory" in ready
    line = proc.stdout.readline()
    assert line.startswith("serving ")
    assert line.rstrip().endswith(f"on {base}/")


def test_several_worker_processes_share_the_port_and_stop_together(seed_index):
    import psutil

    base, proc = start(seed_index, "--workers", "2")
    try:
        workers = psutil.Process(proc.pid).children()
        assert len(workers) == 2
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: get(base + "/api/search?" + urllib.parse.urlencode({"q": "普京"})), range(40)))
        assert all(status == 200 and json.loads(body)["total"] == 2 for status, _, body in answers)
        # A worker that dies is replaced; the others keep serving meanwhile.
        workers[0].kill()
        workers[0].wait(5)
        deadline = time.monotonic() + 10
        while len(psutil.Process(proc.pid).children()) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(psutil.Process(proc.pid).children()) == 2
        assert get(base + "/healthz")[0] == 200
    finally:
        out, _ = stop(proc)
    assert proc.returncode == 0
    assert "with 2 processes" in out
    assert not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers)


def test_keep_alive_connections_are_spread_evenly_over_the_workers(seed_index):
    # Eight clients that keep their connections open: each worker must serve four of them,
    # not the first worker to wake all eight while the other idles.
    import http.client

    import psutil

    base, proc = start(seed_index, "--workers", "2")
    port = int(base.rsplit(":", 1)[1])
    connections = []
    try:
        for _ in range(8):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/api/search?" + urllib.parse.urlencode({"q": "普京"}))
            response = conn.getresponse()
            assert response.status == 200 and json.loads(response.read())["total"] == 2
            connections.append(conn)
        per_worker = sorted(
            sum(1 for c in worker.net_connections("tcp") if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port)
            for worker in psutil.Process(proc.pid).children()
        )
        assert per_worker == [4, 4]
    finally:
        for conn in connections:
            conn.close()
        stop(proc)


@pytest.mark.parametrize("option", ["--workers", "--threads"])
def test_workers_or_threads_out_of_range_is_a_clear_error(seed_index, option):
    result = subprocess.run(
        [sys.executable, "-m", "search", "serve", "--index", seed_index, option, "0"],
        cwd=ROOT, capture_output=True, text=True, encoding="utf-8", timeout=60,
    )
    assert result.returncode != 0
    assert f"{option} must be between 1 and 64" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_worker_makes_a_streamed_response_a_chunk_at_a_time():
    # The worker's middleware hands waitress the app's chunks as they are asked for (an export of
    # every story is never held whole) and counts as busy only while the app computes one.
    from web.server import _Shared, _Tracked

    shared = _Shared(1)
    made = []

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])

        def rows():
            for n in range(1000):
                made.append((n, shared.busy_since[0] > 0))
                yield b"row\n"

        return rows()

    tracked = _Tracked(app, shared, 0, max_requests=0)
    response = tracked({}, lambda status, headers: None)
    chunks = iter(response)
    assert next(chunks) == b"row\n" and made == [(0, True)]  # nothing made ahead of the client
    assert shared.busy_since[0] == 0.0  # waiting for the client to take a chunk is not being busy
    assert sum(1 for _ in chunks) == 999 and all(busy for _, busy in made)
    response.close()
    assert tracked.served == 1
    sized = _Tracked(lambda environ, start_response: [b"ok"], shared, 0, max_requests=0)({}, None)
    assert len(sized) == 1 and list(sized) == [b"ok"]  # waitress gives a one-chunk response its Content-Length


def test_a_connection_does_not_keep_what_it_has_sent():
    # Waitress keeps the bytes it has sent of a response in the connection's buffer until 16 MB
    # have gone through it; the worker's connections start over after each MB instead.
    import http.client
    import threading
    import tracemalloc

    from waitress import wasyncore

    from web.server import ServeOptions, _Server, _Shared

    chunk = b"x" * 8192

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return (chunk for _ in range(2048))  # 16 MB, streamed

    sock = socket.create_server(("127.0.0.1", 0))
    server = _Server(app, sock, ServeOptions(), _Shared(1), 0)
    stopping = threading.Event()

    def loop():
        while not stopping.is_set():
            wasyncore.loop(timeout=0.1, use_poll=True, map=server._map, count=1)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    tracemalloc.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", sock.getsockname()[1], timeout=60)
        conn.request("GET", "/")
        response = conn.getresponse()
        received = 0
        while data := response.read(65536):
            received += len(data)
        conn.close()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        stopping.set()
        thread.join()
        server.task_dispatcher.shutdown()
        server.close()
    assert received == 2048 * len(chunk)
    assert peak < 8 * 2**20, peak  # without starting over: 16 MB and more
