"""What leaves the live index (:mod:`.live`): transfers older than its horizon, per account.

Eviction runs every few thousand transfers. It used to look at every account's lists; at a
million customers that is two million lists and 220–380 ms, paid by whichever request
happened to trigger it. Only lists holding a row that fell out of the horizon can lose
anything, and those rows are few: rows whose time lies between the last eviction's cutoff
and this one, and rows added since the last eviction that are already older than this
cutoff (late arrivals). Every other list's rows were all at or after the last cutoff when it
ran (it dropped everything before it), and the cutoff only moves forward. So eviction reads
the accounts of those rows and leaves the rest alone: the same lists lose the same rows.
"""

from __future__ import annotations

from itertools import compress

import numpy as np

from relgraph.analytics.layering.hops import _eligible
from relgraph.analytics.layering.origins import fold_starts, no_starts
from relgraph.analytics.layering.pairs import PairPeriods, pair_key
from relgraph.analytics.layering.params import F64, I64, B, LayeringParams
from relgraph.analytics.layering.peaks import fan_peaks, fold_peaks
from relgraph.analytics.layering.scoring import _Context
from relgraph.analytics.layering.sides import Renumbering, Side
from relgraph.analytics.sets import argsort_stable, isin, run_lengths, run_starts, unique

_SHORT = 64
"""Lists up to this long are read as lists by :meth:`Evicting._refresh_pairs`."""


