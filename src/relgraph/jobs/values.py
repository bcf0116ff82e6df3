"""Party values as ``analyze`` computes them: the one place that names the source-system
precedence and the review band the definition (:mod:`relgraph.analytics.value`) reads."""

from __future__ import annotations

import json

import pandas as pd

from relgraph import model
from relgraph.analytics.value import PartyValues, party_values_of
from relgraph.graph import Projection
from relgraph.ingest.load import META_SOURCE_SYSTEMS
from relgraph.ingest.persons import source_priority
from relgraph.store.base import Store, TableNotFoundError


def source_precedence(store: Store) -> tuple[str, ...]:
    """Source systems, most authoritative first: the precedence identity resolution used
    for a person's descriptive fields, and the value definition for record summaries.

    The bank's own list when the last load had a mapping file naming it (stored beside the
    load), else the model's four.
    """
    stored = store.meta().get(META_SOURCE_SYSTEMS)
    return source_priority(tuple(json.loads(stored)) if stored else None)


def review_pairs(store: Store) -> pd.DataFrame | None:
    """Record pairs in identity resolution's review band (``None`` when none are stored)."""
    try:
        table = store.read_table(model.POSSIBLE_DUPLICATES_TABLE, ["customer_a", "customer_b"])
    except TableNotFoundError:
        return None
    frame: pd.DataFrame = table.to_pandas()
    return frame


def values_of(
    projection: Projection, review: pd.DataFrame | None, precedence: tuple[str, ...]
) -> PartyValues:
    """Every party's value over ``projection`` with the review band ``review``."""
    return party_values_of(projection, review, precedence)
