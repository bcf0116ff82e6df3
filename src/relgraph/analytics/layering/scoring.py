"""Alerts: the facts of each pattern, the reasons they give and the noisy-OR risk score."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Final

import numpy as np
import numpy.typing as npt

from relgraph.analytics.layering.alerts import (
    DISCOUNTS,
    Alerts,
    Columns,
    ScoredColumns,
    noisy_or,
)
from relgraph.analytics.layering.amounts import alert_amounts, highs, threshold_avoidance
from relgraph.analytics.layering.blocks import block_width, layer_pass_through, unrelated_pairs
from relgraph.analytics.layering.detectors import _Bursts
from relgraph.analytics.layering.funds import funded_share, unfunded_weight
from relgraph.analytics.layering.hops import (
    _Chains,
    _merge_round_trips,
    _new_round_trips,
    _Tx,
    same_transfers,
)
from relgraph.analytics.layering.hubs import judge_hubs, strangers_weight, unrelated_persons
from relgraph.analytics.layering.opening import opening_moments
from relgraph.analytics.layering.params import (
    _DAY_MS,
    _HOUR_MS,
    F64,
    I64,
    LINKS,
    B,
    LayeringParams,
)
from relgraph.analytics.layering.routine import in_band, regular_flows
from relgraph.analytics.layering.season import Takings, shop_fan_levels
from relgraph.analytics.layering.structuring import split_payments
from relgraph.analytics.sets import one_of, unique
from relgraph.config import data_zone
from relgraph.graph import Projection

__all__ = ["DISCOUNTS", "Alerts", "Columns", "ScoredColumns", "noisy_or", "routine_transfers"]


@dataclass(frozen=True)
class _Context:
    """Per-account and per-person data the scoring reads."""

    opened: I64
    """Per account: its opening day's first moment in epoch ms (−1 when unknown, :mod:`.opening`)."""
    person: I64
    enterprise: I64
    household: I64 | None
    network: I64 | None
    device_keys: I64
    """Sorted ``person * n_devices + device`` for private devices."""
    device_ptr: I64
    device_of: I64
    n_devices: int
    fan_peaks: F64 | None = None
    """Per account, paying out and taking in: the largest intensity of its 72-hour fan
    pieces no longer among the transfers scanned (:mod:`.peaks`; None: the scan has them
    all, as the batch's has)."""
    origin: int | None = None
    """The moment (epoch ms) the 30-day periods of established relationships and blocks
    count from: the bank's first eligible transfer, so that a scan of part of the bank (a
    verdict's neighbourhood, an on-demand check) cuts time where the batch does (None: the
    first of the transfers scanned, which for the batch is the bank's)."""
    takings: Takings | None = None
    """The bank's takings per hour, at absolute times (:mod:`.season`; None: levels 1)."""
    peers: tuple[float, float, float, float] | None = None
    """The bank's peers' figures (:mod:`.peers`), 72-hour out and in, 30-day out and in, for
    a scan of part of it (:mod:`.peerctx`; None: those of the transfers scanned)."""
    fan_starts: I64 | None = None
    """Per account, fan kind, where its fan burst began (:mod:`.origins`; None: in the scan)."""


def _context(
    projection: Projection,
    params: LayeringParams,
    households_label: npt.ArrayLike | None,
    networks_label: npt.ArrayLike | None,
) -> _Context:
    attrs = projection.nodes["Account"].attrs
    opened = attrs["opened_at"].to_numpy(dtype=np.float64, na_value=np.nan)
    opened_ms = opening_moments(opened, data_zone(projection.meta))  # the load's days
    uses = projection.edge("Person", "USES_DEVICE", "Device")
    n_dev = max(uses.n_target, 1)
    users = np.bincount(uses.dst, minlength=n_dev)
    private = users[uses.dst] <= params.max_device_sharers
    src = uses.src.astype(np.int64)[private]
    dst = uses.dst.astype(np.int64)[private]
    ptr = np.zeros(uses.n_source + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=uses.n_source), out=ptr[1:])
    return _Context(
        opened=opened_ms,
        person=attrs["person"].to_numpy(dtype=np.int64),
        enterprise=attrs["enterprise"].to_numpy(dtype=np.int64),
        household=None if households_label is None else np.asarray(households_label, np.int64),
        network=None if networks_label is None else np.asarray(networks_label, np.int64),
        device_keys=np.sort(src * n_dev + dst),
        device_ptr=ptr,
        device_of=dst,
        n_devices=n_dev,
    )


