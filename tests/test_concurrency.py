"""Concurrent use: searching while another process indexes, and two indexing runs at once.

Searches run in this process (one :class:`Engine` shared by threads) and through the real
server (``python -m search serve`` on 127.0.0.1) while ``python -m search index`` commits
2,000 new articles in batches of 250. They must keep answering, and correctly: the 300
articles indexed before are found every time, exactly once each, and the article count only
ever takes the values whole batches give. A second ``index`` run while one is writing fails
at once with a clear message and changes nothing.
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
from whoosh.reading import ReaderClosed

from search.backends.whoosh import WhooshBackend
from search.searcher import Engine
from search.backends.whoosh.store import INDEX_NAME
from tests.reldata import Server, finish, http_get, marker, run_cli, sample_records, start_cli, stored_articles, write_files

pytestmark = pytest.mark.slow

BASE = 300
INCOMING = 2000
PER_FILE = 50
BATCH = 250
STABLE = "stablemark"
THREADS = 4
MAX_ROUNDS = 5000  # per thread: the loops end when indexing ends, or after this many rounds


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    base_dir = tmp_path_factory.mktemp("concurrency")
    records = sample_records(BASE + INCOMING, seed=7)
    for record in records[:BASE]:
        record["body"] += f" {STABLE}"
    write_files(records[:BASE], base_dir / "base", PER_FILE)
    write_files(records[BASE:], base_dir / "incoming", PER_FILE)
    return {"dir": base_dir, "records": records, "ids": [r["id"] for r in records]}


def fresh_index(corpus, tmp_path) -> Path:
    index_dir = tmp_path / "index"
    proc = run_cli("index", corpus["dir"] / "base", "--index", index_dir, "--quiet")
    assert proc.returncode == 0, proc.stderr
    return index_dir


ALLOWED_COUNTS = {BASE + BATCH * k for k in range(INCOMING // BATCH + 1)}


class KnownRace(Exception):
    """A search broken by the race in ``Engine.search`` that
    ``test_a_commit_landing_during_a_search_does_not_break_it`` (xfail, strict) pins down:
    counted and reported, not failed on here, since it happens only by chance. Once the
    engine is fixed that test passes, fails as strict, and this allowance must go."""


class Checker:
    """Runs ``check`` in threads until ``stop`` is set; collects every failure."""

    def __init__(self, name: str, check, stop: threading.Event) -> None:
        self.name, self.check, self.stop = name, check, stop
        self.failures: list[str] = []
        self.races = 0
        self.rounds = 0
        self.counts: list[int] = []
        self.threads = [threading.Thread(target=self._loop, args=(random.Random(n),), daemon=True) for n in range(THREADS)]

    def _loop(self, rng: random.Random) -> None:
        last = 0
        for _ in range(MAX_ROUNDS):
            if self.stop.is_set():
                return
            try:
                count = self.check(rng)
                self.rounds += 1
                self.counts.append(count)
                if count < last:
                    self.failures.append(f"article count went back from {last} to {count}")
                last = count
            except (ReaderClosed, KnownRace):
                self.races += 1
            except Exception as exc:  # collected, reported by the test
                self.failures.append(f"{type(exc).__name__}: {exc}")
                if len(self.failures) > 20:
                    return

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in self.threads), f"{self.name}: a search thread hangs"


def test_searches_stay_correct_while_another_process_commits(corpus, tmp_path):
    index_dir = fresh_index(corpus, tmp_path)
    records, ids = corpus["records"], corpus["ids"]
    engine = Engine(str(index_dir))

    def in_process(rng: random.Random) -> int:
        result = engine.search(STABLE, size=5, facets=False)
        assert result.total == BASE, f"{STABLE}: {result.total} hits, expected {BASE}"
        i = rng.randrange(BASE)
        hits = [h.id for h in engine.search(marker(i), size=5, facets=False).hits]
        assert hits == [ids[i]], f"{marker(i)}: {hits}"
        j = rng.randrange(BASE, BASE + INCOMING)
        # Quoted: searched as typed, never corrected to the marker of an article one letter away.
        hits = [h.id for h in engine.search(f'"{marker(j)}"', size=5, facets=False).hits]
        assert hits in ([], [ids[j]]), f"{marker(j)}: {hits}"
        count = engine.count()
        assert count in ALLOWED_COUNTS, f"count {count} is not whole batches"
        return count

    with Server(str(index_dir)) as server:

        def over_http(rng: random.Random) -> int:
            status, body = http_get(server.base + "/api/search?" + urllib.parse.urlencode({"q": STABLE, "size": 3}))
            if status == 500:
                raise KnownRace(body)  # checked below against the server's log
            assert status == 200, body[:300]
            assert json.loads(body)["total"] == BASE
            i = rng.randrange(BASE)
            status, body = http_get(server.base + "/api/articles/" + urllib.parse.quote(ids[i]))
            assert status == 200, body[:300]
            article = json.loads(body)
            assert (article["title"]["zh"] or article["title"]["en"]) == records[i]["title"].strip()
            status, body = http_get(server.base + "/healthz")
            assert status == 200, body[:300]
            count = json.loads(body)["articles"]
            assert count in ALLOWED_COUNTS, f"count {count} is not whole batches"
            return count

        stop = threading.Event()
        indexer = start_cli("index", corpus["dir"] / "incoming", "--index", index_dir, "--quiet", "--batch-size", BATCH)
        try:
            with Checker("engine", in_process, stop) as local, Checker("api", over_http, stop) as remote:
                out, err = finish(indexer)
        finally:
            if indexer.poll() is None:
                indexer.kill()
                indexer.wait()
        assert indexer.returncode == 0, err
        assert out.strip() == f"indexed {INCOMING} / updated 0 / unchanged 0 / failed 0"
        for checker in (local, remote):
            assert checker.failures == [], f"{checker.name}: {checker.failures[:5]}"
            assert checker.rounds > 0
        seen = set(local.counts) | set(remote.counts)
        assert len(seen) >= 2, f"the searches did not overlap any commit (counts seen: {seen})"
        # After the run both see everything.
        assert engine.count() == BASE + INCOMING
        # The server switches to the last generation once it has warmed it (in the background).
        deadline = time.monotonic() + 60
        while json.loads(http_get(server.base + "/healthz")[1])["articles"] != BASE + INCOMING and time.monotonic() < deadline:
            time.sleep(0.2)
        assert json.loads(http_get(server.base + "/healthz")[1])["articles"] == BASE + INCOMING
        err = server.stop()
        # A search never breaks because a commit landed during it (the searcher is taken once per search).
        assert err.count("Traceback") == 0, err[-3000:]
        assert local.races == remote.races == 0
    engine.close()
    print(
        f"\nconcurrency: {local.rounds} in-process and {remote.rounds} HTTP rounds, article counts seen: {sorted(seen)}; "
        f"searches broken by a commit: {local.races} in-process, {remote.races} over HTTP"
    )


def test_a_second_index_run_fails_at_once_and_corrupts_nothing(corpus, tmp_path):
    index_dir = fresh_index(corpus, tmp_path)
    lock_file = index_dir / f"{INDEX_NAME}_WRITELOCK"
    first = start_cli("index", corpus["dir"] / "incoming", "--index", index_dir, "--quiet", "--batch-size", BATCH)
    stopped = False
    try:
        deadline = time.monotonic() + 120
        while lock_file.read_text("ascii").strip() != str(first.pid):  # it holds the lock
            assert first.poll() is None and time.monotonic() < deadline, "the first run never took the lock"
            time.sleep(0.02)
        os.kill(first.pid, signal.SIGSTOP)  # a live writer, paused: the second run must not slip in
        stopped = True
        second = run_cli("index", corpus["dir"] / "base", corpus["dir"] / "incoming", "--index", index_dir, "--quiet")
        os.kill(first.pid, signal.SIGCONT)
        stopped = False
        out, err = finish(first)
    finally:
        if stopped:
            os.kill(first.pid, signal.SIGCONT)
        if first.poll() is None:
            first.kill()
            first.wait()
    assert second.returncode == 1
    assert second.stdout == ""
    assert f"is being written by another process (pid {first.pid}); wait for it to finish" in second.stderr
    assert "Traceback" not in second.stderr
    assert first.returncode == 0, err
    assert out.strip() == f"indexed {INCOMING} / updated 0 / unchanged 0 / failed 0"
    stored = stored_articles(index_dir)
    assert sorted(a["id"] for a in stored) == sorted(corpus["ids"])
    # Now the second run goes through, finding everything unchanged.
    again = run_cli("index", corpus["dir"] / "base", corpus["dir"] / "incoming", "--index", index_dir, "--quiet")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == f"indexed 0 / updated 0 / unchanged {BASE + INCOMING} / failed 0"


def test_two_runs_creating_the_same_new_index_at_once(corpus, tmp_path):
    """Whoosh's create_in deletes the index files it finds: creation must be under the lock."""
    index_dir = tmp_path / "index"
    procs = [start_cli("index", corpus["dir"] / "base", "--index", index_dir, "--quiet") for _ in range(2)]
    results = [(proc, *finish(proc)) for proc in procs]
    ok = [r for r in results if r[0].returncode == 0]
    assert ok, [r[2] for r in results]
    for proc, out, err in results:
        assert "Traceback" not in err
        if proc.returncode != 0:
            assert proc.returncode == 1 and "is being written by another process" in err, err
    assert sorted(a["id"] for a in stored_articles(index_dir)) == sorted(corpus["ids"][:BASE])


def test_a_commit_landing_during_a_search_does_not_break_it(corpus, tmp_path):
    """Deterministic version of the race: the commit is made exactly between the two calls."""
    from search.indexer import Indexer

    index_dir = fresh_index(corpus, tmp_path)
    extra = tmp_path / "extra"
    write_files(corpus["records"][BASE : BASE + 10], extra, 10)

    class CommitDuringSearch(WhooshBackend):
        calls = 0

        def searcher(self):
            self.calls += 1
            if self.calls == 2:  # inside search(), after it took its searcher
                Indexer(str(index_dir)).run([str(extra)])
            return super().searcher()

    engine = Engine(str(index_dir))
    engine.backend = CommitDuringSearch(engine.config)
    try:
        result = engine.search(STABLE, size=5, facets=False)
        assert result.total == BASE
    finally:
        engine.close()
