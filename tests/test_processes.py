"""search/processes.py: a helper process that can die at any moment without hanging its parent."""

from __future__ import annotations

import os
import random
import signal
import time

import pytest

from search.processes import Helper, HelperDied


def _echo(payload: bytes, pause: float = 0.0) -> int:
    time.sleep(pause)
    return len(payload)


def _fail(message: str) -> None:
    raise ValueError(message)


def test_calls_come_back_in_order_and_errors_are_raised_by_result():
    helper = Helper()
    try:
        pending = [helper.submit(_echo, b"x" * n) for n in range(50)]
        assert [p.result() for p in pending] == list(range(50))
        failing = helper.submit(_fail, "no")
        after = helper.submit(pow, 2, 10)
        with pytest.raises(ValueError, match="no"):
            failing.result()
        assert after.result() == 1024  # an error ends one call, not the helper
        unpicklable = helper.submit(_echo, lambda: None)
        with pytest.raises(ValueError, match="could not be sent"):
            unpicklable.result()
        assert helper.submit(_echo, b"abcd").result() == 4
    finally:
        helper.close()


def test_done_reads_an_answer_that_has_come_without_waiting_for_later_ones():
    helper = Helper()
    try:
        quick, slow = helper.submit(_echo, b"ab"), helper.submit(_echo, b"abc", 0.5)
        deadline = time.monotonic() + 10
        while not quick.done():
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert quick.result() == 2 and not slow.done()
        assert slow.result() == 3
    finally:
        helper.close()


@pytest.mark.parametrize("seed", range(8))
def test_a_helper_killed_with_its_pipe_full_fails_the_next_question_at_once(seed):
    """concurrent.futures' process pool hung for good here: the thread feeding its call queue
    waited for a reader that had died, and its shutdown waited for that thread."""
    rng = random.Random(seed)
    helper = Helper()
    started = time.monotonic()
    try:
        # 1 MB tasks, each taking a while: the task pipe (64 KB) is full when the helper dies,
        # at a moment that differs per seed (reading a task, computing, or writing an answer).
        pending = [helper.submit(_echo, os.urandom(1 << 20), 0.01) for _ in range(12)]
        time.sleep(rng.uniform(0.0, 0.1))
        os.kill(helper.process.pid, signal.SIGKILL)
        with pytest.raises(HelperDied, match="exit status -9"):
            for p in pending:
                p.result()
        with pytest.raises(HelperDied):
            helper.submit(_echo, b"after")
    finally:
        helper.close()
    assert time.monotonic() - started < 30
    assert not helper.process.is_alive()
