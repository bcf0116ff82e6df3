"""`relgraph serve` as a real process on a free loopback port: ready, answering, stopping cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from relgraph.api.auth import Role

from .conftest import KEYS


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_and_stops_on_sigterm(data_dir: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "RELGRAPH_API_KEYS": f"risk:{KEYS[Role.RISK]}",
        "RELGRAPH_DATA_DIR": str(data_dir),
        "RELGRAPH_SCORING_PROCESSES": "1",  # a worker to stop with the server
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "relgraph.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError("server never became ready")
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
        answer = httpx.post(
            f"{base}/graphql",
            json={"query": "{ graphStats { nodes { kind count } } }"},
            headers={"Authorization": f"Bearer {KEYS[Role.RISK]}"},
        )
        assert answer.status_code == 200
        assert answer.json()["data"]["graphStats"]["nodes"][0]["count"] > 0
        assert (
            httpx.post(
                f"{base}/graphql", json={"query": "{ graphStats { nodes { kind } } }"}
            ).status_code
            == 401
        )
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status tells why.
    assert server.returncode in (0, -signal.SIGTERM), output
    assert "Finished server process" in output
    # Was, on every stop: "resource_tracker: There appear to be 5 leaked semaphore objects".
    assert "leaked" not in output
    assert KEYS[Role.RISK] not in output


def _serve(data_dir: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``relgraph serve`` that is expected to refuse to start (a minute at most)."""
    return subprocess.run(
        [sys.executable, "-m", "relgraph.cli", "serve", "--data-dir", str(data_dir)],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_serve_without_keys_refuses_to_start(data_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELGRAPH_API_KEYS")}
    result = _serve(data_dir, env)
    assert result.returncode == 2
    assert "no API keys" in result.stderr


def test_serve_with_a_bad_scoring_processes_setting_refuses_to_start(data_dir: Path) -> None:
    env = {**os.environ, "RELGRAPH_API_KEYS": f"risk:{KEYS[Role.RISK]}",
           "RELGRAPH_SCORING_PROCESSES": "all"}  # fmt: skip
    result = _serve(data_dir, env)
    assert result.returncode == 2
    assert "RELGRAPH_SCORING_PROCESSES must be a whole number from 0 to 16" in result.stderr


def test_serve_on_a_port_in_use_says_so_and_exits(data_dir: Path) -> None:
    # Another process listens on the port: serve used to log uvicorn's bind error, then hang
    # (its graph build still running in DuckDB at exit) holding the data directory's lock, or
    # abort with exit 134.
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = int(busy.getsockname()[1])
        env = {**os.environ, "RELGRAPH_API_KEYS": f"risk:{KEYS[Role.RISK]}"}
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "relgraph.cli", "serve", "--data-dir", str(data_dir),
             "--port", str(port)],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert result.returncode == 2, result.stderr
    said = " ".join(result.stderr.split())
    assert f"cannot listen on 127.0.0.1:{port}" in said
    assert "--port" in said
    assert time.monotonic() - started < 30


def _serve_with(data_dir: Path, *args: str) -> tuple[int, str]:
    env = {**os.environ, "RELGRAPH_API_KEYS": f"risk:{KEYS[Role.RISK]}"}
    result = subprocess.run(
        [sys.executable, "-m", "relgraph.cli", "serve", "--data-dir", str(data_dir), *args],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return result.returncode, " ".join(result.stderr.split())


def test_serve_on_a_host_not_of_this_machine_names_the_host_not_a_busy_port(
    data_dir: Path,
) -> None:
    # It said "(another server, perhaps a `relgraph serve`, may hold the port): stop it or
    # pass --port" for a host that does not resolve, sending the operator after a server.
    code, said = _serve_with(data_dir, "--host", "999.1.1.1", "--port", str(_free_port()))
    assert code == 2, said
    assert "cannot listen on 999.1.1.1:" in said
    assert "pass --host an address of this machine (127.0.0.1, or 0.0.0.0" in said
    assert "may hold the port" not in said


def test_serve_refuses_a_port_past_65535_before_starting(data_dir: Path) -> None:
    # bind() raised OverflowError: a traceback, exit 1, after the serve lock was taken.
    code, said = _serve_with(data_dir, "--port", "70000")
    assert code == 2, said
    assert "Invalid value for '--port'" in said
    assert "Traceback" not in said


def test_demo_on_a_port_in_use_says_so_before_building_a_bank(tmp_path: Path) -> None:
    # It synthesised, loaded and analysed first (minutes at make demo's 20,000 customers)
    # and only then found the port taken.
    from typer.testing import CliRunner

    from relgraph.cli import app

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = int(busy.getsockname()[1])
        result = CliRunner().invoke(
            app,
            ["demo", "--customers", "300", "--port", str(port), "--data-dir", str(tmp_path / "d")],
        )
    said = " ".join(result.output.split())
    assert result.exit_code == 2, said
    assert f"error: cannot listen on 127.0.0.1:{port}: Address already in use" in said
    assert not (tmp_path / "d").exists()
