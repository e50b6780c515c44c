"""Crash safety: ``python -m search index`` killed with SIGKILL at random moments.

1,000 short articles in 10 JSONL files, committed in batches of 400 (``--batch-size``), so
a run makes three commits: two through the multi-process writer, the last (200 articles)
through the single-process one, merging segments on the way. Each of
20 trials starts a run and kills it after a random delay (fixed seed) up to the measured
length of a whole run: from 0 for half of them, from the end of the reading phase (measured
by a run with nothing to write) for the other half, so that kills also land among the
commits. Even trials index into an empty folder, odd ones update every article of the index
the trial before completed. Then the index as it was left is checked:

- it opens (``open_index``, ``Engine``), no article is there twice, and what is there is
  exactly what whole batches committed: a prefix of the articles, in batches of 400 —
  in an update run, every article is either its old version or its new one, never missing,
  never both;
- every stored article equals its source record, and a search for its unique marker word
  finds exactly that article (sampled), and the new version's marker word counts exactly
  the new versions;

then re-runs the same command at once (no stale lock: the kernel dropped the dead process's
``flock``) and checks it completes with exactly the expected articles and no leftover files.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest
from whoosh.index import TOC

from search.searcher import Engine
from search.backends.whoosh.store import INDEX_NAME, META_FILE, index_exists, open_index
from tests.reldata import expected, finish, marker, public, run_cli, sample_records, start_cli, stored_articles, write_files

pytestmark = pytest.mark.slow

ARTICLES = 1000
PER_FILE = 100
BATCH = 400  # = PARALLEL_MIN_BATCH: full batches go through the multi-process writer
BODY_CHARS = 150  # short bodies: the test is about commits, not text volume
KILLS = 20
SEED = 20241126
SAMPLED_SEARCHES = 25
NEW_WORD = "revisionmark"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Two versions of the same 1,000 articles: v2 changes every title and body."""
    base = tmp_path_factory.mktemp("crash")
    v1 = sample_records(ARTICLES, body_chars=BODY_CHARS)
    v2 = [dict(r, title=f"{r['title']} (2)", body=f"{r['body']} {NEW_WORD}") for r in v1]
    folders = {1: base / "v1", 2: base / "v2"}
    write_files(v1, folders[1], PER_FILE)
    write_files(v2, folders[2], PER_FILE)
    return {"folders": folders, "records": {1: {r["id"]: r for r in v1}, 2: {r["id"]: r for r in v2}}, "order": [r["id"] for r in v1], "base": base}


def index_cmd(folder: Path, index_dir: Path) -> list:
    return ["index", folder, "--index", index_dir, "--quiet", "--batch-size", BATCH]


@pytest.fixture(scope="module")
def reference(corpus):
    """Uninterrupted runs: how long a run takes, and every stored article of each version."""
    ref = corpus["base"] / "reference"
    out = {"seconds": {}, "stored": {}}
    for version in (1, 2):  # v1 into an empty index, then v2 over it (updates)
        started = time.monotonic()
        proc = run_cli(*index_cmd(corpus["folders"][version], ref))
        out["seconds"][version] = time.monotonic() - started
        assert proc.returncode == 0, proc.stderr
        stored = stored_articles(ref)
        assert sorted(a["id"] for a in stored) == sorted(corpus["order"])
        out["stored"][version] = {a["id"]: a for a in stored}
    # v2 again, all unchanged: start-up, reading and hashing, no writing. Writing comes after.
    started = time.monotonic()
    proc = run_cli(*index_cmd(corpus["folders"][2], ref))
    out["seconds"]["ready"] = time.monotonic() - started
    assert proc.returncode == 0 and f"unchanged {ARTICLES}" in proc.stdout, proc.stderr
    return out


def assert_no_stale_files(index_dir: Path) -> None:
    """Only the current table of contents, its segments, the lock file and the meta file."""
    from whoosh.filedb.filestore import FileStorage

    toc = TOC.read(FileStorage(str(index_dir)), INDEX_NAME)
    segments = {segment.segment_id() for segment in toc.segments}
    allowed = {f"_{INDEX_NAME}_{toc.generation}.toc", f"{INDEX_NAME}_WRITELOCK", META_FILE}
    stale = [name for name in os.listdir(index_dir) if name not in allowed and name.split(".")[0] not in segments]
    assert stale == [], f"files left behind: {stale}"


