"""A disk that fills up during ``relgraph load`` or ``analyze`` (found on a 20 MB tmpfs): the
store, report and quarantine stay the last good load's, or the next load finishes what the
commit started; the user gets one line saying what happened and what to do; nothing is left
behind. The full disk is simulated where the write fails, as DuckDB and the OS fail it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from typer.testing import CliRunner, Result

from relgraph.cli import app
from relgraph.ingest import person_ids, read_report
from relgraph.store.embedded import EmbeddedStore
from tests.cli_lines import said

from .conftest import bank_tables, write_bank

runner = CliRunner()
FULL_DISK = "No space left on device"


@pytest.fixture
def banks(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A good bank loaded into ``data``, and a changed one whose load quarantines a row."""
    good = write_bank(tmp_path / "good", bank_tables())
    tables = bank_tables()
    tables["accounts"].pop()  # A3 gone: T2 is quarantined (unknown_foreign_key)
    changed = write_bank(tmp_path / "changed", tables)
    data = tmp_path / "data"
    assert _run("load", good, data).exit_code == 0
    return good, changed, data


def _run(command: str, source: Path | None, data: Path) -> Result:
    args = [command] + ([str(source)] if source is not None else []) + ["--data-dir", str(data)]
    return runner.invoke(app, args)


def _error_line(result: Result) -> str:
    """The one error line; no traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.stderr
    lines = said(result.stderr)
    assert len(lines) == 1, result.stderr
    return " ".join(lines[0].split())


def _state(data: Path) -> tuple[dict[str, pa.Table], dict[str, str], bytes, list[str]]:
    with EmbeddedStore(data, read_only=True) as store:
        tables = {name: store.read_table(name) for name in store.table_names()}
        tables |= {f"results.{name}": store.read_results(name) for name in store.result_names()}
        meta = store.meta()
    quarantined = sorted(p.name for p in (data / "quarantine").iterdir())
    return tables, meta, (data / "load-report.json").read_bytes(), quarantined


def _left_behind(data: Path) -> list[str]:
    """What a stopped load must not leave: staging, pending records, temp files."""
    return sorted(p.name for p in data.iterdir() if p.name.startswith(".") or ".tmp" in p.name) + [
        p.name for p in data.glob("relgraph.duckdb.wal") if p.stat().st_size
    ]


def _fail_statement(
    monkeypatch: pytest.MonkeyPatch, test: Any, error: Exception, *, then: Any = None
) -> None:
    """Every DuckDB statement ``test`` accepts raises ``error``, as on a full disk."""
    real = duckdb.DuckDBPyConnection.execute

    def execute(self: duckdb.DuckDBPyConnection, query: str, *args: Any) -> Any:
        if test(query):
            if then is not None:
                then(self, real)
            raise error
        return real(self, query, *args)

    monkeypatch.setattr(duckdb.DuckDBPyConnection, "execute", execute)


def _full_at_commit(monkeypatch: pytest.MonkeyPatch, store: Path) -> None:
    # DuckDB's own words on a full tmpfs; the failed COMMIT has ended the transaction.
    error = duckdb.TransactionException(
        f'TransactionContext Error: Failed to commit: Could not write file "{store}.wal": '
        f"{FULL_DISK}"
    )
    _fail_statement(
        monkeypatch,
        lambda q: q == "COMMIT",
        error,
        then=lambda con, real: real(con, "ROLLBACK"),
    )


def _unwritten(store: Path) -> str:
    return (
        f"cannot write {store}: {FULL_DISK}; nothing of this run was kept: free disk space "
        "(rewriting the store takes about its size again) or fix the folder's permissions, "
        "then run it again"
    )


def test_a_load_whose_commit_the_disk_refuses_keeps_the_last_good_load(
    banks: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Was: a traceback ending in "cannot rollback - no transaction is active".
    _, changed, data = banks
    before = _state(data)
    store = data / "relgraph.duckdb"
    _full_at_commit(monkeypatch, store)
    line = _error_line(_run("load", changed, data))
    monkeypatch.undo()
    assert line == f"error: load stopped; the store keeps its last good load: {_unwritten(store)}"
    assert _state(data) == before
    assert _left_behind(data) == []
    assert _run("load", changed, data).exit_code == 0  # space freed: the load goes through
    report = read_report(data)
    assert report is not None
    assert report.quarantined == 1


def test_a_full_disk_while_quarantine_is_written_blames_the_disk_not_the_input(
    banks: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Was: "load failed while processing the input: IO Error: Async write failed … {JSON}".
    _, changed, data = banks
    before = _state(data)
    error = duckdb.IOException(
        'IO Error: Async write failed for range [offset=95, size=123]: {"exception_type":"IO",'
        f'"exception_message":"Could not write file \\"{data}/.quarantine-1/transfers.csv\\": '
        f'{FULL_DISK}","errno":"28"}}'
    )
    _fail_statement(monkeypatch, lambda q: q.startswith("COPY"), error)
    line = _error_line(_run("load", changed, data))
    monkeypatch.undo()
    assert line == (
        f"error: load stopped, nothing written: cannot write in {data}: {FULL_DISK}; free disk "
        "space there (the store, quarantine and report of the last good load are as they "
        "were), then load again"
    )
    assert _state(data) == before
    assert _left_behind(data) == []


@pytest.fixture
def fsync_full(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bool]]:
    """``os.fsync`` fails with ENOSPC while ``full["now"]`` is set."""
    real = os.fsync
    full = {"now": False}

    def fsync(fd: int) -> None:
        if full["now"]:
            raise OSError(28, FULL_DISK)
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    yield full
    full["now"] = False


def test_a_load_whose_pending_record_the_disk_refuses_writes_nothing(
    banks: tuple[Path, Path, Path], fsync_full: dict[str, bool]
) -> None:
    # Was: a traceback, and the record's temp file left in the data directory.
    _, changed, data = banks
    before = _state(data)
    fsync_full["now"] = True
    line = _error_line(_run("load", changed, data))
    fsync_full["now"] = False
    assert line.startswith(f"error: load stopped, nothing written: cannot write in {data}: ")
    assert _state(data) == before
    assert _left_behind(data) == []


def test_a_disk_that_fills_after_the_commit_leaves_the_load_for_the_next_to_finish(
    banks: tuple[Path, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    fsync_full: dict[str, bool],
) -> None:
    # The commit reached the write-ahead log, then the CHECKPOINT and the report found the
    # disk full. Was: a traceback; the staged quarantine and the pending record deleted, so
    # the store held the new load while report and quarantine described the old one.
    _, changed, data = banks

    def fill(con: duckdb.DuckDBPyConnection, real: Any) -> None:
        fsync_full["now"] = True

    store = data / "relgraph.duckdb"
    checkpoint = duckdb.FatalException(
        "FATAL Error: Failed to create checkpoint because of error: Could not write file "
        f'"{store}": {FULL_DISK}'
    )
    _fail_statement(monkeypatch, lambda q: q == "CHECKPOINT", checkpoint, then=fill)
    result = _run("load", changed, data)
    fsync_full["now"] = False
    monkeypatch.undo()
    assert _error_line(result) == (
        f"error: the store holds the load of {changed}, but its quarantine and report could "
        f"not be written in {data}: {FULL_DISK}; free disk space there and run `relgraph "
        "load` again to finish them (nothing is loaded twice)"
    )
    with EmbeddedStore(data, read_only=True) as reopened:
        assert reopened.meta()["source"] == str(changed)
        assert reopened.row_count("transfers") == 1
    assert not list(data.glob("load-report.tmp*"))
    (pending,) = data.glob(".load-pending-*.json")
    assert _run("stats", None, data).exit_code == 0

    # The CLI ran in this process; the next load finishes only a load whose process is gone.
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    pending.rename(data / f".load-pending-{gone.pid}.json")

    again = _run("load", changed, data)
    assert again.exit_code == 0, again.output
    assert "unchanged since the last load" in " ".join(again.output.split())
    report = read_report(data)
    assert report is not None
    assert report.source == str(changed)
    assert report.quarantined == 1
    assert [p.name for p in (data / "quarantine").iterdir()] == ["transfers.csv"]
    assert _left_behind(data) == []


def test_an_analyze_whose_commit_the_disk_refuses_keeps_the_last_results(
    banks: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, data = banks
    assert _run("analyze", None, data).exit_code == 0
    before = _state(data)
    store = data / "relgraph.duckdb"
    _full_at_commit(monkeypatch, store)
    line = _error_line(_run("analyze", None, data))
    monkeypatch.undo()
    assert line == f"error: analyze stopped: {_unwritten(store)}"
    assert _state(data) == before


def test_a_person_id_map_the_disk_refuses_is_not_left_half_written(
    tmp_path: Path, fsync_full: dict[str, bool]
) -> None:
    old = pa.table({"customer_id": ["C1", "C2"], "person_id": ["P1", "P2"]})
    new = pa.table({"customer_id": ["C1", "C2"], "person_id": ["P9", "P2"]})
    fsync_full["now"] = True
    with pytest.raises(OSError, match=FULL_DISK):
        person_ids.stage_id_map(tmp_path, old, new, "20261205T100000Z")
    assert list(tmp_path.iterdir()) == []


def test_a_first_load_on_a_full_disk_leaves_no_empty_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Was: "cannot open …: IO Error: …. Another relgraph process may be writing it", and an
    # empty relgraph.duckdb left for the next commands to find.
    bank = write_bank(tmp_path / "bank", bank_tables())
    data = tmp_path / "data"
    store = data / "relgraph.duckdb"

    def connect(path: str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        Path(path).touch()  # DuckDB creates the file, then cannot write its header
        raise duckdb.IOException(f'IO Error: Could not write file "{path}": {FULL_DISK}')

    monkeypatch.setattr(duckdb, "connect", connect)
    line = _error_line(_run("load", bank, data))
    monkeypatch.undo()
    assert line == f"error: {_unwritten(store)}"
    assert not store.exists()

    _full_at_commit(monkeypatch, store)  # the store opened, then the commit found no space
    line = _error_line(_run("load", bank, data))
    monkeypatch.undo()
    assert line == f"error: load stopped, nothing written: {_unwritten(store)}"
    assert not list(data.glob("relgraph.duckdb*"))
    assert not (data / "load-report.json").exists()
    assert _run("load", bank, data).exit_code == 0


def test_a_linkage_model_the_disk_refuses_is_not_left_half_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from relgraph.ingest import durable, linkage
    from relgraph.ingest.linkage_training import LinkerInput

    monkeypatch.setattr(linkage, "MIN_TRAINING_RECORDS", 0)
    monkeypatch.setattr(linkage, "_train", lambda source, by_key: {"trained": True})

    def fsync(fd: int) -> None:
        # The model's text is in the temp file's buffers; the disk refuses to keep it.
        raise OSError(28, FULL_DISK)

    monkeypatch.setattr(durable.os, "fsync", fsync)
    source = LinkerInput(pd.DataFrame({"unique_id": [1]}))
    with pytest.raises(OSError, match=FULL_DISK):
        linkage._model(source, tmp_path, retrain=False, by_key=np.arange(1))
    assert list(tmp_path.iterdir()) == []
