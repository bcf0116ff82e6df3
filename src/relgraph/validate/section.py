"""One section of a validation report: its figures, headline, example tables and notes."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Final

import pandas as pd

from relgraph.normal_form import TEXT_FORCED

_TEXT_FORCED: Final = re.compile(TEXT_FORCED, re.DOTALL)


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
        """How many of ``ids`` the store does not hold, and the first ``limit`` of them
        (sorted); with a note when some of them are held ids as a spreadsheet or an input
        method wrote them (the figures count them as misses all the same)."""
        absent = _absent(ids, held)
        found = respelled(absent, held)
        if found:
            written, stored = found[0]
            self.notes.append(
                f"{len(found):,} of the {len(absent):,} ids not in the store are stored ids "
                f"written otherwise ({written!r} is {stored!r}): full-width characters or a "
                "spreadsheet's text forcing (=\"…\", a leading '); the loader keeps ids as "
                "written, so export them as plain half-width text."
            )
        return len(absent), absent[:limit]


def _absent(ids: pd.Series, held: pd.Index | set[str]) -> list[str]:
    """The distinct ``ids`` the store does not hold, sorted."""
    # tolist(): iterating an Arrow-backed column item by item costs seconds on 100k ids.
    return sorted(set(ids[~ids.isin(held)].astype(str).tolist()))


def respelled(absent: list[str], held: pd.Index | set[str]) -> list[tuple[str, str]]:
    """The ``absent`` ids (distinct, sorted) that are held once read as ASCII (Unicode NFKC:
    full-width ``Ａ１`` typed with a Chinese input method is ``A1``) and unwrapped from a
    spreadsheet's text forcing (``="A1"``, ``'A1``), each with the id it is."""
    # Only ids that NFKC or the unwrapping could change; most absent ids are plain ASCII.
    odd = [a for a in absent if not a.isascii() or a[:1] in ("=", "'", '"')]
    if not odd:
        return []
    known = set(held.tolist()) if isinstance(held, pd.Index) else held
    out: list[tuple[str, str]] = []
    for written in odd:
        plain = _TEXT_FORCED.sub(r"\1\2", unicodedata.normalize("NFKC", written)).strip()
        if plain != written and plain in known:
            out.append((written, plain))
    return out
