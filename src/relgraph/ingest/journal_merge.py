"""Merging the journal's streamed records into the tables ``load`` reads.

Transfers and accounts sent to a running server (``POST /v1/transfers``,
``/v1/accounts``) are journalled there (:mod:`relgraph.journal`); the next load appends
them to the rows read from ``transfers`` and ``accounts`` — as text, like a file's rows,
so they pass the same checks, keys and quarantine — unless the file already holds a row
with the same key (a bank's next export that includes them: the file's row wins, and the
journalled copy is not counted twice). Their ``source_line`` is empty: they came from no
line of a file.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import duckdb
import pyarrow as pa

from relgraph import journal, model
from relgraph.ingest.readers import LINE, ROW, RawTable
from relgraph.ingest.sql import count, ident

KIND_OF: Final = {model.TRANSFERS.name: journal.TRANSFER, model.ACCOUNTS.name: journal.ACCOUNT}
"""The journal entry kind merged into each table."""


def _text(column: model.Column, value: Any) -> str | None:
    """A journalled value as the text a file would hold (what the loader parses)."""
    if value is None:
        return None
    if column.dtype == "timestamp":
        moment = datetime.fromtimestamp(int(value) / 1000, UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if column.dtype == "date":
        return datetime.fromtimestamp(int(value) / 1000, UTC).date().isoformat()
    if column.dtype == "float":
        return repr(float(value))
    return str(value)


def merge_journal(con: duckdb.DuckDBPyConnection, raw: RawTable, data_dir: Path) -> RawTable:
    """Append the journal's records of ``raw``'s table to ``raw_<table>``; returns ``raw``
    with its row count grown by the rows appended."""
    kind = KIND_OF.get(raw.file.table)
    if kind is None:
        return raw
    table = next(t for t in model.INPUT_TABLES if t.name == raw.file.table)
    records = [e.data for e in journal.read(data_dir, [kind])]
    if not records:
        return raw
    columns = [c for c in table.columns if c.name in raw.header]
    key = table.key[0]
    arrow = pa.table(
        {c.name: pa.array([_text(c, r.get(c.name)) for r in records], pa.string())
         for c in columns}
        | {"_seq": pa.array(range(len(records)), pa.int64())}
    )  # fmt: skip
    names = ", ".join(ident(c.name) for c in columns)
    con.register("_journal", arrow)
    try:
        before = count(con, f"SELECT count(*) FROM {raw.view}")  # noqa: S608 - internal names
        con.execute(
            f"INSERT INTO {raw.view} ({names}, {ROW}, {LINE}) "  # noqa: S608 - internal names
            f"SELECT {names}, {raw.rows} + row_number() OVER (ORDER BY _seq), NULL FROM ("
            f"SELECT * FROM _journal j WHERE NOT EXISTS (SELECT 1 FROM {raw.view} r "
            f"WHERE r.{ident(key)} = j.{ident(key)}) "
            f"QUALIFY row_number() OVER (PARTITION BY j.{ident(key)} ORDER BY _seq) = 1) "
            f"ORDER BY _seq"
        )
        after = count(con, f"SELECT count(*) FROM {raw.view}")  # noqa: S608 - internal names
    finally:
        con.unregister("_journal")
    return replace(raw, rows=raw.rows + (after - before))
