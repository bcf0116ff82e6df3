"""Quarantine files: refused rows with their original values, line and reason.

Files are written to a staging folder while the load runs and swapped in only after
the store has committed, so ``quarantine/`` always describes the load the store holds.
"""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import duckdb

from relgraph.ingest.readers import LINE, ROW, RawTable
from relgraph.ingest.sql import count, ident, literal
from relgraph.ingest.validate import REASONS, checked_view

QUARANTINE_DIR = "quarantine"
REASON = "reason"
RAW_LINE = "raw_line"
"""For CSV lines that did not split into columns: the line as it was in the file."""


def staging_dir(data_dir: Path) -> Path:
    return data_dir / f".{QUARANTINE_DIR}-{os.getpid()}"


def write(con: duckdb.DuckDBPyConnection, raw: RawTable, folder: Path) -> None:
    """Write ``<folder>/<table>.csv`` with every refused row of ``raw``'s table, in file order.

    Columns: ``source_line``, ``reason``, the file's own columns as text, ``raw_line``.
    Nothing is written when no row was refused.
    """
    table = raw.file.table
    refused = count(
        con,
        f"SELECT count(*) FROM {checked_view(table)} WHERE len({REASONS}) > 0",  # noqa: S608 - internal names
    )
    if not refused and not raw.rejected:
        return
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{table}.csv"
    originals = ", ".join(f"r.{ident(c)}" for c in raw.header)
    if refused:
        _copy_refused(con, raw, originals, path)
    if raw.rejected:
        # Unparseable lines follow the parsed rows; their values live in raw_line.
        with path.open("a", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
            if not refused:
                writer.writerow([LINE, REASON, *raw.header, RAW_LINE])
            for rejected in raw.rejected:
                reason = f"malformed_line: {rejected.error}"
                writer.writerow([rejected.line, reason, *([""] * len(raw.header)), rejected.text])


def _copy_refused(
    con: duckdb.DuckDBPyConnection, raw: RawTable, originals: str, path: Path
) -> None:
    table = raw.file.table
    con.execute(
        f"COPY (SELECT r.{LINE}, array_to_string(c.{REASONS}, '; ') AS {REASON}, {originals}, "  # noqa: S608 - internal names, quoted identifiers
        f"CAST(NULL AS VARCHAR) AS {RAW_LINE} "
        f"FROM {raw.view} r JOIN {checked_view(table)} c USING ({ROW}) "
        f"WHERE len(c.{REASONS}) > 0 ORDER BY r.{ROW}) "
        f"TO {literal(str(path))} (HEADER, DELIMITER ',', QUOTE '\"')"
    )


def swap_in(staging: Path, data_dir: Path) -> None:
    """Make ``staging`` the quarantine folder of ``data_dir``, replacing the previous one."""
    target = data_dir / QUARANTINE_DIR
    old = data_dir / f".{QUARANTINE_DIR}-old-{os.getpid()}"
    staging.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
