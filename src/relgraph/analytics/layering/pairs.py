"""What a pair of accounts did before the live index: its established-relationship periods.

A transfer is routine when its two accounts transact in at least ``routine_min_repeats``
separate 30-day periods (:func:`.routine.regular_flows`: trade, cash pooling, support,
counted from the bank's first transfer). The batch sees every period; the live index keeps
33 days, so a pair paying each other every month for a year is, to a verdict, a pair with
one or two periods: its round trips and scatter-gathers were held in real time and scored
down by the next batch (independent-2 and -3, 1–12 March: 19 of 24 and 29 of 37 of the
holds the batch would not make).

So when transfers leave the index (and at start, for the older ones), each directed pair
keeps how many distinct periods its eligible transfers fell in and the latest of them
(:class:`PairPeriods`). A verdict's transfers carry their pair's numbers
(``_Tx.pair_count``, ``_Tx.pair_last``), and ``regular_flows`` counts those periods beside
the ones it sees; the latest is the only one it can also see (transfers leave in time
order), so it is counted once.

>>> import numpy as np
>>> pp = PairPeriods().fold(np.array([1, 1, 1, 2]), np.array([2, 2, 2, 1]),
...                         np.array([0, 0, 1, 3]))
>>> [x.tolist() for x in pp.lookup(np.array([1, 2, 3]), np.array([2, 1, 1]))]
[[2, 1, 0], [1, 3, -1]]
>>> later = pp.fold(np.array([1, 1]), np.array([2, 2]), np.array([1, 2]))
>>> [x.tolist() for x in later.lookup(np.array([1]), np.array([2]))]
[[3], [2]]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from relgraph.analytics.layering.params import I64, B

_SHIFT = 32


def pair_key(src: I64, dst: I64) -> I64:
    """The directed pair ``src → dst`` as one sortable number (account indices < 2³²)."""
    return (src.astype(np.int64) << _SHIFT) | dst.astype(np.int64)


def _empty() -> I64:
    return np.zeros(0, np.int64)


@dataclass(frozen=True)
class PairPeriods:
    """Per directed pair (sorted keys ``src << 32 | dst``): the number of distinct periods
    its folded transfers fell in, and the latest."""

    keys: I64 = field(default_factory=_empty)
    count: I64 = field(default_factory=_empty)
    last: I64 = field(default_factory=_empty)

    def _find(self, keys: I64) -> tuple[I64, B]:
        """Per key: where it is (or would go) among :attr:`keys`, and whether it is there."""
        at = np.searchsorted(self.keys, keys)
        known = at < len(self.keys)
        known[known] = self.keys[at[known]] == keys[known]
        return at, known

    def lookup(self, src: I64, dst: I64) -> tuple[I64, I64]:
        """Per transfer: its pair's folded period count (0) and latest period (−1)."""
        at, hit = self._find(pair_key(src, dst))
        count = np.zeros(len(at), np.int64)
        last = np.full(len(at), -1, np.int64)
        count[hit], last[hit] = self.count[at[hit]], self.last[at[hit]]
        return count, last

    def fold(self, src: I64, dst: I64, period: I64) -> PairPeriods:
        """With transfers ``src → dst`` in ``period`` folded in. A period at or before a
        pair's latest is not counted again (transfers leave in time order; a late arrival
        older than the latest is not counted either)."""
        if len(src) == 0:
            return self
        key = pair_key(src, dst)
        order = np.lexsort((period, key))
        key, period = key[order], period[order]
        # Sorted by (pair, period): each pair a run, its periods ascending.
        change = np.ones(len(key), bool)
        change[1:] = key[1:] != key[:-1]
        keys, pair = key[change], np.cumsum(change) - 1
        at, known = self._find(keys)
        prior = np.full(len(keys), -1, np.int64)
        prior[known] = self.last[at[known]]
        first = change.copy()
        first[1:] |= period[1:] != period[:-1]
        added = np.bincount(pair[first & (period > prior[pair])], minlength=len(keys))
        latest = period[np.append(np.flatnonzero(change)[1:], len(key)) - 1]
        count, last = self.count.copy(), self.last.copy()
        count[at[known]] += added[known]
        last[at[known]] = np.maximum(last[at[known]], latest[known])
        # New pairs: inserted at their sorted places (one pass, no re-sort of the rest).
        pos = at[~known]
        return PairPeriods(
            np.insert(self.keys, pos, keys[~known]),
            np.insert(count, pos, added[~known].astype(np.int64)),
            np.insert(last, pos, latest[~known]),
        )
