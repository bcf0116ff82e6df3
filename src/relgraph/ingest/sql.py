"""The in-memory DuckDB connection ingest computes on, and SQL quoting helpers."""

from __future__ import annotations

import duckdb

from relgraph.ingest import udf


def connect() -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB connection set up for ingest.

    Returns
    -------
    duckdb.DuckDBPyConnection
        Timestamps are computed in UTC (validation converts naive input timestamps from
        ``RELGRAPH_SOURCE_TZ`` itself), query results keep the order of their input rows
        (numbering and quarantine depend on it), and the normalisation functions of
        :mod:`relgraph.ingest.udf` (``nfkc`` …) are registered.
    """
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = true")
    udf.install(con)
    return con


def literal(value: str) -> str:
    """``value`` as a SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def ident(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def count(con: duckdb.DuckDBPyConnection, query: str) -> int:
    """The single integer ``query`` returns (fetched whole, so the connection is free again)."""
    rows = con.execute(query).fetchall()
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0
