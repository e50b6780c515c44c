"""``web/server.py`` over real HTTP on 127.0.0.1: slow and hostile clients, graceful stop,
reload, recycling, hung and dying workers."""

from __future__ import annotations

import contextlib
import http.client
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

import psutil
import pytest

from tests.test_serve import ROOT, get, start, stop

SEARCH = "/api/search?" + urllib.parse.urlencode({"q": "普京"})


def port_of(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


def children(proc) -> set[int]:
    return {p.pid for p in psutil.Process(proc.pid).children()}


class Hammer:
    """``clients`` threads sending searches on keep-alive connections until stopped; every
    request that was sent must be answered 200 (a closed idle connection is reopened)."""

    def __init__(self, port: int, clients: int = 4) -> None:
        self.port, self.ok, self.failures = port, 0, []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]

    def __enter__(self) -> "Hammer":
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for t in self.threads:
            t.join(30)

    def _run(self) -> None:
        conn: list[http.client.HTTPConnection] = []  # the one open connection, if any
        try:
            while not self._stop.is_set():
                self._one(conn)
        finally:
            for c in conn:
                c.close()

    def _one(self, conn: list) -> None:
        if not conn:
            conn.append(http.client.HTTPConnection("127.0.0.1", self.port, timeout=30))
        try:
            conn[0].request("GET", SEARCH)
            response = conn[0].getresponse()
            response.read()
            status, closing = response.status, response.will_close
        except (ConnectionError, http.client.RemoteDisconnected) as exc:
            if not self._stop.is_set():
                with self._lock:
                    self.failures.append(repr(exc))
            conn.pop().close()
            return
        with self._lock:
            if status == 200:
                self.ok += 1
            else:
                self.failures.append(status)
        if closing:
            conn.pop().close()


def test_sighup_replaces_every_worker_without_dropping_a_request(seed_index):
    base, proc = start(seed_index, "--workers", "2")
    try:
        before = children(proc)
        with Hammer(port_of(base)) as hammer:
            time.sleep(1)
            proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and (len(children(proc)) != 2 or children(proc) & before):
                time.sleep(0.1)
            time.sleep(1)
        assert hammer.failures == [] and hammer.ok > 20
        after = children(proc)
        assert len(after) == 2 and not after & before
    finally:
        stop(proc)


def test_sigterm_finishes_the_request_in_progress_and_exits_0(seed_index):
    base, proc = start(seed_index)
    port = port_of(base)
    sock = socket.create_connection(("127.0.0.1", port))
    try:
        sock.sendall(b"GET " + SEARCH.encode() + b" HTTP/1.1\r\nHost: x\r\n")  # half a request
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        time.sleep(1)
        sock.sendall(b"\r\n")
        sock.settimeout(10)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200")
        assert b"Connection: close" in answer  # and then the server closed it
        proc.wait(15)
        assert proc.returncode == 0
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        sock.close()
        stop(proc)


def test_workers_are_recycled_after_max_requests(seed_index):
    base, proc = start(seed_index, "--max-requests", "20")
    try:
        first = children(proc)
        with Hammer(port_of(base), clients=2) as hammer:
            deadline = time.monotonic() + 30
            while hammer.ok < 120 and time.monotonic() < deadline:
                time.sleep(0.1)
        assert hammer.failures == [] and hammer.ok >= 120
        deadline = time.monotonic() + 30  # a loaded machine (the whole suite) closes slowly
        while len(children(proc)) > 1 and time.monotonic() < deadline:  # the last one retired may still be closing
            time.sleep(0.1)
        assert len(children(proc)) == 1 and not children(proc) & first
    finally:
        stop(proc)


def test_a_crash_loop_backs_off_instead_of_exiting(seed_index):
    base, proc = start(seed_index)
    try:
        for _ in range(8):
            deadline = time.monotonic() + 40
            while not children(proc) and time.monotonic() < deadline:
                time.sleep(0.05)
            for pid in children(proc):
                psutil.Process(pid).kill()
            time.sleep(0.1)
        assert proc.poll() is None  # the old server gave up after 11 deaths in 60 s
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            try:
                if get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        assert get(base + "/healthz")[0] == 200
    finally:
        out, err = stop(proc)
    assert "restarting in" in err


