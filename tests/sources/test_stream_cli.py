"""``relgraph stream``: what it says when it cannot finish, and where a rerun resumes."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relgraph.cli import app
from relgraph.jobs.sources.file import FileSource

HEADER = "tx_id,from_account,to_account,amount,currency,ts"


def _file(tmp_path: Path, rows: int) -> Path:
    path = tmp_path / "transfers.csv"
    lines = [HEADER] + [f"S{i},A1,A2,5.00,CNY,2026-10-01T10:00:00" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_stream_to_a_server_gone_says_each_wait_gives_up_and_says_where_to_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELGRAPH_INGEST_KEY", "k")
    path = _file(tmp_path, 3)
    url = f"http://127.0.0.1:{_closed_port()}"
    done = CliRunner().invoke(
        app, ["stream", str(path), "--url", url, "--rate", "0", "--patience", "1.5"]
    )
    out = " ".join(done.output.split())
    assert done.exit_code == 1, out
    assert f"no answer from {url} (ConnectError" in out
    assert "sending again in 0.5 s" in out
    assert "sent 0 transfers" in out
    assert "0 accepted" in out
    assert f"no row of {path} is acknowledged" in out
    assert "the first row not acknowledged is row 1 (tx_id S0): resume with --skip 0" in out


def test_skip_starts_after_the_rows_acknowledged_before(tmp_path: Path) -> None:
    source = FileSource(_file(tmp_path, 5), committed=3)
    assert [[r["tx_id"] for r in b] for b in source.batches(10)] == [["S3", "S4"]]