class Evicting:
    """The eviction half of :class:`.live.LiveIndex` (its arrays and lists, declared here)."""

    params: LayeringParams
    _n: int
    _amount: F64
    _ts: I64
    _src: I64
    _dst: I64
    _payer_high: F64
    _payee_high: F64
    _pair_count: I64
    _pair_last: I64
    _ctx: _Context
    _tx: list[str]
    _renumbering: Renumbering
    _out: dict[int, Side]
    _in: dict[int, Side]
    now: int
    live: int
    _evicted_to: int = np.iinfo(np.int64).min
    """The cutoff of the last eviction: every list's rows were at or after it then."""
    _rows_at_evict: int = 0
    """Rows the arrays held after the last eviction (later rows may be late arrivals)."""
    _peaks: F64 = np.zeros((0, 2))
    """Per account, paying out and taking in: its fan peak (:mod:`.peaks`)."""
    _pairs: PairPeriods = PairPeriods()
    """Per pair, the periods its transfers that left fell in (:mod:`.pairs`)."""
    _starts: I64 = no_starts(0)
    """Per account and fan kind: the burst running across the last cut (:mod:`.origins`)."""

    @property
    def horizon_ms(self) -> int:
        """How far back the index keeps transfers: the longest detection window."""
        p = self.params
        return max(p.horizon_ms, (p.max_hops - 1) * p.window_ms) + p.window_ms

    def history(self, account: int) -> dict[str, float]:
        """Live and evicted transfer counts and sums of an account (its aggregates)."""
        out, inc = self._out.get(account, Side()), self._in.get(account, Side())
        return {
            "live_out": len(out.rows),
            "live_in": len(inc.rows),
            "evicted_out": out.evicted,
            "evicted_in": inc.evicted,
            "evicted_out_amount": out.evicted_amount,
            "evicted_in_amount": inc.evicted_amount,
        }

    def evict(self) -> int:
        """Drop transfers older than the horizon from the per-account lists (keeping their
        count and sum as aggregates), and compact the arrays when most rows are dead."""
        cutoff = self.now - self.horizon_ms
        ts = self._ts[: self._n]
        stale = ts < cutoff
        fell = stale & (ts >= self._evicted_to)
        since = self._rows_at_evict
        fell[since:] |= stale[since:]
        rows = np.flatnonzero(fell)
        if len(rows):
            self._keep_peaks(self._amount, ts, self._src, self._dst, fell, cutoff)
            self._keep_pairs(self._amount, ts, self._src, self._dst, rows)
            self._refresh_pairs(rows, cutoff)
        for sides, ends in ((self._out, self._src), (self._in, self._dst)):
            self._drop(sides, ends[rows], rows)
        self.live -= len(rows)
        # Set before a compaction: it tells the live rows by them.
        self._evicted_to = max(self._evicted_to, cutoff)
        self._rows_at_evict = self._n
        if self.live < self._n // 2:
            self._compact()
        return len(rows)

    def _drop(self, sides: dict[int, Side], ends: I64, rows: I64) -> None:
        """Drop ``rows`` (the rows that fell, with their accounts ``ends``) from ``sides``.

        The rows that fell from a list are its first ones (it is in time order and holds
        only rows at or after the last cutoff, or added since: :meth:`evict`), so each list
        loses as many rows as fell with its account. Most lose one or two, and their sums
        are taken here together: one row sums as ``0.0 + value``, two as ``(0.0 + a) + b``
        (NaN read as 0), which is ``np.nansum``'s sum in either order, but for the sign of a
        zero, and a zero's sign is lost when it is added to the list's sum (a sum starts at
        0.0). Longer lists are summed in their own order (:meth:`_left_sum`)."""
        order = argsort_stable(ends)
        grouped = ends[order]
        starts = run_starts(grouped)
        counts = run_lengths(grouped)
        amount = self._amount[rows[order]]
        amount[amount != amount] = 0.0
        sums = 0.0 + amount[starts]
        two = starts[counts == 2]
        sums[counts == 2] += amount[two + 1]
        for a, k, total in zip(
            grouped[starts].tolist(), counts.tolist(), sums.tolist(), strict=True
        ):
            side = sides[a]
            side.drop(k, total if k < 3 else self._left_sum(side.rows[:k]))

    def _left_sum(self, rows: list[int]) -> float:
        """The amounts of ``rows`` (three or more: :meth:`_drop` sums shorter lists) summed
        as ``np.nansum`` sums them: a transfer in another currency has no comparable amount
        (NaN) and counts 0. nansum's own checks cost 10 µs a call, so a sum that is not NaN,
        which held none, is taken as it is (the same sum nansum takes then)."""
        taken = self._amount[rows]
        total = float(taken.sum())
        return total if total == total else float(np.nansum(taken))

    def _keep_peaks(self, amount: F64, ts: I64, src: I64, dst: I64, gone: B, cutoff: int) -> None:
        """Fold into :attr:`_peaks` the fan pieces holding a ``gone`` transfer: found among
        their accounts' transfers from the earliest gone one to a window past ``cutoff``, so
        that a piece across the cut is found whole; and into :attr:`_starts` their bursts
        running across the cut (:mod:`.origins`)."""
        p, n = self.params, len(ts)
        rows = np.flatnonzero(gone)
        accounts = unique(np.concatenate([src[rows], dst[rows]]))
        # By time first (a cheap pass over the arrays), then by account on what is left.
        near = np.flatnonzero((ts[:n] >= ts[rows].min()) & (ts[:n] < cutoff + p.window_ms))
        near = near[isin(src[near], accounts) | isin(dst[near], accounts)]
        # Not the rows earlier evictions dropped and no compaction has yet: what is read
        # must not depend on when the arrays were last compacted (nor do the kept starts).
        near = near[(ts[near] >= self._evicted_to) | (near >= self._rows_at_evict)]
        tx = _eligible(amount, ts, src, dst, p.min_amount, near)
        # Pieces tiled where the batch tiles them (the bursts' kept starts), then the
        # starts moved to this cut: the same rows are all the bursts there need.
        hub, inbound, intensity = fan_peaks(tx, gone[tx.edge], p, self._starts)
        self._peaks = fold_peaks(self._peaks, hub, inbound, intensity)
        self._starts = fold_starts(self._starts, tx, p, cutoff)

    def _keep_pairs(self, amount: F64, ts: I64, src: I64, dst: I64, rows: I64) -> None:
        """Fold the eligible transfers ``rows`` into :attr:`_pairs` (their periods counted
        from the context's origin, as ``regular_flows`` counts them)."""
        p, origin = self.params, self._ctx.origin
        rows = rows[(amount[rows] >= p.min_amount) & (src[rows] != dst[rows])]
        if origin is None or len(rows) == 0:
            return
        period = (ts[rows] - origin) // max(p.horizon_ms, 1)
        self._pairs = self._pairs.fold(src[rows], dst[rows], period)

    def _refresh_pairs(self, gone: I64, cutoff: int) -> None:
        """The live rows of the pairs of ``gone`` carry their pair's new numbers."""
        pairs = unique(pair_key(self._src[gone], self._dst[gone]))
        # Thousands of lists of a row or two: one array of them all, not an array each (a
        # long list keeps its array, :meth:`.Side.rows_array`).
        short: list[int] = []
        long: list[I64] = []
        for a in unique(self._src[gone]).tolist():
            side = self._out.get(a)
            if side is None:
                continue
            listed = side.rows
            if len(listed) <= _SHORT:
                short.extend(listed)
            else:
                long.append(side.rows_array())
        rows = np.concatenate([np.array(short, np.int64), *long])
        if not len(rows):
            return
        rows = rows[
            (self._ts[rows] >= cutoff) & isin(pair_key(self._src[rows], self._dst[rows]), pairs)
        ]
        self._pair_count[rows], self._pair_last[rows] = self._pairs.lookup(
            self._src[rows], self._dst[rows]
        )

    def _compact(self) -> None:
        """Drop the dead rows from the arrays; the lists are renumbered as they are read.

        It runs in the request whose eviction left most rows dead. Renumbering every list
        there held that request 96-121 ms at 100,000 customers and 1.0-1.4 s at a million
        (1.3 million lists, 4.2 million row numbers), whatever the loop was made of. So it
        reads no list: which rows are live follows from the last eviction (it left every
        list exactly its rows at or after its cutoff, :meth:`evict`, and rows added since
        are all listed), the arrays keep those rows in order, and :attr:`_renumbering`
        records where each row went, for each list to apply when next read
        (:class:`.sides.Renumbering`). Rows keep their order, so the rows added since the
        last eviction stay at the end (:attr:`_rows_at_evict` is renumbered)."""
        n = self._n
        keep = self._ts[:n] >= self._evicted_to
        keep[self._rows_at_evict :] = True
        rows = np.flatnonzero(keep)
        for name in ("_amount", "_ts", "_src", "_dst", "_payer_high", "_payee_high",
                     "_pair_count", "_pair_last"):  # fmt: skip
            array = getattr(self, name)
            array[: len(rows)] = array[rows]
        self._tx = list(compress(self._tx, keep.tolist()))
        self._rows_at_evict = int(keep[: self._rows_at_evict].sum())
        self._n = len(rows)
        remap = np.full(n, -1, np.int64)
        remap[rows] = np.arange(len(rows))
        self._renumbering.advance(remap)
