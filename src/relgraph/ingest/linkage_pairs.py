"""Splink's scored candidate pairs, read as the columns relgraph decides on."""

from __future__ import annotations

from typing import Any

import pandas as pd


def predict_pairs(linker: Any) -> pd.DataFrame:
    """Every candidate pair's ids, match weight and probability, and per comparison its
    level (``gamma_``) and weights (``mw_``): what deciding and the waterfall read.

    Splink's prediction also holds both records' columns (``name_l``, ``name_r`` …); as
    Python strings they took ~2 KB per pair, 24 GB for the pairs of a million records, so
    they are left in DuckDB and the table is dropped once read.
    """
    predicted = linker.inference.predict(warning_mode="never")
    names = [str(c) for c in predicted.columns_escaped]
    kept = [
        c
        for c in names
        if c.strip('"') in _PAIR_COLUMNS or c.strip('"').startswith(("gamma_", "mw_"))
    ]
    # Read straight from the scored table (query_sql would first copy the columns into a
    # second table: 6.5M rows at a million records), through Arrow: DuckDB's own .df()
    # took 4–5 s more for those rows the first time a process called it.
    relation = predicted.as_duckdbpyrelation().select(", ".join(kept))
    scored: pd.DataFrame = relation.to_arrow_table().to_pandas()
    predicted.drop_table_from_database_and_remove_from_cache()
    return scored


def no_pairs(model: dict[str, Any]) -> pd.DataFrame:
    """What :func:`predict_pairs` gives when blocking pairs no two records: its columns and
    types, no row. Building a linker and predicting nothing cost a small load 0.4–0.6 s."""
    types = {"match_weight": "float64", "match_probability": "float64"}
    types |= {"unique_id_l": "int64", "unique_id_r": "int64"}
    for comparison in model["comparisons"]:
        name = comparison["output_column_name"]
        types |= {f"gamma_{name}": "int32", f"mw_{name}": "float64"}
        if any(level.get("tf_adjustment_column") for level in comparison["comparison_levels"]):
            types[f"mw_tf_adj_{name}"] = "float64"
    return pd.DataFrame({column: pd.Series(dtype=dtype) for column, dtype in types.items()})


_PAIR_COLUMNS = frozenset({"unique_id_l", "unique_id_r", "match_weight", "match_probability"})
