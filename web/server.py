"""The HTTP server of ``python -m search serve``: pre-forked waitress workers under a supervisor.

The supervisor loads and warms the app once, opens the listening socket, forks the workers
(they share what it loaded) and then only watches them:

- SIGTERM or Ctrl-C: every worker stops accepting, finishes the requests it has (at most
  ``graceful_timeout`` seconds), closes its connections; the server exits 0.
- SIGHUP: each worker is replaced by a fresh one; the old ones keep accepting until the new ones
  have rehearsed a few requests (one at a time), so no request is refused, dropped or slowed by
  a cold worker. Every old one stops accepting before any new one starts (connections wait in
  the socket's backlog for those few milliseconds): a client never gets an answer from the old
  index generation after one from the new, whichever worker it reaches.
- A commit to the served index: the supervisor warms the new generation once, in a thread of
  low priority, then replaces the workers as on SIGHUP; they start with it warm. Every worker
  answers from the generation the supervisor warmed last (a commit landing during a round
  changes nothing until it is warmed in turn), and a round hands over only when all its
  workers answer from the same one.
- A worker busy with one request for longer than ``request_timeout`` is killed and replaced.
- A worker that has answered ``max_requests`` requests is replaced the same way as on SIGHUP.
- A worker that dies is restarted; when workers keep dying, the restarts back off (up to
  30 s apart) instead of the server giving up.

Each worker is a waitress server: its I/O thread reads requests while the app thread
computes, so a slow client holds only a buffer, never the app. On top of waitress's limits
(1 MB bodies, 256 KB heads, idle connections closed after ``idle_timeout``) a worker closes a
connection whose request has not fully arrived ``read_timeout`` seconds after its first byte,
however the bytes trickle, and answers a connection beyond ``max_connections`` with an
immediate 503 instead of leaving it in the kernel's queue.

Why not gunicorn: its workers read a request's head with blocking calls in the thread that
then runs the app, so a client trickling its head holds a worker (see README, "Serving").
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import random
import re
import signal
import socket
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from waitress.adjustments import Adjustments
from waitress.buffers import OverflowableBuffer
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher, WSGITask

from search.processes import RARE_COLLECTIONS, die_with_parent

#: The answer to a connection over the limit: sent and closed at once, before any read.
REJECTED = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\nRetry-After: 1\r\n\r\n"
#: A stopping worker closes a kept-alive connection once it has been idle this long
#: (a client sending on it meanwhile is answered, with ``Connection: close``).
STOP_LINGER = 1.0
MAX_BACKOFF = 30.0
#: How often the supervisor looks for a new index generation (a directory listing).
WATCH_EVERY = 1.0
#: The niceness of the supervisor's warm-up thread: against a busy worker's weight of 1024 it has
#: 110, about a tenth of a core while the workers use every core (at 19, weight 15, a warm-up of
#: 6 s of CPU had not finished 200 s into a run of 8 clients), and every idle cycle otherwise.
WARM_NICENESS = 10
#: How long a fork waits for the warm-up thread to reach a point where it holds no lock.
PARK_TIMEOUT = 30.0
#: How long a replaced worker keeps accepting while its successor rehearses (a successor that
#: takes longer, or dies, does not keep it for ever).
READY_TIMEOUT = 20.0
#: How long a worker's loop waits for events: how soon it sees a hand-over flag.
HANDOVER_POLL = 0.05
#: A replaced worker that has not confirmed it stopped accepting within this is retired anyway.
HALT_TIMEOUT = 2.0
#: The longest a worker waits for its own rehearsal before it accepts connections anyway.
REHEARSAL_WAIT = 10.0
#: What a new worker asks itself before it accepts connections: its first requests, made while
#: the supervisor's pages it touches are copied into it, took 400-500 ms under load.
REHEARSAL = ("/api/search?q=%E7%BF%92%E8%BF%91%E5%B9%B3+%E6%99%AE%E4%BA%AC", "/api/search?q=oil+prices&sort=date",
             "/?q=Putin+Xi", "/api/stats", "/api/speakers?prefix=Pu", "/healthz")
#: Bytes of a response already sent that a connection's output buffer may keep.
SENT_KEPT = 1 << 20
_FREE = 2**31  # a free slot's connection count: never the lowest


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    threads: int = 1
    max_connections: int = 1000  # per worker
    read_timeout: float = 10.0  # first byte of a request → its last byte
    idle_timeout: float = 30.0  # a kept-alive connection with no request
    request_timeout: float = 60.0  # the app's time for one request
    graceful_timeout: float = 30.0
    max_requests: int = 0  # 0: never recycle
    max_request_body: int = 1024 * 1024

    def waitress(self) -> dict:
        """The waitress adjustments of one worker (its own connection cap is never reached: ours answers first)."""
        return {
            "threads": self.threads,
            "connection_limit": self.max_connections + 16,
            "channel_timeout": self.idle_timeout,
            "cleanup_interval": 1,
            "max_request_body_size": self.max_request_body,
            "asyncore_use_poll": True,  # select() stops at file descriptor 1024
            "ident": "news-search",
        }


class _Shared:
    """What the supervisor and its workers see of each other (shared memory, one entry per slot)."""

    def __init__(self, slots: int) -> None:
        self.open = multiprocessing.RawArray("l", [_FREE] * slots)  # open connections
        self.busy_since = multiprocessing.RawArray("d", slots)  # start of the oldest request in progress, 0: idle
        self.retire = multiprocessing.RawArray("b", slots)  # 1: the worker asks to be replaced
        self.ready = multiprocessing.RawArray("b", slots)  # 1: the worker has rehearsed and accepts connections
        self.go = multiprocessing.RawArray("b", [1] * slots)  # 1: the worker may accept (0: a replacement waiting)
        self.halt = multiprocessing.RawArray("b", slots)  # 1: the supervisor asks it to stop accepting
        self.halted = multiprocessing.RawArray("b", slots)  # 1: it has stopped accepting
        self.generation = multiprocessing.RawArray("q", [-1] * slots)  # the index generation it answers from (-1: none)


class _ForkGate:
    """Lets the supervisor fork while its warm-up thread is parked between two steps (holding
    no lock a forked worker could inherit locked). The warm-up calls :meth:`checkpoint`."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._wanted = 0
        self._parked = False

    def checkpoint(self) -> None:
        with self._cond:
            if not self._wanted:
                return
            self._parked = True
            self._cond.notify_all()
            while self._wanted:
                self._cond.wait()
            self._parked = False

    @contextmanager
    def parked(self, thread: threading.Thread | None, timeout: float) -> Iterator[bool]:
        """Hold ``thread`` at its next checkpoint (at most ``timeout`` seconds) while the block runs;
        yields whether it is parked (or gone)."""
        if thread is None or not thread.is_alive():
            yield True
            return
        with self._cond:
            self._wanted += 1
            parked = self._cond.wait_for(lambda: self._parked or not thread.is_alive(), timeout)
        try:
            yield parked
        finally:
            with self._cond:
                self._wanted -= 1
                self._cond.notify_all()