HUNG_SERVER = """
import sys, time
from web.server import ServeOptions, serve

def app(environ, start_response):
    if environ["PATH_INFO"] == "/hang":
        while True:
            time.sleep(1)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]

serve(app, ServeOptions(port=int(sys.argv[1]), request_timeout=2.0), announce="serving")
"""


def test_a_worker_stuck_in_one_request_is_replaced(seed_index):
    from tests.test_serve import free_port

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", HUNG_SERVER, str(port)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "serving"
        base = f"http://127.0.0.1:{port}"
        assert get(base + "/")[0] == 200
        first = children(proc)
        started = time.monotonic()
        # Closed here: a failed getresponse() leaves the connection's socket open, and the
        # garbage collector's warning about it would fail whichever test runs next.
        with contextlib.closing(http.client.HTTPConnection("127.0.0.1", port, timeout=20)) as conn:
            with pytest.raises((ConnectionError, http.client.RemoteDisconnected)):
                conn.request("GET", "/hang")
                conn.getresponse()
        assert time.monotonic() - started < 10
        time.sleep(0.5)
        assert get(base + "/")[0] == 200
        assert children(proc) and not children(proc) & first
    finally:
        out, err = stop(proc)
    assert "more than 2 s on one request" in err


def trickle(port: int, stop_at: threading.Event, sockets: list, made: list) -> None:
    # In ``made`` before it connects: the test closes every socket a thread made, even one whose
    # connect was still waiting on a loaded machine when the test ended; ``sockets``: connected.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    made.append(sock)
    sock.settimeout(10)
    try:
        sock.connect(("127.0.0.1", port))
    except OSError:
        return
    sock.settimeout(None)
    sockets.append(sock)
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-a: b\r\n" * 1000
    for byte in head:
        if stop_at.is_set():
            return
        try:
            sock.send(bytes([byte]))
        except OSError:
            return
        time.sleep(0.2)


def test_slowloris_does_not_starve_healthz_and_trickled_heads_time_out(seed_index):
    base, proc = start(seed_index, "--read-timeout", "3")
    port = port_of(base)
    stop_at, sockets, made = threading.Event(), [], []
    threads = [threading.Thread(target=trickle, args=(port, stop_at, sockets, made), daemon=True) for _ in range(110)]
    try:
        for t in threads:
            t.start()
        time.sleep(1.5)
        for _ in range(3):
            started = time.monotonic()
            assert get(base + "/healthz")[0] == 200
            assert time.monotonic() - started < 5  # starved, it would not answer at all
        time.sleep(4)  # past the read deadline: the server has closed the trickling connections
        closed = 0
        for sock in list(sockets):
            sock.settimeout(0.5)
            try:
                closed += sock.recv(1) == b""
            except (ConnectionError, socket.timeout):
                closed += 1
        assert closed >= 100, closed
    finally:
        stop_at.set()
        # A thread still connecting when the test ends adds its socket late: wait for all of
        # them, or that socket is left to the garbage collector (an unclosed-socket warning).
        for t in threads:
            t.join(timeout=15)
        for sock in list(made):
            sock.close()
        stop(proc)


def test_connections_over_the_cap_are_refused_at_once(seed_index):
    base, proc = start(seed_index, "--max-connections", "20")
    port = port_of(base)
    idle = []
    try:
        for _ in range(20):
            idle.append(socket.create_connection(("127.0.0.1", port)))
        time.sleep(0.5)
        # On a loaded machine the worker may not have taken all 20 yet: a connection it takes
        # with room left waits for a request (the recv times out); try again once it has.
        answer, waited = b"", 0.0
        for _ in range(5):
            started = time.monotonic()
            with socket.create_connection(("127.0.0.1", port), timeout=3) as extra:  # closed even on a timeout
                try:
                    answer = extra.recv(1024)
                except socket.timeout:
                    answer = b""
            waited = time.monotonic() - started
            if answer:
                break
        assert answer.startswith(b"HTTP/1.1 503") and waited < 2
        for sock in idle:
            sock.close()
        time.sleep(1.5)
        assert get(base + "/healthz")[0] == 200
    finally:
        for sock in idle:
            sock.close()
        stop(proc)


