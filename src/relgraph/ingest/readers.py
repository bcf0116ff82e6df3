"""Reading each table's input file, as text, into DuckDB (which file: :mod:`.discovery`).

Every value is read as text so that a malformed value becomes a quarantined row
with a reason instead of a failed load: typing happens in validation, where the
original text is still at hand. CSV lines that do not even split into the header's
columns (too many or too few fields, a broken quote) are kept as well, as rejected
lines with DuckDB's own error message.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from relgraph import model
from relgraph.ingest.discovery import (
    SUFFIXES,
    FileFormat,
    InputFile,
    Inputs,
    ReadOptions,
    discover,
    find_inputs,
    fingerprint,
)
from relgraph.ingest.errors import IngestError
from relgraph.ingest.header_lines import check_delimiter, repeated_headers
from relgraph.ingest.mapping import PERCENT, PERCENT_NUMBER, UNITS, compact_width
from relgraph.ingest.normalise import ascii_sql
from relgraph.ingest.parquet_text import parquet_header, parquet_text
from relgraph.ingest.records import (
    Int64s,
    Records,
    decoding_error,
    evened_copy,
    first_bad_byte,
    python_codec,
    read_span,
    scan,
    undecodable,
)
from relgraph.ingest.sql import count, ident, literal
from relgraph.record_rules import NUMBER_PATTERN

__all__ = [
    "LINE",
    "ROW",
    "SUFFIXES",
    "FileFormat",
    "InputFile",
    "Inputs",
    "RawTable",
    "ReadOptions",
    "RejectedLine",
    "discover",
    "find_inputs",
    "fingerprint",
    "raw_view",
    "read_raw",
]

ROW: Final = "_row"
"""Column added to every raw table: the 1-based position of the record among the file's records."""
LINE: Final = "source_line"
"""Where the row came from: the physical line of the CSV file the record starts on (the header
is line 1; quoted newlines and blank lines count), or the Parquet row + 1."""
# DuckDB numbers rows in scan order (``preserve_insertion_order`` is on, see ``sql.connect``).
_NUMBERED: Final = f"row_number() OVER () AS {ROW}, row_number() OVER () + 1 AS {LINE}"
_MAX_BAD_ENCODING: Final = 0.01
"""Above this share of lines not valid in the file's encoding, the encoding is wrong: the
load stops naming the first such line instead of quarantining most of the file."""


@dataclass(frozen=True)
class RejectedLine:
    """A CSV line that could not be split into the header's columns."""

    line: int
    text: str
    error: str
    raw: bytes | None = None
    """The record's bytes exactly as in the file (None when they could not be located)."""


@dataclass(frozen=True, eq=False)
class RawTable:
    """A table read as text into the DuckDB connection, under the view ``raw_<table>``.

    Attributes
    ----------
    header : tuple of str
        Every column of the raw view but ``_row`` and the line, in the file's order (all
        kept, for quarantine): the file's own names, or the model's where the mapping
        file renames a column, then the mapping's constant columns.
    columns : tuple of str
        The model's columns present in the file, in the model's order.
    ignored : tuple of str
        Columns of the file the model does not know (not loaded, named in the report).
    rows : int
        Records read into ``raw_<table>`` (rejected lines not included).
    rejected : tuple of RejectedLine
        CSV lines that did not parse.
    spans : tuple of two int64 arrays, or None
        Byte span (start, end) in ``file.path`` of each record of ``raw_<table>``, indexed
        by ``_row - 1``: quarantine copies a refused record's original bytes from there.
    header_rows : tuple of int
        ``_row`` of each record that repeats the header (extracts joined into one file):
        quarantined as ``repeated_header``.
    """

    file: InputFile
    header: tuple[str, ...]
    columns: tuple[str, ...]
    ignored: tuple[str, ...]
    rows: int
    rejected: tuple[RejectedLine, ...]
    spans: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None
    header_rows: tuple[int, ...] = ()
    notes: tuple[str, ...] = ()
    """Findings on the file as a whole (``TableReport.notes``)."""

    @property
    def view(self) -> str:
        return raw_view(self.file.table)

    @property
    def source_systems(self) -> tuple[str, ...] | None:
        return self.file.source_systems


