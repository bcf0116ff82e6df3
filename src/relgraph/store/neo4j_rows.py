"""Arrow tables to and from the rows a Cypher statement takes or returns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc


def rows_table(rows: Sequence[Sequence[Any]], schema: pa.Schema) -> pa.Table:
    """Rows of values (in ``schema``'s column order) as a table of ``schema``: column by column,
    so no dict is built per row.

    Examples
    --------
    >>> schema = pa.schema([("k", pa.string()), ("n", pa.int64())])
    >>> rows_table([["a", 1], ["b", None]], schema).column("n").to_pylist()
    [1, None]
    """
    if not rows:
        return schema.empty_table()
    columns = list(zip(*rows, strict=True))
    return pa.table(
        [pa.array(column, type=f.type) for column, f in zip(columns, schema, strict=True)],
        schema=schema,
    )


def distinct_values(tables: Mapping[str, pa.Table], columns: Sequence[tuple[str, str]]) -> pa.Table:
    """The distinct non-null values of ``columns`` (table, column) as one ``value`` column.

    Examples
    --------
    >>> t = {"c": pa.table({"p": ["1", None, "2"]}), "e": pa.table({"p": ["2", "3"]})}
    >>> distinct_values(t, [("c", "p"), ("e", "p")]).column("value").to_pylist()
    ['1', '2', '3']
    """
    parts = [
        tables[name].column(column).cast(pa.string())
        for name, column in columns
        if name in tables and column in tables[name].column_names
    ]
    if not parts:
        return pa.table({"value": pa.array([], pa.string())})
    values = pa.chunked_array([c for part in parts for c in part.chunks], pa.string())
    unique = pc.unique(values.drop_null()).sort()  # sorted: the same load sends the same batches
    return pa.table({"value": unique})
