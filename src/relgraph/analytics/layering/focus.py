"""The real-time verdict's patterns: the batch definitions, run only where they can hold one transfer.

The verdict on a new transfer ``p`` reports the alerts that hold it, among those the batch
definitions find on its neighbourhood (:mod:`.live`): ``score_pattern_columns(tx,
find_patterns(tx, ctx, params), ctx, params)``, then the alerts with ``p``.
:func:`focused_patterns` gives patterns that score to **the same alerts holding** ``p``
(same transfers, facts, reasons and scores, in the same order) without running every
detector on every transfer of the neighbourhood. It rests on three facts:

* Alerts merge only within one typology (:mod:`.merge`), and scoring an alert reads only
  its own transfers and what is computed over all of ``tx`` (a hub's history, routine
  flows, payer histories), except that a hub's burst is judged against the hub's other
  bursts of its kind. So a detector none of whose patterns can hold ``p`` may be left
  out, and of a kept one only what can reach ``p``'s alerts is needed: all of it, or for
  fans and structuring runs (whose patterns never share a transfer across hubs or payers)
  the patterns of ``p``'s hub or payer (a band run: its payer's holder).
* A cheap necessary condition rules most detectors out (below); when it passes, the
  detector runs as in the batch and is kept only if one of its patterns holds ``p``.
* Fans and structuring runs of one hub (payer) are what the batch finds for it on the
  hub's own transfers (the detectors group by hub first), and a transfer's routine flag
  depends only on the transfers between its two accounts and the neighbourhood's first
  time (:func:`.routine.regular_flows`).

Necessary conditions, per detector, for a pattern to hold ``p`` (from ``src`` to
``dst`` at time ``t``):

* chain, scatter-gather: a hop link or a spoke into or out of ``p``;
* slow scatter-gather: ``p`` not routine, a leg of a slow spoke, and slow spokes from its
  splitter to its gatherer through at least ``min_spokes`` accounts
  (:func:`.detectors.may_gather_slowly`); slow and fast ones are then found together (one
  alert when they share a transfer);
* round trip: ``p`` not routine, and some account that money reached ``src`` from within
  the round-trip horizon before ``t`` (by transfers each later than the one before, at most
  ``cycle_max_hops`` of them; ``src`` itself included) is home to one that money can
  reach from ``dst`` after ``t`` the same way (``dst`` included) — a round trip through
  ``p`` closes such a loop;
* fast fan-in (fan-out): ``min_fan`` transfers into ``dst`` (out of ``src``) within a
  window either side of ``t``; slow: ``p`` not routine, and ``min_fan`` non-routine ones
  within the slow window; a gather-scatter: ``min_spokes`` of them within a window either
  side of ``t``, ``p`` in one of its sides (:func:`.detectors.gather_bursts`), and the
  hub's other side (its scattering, its gathering) there too;
* structuring: ``p``'s amount in the band, between two holders (the run is then sought
  among the band transfers of every account of ``p``'s payer's holder), or ``p`` below the
  reporting threshold beside another such transfer of its payer to the same account (a
  split payment);
* bipartite block, stack: ``p`` not routine, both accounts with at most
  ``block_max_degree`` counterparties, and one of: ``src`` paying two accounts or more,
  ``dst`` paid by two or more and another account paid by two of ``dst``'s payers
  (co-funded: ``p`` may be a block transfer); ``src`` paid by two or more and co-funded,
  ``dst`` paid by two or more (``p`` may be in a block's next layer: a block's receiver
  paying on); ``dst`` paying two or more and another account paying two of ``dst``'s
  payees, ``src`` paying two or more (``p`` may be in a block's previous layer: paying a
  block's sender).
"""

from __future__ import annotations

import numpy as np

from relgraph.analytics.layering.batch import Patterns
from relgraph.analytics.layering.blocks import blocks
from relgraph.analytics.layering.detectors import (
    _Bursts,
    _fan_bursts,
    _gather_scatter,
    _mapped,
    _scatter_gather,
    _slow_scatter_gather,
    gather_bursts,
    gather_scatters,
    kind_starts,
    may_gather_slowly,
)
from relgraph.analytics.layering.hops import _Chains, _starts, _Tx, _walk, hop_and_spoke_links
from relgraph.analytics.layering.params import I64, B, LayeringParams
from relgraph.analytics.layering.roundtrip import _RoundTrips, home_groups, reach, round_trips
from relgraph.analytics.layering.routine import in_band, regular_flows, slow_params
from relgraph.analytics.layering.scoring import (
    _Context,
    _same_holder,
    holder_keys,
    routine_transfers,
)
from relgraph.analytics.layering.structuring import structuring_runs
from relgraph.analytics.sets import isin, unique

_NO_BURSTS = _Bursts([], np.zeros(0, np.int64))