def raw_view(table: str) -> str:
    """Name of the DuckDB table holding ``table`` as read."""
    return f"raw_{table}"


def read_raw(
    con: duckdb.DuckDBPyConnection, file: InputFile, scratch: Path | None = None
) -> RawTable:
    """Read ``file`` into ``raw_<table>`` with every model column as text plus ``_row`` and line.

    A file not in UTF-8 is first transcoded, in chunks, to a temporary file in ``scratch``
    (the system's temporary folder when None), removed once DuckDB has read it: DuckDB
    reads GB18030, GBK and Big5 only through its ``encodings`` extension, which is
    downloaded on first use, and a bank's servers often have no way out. The
    mapping file's renames, constants, value maps and formats are applied on the way in.

    Raises
    ------
    IngestError
        When the file cannot be read at all, is not in its encoding, has repeated column
        names, a column matching a model column only by case, or lacks a required column.
    """
    table = model.TABLES[file.table]
    records: Records | None = None
    transcoded: Path | None = None
    if file.format == "csv":
        if python_codec(file.encoding) != "utf-8":
            transcoded = _scratch_file(scratch, file.table)
        try:
            records = scan(file.path, file.encoding, transcoded, file.delimiter)
            if records.uneven:
                evened = _scratch_file(scratch, file.table)
                evened_copy(records.data, evened)
                _remove(transcoded)
                transcoded = evened
                records = replace(records, data=evened)
        except BaseException:
            _remove(transcoded)
            raise
        header = records.header
    else:
        header = parquet_header(file.path)
    try:
        return _read(con, file, table, header, records)
    finally:
        _remove(transcoded)


def _scratch_file(scratch: Path | None, table: str) -> Path:
    """A new temporary file for a copy DuckDB reads instead of the input."""
    if scratch is not None:
        scratch.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".transcoded-{table}-", suffix=".csv", dir=scratch)
    os.close(handle)
    return Path(name)


def _remove(path: Path | None) -> None:
    if path is not None:
        path.unlink(missing_ok=True)


def _read(
    con: duckdb.DuckDBPyConnection,
    file: InputFile,
    table: model.Table,
    header: list[str],
    records: Records | None,
) -> RawTable:
    # A nameless column (every line ending in a comma, as some export tools write) is an
    # extra column like any other: named for its place, ignored and reported.
    as_read = header
    header = [name or f"unnamed_{i + 1}" for i, name in enumerate(header)]
    if records is not None:
        check_delimiter(file.path.name, file.delimiter, header)
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        raise IngestError(f"{file.path}: column(s) {', '.join(duplicated)} appear more than once")
    reserved = sorted({ROW, LINE} & set(header))
    if reserved:
        raise IngestError(f"{file.path}: column name(s) {', '.join(reserved)} are reserved")
    view = _view_columns(file, table, header)
    names = [name for name, _ in view]
    _check_case(file, table, names)
    missing = [c for c in table.required_columns if c not in names]
    if missing:
        raise IngestError(
            f"{file.path}: table {table.name!r} lacks required column(s) {', '.join(missing)}"
            + (" (map them in the mapping file)" if file.spec is not None else "")
        )
    present = tuple(c for c in table.column_names if c in names)
    ignored = tuple(c for c in names if c not in table.column_names)
    select = ", ".join(f"{expr} AS {ident(name)}" for name, expr in view)
    found: list[tuple[int, str, str]] = []
    try:
        if records is not None:
            found = _read_csv(con, file, header, records.data, select)
        else:
            _read_parquet(con, file, header, select)
    except duckdb.Error as exc:
        raise IngestError(f"{file.path}: cannot be read: {exc}") from exc
    rows = _count(con, raw_view(file.table))
    rejected: tuple[RejectedLine, ...] = ()
    spans = None
    repeats: tuple[int, ...] = ()
    if records is not None:
        rejected, spans = _locate(con, file, records, rows, found)
        file_columns = names[: len(header)]
        repeats = repeated_headers(con, raw_view(file.table), file.path.name, as_read,
                                   file_columns, ROW, LINE)  # fmt: skip
    notes = records.notes(file.encoding) if records is not None else ()
    return RawTable(file, tuple(names), present, ignored, rows, rejected, spans, repeats, notes)


