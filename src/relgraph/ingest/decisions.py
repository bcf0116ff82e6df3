"""The reviewers' decisions a load applies: SAME and DIFFERENT customer pairs.

Read from the operational-writes journal (:mod:`relgraph.journal.decisions`); the latest
decision on a pair wins, so a reviewer who changes their mind is obeyed. Identity
resolution (:func:`relgraph.ingest.linkage.resolve`) merges SAME pairs even against two
different valid id numbers, and never puts a DIFFERENT pair in one person, directly or
through other records. The journal is part of the load's input fingerprint, so a reload
after a decision is a new load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from relgraph.journal.decisions import DIFFERENT, SAME, decisions, latest

Pair = tuple[str, str]
"""Two customer ids, sorted."""


@dataclass(frozen=True)
class DecidedPairs:
    """Pairs of customer ids, each sorted, that reviewers decided on."""

    same: frozenset[Pair] = field(default_factory=frozenset)
    different: frozenset[Pair] = field(default_factory=frozenset)

    def __bool__(self) -> bool:
        return bool(self.same or self.different)


def decided_pairs(data_dir: Path) -> DecidedPairs:
    """The decisions in force in ``data_dir``'s journal (none when it has no journal).

    Examples
    --------
    >>> import tempfile
    >>> from relgraph.journal.decisions import DecisionBook
    >>> folder = Path(tempfile.mkdtemp())
    >>> book = DecisionBook(folder)
    >>> _ = book.record("D1", "CB2", "CB1", SAME, "", by="k")
    >>> _ = book.record("D1", "CB1", "CB2", DIFFERENT, "on second look", by="k")
    >>> decided_pairs(folder)
    DecidedPairs(same=frozenset(), different=frozenset({('CB1', 'CB2')}))
    """
    in_force = latest(decisions(data_dir)).values()
    return DecidedPairs(
        same=frozenset(d.pair for d in in_force if d.decision == SAME),
        different=frozenset(d.pair for d in in_force if d.decision == DIFFERENT),
    )


def with_same_decisions(
    pairs: pd.DataFrame, position: dict[str, int], same: frozenset[Pair]
) -> pd.DataFrame:
    """The scored pairs (``unique_id_l``/``_r``: record positions) with ``decided`` set on
    each SAME pair, and a row for each SAME decision Splink did not generate."""
    if not same:
        return pairs.assign(decided=False)
    rows = []
    for x, y in same:
        if x in position and y in position and x != y:
            i, j = sorted((position[x], position[y]))
            rows.append((i, j))
    decided = pd.DataFrame(rows, columns=["unique_id_l", "unique_id_r"]).drop_duplicates()
    out = pairs.merge(decided.assign(decided=True), how="outer", on=["unique_id_l", "unique_id_r"])
    out["decided"] = out["decided"].fillna(False).astype(bool)
    out["match_probability"] = out["match_probability"].where(~out["decided"], 1.0)
    return out


NOT_LOADED = "a record is not in this load"
OVERRULED = "another decision says DIFFERENT (two SAME decisions would join a DIFFERENT pair)"


def unapplied_same(
    pairs: pd.DataFrame,
    label: npt.NDArray[np.int64],
    cid: npt.NDArray[np.object_],
    position: dict[str, int],
    same: frozenset[Pair],
) -> list[dict[str, str]]:
    """The SAME decisions a load did not follow, sorted, each with why: a reviewer who said
    SAME and finds two persons must be told, not left to wonder.

    A SAME pair stays apart when one of its records left the exports, or when following
    it would put a DIFFERENT pair in one person (A SAME B, B SAME C, A DIFFERENT C: one
    of the two SAMEs cannot hold; the clustering keeps the first, strongest-first).
    """
    if not same:  # every load without decisions: nothing to look at
        return []
    out: list[dict[str, str]] = []
    for x, y in sorted(same):
        if x not in position or y not in position:
            out.append({"customer_a": x, "customer_b": y, "reason": NOT_LOADED})
    if len(pairs) and "decided" in pairs:
        rows = np.flatnonzero(pairs["decided"].to_numpy(bool))
        a = pairs["unique_id_l"].to_numpy(np.int64)[rows]
        b = pairs["unique_id_r"].to_numpy(np.int64)[rows]
        apart = label[a] != label[b]
        for i, j in zip(a[apart].tolist(), b[apart].tolist(), strict=True):
            x, y = sorted((str(cid[i]), str(cid[j])))
            out.append({"customer_a": x, "customer_b": y, "reason": OVERRULED})
    return sorted(out, key=lambda d: (d["customer_a"], d["customer_b"]))