def _share_device(ctx: _Context, p: I64, q: I64) -> B:
    """Per pair: do persons ``p`` and ``q`` use one private device?"""
    result = np.zeros(len(p), bool)
    ok = (p >= 0) & (q >= 0) & (p != q)
    if not ok.any() or len(ctx.device_keys) == 0:
        return result
    pair = np.flatnonzero(ok)
    count = ctx.device_ptr[p[pair] + 1] - ctx.device_ptr[p[pair]]
    which = np.repeat(pair, count)
    offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    device = ctx.device_of[ctx.device_ptr[p[which]] + offset]
    key = q[which] * ctx.n_devices + device
    pos = np.minimum(np.searchsorted(ctx.device_keys, key), len(ctx.device_keys) - 1)
    hit = ctx.device_keys[pos] == key
    result[which[hit]] = True
    return result


def _linked(ctx: _Context, a: I64, b: I64) -> I64:
    """Per pair of accounts: the strongest :data:`LINKS` code (0 when unrelated)."""
    code = np.zeros(len(a), np.int64)
    pa_, pb = ctx.person[a], ctx.person[b]
    ea, eb = ctx.enterprise[a], ctx.enterprise[b]
    persons = (pa_ >= 0) & (pb >= 0)
    tests: list[tuple[int, B]] = [
        (5, _share_device(ctx, pa_, pb)),
    ]
    for value, label in ((4, ctx.network), (3, ctx.household)):
        if label is not None:
            tests.append((value, _same_label(label, pa_, pb, persons)))
    tests.append((2, (persons & (pa_ == pb)) | ((ea >= 0) & (ea == eb))))
    tests.append((1, a == b))
    # Weaker codes first, so a stronger one overwrites them.
    for value, hit in tests:
        code[hit] = value
    return code


def _same_label(label: I64, pa_: I64, pb: I64, persons: B) -> B:
    """Per pair of persons (``persons``: both ends are one): the same network or household?"""
    if len(label) == 0:  # no persons at all (an enterprise-only load): no pair is linked
        return np.zeros(len(pa_), bool)
    same: B = label[np.maximum(pa_, 0)] == label[np.maximum(pb, 0)]
    return persons & same


_LINK_WEIGHT: Final = np.array([0.0, 1.0, 1.0, 0.8, 0.7, 0.7])
"""Per LINKS code, as a share of ``linked_weight`` (0.5 → 0.5, 0.5, 0.4, 0.35, 0.35)."""


def _same_holder(ctx: _Context, a: I64, b: I64) -> B:
    """Per transfer: between two accounts of one person or one enterprise."""
    pa_, pb = ctx.person[a], ctx.person[b]
    ea, eb = ctx.enterprise[a], ctx.enterprise[b]
    return np.asarray(((pa_ >= 0) & (pa_ == pb)) | ((ea >= 0) & (ea == eb)), bool)


def holder_keys(ctx: _Context, a: I64) -> I64:
    """Per account in ``a``: one key per holder — its person, else its enterprise, else
    the account itself (the accounts of one person or one enterprise share a key; keys of
    different kinds never meet)."""
    n_person = int(ctx.person.max(initial=-1)) + 1
    n_enterprise = int(ctx.enterprise.max(initial=-1)) + 1
    person, enterprise = ctx.person[a], ctx.enterprise[a]
    return np.where(
        person >= 0,
        person,
        np.where(enterprise >= 0, n_person + enterprise, n_person + n_enterprise + a),
    ).astype(np.int64)


