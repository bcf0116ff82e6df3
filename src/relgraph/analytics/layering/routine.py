"""Routine flows, structuring runs and the facts of a hub against its own history.

* A transfer is **routine** when it is part of a *regular flow* — at least
  ``routine_min_repeats`` transfers between the same two accounts, amounts within
  ``routine_amount_tolerance`` of their midpoint, intervals within
  ``routine_interval_tolerance`` of theirs (weekly, monthly), both accounts opened at
  least ``new_account_days`` before the first — or an *established relationship* (the
  two accounts transact in at least ``routine_min_repeats`` separate periods of
  ``cycle_horizon_days``: trade, cash pooling, support), or a *family* transfer
  (between two accounts of one holder or one household), which counts only when every
  transfer of the alert is one (a hop between one's own accounts inside a chain is a
  layering step, not routine). A transfer in the structuring band is
  never routine: regular structuring is still structuring.
* A **structuring run**: transfers in the band ``[(1 − structuring_band) ×
  reporting_threshold, reporting_threshold)`` from the accounts of one holder (one person,
  as identity resolution found them across the bank's systems, or one enterprise) to
  another holder's (moving money between one's own accounts reports nothing), each at
  most ``cycle_horizon_days`` after the previous; ``structuring_min_count`` of them or
  more are an alert. A person paying 49,000 once from each of three cards, or from
  accounts the bank holds under two customer numbers, avoids the report as surely as
  from one.
* A **split payment** (structuring by splitting): at least ``structuring_min_count``
  transfers from one account to one other holder's account, each below the reporting
  threshold and at most ``window_hours`` after the previous, together at or above it —
  one large payment cut into pieces that each escape the report, whatever their size
  (pieces of 30,000 are not in the band). It is a ``structuring`` alert, and each of its
  transfers is structuring evidence in any alert that holds it (as a band transfer of
  an account that never crosses the threshold).
* A **slow fan**: a fan burst (definition in :mod:`~relgraph.analytics.layering`) with
  the window widened to ``cycle_horizon_days`` (30): 5–18 counterparties paying in over
  weeks. It is judged against the hub's history at that scale (the usual count per
  30 days), so a merchant's or landlord's steady takings are usual; a slow fan and a fast
  one sharing a transfer are one alert (:mod:`.merge`).
* A **steady hub** (merchant-like: a shop's takings, a platform's payouts): in one
  direction, at least ``min_fan`` transfers in at least half of the windows of its own
  history (from its first transfer to its last, at least two ``cycle_horizon_days`` long;
  windows of 72 hours for fast fans, ``cycle_horizon_days`` for slow ones, counted from its
  first transfer; the history's length is the days from its first transfer to its last,
  both counted) — many counterparties every window is its ordinary business, over its
  whole history. Its own clock, not the bank's: where the scan's 30-day tiles fall is no
  fact about the hub, so a person paying six strangers over five weeks is not a business
  because the five weeks straddle a cut (two tiles touched, one of them dense). A fan piece
  (:func:`~relgraph.analytics.layering.detectors._pieces`) at a steady hub whose fan
  excess (below) is at most ``fan_excess_ratio`` — no more counterparties than its own
  usual and its peers' — is **routine, not a fan**: it is not an alert and is not stored
  (every customer who ever paid the shop would otherwise "take part" in it). A slow
  piece at a hub steady over 72 hours is not a fan either (it always has five payers a
  month; what is unusual for it shows in a 72-hour window). A steady hub's unusual
  window (excess above the ratio) still is a fan, of that window's transfers only.
* A **hub's history**: the account's transfers in one direction over the whole period
  scanned, as an expected count per window (``count × window / period``), or its other
  bursts of the same kind (for slow fans, those of another *episode*: pieces of one hub
  each starting within a window of the one before are one fan, cut into pieces only to
  bound its length, and are not each other's usual; so too at 72 hours for a hub with no
  earlier transfer in that direction, whose fan is all it has; a 72-hour piece of a hub
  with a history is judged against its neighbours, a busy shop's week of takings), or its
  peers' (below; the 90th percentile of distinct counterparties
  per window in that direction, over every account's windows with a transfer: a new
  customer paying five shops in a month does what many customers do), whichever is larger (a monthly payroll is
  usual). A burst's
  intensity is its distinct counterparties per window it spans; its *fan excess* is the
  intensity over the usual (at least 1). Peers count at the 30-day scale always, at
  the 72-hour scale only for an account with no earlier transfer in that direction (its
  own history is then only the burst spread over the scan): twelve strangers paying an
  account that never received money are unusual whatever its age. An old account first
  seen in its burst (no earlier transfer either way) has nothing to judge against — no
  excess — unless the scan watched it silent for at least ``cycle_horizon_days`` and ten
  of the fan's windows (30 days for a 72-hour fan; a dormant account that suddenly pays a
  dozen strangers), then it is judged against its peers. Its *pass-through* is what left the
  hub over what came in, from a window before the burst to a window after it; it is
  mule evidence between ``min_pass_share`` and ``max_pass_share`` (near-zero kept, none
  of its own added).
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from functools import cached_property, lru_cache

import numpy as np

from relgraph.analytics.layering.episodes import _other_episodes_max, _other_max
from relgraph.analytics.layering.hops import _Tx
from relgraph.analytics.layering.params import _DAY_MS, F64, I64, B, LayeringParams
from relgraph.analytics.layering.peers import _peer, _peers_by
from relgraph.analytics.sets import argsort_stable, unique, unique_counts


@lru_cache(maxsize=16)
def slow_params(params: LayeringParams) -> LayeringParams:
    """The settings of slow fans: the window is the round-trip horizon (kept per settings:
    a verdict asks several times, and a dataclass copy costs more than its detectors)."""
    return replace(params, window_hours=params.cycle_horizon_days * 24)


def in_band(amount: F64, params: LayeringParams) -> B:
    low = params.reporting_threshold * (1 - params.structuring_band)
    return np.asarray((amount >= low) & (amount < params.reporting_threshold), bool)


def regular_flows(tx: _Tx, opened: I64, params: LayeringParams, t_min: int | None = None) -> B:
    """Per transfer: part of a regular flow between two long-lived accounts.

    ``t_min``: where the established-relationship periods start (default: the earliest
    of ``tx``). Each pair's flags depend only on its own transfers and ``t_min``, so the
    real-time verdict computes them for the pairs of two accounts alone (:mod:`.focus`),
    passing the earliest time of the whole neighbourhood.
    """
    n = len(tx)
    out = np.zeros(n, bool)
    if n == 0:
        return out
    # By (source, target, time), ties by position. tx is in (source, time) order, so a
    # stable sort by the pair alone keeps each pair's transfers in time order: at 1M the
    # pair and the time overflow one packed key, and lexsort took 3.4 s where this takes
    # 0.1–0.2 s (the runs of each source are sorted already).
    width = int(max(tx.src.max(), tx.dst.max())) + 1
    order = argsort_stable(tx.src * width + tx.dst)
    s, d, ts, amt = tx.src[order], tx.dst[order], tx.ts[order], tx.amount[order]
    new = np.ones(n, bool)
    new[1:] = (s[1:] != s[:-1]) | (d[1:] != d[:-1])
    starts = np.flatnonzero(new)
    size = np.diff(np.append(starts, n))
    lo_amt = np.minimum.reduceat(amt, starts)
    hi_amt = np.maximum.reduceat(amt, starts)
    mid = (lo_amt + hi_amt) / 2
    steady = (hi_amt - lo_amt) <= 2 * params.routine_amount_tolerance * np.maximum(mid, 1e-9)
    # Per flow: smallest and largest interval (groups of size ≥ 2; a flow's first row has
    # none). ``np.diff``'s ``prepend`` and a NaN pass cost more than a verdict's pairs.
    gap = np.zeros(n)
    gap[1:] = ts[1:] - ts[:-1]
    big = np.where(new, -np.inf, gap)
    small = np.where(new, np.inf, gap)
    g_hi = np.maximum.reduceat(big, starts)
    g_lo = np.minimum.reduceat(small, starts)
    tol = params.routine_interval_tolerance
    regular = (g_lo > 0) & (g_hi * (1 - tol) <= g_lo * (1 + tol))
    first = ts[starts]
    age = params.new_account_days * _DAY_MS
    o_s, o_d = opened[s[starts]], opened[d[starts]]
    old = ((o_s < 0) | (o_s <= first - age)) & ((o_d < 0) | (o_d <= first - age))
    flow = (size >= params.routine_min_repeats) & steady & regular & old
    # An established relationship: the two accounts transact in at least
    # routine_min_repeats separate horizon-long periods (trade, cash pooling, support).
    period = (ts - (ts.min() if t_min is None else t_min)) // max(params.horizon_ms, 1)
    pair = np.cumsum(new) - 1
    periods = np.bincount(
        unique(pair * (int(period.max()) + 1) + period) // (int(period.max()) + 1),
        minlength=len(starts),
    )
    if tx.pair_count is not None and tx.pair_last is not None:
        # Periods the pair transacted in before the index (:mod:`.pairs`); its latest may
        # be one of those seen here.
        last = tx.pair_last[order][starts]
        seen = np.bincount(pair[period == last[pair]], minlength=len(starts)) > 0
        periods = periods + tx.pair_count[order][starts] - seen
    established = periods >= params.routine_min_repeats
    out[order] = np.repeat(flow | established, size)
    return out & ~in_band(tx.amount, params)


class HubHistory:
    """Every account's transfers by direction, for a hub's history (built once per scan).

    Each part is computed on first use: a verdict judges one or two hubs, and the peers
    only when a hub needs them, so it should not pay for every account's history.
    """

    def __init__(
        self,
        tx: _Tx,
        params: LayeringParams,
        peers: bool = False,
        segment: I64 | None = None,
        origin: int | None = None,
        bank: tuple[float, float] | None = None,
    ) -> None:
        """``peers``: judge every burst against the peers too (slow fans), not only those
        of a hub without an earlier transfer in the burst's direction. ``segment``: per
        account, its neighbourhood when ``tx`` is a disjoint union of several
        (:mod:`.union`); each is then judged as if scanned alone — its own first and last
        time, its own peers. ``origin``: where the peers' windows are cut, and where the
        bank's watch of a hub judged against its peers starts (the context's, the bank's
        first transfer: a verdict's neighbourhood cuts them where the batch does; None:
        each scan's, or segment's, first transfer). ``bank``: the bank's peers' figures out
        and in (the context's, :mod:`.peerctx`), taken instead of those of ``tx`` (a
        neighbourhood's few accounts are not the bank's peers)."""
        self.tx = tx
        self.origin = origin
        self.bank = bank
        self.peers_always = peers
        self.params = params
        self.segment = segment
        window = params.window_ms
        self._steady_one: dict[tuple[int, bool], float] = {}
        """Per (hub, direction) asked before the whole table exists: its steady share
        (a verdict asks for the same hub's twice: its alert's and its fan's history)."""
        if len(tx) == 0:
            return
        t_lo, t_hi = int(tx.ts.min()), int(tx.ts.max())
        self.t_lo, self.t_hi = t_lo, t_hi
        self.period = max(t_hi - t_lo, window)
        self.span = t_hi - t_lo + 4 * window + 2
        self.base = t_lo - 2 * window
        self.n_acc = int(max(tx.src.max(), tx.dst.max())) + 1
        if segment is not None:
            # tx is in (source, time) order and accounts are numbered segment by segment,
            # so each segment's transfers are one slice.
            row_seg = segment[tx.src]
            n_seg = int(segment.max()) + 1
            self._bounds = np.searchsorted(row_seg, np.arange(n_seg + 1))
            lo = np.full(n_seg, t_lo, np.int64)
            hi = np.full(n_seg, t_lo, np.int64)
            some = self._bounds[1:] > self._bounds[:-1]
            lo[some] = np.minimum.reduceat(tx.ts, self._bounds[:-1][some])
            hi[some] = np.maximum.reduceat(tx.ts, self._bounds[:-1][some])
            self._seg_lo, self._seg_hi = lo, hi
            self._seg_period = np.maximum(hi - lo, window)
            self._seg_peers: dict[bool, F64] = {}
            """Per direction, per segment: its peers' figure (NaN: not computed yet)."""

    @cached_property
    def out_count(self) -> I64:
        return np.bincount(self.tx.src, minlength=self.n_acc)

    @cached_property
    def in_count(self) -> I64:
        return np.bincount(self.tx.dst, minlength=self.n_acc)

    @cached_property
    def _tile(self) -> I64:
        if self.origin is not None:
            tile = (self.tx.ts - self.origin) // self.params.window_ms
            return tile - min(int(tile.min()), 0)  # a late arrival before the origin
        if self.segment is not None:
            return (self.tx.ts - self._seg_lo[self.segment[self.tx.src]]) // self.params.window_ms
        return (self.tx.ts - self.t_lo) // self.params.window_ms

    @cached_property
    def _steady(self) -> tuple[F64, F64]:
        """Per account: its dense share of windows out and in (:meth:`steady`)."""
        tx, params = self.tx, self.params
        window = params.window_ms
        # The windows of each account's own history: from its first transfer to its last,
        # counted from its first (not from the scan's: where the bank's tiles fall is no
        # fact about the hub).
        first = np.full(self.n_acc, np.iinfo(np.int64).max, np.int64)
        last = np.full(self.n_acc, np.iinfo(np.int64).min, np.int64)
        for side in (tx.src, tx.dst):
            np.minimum.at(first, side, tx.ts)
            np.maximum.at(last, side, tx.ts)
        some = last >= first
        length = np.where(some, last - first, 0)
        lived = length // window + 1
        # A long history only: an account whose whole life is one fan is no business.
        long = some & _long(length, params)
        at = np.where(some, first, 0)
        dense_out = _dense_tiles(tx.src, (tx.ts - at[tx.src]) // window, self.n_acc, params.min_fan)
        dense_in = _dense_tiles(tx.dst, (tx.ts - at[tx.dst]) // window, self.n_acc, params.min_fan)
        return np.where(long, dense_out / lived, 0.0), np.where(long, dense_in / lived, 0.0)

    @cached_property
    def peer_out(self) -> float:
        # Peers: what a busy ordinary account does — the PEER_QUANTILE of distinct
        # counterparties per window, over the (account, window) cells with any transfer.
        if self.bank is not None:
            return self.bank[0]
        return _peer(self.tx.src, self.tx.dst, self._tile, self.n_acc)

    @cached_property
    def peer_in(self) -> float:
        if self.bank is not None:
            return self.bank[1]
        return _peer(self.tx.dst, self.tx.src, self._tile, self.n_acc)

    @cached_property
    def _out_index(self) -> tuple[I64, F64]:
        """Cumulative amounts by (account, time) departing; tx is in (source, time) order."""
        tx = self.tx
        key = tx.src * self.span + (tx.ts - self.base)
        return key, self._cumulative(tx.amount, tx.src)

    @cached_property
    def _in_index(self) -> tuple[I64, F64]:
        """Cumulative amounts by (account, time) arriving."""
        tx = self.tx
        key = tx.dst * self.span + (tx.ts - self.base)
        in_order = self.in_order
        return key[in_order], self._cumulative(tx.amount[in_order], tx.dst[in_order])

    @property
    def in_order(self) -> I64:
        """The transfers by (target, time), ties by position: whatever the window (both
        scales of one scan, and the other definitions, share it: ``_Tx.by_target``)."""
        return self.tx.by_target

    def _cumulative(self, amount: F64, account: I64) -> F64:
        """Running sums of ``amount`` (in key order) from 0; with segments, one run per
        segment with its own leading 0 (segment ``s``'s position ``i`` is at ``i + s``):
        the sums its own scan adds up, to the last bit."""
        if self.segment is None:
            return np.concatenate([[0.0], np.cumsum(amount)])
        bounds = np.searchsorted(self.segment[account], np.arange(len(self._bounds)))
        runs = [np.cumsum(amount[a:b]) for a, b in itertools.pairwise(bounds.tolist())]
        return np.concatenate([part for run in runs for part in (np.zeros(1), run)])

    def _segment_of(self, hub: I64) -> I64:
        return self.segment[hub] if self.segment is not None else np.zeros(len(hub), np.int64)

    def _peers(self, hub: I64, inbound: B, needed: B) -> F64:
        """Per hub alert: the peers' figure in its direction (0 where not ``needed``)."""
        if self.segment is None or self.bank is not None:  # the bank's: every segment's
            return np.where(
                inbound,
                self.peer_in if (inbound & needed).any() else 0.0,
                self.peer_out if (~inbound & needed).any() else 0.0,
            )
        out = np.zeros(len(hub))
        seg = self.segment[hub]
        for direction in (True, False):
            which = np.flatnonzero(needed & (inbound == direction))
            if len(which):
                out[which] = self._segment_peers(direction, seg[which])[seg[which]]
        return out

    def _segment_peers(self, inbound: bool, wanted: I64) -> F64:
        """Per segment: :func:`_peer` of its own transfers in that direction, for the
        ``wanted`` segments (the others NaN until asked; cached), all in one pass."""
        n_seg = len(self._bounds) - 1
        known = self._seg_peers.setdefault(inbound, np.full(n_seg, np.nan))
        todo = unique(wanted)
        todo = todo[np.isnan(known[todo])]
        if len(todo):
            assert self.segment is not None
            # tx is in (source, time) order with accounts numbered segment by segment: a
            # segment's transfers are one slice.
            lo, hi = self._bounds[todo], self._bounds[todo + 1]
            rows = np.repeat(lo - np.cumsum(hi - lo) + (hi - lo), hi - lo) + np.arange(
                int((hi - lo).sum())
            )
            tx, tile = self.tx, self._tile[rows]
            ends = (tx.dst[rows], tx.src[rows]) if inbound else (tx.src[rows], tx.dst[rows])
            known[todo] = _peers_by(*ends, tile, self.n_acc, self.segment, n_seg)[todo]
        return known

    def facts(
        self,
        hub: I64,
        members: list[I64],
        new_hub: B,
        kind: I64 | None = None,
        earlier: F64 | None = None,
    ) -> tuple[F64, F64, I64]:
        """Per hub alert: fan excess, pass-through share (definitions above) and distinct
        counterparties in the fan's direction. ``kind``: per alert, its kind when alerts of
        several kinds are judged in one call (a hub's other bursts are those of its kind).
        ``earlier``: per alert, the largest intensity of its hub's bursts of its kind that
        are not in ``tx`` (0: none; :mod:`.peaks`) — one more other burst, and proof of
        earlier transfers that way.

        An account with no transfer in the burst's direction before it is judged against
        its peers (at least one counterparty per window): twelve strangers paying an
        account that never received money is unusual whatever its age. An old account
        with no earlier transfer at all has nothing to judge against (excess 0) unless the
        scan watched it silent long enough (definition above).
        """
        tx, n = self.tx, len(members)
        if n == 0 or len(tx) == 0:
            return np.zeros(n), np.zeros(n), np.zeros(n, np.int64)
        window, span, base = self.params.window_ms, self.span, self.base
        size = np.fromiter((len(m) for m in members), np.int64, n)
        flat = np.concatenate(members)
        grp = np.repeat(np.arange(n), size)
        h = hub[grp]
        inbound = tx.dst[flat] == h
        other = np.where(inbound, tx.src[flat], tx.dst[flat])
        n_acc = max(self.n_acc, int(hub.max()) + 1)
        # Distinct counterparties per direction: unique (alert, direction, counterparty).
        code = unique((grp * 2 + inbound) * n_acc + other)
        pair, direction = (code // n_acc) // 2, (code // n_acc) % 2
        d_in = np.bincount(pair[direction == 1], minlength=n)
        d_out = np.bincount(pair[direction == 0], minlength=n)
        first = np.minimum.reduceat(tx.ts[flat], _ptr(size))  # flat is grouped by alert
        last = np.maximum.reduceat(tx.ts[flat], _ptr(size))
        # Windows spanned, not rounded up: a burst of 73 hours is not two windows' worth.
        windows = np.maximum((last - first) / window, 1.0)
        use_in = d_in >= d_out
        distinct = np.where(use_in, d_in, d_out)
        period = self.period if self.segment is None else self._seg_period[self.segment[hub]]
        count = np.where(use_in, self.in_count[hub], self.out_count[hub])
        usual = count * window / period
        intensity = distinct / windows
        # Alerts of several kinds may be judged in one call: a hub's other bursts are those
        # of the alert's kind.
        same = hub if kind is None else kind * n_acc + hub
        at = hub * span
        # Slow fans are always judged against the peers too; fast ones only when the hub
        # has no earlier transfer in that direction, so its own usual is only the burst
        # spread over the scan (over 72 hours an account's own history is the sharper test).
        (in_key, in_cum), (out_key, out_cum) = self._in_index, self._out_index
        before_in = np.searchsorted(in_key, at + (first - base)) - np.searchsorted(in_key, at)
        before_out = np.searchsorted(out_key, at + (first - base)) - np.searchsorted(out_key, at)
        history = np.where(use_in, before_in, before_out) > 0
        gone = np.zeros(n) if earlier is None else earlier
        history |= gone > 0
        own = history & ~self.peers_always
        if self.origin is not None:
            # A hub with no earlier transfer that way has all of them in ``tx``: its own
            # figure is their count over the bank's time, as the batch counts it (the
            # neighbourhood's time is a dormant account's fan alone: the fan itself was
            # its usual). A hub with a history keeps the neighbourhood's rate: the
            # transfers that left the index are not in its count.
            t_hi = self.t_hi if self.segment is None else self._seg_hi[self.segment[hub]]
            lived = np.maximum(t_hi - self.origin, window)
            usual = np.where(history, usual, count * window / lived)
        # The hub's other bursts of this kind are its usual too: a payroll every month is
        # not judged against the quiet days between paydays. Not the other pieces of this
        # fan (one episode, cut only to bound its length) over 30 days, nor over 72 hours
        # for a hub with no earlier transfer that way (the fan is all it has) unless it is
        # steady; over 72 hours they are for a hub with a history (a shop's busy week).
        # A steady (merchant-like) hub's neighbouring windows are its business whatever
        # came before them in the scan.
        neighbours = own.copy()
        if not self.peers_always:
            for way in (True, False):
                rows = np.flatnonzero(~own & (use_in == way))
                if len(rows):
                    neighbours[rows] = self.steady(hub[rows], way)
        others = np.where(
            neighbours,
            _other_max(same, intensity),
            _other_episodes_max(same, intensity, first, last, window),
        )
        usual = np.maximum(usual, np.maximum(others, gone))
        # The peers of a direction only when some alert is judged against them.
        peer = self._peers(hub, use_in, ~own)
        # Watched before: an earlier transfer of the hub, or a scan that had watched it
        # (silent) for a round-trip horizon before the burst — a dormant old account that
        # suddenly pays a dozen strangers is the red flag. A hub the scan starts with has
        # nothing to judge against, unless it is new (a mule).
        # Silence is a history only over many windows of the fan's scale: ten (30 days for
        # 72-hour fans; a month of silence is one window for a slow fan, not a history).
        t_lo = self.t_lo if self.segment is None else self._seg_lo[self.segment[hub]]
        t_lo = t_lo if self.origin is None else self.origin  # the bank's watch, not the scan's
        watched = first - t_lo >= max(self.params.horizon_ms, 10 * window)
        seen = (before_in + before_out > 0) | (gone > 0) | watched | new_hub
        usual = np.where(own, usual, np.maximum(usual, peer))
        excess = np.where(seen, intensity / np.maximum(usual, 1.0), 0.0)

        shift = self._segment_of(hub)  # a segment's running sums start one slot later

        def total(keys: I64, cum: F64) -> F64:
            a = np.searchsorted(keys, at + (first - window - base), "left") + shift
            b = np.searchsorted(keys, at + (last + window - base), "right") + shift
            return np.asarray(cum[b] - cum[a], np.float64)

        came, went = total(in_key, in_cum), total(out_key, out_cum)
        # Uncapped: more leaving than came in is the account's own money (a shop settling
        # a week of takings), not this money passed on.
        passed = np.where(came > 0, went / np.maximum(came, 1e-9), 0.0)
        return (
            np.asarray(excess, np.float64),
            np.asarray(passed, np.float64),
            np.asarray(distinct, np.int64),
        )

    def steady(self, hub: I64, inbound: bool) -> B:
        """Per hub: steady in that direction (a merchant's takings, a payroll; definition
        above): at least ``min_fan`` transfers in at least STEADY_SHARE of the windows
        of its own history."""
        if len(self.tx) == 0:
            return np.zeros(len(hub), bool)
        if "_steady" not in self.__dict__ and len(hub) <= _FEW_HUBS:
            share = np.array([self._steady_of(int(h), inbound) for h in hub.tolist()])
            return np.asarray(share >= STEADY_SHARE, bool).reshape(len(hub))
        share = self._steady[1] if inbound else self._steady[0]
        return np.asarray(share[np.minimum(hub, len(share) - 1)] >= STEADY_SHARE, bool) & (
            hub < len(share)
        )

    def _steady_of(self, hub: int, inbound: bool) -> float:
        """:meth:`steady`'s share for one hub from its own transfers (the same numbers as
        every account's at once, for the one or two hubs a verdict judges)."""
        known = self._steady_one.get((hub, inbound))
        if known is None:
            known = self._steady_one[hub, inbound] = self._steady_share(hub, inbound)
        return known

    def _steady_share(self, hub: int, inbound: bool) -> float:
        tx, params = self.tx, self.params
        touching = tx.ts[(tx.src == hub) | (tx.dst == hub)]
        if len(touching) == 0:
            return 0.0
        first = int(touching.min())
        length = int(touching.max()) - first
        # :func:`_long` on one Python int, not a one-element array (its set-up is the cost).
        if not _long(length, params):
            return 0.0
        side = tx.ts[tx.dst == hub] if inbound else tx.ts[tx.src == hub]
        windows = (side - first) // params.window_ms
        dense = int((np.bincount(windows) >= params.min_fan).sum()) if len(side) else 0
        return float(np.int64(dense) / np.int64(length // params.window_ms + 1))


def _long(length: I64 | int, params: LayeringParams) -> B:
    """Per history (``length``: its last transfer's time after its first): at least two
    ``cycle_horizon_days`` long, in the days it covers, first and last counted (a shop paid
    every day for 60 days has a 60-day history)."""
    return np.asarray(length // _DAY_MS + 1 >= 2 * params.horizon_ms / _DAY_MS, bool)


_FEW_HUBS = 8
"""Up to this many hubs, :meth:`HubHistory.steady` reads their own transfers rather than
building every account's history."""


STEADY_SHARE = 0.5
"""A hub dense in at least this share of its own windows is steady (its business)."""


def _dense_tiles(hub: I64, tile: I64, n_acc: int, min_fan: int) -> I64:
    """Per account: its windows (``tile``: per row, the window of ``hub``'s history it falls
    in) with at least ``min_fan`` of its transfers."""
    width = int(tile.max()) + 1
    cells, count = unique_counts(hub.astype(np.int64) * width + tile)
    return np.bincount(cells[count >= min_fan] // width, minlength=n_acc).astype(np.int64)


def _ptr(size: I64) -> I64:
    return (np.cumsum(size) - size).astype(np.int64)
