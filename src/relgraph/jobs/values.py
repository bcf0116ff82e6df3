"""Party values as ``analyze`` computes them: the one place that names the source-system
precedence and the review band the definition (:mod:`relgraph.analytics.value`) reads."""

from __future__ import annotations

import pandas as pd

from relgraph import model
from relgraph.analytics.value import PartyValues, party_values_of
from relgraph.graph import Projection
from relgraph.ingest.persons import SOURCE_PRIORITY
from relgraph.store.base import Store, TableNotFoundError


def source_precedence() -> tuple[str, ...]:
    """Source systems, most authoritative first: the precedence identity resolution uses
    for a person's descriptive fields, and the value definition for record summaries.

    The one seam to swap when the bank's own list (a mapping file) is stored.
    """
    return tuple(SOURCE_PRIORITY)


def review_pairs(store: Store) -> pd.DataFrame | None:
    """Record pairs in identity resolution's review band (``None`` when none are stored)."""
    try:
        table = store.read_table(model.POSSIBLE_DUPLICATES_TABLE, ["customer_a", "customer_b"])
    except TableNotFoundError:
        return None
    frame: pd.DataFrame = table.to_pandas()
    return frame


def values_of(projection: Projection, review: pd.DataFrame | None) -> PartyValues:
    """Every party's value over ``projection`` with the review band ``review``."""
    return party_values_of(projection, review, source_precedence())
