"""Child processes that do not outlive the process that started them."""

from __future__ import annotations

import ctypes
import gc
import os
import signal
import sys
from contextlib import contextmanager
from typing import Iterator

#: Garbage-collector thresholds of the processes that make millions of short-lived objects: an
#: indexing run (:func:`bulk_collections`) and a server worker (web/server.py). The default
#: (700, 10, 10) collects the youngest objects every 700 new containers:
#: - indexing collected ~1,300 times per writer and ~650 times in the reading process on a
#:   6,000-article sample (1.0 s of its 15.9 s of CPU), each collection walking caches cold; at
#:   these values 8.66 → 8.01 s wall for that sample (five runs alternating), CPU 15.9 → 14.9 s;
#: - a search on the 154,548-article OpenSearch index spent 1.2–1.7 ms of its 17–21 ms of Python
#:   CPU collecting, and 11 of 400 searches stalled 8–39 ms in a full collection of the objects
#:   made since the fork; at these values 0.3–0.4 ms and none.
#: Both make few reference cycles: the young collections, every 50,000 new objects, free them.
RARE_COLLECTIONS = (50_000, 50, 50)


def die_with_parent(parent: int, sig: int = signal.SIGKILL) -> None:
    """Ask Linux to send ``sig`` to this (forked) process when its parent dies; exit now if
    ``parent`` is already gone (it died before the request was made).

    >>> die_with_parent(os.getppid(), signal.SIGTERM)  # doctest: +SKIP
    """
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, sig, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(1)


