"""The audit trail's hash chain: any altered, removed or reordered line is named."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from relgraph.api.audit import AuditLog, verify
from relgraph.cli import app


@pytest.fixture
def log(tmp_path: Path) -> Path:
    audit = AuditLog(tmp_path / "audit.log")
    for i in range(5):
        audit.append(key_id="k_1", role="analyst", operation=f"op{i}", ids=[f"P{i}"], outcome="ok")
    return audit.path


def test_an_intact_chain_verifies(log: Path) -> None:
    verdict = verify(log)
    assert verdict.ok
    assert verdict.lines == 5
    # Reopening continues the chain.
    AuditLog(log).append(key_id="k_1", role="risk", operation="op5", ids=[], outcome="ok")
    assert verify(log).lines == 6


def _lines(log: Path) -> list[str]:
    return log.read_text().splitlines(keepends=True)


def test_an_altered_line_is_named(log: Path) -> None:
    lines = _lines(log)
    lines[2] = lines[2].replace('"P2"', '"P9"')
    log.write_text("".join(lines))
    verdict = verify(log)
    assert not verdict.ok
    assert verdict.bad_line == 3
    assert verdict.message == "line 3 was altered"


def test_a_removed_line_is_named(log: Path) -> None:
    lines = _lines(log)
    del lines[1]
    log.write_text("".join(lines))
    verdict = verify(log)
    assert verdict.bad_line == 2
    assert verdict.message == "line 2 does not follow line 1: lines were removed or reordered"


def test_reordered_lines_are_named(log: Path) -> None:
    lines = _lines(log)
    lines[3], lines[4] = lines[4], lines[3]
    log.write_text("".join(lines))
    assert verify(log).bad_line == 4


def test_cli_exit_codes(log: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify", str(log)])
    assert ok.exit_code == 0
    assert "5 lines, chain intact" in " ".join(ok.output.split())
    lines = _lines(log)
    lines[0] = lines[0].replace("analyst", "admin")
    log.write_text("".join(lines))
    bad = runner.invoke(app, ["audit", "verify", str(log)])
    assert bad.exit_code == 1
    assert "line 1 was altered" in " ".join(bad.output.split())
