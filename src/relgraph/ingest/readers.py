"""Finding the input file of each table and reading it, as text, into DuckDB.

Every value is read as text so that a malformed value becomes a quarantined row
with a reason instead of a failed load: typing happens in validation, where the
original text is still at hand. CSV lines that do not even split into the header's
columns (too many or too few fields, a broken quote) are kept as well, as rejected
lines with DuckDB's own error message.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from relgraph import model
from relgraph.ingest.errors import IngestError
from relgraph.ingest.sql import count, ident, literal

FileFormat = Literal["csv", "parquet"]
SUFFIXES: Final[dict[str, FileFormat]] = {".csv": "csv", ".parquet": "parquet"}
ROW: Final = "_row"
"""Column added to every raw table: the 1-based position of the record among the file's records."""
LINE: Final = "source_line"
"""Where the row came from: the CSV file line (the header is line 1), or the Parquet row + 1."""
# DuckDB numbers rows in scan order (``preserve_insertion_order`` is on, see ``sql.connect``).
_NUMBERED: Final = f"row_number() OVER () AS {ROW}, row_number() OVER () + 1 AS {LINE}"


@dataclass(frozen=True)
class InputFile:
    """One table's input file."""

    table: str
    path: Path
    format: FileFormat


@dataclass(frozen=True)
class RejectedLine:
    """A CSV line that could not be split into the header's columns."""

    line: int
    text: str
    error: str


@dataclass(frozen=True)
class RawTable:
    """A table read as text into the DuckDB connection, under the view ``raw_<table>``.

    Attributes
    ----------
    header : tuple of str
        Every column of the file, in the file's order (all kept, for quarantine).
    columns : tuple of str
        The model's columns present in the file, in the model's order.
    ignored : tuple of str
        Columns of the file the model does not know (not loaded, named in the report).
    rows : int
        Records read into ``raw_<table>`` (rejected lines not included).
    rejected : tuple of RejectedLine
        CSV lines that did not parse.
    """

    file: InputFile
    header: tuple[str, ...]
    columns: tuple[str, ...]
    ignored: tuple[str, ...]
    rows: int
    rejected: tuple[RejectedLine, ...]

    @property
    def view(self) -> str:
        return raw_view(self.file.table)


def raw_view(table: str) -> str:
    """Name of the DuckDB table holding ``table`` as read."""
    return f"raw_{table}"


def find_inputs(source: Path) -> dict[str, InputFile]:
    """The input file of every table present in ``source``.

    Parameters
    ----------
    source : Path
        A directory holding ``<table>.csv`` or ``<table>.parquet`` files.

    Returns
    -------
    dict of str to InputFile
        Keyed by table name, in the model's dependency order; optional tables
        without a file are absent.

    Raises
    ------
    IngestError
        When ``source`` is not a directory, a required table has no file, or a
        table has both a CSV and a Parquet file.
    """
    if not source.is_dir():
        raise IngestError(f"{source} is not a directory")
    found: dict[str, InputFile] = {}
    missing: list[str] = []
    for table in model.INPUT_TABLES:
        candidates = [
            InputFile(table.name, source / f"{table.name}{suffix}", fmt)
            for suffix, fmt in SUFFIXES.items()
            if (source / f"{table.name}{suffix}").is_file()
        ]
        if len(candidates) > 1:
            raise IngestError(
                f"table {table.name!r} is given twice ({', '.join(c.path.name for c in candidates)}); "
                "keep one file per table"
            )
        if candidates:
            found[table.name] = candidates[0]
        elif table.required:
            missing.append(table.name)
    if missing:
        raise IngestError(
            f"required table(s) missing from {source}: {', '.join(missing)} "
            f"(expected {' or '.join(f'<table>{s}' for s in SUFFIXES)})"
        )
    return found


def fingerprint(files: Sequence[InputFile], salt: str) -> str:
    """SHA-256 over ``salt`` and every file's table name, format and bytes.

    Two loads with the same fingerprint read identical input under identical rules,
    so the second one has nothing to change.
    """
    digest = hashlib.sha256(salt.encode())
    for f in sorted(files, key=lambda f: f.table):
        digest.update(f"\0{f.table}\0{f.format}\0".encode())
        with f.path.open("rb") as handle:
            while block := handle.read(1 << 22):
                digest.update(block)
    return digest.hexdigest()