def focused_patterns(tx: _Tx, ctx: _Context, params: LayeringParams, p: int) -> Patterns | None:
    """Patterns among ``tx`` that score to the alerts holding position ``p`` exactly as all
    of :func:`.batch.find_patterns` would (module docstring); None when no pattern holds
    ``p``. Patterns of a typology that cannot hold ``p`` are left out."""
    src, dst = int(tx.src[p]), int(tx.dst[p])
    t_min = int(tx.ts.min()) if ctx.origin is None else ctx.origin
    # The transfers of p's two accounts: every pair between them and a third is whole here.
    near = np.flatnonzero((tx.src == src) | (tx.dst == src) | (tx.src == dst) | (tx.dst == dst))
    linked = _hop_linked(tx, params, p)
    # A hop link needs every detector (below): the flags of all of tx at once, not those
    # of ``near`` first and then all again.
    if linked:
        regular = regular_flows(tx, ctx.opened, params, t_min)
        routine = routine_transfers(tx, ctx, params, regular)
    else:  # on ``near`` only, unless all are needed below
        regular = np.zeros(len(tx), bool)
        regular[near] = regular_flows(tx.take(near), ctx.opened, params, t_min)
        routine = np.zeros(len(tx), bool)
        routine[near] = routine_transfers(tx.take(near), ctx, params, regular[near])
    free = not bool(routine[p])

    one = np.zeros(len(tx), np.int64)
    slow_may = free and bool(may_gather_slowly(tx, params, one, np.array([p], np.int64))[0])
    trip_may = free and _may_close_loop(tx, ctx, params, p)
    block_may = free and _may_be_block(tx, near, routine, params, p)

    in_rows = near[tx.dst[near] == dst]
    out_rows = near[tx.src[near] == src]
    fans = {"fan_in": _NO_BURSTS, "fan_out": _NO_BURSTS}
    fans |= {"slow_fan_in": _NO_BURSTS, "slow_fan_out": _NO_BURSTS}
    # p's accounts' gather-scatter sides holding p, with the hub's other side.
    sides: dict[str, tuple[_Bursts, _Bursts]] = {}
    for name, rows, inbound in (("fan_in", in_rows, True), ("fan_out", out_rows, False)):
        kept = kind_starts(ctx.fan_starts, int(inbound))
        fast, slow = _hub_fans(tx, rows, routine, params, inbound, free, p, kept)
        if _bursts_hold(fast, p) or _bursts_hold(slow, p):
            fans[name], fans[f"slow_{name}"] = fast, slow
        # A gather-scatter at p's hub needs the hub's other side: looked at first (a
        # merchant's few departures), its side holding p (its month of takings) only then.
        hub = dst if inbound else src
        other = near[(tx.src[near] if inbound else tx.dst[near]) == hub]
        opposite = _other_side(tx, other, params, not inbound, ctx.fan_starts)
        if opposite.members:
            side = _gather_side(tx, rows, params, inbound, p, ctx.fan_starts)
            if _bursts_hold(side, p):
                sides[name] = (side, opposite)

    gather: list[I64] = []
    full = linked or trip_may or block_may or slow_may
    if sides:
        gather = _local_gather(tx, sides, params)
        if _sets_hold(gather, p):
            # Gather-scatters of other hubs may share transfers with p's: all of them.
            gather = gather_scatters(tx, params, ctx.fan_starts)
            full = True
        else:
            gather = []

    if full and not linked:
        regular = regular_flows(tx, ctx.opened, params, t_min)
        routine = routine_transfers(tx, ctx, params, regular)

    chains = _Chains({}, {})
    trips = _RoundTrips({}, 0)
    scatter: list[I64] = []
    if linked or trip_may or slow_may:
        trips = round_trips(tx, ctx, params, routine) if trip_may else trips
        in_trip = any((paths == p).any() for paths in trips.paths.values())
        if linked or in_trip or slow_may:
            links, spokes = hop_and_spoke_links(tx, params)
            if linked or in_trip:
                chains = _walk(tx, links, _starts(links, len(tx)), params)
            scatter = _scatter_gather(tx, spokes, params) if linked or slow_may else []
            if slow_may or _sets_hold(scatter, p):
                # Slow ones merge with the fast ones they share a transfer with.
                scatter += _slow_scatter_gather(tx, routine, params)
        in_chain = any((paths == p).any() for paths in chains.paths.values())
        if in_trip or in_chain:
            # Chains typed ``cycle`` merge with round trips: both kept whole, as the batch.
            if linked and not trip_may:
                trips = round_trips(tx, ctx, params, routine)
        else:
            chains, trips = _Chains({}, {}), _RoundTrips({}, 0)
        scatter = scatter if _sets_hold(scatter, p) else []

    runs: list[I64] = []
    # tx is in (source, time) order: the payer's transfers are one slice.
    mine = np.arange(*np.searchsorted(tx.src, [src, src + 1]), dtype=np.int64)
    if in_band(tx.amount[p : p + 1], params)[0] or _split_may(tx, mine, p, params):
        # A band run is its payer's holder's: every account of it (positions ascend, so
        # they stay in (source, time) order).
        keys = holder_keys(ctx, tx.src)
        mine = np.flatnonzero(keys == keys[p]).astype(np.int64)
        sub = tx.take(mine)
        own = _same_holder(ctx, sub.src, sub.dst)
        runs = [mine[r] for r in structuring_runs(sub, params, own, keys[mine])]
        runs = runs if _sets_hold(runs, p) else []

    layers: dict[str, list[I64]] = {"bipartite": [], "stack": []}
    if block_may:
        bipartite, stacks = blocks(tx, routine, params, t_min)
        layers = {
            "bipartite": bipartite if _sets_hold(bipartite, p) else [],
            "stack": stacks if _sets_hold(stacks, p) else [],
        }
    found = Patterns(chains, scatter, gather, fans, regular, trips, runs, layers)
    return found if found.holds(p) else None


