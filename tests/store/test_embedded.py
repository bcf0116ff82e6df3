"""The embedded DuckDB store: atomic replacement, results, read-only opening, clear errors."""

from __future__ import annotations

from pathlib import Path

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
