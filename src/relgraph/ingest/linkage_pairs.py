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


_PAIR_COLUMNS = frozenset({"unique_id_l", "unique_id_r", "match_weight", "match_probability"})
