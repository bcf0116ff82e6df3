"""A column a file does not hold, or a file of no rows, is typed as a null of the column's
type without its rules: the typed table is the one the rules would have made."""

from __future__ import annotations

from pathlib import Path

import pytest

from relgraph import model
from relgraph.ingest.discovery import InputFile
from relgraph.ingest.readers import read_raw
from relgraph.ingest.sql import connect
from relgraph.ingest.validate import type_rows, typed_view

from .conftest import load, read_quarantine, write_bank, write_csv


def _typed(
    folder: Path, table: model.Table, columns: list[str], rows: int
) -> list[tuple[str, str]]:
    """(name, DuckDB type) of each column of ``typed_<table>`` for a CSV of ``columns`` and
    ``rows`` rows of ``7``."""
    path = folder / f"{table.name}.csv"
    write_csv(path, [dict.fromkeys(columns, "7") for _ in range(rows)], columns)
    con = connect()
    type_rows(con, read_raw(con, InputFile(table.name, path, "csv"), scratch=folder))
    return [
        (str(r[0]), str(r[1])) for r in con.execute(f"DESCRIBE {typed_view(table.name)}").fetchall()
    ]


@pytest.mark.parametrize("table", model.INPUT_TABLES, ids=lambda t: t.name)
def test_the_typed_table_has_one_shape_whichever_columns_and_rows_the_file_holds(
    tmp_path: Path, table: model.Table
) -> None:
    every = list(table.column_names)
    required = [c.name for c in table.columns if c.required]
    whole = _typed(tmp_path / "whole", table, every, rows=2)
    assert _typed(tmp_path / "required", table, required, rows=2) == whole
    assert _typed(tmp_path / "empty", table, every, rows=0) == whole
    assert _typed(tmp_path / "header", table, required, rows=0) == whole


def test_a_missing_required_column_is_still_refused_and_an_absent_one_loads_as_null(
    tmp_path: Path,
) -> None:
    bank = write_bank(tmp_path / "bank", {
        "customers": [
            {"customer_id": "C1", "source_system": "core", "name": "", "id_number": "x"},
            {"customer_id": "C2", "source_system": "core", "name": "王芳", "id_number": "y"},
        ],
        "accounts": [{"account_id": "A1", "holder_id": "C2", "holder_kind": "customer",
                      "product": "deposit"}],
    })  # fmt: skip
    report = load(bank, tmp_path / "data")
    assert {t.table: t.loaded for t in report.tables}["customers"] == 1
    (refused,) = read_quarantine(tmp_path / "data", "customers")
    assert refused["reason"] == "missing_required: name is empty"
