"""A CSV file's header: the separator it shows, and header rows repeated inside the file.

A header that reads as one column holding ``|`` or a tab is a file in another separator:
the load stops naming the ``delimiter`` to set, instead of calling every column missing.
Extracts concatenated into one file repeat their header.

A repeat in the same column order is no record: it is quarantined as ``repeated_header``.
A repeat with the columns in another order (or other columns) means the rows after it
are laid out differently from the rows before: read under the first header, their values
would land in the wrong columns without a single error (``aum`` read as ``deposits``), so
the load stops and says where.
"""

from __future__ import annotations

from typing import Final

import duckdb

from relgraph.ingest.errors import IngestError
from relgraph.ingest.sql import ident, literal

_BOM: Final = "\ufeff"
_OTHER_DELIMITERS: Final = (
    "|@|",
    "|+|",
    "||",
    "\x01\x02",
    "|",
    "\t",
    ";",
    "^",
    "~",
    "\x01",
    "\x1b",
)
"""Separators exports use instead of a comma (core systems often write ``|`` or ``\\x01``)."""
_SHOWN: Final = {"\t": "tab", "\x01": "\\x01", "\x1b": "\\x1b", "\x01\x02": "\\x01\\x02"}


def check_delimiter(file: str, delimiter: str, header: list[str]) -> None:
    """Stop when ``header`` reads as one column holding another separator than
    ``delimiter``: every column would be missing, and that error would not say why."""
    if len(header) != 1:
        return
    # Longer separators first: "|@|" holds "|", and "|" alone would not load the file.
    for other in _OTHER_DELIMITERS:
        if other != delimiter and other in header[0]:
            shown = _SHOWN.get(other, other)
            raise IngestError(
                f"{file}: the header reads as one column ({header[0][:60]!r}): the values "
                f"look separated by {shown!r}, not {delimiter!r}; set delimiter: {shown!r} "
                "for this file (or for every file) in the mapping file"
            )


def repeated_headers(
    con: duckdb.DuckDBPyConnection,
    view: str,
    file: str,
    header: list[str],
    columns: list[str],
    row: str,
    line: str,
) -> tuple[int, ...]:
    """The ``row`` numbers of the records of ``view`` that repeat ``header`` exactly.

    ``header`` is the file's header as read, ``columns`` the view's names for those columns
    (a mapping file renames them); ``row`` and ``line`` are the view's record and physical
    line columns. A record is a header when its first value is a header name and at least
    half of its values are; one that is not ``header`` itself raises :class:`IngestError`.
    """
    names = [name.strip() for name in header]
    values = [f"trim(replace({ident(c)}, {literal(_BOM)}, ''))" for c in columns]
    candidates = con.execute(
        f"SELECT {ident(row)}, {ident(line)}, [{', '.join(values)}] FROM {view} "  # noqa: S608 - identifiers quoted, names as literals
        f"WHERE {values[0]} IN ({', '.join(literal(n) for n in names)}) ORDER BY {ident(row)}"
    ).fetchall()
    repeats: list[int] = []
    for number, physical, found in candidates:
        texts = [v or "" for v in found]
        if 2 * sum(v in names for v in texts) < len(names):
            continue
        if texts != names:
            raise IngestError(_reordered(file, int(physical), names, texts))
        repeats.append(int(number))
    return tuple(repeats)


def _reordered(file: str, line: int, names: list[str], found: list[str]) -> str:
    if sorted(found) == sorted(names):
        moved = [n for n, f in zip(names, found, strict=True) if n != f]
        what = f"the columns in another order ({', '.join(moved)} moved)"
    else:
        other = sorted(set(found) - set(names)) or ["none"]
        missing = sorted(set(names) - set(found)) or ["none"]
        what = f"other columns (new: {', '.join(other)}; gone: {', '.join(missing)})"
    return (
        f"{file} line {line} is a second header row with {what}: the rows after it are laid "
        "out differently from line 1 and would be read into the wrong columns. The file "
        f"looks like several extracts joined together; give the rows after line {line} the "
        "column order of line 1 (or load each extract on its own), then load again"
    )
