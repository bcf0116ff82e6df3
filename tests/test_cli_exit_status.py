"""Exit statuses a scheduler acts on: a fault in relgraph itself is 70, never 1 (a finding,
such as `audit verify` finding the log changed) nor 2 (bad input or settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import relgraph.synth as synth_package
from relgraph.cli import app


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
