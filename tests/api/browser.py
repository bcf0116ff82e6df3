"""Headless Chromium for the explorer's end-to-end tests, and `relgraph serve` for it to visit.

Playwright for Python drives Debian's ``chromium`` (``make browser-tests`` installs it with
apt when missing); Playwright's own browser downloads are never used. Without a browser or
Playwright the browser-marked tests are skipped, or fail when ``RELGRAPH_REQUIRE_BROWSER=1``
(CI), as the Neo4j suite does with ``RELGRAPH_REQUIRE_NEO4J``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REQUIRE_ENV = "RELGRAPH_REQUIRE_BROWSER"
CHROMIUM_ENV = "RELGRAPH_CHROMIUM"
"""A chromium binary to use instead of the one on PATH."""

STATIC = Path(__file__).resolve().parents[2] / "src" / "relgraph" / "api" / "static"


def required() -> bool:
    return os.environ.get(REQUIRE_ENV, "") not in ("", "0")


def chromium_path() -> str | None:
    if explicit := os.environ.get(CHROMIUM_ENV):
        return explicit
    for name in ("chromium", "chromium-browser"):
        if found := shutil.which(name):
            return found
    return None


def unavailable_reason() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[test]')"
    if chromium_path() is None:
        return "no chromium on PATH (apt-get install chromium, or set RELGRAPH_CHROMIUM)"
    if not (STATIC / "explore" / "index.html").exists():
        return "the explorer is not built (make web)"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A `relgraph serve` process on 127.0.0.1."""

    data_dir: Path
    keys: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[str] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120) -> None:
        env = {
            **os.environ,
            "RELGRAPH_API_KEYS": self.keys,
            "RELGRAPH_DATA_DIR": str(self.data_dir),
        }
        env.pop("RELGRAPH_API_KEYS_FILE", None)
        log = (self.data_dir.parent / f"serve-{self.port}.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "relgraph.cli", "serve", "--host", "127.0.0.1",
             "--port", str(self.port)],
            env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"relgraph serve exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("relgraph serve never became ready")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def restart(self) -> None:
        """Stop and start again on the same port and data (what survives is on disk)."""
        self.stop()
        self.start()

    def graphql(self, key: str, query: str, **variables: object) -> dict[str, object]:
        """One operation as ``key``; the data (errors fail the caller's test)."""
        answer = httpx.post(
            f"{self.base}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        ).json()
        assert not answer.get("errors"), answer["errors"]
        data: dict[str, object] = answer["data"]
        return data
