"""The embedded DuckDB store: atomic replacement, results, read-only opening, clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from relgraph.store.base import StoreError, TableNotFoundError
from relgraph.store.embedded import EmbeddedStore


def _customers(*ids: str) -> pa.Table:
    return pa.table({"customer_id": list(ids), "aum": [float(i) for i in range(len(ids))]})


def test_replace_tables_round_trip_and_meta(tmp_path: Path) -> None:
    with EmbeddedStore(tmp_path) as store:
        store.replace_tables({"customers": _customers("C1", "C2")}, {"fingerprint": "abc"})
        assert store.table_names() == ["customers"]
        assert store.read_table("customers").to_pydict() == {
            "customer_id": ["C1", "C2"],
            "aum": [0.0, 1.0],
        }
        assert store.read_frame("customers", ["aum"])["aum"].tolist() == [0.0, 1.0]
        assert store.meta() == {"fingerprint": "abc"}


def test_replace_drops_tables_and_results_of_the_previous_data(tmp_path: Path) -> None:
    with EmbeddedStore(tmp_path) as store:
        store.replace_tables({"customers": _customers("C1"), "family": pa.table({"x": [1]})}, {})
        store.write_results("households", pa.table({"household_id": ["H1"]}))
        store.replace_tables({"customers": _customers("C9")}, {"fingerprint": "new"})
        assert store.table_names() == ["customers"]
        assert store.result_names() == []


def test_failure_midway_leaves_previous_state(tmp_path: Path) -> None:
    with EmbeddedStore(tmp_path) as store:
        store.replace_tables({"customers": _customers("C1")}, {"fingerprint": "good"})
        # A value DuckDB cannot register fails the second table after the first was replaced.
        with pytest.raises(Exception):  # noqa: B017, PT011 - any error from the driver will do
            store.replace_tables(
                {"customers": _customers("C1", "C2", "C3"), "accounts": object()},
                {"fingerprint": "bad"},
            )
        assert store.read_table("customers").column("customer_id").to_pylist() == ["C1"]
        assert store.meta() == {"fingerprint": "good"}
    with EmbeddedStore(tmp_path, read_only=True) as reopened:
        assert reopened.read_table("customers").num_rows == 1


def test_results_round_trip(tmp_path: Path) -> None:
    with EmbeddedStore(tmp_path) as store:
        store.write_results("households", pa.table({"household_id": ["H1", "H2"]}))
        store.write_results("households", pa.table({"household_id": ["H3"]}))
        assert store.read_results("households").column(0).to_pylist() == ["H3"]


def test_unknown_table_and_bad_names_are_clear_errors(tmp_path: Path) -> None:
    with EmbeddedStore(tmp_path) as store:
        with pytest.raises(TableNotFoundError, match="no canonical table 'customers'"):
            store.read_table("customers")
        with pytest.raises(TableNotFoundError, match="no results table 'x'"):
            store.read_results("x")
        with pytest.raises(StoreError, match="invalid table or column name"):
            store.write_results('x"; DROP TABLE y; --', pa.table({"a": [1]}))


def test_read_only_needs_an_existing_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="run `relgraph load DIR` first"):
        EmbeddedStore(tmp_path / "nothing", read_only=True)


FULL_DISK = "No space left on device"


def _disk_full_at(
    monkeypatch: pytest.MonkeyPatch, statement: str, error: type[duckdb.Error], path: Path
) -> None:
    """Make ``statement`` fail as DuckDB fails it on a full disk (seen on a 20 MB tmpfs):
    a COMMIT whose write-ahead log cannot be written has already ended the transaction; a
    CHECKPOINT after the commit cannot write the file."""
    real = duckdb.DuckDBPyConnection.execute

    def execute(self: duckdb.DuckDBPyConnection, query: str, *args: Any) -> Any:
        if query == statement:
            if statement == "COMMIT":
                real(self, "ROLLBACK")
            raise error(
                f'Failed to {statement.lower()}: Could not write file "{path}": {FULL_DISK}'
            )
        return real(self, query, *args)

    monkeypatch.setattr(duckdb.DuckDBPyConnection, "execute", execute)


def _write(store: EmbeddedStore, what: str, rows: tuple[str, ...]) -> None:
    if what == "tables":
        store.replace_tables({"customers": _customers(*rows)}, {"fingerprint": "-".join(rows)})
    else:
        store.replace_results({"households": pa.table({"household_id": list(rows)})})


def _read(store: EmbeddedStore, what: str) -> list[str]:
    table = store.read_table("customers") if what == "tables" else store.read_results("households")
    return [str(v) for v in table.column(0).to_pylist()]


@pytest.mark.parametrize("what", ["tables", "results"])
def test_a_commit_the_full_disk_refuses_keeps_the_last_state_and_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, what: str
) -> None:
    # The failed COMMIT had already ended the transaction, so the ROLLBACK after it raised
    # "cannot rollback - no transaction is active": a traceback hiding the full disk.
    with EmbeddedStore(tmp_path) as store:
        _write(store, what, ("C1",))
        _disk_full_at(monkeypatch, "COMMIT", duckdb.TransactionException, store.path)
        with pytest.raises(StoreError) as raised:
            _write(store, what, ("C1", "C2"))
        monkeypatch.undo()
        assert str(raised.value) == (
            f"cannot write {store.path}: {FULL_DISK}; nothing of this run was kept: free disk "
            "space (rewriting the store takes about its size again) or fix the folder's "
            "permissions, then run it again"
        )
        assert _read(store, what) == ["C1"]
        _write(store, what, ("C3",))  # space freed: the same store takes the next write
        assert _read(store, what) == ["C3"]


@pytest.mark.parametrize("what", ["tables", "results"])
def test_a_checkpoint_the_full_disk_refuses_after_the_commit_keeps_the_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, what: str
) -> None:
    # The write was committed to the write-ahead log; raising made a load undo its report and
    # quarantine for a store that held the new load.
    with EmbeddedStore(tmp_path) as store:
        _write(store, what, ("C1",))
        _disk_full_at(monkeypatch, "CHECKPOINT", duckdb.FatalException, store.path)
        _write(store, what, ("C1", "C2"))
        monkeypatch.undo()
        assert "committed, but the write-ahead log could not be folded" in caplog.text
        assert _read(store, what) == ["C1", "C2"]
        _write(store, what, ("C3",))
    with EmbeddedStore(tmp_path, read_only=True) as reopened:
        assert _read(reopened, what) == ["C3"]


def test_a_commit_is_never_called_failed_when_the_store_cannot_be_opened_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with EmbeddedStore(tmp_path) as store:
        store.replace_tables({"customers": _customers("C1")}, {"fingerprint": "C1"})
        _disk_full_at(monkeypatch, "CHECKPOINT", duckdb.FatalException, store.path)

        def connect(path: str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
            raise duckdb.IOException(f'Could not write file "{path}": {FULL_DISK}')

        monkeypatch.setattr(duckdb, "connect", connect)
        store.replace_tables({"customers": _customers("C1", "C2")}, {"fingerprint": "C1-C2"})
        monkeypatch.undo()
    with EmbeddedStore(tmp_path, read_only=True) as reopened:
        assert reopened.meta() == {"fingerprint": "C1-C2"}
