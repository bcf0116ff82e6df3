"""Scatter-gather, fan-in/fan-out bursts and gather-scatter: the detectors beside chains."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from relgraph.analytics.layering.hops import (
    _keys,
    _Links,
    _links,
    _Tx,
    linked_to,
    slow_spoke_params,
)
from relgraph.analytics.layering.params import (
    F64,
    I64,
    B,
    LayeringParams,
)
from relgraph.analytics.sets import (
    argsort_stable,
    dense_ids,
    isin,
    run_starts,
    sort_values,
    unique,
)


def _episodes(group: I64, ts: I64, window: int) -> I64:
    """Episode number of each row (rows sorted by group, ts): a new one at a new group or a gap."""
    if len(group) == 0:
        return np.zeros(0, np.int64)
    new = np.ones(len(group), bool)
    new[1:] = (group[1:] != group[:-1]) | (np.diff(ts) > window)
    return np.cumsum(new) - 1


def _distinct_count(episode: I64, value: I64, n_episodes: int) -> I64:
    if len(episode) == 0:
        return np.zeros(n_episodes, np.int64)
    # One integer key per (episode, value): a 1-D unique, far faster than rows.
    width = int(value.max()) + 1
    pairs = unique(episode.astype(np.int64) * width + value)
    return np.bincount(pairs // width, minlength=n_episodes).astype(np.int64)


def _scatter_gather(tx: _Tx, links: _Links, params: LayeringParams) -> list[I64]:
    """Scatter-gather episodes as lists of _Tx positions (definition above)."""
    e, f = links.pred, links.succ
    s, m, g = tx.src[e], tx.dst[e], tx.dst[f]
    order = np.lexsort((f, e, tx.ts[e], g, s))
    e, f, s, m, g = e[order], f[order], s[order], m[order], g[order]
    n_accounts = int(max(tx.src.max(initial=0), tx.dst.max(initial=0))) + 1
    episode = _episodes(s * n_accounts + g, tx.ts[e], params.window_ms)
    n_ep = int(episode.max(initial=-1)) + 1
    spokes = _distinct_count(episode, m, n_ep)
    keep = spokes[episode] >= params.min_spokes
    return _ragged_union(episode[keep], e[keep], f[keep])


def _slow_scatter_gather(tx: _Tx, routine: B, params: LayeringParams) -> list[I64]:
    """Slow scatter-gathers (definition above): spokes of money that is not routine whose
    second transfer is up to the round-trip horizon after the first, episodes cut at gaps
    longer than the horizon; positions into ``tx``."""
    kept = np.flatnonzero(~routine).astype(np.int64)
    if len(kept) == 0:
        return []
    sub = tx.take(kept)
    slow = slow_spoke_params(params)
    return [kept[m] for m in _scatter_gather(sub, _links(sub, slow), slow)]


def may_gather_slowly(tx: _Tx, params: LayeringParams, seg_row: I64, p: I64) -> B:
    """Per verdict ``k`` (``p[k]``: its transfer's position; ``seg_row``: per transfer, the
    verdict whose neighbourhood holds it; neighbourhoods share no account): whether a slow
    scatter-gather may hold ``p[k]`` — a necessary condition, cheap beside the slow
    scatter-gathers of the whole neighbourhood (a merchant's month, routine flows).

    ``p[k]`` is one leg of a slow spoke ``s → m → g``, and slow spokes from ``s`` to ``g``
    pass through at least ``min_spokes`` accounts (routine or not, whatever their times)."""
    hit = np.zeros(len(p), bool)
    if len(p) == 0 or len(tx) == 0:
        return hit
    mine = p[seg_row]
    into, ok = linked_to(tx, mine, params, params.horizon_ms, params.spoke_min_share)
    rows = np.flatnonzero(ok)
    if len(rows) == 0:
        return hit
    first = into[rows]  # the row is the spoke's first leg: p is its second
    splitter = np.where(first, tx.src[rows], tx.src[mine[rows]])
    gatherer = np.where(first, tx.dst[mine[rows]], tx.dst[rows])
    # The slow spokes among the splitters' payments and the gatherers' takings.
    near = np.flatnonzero(isin(tx.src, splitter) | isin(tx.dst, gatherer)).astype(np.int64)
    s, g, middles = slow_spoke_middles(tx.take(near), params)
    n_acc = int(max(tx.src.max(), tx.dst.max())) + 1
    enough = (s * n_acc + g)[middles >= params.min_spokes]
    asked = isin(splitter * n_acc + gatherer, enough)
    # Each pair belongs to one verdict (accounts are its neighbourhood's own).
    hit[seg_row[rows[asked]]] = True
    return hit


def slow_spoke_middles(tx: _Tx, params: LayeringParams) -> tuple[I64, I64, I64]:
    """Per (splitter, gatherer) pair of the slow spokes among ``tx`` (every transfer,
    routine or not): the two accounts and the count of distinct middle accounts."""
    slow = slow_spoke_params(params)
    links = _links(tx, slow)
    if len(links.pred) == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    # Accounts numbered densely: three of them packed in one key.
    accounts, local = np.unique(
        np.concatenate([tx.src[links.pred], tx.dst[links.pred], tx.dst[links.succ]]),
        return_inverse=True,
    )
    n = len(accounts)
    s, m, g = local.ravel().astype(np.int64).reshape(3, -1)
    triples = unique((s * n + g) * n + m)
    pairs, middles = np.unique(triples // n, return_counts=True)
    return accounts[pairs // n], accounts[pairs % n], middles.astype(np.int64)


def _ragged_union(episode: I64, *members: I64) -> list[I64]:
    """Per episode (in order): the distinct member positions, ascending."""
    if len(episode) == 0:
        return []
    ep = np.concatenate([episode] * len(members))
    pos = np.concatenate(members)
    pairs = np.unique(np.stack([ep, pos], axis=1), axis=0)
    cuts = np.flatnonzero(np.diff(pairs[:, 0])) + 1
    return [np.asarray(x, np.int64) for x in np.split(pairs[:, 1], cuts)]


@dataclass(frozen=True)
class _Bursts:
    """Fan bursts: members (positions into the _Tx) and hub account per burst."""

    members: list[I64]
    hub: I64


NO_START = int(np.iinfo(np.int64).min)
"""A hub without a kept burst start (:mod:`.origins`)."""


@dataclass(frozen=True)
class _Dense:
    """A scan's transfers by (hub, time) and its fan bursts: the dense windows' first rows
    (``dense``), which of them open a burst (``new``), and per burst where it starts
    (``first``, a row) and the time its tiles count from (``origin``)."""

    order: I64
    hub: I64
    ts: I64
    last: I64
    dense: I64
    new: B
    origin: I64


def _dense(tx: _Tx, params: LayeringParams, inbound: bool, starts: I64 | None) -> _Dense:
    """The dense windows and bursts of :func:`_fan_bursts` (``tx`` not empty).

    ``starts``: per account, the burst it was in when the transfers before the scan left
    (its first transfer's time and its last dense window's start, :mod:`.origins`; None:
    the scan holds the whole history, as the batch's). A hub's first burst here whose first
    dense window opens at most a window after that start is that burst going on, so its
    tiles count from the kept time: where the batch, which sees the whole history, cuts."""
    hub_of = tx.dst if inbound else tx.src
    t0 = int(tx.ts.min())
    window = params.window_ms
    span = int(tx.ts.max()) - t0 + window + 1
    # By (hub, time), ties by position: one stable sort of the packed key, not three (for
    # fan-ins the arrivals' order, shared with the other definitions walking them).
    key = _keys(hub_of, tx.ts, t0, span)
    order = tx.by_target if inbound else argsort_stable(key)
    key = key[order]
    hub, ts = hub_of[order], tx.ts[order]
    last = np.searchsorted(key, key + window, side="right") - 1
    dense = np.flatnonzero(last - np.arange(len(key)) + 1 >= params.min_fan)
    # Overlapping dense windows merge: a new burst where a window opens past every earlier end.
    reach = np.maximum.accumulate(last[dense])
    new = np.ones(len(dense), bool)
    new[1:] = dense[1:] > reach[:-1]
    first = dense[new]
    origin = ts[first]
    if starts is not None and len(first):
        h = hub[first]
        lead = np.ones(len(first), bool)
        lead[1:] = h[1:] != h[:-1]
        at = np.flatnonzero(lead & (h < len(starts)))
        kept, latest = starts[h[at], 0], starts[h[at], 1]
        # A dense window opening at t joins the burst of one opening at s when t <= s + window
        # (its first row is within the earlier window's rows: ``reach`` above). A burst
        # here opening before the kept one began is an older one (rows not yet evicted).
        joins = (kept != NO_START) & (kept <= origin[at]) & (origin[at] <= latest + window)
        origin[at[joins]] = kept[joins]
    return _Dense(order, hub, ts, last, dense, new, origin)


def _fan_bursts(
    tx: _Tx, params: LayeringParams, inbound: bool, starts: I64 | None = None
) -> _Bursts:
    """Fan-in (``inbound``) or fan-out bursts (definition above); ``starts`` as
    :func:`_dense`."""
    if len(tx) == 0:
        return _Bursts([], np.zeros(0, np.int64))
    d = _dense(tx, params, inbound, starts)
    if len(d.dense) == 0:
        return _Bursts([], np.zeros(0, np.int64))
    window, order, hub, ts = params.window_ms, d.order, d.hub, d.ts
    other = (tx.src if inbound else tx.dst)[order]
    first = d.dense[d.new]
    burst_end = np.maximum.accumulate(d.last[d.dense])[np.flatnonzero(np.append(d.new[1:], True))]
    length = burst_end - first + 1
    burst = np.repeat(np.arange(len(first), dtype=np.int64), length)
    rows = np.repeat(first - (np.cumsum(length) - length), length) + np.arange(length.sum())
    piece = _pieces(burst, ts[rows] - d.origin[burst], other[rows], window, params.min_fan)
    keep = piece >= 0
    rows, piece = rows[keep], piece[keep]
    if len(rows) == 0:
        return _Bursts([], np.zeros(0, np.int64))
    # Pieces are numbered in row order, so each one's rows are contiguous.
    by_piece = argsort_stable(piece)
    rows, piece = rows[by_piece], piece[by_piece]
    # A piece's transfers of comparable size only: a hub's 34 bill paid in the week it
    # sends out 30,000s is its own life, not part of the fan.
    rows, piece = _comparable(rows, piece, tx.amount[order][rows], other[rows], params.min_fan)
    if len(rows) == 0:
        return _Bursts([], np.zeros(0, np.int64))
    cuts = np.flatnonzero(np.diff(piece)) + 1
    starts = np.concatenate([[0], cuts])
    # Each piece's positions ascending, all pieces in one sort (pieces are dense and
    # ascending): one packed key, not a sort and a sub-array view per piece.
    n = len(tx)
    flat = sort_values(piece * n + order[rows]) - piece * n
    bounds = np.append(starts, len(flat)).tolist()
    members = [flat[a:b] for a, b in itertools.pairwise(bounds)]
    return _Bursts(members, hub[rows[starts]])


COMPARABLE_RATIO = 10.0
"""A fan piece keeps the transfers moving at least its median amount ÷ this."""


def _comparable(rows: I64, piece: I64, amount: F64, other: I64, min_fan: int) -> tuple[I64, I64]:
    """The rows of each piece (rows grouped by piece) moving at least its median amount ÷
    :data:`COMPARABLE_RATIO`; a piece left with fewer than ``min_fan`` distinct
    counterparties is dropped."""
    n_piece = int(piece.max()) + 1
    size = np.bincount(piece, minlength=n_piece)
    start = np.cumsum(size) - size
    # The amounts sorted within each piece (only their values are read): the rank of each
    # amount packed under its piece, one integer sort — a fifth of ``lexsort``'s time.
    n = len(amount)
    ranked = np.argsort(amount)
    rank = np.empty(n, np.int64)
    rank[ranked] = np.arange(n, dtype=np.int64)
    sorted_amount = amount[ranked[sort_values(piece * n + rank) % n]]
    lo = sorted_amount[start + (size - 1) // 2]
    hi = sorted_amount[start + size // 2]
    median = (lo + hi) / 2
    keep = amount >= median[piece] / COMPARABLE_RATIO
    rows, piece, other = rows[keep], piece[keep], other[keep]
    if len(rows) == 0:
        return rows, piece
    enough = _distinct_count(piece, other, n_piece) >= min_fan
    keep = enough[piece]
    rows, piece = rows[keep], piece[keep]
    return rows, dense_ids(piece)


def _pieces(burst: I64, since: I64, other: I64, window: int, min_fan: int) -> I64:
    """Per burst row (rows grouped by burst, in time order): its piece, or −1 (dropped).

    A burst is cut into tiles of one ``window`` from its first transfer (``since`` is the
    time after it); a tile with ``min_fan`` distinct counterparties is a piece, a thinner
    tile joins the piece of the tile just before it or, failing that, just after it, and
    is dropped otherwise. A burst with no such tile is one piece when it spans at most two
    tiles (a dense window across a cut) and is dropped when longer (a trickle, never
    ``min_fan`` counterparties in one window). So a piece spans at most three windows: a
    hub busy for months gives pieces judged one by one against its history, never one
    alert holding every transfer it ever received.
    """
    if len(burst) == 0:
        return np.zeros(0, np.int64)
    tile = since // max(window, 1)
    width = int(tile.max()) + 1
    key = burst * width + tile
    new = np.ones(len(key), bool)
    new[1:] = key[1:] != key[:-1]
    tile_of = np.cumsum(new) - 1
    n_tiles = int(tile_of[-1]) + 1
    t_burst, t_tile = burst[new], tile[new]
    good = _distinct_count(tile_of, other, n_tiles) >= min_fan
    target = np.where(good, np.arange(n_tiles), -1)
    prev_ok = np.zeros(n_tiles, bool)
    prev_ok[1:] = (
        good[:-1] & (t_burst[1:] == t_burst[:-1]) & (t_tile[1:] == t_tile[:-1] + 1) & ~good[1:]
    )
    target[prev_ok] = np.flatnonzero(prev_ok) - 1
    next_ok = np.zeros(n_tiles, bool)
    next_ok[:-1] = (
        good[1:] & (t_burst[1:] == t_burst[:-1]) & (t_tile[1:] == t_tile[:-1] + 1) & ~good[:-1]
    )
    next_ok &= target < 0
    target[next_ok] = np.flatnonzero(next_ok) + 1
    # Bursts without a good tile: whole when they span two tiles at most.
    n_bursts = int(burst.max()) + 1
    any_good = np.bincount(t_burst, weights=good, minlength=n_bursts) > 0
    span = np.zeros(n_bursts, np.int64)
    np.maximum.at(span, t_burst, t_tile)
    whole = ~any_good[t_burst] & (span[t_burst] <= 1)
    first_tile = run_starts(t_burst)
    target[whole] = first_tile[np.searchsorted(first_tile, np.flatnonzero(whole), "right") - 1]
    # Piece numbers in order of first appearance (bursts and tiles are in row order).
    piece = target[tile_of]
    ok = piece >= 0
    out = np.full(len(piece), -1, np.int64)
    if ok.any():
        out[ok] = dense_ids(piece[ok])
    # A burst judged whole still needs min_fan distinct counterparties over its rows.
    if whole.any():
        n_piece = int(out.max()) + 1
        enough = _distinct_count(out[ok], other[ok], n_piece) >= min_fan
        out = np.where(ok & enough[np.maximum(out, 0)], out, -1)
    return out


def kind_starts(starts: I64 | None, kind: int) -> I64 | None:
    """Of the context's ``fan_starts`` (per account, kind, and start and latest dense
    window), one kind's: 0, 1 fans out and in, 2, 3 gather-scatter sides out and in."""
    return None if starts is None else starts[:, kind]


def _mapped(bursts: _Bursts, positions: I64) -> _Bursts:
    """Bursts found on a subset of the transfers, as positions into all of them."""
    return _Bursts([positions[m] for m in bursts.members], bursts.hub)


@lru_cache(maxsize=16)
def gather_params(params: LayeringParams) -> LayeringParams:
    """The settings of a gather-scatter's two sides: fan bursts of ``min_spokes``, not
    ``min_fan`` (kept per settings, as :func:`.routine.slow_params`)."""
    return replace(params, min_fan=params.min_spokes)


def gather_bursts(
    tx: _Tx, params: LayeringParams, inbound: bool, starts: I64 | None = None
) -> _Bursts:
    """One side of the gather-scatters among ``tx``: fan-in (``inbound``) or fan-out
    bursts of at least ``min_spokes`` transfers and counterparties. A gather-scatter is a
    scatter-gather turned inside out — many accounts pay one middle that pays many — so
    each side needs as many accounts as a scatter-gather's middles, not a fan's five:
    three people paying a mule that pays three others within days is the pattern."""
    return _fan_bursts(tx, gather_params(params), inbound, kind_starts(starts, 2 + inbound))


def gather_scatters(tx: _Tx, params: LayeringParams, starts: I64 | None = None) -> list[I64]:
    """Every gather-scatter among ``tx`` (package docstring), each as its positions;
    ``starts``: the context's ``fan_starts``."""
    scattered = gather_bursts(tx, params, False, starts)
    # A hub's bursts depend on its own transfers alone, so gatherings are looked for only
    # at the hubs that scatter: at 1M a tenth of the arrivals, not all 6M to sort.
    rows = np.flatnonzero(isin(tx.dst, scattered.hub)).astype(np.int64)
    gathered = _mapped(gather_bursts(tx.take(rows), params, True, starts), rows)
    return _gather_scatter(tx, gathered, scattered, params)


def _gather_scatter(
    tx: _Tx, fan_in: _Bursts, fan_out: _Bursts, params: LayeringParams
) -> list[I64]:
    """A fan-in burst followed by a fan-out burst at the same hub that sends most of it on
    (the bursts: :func:`gather_bursts`): each pair of bursts whose fan-out starts after the
    fan-in's first transfer and at most a window after its last, passing on between
    ``min_pass_share`` and ``max_pass_share`` of it, as the union of their positions —
    ordered by fan-in burst, then fan-out burst."""
    if not fan_in.members or not fan_out.members:
        return []
    in_first, in_last, in_total = _burst_facts(tx, fan_in)
    out_first, _, out_total = _burst_facts(tx, fan_out)
    # Every (fan-in, fan-out) pair in one window join, not a loop per burst: at 1M a
    # bank's merchants hold 150,000 gatherings at hubs that also pay out in bursts.
    window = params.window_ms
    t0 = int(min(in_first.min(), out_first.min()))
    span = int(max(in_last.max() + window, out_first.max())) - t0 + 1
    key = _keys(fan_out.hub, out_first, t0, span)
    order = argsort_stable(key)
    key = key[order]
    lo = np.searchsorted(key, _keys(fan_in.hub, in_first, t0, span), side="right")
    hi = np.searchsorted(key, _keys(fan_in.hub, in_last + window, t0, span), side="right")
    count = np.maximum(hi - lo, 0)
    i = np.repeat(np.arange(len(in_first)), count)
    j = order[np.repeat(lo - np.cumsum(count) + count, count) + np.arange(int(count.sum()))]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = out_total[j] / in_total[i]
    ok = (share >= params.min_pass_share) & (share <= params.max_pass_share)
    i, j = i[ok], j[ok]
    pairs = np.lexsort((j, i))
    return [
        np.union1d(fan_in.members[a], fan_out.members[b]).astype(np.int64)
        for a, b in zip(i[pairs].tolist(), j[pairs].tolist(), strict=True)
    ]


def _burst_facts(tx: _Tx, bursts: _Bursts) -> tuple[I64, I64, F64]:
    """Per burst: its first and last time and its total amount."""
    size = np.fromiter((len(m) for m in bursts.members), np.int64, len(bursts.members))
    flat = np.concatenate(bursts.members)
    ptr = np.cumsum(size) - size
    ts = tx.ts[flat]
    return (
        np.minimum.reduceat(ts, ptr),
        np.maximum.reduceat(ts, ptr),
        np.add.reduceat(tx.amount[flat], ptr),
    )