def test_options_asterisk_and_redirects_over_http(seed_index):
    base, proc = start(seed_index)
    port = port_of(base)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200") and b"Allow: GET, HEAD, OPTIONS" in answer
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/api/articles//x", headers={"Host": "evil.example"})
        response = conn.getresponse()
        response.read()
        conn.close()
        assert response.status == 308 and response.getheader("Location") == "/api/articles/x"
    finally:
        stop(proc)


def _articles(folder, start: int, count: int):
    import json as _json

    folder.mkdir()
    lines = [{"id": f"g{n}", "title": f"Story {n}", "body": f"Markets moved on day {n}.", "source": "Test"} for n in range(start, start + count)]
    (folder / "a.jsonl").write_text("".join(_json.dumps(r) + "\n" for r in lines), "utf-8")
    return str(folder)


def test_a_pinned_backend_keeps_its_generation_and_the_next_is_warmed_at_low_priority(tmp_path):
    """A server's worker (pinned) never switches by itself; the supervisor warms the newest
    generation in one thread at a lower priority, pausing at its checkpoints."""
    import os as _os

    from search.backends.base import BackendConfig
    from search.backends.whoosh import WhooshBackend
    from search.indexer import Indexer

    config = BackendConfig(index_dir=str(tmp_path / "index"))
    Indexer(config=config).run([_articles(tmp_path / "one", 0, 5)])
    worker, supervisor = WhooshBackend(config), WhooshBackend(config)
    for backend in (worker, supervisor):
        backend.warm(1)
    worker.pin()
    assert supervisor.newest_unwarmed() is None
    Indexer(config=config).run([_articles(tmp_path / "two", 5, 3)])

    assert worker.count() == 5 and worker.warmer is None, "a pinned backend switched or warmed by itself"
    generation = supervisor.newest_unwarmed()
    assert generation is not None and not supervisor.is_warmed(generation)
    niceness = []
    thread = supervisor.warm_newest(lambda: niceness.append(_os.getpriority(_os.PRIO_PROCESS, threading.get_native_id())), 19)
    thread.join(60)
    assert supervisor.is_warmed(generation) and supervisor.newest_unwarmed() is None
    assert niceness and set(niceness) == {19}, "the warm-up did not pause, or not at niceness 19"
    assert _os.getpriority(_os.PRIO_PROCESS, threading.get_native_id()) == 0, "the caller's priority changed"
    assert supervisor.count() == 8 and worker.count() == 5
    for backend in (worker, supervisor):
        backend.close()


def test_a_worker_pins_the_generation_its_supervisor_warmed_not_a_newer_commit(tmp_path):
    """Workers forked after a commit landed (not yet warmed) still answer from the warmed
    generation, in every thread: all of a server's workers answer from one generation. Once
    a merge has deleted that generation's segments, a pinned backend takes the newest."""
    from search.backends.base import BackendConfig
    from search.backends.whoosh import WhooshBackend
    from search.indexer import Indexer

    config = BackendConfig(index_dir=str(tmp_path / "index"))
    Indexer(config=config).run([_articles(tmp_path / "one", 0, 5)])
    supervisor = WhooshBackend(config)
    supervisor.warm(1)
    warmed = supervisor.ix.latest_generation()
    Indexer(config=config).run([_articles(tmp_path / "two", 5, 3)])
    assert supervisor.ix.latest_generation() > warmed

    supervisor.pin()  # what a forked worker does first
    assert supervisor.pinned_generation() == warmed
    counts = [supervisor.count()]
    for _ in range(3):  # threads one after another take the ended thread's searcher
        thread = threading.Thread(target=lambda: counts.append(supervisor.count()))
        thread.start()
        thread.join()
    assert counts == [5, 5, 5, 5]

    supervisor.ix.optimize()  # one segment: the warmed generation's segments are deleted
    later = WhooshBackend(config)
    later._ready_segments = supervisor._ready_segments  # warmed before the merge
    later._warm_min_df = 1
    later.pin()
    assert later.pinned_generation() == later.ix.latest_generation() and later.count() == 8
    for backend in (supervisor, later):
        backend.close()


