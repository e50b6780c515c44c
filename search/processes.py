"""Child processes that do not outlive the process that started them."""

from __future__ import annotations

import ctypes
import gc
import os
import signal
import sys


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
