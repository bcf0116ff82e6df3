"""Reading a truth folder: the synthetic bank's ``truth/`` format, every file optional.

Files (CSV with a header row, UTF-8; ids as in the input tables):

``persons.csv`` — ``customer_id, person_key``: customer rows of one real person share a key.
``households.csv`` — ``customer_id, household_key``.
``groups.csv`` — ``enterprise_id, group_key, controller_id`` (controller: a customer_id).
``guarantee_circles.csv`` — ``circle_key, member_id`` (customer_id or enterprise_id).
``influencers.csv`` — ``customer_id, rank`` (and optionally ``downstream``).
``laundering.csv`` — ``pattern_key, typology, tx_id``; typology from ``model.TYPOLOGIES``.
``suspicious_accounts.csv`` — ``account_id, label``: 1 confirmed suspicious, 0 confirmed clean.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pandas as pd

from relgraph.model import TYPOLOGIES

FILES: Final[dict[str, tuple[str, ...]]] = {
    "persons": ("customer_id", "person_key"),
    "households": ("customer_id", "household_key"),
    "groups": ("enterprise_id", "group_key", "controller_id"),
    "guarantee_circles": ("circle_key", "member_id"),
    "influencers": ("customer_id", "rank"),
    "laundering": ("pattern_key", "typology", "tx_id"),
    "suspicious_accounts": ("account_id", "label"),
}
"""Each truth file (without ``.csv``) and the columns it must have."""


class TruthError(ValueError):
    """A truth folder or file that cannot be read; the message says which and how to fix it."""


@dataclass(frozen=True)
class Truth:
    """The truth files found in one folder; a file that is absent is None."""

    folder: Path
    persons: pd.DataFrame | None = None
    households: pd.DataFrame | None = None
    groups: pd.DataFrame | None = None
    guarantee_circles: pd.DataFrame | None = None
    influencers: pd.DataFrame | None = None
    laundering: pd.DataFrame | None = None
    suspicious_accounts: pd.DataFrame | None = None

    @property
    def present(self) -> list[str]:
        """Names of the truth files that were found."""
        return [name for name in FILES if getattr(self, name) is not None]


def _read(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    try:
        # Ids are text ("007" is not 7); empty cells are missing values.
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise TruthError(f"{path} is not a readable UTF-8 CSV file with a header: {exc}") from exc
    lacking = [c for c in columns if c not in frame.columns]
    if lacking:
        raise TruthError(
            f"{path} lacks the column(s) {', '.join(lacking)}; it needs {', '.join(columns)}"
        )
    frame = frame.replace("", None)
    blank = frame[list(columns)].isna().any(axis=1)
    if blank.any():
        line = int(blank.to_numpy().argmax()) + 2  # the header is line 1
        raise TruthError(f"{path} line {line}: every one of {', '.join(columns)} needs a value")
    return frame


def read_truth(folder: Path) -> Truth:
    """Read every truth file present in ``folder``.

    Raises
    ------
    TruthError
        The folder does not exist, a file lacks a column or a value, a typology is not
        one of ``model.TYPOLOGIES``, or a label is not 0 or 1.
    """
    if not folder.is_dir():
        raise TruthError(
            f"truth folder {folder} does not exist: give the folder holding "
            f"{', '.join(f'{name}.csv' for name in FILES)} (any of them)"
        )
    found: dict[str, pd.DataFrame] = {}
    for name, columns in FILES.items():
        path = folder / f"{name}.csv"
        if path.is_file():
            found[name] = _read(path, columns)
    laundering = found.get("laundering")
    if laundering is not None:
        unknown = sorted(set(laundering["typology"]) - set(TYPOLOGIES))
        if unknown:
            raise TruthError(
                f"{folder / 'laundering.csv'} names unknown typologies {', '.join(unknown)}; "
                f"use {', '.join(TYPOLOGIES)}"
            )
    labels = found.get("suspicious_accounts")
    if labels is not None:
        bad = ~labels["label"].isin(["0", "1"])
        if bad.any():
            line = int(bad.to_numpy().argmax()) + 2
            raise TruthError(
                f"{folder / 'suspicious_accounts.csv'} line {line}: label must be 1 "
                f"(confirmed suspicious) or 0 (confirmed clean), not {labels['label'][bad].iloc[0]!r}"
            )
        found["suspicious_accounts"] = labels.assign(label=labels["label"].astype(int))
    influencers = found.get("influencers")
    if influencers is not None:
        rank = pd.to_numeric(influencers["rank"], errors="coerce")
        if rank.isna().any():
            line = int(rank.isna().to_numpy().argmax()) + 2
            raise TruthError(f"{folder / 'influencers.csv'} line {line}: rank must be a number")
        found["influencers"] = influencers.assign(rank=rank)
    return Truth(folder=folder, **found)
