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
