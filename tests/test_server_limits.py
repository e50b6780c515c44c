"""``python -m search serve`` limits: loopback by default, bounded request size and time.

The configuration is read where it is set (the arguments ``serve`` hands to waitress, the
Flask config), and the limits are then exercised over real HTTP: a body over 1 MB is refused
before the app sees it, an oversized request line is refused, neither with a 5xx, and the
server keeps answering.
"""

from __future__ import annotations

import http.client
import json
import socket

import psutil
import pytest

from search.cli import build_parser
from tests.reldata import Server, http_get
from web import create_app

BODY_LIMIT = 1024 * 1024


def test_serve_defaults_to_loopback_and_passes_limits_to_waitress():
    from waitress.adjustments import Adjustments

    from web.server import ServeOptions

    args = build_parser().parse_args(["serve"])
    assert args.host == "127.0.0.1"
    options = ServeOptions(host=args.host, max_connections=args.max_connections, read_timeout=args.read_timeout)
    seen = options.waitress()
    assert 0 < seen["max_request_body_size"] <= BODY_LIMIT
    assert 0 < seen["channel_timeout"] <= 60
    assert 0 < options.read_timeout <= 30
    # and waitress accepts them, with its own header limit in place
    adjustments = Adjustments(**{k: v for k, v in seen.items() if k != "ident"})
    assert adjustments.max_request_body_size == seen["max_request_body_size"]
    assert adjustments.max_request_header_size <= 256 * 1024
    assert adjustments.connection_limit > options.max_connections  # ours answers 503 first


def test_flask_caps_request_bodies():
    assert 0 < create_app({"INDEX_DIR": "unused"}).config["MAX_CONTENT_LENGTH"] <= BODY_LIMIT


@pytest.fixture(scope="module")
def default_server(seed_index):
    """The server as a user starts it: no --host."""
    with Server(seed_index, host=None, threads=None) as server:
        yield server.proc, server.port


def test_server_listens_on_loopback_only(default_server):
    proc, port = default_server
    listening = [c for c in psutil.Process(proc.pid).net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    assert listening, "no listening socket"
    assert {c.laddr.ip for c in listening} == {"127.0.0.1"}


def raw_request(port: int, head: bytes, body_chunks: int = 0) -> bytes | None:
    """Send ``head`` (then up to ``body_chunks`` chunks of 64 KB) and return what the server
    answered; ``None`` if it cut the connection without an answer we could read."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        try:
            for start in range(0, len(head), 65536):
                sock.sendall(head[start : start + 65536])
            for _ in range(body_chunks):
                sock.sendall(b"x" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading: its answer may still be there
        chunks = []
        try:
            while len(chunks) < 10_000:  # bounded
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except ConnectionResetError:
            pass
    data = b"".join(chunks)
    return data or None


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def test_a_body_over_1_mb_is_refused_before_the_app(default_server):
    _, port = default_server
    head = b"POST /api/search?q=x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n" % (BODY_LIMIT + 1)
    response = raw_request(port, head)  # the declared length is enough: no need to send the body
    assert response is not None and status_of(response) == 413, response
    # under the limit, the app answers (a search is GET only): its JSON error, not a 5xx
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/api/search?q=x", body=b"x" * 1000)
        response = conn.getresponse()
        assert response.status == 405
        assert b'"error"' in response.read()
    finally:
        conn.close()


def test_a_chunked_body_over_1_mb_is_refused(default_server):
    _, port = default_server
    chunk = b"10000\r\n" + b"x" * 65536 + b"\r\n"
    head = b"POST /api/search?q=x HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk * 20 + b"0\r\n\r\n"
    response = raw_request(port, head)
    assert response is None or 400 <= status_of(response) < 500, response[:200]


@pytest.mark.parametrize(
    "head",
    [
        b"GET /api/search?q=" + b"a" * 400_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Junk: " + b"b" * 300_000 + b"\r\n\r\n",
    ],
    ids=["request line", "header"],
)
def test_an_oversized_request_head_is_refused(default_server, head):
    _, port = default_server
    response = raw_request(port, head)
    assert response is None or 400 <= status_of(response) < 500, response[:200]


def test_a_request_line_with_raw_utf8_is_read_as_its_percent_encoding(default_server):
    # curl sends the README's `curl 'http://127.0.0.1:8000/api/search?q=習近平'` as raw UTF-8;
    # a browser sends %E7%BF%92...: both are the same search.
    _, port = default_server
    raw = raw_request(port, "GET /api/search?q=習近平&size=3 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode("utf-8"))
    encoded = raw_request(port, b"GET /api/search?q=%E7%BF%92%E8%BF%91%E5%B9%B3&size=3 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert raw is not None and status_of(raw) == 200, raw[:200]
    raw_body, encoded_body = (json.loads(r.split(b"\r\n\r\n", 1)[1]) for r in (raw, encoded))
    assert raw_body["query"] == "習近平"
    assert raw_body["total"] > 0
    assert [h["id"] for h in raw_body["hits"]] == [h["id"] for h in encoded_body["hits"]]
    # bytes that are not UTF-8 are a query like any other, not a server error
    junk = raw_request(port, b"GET /api/search?q=\xff\xfe HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert junk is not None and status_of(junk) in (200, 400), junk[:200]


def test_the_server_still_answers_after_the_abuse(default_server):
    proc, port = default_server
    status, body = http_get(f"http://127.0.0.1:{port}/healthz")
    assert status == 200
    assert proc.poll() is None
