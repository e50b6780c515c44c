"""The libcurl connection under opensearch-py (search/backends/opensearch/curl.py): the same
answers and errors as opensearch-py's own connection, per thread and across a fork."""

from __future__ import annotations

import base64
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opensearchpy import OpenSearch, Urllib3HttpConnection
from opensearchpy.exceptions import ConnectionError, ConnectionTimeout, NotFoundError, RequestError

from search.backends.opensearch.backend import _client
from search.backends.opensearch.curl import CurlConnection, connection_class

INDEX = "test-curl"


def test_plain_http_clusters_use_curl_and_https_ones_urllib3():
    assert connection_class(("http://127.0.0.1:9200",)) is CurlConnection
    assert connection_class(("http://a:9200", "HTTP://b:9200")) is CurlConnection
    assert connection_class(("https://search.example:9200",)) is Urllib3HttpConnection
    assert connection_class(("http://a:9200", "https://b:9200")) is Urllib3HttpConnection
    assert type(_client(("http://127.0.0.1:9",)).transport.get_connection()) is CurlConnection


@pytest.fixture(scope="module")
def pair(opensearch_url):
    """The same node through curl and through urllib3, with a small index."""
    curl = OpenSearch([opensearch_url], connection_class=CurlConnection)
    plain = OpenSearch([opensearch_url], connection_class=Urllib3HttpConnection)
    plain.indices.delete(index=INDEX, ignore=[404])
    plain.indices.create(index=INDEX, body={"settings": {"number_of_shards": 1, "number_of_replicas": 0},
                                            "mappings": {"properties": {"title": {"type": "keyword"}, "body": {"type": "text", "analyzer": "whitespace"}}}})
    for n in range(30):
        plain.index(index=INDEX, id=f"d{n}", body={"title": f"標題{n}", "body": f"普京 乌克兰 word{n % 5}"})
    plain.indices.refresh(index=INDEX)
    yield curl, plain
    plain.indices.delete(index=INDEX, ignore=[404])
    curl.close()
    plain.close()


def test_answers_equal_urllib3s(pair):
    curl, plain = pair
    asks = [
        lambda c: c.search(index=INDEX, body={"query": {"term": {"body": "普京"}}, "sort": [{"title": "asc"}], "size": 5}),
        lambda c: c.msearch(body=[{"index": INDEX}, {"query": {"term": {"body": "word3"}}, "size": 0},
                                  {"index": INDEX}, {"query": {"term": {"title": "標題7"}}}]),
        lambda c: c.count(index=INDEX),
        lambda c: c.get(index=INDEX, id="d4"),
        lambda c: c.termvectors(index=INDEX, body={"doc": {"body": "普京 word1"}, "term_statistics": True}),
    ]
    for ask in asks:
        got, expected = ask(curl), ask(plain)
        for answer in (got, expected):
            answer.pop("took", None)
            for one in answer.get("responses", ()):
                one.pop("took", None)
        assert got == expected


def test_head_requests_and_statuses(pair):
    curl, _ = pair
    assert curl.indices.exists(index=INDEX) is True
    assert curl.indices.exists(index="test-curl-none") is False
    assert curl.exists(index=INDEX, id="d1") is True
    assert curl.get(index=INDEX, id="none", ignore=[404])["found"] is False
    with pytest.raises(NotFoundError):
        curl.get(index=INDEX, id="none")
    with pytest.raises(RequestError) as raised:
        curl.search(index=INDEX, body={"query": {"no_such_query": {}}})
    assert raised.value.status_code == 400 and raised.value.error == "parsing_exception"  # the error's type, read from its JSON


def test_threads_each_use_their_own_handle(pair):
    curl, _ = pair

    def ask(n: int) -> tuple[int, str]:
        answer = curl.search(index=INDEX, body={"query": {"term": {"title": f"標題{n % 30}"}}})
        return n, answer["hits"]["hits"][0]["_id"]

    with ThreadPoolExecutor(8) as pool:
        for n, found in pool.map(ask, range(400)):
            assert found == f"d{n % 30}"


def test_a_forked_child_never_shares_its_parents_connection(pair):
    """Both processes ask right after the fork; each must read its own answers."""
    curl, _ = pair
    assert curl.get(index=INDEX, id="d0")["_id"] == "d0"  # the parent's handle holds a live connection
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: exit code 0 only when every answer is its own
        code = 1
        try:
            os.close(reader)
            code = 0 if all(curl.get(index=INDEX, id=f"d{n % 30}")["_id"] == f"d{n % 30}" for n in range(1, 200, 2)) else 3
        finally:
            os.write(writer, b"x")
            os._exit(code)
    os.close(writer)
    for n in range(0, 200, 2):
        assert curl.get(index=INDEX, id=f"d{n % 30}")["_id"] == f"d{n % 30}"
    os.read(reader, 1)
    os.close(reader)
    assert os.waitpid(pid, 0)[1] == 0


def test_a_refused_connection_is_a_connection_error():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = OpenSearch([f"http://127.0.0.1:{port}"], connection_class=CurlConnection, max_retries=0)
    with pytest.raises(ConnectionError) as raised:
        client.info()
    assert "127.0.0.1" in str(raised.value)


def test_a_silent_node_times_out():
    with socket.socket() as silent:  # accepts (the kernel's backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        client = OpenSearch([f"http://127.0.0.1:{port}"], connection_class=CurlConnection, max_retries=0, timeout=0.3)
        started = time.monotonic()
        with pytest.raises(ConnectionTimeout):
            client.info()
        assert time.monotonic() - started < 5


class _Recorder(BaseHTTPRequestHandler):
    """Answers every request with a small JSON object and keeps what it received."""

    seen: list[tuple[str, str, dict, bytes]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        _Recorder.seen.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        payload = b'{"ok": true}'
        self.send_response(200)
        self.send_header("content-type", "application/json; charset=UTF-8")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def recorder():
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_what_is_sent(recorder):
    client = OpenSearch([f"http://user:pa:ss@127.0.0.1:{recorder}/prefix"], connection_class=CurlConnection)
    big = {"query": {"terms": {"body": ["词" * 50] * 2000}}}  # ~300 KB: no "Expect: 100-continue" wait
    assert client.search(index="i", body=big, params={"request_cache": "false"}) == {"ok": True}
    assert client.indices.exists(index="i") is True
    method, path, headers, body = _Recorder.seen[0]
    assert method == "POST" and path == "/prefix/i/_search?request_cache=false"
    assert headers["authorization"] == "Basic " + base64.b64encode(b"user:pa:ss").decode()
    assert headers["content-type"] == "application/json" and "expect" not in headers
    assert "opensearch-py" in headers["user-agent"]
    assert len(body) > 300_000 and "词".encode() in body
    assert _Recorder.seen[1][0] == "HEAD"
