"""Commands run at the same time on one embedded store: one waits for the other, naming it,
up to RELGRAPH_STORE_LOCK_WAIT seconds (refused at once with 0)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from relgraph.api.server import RETRY_SECONDS
from relgraph.cli import app
from tests import served
from tests.api.browser import free_port
from tests.banks import copy_data, loaded_synthetic

runner = CliRunner()

# A stand-in for a long `relgraph <command>`: it opens the store as that command does and
# keeps it open until told to stop; its command line names the command as the real one's does.
HOLD = (
    "import sys; from pathlib import Path; from relgraph.store.embedded import EmbeddedStore; "
    "store = EmbeddedStore(Path(sys.argv[3]), read_only=sys.argv[4] == 'ro'); "
    "print('held', flush=True); sys.stdin.read(); store.close()"
)


@pytest.fixture
def data(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    _, loaded = loaded_synthetic(tmp_path_factory, 300, 7)
    return copy_data(loaded, tmp_path / "data")


@contextmanager
def holding(data: Path, command: str, mode: str) -> Iterator[int]:
    """A process that runs as ``relgraph <command>`` holding the store (``rw`` or ``ro``)."""
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, "relgraph", command, str(data), mode],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "held\n"
        yield child.pid
    finally:
        child.communicate("", timeout=30)


AT_ONCE = {"RELGRAPH_STORE_LOCK_WAIT": "0"}


def _refusal(args: list[str]) -> tuple[str, float]:
    started = time.monotonic()
    result = runner.invoke(app, args, env=AT_ONCE)
    took = time.monotonic() - started
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "readonly" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0], took


def test_analyze_while_a_load_writes_is_refused_at_once_naming_the_load(data: Path) -> None:
    # Was: DuckDB's "Conflicting lock is held in …/python3.11 (PID n)", its docs link, and
    # "Another relgraph process (load or analyze) may be writing it".
    store = data / "relgraph.duckdb"
    with holding(data, "load", "rw") as pid:
        line, took = _refusal(["analyze", "--data-dir", str(data)])
    assert took < 10
    assert re.fullmatch(
        rf"error: the store {re.escape(str(store))} is in use: `relgraph load` \(pid {pid}, "
        r"running for \d+ s\) is writing it \(one process may write the store, and none read "
        r"it meanwhile\); wait for it to finish, then run this again",
        line,
    ), line


def test_reading_commands_while_analyze_writes_are_refused_naming_it(
    data: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    truth = loaded_synthetic(tmp_path_factory, 300, 7)[0] / "truth"
    with holding(data, "analyze", "rw") as pid:
        for args in (["stats"], ["validate", "--truth", str(truth), "--out", str(data / "r")]):
            line, _ = _refusal([*args, "--data-dir", str(data)])
            assert f"is in use: `relgraph analyze` (pid {pid}, running for " in line, line
            assert line.endswith("wait for it to finish, then run this again"), line


def test_analyze_while_the_server_builds_its_graph_names_the_server(data: Path) -> None:
    # Was: "Another relgraph process (load or analyze) may be writing it", and DuckDB's advice
    # to open the database with a -readonly flag; it was `serve` reading.
    with holding(data, "serve", "ro") as pid:
        line, _ = _refusal(["analyze", "--data-dir", str(data)])
    assert f"is in use: `relgraph serve` (pid {pid}, running for " in line, line
    assert line.endswith(
        "reads it while it builds its graph (at start, and on SIGHUP or a refresh); "
        "run this again when it is done"
    ), line
    assert runner.invoke(app, ["analyze", "--data-dir", str(data)]).exit_code == 0


def test_a_nightly_analyze_that_meets_a_refresh_waits_for_it_then_runs(data: Path) -> None:
    # Was: refused at once ("run this again when it is done"), and the night's results were
    # not computed because the server happened to be building its graph.
    env = {**os.environ, "RELGRAPH_STORE_LOCK_WAIT": "120"}
    with holding(data, "serve", "ro") as pid:
        analyze = subprocess.Popen(
            [sys.executable, "-m", "relgraph.cli", "analyze", "--data-dir", str(data)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert analyze.stderr is not None
        first = " ".join(analyze.stderr.readline().split())
    rest = analyze.stderr.read()
    assert analyze.wait(timeout=120) == 0, first + rest
    assert re.fullmatch(
        rf"note: the store {re.escape(str(data / 'relgraph.duckdb'))} is in use: `relgraph "
        rf"serve` \(pid {pid}, running for \d+ s\) reads it while it builds its graph \(at "
        r"start, and on SIGHUP or a refresh\): waiting for it, giving up after 2 min 0 s "
        r"\(RELGRAPH_STORE_LOCK_WAIT\)",
        first,
    ), first


def test_a_wait_for_the_store_gives_up_naming_the_holder(data: Path) -> None:
    started = time.monotonic()
    with holding(data, "load", "rw") as pid:
        result = runner.invoke(
            app, ["stats", "--data-dir", str(data)], env={"RELGRAPH_STORE_LOCK_WAIT": "1.5"}
        )
    assert 1.5 <= time.monotonic() - started < 30
    assert result.exit_code == 2, result.output
    *notes, line = [" ".join(x.split()) for x in result.output.strip().splitlines()]
    (note,) = notes
    assert note.endswith("waiting for it, giving up after 2 s (RELGRAPH_STORE_LOCK_WAIT)"), note
    assert (
        f"error: the store {data / 'relgraph.duckdb'} is in use: `relgraph load` (pid {pid}" in line
    )
    assert line.endswith(
        "gave up after 2 s (RELGRAPH_STORE_LOCK_WAIT): wait for it to finish, then run this again"
    ), line


def test_a_refresh_while_analyze_writes_keeps_the_old_graph_and_says_so(data: Path) -> None:
    # Was, in the server log: "cannot build the graph: cannot open … Another relgraph process
    # (load or analyze) may be writing it" - for a server that went on serving.
    port, key = free_port(), "admin-test-key-0123456789abcdef"
    env = {**os.environ, "RELGRAPH_API_KEYS": f"admin:{key}", "RELGRAPH_DATA_DIR": str(data)}
    log = data.parent / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "relgraph.cli", "serve", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base, auth = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {key}"}

    def ready() -> dict[str, object]:
        return served.ready(base, log)

    def refresh_and_wait(expect_error: bool) -> dict[str, object]:
        mutation = {"query": "mutation { refresh { started } }"}
        answer = httpx.post(f"{base}/graphql", json=mutation, headers=auth, timeout=10)
        assert answer.json() == {"data": {"refresh": {"started": True}}}
        deadline = time.monotonic() + 60
        while ("refreshError" in ready()) != expect_error:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        return ready()

    try:
        nodes = ready()["nodes"]
        with holding(data, "analyze", "rw") as pid:
            failed = refresh_and_wait(expect_error=True)
            stats = {"query": "{ graphStats { nodes { kind count } } }"}
            assert httpx.post(f"{base}/graphql", json=stats, headers=auth).status_code == 200
        assert failed["nodes"] == nodes
        assert f"`relgraph analyze` (pid {pid}, running for " in str(failed["refreshError"])
        # Once the writer is done the refresh goes through without being asked again.
        deadline = time.monotonic() + RETRY_SECONDS + 30
        while "refreshError" in ready():
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        assert "refreshError" not in refresh_and_wait(expect_error=False)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    text = log.read_text()
    assert "refresh failed, still serving the graph built before it (/readyz says why): " in text
    assert "cannot build the graph" not in text
    assert "the store is in use: trying the refresh again in 15 s" in text
