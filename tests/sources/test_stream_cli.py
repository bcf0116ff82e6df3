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


def _gbk(tmp_path: Path, header: str = HEADER + ",摘要") -> Path:
    path = tmp_path / "gbk-export.csv"
    rows = [header, "G1,A1,A2,5.00,人民币,2026-10-01T10:00:00,工资"]
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode("gbk"))
    return path


def _stream(*args: str) -> tuple[int, str]:
    done = CliRunner().invoke(app, ["stream", *args, "--url", "http://127.0.0.1:1"])
    return done.exit_code, " ".join(done.output.split())


def test_a_gbk_file_is_read_with_encoding_as_the_loader_reads_it(tmp_path: Path) -> None:
    (row,) = FileSource(_gbk(tmp_path), encoding="gbk").records()
    assert (row["tx_id"], row["currency"], row["摘要"]) == ("G1", "人民币", "工资")


@pytest.mark.parametrize("header", [HEADER + ",摘要", HEADER + ",memo"])
def test_a_gbk_file_read_as_utf8_is_named_with_the_way_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, header: str
) -> None:
    monkeypatch.setenv("RELGRAPH_INGEST_KEY", "k")
    path = _gbk(tmp_path, header)
    code, out = _stream(str(path))
    assert code == 2
    # The first line not UTF-8 is named (摘要 in GBK happens to be valid UTF-8: 諪Ҫ).
    assert "gbk-export.csv line 2, byte" in out
    assert "--encoding gb18030" in out
    assert "codec can't decode" not in out


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (HEADER + "\nS0,A1,A2,5,CNY,2026-10-01\n", ["--rate", "-5"],
         "--rate must be 0 (as fast as answered) or more transfers per second, not -5.0"),
        (HEADER + "\nS0,A1,A2,5,CNY,2026-10-01\n", ["--rate", "nan"], "--rate must be 0"),
        ("", [], "the file is empty; a header row naming the columns is needed"),
        (HEADER + "\n", [], "has no rows, only a header: there is nothing to stream"),
        (HEADER + "\nS0,A1,A2,5,CNY,2026-10-01\n", ["--skip", "1"], "--skip 1 skips every row"),
        (HEADER + "\nS0,A1,A2,5,CNY,2026-10-01\n", ["--encoding", "latin-1"],
         "encoding 'latin-1' is not one of utf-8, utf-8-sig, gb18030, gbk, big5"),
    ],
)  # fmt: skip
def test_stream_refuses_what_it_cannot_send_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str, args: list[str], message: str
) -> None:
    monkeypatch.setenv("RELGRAPH_INGEST_KEY", "k")
    path = tmp_path / "t.csv"
    path.write_text(content, encoding="utf-8")
    code, out = _stream(str(path), *args)
    assert code == 2
    assert message in out


@pytest.mark.parametrize(
    "url", ["127.0.0.1:8000", "localhost:8000", "ftp://127.0.0.1", "http://", "http://h:99999"]
)
def test_a_server_address_without_its_scheme_is_refused_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    # Every send failed the same way ("Request URL is missing an 'http://' or 'https://'
    # protocol"), and stream resent it for a minute, saying "no answer", before giving up.
    monkeypatch.setenv("RELGRAPH_INGEST_KEY", "k")
    done = CliRunner().invoke(app, ["stream", str(_file(tmp_path, 1)), "--url", url])
    out = " ".join(done.output.split())
    assert done.exit_code == 2
    assert out == (
        "error: --url must be the server's address with its scheme, such as "
        f"http://127.0.0.1:8000, not '{url}'"
    )