def _view_columns(file: InputFile, table: model.Table, header: list[str]) -> list[tuple[str, str]]:
    """(name, SQL expression over the file's columns) of each raw view column, in file order.

    Without a mapping every column keeps its name and text. With one, the bank's columns
    take their model names, and value maps and formats rewrite the text into what the
    validator reads; a value that fits no format is left as it is, to be quarantined with
    the validator's usual reason.
    """
    spec = file.spec
    renamed = {bank: model_name for model_name, bank in spec.columns.items()} if spec else {}
    if spec is not None:
        absent = [f"{m} ({b})" for m, b in spec.columns.items() if b not in header]
        if absent:
            raise IngestError(
                f"{file.path}: the mapping file maps column(s) {', '.join(absent)}, "
                f"which the file does not have (its columns: {', '.join(header)})"
            )
    # The mapping says where a model column comes from: the file's own column of that
    # name (``name`` beside the mapped ``中文名``) is then an extra column, kept for
    # quarantine and reported as not loaded.
    taken = set(renamed.values()) | (set(spec.constants) if spec else set())
    view: list[tuple[str, str]] = []
    for column in header:
        name = renamed.get(column, column)
        if column not in renamed and name in taken:
            name = f"{column} (not mapped)"
        expr = _mapped(file, table, name, ident(column)) if name in table.column_names else None
        view.append((name, expr or ident(column)))
    if spec is not None:
        for name, value in spec.constants.items():
            view.append((name, _mapped(file, table, name, literal(value)) or literal(value)))
    names = [name for name, _ in view]
    clash = sorted({n for n in names if names.count(n) > 1})
    if clash:
        raise IngestError(
            f"{file.path}: column(s) {', '.join(clash)} would come both from the file and "
            "from the mapping file; map one of them"
        )
    return view


def _mapped(file: InputFile, table: model.Table, name: str, text: str) -> str | None:
    """The mapping file's rewrite of model column ``name`` from SQL text ``text``, if any."""
    spec = file.spec
    column = table.column(name)
    expr = text
    changed = False
    if spec is not None and name in spec.values:
        cases = " ".join(
            f"WHEN {literal(k)} THEN {'NULL' if v is None else literal(v)}"
            for k, v in spec.values[name].items()
        )
        if table is model.CUSTOMERS and name == "products":
            # A list: each code is mapped (存款;信用卡 is deposit;card).
            split = literal(model.PRODUCT_LIST_SPLIT)
            each = f"list_transform(regexp_split_to_array({expr}, {split}), lambda p: CASE trim(p) {cases} ELSE trim(p) END)"
            expr = f"array_to_string({each}, {literal(model.PRODUCT_LIST_SEPARATOR)})"
        else:
            expr = f"CASE trim({expr}) {cases} ELSE {expr} END"
        changed = True
    fmt = spec.formats.get(name) if spec is not None else None
    if column.dtype == "date" and fmt:
        parsed = _strptime(expr, fmt)
        expr = f"COALESCE(strftime({parsed}, '%Y-%m-%d'), {expr})"
        changed = True
    elif column.dtype == "timestamp" and (fmt or file.timezone):
        if fmt:
            parsed = _strptime(expr, fmt)
        else:
            # Without a format, only a naive ISO value is placed in the file's zone; one
            # with an offset already says where it is.
            parsed = (
                f"CASE WHEN NOT regexp_matches(trim({expr}), {literal(_HAS_OFFSET)}) "
                f"THEN TRY_CAST(trim({expr}) AS TIMESTAMP) END"
            )
        if fmt and "%z" in fmt:
            # The value names its own offset: strptime gives the instant; written in UTC
            # with Z, the mapping's zone (for naive values) does not move it again.
            iso = f"strftime(timezone('UTC', {parsed}), '%Y-%m-%dT%H:%M:%S') || 'Z'"
        else:
            iso = _iso(parsed, file.timezone)
        expr = f"COALESCE({iso}, {expr})"
        changed = True
    elif column.dtype == "float" and fmt in (PERCENT, PERCENT_NUMBER):
        # NFKC first: ６０％ is 60%. Under percent_number a bare number is a percentage too.
        text = ascii_sql(f"trim({expr})")
        number = f"TRY_CAST(trim(rtrim({text}, '%')) AS DOUBLE)"
        signed = "true" if fmt == PERCENT_NUMBER else f"ends_with({text}, '%')"
        expr = (
            f"CASE WHEN {signed} "
            f"THEN COALESCE(CAST({number} / 100 AS VARCHAR), {expr}) ELSE {expr} END"
        )
        changed = True
    elif column.dtype == "float" and fmt in UNITS:
        expr = _in_yuan(expr, fmt)
        changed = True
    return expr if changed else None