def test_the_fork_gate_parks_the_warm_up_thread_at_a_checkpoint():
    from web.server import _ForkGate

    gate, steps, stop = _ForkGate(), [], threading.Event()

    def warm_up() -> None:
        while not stop.is_set():
            steps.append(1)
            gate.checkpoint()

    thread = threading.Thread(target=warm_up, daemon=True)
    thread.start()
    with gate.parked(thread, 10) as parked:
        seen = len(steps)
        time.sleep(0.2)
        assert parked and len(steps) == seen, "the thread kept running while parked"
    time.sleep(0.1)
    assert len(steps) > seen, "the thread did not resume"
    stop.set()
    thread.join(10)
    with gate.parked(thread, 1) as parked:
        assert parked  # a finished thread needs no parking


def test_a_commit_while_serving_replaces_the_workers_with_warmed_ones(seed_index, tmp_path):
    """The supervisor warms the new generation and forks fresh workers from itself; the old ones
    finish their requests. No request fails, and every worker is new once the count has grown."""
    import json as _json
    import shutil

    from search.indexer import Indexer

    served = str(tmp_path / "served")
    shutil.copytree(seed_index, served)
    base, proc = start(served, "--workers", "2")
    try:
        before = children(proc)
        count = lambda: _json.loads(get(base + "/api/stats")[2])["articles"]
        initial = count()
        with Hammer(port_of(base)) as hammer:
            time.sleep(1)
            Indexer(served).run([_articles(tmp_path / "more", 0, 30)])
            deadline = time.monotonic() + 120  # a loaded machine: the warm-up and rehearsals run at niceness 10
            # Workers are replaced one at a time: until the last one is, a new connection may
            # reach either generation. Switched: ten answers in a row with the new count.
            streak = 0
            while time.monotonic() < deadline and streak < 10:
                streak = streak + 1 if count() == initial + 30 else 0
                time.sleep(0.1)
            time.sleep(1)
        switched = streak >= 10 and count() == initial + 30
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (len(children(proc)) != 2 or children(proc) & before):
            time.sleep(0.1)
        after = children(proc)
    finally:
        _, err = stop(proc)
    assert switched, f"the server never switched to the new generation: {err[-2000:]}"
    assert hammer.failures == [] and hammer.ok > 20
    assert len(after) == 2 and not after & before, "the workers were not replaced"
    assert "warmed in" in err and "replacing 2 worker(s)" in err, err[-2000:]


def test_a_round_hands_over_only_when_every_worker_answers_from_one_generation():
    """The supervisor's check before a hand-over: a successor that opened an older generation
    than another worker is stopped and its old worker queued again; a serving worker outside the
    round with an older generation joins the round; one generation everywhere: hand over."""
    import io

    from web.server import ServeOptions, Supervisor, _Worker

    supervisor = Supervisor(object(), ServeOptions(workers=3), None, out=io.StringIO(), err=io.StringIO())
    killed: list[int] = []
    supervisor._kill = lambda pid, sig: killed.append(pid)
    # 10 and 11 are being replaced by 20 and 21; 12 serves outside the round.
    supervisor.workers = {
        10: _Worker(0, 0.0, retiring=True, successor=20),
        11: _Worker(1, 0.0, retiring=True, successor=21),
        12: _Worker(2, 0.0),
        20: _Worker(3, 0.0),
        21: _Worker(4, 0.0),
    }
    pending = [(10, supervisor.workers[10]), (11, supervisor.workers[11])]
    for slot, generation in enumerate([5, 5, 5, 7, 7]):
        supervisor.shared.generation[slot] = generation
    assert supervisor._behind(pending) is True
    assert supervisor.queued == [12] and killed == []  # 12 (generation 5) joins the round

    supervisor.queued.clear()
    supervisor.shared.generation[2] = 7  # 12 replaced meanwhile: its successor holds 7
    supervisor.shared.generation[4] = 6  # 21 opened an older generation than 20
    assert supervisor._behind(pending) is True
    assert killed == [21] and supervisor.queued == [11]
    assert supervisor.workers[21].retiring and supervisor.workers[11].successor is None and not supervisor.workers[11].retiring

    del supervisor.workers[21]
    supervisor.workers[11] = _Worker(1, 0.0, retiring=True, successor=22)
    supervisor.workers[22] = _Worker(5, 0.0)
    supervisor.shared.generation[5] = 7
    supervisor.queued.clear()
    pending = [(10, supervisor.workers[10]), (11, supervisor.workers[11])]
    assert supervisor._behind(pending) is False  # 20, 22 and 12 all answer from generation 7
