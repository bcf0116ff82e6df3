"""Commands on a Neo4j that is not there: one line, exit 2, within seconds (no server needed:
nothing listens on the port, or something that never answers does)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from relgraph.store.runner import CONNECT_SECONDS
from tests.api.browser import free_port


def _relgraph(args: list[str], uri: str, tmp_path: Path) -> tuple[int, str, float]:
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": ":".join(sys.path),
        "RELGRAPH_STORE": "neo4j",
        "NEO4J_URI": uri,
        "NEO4J_PASSWORD": "not-printed-anywhere",
        "RELGRAPH_API_KEYS": "admin:admin-key-0123456789abcdef0123",
        "RELGRAPH_DATA_DIR": str(tmp_path / "data"),
    }
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "relgraph.cli", *args],
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr, time.monotonic() - began


@pytest.mark.parametrize("scheme", ["neo4j", "bolt"])
@pytest.mark.parametrize("command", ["stats", "analyze", "serve"])
def test_a_neo4j_that_is_not_running_is_one_line_and_exit_2(
    scheme: str, command: str, tmp_path: Path
) -> None:
    # Was, for neo4j:// (the default, and docker-compose's): the driver's own log line
    # "Unable to retrieve routing information" on stderr before relgraph's error; for bolt://
    # the error spanned two lines.
    uri = f"{scheme}://127.0.0.1:{free_port()}"
    args = [command, "--port", str(free_port())] if command == "serve" else [command]
    code, output, _ = _relgraph(args, uri, tmp_path)
    assert code == 2, output
    assert len(output.strip().splitlines()) == 1, output
    assert output.startswith(f"error: cannot reach Neo4j at {uri}: "), output
    assert output.rstrip().endswith("; is it running, and is NEO4J_URI its Bolt address?")
    assert "not-printed-anywhere" not in output
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").iterdir())


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that takes connections and never answers (a stopped JVM; some other service)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield int(listener.getsockname()[1])


def test_a_server_that_never_answers_is_given_up_on_within_seconds(
    silent_port: int, tmp_path: Path
) -> None:
    # Was: exit 2 after 62 s (the driver's 60 s connection acquisition deadline), the error
    # on two lines.
    uri = f"bolt://127.0.0.1:{silent_port}"
    code, output, took = _relgraph(["stats"], uri, tmp_path)
    assert code == 2, output
    assert len(output.strip().splitlines()) == 1, output
    assert output.startswith(f"error: cannot reach Neo4j at {uri}: "), output
    assert "Bolt handshake" in output
    assert took < CONNECT_SECONDS + 10, took