def _sets_hold(sets: list[I64], p: int) -> bool:
    return any((members == p).any() for members in sets)


def _bursts_hold(bursts: _Bursts, p: int) -> bool:
    return _sets_hold(bursts.members, p)


def _hop_linked(tx: _Tx, params: LayeringParams, p: int) -> bool:
    """Whether a hop link (:func:`.hops._links`) of a chain or a scatter-gather's spoke
    enters or leaves ``p`` (one passing on at least the loosest of their shares)."""
    t, w, amount = int(tx.ts[p]), params.window_ms, tx.amount
    into = np.flatnonzero((tx.dst == tx.src[p]) & (tx.ts < t) & (tx.ts >= t - w))
    out = np.flatnonzero((tx.src == tx.dst[p]) & (tx.ts > t) & (tx.ts <= t + w))
    with np.errstate(divide="ignore", invalid="ignore"):
        # The same quotient as _links (successor over predecessor), so the same verdict.
        shares = np.concatenate([amount[p] / amount[into], amount[out] / amount[p]])
    return bool(((shares >= params.loosest_share) & (shares <= params.max_pass_share)).any())


def _hub_fans(
    tx: _Tx,
    rows: I64,
    routine: B,
    params: LayeringParams,
    inbound: bool,
    free: bool,
    p: int,
    starts: I64 | None,
) -> tuple[_Bursts, _Bursts]:
    """The fast and slow bursts of one hub (``rows``: its transfers in that direction), or
    none of a scale where the window around ``p`` cannot hold ``min_fan`` of them;
    ``starts``: the fast bursts' kept starts (:mod:`.origins`)."""
    ts, t = tx.ts[rows], int(tx.ts[p])
    w, slow = params.window_ms, slow_params(params)
    fast_may = int(((ts >= t - w) & (ts <= t + w)).sum()) >= params.min_fan
    kept = rows[~routine[rows]]
    sw = slow.window_ms
    slow_ts = tx.ts[kept]
    slow_may = free and int(((slow_ts >= t - sw) & (slow_ts <= t + sw)).sum()) >= params.min_fan
    fast = _mapped(_fan_bursts(tx.take(rows), params, inbound, starts), rows) if fast_may else None
    slow_bursts = _mapped(_fan_bursts(tx.take(kept), slow, inbound), kept) if slow_may else None
    # Either scale holding the transfer needs the other whole (their pieces merge).
    if fast is not None and _bursts_hold(fast, p) and slow_bursts is None:
        slow_bursts = _mapped(_fan_bursts(tx.take(kept), slow, inbound), kept)
    if slow_bursts is not None and _bursts_hold(slow_bursts, p) and fast is None:
        fast = _mapped(_fan_bursts(tx.take(rows), params, inbound, starts), rows)
    return fast or _NO_BURSTS, slow_bursts or _NO_BURSTS


def _gather_side(
    tx: _Tx, rows: I64, params: LayeringParams, inbound: bool, p: int, starts: I64 | None
) -> _Bursts:
    """One hub's gather-scatter sides (:func:`.detectors.gather_bursts`; ``rows``: its
    transfers in that direction), or none where the window around ``p`` cannot hold
    ``min_spokes`` of them."""
    ts, t, w = tx.ts[rows], int(tx.ts[p]), params.window_ms
    if int(((ts >= t - w) & (ts <= t + w)).sum()) < params.min_spokes:
        return _NO_BURSTS
    return _mapped(gather_bursts(tx.take(rows), params, inbound, starts), rows)


def _other_side(
    tx: _Tx, rows: I64, params: LayeringParams, inbound: bool, starts: I64 | None
) -> _Bursts:
    """One hub's gather-scatter sides in one direction (``rows``: its transfers that way),
    none where they are too few to make one (``min_spokes``)."""
    if len(rows) < params.min_spokes:
        return _NO_BURSTS
    return _mapped(gather_bursts(tx.take(rows), params, inbound, starts), rows)


