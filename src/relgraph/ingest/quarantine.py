"""Quarantine files: refused rows with their original values, line and reason.

Files are written to a staging folder while the load runs and swapped in only after
the store has committed, so ``quarantine/`` always describes the load the store holds.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
from pathlib import Path
from typing import Final

import duckdb
import pyarrow as pa

from relgraph.ingest.readers import LINE, ROW, RawTable
from relgraph.ingest.sql import ident, literal
from relgraph.ingest.validate import REASONS, checked_view
from relgraph.record_rules import FORMULA_START

QUARANTINE_DIR = "quarantine"
REASON = "reason"
RAW_LINE = "raw_line"
"""The record exactly as it was in the file: its bytes as text when they are valid UTF-8
and would not run as a spreadsheet formula, else base64 (see ``raw_line_encoding``). Never
cut, never with ``?`` for a bad byte."""
RAW_LINE_ENCODING = "raw_line_encoding"
"""``utf-8`` when ``raw_line`` is the text itself, ``base64`` when it is the bytes in base64
(a line not valid UTF-8, as in a GBK file); empty when the bytes are unknown (Parquet)."""


_STARTS: Final = "[" + "".join(FORMULA_START) + "]"
_FORMULA: Final = re.compile(f"^(?:{_STARTS}|[+\\-](?![0-9.,]*$))", re.DOTALL)
"""A cell a spreadsheet would run (``=HYPERLINK(…)``, ``@SUM``, ``+cmd|…``; OWASP's CSV
injection): quarantine files are opened in spreadsheets. A signed number (``-12.5``) is
inert and kept as it is."""
_FORMULA_SQL: Final = "^" + _STARTS
_SIGNED_SQL: Final = "^[+-]"
_NUMBER_SQL: Final = "[+-][0-9.,]*"


def staging_dir(data_dir: Path) -> Path:
    return data_dir / f".{QUARANTINE_DIR}-{os.getpid()}"


def private_folder(folder: Path) -> None:
    """Make ``folder`` (and any missing parents) and let only its owner into it (0700).

    A quarantine file is the refused rows whole — names, id numbers, phones, addresses and
    the raw line — as sensitive as the store; the umask (0022: everyone may read) must not
    decide who reads it.
    """
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)


def raw_text(raw: bytes) -> tuple[str, str]:
    """(``raw_line``, ``raw_line_encoding``) for a record's original bytes: base64 when they
    are not UTF-8, or when the line would run as a spreadsheet formula."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    else:
        if not _FORMULA.match(text):
            return text, "utf-8"
    return base64.b64encode(raw).decode("ascii"), "base64"


def _inert(column: str) -> str:
    """SQL: the value of ``column``, a leading ``'`` added when a spreadsheet would run it."""
    formula = (
        f"regexp_matches({column}, {literal(_FORMULA_SQL)}) OR (regexp_matches({column}, "
        f"{literal(_SIGNED_SQL)}) AND NOT regexp_full_match({column}, {literal(_NUMBER_SQL)}))"
    )
    return f"CASE WHEN {formula} THEN '''' || {column} ELSE {column} END"


def write(con: duckdb.DuckDBPyConnection, raw: RawTable, folder: Path) -> None:
    """Write ``<folder>/<table>.csv`` with every refused row of ``raw``'s table, in file order.

    Columns: ``source_line``, ``reason``, the file's own columns as text, ``raw_line``,
    ``raw_line_encoding``. Lines that did not split into columns have only the line,
    the reason and the raw line. Nothing is written when no row was refused.
    """
    table = raw.file.table
    refused = [
        int(r[0])
        for r in con.execute(
            f"SELECT {ROW} FROM {checked_view(table)} WHERE len({REASONS}) > 0 ORDER BY {ROW}"  # noqa: S608 - internal names
        ).fetchall()
    ]
    if not refused and not raw.rejected:
        return
    private_folder(folder)
    path = folder / f"{table}.csv"
    originals = ", ".join(f"{_inert(f'r.{ident(c)}')} AS {ident(c)}" for c in raw.header)
    nulls = ", ".join(f"CAST(NULL AS VARCHAR) AS {ident(c)}" for c in raw.header)
    con.register("_q_raw", _raw_lines(raw, refused))
    con.register("_q_bad", _rejected(raw))
    try:
        con.execute(
            f"COPY (SELECT * EXCLUDE (_order) FROM ("  # noqa: S608 - internal names, quoted identifiers
            f"SELECT r.{LINE}, array_to_string(c.{REASONS}, '; ') AS {REASON}, {originals}, "
            f"q.{RAW_LINE}, q.{RAW_LINE_ENCODING}, r.{ROW} AS _order "
            f"FROM {raw.view} r JOIN {checked_view(table)} c USING ({ROW}) "
            f"LEFT JOIN _q_raw q ON q.{ROW} = r.{ROW} "
            f"WHERE len(c.{REASONS}) > 0 "
            f"UNION ALL SELECT b.{LINE}, b.{REASON}, {nulls}, b.{RAW_LINE}, "
            f"b.{RAW_LINE_ENCODING}, NULL AS _order FROM _q_bad b"
            f") ORDER BY {LINE}, _order) "
            f"TO {literal(str(path))} (HEADER, DELIMITER ',', QUOTE '\"')"
        )
        path.chmod(0o600)  # DuckDB creates it by the umask
    finally:
        con.unregister("_q_raw")
        con.unregister("_q_bad")


def _raw_lines(raw: RawTable, refused: list[int]) -> pa.Table:
    """``_row``, ``raw_line``, ``raw_line_encoding`` of the refused rows of a CSV file."""
    texts: list[str | None] = []
    kinds: list[str | None] = []
    if raw.spans is not None and refused:
        starts, ends = raw.spans
        with raw.file.path.open("rb") as handle:
            for row in refused:
                if row > len(starts):  # a journalled row (journal_merge): no line of the file
                    texts.append(None)
                    kinds.append(None)
                    continue
                handle.seek(int(starts[row - 1]))
                text, kind = raw_text(handle.read(int(ends[row - 1] - starts[row - 1])))
                texts.append(text)
                kinds.append(kind)
    else:
        texts = [None] * len(refused)
        kinds = [None] * len(refused)
    return pa.table(
        {
            ROW: pa.array(refused, pa.int64()),
            RAW_LINE: pa.array(texts, pa.string()),
            RAW_LINE_ENCODING: pa.array(kinds, pa.string()),
        }
    )


def _rejected(raw: RawTable) -> pa.Table:
    """Lines that did not split into columns: line, reason and their original bytes."""
    lines: list[int] = []
    reasons: list[str] = []
    texts: list[str] = []
    kinds: list[str] = []
    for rejected in raw.rejected:
        text, kind = raw_text(rejected.raw if rejected.raw is not None else rejected.text.encode())
        lines.append(rejected.line)
        reasons.append(f"malformed_line: {rejected.error}")
        texts.append(text)
        kinds.append(kind)
    return pa.table(
        {
            LINE: pa.array(lines, pa.int64()),
            REASON: pa.array(reasons, pa.string()),
            RAW_LINE: pa.array(texts, pa.string()),
            RAW_LINE_ENCODING: pa.array(kinds, pa.string()),
        }
    )


def swap_in(staging: Path, data_dir: Path, folder: str = QUARANTINE_DIR) -> None:
    """Make ``staging`` the folder ``folder`` (the quarantine folder unless named) of
    ``data_dir``, replacing the previous one."""
    target = data_dir / folder
    old = data_dir / f".{folder}-old-{os.getpid()}"
    private_folder(staging)  # a folder of an earlier release (0755) is replaced by this one
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
