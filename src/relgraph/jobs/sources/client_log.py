"""The Kafka client's own log lines, as an operator can read them during an outage.

librdkafka logs each failed connection attempt, and retries a broker that is down about 20
times a second: a consumer whose broker was down wrote 651 such lines in 30 s, and nothing
said when it answered again. :class:`RepeatFilter` lets the
first of a kind through and then one a minute, with how many it held back; the source itself
says once when the cluster stops answering and once when it answers again.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Final

REPEAT_WINDOW: Final = 60.0
"""Seconds during which a librdkafka line like one already logged is only counted."""
_VARYING: Final = re.compile(r"\(after \d+ms in state \w+\)|\d+ms")
"""The parts of a connection failure that change from one attempt to the next."""


class RepeatFilter(logging.Filter):
    """Holds back librdkafka log records like one let through less than ``window`` s ago."""

    def __init__(self, window: float = REPEAT_WINDOW, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.window = window
        self.clock = clock
        # Per kind: when one was last let through, and how many were held back since.
        self._seen: dict[tuple[str, ...], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        kind = tuple(_VARYING.sub("", str(a)) for a in args) or (str(record.msg),)
        now = self.clock()
        last = self._seen.get(kind)
        if last is not None and now - last[0] < self.window:
            self._seen[kind] = (last[0], last[1] + 1)
            return False
        self._seen[kind] = (now, 0)
        if last is not None and last[1]:
            record.msg = f"{record.msg} (and %d more like it in the last %.0f s)"
            record.args = (*args, last[1], now - last[0])
        return True


client_log = logging.getLogger("relgraph.sources.kafka.client")
"""The logger librdkafka's lines go to (the consumer's and the dead-letter producer's)."""
client_log.addFilter(RepeatFilter())
