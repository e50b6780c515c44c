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
