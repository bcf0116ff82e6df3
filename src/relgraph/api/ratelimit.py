"""A per-key rate limit over a sliding minute (``search``: ``RELGRAPH_SEARCH_RATE`` a minute)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0


class RateLimiter:
    """At most ``per_minute`` calls per key in any 60 seconds.

    A sliding log rather than a fixed window: a key cannot get twice the rate by calling at
    the end of one minute and the start of the next. Memory is bounded by the rate per key.
    """

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError(f"per_minute must be at least 1, not {per_minute}")
        self.per_minute = per_minute
        self._clock = clock
        self._calls: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, key_id: str) -> int | None:
        """Count a call by ``key_id``; None when allowed, else the seconds to wait."""
        now = self._clock()
        with self._lock:
            calls = self._calls.setdefault(key_id, deque())
            while calls and calls[0] <= now - WINDOW_SECONDS:
                calls.popleft()
            if len(calls) >= self.per_minute:
                return max(1, math.ceil(calls[0] + WINDOW_SECONDS - now))
            calls.append(now)
            return None
