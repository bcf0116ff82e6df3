"""Merging the journal's streamed records into the tables ``load`` reads.

Transfers and accounts sent to a running server (``POST /v1/transfers``,
``/v1/accounts``) are journalled there (:mod:`relgraph.journal`); the next load appends
them to the rows read from ``transfers`` and ``accounts`` — as text, like a file's rows,
so they pass the same checks, keys and quarantine. When the file holds a row with the same
key that is loaded (a bank's next export that includes them), the file's row wins and the
journalled copy is dropped, not counted twice (:func:`drop_journal_twins`); a file row
with that key that is quarantined (an unknown account, say) does not hide the journalled
record, which was acknowledged and must not vanish. Their ``source_line`` is empty: they
came from no line of a file. The table's report notes how many came from the journal.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import duckdb
import numpy as np
import pyarrow as pa

from relgraph import journal, model
from relgraph.config import source_zone
from relgraph.ingest.readers import LINE, ROW, RawTable
from relgraph.ingest.sql import count, ident
from relgraph.ingest.validate import REASONS, checked_view
from relgraph.record_rules import stored_day

KIND_OF: Final = {model.TRANSFERS.name: journal.TRANSFER, model.ACCOUNTS.name: journal.ACCOUNT}
"""The journal entry kind merged into each table."""
CHUNK: Final = 50_000
"""Journal records turned into text and handed to DuckDB at a time (~65 MB in Python)."""


def _text(column: model.Column, value: Any) -> str | None:
    """A journalled value as the text a file would hold (what the loader parses)."""
    if value is None:
        return None
    if column.dtype in ("timestamp", "date"):
        ms = int(value)
        if column.dtype == "date":
            # Releases before 2026-12-05 journalled an opening date sent in epoch ms as the
            # instant (Beijing's 00:30 is 16:30 UTC the day before): its day is the bank's.
            ms = stored_day(ms, source_zone())
        try:
            moment = datetime.fromtimestamp(ms / 1000, UTC)
        except (OverflowError, ValueError, OSError):
            # No calendar holds it (a release before 2026-12-04 journalled 2**63 ms or the
            # year 10000): the number as written, which the load quarantines with a reason.
            return str(value)
        if column.dtype == "date":
            return moment.date().isoformat()
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if column.dtype == "float":
        return repr(float(value))
    return str(value)


_FIRST_MS: Final = -62_135_596_800_000
"""0001-01-01T00:00:00Z, the first instant Python's calendar holds; :data:`_LAST_MS` the last."""
_LAST_MS: Final = 253_402_300_799_999


def _texts(column: model.Column, values: list[Any]) -> pa.Array:
    """:func:`_text` of each of ``values``; a timestamp column of whole numbers at once.

    A transfer's time took 4.6 of the 8.3 µs a journalled transfer cost here, one
    ``datetime`` each: a day at 200 transfers/s is 17 M of them. numpy writes the same text
    from the integer ms (and the exact millisecond where ``ms / 1000`` as a float lost it,
    after the year 2100).
    """
    if column.dtype != "timestamp" or not all(type(v) is int or v is None for v in values):
        return pa.array([_text(column, v) for v in values], pa.string())
    held = np.array([v is not None for v in values])
    try:
        ms = np.array([v if v is not None else 0 for v in values], np.int64)
    except OverflowError:  # past int64: no calendar holds it; as written, refused by the load
        return pa.array([_text(column, v) for v in values], pa.string())
    text = np.char.add(np.datetime_as_string(ms.astype("datetime64[ms]"), unit="ms"), "Z")
    out = text.astype(object)
    outside = (ms < _FIRST_MS) | (ms > _LAST_MS)
    out[outside] = ms[outside].astype(str)
    out[~held] = None
    return pa.array(out, pa.string())


def merge_journal(con: duckdb.DuckDBPyConnection, raw: RawTable, data_dir: Path) -> RawTable:
    """Append the journal's records of ``raw``'s table to ``raw_<table>``; returns ``raw``
    with its row count grown by the rows appended.

    The records go to DuckDB :data:`CHUNK` at a time: held whole as Python dicts they took
    about 1 KB an entry, 17 GB for a day of 200 transfers/s, more than a load has."""
    kind = KIND_OF.get(raw.file.table)
    if kind is None:
        return raw
    table = next(t for t in model.INPUT_TABLES if t.name == raw.file.table)
    columns = [c for c in table.columns if c.name in raw.header]
    names = ", ".join(ident(c.name) for c in columns)
    texts = ", ".join(f"{ident(c.name)} VARCHAR" for c in columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _journal ({texts}, _seq BIGINT)")
    try:
        entries, seq = journal.read(data_dir, [kind]), 0
        while chunk := [e.data for e in itertools.islice(entries, CHUNK)]:
            arrow = pa.table(
                {c.name: _texts(c, [r.get(c.name) for r in chunk]) for c in columns}
                | {"_seq": pa.array(range(seq, seq + len(chunk)), pa.int64())}
            )
            con.register("_journal_chunk", arrow)
            try:
                con.execute(f"INSERT INTO _journal SELECT {names}, _seq FROM _journal_chunk")  # noqa: S608 - internal names
            finally:
                con.unregister("_journal_chunk")
            seq += len(chunk)
        if not seq:
            return raw
        key = table.key[0]
        before = count(con, f"SELECT count(*) FROM {raw.view}")  # noqa: S608 - internal names
        con.execute(
            f"INSERT INTO {raw.view} ({names}, {ROW}, {LINE}) "  # noqa: S608 - internal names
            f"SELECT {names}, {raw.rows} + row_number() OVER (ORDER BY _seq), NULL FROM ("
            f"SELECT * FROM _journal j "
            f"QUALIFY row_number() OVER (PARTITION BY j.{ident(key)} ORDER BY _seq) = 1) "
            f"ORDER BY _seq"
        )
        after = count(con, f"SELECT count(*) FROM {raw.view}")  # noqa: S608 - internal names
    finally:
        con.execute("DROP TABLE IF EXISTS _journal")
    added = after - before
    note = (f"{added:,} rows from the server's journal (sent to /v1/{table.name} since the "
            "last load) follow the file's rows")  # fmt: skip
    return replace(raw, rows=raw.rows + added, notes=(*raw.notes, note))


def drop_journal_twins(con: duckdb.DuckDBPyConnection, raw: RawTable) -> RawTable:
    """Drop from ``checked_<table>`` the journalled rows whose only fault is a key a loaded
    file row holds (that row wins); returns ``raw`` with its row count cut by them."""
    if raw.file.table not in KIND_OF:
        return raw
    checked = checked_view(raw.file.table)
    twin = (f"{LINE} IS NULL AND len({REASONS}) = 1 "
            f"AND starts_with({REASONS}[1], 'duplicate_key:')")  # fmt: skip
    dropped = count(con, f"SELECT count(*) FROM {checked} WHERE {twin}")  # noqa: S608 - internal names
    if not dropped:
        return raw
    con.execute(f"DELETE FROM {checked} WHERE {twin}")  # noqa: S608 - internal names
    note = f"{dropped:,} of the journal's rows were in the file already: the file's rows are loaded"
    return replace(raw, rows=raw.rows - dropped, notes=(*raw.notes, note))
