"""Servers a test starts: a `relgraph serve` process (waiting for its /readyz), an app in a
thread of the test's own."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import httpx
import uvicorn


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


@contextlib.contextmanager
def in_thread(app: Any, lifespan: Literal["auto", "on", "off"] = "auto") -> Iterator[str]:
    """``app`` served by uvicorn on 127.0.0.1 in a thread, at the URL yielded, until the
    block ends (``lifespan="off"``: its startup is not run, as an app the test set up)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise AssertionError(f"the server on port {port} did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