def _family(ctx: _Context, a: I64, b: I64) -> B:
    """Per transfer: between two accounts of one holder or one household."""
    pa_, pb = ctx.person[a], ctx.person[b]
    persons = (pa_ >= 0) & (pb >= 0)
    same = (persons & (pa_ == pb)) | (
        (ctx.enterprise[a] >= 0) & (ctx.enterprise[a] == ctx.enterprise[b])
    )
    if ctx.household is not None and len(ctx.household):  # none on a bank without persons
        hh = ctx.household
        same |= persons & (hh[np.maximum(pa_, 0)] == hh[np.maximum(pb, 0)])
    return np.asarray(same, bool)


def routine_transfers(
    tx: _Tx, ctx: _Context, params: LayeringParams, regular: B | None = None
) -> B:
    """Per transfer: routine (a regular flow or a family transfer, never in the
    structuring band; definitions in :mod:`~relgraph.analytics.layering.routine`)."""
    if regular is None:
        regular = regular_flows(tx, ctx.opened, params, ctx.origin)
    routine = regular | _family(ctx, tx.src, tx.dst)
    return np.asarray(routine & ~in_band(tx.amount, params), bool)


def with_highs(tx: _Tx, ctx: _Context, params: LayeringParams) -> _Tx:
    """``tx`` with every transfer's payer and payee highs (:func:`.amounts.highs`): those it
    carries (the real-time index's, from the whole past), else judged on ``tx`` itself."""
    if tx.payer_high is not None and tx.payee_high is not None:
        return tx
    own = _same_holder(ctx, tx.src, tx.dst)
    payer, payee = highs(tx, params, own, np.arange(len(tx), dtype=np.int64))
    return same_transfers(tx, payer, payee)


def _speed_weight(dwell_ms: F64) -> F64:
    # Nested ``where``s, not ``np.select`` (its set-up costs more than a verdict's alerts).
    day = np.where(dwell_ms <= _DAY_MS, 0.15, 0.0)
    return np.where(dwell_ms <= _HOUR_MS, 0.3, np.where(dwell_ms <= 6 * _HOUR_MS, 0.25, day))


def _sum_by(group: I64, values: F64, n: int) -> F64:
    return np.asarray(np.bincount(group, weights=values, minlength=n), np.float64)


def _assemble(
    tx: _Tx,
    chains: _Chains,
    scatter: list[I64],
    gather_scatter: list[I64],
    fans: dict[str, _Bursts],
    ctx: _Context,
    params: LayeringParams,
    round_trips: dict[int, I64] | None = None,
    structuring_runs: list[I64] | None = None,
    truncations: dict[str, int] | None = None,
    regular: B | None = None,
    layers: dict[str, list[I64]] | None = None,
) -> Alerts:
    """Alerts with their facts, reason weights and scores, from positions into ``tx``."""
    return _assemble_columns(
        tx, chains, scatter, gather_scatter, fans, ctx, params, round_trips,
        structuring_runs, truncations, regular, layers,
    ).to_alerts()  # fmt: skip


