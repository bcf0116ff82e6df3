"""Progress as plain lines, for a log file or a pipe (a scheduler, ``nohup``, ``> load.log``).

rich's bar draws nothing where stderr is no terminal, so a nightly ``load`` or ``analyze``
wrote no word until it ended: minutes at a million customers. Here each step is one line
when it starts, with the time since the command began, and a step still running after
``every`` seconds says so, so a log never goes quiet for long and shows where time went.
No carriage returns, no colours.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

HEARTBEAT_SECONDS = 30.0
"""How long a step runs before a line says it still does (and again at each multiple)."""


class LineProgress:
    """A ``(stage, done, total)`` callback writing one line per stage through ``say``."""

    def __init__(self, say: Callable[[str], None], every: float = HEARTBEAT_SECONDS) -> None:
        self._say = say
        self._every = every
        self._started = time.monotonic()
        self._stage: str | None = None
        self._stage_started = self._started
        self._next_beat = self._started + every
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat, daemon=True)
        self._beat.start()

    def __call__(self, stage: str, done: int, total: int) -> None:
        with self._lock:
            if stage == self._stage:
                return  # the same step going on (or completed): its line was written
            now = time.monotonic()
            self._stage, self._stage_started = stage, now
            self._next_beat = now + self._every
            steps = f" (step {done + 1} of {total})" if total > 1 and done < total else ""
            self._say(f"[{now - self._started:7.1f} s] {stage}{steps}")

    def close(self) -> None:
        """Stop the heartbeat."""
        self._stop.set()
        self._beat.join()

    def _heartbeat(self) -> None:
        while not self._stop.wait(min(self._every / 6, 1.0)):
            with self._lock:
                now = time.monotonic()
                if self._stage is None or now < self._next_beat:
                    continue
                self._next_beat += self._every
                self._say(
                    f"[{now - self._started:7.1f} s] {self._stage}: still running, "
                    f"{now - self._stage_started:.0f} s so far"
                )
