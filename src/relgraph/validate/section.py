"""One section of a validation report: its figures, headline, example tables and notes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass
class Section:
    """What one comparison measured.

    ``figures`` go to ``metrics.json`` under ``name`` (JSON values only); ``headline``
    are the few figures the command prints (label → value); ``tables`` are captioned
    examples for ``report.md``; ``plots`` hold the data the report draws.
    """

    name: str
    title: str
    figures: dict[str, Any] = field(default_factory=dict)
    headline: dict[str, float | int | None] = field(default_factory=dict)
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    plots: dict[str, pd.DataFrame] = field(default_factory=dict)


def missing_ids(
    ids: pd.Series, held: pd.Index | set[str], limit: int = 50
) -> tuple[int, list[str]]:
    """How many of ``ids`` the store does not hold, and the first ``limit`` of them (sorted)."""
    absent = sorted(set(ids[~ids.isin(held)].astype(str)))
    return len(absent), absent[:limit]
