"""One account's live transfers in one direction (:mod:`.live`): time-ordered lists, what
left the index, and for departures the running payment numbers outsized payments are
judged by (:func:`.amounts.running_payments`)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from relgraph.analytics.layering.amounts import highs, running_payments
from relgraph.analytics.layering.hops import _eligible
from relgraph.analytics.layering.params import F64, I64, B
from relgraph.analytics.layering.scoring import _same_holder

if TYPE_CHECKING:
    from relgraph.analytics.layering.check import LayeringIndex


class Renumbering:
    """How the rows of a live index's past compactions read now (:meth:`.Side.rows`).

    A compaction renumbered every account's list in the request that ran it: at a million
    customers 1.3 million lists, 1.0-1.4 s. It now only records how its rows are numbered
    after it, and each list renumbers itself when next read, one array lookup.
    :attr:`maps` holds, per compaction a list may not have been read since, the current
    number of each row it knew (-1: dropped); a compaction composes the older maps with its
    own, and forgets a map once none of its rows is live (every list of that age is empty:
    a list holds only live rows, and a live row survives every compaction).
    """

    def __init__(self) -> None:
        self.epoch = 0
        """How many compactions ran: a list numbered at an older one is renumbered."""
        self.maps: dict[int, I64] = {}

    def advance(self, remap: I64) -> None:
        """Record a compaction: row ``r`` is now ``remap[r]`` (-1: dropped)."""
        maps = {epoch: np.where(old >= 0, remap[old], -1) for epoch, old in self.maps.items()}
        maps[self.epoch] = remap
        self.maps = {epoch: m for epoch, m in maps.items() if (m >= 0).any()}
        self.epoch += 1


@dataclass
class Side:
    """One account's live transfers in one direction, in time order, and what left."""

    ts: list[int] = field(default_factory=list)
    listed: list[int] = field(default_factory=list)
    """Its rows as numbered at compaction ``_epoch`` (read them as :attr:`rows`)."""
    evicted: int = 0
    evicted_amount: float = 0.0
    paid: list[int] = field(default_factory=list)
    """Per row, the account's payments (receipts, on an arrival side) up to and including
    it, ever (:func:`.amounts.running_payments`), evicted ones included…"""
    paid_max: list[float] = field(default_factory=list)
    """…and the largest of them."""
    evicted_paid: int = 0
    """The two numbers as of the last evicted row (0 when none)."""
    evicted_paid_max: float = 0.0
    _mirror: I64 | None = field(default=None, repr=False, compare=False)
    """``rows`` as an array (its first ``_mirrored``), kept as rows are appended: a
    merchant's month joins every neighbourhood that pays it (:meth:`rows_array`)."""
    _mirrored: int = field(default=0, repr=False, compare=False)
    peer_cells: dict[bool, tuple[int, set[int]]] | None = field(default=None, repr=False)
    """Per scale (slow?), a busy account's current window: its start and the distinct
    counterparties in it (:mod:`.peerctx`; None for the many accounts that are not busy)."""
    book: Renumbering | None = field(default=None, repr=False, compare=False)
    """The index's compactions (None: a list that is never compacted)."""
    _epoch: int = field(default=0, repr=False, compare=False)

    @staticmethod
    def of(book: Renumbering) -> Side:
        """A new list of an index whose compactions are ``book``."""
        return Side(book=book, _epoch=book.epoch)

    @property
    def rows(self) -> list[int]:
        """The rows, in time order, as the index numbers them now."""
        book = self.book
        if book is not None and self._epoch != book.epoch:
            self._renumber(book)
        return self.listed

    def _renumber(self, book: Renumbering) -> None:
        listed = self.listed
        if listed:
            remap, mirror, n = book.maps[self._epoch], self._mirror, self._mirrored
            if mirror is None and len(listed) <= 8:
                # Most lists hold a row or two: a lookup each costs a third of an array's.
                self.listed = [remap.item(r) for r in listed]
            else:
                now = remap[mirror[:n] if mirror is not None and n == len(listed) else listed]
                self.listed, self._mirror, self._mirrored = now.tolist(), now, len(now)
        self._epoch = book.epoch

    def rows_array(self) -> I64:
        """``rows`` as an int64 array (a view: not to be written), built once and then
        grown with :meth:`append`; a change in the middle (a late arrival, a compaction)
        builds it again on the next call."""
        rows = self.rows  # renumbered first: the array follows
        if self._mirror is None or self._mirrored != len(rows):
            self._mirror = np.array(rows, np.int64)
            self._mirrored = len(rows)
        return self._mirror[: self._mirrored]

    def append(self, ts: int, row: int) -> None:
        """Add the account's newest row (at or after every other)."""
        self.ts.append(ts)
        self.rows.append(row)
        mirror, n = self._mirror, self._mirrored
        if mirror is None or n != len(self.rows) - 1:
            self._mirror = None
            return
        if n == len(mirror):
            grown = np.empty(max(16, n + n // 2), np.int64)
            grown[:n] = mirror
            self._mirror = mirror = grown
        mirror[n] = row
        self._mirrored = n + 1

    def insert(self, at: int, ts: int, row: int) -> None:
        """Add a late row at position ``at`` (the lists stay in time order)."""
        self.ts.insert(at, ts)
        self.rows.insert(at, row)
        self._mirror = None

    def set_rows(self, rows: list[int]) -> None:
        """Replace the row numbers (numbered as the index numbers them now)."""
        self.listed, self._epoch = rows, self.book.epoch if self.book is not None else 0
        self._mirror = None

    def paid_before(self, cutoff: int) -> tuple[int, float]:
        """Payments (count, largest) of the rows before ``cutoff``, evicted ones included."""
        k = bisect.bisect_left(self.ts, cutoff)
        if k == 0:
            return self.evicted_paid, self.evicted_paid_max
        return self.paid[k - 1], self.paid_max[k - 1]

    def count_payment(self, at: int, amount: float | None) -> None:
        """Insert the running payment numbers of the departure just put at ``at`` (a
        payment of ``amount``, or None) and carry them to the later rows (a late arrival is
        counted in the rows after it; their own verdicts were given when they came)."""
        count, largest = (
            (self.paid[at - 1], self.paid_max[at - 1])
            if at > 0
            else (self.evicted_paid, self.evicted_paid_max)
        )
        if amount is not None:
            count, largest = count + 1, max(largest, amount)
        self.paid.insert(at, count)
        self.paid_max.insert(at, largest)
        if amount is not None:
            for i in range(at + 1, len(self.paid)):  # late arrivals only: rare and short
                self.paid[i] += 1
                self.paid_max[i] = max(self.paid_max[i], amount)

    def drop(self, k: int, amount: float) -> None:
        """Evict the first ``k`` rows (their amounts summing to ``amount``), keeping their
        count and sum, and the running payment numbers as of the last of them."""
        self.evicted += k
        self.evicted_amount += amount
        if self.paid:
            self.evicted_paid, self.evicted_paid_max = self.paid[k - 1], self.paid_max[k - 1]
            del self.paid[:k], self.paid_max[:k]
        del self.ts[:k], self.rows[:k]
        if self._mirror is not None and self._mirrored >= k:
            self._mirror, self._mirrored = self._mirror[k:], self._mirrored - k
        else:
            self._mirror = None


@dataclass(frozen=True)
class Loaded:
    """The history of a loaded index's transfers, as the batch judges it (per transfer)."""

    payer_high: F64
    payee_high: F64
    paid: I64
    """Running numbers (:func:`.amounts.running_payments`) of the payer's payments…"""
    paid_max: F64
    received: I64
    """…and of the payee's receipts."""
    received_max: F64
    base_out: tuple[I64, F64]
    """Per account: the numbers as of its last departure (arrival) before the live rows."""
    base_in: tuple[I64, F64]

    def numbers(self, departing: bool) -> tuple[I64, F64]:
        return (self.paid, self.paid_max) if departing else (self.received, self.received_max)

    def take(self, rows: I64) -> Loaded:
        return Loaded(
            self.payer_high[rows], self.payee_high[rows], self.paid[rows], self.paid_max[rows],
            self.received[rows], self.received_max[rows], self.base_out, self.base_in,
        )  # fmt: skip


def loaded_payments(index: LayeringIndex, live_row: B) -> Loaded:
    """The history of a loaded index (:class:`Loaded`); ``live_row`` marks the transfers the
    live index keeps. The index is in (source, time) order, as the batch's transfers."""
    p = index.params
    n = len(index.ts)
    tx = _eligible(index.amount, index.ts, index.src, index.dst, p.min_amount)
    own = _same_holder(index.context, tx.src, tx.dst)
    payer_high, payee_high = np.full(n, np.nan), np.full(n, np.nan)
    payer_high[tx.edge], payee_high[tx.edge] = highs(tx, p, own, np.arange(len(tx)))
    counted = np.zeros(n, bool)
    counted[tx.edge] = ~own
    n_acc = len(index.context.opened)
    numbers: list[tuple[I64, F64]] = []
    bases: list[tuple[I64, F64]] = []
    for side in (index.src, index.dst):
        order = np.lexsort((np.arange(n), index.ts, side))  # each account's in time order
        count, largest = running_payments(side[order], index.amount[order], counted[order])
        c, m = np.zeros(n, np.int64), np.zeros(n)
        c[order], m[order] = count, largest
        numbers.append((c, m))
        old = order[~live_row[order]]
        last = old[np.r_[side[old][1:] != side[old][:-1], True]] if len(old) else old
        base_c, base_m = np.zeros(n_acc, np.int64), np.zeros(n_acc)
        base_c[side[last]], base_m[side[last]] = c[last], m[last]
        bases.append((base_c, base_m))
    return Loaded(payer_high, payee_high, *numbers[0], *numbers[1], bases[0], bases[1])