def check_state(index_dir: Path, corpus, reference, version: int, previous: int | None, rng: random.Random) -> int:
    """Check the index a killed run left; return how many articles have the new version."""
    order = corpus["order"]
    if not index_exists(str(index_dir)):
        assert previous is None, "an index that existed before the run is gone"
        return 0
    open_index(str(index_dir)).close()
    stored = stored_articles(index_dir)
    ids = [a["id"] for a in stored]
    assert len(ids) == len(set(ids)), "an article is in the index twice"
    new = {a["id"] for a in stored if a == reference["stored"][version][a["id"]]}
    for article in stored:
        aid = article["id"]
        if aid in new:
            source = corpus["records"][version][aid]
        else:
            assert previous is not None, f"{aid}: a fresh run left an article that is not the new version"
            assert article == reference["stored"][previous][aid], f"{aid}: neither the old nor the new version (half-written)"
            source = corpus["records"][previous][aid]
        assert public(article) == expected(source), f"{aid}: stored fields differ from the source record"
    # Only whole batches, in order: the first k * BATCH articles (or all) have the new version.
    assert len(new) % BATCH == 0 or len(new) == ARTICLES, f"{len(new)} new articles: not whole batches"
    assert new == set(order[: len(new)]), "the new articles are not the first ones"
    if previous is None:
        assert set(ids) == new
    else:
        assert sorted(ids) == sorted(order), "an article vanished during an update run"
    engine = Engine(str(index_dir))
    try:
        for aid in rng.sample(ids, min(SAMPLED_SEARCHES, len(ids))):
            result = engine.search(marker(order.index(aid)), size=10, facets=False, highlight=False)
            assert [hit.id for hit in result.hits] == [aid] and result.total == 1, f"{aid} is not found exactly once"
        if ids:
            new_count = engine.search(NEW_WORD, size=1, facets=False, highlight=False).total
            assert new_count == sum(1 for a in stored if (a.get("body_zh") or a.get("body_en") or "").endswith(NEW_WORD))
    finally:
        engine.close()
    return len(new)


def test_sigkill_at_20_random_moments_loses_nothing_committed(corpus, reference, tmp_path):
    rng = random.Random(SEED)
    index_dir = tmp_path / "index"
    seconds = dict(reference["seconds"])  # length of a whole run, per version
    outcomes = []
    for trial in range(KILLS):
        if trial % 2 == 0:  # v1 into an empty folder
            if index_dir.exists():
                for name in os.listdir(index_dir):
                    os.remove(index_dir / name)
                index_dir.rmdir()
            version, previous = 1, None
        else:  # v2 over the whole v1 the trial before left
            version, previous = 2, 1
        # Half the kills anywhere in the run, half in its writing part (commits, merges), which
        # on an idle machine is the shorter part after start-up and reading.
        earliest = 0.0 if trial % 4 < 2 else min(reference["seconds"]["ready"], 0.9 * seconds[version]) * 0.8
        delay = rng.uniform(earliest, seconds[version])
        started = time.monotonic()
        proc = start_cli(*index_cmd(corpus["folders"][version], index_dir))
        try:
            proc.wait(timeout=delay)
            finished = True  # the run ended before the kill: a shorter full run, measured
            seconds[version] = min(seconds[version], time.monotonic() - started)
        except subprocess.TimeoutExpired:
            finished = False
            proc.send_signal(signal.SIGKILL)
        out, err = finish(proc)
        assert "Traceback" not in err
        committed = check_state(index_dir, corpus, reference, version, previous, rng)
        outcomes.append((round(delay, 2), "finished" if finished else f"killed with {committed} new articles committed"))

        # The same command again, at once: completes, with exactly the expected articles.
        proc = run_cli(*index_cmd(corpus["folders"][version], index_dir))
        assert proc.returncode == 0, f"trial {trial}: re-run failed: {proc.stderr}"
        summary = [int(part.split()[1]) for part in proc.stdout.strip().split(" / ")]
        assert sum(summary[:3]) == ARTICLES and summary[3] == 0, proc.stdout
        assert check_state(index_dir, corpus, reference, version, previous, rng) == ARTICLES
        assert_no_stale_files(index_dir)
    print(f"\n{KILLS} kills (delay s, outcome):", outcomes)
    killed = [o for o in outcomes if o[1] != "finished"]
    assert len(killed) >= KILLS // 2, f"most runs should have been killed mid-way: {outcomes}"
    assert any(not o[1].endswith(" 0 new articles committed") for o in killed), f"no kill landed after a commit: {outcomes}"


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_killed_writer_frees_the_lock_and_its_worker_processes_die(corpus, tmp_path):
    index_dir = tmp_path / "index"
    proc = start_cli(*index_cmd(corpus["folders"][1], index_dir))
    try:
        parent = psutil.Process(proc.pid)
        workers = wait_for(lambda: proc.poll() is None and parent.children(), 120, "the writer processes to start")
        proc.send_signal(signal.SIGKILL)
        finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # Whoosh forks its writer processes while holding the lock: they must not outlive the
    # indexer (they would keep the lock for ever).
    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert alive == [], f"writer processes outlived the killed indexer: {alive}"
    # A new writer can start at once: no stale lock.
    rerun = run_cli(*index_cmd(corpus["folders"][1], index_dir))
    assert rerun.returncode == 0, rerun.stderr
    assert sorted(a["id"] for a in stored_articles(index_dir)) == sorted(corpus["order"])
    assert_no_stale_files(index_dir)


