"""The test servers' launcher (``tests/neo4j_server.py``) never hangs a test run or leaks a JVM.

A Neo4j whose database panicked on a full disk does not stop on SIGTERM: its shutdown spins on
pages it cannot flush (measured over 120 s at a whole core, RESULTS.md). These tests stand a
small Python program in for the server's ``run`` script: one that ignores SIGTERM, as that
server does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import neo4j_server

STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print({line!r}, flush=True); time.sleep(600)"
)


def _fake_server(root: Path, ready: bool) -> Path:
    """A ``tools/neo4j-server`` whose ``run`` ignores SIGTERM (and prints ready, or never)."""
    line = f"{neo4j_server.READY}bolt://127.0.0.1:1" if ready else "starting"
    (root / "stubborn.py").write_text(STUBBORN.format(line=line))
    run = root / "run"
    run.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{root / "stubborn.py"}"\n')
    run.chmod(0o755)
    return root


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie nobody reaped yet is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not _alive(pid)


pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc and arms PR_SET_PDEATHSIG"
)


def test_stop_is_bounded_and_kills_a_server_that_ignores_sigterm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The default is bounded well under a test run's patience, and well over a clean stop
    # (1–2 s; 11 s before the test server stopped waiting on idle Bolt connections).
    assert 10 <= neo4j_server.STOP_GRACE <= 60
    monkeypatch.setattr(neo4j_server, "SERVER", _fake_server(tmp_path, ready=True))
    monkeypatch.setattr(neo4j_server, "STOP_GRACE", 1.0)
    server = neo4j_server.start(tmp_path / "home", timeout=30)
    began = time.monotonic()
    assert neo4j_server.stop_process(server.process) is True
    assert time.monotonic() - began < 10
    assert not _alive(server.process.pid)


def test_a_start_interrupted_before_ready_leaves_no_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(neo4j_server, "SERVER", _fake_server(tmp_path, ready=False))
    monkeypatch.setattr(neo4j_server, "STOP_GRACE", 1.0)
    started: list[subprocess.Popen[bytes]] = []
    real_popen = subprocess.Popen

    def popen(*args: object, **kwargs: object) -> subprocess.Popen[bytes]:
        process = real_popen(*args, **kwargs)  # type: ignore[call-overload]
        started.append(process)
        return process

    def interrupt(_: float) -> None:
        raise KeyboardInterrupt  # Ctrl-C while the server starts

    monkeypatch.setattr(neo4j_server.subprocess, "Popen", popen)
    monkeypatch.setattr(neo4j_server.time, "sleep", interrupt)
    with pytest.raises(KeyboardInterrupt):
        neo4j_server.start(tmp_path / "home", timeout=30)
    (process,) = started
    assert not _alive(process.pid)


def test_a_test_run_killed_before_its_teardown_takes_its_server_with_it(tmp_path: Path) -> None:
    _fake_server(tmp_path, ready=True)
    repo = Path(__file__).resolve().parents[1]
    # A test process that starts a server, says its pid, then is killed (a CI timeout).
    script = (
        "import sys, time; from pathlib import Path; from tests import neo4j_server; "
        f"neo4j_server.SERVER = Path({str(tmp_path)!r}); "
        f"s = neo4j_server.start(Path({str(tmp_path / 'home')!r}), timeout=30); "
        "print(s.process.pid, flush=True); time.sleep(600)"
    )
    runner = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=repo,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(repo), *sys.path])},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert runner.stdout is not None
        server_pid = int(runner.stdout.readline())
        assert _alive(server_pid)
    finally:
        runner.send_signal(signal.SIGKILL)
        runner.wait()
    try:
        assert _gone_within(server_pid, 10)
    finally:
        if _alive(server_pid):
            os.kill(server_pid, signal.SIGKILL)
