"""A real OpenSearch node built and started by search.backends.opensearch.localnode."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import pytest
from opensearchpy import OpenSearch

from search.backends.opensearch.localnode import LocalNode, NodeError, free_port, missing_tools
from tests.conftest import ROOT
from tests.opensearch_node import need_java


def test_fixture_node_indexes_and_searches(opensearch_url):
    client = OpenSearch([opensearch_url], timeout=30)
    assert client.info()["version"]["number"] == "2.19.6"
    name = "test-localnode"
    client.indices.delete(index=name, ignore_unavailable=True)
    # Terms arrive analyzed by the project, so the node only splits on whitespace (analysis-common's tokenizer).
    client.indices.create(index=name, body={
        "settings": {"number_of_shards": 1, "number_of_replicas": 0,
                     "analysis": {"analyzer": {"terms": {"type": "custom", "tokenizer": "whitespace"}}}},
        "mappings": {"properties": {"zh": {"type": "text", "analyzer": "terms"}}},
    })
    client.index(index=name, id="a", body={"zh": "习近平 会见 普京"})
    client.index(index=name, id="b", body={"zh": "普京 会见 习近平"})
    client.indices.refresh(index=name)
    phrase = client.search(index=name, body={"query": {"match_phrase": {"zh": "会见 普京"}}})
    assert [hit["_id"] for hit in phrase["hits"]["hits"]] == ["a"]
    assert client.count(index=name, body={"query": {"match": {"zh": "普京"}}})["count"] == 2
    client.indices.delete(index=name)


def test_missing_java_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert missing_tools() == "java and mvn not found on PATH (a local OpenSearch node needs Java 17+ and Maven)"


def test_busy_port_is_a_clear_error(tmp_path):
    need_java()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(NodeError, match=f"port {port} on 127.0.0.1 is already in use"):
            LocalNode("n", tmp_path, http_port=port).start()


def test_foreground_node_stops_on_interrupt(tmp_path):
    """What `make opensearch` runs: a node in the foreground, stopped cleanly by Ctrl-C."""
    need_java()
    port = free_port()
    command = [sys.executable, "-m", "search.backends.opensearch.localnode", "--port", str(port), "--data", str(tmp_path / "home"), "--heap", "256"]
    # As from a terminal: a test run started as a background job of a script inherits SIGINT
    # ignored, and Python then keeps ignoring it (as it should for a background job).
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)) as proc:
        try:
            line = proc.stdout.readline()
            assert line.startswith(f"OpenSearch 2.19.6 ready at http://127.0.0.1:{port} in "), (line, proc.stderr.read() if proc.poll() is not None else "")
            proc.send_signal(signal.SIGINT)
            assert proc.wait(60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
    time.sleep(0.5)
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0, "the JVM still listens after the interrupt"
    assert (tmp_path / "home" / "data").is_dir()


def test_foreground_node_reports_a_bad_port():
    done = subprocess.run([sys.executable, "-m", "search.backends.opensearch.localnode", "--port", "70000"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 2 and "--port 70000: not a TCP port" in done.stderr and "Traceback" not in done.stderr
