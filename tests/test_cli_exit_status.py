"""Exit statuses a scheduler acts on: a fault in relgraph itself is 70, never 1 (a finding,
such as `audit verify` finding the log changed) nor 2 (bad input or settings)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import relgraph.synth as synth_package
from relgraph.cli import app
from relgraph.cli.closed_pipe import reader_may_leave


def test_a_fault_in_relgraph_is_exit_70_with_its_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(synth_package, "generate", broken)
    result = CliRunner().invoke(app, ["synth", "--out", str(tmp_path / "bank")])
    # Was: exit 1, the status `audit verify` gives a log that was changed.
    assert result.exit_code == 70, result.output
    assert "Traceback" in result.output
    assert "ZeroDivisionError: a bug" in result.output
    assert " ".join(result.output.split()).endswith(
        "internal error: relgraph synth failed on a fault in relgraph itself (the traceback "
        "above): report it with the traceback"
    )


def test_usage_errors_keep_their_status(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["synth", "--customers", "many"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def _with_stdout_unread(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``relgraph ARGS | head`` after head has exited: stdout is a pipe nobody reads."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-m", "relgraph", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--help"], id="help written by typer's own console"),
        pytest.param(["synth", "--out", "bank", "--customers", "10"], id="a command's table"),
    ],
)
def test_output_whose_reader_left_is_status_141_without_a_word(
    args: list[str], tmp_path: Path
) -> None:
    done = _with_stdout_unread(*args, cwd=tmp_path)
    # Was: the synth table exited 1 (a finding) and `load --help | head` printed a
    # traceback and "internal error" with 70.
    assert done.returncode == 141, done.stderr
    assert "Traceback" not in done.stderr
    assert "error" not in done.stderr


def test_a_broken_pipe_on_a_socket_is_not_taken_for_a_lost_reader(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read_end, write_end = os.pipe()  # stdout a pipe that is still read
    with os.fdopen(write_end, "w") as piped, os.fdopen(read_end) as _reader:
        monkeypatch.setattr(sys, "stdout", piped)
        with pytest.raises(BrokenPipeError), reader_may_leave():
            raise BrokenPipeError(32, "Broken pipe")  # a server closed the connection
