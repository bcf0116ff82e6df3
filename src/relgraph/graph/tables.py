"""Reading canonical tables from the store as Arrow, and turning them into typed frames."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from relgraph import model
from relgraph.canonical import canonical_schema
from relgraph.graph.types import IndexArray
from relgraph.store.base import Store, TableNotFoundError

# Nullable extension dtypes keep a column's dtype the same whether or not it holds a
# null, so code downstream does not see int64 on one load and float64 on the next.
_NULLABLE: dict[pa.DataType, pd.api.extensions.ExtensionDtype] = {
    pa.int64(): pd.Int64Dtype(),
    pa.int32(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}
# Below this many rows one thread finishes the lookups before a pool would pay off.
_PARALLEL_ROWS = 1_000_000
# Logical types that become plain numpy columns when the model says they are required.
_NUMPY_WHEN_REQUIRED: frozenset[model.Dtype] = frozenset({"int", "date", "timestamp", "bool"})


def read_canonical(store: Store, name: str, columns: Sequence[str] | None = None) -> pa.Table:
    """Read a canonical table; an optional table that was never written reads as empty.

    Ingest writes every table, but a store loaded by an older build (or by hand, in
    tests) may lack an optional one; an empty table with the model's columns lets
    the projection treat "absent" and "no rows" the same way.
    """
    try:
        table = store.read_table(name, columns)
    except TableNotFoundError:
        if name in model.TABLES and model.TABLES[name].required:
            raise
        schema = canonical_schema(name)
        if columns is not None:
            schema = pa.schema([schema.field(c) for c in columns])
        return schema.empty_table()
    # Lookups hash plain ``string``; a store may hand back large or view strings.
    for i, field in enumerate(table.schema):
        if pa.types.is_large_string(field.type) or pa.types.is_string_view(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.string()))
    return table


def to_frame(table: pa.Table, required: Iterable[str] = ()) -> pd.DataFrame:
    """Arrow table → DataFrame with dtypes fixed by the schema, not by the data.

    Strings become pandas ``str`` (Arrow-backed), floats ``float64`` (NaN for null),
    integers and booleans the nullable ``Int64``/``boolean`` — except the columns
    named in ``required``, which hold no nulls and become plain numpy ``int64``/``bool``.
    """
    frame: pd.DataFrame = table.to_pandas(types_mapper=_NULLABLE.get)
    for name in required:
        if name not in frame.columns:
            continue
        dtype = frame[name].dtype
        if not isinstance(dtype, pd.Int64Dtype | pd.BooleanDtype):
            continue
        if frame[name].hasnans:
            raise ValueError(f"required column {name!r} holds nulls")
        frame[name] = frame[name].to_numpy(np.int64 if isinstance(dtype, pd.Int64Dtype) else bool)
    return frame


def required_columns(name: str) -> tuple[str, ...]:
    """Columns of input table ``name`` that the model guarantees non-null and typed as numpy."""
    table = model.TABLES[name]
    return tuple(c.name for c in table.columns if c.required and c.dtype in _NUMPY_WHEN_REQUIRED)


def sort_by_key(table: pa.Table, key: str) -> pa.Table:
    """Rows ordered by ``key`` (unique string ids), so node indices do not depend on load order."""
    if table.num_rows == 0:
        return table
    return table.take(pc.sort_indices(table, [(key, "ascending")]))


def encode_sorted(*columns: pa.ChunkedArray | pa.Array) -> tuple[pa.Array, list[IndexArray]]:
    """Distinct non-null, non-empty strings over ``columns``, sorted, and each column as indices.

    One hash pass (dictionary encoding) finds the distinct values and every row's
    code at once; sorting only the distinct values then renumbers the codes.

    Returns
    -------
    ids : pyarrow.Array
        The distinct strings, ascending.
    codes : list of ndarray of int32
        Per column, the index into ``ids`` of each row (−1 for null or empty).
    """
    chunks = [chunk for col in columns for chunk in _chunks(col)]
    combined = pa.chunked_array(chunks, pa.string()).combine_chunks()
    encoded = pc.dictionary_encode(combined)
    dictionary = encoded.dictionary
    keep = np.flatnonzero(_to_bool(pc.not_equal(dictionary, "")))
    kept = dictionary.take(pa.array(keep))
    order = np.asarray(pc.sort_indices(kept).to_numpy(), dtype=np.int64)
    # rank[code] = sorted position; the extra last slot maps null codes (−1) to −1.
    rank = np.full(len(dictionary) + 1, -1, dtype=np.int32)
    rank[keep[order]] = np.arange(len(order), dtype=np.int32)
    codes = rank[np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(), dtype=np.int64)]
    bounds = np.cumsum([len(col) for col in columns])[:-1]
    return kept.take(pa.array(order)), list(np.split(codes, bounds))


def _chunks(column: pa.ChunkedArray | pa.Array) -> list[pa.Array]:
    return list(column.chunks) if isinstance(column, pa.ChunkedArray) else [column]


def _to_bool(values: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.bool_]:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def distinct_sorted(keys: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """``np.unique`` for int64 keys by sorting, several times faster on millions of keys."""
    ordered = np.sort(keys)
    first = np.ones(len(ordered), dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    return ordered[first]


def lookup(values: pa.ChunkedArray | pa.Array, ids: pa.Array, dtype: type = np.int32) -> IndexArray:
    """Position of each value in ``ids`` (−1 when missing or null), via one hash join."""
    if len(values) == 0:
        return np.empty(0, dtype)
    found = pc.index_in(values, value_set=ids)
    result: IndexArray = np.asarray(pc.fill_null(found, -1).to_numpy(), dtype=dtype)
    return result


def lookup_each(columns: Sequence[pa.ChunkedArray | pa.Array], ids: pa.Array) -> list[IndexArray]:
    """:func:`lookup` of several columns against the same ids, in parallel threads.

    Arrow's hash lookups release the GIL, so the two ends of five million transfers
    resolve in about the time of one on a two-core machine.
    """
    if len(columns) < 2 or sum(len(c) for c in columns) < _PARALLEL_ROWS:
        return [lookup(c, ids) for c in columns]
    with ThreadPoolExecutor(max_workers=min(len(columns), os.cpu_count() or 1)) as pool:
        return list(pool.map(lambda c: lookup(c, ids), columns))


def column_mask(table: pa.Table, column: str, value: str) -> np.ndarray:
    """Boolean mask of the rows where string ``column`` equals ``value``."""
    if table.num_rows == 0:
        return np.zeros(0, bool)
    return _to_bool(pc.equal(table.column(column), value))