def _in_yuan(expr: str, unit: str) -> str:
    """SQL: an amount in ``unit`` (``1,200.5``, ``１２００．５万元``, ``1200.5万``) in yuan,
    rounded to the fen; a value that is no number is kept as written (the validator then
    quarantines it as ``bad_number``)."""
    text = ascii_sql(f"trim({expr})")
    # The unit written after the number too (万元, or 万 alone), as a spreadsheet may.
    bare = f"trim(regexp_replace({text}, {literal(f'({unit}|{unit[:-1]})$')}, ''))"
    number = (
        f"CASE WHEN regexp_full_match({bare}, {literal(NUMBER_PATTERN)}) "
        f"THEN TRY_CAST(replace({bare}, ',', '') AS DOUBLE) END"
    )
    scaled = f"round({number} * {UNITS[unit]}, 2)"
    return f"CASE WHEN isfinite({scaled}) THEN CAST({scaled} AS VARCHAR) ELSE {expr} END"


_HAS_OFFSET: Final = r"(Z|z|[+-]\d{2}(:?\d{2})?)$"


def _strptime(expr: str, fmt: str) -> str:
    """SQL parsing ``expr`` by the mapping's ``fmt``: NULL (the value kept as written, then
    quarantined as a bad date) when it does not parse or is short of a compact format."""
    parsed = f"try_strptime(trim({expr}), {literal(fmt)})"
    width = compact_width(fmt)
    if width is None:
        return parsed
    return f"CASE WHEN length(trim({expr})) = {width} THEN {parsed} END"


def _iso(parsed: str, zone: str | None) -> str:
    """ISO-8601 text of naive timestamp ``parsed``; with ``zone``, local time and its offset."""
    local = f"strftime({parsed}, '%Y-%m-%dT%H:%M:%S')"
    if zone is None:
        return local
    # timezone(zone, naive) reads the naive value as wall time in zone; the difference
    # between the two epochs is the zone's offset at that instant (DST included).
    offset = f"CAST(epoch({parsed}) - epoch(timezone({literal(zone)}, {parsed})) AS BIGINT)"
    sign = f"CASE WHEN {offset} < 0 THEN '-' ELSE '+' END"
    hours = f"lpad(CAST(abs({offset}) // 3600 AS VARCHAR), 2, '0')"
    minutes = f"lpad(CAST(abs({offset}) % 3600 // 60 AS VARCHAR), 2, '0')"
    return f"{local} || {sign} || {hours} || ':' || {minutes}"