class _Task(WSGITask):
    def build_response_header(self):
        if self.channel.server.stopping_since is not None and not self.close_on_finish:
            self.set_close_on_finish()  # a stopping worker answers with "Connection: close"
        return super().build_response_header()


_RAW_BYTE = re.compile(rb"[\x80-\xff]")


class _Parser(HTTPRequestParser):
    """Waitress's request parser, taking a request line with raw UTF-8 in its target.

    ``curl 'http://host/api/search?q=習近平'`` sends the characters' UTF-8 bytes as they are,
    where a browser percent-encodes them; waitress answers "400 Bad URI" (``urlsplit`` of
    bytes accepts ASCII only). Each such byte is percent-encoded here, as a browser would have
    sent it, so both reach the app as the same query.
    """

    def parse_header(self, header_plus):
        end = header_plus.find(b"\r\n")
        if end > 0 and _RAW_BYTE.search(header_plus, 0, end):
            line = _RAW_BYTE.sub(lambda byte: b"%%%02X" % byte[0][0], header_plus[:end])
            header_plus = line + header_plus[end:]
        return super().parse_header(header_plus)


class _Channel(HTTPChannel):
    """A connection that remembers when the request it is reading began."""

    task_class = _Task
    parser_class = _Parser
    request_began: float | None = None

    def _flush_some(self, do_close=True):
        flushed = super()._flush_some(do_close=do_close)
        # Waitress keeps what it has sent of a response in the connection's buffer until 16 MB
        # (outbuf_high_watermark) have gone through it: a streamed export kept up to 16 MB of
        # rows already sent. An emptied buffer that has sent more than SENT_KEPT starts over.
        outbuf = self.outbufs[0]
        buf = outbuf.buf if isinstance(outbuf, OverflowableBuffer) else None  # None: nothing kept yet
        if buf is not None and not outbuf.__len__() and buf.getfile().tell() >= SENT_KEPT:
            # A new buffer and the old one closed: waitress's own prune() copies into a new
            # temporary file and leaves the old one open until the garbage collector finds it.
            # Here as in waitress's _flush_some, which pops spent buffers the same way.
            self.outbufs[0] = OverflowableBuffer(self.adj.outbuf_overflow)
            outbuf.close()
        return flushed

    def received(self, data):
        if self.request is None and data:
            self.request_began = time.monotonic()
        try:
            return super().received(data)
        finally:
            if self.request is None:
                self.request_began = None


