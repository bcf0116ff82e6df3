"""Round trips: structural cycles of 2 to ``cycle_max_hops`` transfers within the horizon.

A **round trip** is a sequence of transfers ``e1 … ek`` (``2 ≤ k ≤ cycle_max_hops``)
through accounts ``a0 → a1 → … → ak``, each leaving the account the previous one
arrived at and strictly later, all within ``cycle_horizon_days`` (30) of ``e1``, where
``ak`` is *home* to ``a0`` — the same account, another account of its holder, an
account of someone in its household or hidden network — and ``a1 … a(k-1)`` are
distinct and not home (the loop closes at the first return). Nothing is asked of the
amounts or of the time between hops: launderers wait days and change amounts.
``e1`` leaves home, so every round trip has a party outside the origin's household; a
loop closed entirely inside one household never is one.

The search is vectorised, one step per hop over every start at once (in batches of
starts to bound memory), on the transfers a strongly connected component allows (an
account graph where each account also links both ways to its home group, so a return
home is a cycle): a transfer between two components can never be on a round trip.
A start is followed only when some transfer arrives home within the horizon after it.

Caps, each counted when it cuts (``Alerts.truncations["cycle"]``): at most
``cycle_max_branching`` departures followed from an account per path (the earliest),
at most ``cycle_max_paths`` paths alive per starting transfer, and ``cycle_max_hops``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from relgraph.analytics.layering.hops import _Tx
from relgraph.analytics.layering.params import I64, B, LayeringParams
from relgraph.analytics.layering.scoring import _Context

_BATCH_STARTS = 50_000
"""Starting transfers walked together: bounds the frontier to about this × cycle_max_paths."""


@dataclass(frozen=True)
class _RoundTrips:
    """Round trips by length (``paths[k]``: (n, k) positions into the _Tx) and cut counts."""

    paths: dict[int, I64]
    truncations: int


def home_groups(ctx: _Context, n_accounts: int) -> tuple[I64, I64]:
    """Per account: its home group (household, else person, else enterprise, else itself)
    and its hidden network (−1 when none or unknown)."""
    account = np.arange(n_accounts, dtype=np.int64)
    person = ctx.person[:n_accounts]
    enterprise = ctx.enterprise[:n_accounts]
    n_person = int(max(person.max(initial=-1), -1)) + 1
    if ctx.household is not None:
        n_person = max(n_person, len(ctx.household))
    n_ent = int(max(enterprise.max(initial=-1), -1)) + 1
    safe = np.maximum(person, 0)
    of_person = ctx.household[safe] if ctx.household is not None else safe
    group = np.where(
        person >= 0,
        of_person,
        np.where(enterprise >= 0, n_person + enterprise, n_person + n_ent + account),
    ).astype(np.int64)
    if ctx.network is None:
        network = np.full(n_accounts, -1, np.int64)
    else:
        network = np.where(person >= 0, ctx.network[safe], -1).astype(np.int64)
    return group, network


def _candidates(tx: _Tx, group: I64, network: I64) -> I64:
    """Positions of the transfers whose two accounts share a strongly connected component
    of the transfer graph with every account tied both ways to its group and network."""
    n_acc = len(group)
    g_codes, g_node = np.unique(group, return_inverse=True)
    net_node = np.where(network >= 0, network, 0)
    has_net = network >= 0
    n_g = len(g_codes)
    n_net = int(network.max(initial=-1)) + 1
    acc = np.arange(n_acc, dtype=np.int64)
    g = n_acc + g_node
    nt = n_acc + n_g + net_node[has_net]
    src = np.concatenate([tx.src, acc, g, acc[has_net], nt])
    dst = np.concatenate([tx.dst, g, acc, nt, acc[has_net]])
    n = n_acc + n_g + n_net
    graph = sparse.csr_matrix((np.ones(len(src), np.int8), (src, dst)), shape=(n, n))
    _, comp = csgraph.connected_components(graph, directed=True, connection="strong")
    return np.flatnonzero(comp[tx.src] == comp[tx.dst]).astype(np.int64)


def round_trips(tx: _Tx, ctx: _Context, params: LayeringParams) -> _RoundTrips:
    """Every round trip among ``tx`` (definition in the module docstring)."""
    empty = _RoundTrips({}, 0)
    if len(tx) == 0:
        return empty
    n_acc = int(max(tx.src.max(), tx.dst.max())) + 1
    n_acc = max(n_acc, len(ctx.person))
    group, network = home_groups(ctx, n_acc)
    keep = _candidates(tx, group, network)
    if len(keep) == 0:
        return empty
    sub = tx.take(keep)  # still in (source, time) order
    horizon = params.horizon_ms
    t0 = int(sub.ts.min())
    span = int(sub.ts.max()) - t0 + horizon + 2
    out_key = sub.src * span + (sub.ts - t0)

    def home(a: I64, b: I64) -> B:
        return np.asarray(
            (group[a] == group[b]) | ((network[a] >= 0) & (network[a] == network[b])), bool
        )

    # Starts: transfers leaving home, with an arrival home within the horizon after them.
    leaves = ~home(sub.src, sub.dst)
    g_key = np.sort(group[sub.dst] * span + (sub.ts - t0))
    g_start = group[sub.src] * span + (sub.ts - t0)
    back = np.searchsorted(g_key, g_start + horizon, "right") - np.searchsorted(
        g_key, g_start, "right"
    )
    reachable = back > 0
    if (network >= 0).any():
        arrive_net = network[sub.dst]
        has = arrive_net >= 0
        n_key = np.sort(arrive_net[has] * span + (sub.ts[has] - t0))
        net0 = network[sub.src]
        n_start = np.maximum(net0, 0) * span + (sub.ts - t0)
        n_back = np.searchsorted(n_key, n_start + horizon, "right") - np.searchsorted(
            n_key, n_start, "right"
        )
        reachable |= (net0 >= 0) & (n_back > 0)
    starts = np.flatnonzero(leaves & reachable).astype(np.int64)

    found: dict[int, list[I64]] = {}
    cuts = 0
    for lo in range(0, len(starts), _BATCH_STARTS):
        batch = starts[lo : lo + _BATCH_STARTS]
        cuts += _walk_batch(sub, batch, out_key, span, t0, home, params, found)
    paths = {k: keep[np.concatenate(v, axis=0)] for k, v in found.items() if v}
    return _RoundTrips({k: v for k, v in paths.items() if len(v)}, cuts)


def _walk_batch(
    sub: _Tx,
    starts: I64,
    out_key: I64,
    span: int,
    t0: int,
    home: object,
    params: LayeringParams,
    found: dict[int, list[I64]],
) -> int:
    """Walk the round trips of ``starts`` (positions into ``sub``); closed ones go to
    ``found``; returns how many times a cap cut the search."""
    assert callable(home)
    horizon = params.horizon_ms
    paths = starts[:, None]
    owner = np.arange(len(starts), dtype=np.int64)  # the start each path belongs to
    accounts = np.stack([sub.src[starts], sub.dst[starts]], axis=1)
    limit = sub.ts[starts] + horizon
    cuts = 0
    for k in range(1, params.cycle_max_hops):
        last = paths[:, -1]
        here = sub.dst[last]
        lo = np.searchsorted(out_key, here * span + (sub.ts[last] - t0), "right")
        hi = np.searchsorted(out_key, here * span + (limit - t0), "right")
        wide = hi - lo > params.cycle_max_branching
        cuts += int(wide.sum())
        hi = np.where(wide, lo + params.cycle_max_branching, hi)
        count = (hi - lo).astype(np.int64)
        parent = np.repeat(np.arange(len(paths), dtype=np.int64), count)
        if len(parent) == 0:
            break
        nxt = np.repeat(lo - (np.cumsum(count) - count), count) + np.arange(len(parent))
        to = sub.dst[nxt]
        # A return to an account already on the path is not a simple loop.
        ok = ~(accounts[parent, 1:] == to[:, None]).any(axis=1)
        parent, nxt, to = parent[ok], nxt[ok], to[ok]
        # At most cycle_max_paths paths per start: rows are grouped by start already.
        own = owner[parent]
        first = np.searchsorted(own, own, "left")
        rank = np.arange(len(own)) - first
        over = rank >= params.cycle_max_paths
        if over.any():
            cuts += len(np.unique(own[over]))
            parent, nxt, to, own = parent[~over], nxt[~over], to[~over], own[~over]
        paths = np.concatenate([paths[parent], nxt[:, None]], axis=1)
        accounts = np.concatenate([accounts[parent], to[:, None]], axis=1)
        limit = limit[parent]
        owner = own
        closed = home(accounts[:, 0], to)
        if closed.any():
            found.setdefault(k + 1, []).append(paths[closed])
        paths, accounts, limit, owner = (
            paths[~closed],
            accounts[~closed],
            limit[~closed],
            owner[~closed],
        )
        if len(paths) == 0:
            break
    return cuts
