"""Per-key sliding-window limits: ``search`` calls a minute (``RELGRAPH_SEARCH_RATE``) and
id-number searches that find no one a day (``RELGRAPH_ID_MISSES``, :mod:`relgraph.api.search`)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0
DAY_SECONDS = 86_400.0


class RateLimiter:
    """At most ``limit`` events per key in any ``window`` seconds (default 60).

    A sliding log rather than a fixed window: a key cannot get twice the rate by calling at
    the end of one window and the start of the next. Memory is bounded by the limit per key.
    The log lives in the server process: a restart starts every key afresh.
    """

    def __init__(
        self,
        limit: int,
        clock: Callable[[], float] = time.monotonic,
        *,
        window: float = WINDOW_SECONDS,
    ) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._calls: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, key_id: str) -> int | None:
        """Count a call by ``key_id``; None when allowed, else the seconds to wait."""
        with self._lock:
            calls, wait = self._check(key_id)
            if wait is None:
                calls.append(self._clock())
            return wait

    def reserve(self, key_id: str) -> tuple[int | None, float]:
        """As :meth:`take`, with the moment counted, for :meth:`release` if the event turns out
        not to have happened: for limits on outcomes (a miss), counted before the outcome is
        known so concurrent calls cannot all pass the check first."""
        with self._lock:
            calls, wait = self._check(key_id)
            now = self._clock()
            if wait is None:
                calls.append(now)
            return wait, now

    def release(self, key_id: str, at: float) -> None:
        """Take back an event :meth:`reserve` counted at ``at``."""
        with self._lock:
            calls = self._calls.get(key_id)
            if calls is not None and at in calls:
                calls.remove(at)

    def wait(self, key_id: str) -> int | None:
        """The seconds until ``key_id`` may have another event, or None: it may now.

        Unlike :meth:`take`, nothing is counted: for limits on outcomes (a miss), counted
        with :meth:`record` once the outcome is known.
        """
        with self._lock:
            return self._check(key_id)[1]

    def record(self, key_id: str) -> None:
        """Count an event by ``key_id`` whether or not the limit allowed it."""
        with self._lock:
            self._check(key_id)[0].append(self._clock())

    def _check(self, key_id: str) -> tuple[deque[float], int | None]:
        now = self._clock()
        calls = self._calls.setdefault(key_id, deque())
        while calls and calls[0] <= now - self.window:
            calls.popleft()
        if len(calls) >= self.limit:
            return calls, max(1, math.ceil(calls[0] + self.window - now))
        return calls, None
