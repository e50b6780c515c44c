"""pytest plugin: a real OpenSearch node on loopback for the tests that need one.

``opensearch_url`` (session scope) builds the node once (Maven, first run only) and starts one
node in a temporary folder. Without Java 17+ and Maven the tests using it are skipped, and the
report header says why in one line; with ``SEARCH_REQUIRE_OPENSEARCH=1`` (CI) a node that cannot
start is an error instead. ``SEARCH_TEST_OPENSEARCH=URL`` runs them against a node already running
(its indexes named ``test-*`` may be created and deleted).
"""

from __future__ import annotations

import os

import pytest

from search.backends.opensearch.localnode import LocalCluster, NodeError, missing_tools

REQUIRE = os.environ.get("SEARCH_REQUIRE_OPENSEARCH") == "1"
EXISTING = os.environ.get("SEARCH_TEST_OPENSEARCH")


def unavailable(reason: str):
    """Skip (or, when CI requires a node, fail) the tests that need one."""
    if REQUIRE:
        pytest.fail(f"SEARCH_REQUIRE_OPENSEARCH=1 but no OpenSearch node: {reason}", pytrace=False)
    pytest.skip(f"no OpenSearch node: {reason}")


def need_java() -> None:
    """For tests that start nodes themselves: skip (or fail in CI) without Java 17+ and Maven."""
    reason = missing_tools()
    if reason:
        unavailable(reason)


def pytest_report_header(config) -> str:
    if EXISTING:
        return f"opensearch: tests use the running node at {EXISTING}"
    reason = missing_tools()
    if reason:
        return f"opensearch: tests needing a node are {'ERRORS' if REQUIRE else 'skipped'}: {reason}"
    return "opensearch: tests start a local node (Java + Maven found)"


@pytest.fixture(scope="session")
def opensearch_url(tmp_path_factory) -> str:
    """The URL of one real OpenSearch node on 127.0.0.1 for the whole session."""
    if EXISTING:
        yield EXISTING
        return
    need_java()
    cluster = LocalCluster(tmp_path_factory.mktemp("opensearch"), size=1, heap_mb=512, name="search-test", quick_start=True)
    try:
        cluster.start()
    except NodeError as exc:
        unavailable(str(exc))
    try:
        yield cluster.url
    finally:
        cluster.stop()