def _assemble_columns(
    tx: _Tx,
    chains: _Chains,
    scatter: list[I64],
    gather_scatter: list[I64],
    fans: dict[str, _Bursts],
    ctx: _Context,
    params: LayeringParams,
    round_trips: dict[int, I64] | None = None,
    structuring_runs: list[I64] | None = None,
    truncations: dict[str, int] | None = None,
    regular: B | None = None,
    layers: dict[str, list[I64]] | None = None,
    segment: I64 | None = None,
) -> ScoredColumns:
    """:func:`_assemble` without pandas; ``segment`` as for :class:`.routine.HubHistory`."""
    round_trips = _new_round_trips(tx, chains, round_trips or {})
    typ: list[npt.NDArray[np.object_]] = []
    members: list[I64] = []
    sizes: list[I64] = []
    origin: list[I64] = []
    end: list[I64] = []
    hops: list[I64] = []
    dwell: list[F64] = []
    amount_in: list[F64] = []
    amount_out: list[F64] = []
    truncated: list[B] = []

    for k in sorted(chains.paths):
        paths = chains.paths[k]
        a0 = tx.src[paths[:, 0]]
        ak = tx.dst[paths[:, -1]]
        n = len(paths)
        members.append(paths.ravel())
        sizes.append(np.full(n, k, np.int64))
        origin.append(a0)
        end.append(ak)
        hops.append(np.full(n, k, np.int64))
        dwell.append(np.median(np.diff(tx.ts[paths], axis=1), axis=1).astype(np.float64))
        amount_in.append(tx.amount[paths[:, 0]])
        amount_out.append(tx.amount[paths[:, -1]])
        truncated.append(chains.truncated[k])
        typ.append(np.full(n, "layering_chain", object))
    n_chain = sum(len(t) for t in typ)
    for k in sorted(round_trips):
        union, size, paths = _merge_round_trips(tx, round_trips[k])
        n = len(paths)
        members.append(union)
        sizes.append(size)
        origin.append(tx.src[paths[:, 0]])
        end.append(tx.dst[paths[:, -1]])
        hops.append(np.full(n, k, np.int64))
        dwell.append(np.median(np.diff(tx.ts[paths], axis=1), axis=1).astype(np.float64))
        amount_in.append(tx.amount[paths[:, 0]])
        amount_out.append(tx.amount[paths[:, -1]])
        truncated.append(np.zeros(n, bool))
        typ.append(np.full(n, "cycle", object))
    n_round = sum(len(t) for t in typ)
    hub_sets: list[tuple[int, I64, list[I64], bool, str]] = []

    def add_sets(name: str, sets: list[I64], hub: I64 | None, slow: bool = False) -> None:
        if not sets:
            return
        n = len(sets)
        flat = np.concatenate(sets)
        size = np.array([len(s) for s in sets], np.int64)
        ptr = np.zeros(n + 1, np.int64)
        np.cumsum(size, out=ptr[1:])
        # Time order inside each set, ties by transfer: the order merging gives
        # (merge.py), so an alert's transfers (and its id) do not depend on whether
        # other alerts of the scan merged.
        grp = np.repeat(np.arange(n), size)
        at, t0 = tx.ts[flat], int(tx.ts[flat].min())
        span = int(at.max()) - t0 + 1
        # (set, time) packed into one key when it fits: two sort passes instead of three;
        # with the transfer too when that fits (a request's union): one sort of distinct
        # keys (a set holds a transfer once), the same order.
        edge = tx.edge[flat]
        width = int(edge.max()) + 1
        if n * span * width < 1 << 62:
            order = np.argsort((grp * span + (at - t0)) * width + edge)
        elif n * span < 1 << 62:
            order = np.lexsort((edge, grp * span + (at - t0)))
        else:
            order = np.lexsort((tx.edge[flat], at, grp))
        flat = flat[order]
        members.append(flat)
        sizes.append(size)
        typ.append(np.full(n, name, object))
        first_ts = tx.ts[flat[ptr[:-1]]]
        last_ts = tx.ts[flat[ptr[1:] - 1]]
        truncated.append(np.zeros(n, bool))
        if name == "scatter_gather":
            # Middle accounts are the sources of the second legs; facts per episode.
            srcs = tx.src[flat]
            s = tx.src[flat[ptr[:-1]]]
            leg2 = srcs != np.repeat(s, size)
            first_leg = ~leg2
            into = _sum_by(grp, np.where(first_leg, tx.amount[flat], 0.0), n)
            outof = _sum_by(grp, np.where(leg2, tx.amount[flat], 0.0), n)
            g = tx.dst[flat[ptr[1:] - 1]]
            spokes = np.array(
                [
                    len(
                        np.unique(tx.dst[flat[ptr[i] : ptr[i + 1]][first_leg[ptr[i] : ptr[i + 1]]]])
                    )
                    for i in range(n)
                ],
                np.int64,
            )
            origin.append(s)
            end.append(g)
            hops.append(spokes)
            amount_in.append(into)
            amount_out.append(outof)
            dwell.append(((last_ts - first_ts) / 2.0).astype(np.float64))
        else:
            assert hub is not None
            if name in ("fan_in", "fan_out", "gather_scatter"):
                hub_sets.append((sum(len(t) for t in typ) - n, hub, sets, slow, name))
            # A burst has a hub, not two endpoints: ``linked_endpoints`` never fires on it.
            origin.append(hub)
            end.append(np.full(n, -1, np.int64))
            hops.append(size)
            total = _sum_by(grp, tx.amount[flat], n)
            amount_in.append(total)
            amount_out.append(total)
            dwell.append((last_ts - first_ts).astype(np.float64))

    add_sets("scatter_gather", scatter, None)
    gs_hub = np.array([int(tx.dst[s[np.argmin(tx.ts[s])]]) for s in gather_scatter], np.int64)
    add_sets("gather_scatter", gather_scatter, gs_hub)
    add_sets("fan_in", fans["fan_in"].members, fans["fan_in"].hub)
    add_sets("fan_out", fans["fan_out"].members, fans["fan_out"].hub)
    for name in ("fan_in", "fan_out"):
        if f"slow_{name}" in fans:
            add_sets(name, fans[f"slow_{name}"].members, fans[f"slow_{name}"].hub, slow=True)
    for name, found in (layers or {}).items():
        add_sets(name, found, np.full(len(found), -1, np.int64))
    runs = structuring_runs or []
    add_sets("structuring", runs, np.array([int(tx.src[r[0]]) for r in runs], np.int64))

    typology = np.concatenate(typ) if typ else np.zeros(0, object)
    n = len(typology)
    flat = np.concatenate(members) if members else np.zeros(0, np.int64)
    size = np.concatenate(sizes) if sizes else np.zeros(0, np.int64)
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(size, out=ptr[1:])
    o = np.concatenate(origin) if origin else np.zeros(0, np.int64)
    e = np.concatenate(end) if end else np.zeros(0, np.int64)
    grp = np.repeat(np.arange(n), size)
    ts = tx.ts[flat]
    first_ts = np.full(n, 0, np.int64)
    last_ts = np.full(n, 0, np.int64)
    if n:
        first_ts = np.minimum.reduceat(ts, ptr[:-1]) if len(ts) else first_ts
        last_ts = np.maximum.reduceat(ts, ptr[:-1]) if len(ts) else last_ts

    # New accounts: each distinct account of an alert, opened shortly before its first transfer.
    acc = np.concatenate([tx.src[flat], tx.dst[flat]])
    acc_grp = np.concatenate([grp, grp])
    n_acc = int(acc.max(initial=0)) + 1
    key = unique(acc_grp.astype(np.int64) * n_acc + acc)
    pairs = np.stack([key // n_acc, key % n_acc], axis=1)
    opened = ctx.opened[pairs[:, 1]]
    start = first_ts[pairs[:, 0]]
    fresh = (
        (opened >= 0) & (opened >= start - params.new_account_days * _DAY_MS) & (opened <= start)
    )
    new_accounts = np.bincount(pairs[:, 0][fresh], minlength=n).astype(np.int64)
    n_accounts = np.bincount(pairs[:, 0], minlength=n).astype(np.int64)

    linked = np.zeros(n, np.int64)
    ends = np.flatnonzero((o >= 0) & (e >= 0))
    linked[ends] = _linked(ctx, o[ends], e[ends])
    is_chain = np.arange(n) < n_chain
    is_round = (np.arange(n) >= n_chain) & (np.arange(n) < n_round)
    cycle = is_chain & one_of(linked, (1, 2)) | is_chain & (
        (linked == 3) | ((linked == 4) & (ctx.network is not None))
    )
    typology[cycle] = "cycle"

    low = params.reporting_threshold * (1 - params.structuring_band)
    amounts = tx.amount[flat]
    band = (amounts >= low) & (amounts < params.reporting_threshold)
    # Each band transfer is evidence as far as its payer avoids the threshold.
    # Pieces of a split payment count whole: splitting is the avoidance.
    own = _same_holder(ctx, tx.src, tx.dst)
    split = split_payments(tx, params, own)[flat]
    avoidance = np.where(split, 1.0, np.where(band, threshold_avoidance(tx, params)[flat], 0.0))
    band |= split
    structuring = np.bincount(grp[band], minlength=n).astype(np.int64)
    avoided = _sum_by(grp, avoidance, n)

    # Routine: regular flows between long-lived accounts, and family transfers.
    # Regular flows count by their share; family transfers only when the whole alert is
    # family money (a hop between one's own accounts inside a chain is a layering step).
    if regular is None:
        regular = regular_flows(tx, ctx.opened, params, ctx.origin)
    regular = regular & ~in_band(tx.amount, params)
    family = _family(ctx, tx.src, tx.dst) & ~in_band(tx.amount, params)
    regular_share = _sum_by(grp, regular[flat].astype(np.float64), n) / np.maximum(size, 1)
    family_share = _sum_by(grp, family[flat].astype(np.float64), n) / np.maximum(size, 1)
    routine_share = np.where(family_share >= 1.0, 1.0, regular_share)
    # Fans and gather-scatters against their hubs' histories (:mod:`.hubs`).
    # A fan-in at an enterprise's account is judged against its peers' season (season.py).
    season = shop_fan_levels(
        ctx.takings, ctx.enterprise, hub_sets, first_ts, last_ts, tx.ts, tx.dst
    )
    excess, passed, parties, hub_new, slow_fan, routine_hub = judge_hubs(
        tx, hub_sets, first_ts, ctx.opened, params, segment, ctx.fan_peaks, season, ctx.origin,
        ctx.peers)  # fmt: skip

    a_in = np.concatenate(amount_in) if amount_in else np.zeros(0)
    a_out = np.concatenate(amount_out) if amount_out else np.zeros(0)
    retained = np.where(a_in > 0, 1 - a_out / np.where(a_in > 0, a_in, 1), 0.0)
    h = np.concatenate(hops) if hops else np.zeros(0, np.int64)
    d = np.concatenate(dwell) if dwell else np.zeros(0)
    trunc = np.concatenate(truncated) if truncated else np.zeros(0, bool)
    layered = one_of(typology, ("bipartite", "stack"))
    passing = np.zeros(len(flat), bool)  # passing on what was just received (blocks.py)
    if layered.any():  # what a stack's middle layer passed on to the next
        held = layered[grp]
        share, passing[held] = layer_pass_through(tx, flat[held], grp[held], n)
        passed[layered] = share[layered]
    hubbed = one_of(typology, ("fan_in", "fan_out", "gather_scatter"))
    # Fans and gather-scatters of a person among strangers (hubs.py), blocks and stacks of
    # persons paying strangers (blocks.py).
    strangers = np.zeros(n)
    kin = partial(_linked, ctx)
    if hubbed.any():
        held = hubbed[grp]
        strangers = unrelated_persons(tx, flat[held], grp[held], o, ctx.person, kin, n)
    if layered.any():
        held = layered[grp]
        unrelated = unrelated_pairs(tx, flat[held], grp[held], ctx.person, kin, n)
        strangers = np.where(layered, unrelated, strangers)
    w_strangers = strangers_weight(strangers)
    # A fan-out among strangers paying out what never arrived before it (funds.py).
    funded = np.full(n, np.nan)
    among = (typology == "fan_out") & (w_strangers > 0)
    if among.any():
        held = among[grp]
        funded = funded_share(tx, flat[held], grp[held], o, last_ts, params)
    # Amounts against the payers' and hubs' own pasts (amounts.py).
    ordinary, rare = alert_amounts(
        tx, flat, grp, typology, (is_chain, is_round), params, own, passing, w_strangers > 0
    )
    # Only bipartite blocks have a width (0 for every other alert): their rows alone.
    in_block = (typology == "bipartite")[grp]
    width = block_width(tx, flat[in_block], grp[in_block], n)
    facts: Columns = {
        "hops": h,
        "first_ts": first_ts,
        "last_ts": last_ts,
        "amount_in": a_in,
        "amount_out": a_out,
        "retained": retained,
        "median_dwell_ms": d,
        "new_accounts": new_accounts,
        "linked": np.asarray(LINKS, dtype=object)[linked],
        "structuring": structuring,
        "fan_excess": excess,
        "pass_through": passed,
        "routine": routine_share,
        "ordinary": ordinary,
        "unusual_amounts": rare,
        "truncated": trunc,
        "round_trip": is_round,
        "slow_fan": slow_fan,
        "block_width": width,
        "unrelated_persons": strangers,
        "funded": funded,
        "origin": o,
        "end": e,
    }
    fan = hubbed | (typology == "structuring")
    extra = np.where(is_chain | is_round, h - params.min_hops, h - params.min_spokes)
    longer = np.minimum(0.05 * np.maximum(extra, 0), 0.2)
    w_hops = np.where(fan, 0.1, params.hop_weight + longer)
    # Chains and scatter-gathers pass the money on by definition; their everyday kind is
    # routine (params.pass_weight).
    passing_on = one_of(typology, ("layering_chain", "scatter_gather"))
    w_hops = np.where(passing_on, params.pass_weight + longer, w_hops)
    # A two-hop round trip (lent and paid back) is no longer than any everyday exchange.
    w_hops = np.where(is_round & (h < params.min_hops), 0.0, w_hops)
    w_speed = _speed_weight(d)
    # Blocks have no single way in and out: what a layer kept is not measured.
    pass_through = ~fan & ~is_round & ~layered & (retained < 0.1)
    w_retained = np.where(pass_through, 0.1, 0.0)
    # A share, not a count: a payroll run reaching 240 employees, 6 of them new, is not a
    # flow through fresh accounts; a chain through 2 new accounts of 4 is.
    w_new = 0.6 * new_accounts / np.maximum(n_accounts, 1)
    w_link = params.linked_weight * _LINK_WEIGHT[linked]
    w_linked = np.where(is_round, 0.0, w_link)
    w_round = np.where(is_round, 0.9 * w_link, 0.0)
    w_struct = 0.6 * avoided / np.maximum(size, 1)
    # Fan excess: nothing up to fan_excess_ratio times the usual, 0.45 from four times that.
    w_excess = np.where(
        hubbed,
        0.45 * np.clip(np.log2(np.maximum(excess, 1e-9) / params.fan_excess_ratio) / 2, 0, 1),
        0.0,
    )
    # A new hub and passing the money straight on are mule evidence with an unusual fan
    # only: a new shop's customers and its daily settlement are not.
    unusual = hubbed & (w_excess > 0)
    # An unusual fan's size is evidence as a scatter-gather's spokes are (+0.05 per
    # counterparty past min_fan, at most +0.25), as far as the fan is unusual (scaled by
    # its excess weight): a usual fan's size is its business.
    grown = np.minimum(0.05 * np.maximum(parties - params.min_fan, 0), 0.25) * w_excess / 0.45
    w_hops = np.where(unusual & (typology != "gather_scatter"), 0.1 + grown, w_hops)
    # A fan's new accounts count by the share rule (recruited mules are new accounts; a
    # payroll reaching a few new hires is a small share), a new hub of an unusual fan 0.3.
    w_new = np.where(hubbed, np.maximum(w_new, np.where(unusual & hub_new, 0.3, 0.0)), w_new)
    passes = (passed >= params.min_pass_share) & (passed <= params.max_pass_share)
    mule = unusual | (typology == "gather_scatter") & (w_strangers > 0)  # strangers' money on
    w_pass = np.where(mule & passes, 0.3, np.where(layered, 0.3 * passed, 0.0))
    w_routine = np.where(typology == "structuring", 0.0, -params.routine_weight * routine_share)
    w_ordinary = -params.ordinary_weight * ordinary
    # A wide block: several payers each paying the same several payees (blocks.py).
    w_wide = np.clip(0.1 * (width - 2), 0.0, 0.2)
    weights: Columns = {
        "hops": w_hops,
        "speed": w_speed,
        "retained": w_retained,
        "new_accounts": w_new,
        "linked_endpoints": w_linked,
        "round_trip": w_round,
        "structuring": w_struct,
        "fan_excess": w_excess,
        "pass_through": w_pass,
        "routine": w_routine,
        "unusual_amounts": 0.3 * rare,
        "many_to_many": w_wide,
        "unrelated_persons": w_strangers,
        "unfunded": unfunded_weight(funded, among),
        "ordinary": w_ordinary,
    }
    score = noisy_or(weights)
    alerts = ScoredColumns(
        typology,
        ptr,
        tx.edge[flat],
        facts,
        weights,
        np.asarray(np.clip(score, 0.0, 1.0), np.float64),
        params,
        dict(truncations or {}),
    )
    return alerts.take(np.flatnonzero(~routine_hub)) if routine_hub.any() else alerts