def _local_gather(
    tx: _Tx, holding: dict[str, tuple[_Bursts, _Bursts]], params: LayeringParams
) -> list[I64]:
    """Gather-scatters at ``p``'s two accounts from their own sides holding ``p`` (with
    the hub's other side: its scattering after a gathering at ``dst``, its gathering
    before a scattering at ``src``)."""
    out: list[I64] = []
    if "fan_in" in holding:  # p arrives at dst: dst's gathering, then its scattering
        gathered, scattered = holding["fan_in"]
        out += _gather_scatter(tx, gathered, scattered, params)
    if "fan_out" in holding:  # p leaves src: src's gathering, then its scattering
        scattered, gathered = holding["fan_out"]
        out += _gather_scatter(tx, gathered, scattered, params)
    return out


def _may_close_loop(tx: _Tx, ctx: _Context, params: LayeringParams, p: int) -> bool:
    """The round-trip condition of the module docstring: money that reached ``src`` can
    come back home to its sender after ``p`` (time-respecting, within the horizon)."""
    t, horizon = int(tx.ts[p]), params.horizon_ms
    n_acc = len(ctx.person)
    group, network = home_groups(ctx, n_acc)
    near = (tx.ts >= t - horizon) & (tx.ts <= t + horizon)
    after = np.flatnonzero(near & (tx.ts > t))
    before = np.flatnonzero(near & (tx.ts < t))
    forth, back = reach(tx, p, after, before, params.cycle_max_hops - 1, n_acc)
    if _meet(group[back], group[forth]):
        return True
    nets_back, nets_forth = network[back], network[forth]
    return _meet(nets_back[nets_back >= 0], nets_forth[nets_forth >= 0])


def _meet(a: I64, b: I64) -> bool:
    """Whether ``a`` and ``b`` share a value: ``np.intersect1d(a, b).size`` without
    building the intersection (two uniques and a sort of both, per verdict)."""
    return bool(len(a) and len(b) and isin(a, b).any())


def _may_be_block(tx: _Tx, near: I64, routine: B, params: LayeringParams, p: int) -> bool:
    """The block and stack condition of the module docstring (degrees as
    :func:`.blocks.blocks` counts them: distinct counterparties out plus distinct
    counterparties in)."""
    src, dst = int(tx.src[p]), int(tx.dst[p])

    def degree(a: int) -> tuple[int, int]:
        outs = unique(tx.dst[near[tx.src[near] == a]])  # not ``np.unique``'s set-up
        ins = unique(tx.src[near[tx.dst[near] == a]])
        return len(outs), len(ins)

    src_out, src_in = degree(src)
    dst_out, dst_in = degree(dst)
    limit = params.block_max_degree
    if src_out + src_in > limit or dst_out + dst_in > limit:
        return False
    # In a block: dst is co-funded (another account paid by two of dst's payers).
    if src_out >= 2 and dst_in >= 2 and _dealt_twice(tx, near, dst, inbound=True):
        return True
    # In a block's next layer: src is a block's receiver (co-funded), dst paid by two.
    if src_in >= 2 and dst_in >= 2 and _dealt_twice(tx, near, src, inbound=True):
        return True
    # In a block's previous layer: dst is a block's sender (another account pays two of
    # its payees), src pays two.
    return src_out >= 2 and dst_out >= 2 and _dealt_twice(tx, near, dst, inbound=False)


def _dealt_twice(tx: _Tx, near: I64, a: int, *, inbound: bool) -> bool:
    """Whether an account other than ``a`` is paid by two of ``a``'s payers (``inbound``)
    or pays two of ``a``'s payees (``near``: every transfer of ``a``)."""
    side, other = (tx.dst, tx.src) if inbound else (tx.src, tx.dst)
    parties = unique(other[near[side[near] == a]])
    theirs = np.flatnonzero(isin(other, parties) & (side != a))
    width = int(max(tx.src.max(initial=0), tx.dst.max(initial=0))) + 1
    dealt = unique(side[theirs] * width + other[theirs]) // width
    return bool(len(dealt) > 1 and (dealt[1:] == dealt[:-1]).any())


def _split_may(tx: _Tx, mine: I64, p: int, params: LayeringParams) -> bool:
    """Necessary for a split payment holding ``p`` (structuring.structuring_runs): ``p`` below
    the reporting threshold and another such transfer of its payer to the same account."""
    threshold = params.reporting_threshold
    if not tx.amount[p] < threshold:
        return False
    same = (tx.dst[mine] == tx.dst[p]) & (tx.amount[mine] < threshold)
    return int(same.sum()) >= 2  # ``p`` itself and one more