def _check_case(file: InputFile, table: model.Table, names: list[str]) -> None:
    """Stop on a column that is a model column but for case (``Deposits``).

    Loading it would leave the model column empty for every row with only a note.
    """
    by_fold = {c.casefold(): c for c in table.column_names}
    for name in names:
        wanted = by_fold.get(name.casefold())
        if wanted is not None and wanted != name:
            raise IngestError(
                f"{file.path}: column {name!r} matches the model column {wanted!r} only by case; "
                f"rename it to {wanted} or map it in the mapping file "
                f"(columns: {{{wanted}: {name}}})"
            )


def _read_csv(
    con: duckdb.DuckDBPyConnection,
    file: InputFile,
    header: list[str],
    data: Path,
    select: str,
) -> list[tuple[int, str, str]]:
    """Read ``data`` (UTF-8) into the raw view; (DuckDB line, text, error) of each rejected line."""
    # Explicit columns, all text, no sniffing: the header decides the layout, and a
    # value that looks numeric in the first rows cannot make a later one unreadable.
    columns = "{" + ", ".join(f"{literal(c)}: 'VARCHAR'" for c in header) + "}"
    # A database export's marker for a missing value (\\N, NULL) is read as empty in
    # every column; the raw line keeps it.
    nulls = "[" + ", ".join(literal(v) for v in ("", *file.null_values)) + "]"
    scan_sql = (
        f"read_csv({literal(str(data))}, header = true, auto_detect = false, "
        f"columns = {columns}, delim = {literal(file.delimiter)}, quote = '\"', escape = '\"', "
        f"nullstr = {nulls}, "
        "store_rejects = true, rejects_scan = 'rejects_scan', rejects_table = 'rejects')"
    )
    con.execute("DROP TABLE IF EXISTS rejects")
    con.execute("DROP TABLE IF EXISTS rejects_scan")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {raw_view(file.table)} AS "  # noqa: S608 - identifiers quoted, path a literal
        f"SELECT {_NUMBERED}, {select} FROM {scan_sql}"
    )
    found = con.execute(
        "SELECT line, csv_line, error_type, error_message FROM rejects ORDER BY line"
    ).fetchall()
    # Several errors on one line are one rejected line.
    by_line: dict[int, tuple[int, str, str]] = {}
    for line, text, kind, message in found:
        if int(line) not in by_line:
            by_line[int(line)] = (int(line), str(text), f"{kind}: {message}")
    return list(by_line.values())


def _read_parquet(
    con: duckdb.DuckDBPyConnection, file: InputFile, header: list[str], select: str
) -> None:
    cast = ", ".join(parquet_text(file, model.TABLES[file.table], header))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {raw_view(file.table)} AS "  # noqa: S608 - identifiers quoted, path a literal
        f"SELECT {_NUMBERED}, {select} "
        f"FROM (SELECT {cast} FROM read_parquet({literal(str(file.path))}))"
    )


def _count(con: duckdb.DuckDBPyConnection, view: str) -> int:
    return count(con, f"SELECT count(*) FROM {view}")  # noqa: S608 - internal name


_CUT_TEXT: Final = 256
"""A rejected line's text at least this long may be DuckDB's cut of a longer line."""
_NEAR: Final = 64
"""How far from DuckDB's line a rejected record's text is looked for among the scanned ones."""


def _record_of(
    file: InputFile, records: Records, codec: str, guess: int, text: str, error: str
) -> int:
    """The scanned record DuckDB rejected: ``guess`` (its logical line − 2) when the texts
    agree, else the nearest record within :data:`_NEAR` whose text is DuckDB's, else −1.

    DuckDB counts a CR before an LF as a line of its own in a file of LF lines (an export
    with one Windows line), so its line can run ahead of the scan's records: the rejected
    line would be some other, valid record (loaded as well) and the bad bytes lost.
    """
    n = records.starts.size
    if error.startswith("INVALID ENCODING"):
        return guess  # DuckDB's text of a line it could not decode is not the bytes'
    if 0 <= guess < n and not records.blank[guess]:
        raw = read_span(file.path, int(records.starts[guess]), int(records.ends[guess]))
        if undecodable(raw, codec):
            # Nor is its text of a line holding a byte the file's encoding does not have
            # (passed through undecoded, it may break the line's quoting first).
            return guess
    want = text.strip("\r\n")
    for delta in range(_NEAR + 1):
        for i in {guess - delta, guess + delta}:
            if 0 <= i < n and not records.blank[i]:
                raw = read_span(file.path, int(records.starts[i]), int(records.ends[i]))
                got = raw.decode(codec, "replace").strip("\r\n")
                # DuckDB keeps a long line's text cut short, ending in "..": its start is
                # the evidence.
                if got == want or (len(want) >= _CUT_TEXT and got.startswith(want[:-2])):
                    return i
    return -1


