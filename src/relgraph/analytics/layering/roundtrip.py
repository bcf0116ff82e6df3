"""Round trips: structural cycles of 2 to ``cycle_max_hops`` transfers within the horizon.

A **round trip** is a sequence of transfers ``e1 … ek`` (``2 ≤ k ≤ cycle_max_hops``)
through accounts ``a0 → a1 → … → ak``, each leaving the account the previous one
arrived at and strictly later, all within ``cycle_horizon_days`` (30) of ``e1``, where
``ak`` is *home* to ``a0`` — the same account, another account of its holder, an
account of someone in its household or hidden network — and ``a1 … a(k-1)`` are
distinct and not home (the loop closes at the first return). Nothing is asked of the
time between hops, and of the amounts only that each hop carries at least
``cycle_min_share`` (10 %) of what left first and at most its inverse (10×) times it:
launderers wait days and change amounts, but a 150 purchase is not the 80,000 coming
back, nor 45,000 the 82 that left.
``e1`` leaves home, so every round trip has a party outside the origin's household; a
loop closed entirely inside one household never is one.

The search is vectorised, one step per hop over every start at once (in batches of
starts to bound memory), on the transfers a strongly connected component allows (an
account graph where each account also links both ways to its home group, so a return
home is a cycle): a transfer between two components can never be on a round trip.
A start is followed only when some transfer arrives home within the horizon after it.

Caps, each counted when it cuts (``Alerts.truncations["cycle"]``): at most
``cycle_max_branching`` departures followed from an account per path (the earliest of
those carrying enough; at most four times that many looked at),
at most ``cycle_max_paths`` paths alive per starting transfer, and ``cycle_max_hops``
(each start with a path still open after that many hops counts once).
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
    return home_labels(
        ctx.person[:n_accounts], ctx.enterprise[:n_accounts], ctx.household, ctx.network
    )


def home_labels(
    person: I64, enterprise: I64, households: I64 | None, networks: I64 | None
) -> tuple[I64, I64]:
    """:func:`home_groups` of the accounts whose holders are ``person`` and ``enterprise``
    (−1: none), given the context's per-person labels: without a :class:`_Context` to
    build, which costs more than the labels for the few accounts of a verdict's walk."""
    n_accounts = len(person)
    account = np.arange(n_accounts, dtype=np.int64)
    # Labels per person; a bank without persons has empty ones, as good as none.
    household = households if households is not None and len(households) else None
    networks = networks if networks is not None and len(networks) else None
    n_person = int(max(person.max(initial=-1), -1)) + 1
    if household is not None:
        n_person = max(n_person, len(household))
    n_ent = int(max(enterprise.max(initial=-1), -1)) + 1
    safe = np.maximum(person, 0)
    of_person = household[safe] if household is not None else safe
    group = np.where(
        person >= 0,
        of_person,
        np.where(enterprise >= 0, n_person + enterprise, n_person + n_ent + account),
    ).astype(np.int64)
    if networks is None:
        network = np.full(n_accounts, -1, np.int64)
    else:
        network = np.where(person >= 0, networks[safe], -1).astype(np.int64)
    return group, network


def reach(
    tx: _Tx, p: I64 | int, after: I64, before: I64, hops: int, n_accounts: int
) -> tuple[B, B]:
    """Where money around the transfer(s) ``p`` can go, by time-respecting paths of at most
    ``hops`` transfers: ``forth`` — accounts money leaving ``p``'s target can reach through
    the transfers ``after`` (each later than ``p``); ``back`` — accounts whose money can
    reach ``p``'s source through the transfers ``before`` (each earlier). With several
    ``p`` (one per neighbourhood, whose accounts are its own), every one is a seed."""
    far = np.iinfo(np.int64).max
    # Forward: the earliest time money leaving p can be at each account.
    early = np.full(n_accounts, far, np.int64)
    early[tx.dst[p]] = tx.ts[p]
    for _ in range(hops):
        go = after[tx.ts[after] > early[tx.src[after]]]
        nxt = early.copy()
        np.minimum.at(nxt, tx.dst[go], tx.ts[go])
        if np.array_equal(nxt, early):
            break
        early = nxt
    # Backward: the latest time money can leave each account and still reach p's source.
    late = np.full(n_accounts, -far, np.int64)
    late[tx.src[p]] = tx.ts[p]
    for _ in range(hops):
        go = before[tx.ts[before] < late[tx.dst[before]]]
        nxt = late.copy()
        np.maximum.at(nxt, tx.src[go], tx.ts[go])
        if np.array_equal(nxt, late):
            break
        late = nxt
    return early < far, late > -far


