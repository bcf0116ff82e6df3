"""Commands run at the same time on one embedded store: refused at once, naming the other."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relgraph.cli import app
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


def _refusal(args: list[str]) -> tuple[str, float]:
    started = time.monotonic()
    result = runner.invoke(app, args)
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
