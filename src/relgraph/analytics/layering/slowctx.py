"""A verdict's slow scatter-gather context (:mod:`.live`): the splitters and gatherers of the
slow spokes its transfer is a leg of.

A slow scatter-gather (:mod:`.detectors`) joins accounts whose transfers are up to the
round-trip horizon apart: the splitter's payments to the middles, weeks before the middles
pay the gatherer. A verdict's neighbourhood holds its two accounts' live transfers, but not
the splitter's other payments nor the gatherer's other takings, so the last spoke of a slow
scatter-gather arriving live would never see the pattern the batch finds.

When :func:`.detectors.may_gather_slowly`'s condition holds on the live lists — the transfer
is a leg of a slow spoke ``s → m → g`` and slow spokes from ``s`` to ``g`` pass through at
least ``min_spokes`` accounts — the neighbourhood also holds the live transfers of ``s`` and
``g`` (their routine flows are judged on them) and every slow spoke leaving ``s`` (the
alerts a slow scatter-gather merges with share a payment of ``s``). Most transfers stop at
the first test: a spoke passes on at least half of what arrived, so a payment needs an
income it is at least half of within the horizon before it.
"""

from __future__ import annotations

import bisect

import numpy as np

from relgraph.analytics.layering.detectors import slow_spoke_middles
from relgraph.analytics.layering.hops import _eligible, _links, _Tx, slow_spoke_params
from relgraph.analytics.layering.params import F64, I64, B, LayeringParams
from relgraph.analytics.layering.sides import Side
from relgraph.analytics.sets import unique


class SlowSpokeContext:
    """The slow-spoke half of :class:`.live.LiveIndex` (its lists, declared here)."""

    params: LayeringParams
    _src: I64
    _dst: I64
    _ts: I64
    _amount: F64
    _out: dict[int, Side]
    _in: dict[int, Side]

    def _slow_rows(self, row: int) -> tuple[set[int], list[I64]]:
        """The splitters and gatherers whose live transfers join the verdict on ``row``,
        and the slow spokes leaving the splitters (module docstring; none for most rows)."""
        p = self.params
        ts, h = int(self._ts[row]), p.horizon_ms
        src, dst = int(self._src[row]), int(self._dst[row])
        pairs = {(s, dst) for s in self._legs(self._in.get(src), ts - h - 1, ts - 1, row, True)}
        pairs |= {(src, g) for g in self._legs(self._out.get(dst), ts, ts + h, row, False)}
        accounts: set[int] = set()
        for s, g in sorted(pairs):
            if self._middles(s, g) >= p.min_spokes:
                accounts |= {s, g}
        splitters = {s for s, _ in pairs if s in accounts}
        return accounts, [self._spokes_from(s) for s in sorted(splitters)]

    def _legs(self, side: Side | None, lo: int, hi: int, row: int, first: bool) -> list[int]:
        """The other ends of the slow spokes ``row`` is the second leg of (``first``: the
        rows of ``side`` in ``(lo, hi]`` are first legs; their sources) or the first leg of
        (their targets)."""
        if side is None or not side.rows:
            return []
        i, j = bisect.bisect_right(side.ts, lo), bisect.bisect_right(side.ts, hi)
        if i == j:
            return []
        legs = side.rows_array()[i:j]
        pred, succ = (legs, row) if first else (row, legs)
        ok = self._spoke_ok(legs, pred, succ)
        return sorted(set((self._src if first else self._dst)[legs[ok]].tolist()))

    def _spoke_ok(self, legs: I64, pred: I64 | int, succ: I64 | int) -> B:
        p = self.params
        # The same quotient as _links (successor over predecessor), so the same verdict.
        share = self._amount[succ] / self._amount[pred]
        eligible = (self._amount[legs] >= p.min_amount) & (self._src[legs] != self._dst[legs])
        return np.asarray(
            eligible & (share >= p.spoke_min_share) & (share <= p.max_pass_share), bool
        )

    def _middles(self, s: int, g: int) -> int:
        """How many accounts slow spokes from ``s`` to ``g`` pass through (live transfers,
        routine or not)."""
        paid, takings = self._out.get(s), self._in.get(g)
        least = self.params.min_spokes
        if paid is None or takings is None or min(len(paid.rows), len(takings.rows)) < least:
            return 0
        # First whether enough accounts ``s`` paid have paid ``g`` at all, whatever the
        # amounts and times (cheap; most pairs stop here), then the slow spokes among
        # their transfers: an employer's staff who shop at one supermarket pass the
        # first test, not the second (a spoke passes on at least half of a salary).
        payees, payers = self._dst[paid.rows_array()], self._src[takings.rows_array()]
        if len(np.intersect1d(payees, payers)) < least:
            return 0
        rows = unique(np.concatenate([paid.rows_array(), takings.rows_array()]))
        splitter, gatherer, middles = slow_spoke_middles(self._scan_of(rows), self.params)
        return int(middles[(splitter == s) & (gatherer == g)].sum())

    def _spokes_from(self, s: int) -> I64:
        """Every slow spoke's second leg from ``s``'s live payments: the batch's window join
        (:func:`.hops._links`) over them and their payees' live payments."""
        paid = self._out.get(s)
        if paid is None or not paid.rows:
            return np.zeros(0, np.int64)
        first = paid.rows_array()
        lists = [first]
        for m in unique(self._dst[first]).tolist():
            side = self._out.get(m)
            if m != s and side is not None and side.rows:
                lists.append(side.rows_array())
        rows = unique(np.concatenate(lists))
        tx = self._scan_of(rows)
        links = _links(tx, slow_spoke_params(self.params))
        second = links.succ[tx.src[links.pred] == s]
        return np.asarray(rows[tx.edge[second]], np.int64)

    def _scan_of(self, rows: I64) -> _Tx:
        """The eligible transfers among live ``rows`` as a scan of their own (accounts as
        in the index; ``edge``: positions in ``rows``)."""
        amount, ts, src, dst = self._amount[rows], self._ts[rows], self._src[rows], self._dst[rows]
        return _eligible(amount, ts, src, dst, self.params.min_amount)
