"""A `relgraph serve` process a test started: waiting for its /readyz."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import httpx


def ready(base: str, log: Path, timeout: float = 60) -> dict[str, object]:
    """The server's /readyz answer once it is 200 (the server's log is the failure after
    ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            answer = httpx.get(f"{base}/readyz", timeout=5)
            if answer.status_code == 200:
                return dict(answer.json())
        time.sleep(0.2)
    raise AssertionError(log.read_text())
