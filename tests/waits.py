"""Waiting in a test for another thread to get somewhere, without a fixed pause.

A fixed ``time.sleep`` before an assertion bets that the other thread ran meanwhile; on CI's
shared 2-core machine (``-n 2`` beside Neo4j, Kafka and Chromium) a thread can start late
and the bet is lost. :func:`until` polls instead, with a deadline far past any such delay.
"""

from __future__ import annotations

import time
from collections.abc import Callable

DEADLINE_SECONDS = 10.0


def until(check: Callable[[], object], what: str, seconds: float = DEADLINE_SECONDS) -> None:
    """Returns once ``check()`` is true; fails naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {seconds:g} s"
        time.sleep(0.005)
