"""A verdict's peers (:mod:`.live`): the bank's, not its neighbourhood's.

A fan whose hub has no earlier transfer in the fan's direction, and every slow fan, is
judged against its peers: the 90th percentile of distinct counterparties per (account,
window) cell over every account of the bank (:mod:`.peers`, :class:`.routine.HubHistory`).
A verdict's neighbourhood holds a few accounts, whose figure is not the bank's: a fan-out of
six 48,000s by an account that had only received pay scored 0.8279 live and 0.8941 in the
next batch (RESULTS, 2026-12-06).

The live index keeps, per scale (72 hours, ``cycle_horizon_days``) and direction, how many
cells have each number of distinct counterparties — a few thousand integers whatever the
bank's size — built once from the loaded transfers and moved as each eligible transfer
arrives: a counterparty new to its cell moves the cell up by one. Cells are cut from the
bank's first transfer (the context's ``origin``), as the batch cuts them. The cell's
earlier transfers are read from the account's live lists, which hold the whole current
window (the index keeps at least ``cycle_horizon_days``); a late arrival into a window
partly evicted may count a counterparty the index no longer shows as new, and one before
the bank's first transfer is counted in a cell the batch would cut otherwise.
"""

from __future__ import annotations

import bisect

import numpy as np

from relgraph.analytics.layering.params import F64, I64, LayeringParams
from relgraph.analytics.layering.peers import PEER_QUANTILE, histogram_quantile, peer_histogram
from relgraph.analytics.layering.routine import slow_params
from relgraph.analytics.layering.sides import Side

_CELLS = ((False, False), (False, True), (True, False), (True, True))
"""(slow, inbound) in the order of :attr:`.scoring._Context.peers`."""
_BUSY = 32
"""An account with at least this many transfers in its latest window keeps the window's
counterparties (:attr:`.sides.Side.peer_cells`)."""


class PeerContext:
    """The bank's-peers half of :class:`.live.LiveIndex` (its lists, declared here)."""

    params: LayeringParams
    _src: I64
    _dst: I64
    _ts: I64
    _amount: F64
    _out: dict[int, Side]
    _in: dict[int, Side]
    _peer_counts: dict[tuple[bool, bool], I64]
    _peer_figures: tuple[float, float, float, float] | None

    def _build_peers(self, amount: F64, ts: I64, src: I64, dst: I64, origin: int | None) -> None:
        """The cells' counts over the loaded transfers (all of them, not only the live)."""
        p = self.params
        ok = (amount >= p.min_amount) & (src != dst)
        src, dst, ts = src[ok], dst[ok], ts[ok]
        n_acc = int(max(src.max(), dst.max())) + 1 if len(src) else 1
        self._peer_counts = {}
        for slow, inbound in _CELLS:
            window = (slow_params(p) if slow else p).window_ms
            tile = (ts - (origin or 0)) // window
            hub, other = (dst, src) if inbound else (src, dst)
            self._peer_counts[slow, inbound] = peer_histogram(hub, other, tile, n_acc)
        self._peer_figures = None

    def _count_peers(self, row: int, origin: int) -> None:
        """Move the cells of ``row`` (eligible, just added to its accounts' lists)."""
        p, ts = self.params, int(self._ts[row])
        windows = {slow: (slow_params(p) if slow else p).window_ms for slow in (False, True)}
        starts = {slow: origin + (ts - origin) // w * w for slow, w in windows.items()}
        for inbound in (False, True):
            hub, party = (self._dst, self._src) if inbound else (self._src, self._dst)
            side = (self._in if inbound else self._out)[int(hub[row])]
            me = int(party[row])
            for slow, start in starts.items():
                had = self._cell_had(side, row, party, start, windows[slow], slow, me)
                if had is not None:
                    self._move(slow, inbound, had)

    def _cell_had(
        self, side: Side, row: int, party: I64, start: int, window: int, slow: bool, me: int
    ) -> int | None:
        """How many distinct counterparties ``side``'s cell from ``start`` had before
        ``row``, or None when ``me`` was one of them."""
        cells = side.peer_cells
        if cells is not None and slow in cells and cells[slow][0] == start:
            seen = cells[slow][1]  # a busy account's current window, kept (below)
        else:
            i, j = bisect.bisect_left(side.ts, start), bisect.bisect_left(side.ts, start + window)
            amount, src, dst, least = self._amount, self._src, self._dst, self.params.min_amount
            if j - i < _BUSY:  # a few rows: element by element costs less than arrays
                seen = {int(party[r]) for r in side.rows[i:j]
                        if r != row and amount[r] >= least and src[r] != dst[r]}  # fmt: skip
            else:
                rows = side.rows_array()[i:j]
                ok = (amount[rows] >= least) & (rows != row) & (src[rows] != dst[rows])
                seen = set(party[rows[ok]].tolist())
            if j - i >= _BUSY and start + window > int(self._ts[side.rows[-1]]):
                # Its latest window: kept as it grows (a merchant's month of takings is
                # thousands of rows, read again by every payment otherwise).
                side.peer_cells = {**(cells or {}), slow: (start, seen)}
        if me in seen:
            return None
        seen.add(me)
        return len(seen) - 1

    def _move(self, slow: bool, inbound: bool, had: int) -> None:
        """One cell of ``had`` counterparties gained one."""
        counts = self._peer_counts[slow, inbound]
        if had + 1 >= len(counts):
            counts = self._peer_counts[slow, inbound] = np.append(counts, [0] * (had + 2))
        counts[had] -= 1 if had else 0
        counts[had + 1] += 1
        self._peer_figures = None

    def peer_figures(self) -> tuple[float, float, float, float]:
        """The bank's peers' figures now (:attr:`.scoring._Context.peers`)."""
        if self._peer_figures is None:
            f = [histogram_quantile(self._peer_counts[c], PEER_QUANTILE) for c in _CELLS]
            self._peer_figures = (f[0], f[1], f[2], f[3])
        return self._peer_figures
