"""The one reader of what ``load`` and ``analyze`` stored, for everything that serves it.

The API's read model and the CLI's audience export both start here, so they read the
same tables the same way (and the export never builds the projection). Analytics get
plain frames, never the store.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Final

import pandas as pd
import pyarrow as pa

from relgraph import model
from relgraph.store.base import Store, TableNotFoundError

Frames = Mapping[str, pd.DataFrame | None]
"""Table name → frame; ``None`` for a table the store does not hold."""

INPUT_COLUMNS: Final[Mapping[str, tuple[str, ...] | None]] = {
    model.PERSONS_TABLE: ("person_id", "consent_marketing"),
    "enterprises": ("enterprise_id", "phone"),
    # The audiences' contacts format names every record with its system, phone and email;
    # a refusal on a record still in identity review keeps its possible person off lists.
    "customers": (
        "customer_id",
        "person_id",
        "source_system",
        "phone",
        "email",
        "consent_marketing",
    ),
    "accounts": ("account_id", "holder_id", "holder_kind", "product"),
    "contacts": ("party_id", "party_kind", "ts", "channel"),
    "possible_duplicates": None,
}
"""Canonical tables (and the columns of them) that serving reads beside the results."""


_ARROW_TEXT: Final = {
    pa.string(): pd.ArrowDtype(pa.string()),
    pa.large_string(): pd.ArrowDtype(pa.large_string()),
}


def stored_frames(
    store: Store, results: Collection[str] | None = None, *, arrow_text: bool = False
) -> dict[str, pd.DataFrame | None]:
    """Every result table ``analyze`` wrote (or those named in ``results``), and the
    canonical columns serving needs.

    A table that was never written (``contacts`` is optional; results before any
    ``analyze``) is ``None``, so readers decide what its absence means. ``arrow_text``
    keeps text columns Arrow-backed (no Python string per cell: a one-off export of a
    million customers spends most of its time there otherwise).
    """
    mapper = _ARROW_TEXT.get if arrow_text else None
    frames: dict[str, pd.DataFrame | None] = {}
    for table, columns in INPUT_COLUMNS.items():
        try:
            read = store.read_table(table, None if columns is None else list(columns))
        except TableNotFoundError:
            frames[table] = None
        else:
            frames[table] = read.to_pandas(types_mapper=mapper)
    for name in store.result_names():
        if results is None or name in results:
            try:
                frames[name] = store.read_results(name).to_pandas(types_mapper=mapper)
            except TableNotFoundError:
                frames[name] = None
    return frames