class _Server(TcpWSGIServer):
    """A waitress server sharing the listening socket with the other workers."""

    channel_class = _Channel

    def __init__(self, app, sock: socket.socket, options: ServeOptions, shared: _Shared, slot: int) -> None:
        self.options, self.shared, self.slot = options, shared, slot
        self.stopping_since: float | None = None
        adj = Adjustments(sockets=[sock], **options.waitress())
        dispatcher = ThreadedTaskDispatcher()
        dispatcher.set_thread_count(options.threads)
        sockinfo = (sock.family, sock.type, sock.proto, sock.getsockname())
        super().__init__(app, {}, True, sock, dispatcher=dispatcher, adj=adj, bind_socket=False, sockinfo=sockinfo)

    def readable(self) -> bool:
        # Workers share one listening socket and waitress accepts whatever is waiting: the first
        # worker to wake took all eight keep-alive connections of a benchmark while the other sat
        # idle. Each worker publishes its count and listens only while none has fewer.
        if self.shared.halt[self.slot]:
            # Replaced: stop accepting, and say so; the successor starts accepting only then.
            if self.stopping_since is None:
                self.stop_accepting()
            self.shared.halted[self.slot] = 1
            return False
        if not self.shared.go[self.slot]:
            return False  # a replacement: its predecessor still accepts
        listening = super().readable()
        mine = len(self.active_channels)
        self.shared.open[self.slot] = mine if self.stopping_since is None else _FREE
        return listening and mine <= min(self.shared.open)

    def handle_accept(self) -> None:
        if len(self.active_channels) < self.options.max_connections:
            return super().handle_accept()
        try:
            accepted = self.accept()
        except OSError:
            return
        if accepted is not None:
            conn = accepted[0]
            try:
                conn.setblocking(False)
                conn.send(REJECTED)
            except OSError:
                pass
            conn.close()

    def maintenance(self, now: float) -> None:
        super().maintenance(now)  # idle connections
        late = time.monotonic() - self.options.read_timeout
        idle = now - STOP_LINGER
        for channel in list(self.active_channels.values()):
            began = getattr(channel, "request_began", None)
            if began is not None and began < late and not channel.requests:
                channel.will_close = True  # a request that never finishes arriving
            elif self.stopping_since is not None and not channel.requests and channel.request is None and channel.last_activity < idle:
                channel.will_close = True

    def stop_accepting(self) -> None:
        self.stopping_since = time.monotonic()
        self.accepting = False
        self.shared.open[self.slot] = _FREE