def _candidates(tx: _Tx, group: I64, network: I64, horizon: int, segment: I64 | None = None) -> I64:
    """Positions of the transfers that may lie on a round trip.

    Every round trip spans at most ``horizon``, so it lies inside one of the windows
    ``[t0 + j·horizon, t0 + (j + 2)·horizon)``; in that window's transfer graph, with every
    account tied both ways to its home group and network (a return home closes a
    cycle), its transfers join two accounts of one strongly connected component.
    ``segment`` (per account, :mod:`.union`): ``t0`` is each segment's own first time.
    """
    n_acc = len(group)
    g_codes, g_node = np.unique(group, return_inverse=True)
    has_net = network >= 0
    # Networks numbered densely among these accounts: a bank-wide label (up to the number
    # of persons) would make every window's graph that large, and the real-time verdict
    # runs this on a neighbourhood of a few dozen accounts.
    net_codes, net_node = np.unique(network[has_net], return_inverse=True)
    net_node = net_node.ravel().astype(np.int64)
    n_g = len(g_codes)
    n_net = len(net_codes)
    acc = np.arange(n_acc, dtype=np.int64)
    g_node = g_node.ravel().astype(np.int64)
    ties_src = np.concatenate([acc, n_acc + g_node, acc[has_net], n_acc + n_g + net_node])
    ties_dst = np.concatenate([n_acc + g_node, acc, n_acc + n_g + net_node, acc[has_net]])
    n = n_acc + n_g + n_net
    keep = np.zeros(len(tx), bool)
    ts = tx.ts
    if segment is not None:
        # Times from each segment's first: one tiling of windows serves them all.
        row_seg = segment[tx.src]
        first = np.full(int(segment.max()) + 1, np.iinfo(np.int64).max, np.int64)
        np.minimum.at(first, row_seg, ts)
        ts = ts - first[row_seg]
    t0, t1 = int(ts.min()), int(ts.max())
    for j in range(max(int((t1 - t0) // horizon), 0) + 1):
        lo = t0 + j * horizon
        rows = np.flatnonzero((ts >= lo) & (ts < lo + 2 * horizon))
        if len(rows) < 2:
            continue
        if j > 0 and int(ts[rows].max()) < lo + horizon:
            # All in the previous window too, whose graph holds this one's: a component
            # here lies inside one there, so this window keeps nothing new (the verdict's
            # neighbourhood spans about one horizon: one window instead of two).
            continue
        src = np.concatenate([tx.src[rows], ties_src])
        dst = np.concatenate([tx.dst[rows], ties_dst])
        graph = sparse.csr_matrix((np.ones(len(src), np.int8), (src, dst)), shape=(n, n))
        _, comp = csgraph.connected_components(graph, directed=True, connection="strong")
        keep[rows[comp[tx.src[rows]] == comp[tx.dst[rows]]]] = True
    return np.flatnonzero(keep).astype(np.int64)


def _returns_home(tx: _Tx, group: I64, network: I64, horizon: int) -> B:
    """Per transfer: it leaves home and something arrives home (its source's home group
    or hidden network) strictly after it and within ``horizon`` — a round trip's first
    transfer must (its last arrives home), so where none does, there is none to search."""
    t0 = int(tx.ts.min())
    span = int(tx.ts.max()) - t0 + horizon + 2
    g_src, g_dst = group[tx.src], group[tx.dst]
    n_src, n_dst = network[tx.src], network[tx.dst]
    leaves = ~((g_src == g_dst) | ((n_src >= 0) & (n_src == n_dst)))
    out = np.zeros(len(tx), bool)
    for home_src, home_dst in ((g_src, g_dst), (n_src, n_dst)):
        has = home_dst >= 0
        key = np.sort(home_dst[has] * span + (tx.ts[has] - t0))
        start = np.maximum(home_src, 0) * span + (tx.ts - t0)
        back = np.searchsorted(key, start + horizon, "right") - np.searchsorted(key, start, "right")
        out |= (home_src >= 0) & (back > 0)
    return np.asarray(leaves & out, bool)


def round_trips(
    tx: _Tx,
    ctx: _Context,
    params: LayeringParams,
    routine: B | None = None,
    segment: I64 | None = None,
) -> _RoundTrips:
    """Every round trip among ``tx`` (definition in the module docstring), leaving out
    the ``routine`` transfers (a loop of salaries, rent and family transfers would be
    scored down to nothing; searching through them only costs time). ``segment``: per
    account, its part of a disjoint union (:mod:`.union`)."""
    empty = _RoundTrips({}, 0)
    if routine is not None:
        tx = tx.take(np.flatnonzero(~routine).astype(np.int64))
        base = np.flatnonzero(~routine).astype(np.int64)
    else:
        base = np.arange(len(tx), dtype=np.int64)
    if len(tx) == 0:
        return empty
    n_acc = int(max(tx.src.max(), tx.dst.max())) + 1
    n_acc = max(n_acc, len(ctx.person))
    group, network = home_groups(ctx, n_acc)
    if not _returns_home(tx, group, network, params.horizon_ms).any():
        return empty  # no money left home and came back within the horizon: no round trip
    keep = _candidates(tx, group, network, params.horizon_ms, segment)
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
    # …and material for its account: at least the median of the account's departures
    # (judged against its own history, no absolute floor); an everyday payment that
    # happens to come back round through commerce is not a round trip of money.
    order = np.lexsort((sub.amount, sub.src))
    first = np.searchsorted(sub.src[order], sub.src, "left")
    count = np.searchsorted(sub.src[order], sub.src, "right") - first
    median = sub.amount[order][first + (count - 1) // 2]
    material = sub.amount >= median
    starts = np.flatnonzero(leaves & reachable & material).astype(np.int64)

    found: dict[int, list[I64]] = {}
    cuts = 0
    for lo in range(0, len(starts), _BATCH_STARTS):
        batch = starts[lo : lo + _BATCH_STARTS]
        cuts += _walk_batch(sub, batch, out_key, span, t0, home, params, found)
    paths = {k: base[keep[np.concatenate(v, axis=0)]] for k, v in found.items() if v}
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
    floor = sub.amount[starts] * params.cycle_min_share
    ceiling = sub.amount[starts] / params.cycle_min_share
    cuts = 0
    for k in range(1, params.cycle_max_hops):
        last = paths[:, -1]
        here = sub.dst[last]
        lo = np.searchsorted(out_key, here * span + (sub.ts[last] - t0), "right")
        hi = np.searchsorted(out_key, here * span + (limit - t0), "right")
        # Departures looked at per path: a busy account's are cut (and counted).
        scan_cap = 4 * params.cycle_max_branching
        wide = hi - lo > scan_cap
        cuts += int(wide.sum())
        hi = np.where(wide, lo + scan_cap, hi)
        count = (hi - lo).astype(np.int64)
        parent = np.repeat(np.arange(len(paths), dtype=np.int64), count)
        if len(parent) == 0:
            break
        nxt = np.repeat(lo - (np.cumsum(count) - count), count) + np.arange(len(parent))
        to = sub.dst[nxt]
        # A return to an account already on the path is not a simple loop, and a hop
        # carrying under cycle_min_share of what left is other money (a purchase), and
        # one carrying over its inverse times it is other money too (a small payment's
        # payee pays on a sum gathered elsewhere).
        ok = ~(accounts[parent, 1:] == to[:, None]).any(axis=1)
        ok &= (sub.amount[nxt] >= floor[parent]) & (sub.amount[nxt] <= ceiling[parent])
        parent, nxt, to = parent[ok], nxt[ok], to[ok]
        # At most cycle_max_branching departures per path (the earliest).
        first_of = np.searchsorted(parent, parent, "left")
        branch = np.arange(len(parent)) - first_of >= params.cycle_max_branching
        if branch.any():
            cuts += len(np.unique(parent[branch]))
            parent, nxt, to = parent[~branch], nxt[~branch], to[~branch]
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
        limit, floor, ceiling = limit[parent], floor[parent], ceiling[parent]
        owner = own
        closed = home(accounts[:, 0], to)
        if closed.any():
            found.setdefault(k + 1, []).append(paths[closed])
        paths, accounts, limit, floor, ceiling, owner = (
            paths[~closed],
            accounts[~closed],
            limit[~closed],
            floor[~closed],
            ceiling[~closed],
            owner[~closed],
        )
        if len(paths) == 0:
            break
    # Paths still open after cycle_max_hops transfers: the hop cap cut them.
    return cuts + len(np.unique(owner)) if len(paths) else cuts