def test_a_dead_writer_process_fails_the_batch_instead_of_dropping_its_articles(corpus, tmp_path):
    """Whoosh's multi-process writer commits without the documents of a worker that died."""
    index_dir = tmp_path / "index"
    proc = start_cli(*index_cmd(corpus["folders"][1], index_dir))
    try:
        parent = psutil.Process(proc.pid)

        def kill_a_worker():
            for worker in parent.children() if proc.poll() is None else ():
                try:
                    worker.send_signal(signal.SIGKILL)
                    return True
                except psutil.NoSuchProcess:  # it had just finished its batch: take the next one
                    pass
            return False

        wait_for(kill_a_worker, 120, "a writer process to kill")
        out, err = finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1, (out, err)
    assert "a writer process died" in err and "Traceback" not in err
    ids = sorted(a["id"] for a in stored_articles(index_dir)) if index_exists(str(index_dir)) else []
    assert len(ids) % BATCH == 0 and ids == sorted(corpus["order"][: len(ids)]), "a batch was committed with articles missing"
    assert len(ids) < ARTICLES
    rerun = run_cli(*index_cmd(corpus["folders"][1], index_dir))
    assert rerun.returncode == 0, rerun.stderr
    assert sorted(a["id"] for a in stored_articles(index_dir)) == sorted(corpus["order"])


def test_a_second_run_fails_at_once_while_a_writer_holds_the_lock(corpus, tmp_path):
    """A live writer (here: Whoosh's own writer in this process) keeps a second ``index`` out."""
    index_dir = tmp_path / "index"
    first = run_cli("index", corpus["folders"][1] / "part0000.jsonl", "--index", index_dir, "--quiet")
    assert first.returncode == 0, first.stderr
    ix = open_index(str(index_dir))
    writer = ix.writer()  # takes the write lock
    try:
        proc = run_cli(*index_cmd(corpus["folders"][1], index_dir))
    finally:
        writer.cancel()
        ix.close()
    assert proc.returncode == 1
    assert proc.stdout == ""  # failed before reading anything: no summary line
    assert "is being written by another process" in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(a["id"] for a in stored_articles(index_dir)) == corpus["order"][:PER_FILE]
    # and once the writer is gone, indexing works again
    again = run_cli("index", corpus["folders"][1] / "part0001.jsonl", "--index", index_dir, "--quiet")
    assert again.returncode == 0, again.stderr
    assert sorted(a["id"] for a in stored_articles(index_dir)) == corpus["order"][: 2 * PER_FILE]