def read_raw(con: duckdb.DuckDBPyConnection, file: InputFile) -> RawTable:
    """Read ``file`` into ``raw_<table>`` with every model column as text plus ``_row`` and line.

    Raises
    ------
    IngestError
        When the file cannot be read at all, has repeated column names, or lacks a
        required column.
    """
    table = model.TABLES[file.table]
    header = _csv_header(file.path) if file.format == "csv" else _parquet_header(file.path)
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        raise IngestError(f"{file.path}: column(s) {', '.join(duplicated)} appear more than once")
    reserved = sorted({ROW, LINE} & set(header))
    if reserved:
        raise IngestError(f"{file.path}: column name(s) {', '.join(reserved)} are reserved")
    missing = [c for c in table.required_columns if c not in header]
    if missing:
        raise IngestError(
            f"{file.path}: table {table.name!r} lacks required column(s) {', '.join(missing)}"
        )
    present = tuple(c for c in table.column_names if c in header)
    ignored = tuple(c for c in header if c not in table.column_names)
    try:
        if file.format == "csv":
            rejected = _read_csv(con, file, header)
        else:
            rejected = ()
            _read_parquet(con, file, header)
    except duckdb.Error as exc:
        raise IngestError(f"{file.path}: cannot be read: {exc}") from exc
    rows = _count(con, raw_view(file.table))
    _number_lines(con, file.table, rows, rejected)
    return RawTable(file, tuple(header), present, ignored, rows, rejected)


def _csv_header(path: Path) -> list[str]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            first = next(csv.reader(handle), None)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise IngestError(f"{path}: cannot read the header row: {exc}") from exc
    if not first:
        raise IngestError(f"{path}: the file is empty; a header row naming the columns is needed")
    return [c.strip() for c in first]


def _parquet_header(path: Path) -> list[str]:
    try:
        return list(pq.read_schema(path).names)
    except (OSError, pa.ArrowException) as exc:
        raise IngestError(f"{path}: not a readable Parquet file: {exc}") from exc


def _read_csv(
    con: duckdb.DuckDBPyConnection,
    file: InputFile,
    header: list[str],
) -> tuple[RejectedLine, ...]:
    # Explicit columns, all text, no sniffing: the header decides the layout, and a
    # value that looks numeric in the first rows cannot make a later one unreadable.
    columns = "{" + ", ".join(f"{literal(c)}: 'VARCHAR'" for c in header) + "}"
    scan = (
        f"read_csv({literal(str(file.path))}, header = true, auto_detect = false, "
        f"columns = {columns}, delim = ',', quote = '\"', escape = '\"', "
        "store_rejects = true, rejects_scan = 'rejects_scan', rejects_table = 'rejects')"
    )
    select = ", ".join(ident(c) for c in header)
    con.execute("DROP TABLE IF EXISTS rejects")
    con.execute("DROP TABLE IF EXISTS rejects_scan")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {raw_view(file.table)} AS "  # noqa: S608 - identifiers quoted, path a literal
        f"SELECT {_NUMBERED}, {select} FROM {scan}"
    )
    found = con.execute(
        "SELECT line, csv_line, error_type, error_message FROM rejects ORDER BY line"
    ).fetchall()
    # Several errors on one line are one rejected line.
    by_line: dict[int, RejectedLine] = {}
    for line, text, kind, message in found:
        if int(line) not in by_line:
            by_line[int(line)] = RejectedLine(int(line), str(text), f"{kind}: {message}")
    return tuple(by_line.values())


def _read_parquet(con: duckdb.DuckDBPyConnection, file: InputFile, header: list[str]) -> None:
    select = ", ".join(f"CAST({ident(c)} AS VARCHAR) AS {ident(c)}" for c in header)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {raw_view(file.table)} AS "  # noqa: S608 - identifiers quoted, path a literal
        f"SELECT {_NUMBERED}, {select} "
        f"FROM read_parquet({literal(str(file.path))})"
    )


def _count(con: duckdb.DuckDBPyConnection, view: str) -> int:
    return count(con, f"SELECT count(*) FROM {view}")  # noqa: S608 - internal name


def _number_lines(
    con: duckdb.DuckDBPyConnection, table: str, rows: int, rejected: tuple[RejectedLine, ...]
) -> None:
    """Correct each record's file line for the rejected lines before it.

    Records are numbered in file order, one record a line and the header on line 1;
    the lines DuckDB rejected are the gaps.
    """
    if not rejected:
        return
    lines = np.arange(2, rows + len(rejected) + 2, dtype=np.int64)
    lines = np.setdiff1d(lines, np.array([r.line for r in rejected], dtype=np.int64))
    numbered = pa.table({ROW: np.arange(1, rows + 1, dtype=np.int64), LINE: lines[:rows]})
    con.register("_lines", numbered)
    view = raw_view(table)
    con.execute(
        f"UPDATE {view} SET {LINE} = l.{LINE} FROM _lines l WHERE {view}.{ROW} = l.{ROW}"  # noqa: S608 - internal names
    )
    con.unregister("_lines")
