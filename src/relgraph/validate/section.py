"""One section of a validation report: its figures, headline, example tables and notes."""

from __future__ import annotations

import unicodedata
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

    def unheld(
        self, ids: pd.Series, held: pd.Index | set[str], limit: int = 50
    ) -> tuple[int, list[str]]:
        """:func:`missing_ids`, with a note when some of them are held ids typed in full width."""
        count, listed = missing_ids(ids, held, limit)
        if count:
            wide = widened(ids[~ids.isin(held)], held)
            if wide:
                example = wide[0]
                self.notes.append(
                    f"{len(wide):,} of the {count:,} ids not in the store are stored ids typed "
                    f"in full-width characters ({example!r} is "
                    f"{unicodedata.normalize('NFKC', example)!r} once read as ASCII); the "
                    "loader keeps ids as written, so export them in half-width characters."
                )
        return count, listed


def missing_ids(
    ids: pd.Series, held: pd.Index | set[str], limit: int = 50
) -> tuple[int, list[str]]:
    """How many of ``ids`` the store does not hold, and the first ``limit`` of them (sorted)."""
    absent = sorted(set(ids[~ids.isin(held)].astype(str)))
    return len(absent), absent[:limit]


def widened(absent: pd.Series, held: pd.Index | set[str]) -> list[str]:
    """The ``absent`` ids (sorted, distinct) that are held once in Unicode NFKC (full-width
    ``Ａ１`` as ``A1``): a case list typed with a Chinese input method's full-width digits."""
    wide = sorted({str(a) for a in absent if not str(a).isascii()})
    if not wide:
        return []
    known = set(held)
    return [a for a in wide if unicodedata.normalize("NFKC", a) in known]