class _Tracked:
    """WSGI middleware of one worker: publishes when its oldest request began (the supervisor
    kills a worker stuck in one) and counts requests (recycling)."""

    def __init__(self, app, shared: _Shared, slot: int, max_requests: int) -> None:
        self.app, self.shared, self.slot = app, shared, slot
        self.limit = max_requests + random.randint(0, max_requests // 10) if max_requests else 0  # workers do not all recycle at once
        self.served = 0
        self._began: dict[int, float] = {}
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        key = threading.get_ident()
        self.busy(key)
        try:
            result = self.app(environ, start_response)
        except BaseException:
            self.finished(key)
            raise
        self.idle(key)
        # A response of known length keeps it: waitress gives a one-chunk response its Content-Length.
        return (_SizedResponse if hasattr(result, "__len__") else _Response)(self, key, result)

    def busy(self, key: int) -> None:
        with self._lock:
            self._began[key] = time.monotonic()
            self.shared.busy_since[self.slot] = min(self._began.values())

    def idle(self, key: int) -> None:
        with self._lock:
            self._began.pop(key, None)
            self.shared.busy_since[self.slot] = min(self._began.values(), default=0.0)

    def finished(self, key: int) -> None:
        self.idle(key)
        with self._lock:
            self.served += 1
            if self.limit and self.served >= self.limit:
                self.shared.retire[self.slot] = 1


class _Response:
    """An app's response as waitress sends it: each chunk made when waitress asks for the next,
    so a streamed export is never held whole (it was: 50 MB for every story as CSV). The worker
    counts as busy while the app computes a chunk, not while waitress waits for a slow client."""

    def __init__(self, tracked: _Tracked, key: int, result) -> None:
        self.tracked, self.key, self.result = tracked, key, result
        self.chunks = iter(result)

    def __iter__(self):
        return self

    def __next__(self) -> bytes:
        self.tracked.busy(self.key)
        try:
            return next(self.chunks)
        finally:
            self.tracked.idle(self.key)

    def close(self) -> None:
        try:
            close = getattr(self.result, "close", None)
            if close is not None:
                close()
        finally:
            self.tracked.finished(self.key)


class _SizedResponse(_Response):
    def __len__(self) -> int:
        return len(self.result)


def _rehearse(app, stop: threading.Event, niceness: int) -> None:
    """A few typical requests through the app before this worker accepts any, in a thread at
    ``niceness`` (this thread only): a replacement rehearses at :data:`WARM_NICENESS` so that
    the workers serving meanwhile keep the cores; a worker started or restarted, at full speed."""
    if not hasattr(app, "test_client"):
        return

    def run() -> None:
        try:
            if niceness:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
            with app.test_client() as client:
                for path in REHEARSAL:
                    client.get(path)
        except Exception as exc:  # noqa: BLE001 - a rehearsal only saves time; serving decides
            print(f"worker {os.getpid()}: rehearsal failed ({type(exc).__name__}: {exc})", file=sys.stderr, flush=True)

    thread = threading.Thread(target=run, name="rehearsal", daemon=True)
    thread.start()
    give_up = time.monotonic() + REHEARSAL_WAIT
    while thread.is_alive() and not stop.is_set() and time.monotonic() < give_up:
        thread.join(0.1)


def _run_worker(app, sock: socket.socket, options: ServeOptions, shared: _Shared, slot: int, rehearse_niceness: int = 0) -> int:
    """One worker process: rehearse, serve until SIGTERM, then finish what it has and return 0."""
    gc.set_threshold(*RARE_COLLECTIONS)  # what the supervisor loaded is frozen, never walked
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the supervisor decides
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    engine = getattr(app, "extensions", {}).get("engine")  # None: not our app, or no index yet at start-up
    if engine is not None:
        engine.pin()  # the supervisor warms each new index generation and replaces this worker
        generation = engine.pinned_generation()
        shared.generation[slot] = -1 if generation is None else generation
    _rehearse(app, stop, rehearse_niceness)
    if stop.is_set():  # stopped while rehearsing: nothing accepted, nothing to finish
        return 0
    tracked = _Tracked(app, shared, slot, options.max_requests)
    server = _Server(tracked, sock, options, shared, slot)
    shared.ready[slot] = 1
    from waitress import wasyncore

    while not stop.is_set():
        # A short wait: a hand-over (halt, go) is seen within it; the socket's backlog holds
        # the connections arriving meanwhile.
        wasyncore.loop(timeout=HANDOVER_POLL, use_poll=True, map=server._map, count=1)
    server.stop_accepting()
    deadline = time.monotonic() + options.graceful_timeout
    while server.active_channels and time.monotonic() < deadline:
        server.maintenance(time.time())
        wasyncore.loop(timeout=0.2, use_poll=True, map=server._map, count=1)
    server.task_dispatcher.shutdown(timeout=max(0.0, deadline - time.monotonic()))
    return 0


@dataclass
class _Worker:
    slot: int
    started: float
    retiring: bool = False
    successor: int | None = None  # the worker replacing this one: this one stops once it is ready
    halt_since: float = 0.0  # when it was asked to stop accepting (its successor being ready)


class Supervisor:
    """Fork, watch and replace the workers; see the module's docstring."""

    def __init__(self, app, options: ServeOptions, sock: socket.socket, *, out=sys.stdout, err=sys.stderr) -> None:
        self.app, self.options, self.sock, self.out, self.err = app, options, sock, out, err
        self.shared = _Shared(options.workers * 2)  # room for a replacement beside each worker
        self.workers: dict[int, _Worker] = {}
        self.crashes: list[float] = []
        self.respawn_at: list[float] = []  # when the next restarts are due (backing off)
        self.stopping = False
        self.reloading = False
        self.engine = getattr(app, "extensions", {}).get("engine")  # None: not our app, or no index yet
        self.fork_gate = _ForkGate()
        self.warming: tuple[object, float, threading.Thread] | None = None  # generation, since, thread
        self.next_watch = 0.0
        self.queued: list[int] = []  # workers to replace (successors started one at a time)

    def log(self, message: str) -> None:
        print(message, file=self.err, flush=True)

    def run(self, announce: str) -> int:
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_reload)
        gc.collect()
        gc.freeze()  # what the supervisor loaded stays shared: no collection walks (and copies) it
        for _ in range(self.options.workers):
            self._spawn()
        print(announce, file=self.out, flush=True)
        while not self.stopping:
            self._reap()
            now = time.monotonic()
            if self.reloading:
                self.reloading = False
                self.log(f"SIGHUP: replacing {len(self.workers)} worker(s)")
                self._replace_all()
            for pid, worker in list(self.workers.items()):
                if worker.retiring:
                    continue
                if self.shared.retire[worker.slot]:
                    if pid not in self.queued:
                        self.queued.append(pid)
                    continue
                began = self.shared.busy_since[worker.slot]
                if began and now - began > self.options.request_timeout:
                    self.log(f"worker {pid} spent more than {self.options.request_timeout:g} s on one request: killed")
                    self._kill(pid, signal.SIGKILL)
            while self.respawn_at and self.respawn_at[0] <= now and self._serving() < self.options.workers:
                self.respawn_at.pop(0)
                self._spawn()
            self._retire_replaced(now)
            self._follow_index(now)
            time.sleep(0.05)
        return self._shutdown()

    def _follow_index(self, now: float) -> None:
        """Warm a new index generation here, once, in a thread at a low priority, then
        replace the workers with processes forked from this one: they start with it warm.
        Workers warming it themselves took CPU and the interpreter from the searches they
        were serving (per-second p99 up to 4.5x the steady p99 for a minute after a commit)."""
        if self.engine is None or now < self.next_watch:
            return
        self.next_watch = now + WATCH_EVERY
        if self.warming is not None:
            generation, since, thread = self.warming
            if thread.is_alive():
                return
            self.warming = None
            if not self.engine.is_warmed(generation):
                self.log(f"warming index generation {generation} failed; trying again in 10 s")
                self.next_watch = now + 10
                return
            gc.freeze()  # the new caches stay shared too (no collection first: it took a core for a while)
            self.log(f"index generation {generation} warmed in {now - since:.1f} s: replacing {self._replace_all()} worker(s)")
            return
        try:
            generation = self.engine.newest_unwarmed()
        except Exception as exc:  # noqa: BLE001 - an index being rebuilt, a file gone: look again later
            self.log(f"cannot read the index's newest generation ({type(exc).__name__}: {exc}); trying again in 10 s")
            self.next_watch = now + 10
            return
        if generation is not None:
            thread = self.engine.warm_newest(self.fork_gate.checkpoint, WARM_NICENESS)
            self.warming = (generation, now, thread)

    def _on_stop(self, signum, frame) -> None:
        self.stopping = True

    def _on_reload(self, signum, frame) -> None:
        self.reloading = True

    def _serving(self) -> int:
        return sum(1 for w in self.workers.values() if not w.retiring)

    def _spawn(self, replacing: bool = False) -> int:
        used = {w.slot for w in self.workers.values()}
        slot = next(n for n in range(len(self.shared.open)) if n not in used)
        # A replacement is not counted among the listening workers until it accepts (the others
        # would stop listening to leave it the connections while it rehearses); a worker started
        # or restarted is, so that the connections spread over all of them.
        opened = _FREE if replacing else 0
        self.shared.open[slot], self.shared.busy_since[slot], self.shared.retire[slot], self.shared.ready[slot] = opened, 0.0, 0, 0
        self.shared.go[slot], self.shared.halt[slot], self.shared.halted[slot] = int(not replacing), 0, 0
        self.shared.generation[slot] = -1
        parent = os.getpid()
        with self.fork_gate.parked(self.warming[2] if self.warming else None, PARK_TIMEOUT) as parked:
            if not parked:
                self.log(f"the warm-up thread did not pause within {PARK_TIMEOUT:g} s; forking anyway")
            pid = os.fork()
        if pid == 0:
            code = 1
            try:
                die_with_parent(parent, signal.SIGTERM)
                logging.basicConfig()  # as waitress.serve does: its warnings reach stderr
                # "Task queue depth is N": requests waiting for the one app thread is the design, not news.
                logging.getLogger("waitress.queue").setLevel(logging.ERROR)
                code = _run_worker(self.app, self.sock, self.options, self.shared, slot, WARM_NICENESS if replacing else 0)
            except BaseException:  # noqa: BLE001 - a worker reports nothing but its exit status
                import traceback

                traceback.print_exc()
            finally:
                os._exit(code)
        self.workers[pid] = _Worker(slot, time.monotonic())
        return pid

    def _replace_all(self) -> int:
        """Queue every serving worker for replacement (:meth:`_retire_replaced` starts their
        successors one at a time: two workers starting at once slowed the searches of that
        second to 2.9x)."""
        serving = [pid for pid, w in self.workers.items() if not w.retiring and pid not in self.queued]
        self.queued += serving
        return len(serving)

    def _replace(self, pid: int) -> None:
        """A fresh worker first; once it has rehearsed and accepts connections (see
        :meth:`_retire_replaced`), the old one stops accepting and finishes what it has."""
        worker = self.workers[pid]
        worker.retiring = True
        worker.successor = self._spawn(replacing=True)

    def _retire_replaced(self, now: float) -> None:
        """Start the queued workers' successors one at a time; once every one has rehearsed,
        hand over all at once: every old worker stops accepting (``halt``, confirmed by
        ``halted``), then every new one starts (``go``) and the old ones are told to finish what
        they have. Handing over a worker at a time let a client's next request reach an old
        worker after a new one had answered: an index generation older than the one it had seen."""
        pending = [(pid, worker) for pid, worker in self.workers.items() if worker.successor is not None]
        late: list[int] = []
        for _, worker in pending:
            successor = self.workers.get(worker.successor)
            if successor is not None and not self.shared.ready[successor.slot]:
                if now - successor.started <= READY_TIMEOUT:
                    return  # still rehearsing: the next starts after it
                late.append(worker.successor)
        while self.queued:
            pid = self.queued.pop(0)
            if pid in self.workers and not self.workers[pid].retiring:
                self._replace(pid)
                return
        if not pending:
            self._start_orphans()
            return
        if not any(self.shared.halt[worker.slot] for _, worker in pending) and self._behind(pending):
            return
        halted = True
        for _, worker in pending:
            if not self.shared.halt[worker.slot]:
                self.shared.halt[worker.slot] = 1
                worker.halt_since = now
            if not self.shared.halted[worker.slot] and now - worker.halt_since < HALT_TIMEOUT:
                halted = False
        if not halted:
            return
        for pid in late:  # logged once, at the hand-over (the halt may take a few loops)
            self.log(f"worker {pid} did not accept connections within {READY_TIMEOUT:g} s; handing over anyway")
        for pid, worker in pending:
            successor = self.workers.get(worker.successor)
            if successor is not None:
                self.shared.go[successor.slot] = 1
            worker.successor = None
            self._kill(pid, signal.SIGTERM)
        self._start_orphans()

    def _behind(self, pending: list[tuple[int, _Worker]]) -> bool:
        """Before a hand-over: whether some worker would answer from an older index generation
        than another (a commit merged away the warmed generation's segments while a successor
        started: it opened the newest). Such successors start again, such serving workers join
        the round; the hand-over waits until every worker answers from the same generation."""
        successors = {worker.successor: pid for pid, worker in pending}
        # Every worker that serves or will (successors included); the retiring ones are halting.
        generation = {pid: self.shared.generation[worker.slot] for pid, worker in self.workers.items() if not worker.retiring}
        known = [g for g in generation.values() if g >= 0]
        if not known:
            return False
        newest = max(known)
        behind = False
        for pid, g in generation.items():
            if g < 0 or g == newest:
                continue
            behind = True
            if pid in successors:  # not accepting yet: stopped, its old worker queued again
                self.log(f"worker {pid} started with index generation {g}, older than {newest}: starting another")
                old = self.workers[successors[pid]]
                old.retiring, old.successor = False, None
                self.workers[pid].retiring = True
                self._kill(pid, signal.SIGTERM)
                self.queued.insert(0, successors[pid])
            elif pid not in self.queued:
                self.queued.append(pid)
        return behind

    def _start_orphans(self) -> None:
        """Let a successor whose old worker died during the round accept (nothing hands over to it)."""
        waiting = {worker.successor for worker in self.workers.values() if worker.successor is not None}
        for pid, worker in self.workers.items():
            if pid not in waiting and not worker.retiring and not self.shared.go[worker.slot]:
                self.shared.go[worker.slot] = 1

    def _kill(self, pid: int, sig: int) -> None:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass

    def _reap(self) -> None:
        while self.workers:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            worker = self.workers.pop(pid, None)
            if worker is None:
                continue
            self.shared.open[worker.slot] = _FREE
            self.shared.busy_since[worker.slot] = 0.0
            if worker.retiring or self.stopping:
                continue
            code = os.waitstatus_to_exitcode(status)
            now = time.monotonic()
            self.crashes = [t for t in self.crashes if now - t < 60] + [now]
            delay = 0.0 if len(self.crashes) <= 3 else min(MAX_BACKOFF, 0.5 * 2 ** (len(self.crashes) - 4))
            how = f"signal {-code}" if code < 0 else f"status {code}"
            self.log(f"worker {pid} died ({how}); restarting" + (f" in {delay:g} s ({len(self.crashes)} deaths in the last minute)" if delay else ""))
            self.respawn_at.append(now + delay)
            self.respawn_at.sort()

    def _shutdown(self) -> int:
        for pid in self.workers:
            self._kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + self.options.graceful_timeout + 5
        while self.workers and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.05)
        for pid in self.workers:
            self._kill(pid, signal.SIGKILL)
        self.sock.close()
        return 0


def serve(app, options: ServeOptions, *, announce: str) -> int:
    """Listen on ``options.host:port`` and serve ``app`` (already warmed) until SIGTERM."""
    sock = socket.create_server((options.host, options.port), backlog=2048)
    return Supervisor(app, options, sock).run(announce)


def warm(app) -> None:
    """Load the dictionaries, analyzers and long posting lists before serving (before forking,
    so that worker processes share them)."""
    from search.errors import IndexMissingError
    from web import engine

    started = time.perf_counter()
    with app.app_context():
        try:
            warmed = engine()
            postings = warmed.warm()
        except IndexMissingError:
            return  # the index may be built after start-up: the first search opens it
    with app.test_client() as client:  # Flask's own first-request work
        client.get("/api/search?q=warm")
    if warmed.warmer is not None:  # a commit landed meanwhile: no thread may be running at fork time
        warmed.warmer.join()
    print(f"ready in {time.perf_counter() - started:.1f} s ({postings:,} postings in memory)", flush=True)