def _locate(
    con: duckdb.DuckDBPyConnection,
    file: InputFile,
    records: Records,
    rows: int,
    found: list[tuple[int, str, str]],
) -> tuple[tuple[RejectedLine, ...], tuple[Int64s, Int64s] | None]:
    """Rejected lines with their physical line and bytes; each record's byte span; and
    each row's physical line written into the raw view.

    DuckDB's ``line`` of a rejected record counts logical lines (blank ones included, the
    header is 1), which is the index into ``records``. When DuckDB and the scan disagree
    on the records (a file DuckDB reads some other way), rows keep their record numbers
    and rejected lines DuckDB's text, as before.
    """
    blank = records.blank
    n = records.starts.size
    codec = python_codec(file.encoding)
    indices = [
        _record_of(file, records, codec, line - 2, text, error) for line, text, error in found
    ]
    consistent = (
        all(0 <= i < n and not blank[i] for i in indices)
        and len(set(indices)) == len(indices)
        and int(n - blank.sum()) == rows + len(found)
    )
    if not consistent:
        rejected = tuple(
            RejectedLine(line, text, error, text.encode()) for line, text, error in found
        )
        return rejected, None
    rejected_list: list[RejectedLine] = []
    bad_encoding: list[int] = []
    for (_, text, error), i in zip(found, indices, strict=True):
        raw = read_span(file.path, int(records.starts[i]), int(records.ends[i]))
        if error.startswith("INVALID ENCODING") or undecodable(raw, codec):
            # DuckDB reads a UTF-8 copy: its own words would call a GB18030 file "not
            # utf-8", or blame the quoting an undecoded byte broke.
            error = (
                f"INVALID ENCODING: byte {first_bad_byte(raw, codec)} of the line is not "
                f"valid {file.encoding}"
            )
            bad_encoding.append(i)
        rejected_list.append(RejectedLine(int(records.lines[i]), text, error, raw))
    records_in = rows + len(found)
    if bad_encoding and len(bad_encoding) > _MAX_BAD_ENCODING * records_in:
        i = bad_encoding[0]
        raw = read_span(file.path, int(records.starts[i]), int(records.ends[i]))
        offset = int(records.starts[i]) + first_bad_byte(raw, codec)
        last = records.unterminated == int(records.lines[i])
        raise decoding_error(file.path.name, int(records.lines[i]), offset, raw, codec, last=last)
    keep = ~blank
    keep[indices] = False
    kept = np.flatnonzero(keep)
    lines = records.lines[kept]
    if not np.array_equal(lines, np.arange(2, rows + 2, dtype=np.int64)):
        _number_lines(con, file.table, lines)
    return tuple(rejected_list), (records.starts[kept], records.ends[kept])


def _number_lines(con: duckdb.DuckDBPyConnection, table: str, lines: Int64s) -> None:
    """Set each row's physical line: the file has quoted newlines, blank or rejected lines."""
    numbered = pa.table({ROW: np.arange(1, lines.size + 1, dtype=np.int64), LINE: lines})
    con.register("_lines", numbered)
    view = raw_view(table)
    try:
        con.execute(
            f"UPDATE {view} SET {LINE} = l.{LINE} FROM _lines l WHERE {view}.{ROW} = l.{ROW}"  # noqa: S608 - internal names
        )
    finally:
        con.unregister("_lines")
