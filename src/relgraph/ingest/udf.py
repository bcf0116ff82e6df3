"""The Python functions ingest's SQL calls, registered on every ingest connection.

Each works on whole Arrow arrays (DuckDB hands over a vector of rows at a time), so a
million rows cost a few hundred calls, not a million.
"""

from __future__ import annotations

import unicodedata
from typing import Final

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from duckdb.func import PythonUDFType

from relgraph.ingest import cn_address
from relgraph.ingest.id_numbers import valid_id_numbers

NFKC: Final = "nfkc"
ADDRESS: Final = "cn_address"
ID_NUMBER_VALID: Final = "id_number_valid"


def _array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks else pa.array([], values.type)
    return values


def _nfkc(values: pa.Array) -> pa.Array:
    # pc.utf8_normalize alone leaves letters with marks decomposed (its NFKC of "ā" is "a" +
    # U+0304, of 김 three jamo), so a stored "zhāng" never equalled the "zhāng" a search types
    # (the API normalises with unicodedata, normal_form). Its output is kept where it holds
    # nothing left to compose, and the rest (a few names in a million) is normalised by
    # unicodedata: one Python call a value on every row cost 0.7-0.8 s a million.
    column = _array(values)
    out: pa.Array = pc.utf8_normalize(column, "NFKC")
    marked = pc.fill_null(pc.match_substring_regex(out, _UNCOMPOSED), False)
    if not pc.any(marked).as_py():
        return out
    fixed = [unicodedata.normalize("NFKC", v) for v in column.filter(marked).to_pylist()]
    replaced: pa.Array = pc.replace_with_mask(out, marked, pa.array(fixed, pa.string()))
    return replaced


_UNCOMPOSED: Final = r"[\p{M}\x{1100}-\x{11FF}\x{A960}-\x{A97F}\x{D7B0}-\x{D7FF}]"
"""What pyarrow's NFKC may leave uncomposed: combining marks and conjoining Hangul jamo."""


def _address(values: pa.Array) -> pa.Array:
    return cn_address.normalise(_array(values))


def _id_valid(values: pa.Array) -> pa.Array:
    column = _array(values)
    valid = valid_id_numbers(pd.Series(column.to_pandas(), dtype=object))
    return pa.array(valid, pa.bool_(), mask=column.is_null().to_numpy(zero_copy_only=False))


def install(con: duckdb.DuckDBPyConnection) -> None:
    """Register ``nfkc``, ``cn_address`` and ``id_number_valid``."""
    for name, function, result in (
        (NFKC, _nfkc, "VARCHAR"),
        (ADDRESS, _address, "VARCHAR"),
        (ID_NUMBER_VALID, _id_valid, "BOOLEAN"),
    ):
        con.create_function(
            name, function, ["VARCHAR"], result, type=PythonUDFType.ARROW, side_effects=False
        )