@contextmanager
def bulk_collections() -> Iterator[None]:
    """Collect garbage less often while the block runs (an indexing run, whose worker
    processes, forked inside it, inherit the setting); the previous thresholds come back after.

    Indexing makes few reference cycles (its objects die by reference count), so the rarer
    collections cost little memory: see :data:`RARE_COLLECTIONS`.
    """
    previous = gc.get_threshold()
    gc.set_threshold(*RARE_COLLECTIONS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def worker_of(parent: int) -> None:
    """Set up a worker process of the indexer: it dies with ``parent`` and leaves Ctrl-C to it
    (the parent stops its workers and reports; a worker interrupted mid-article would only
    print a traceback); what it inherited is left out of garbage collections."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent)
    # What the worker inherited (the parent's lexicons and state) lives as long as it does: out
    # of the garbage collector's sight, its collections scan only what the worker makes (and
    # do not touch, hence copy, the parent's pages).
    gc.freeze()


class HelperDied(RuntimeError):
    """The helper process ended (killed, out of memory) with work still asked of it;
    ``exitcode``: its exit status (``None``: it was closed)."""

    def __init__(self, message: str, exitcode: int | None = None) -> None:
        super().__init__(message)
        self.exitcode = exitcode


class Helper:
    """One forked helper process that runs calls in order, for a parent that must notice at once
    when the helper dies and never wait for it for ever.

    ``concurrent.futures.ProcessPoolExecutor`` hung an indexing run for good when its worker was
    killed while the tasks queued for it filled the pipe: the parent holds the read end of its
    call queue too, so the thread feeding that queue waited for a reader that never came, and
    shutting the pool down waited for that thread. Here the parent keeps only the write end of
    the task pipe and the read end of the result pipe, so a dead helper is a broken pipe or an end
    of file, never a wait (``tests/test_processes.py`` kills it at random moments).

    >>> helper = Helper()  # doctest: +SKIP
    >>> helper.submit(pow, 2, 10).result()  # doctest: +SKIP
    1024
    """

    def __init__(self, initializer=None, initargs: tuple = ()) -> None:
        import multiprocessing
        import queue
        import threading
        from collections import deque

        context = multiprocessing.get_context("fork")
        task_reader, self._tasks = context.Pipe(duplex=False)
        self._results, result_writer = context.Pipe(duplex=False)
        self.process = context.Process(target=_helper_main, args=(task_reader, result_writer, self._tasks, self._results, initializer, initargs), daemon=True)
        self.process.start()
        task_reader.close()  # the helper is the only reader of its tasks and writer of its results
        result_writer.close()
        self._pending: deque[_Pending] = deque()
        # Tasks are sent by a thread so that a full pipe (the helper busy) never blocks the caller;
        # it is a daemon and never joined: a dead helper breaks its pipe, which ends it.
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()
        self._sender = threading.Thread(target=self._send_all, name="helper-sender", daemon=True)
        self._sender.start()
        self._dead = self._closed = False

    def submit(self, fn, *args) -> "_Pending":
        """Queue ``fn(*args)``; its result comes from the returned object's ``result()``."""
        if self._dead or not self.process.is_alive():
            raise HelperDied(self._why(), self.process.exitcode)
        pending = _Pending(self)
        self._pending.append(pending)
        self._outbox.put((fn, args))
        return pending

    def close(self) -> None:
        """Stop the helper (at once: its work is no longer wanted) and free the pipes."""
        self._outbox.put(None)
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self._dead = self._closed = True
        self._results.close()

    def _send_all(self) -> None:
        # Pickled here, not by the caller: it goes on while this thread pickles (a batch's
        # articles for the OpenSearch writer's analysis, 4 % of that run's time when the caller did).
        import pickle

        while (item := self._outbox.get()) is not None:
            try:
                data = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as error:  # the helper answers it, in its turn, with this error
                data = pickle.dumps((_unsent, (f"{type(error).__name__}: {error}",)))
            try:
                self._tasks.send_bytes(data)
            except OSError:  # the helper died: nothing reads this pipe any more
                break
        try:
            self._tasks.close()
        except OSError:
            pass

    def _next(self, block: bool) -> bool:
        """Read the oldest pending call's answer; ``block=False``: only if it has come."""
        from multiprocessing.connection import wait

        if self._dead:
            raise HelperDied(self._why(), self.process.exitcode)
        if not block and not self._results.poll(0):
            return False
        # The result pipe first: an answer written before the helper ended is still read.
        while not self._results.poll(0) and not wait([self._results, self.process.sentinel], timeout=1.0):
            pass
        try:
            ok, value = self._results.recv()
        except (EOFError, OSError) as error:  # ended, possibly in the middle of an answer
            self._dead = True
            raise HelperDied(self._why(), self.process.exitcode) from error
        self._pending.popleft()._settle(ok, value)
        return True

    def _why(self) -> str:
        if self._closed:
            return "the helper process was closed"
        self.process.join(5)  # its pipes close as it ends, a moment before it can be waited for
        return f"the helper process ended (exit status {self.process.exitcode})"


class _Pending:
    """The answer of one call to a :class:`Helper`, when it comes."""

    _NOT_YET = object()

    def __init__(self, helper: Helper) -> None:
        self._helper = helper
        self._value = self._NOT_YET
        self._ok = True

    def done(self) -> bool:
        while self._value is self._NOT_YET and self._helper._pending and self._helper._next(block=False):
            pass
        return self._value is not self._NOT_YET

    def result(self):
        while self._value is self._NOT_YET:
            self._helper._next(block=True)
        if not self._ok:
            raise self._value
        return self._value

    def _settle(self, ok: bool, value) -> None:
        self._ok, self._value = ok, value


def _unsent(reason: str) -> None:
    raise ValueError(f"the call could not be sent to the helper process ({reason})")


def _helper_main(tasks, results, parent_tasks, parent_results, initializer, initargs) -> None:
    import pickle

    parent_tasks.close()  # this process's copies of the parent's ends: the pipes end with it
    parent_results.close()
    if initializer is not None:
        initializer(*initargs)
    while True:
        try:
            fn, args = pickle.loads(tasks.recv_bytes())
        except EOFError:  # the parent closed: nothing more to do
            return
        try:
            answer = (True, fn(*args))
        except Exception as error:  # the caller re-raises it
            answer = (False, error)
        results.send(answer)
