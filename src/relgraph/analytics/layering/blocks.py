"""Bipartite blocks and stacks: layers of accounts paying the next layer.

Definitions (thresholds are fields of :class:`LayeringParams`):

* **Block transfers**: eligible, not routine (:mod:`.routine`), between two accounts
  that each deal with at most ``block_max_degree`` (30) distinct counterparties over the
  scan — a shop, an employer or a utility pays and is paid by everyone, so a "layer"
  through one is commerce, not a structure.
* Time is cut into periods of ``cycle_horizon_days`` (30), twice: from the first
  transfer and from half a period later (a pattern across one cut is whole in the other
  tiling; the copies merge, :mod:`.merge`).
* In one period, two receivers are **co-funded** when at least two of the same senders
  paid both. A **bipartite block** is a connected group of co-funded receivers with
  their shared senders: the block transfers in the period from a sender that paid at
  least two of its receivers to those receivers. Each block is a ``bipartite`` alert.
* A **stack**: two blocks of one period where at least two receivers of the first are
  senders of the second (money passed layer to layer). The union of their transfers is a
  ``stack`` alert.

Scores use the common reasons (``hops`` counts the transfers, as for a scatter-gather;
new accounts, structuring, routine), and the ordinary-payment discount of
:mod:`.amounts`: friends splitting bills form blocks too. Layers passing the money on
are the typology itself: ``pass_through`` is 0.3 × the share of what the **middle
layer** (accounts that receive and pay in the alert) received that it paid on later
(:func:`layer_pass_through`), and a payment passing on what its payer just received is
never ordinary for that payer.

Examples
--------
Senders 0 and 1 both pay receivers 2 and 3 (amounts in CNY, times in ms):

>>> import numpy as np
>>> from relgraph.analytics.layering.hops import _Tx
>>> from relgraph.analytics.layering.params import LayeringParams
>>> tx = _Tx(np.arange(4), np.array([0, 0, 1, 1]), np.array([2, 3, 2, 3]),
...          np.full(4, 30_000.0), np.array([0, 1, 2, 3]) * 3_600_000)
>>> bip, stacks = blocks(tx, np.zeros(4, bool), LayeringParams())
>>> [b.tolist() for b in bip], stacks
([[0, 1, 2, 3]], [])
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from relgraph.analytics.layering.hops import _Tx
from relgraph.analytics.layering.params import F64, I64, B, LayeringParams
from relgraph.analytics.layering.sets import isin, unique


def blocks(tx: _Tx, routine: B, params: LayeringParams) -> tuple[list[I64], list[I64]]:
    """Bipartite blocks and stacks as lists of positions into ``tx`` (module docstring)."""
    if len(tx) == 0:
        return [], []
    n_acc = int(max(tx.src.max(), tx.dst.max())) + 1
    pairs = unique(tx.src.astype(np.int64) * n_acc + tx.dst)
    degree = np.bincount(pairs // n_acc, minlength=n_acc) + np.bincount(
        pairs % n_acc, minlength=n_acc
    )
    small = degree <= params.block_max_degree
    rows = np.flatnonzero(~routine & small[tx.src] & small[tx.dst]).astype(np.int64)
    bipartite: list[I64] = []
    stacks: list[I64] = []
    if len(rows) == 0:
        return bipartite, stacks
    horizon = params.horizon_ms
    t0 = int(tx.ts.min())
    for offset in (0, horizon // 2):
        period = (tx.ts[rows] - t0 + offset) // horizon
        found = _blocks_of(tx, rows, period, n_acc)
        bipartite.extend(found)
        stacks.extend(_stacks(tx, found))
    return _distinct(bipartite), _distinct(stacks)


def _distinct(sets: list[I64]) -> list[I64]:
    """The sets once each (both tilings find a pattern inside one period)."""
    seen: dict[tuple[int, ...], I64] = {}
    for s in sets:
        seen.setdefault(tuple(s.tolist()), s)
    return list(seen.values())


def _blocks_of(tx: _Tx, rows: I64, period: I64, n_acc: int) -> list[I64]:
    """Blocks per period: co-funded receivers joined, with their shared senders' transfers."""
    src, dst = tx.src[rows], tx.dst[rows]
    # Distinct (period, sender, receiver); per (period, sender) its receivers.
    key = unique((period * n_acc + src) * n_acc + dst)
    ps, recv = key // n_acc, key % n_acc
    first = np.searchsorted(ps, ps, "left")
    count = np.searchsorted(ps, ps, "right") - first
    # Receiver pairs per (period, sender): every later receiver of the same sender.
    many = np.flatnonzero(count >= 2)
    if len(many) == 0:
        return []
    rank = many - first[many]
    later = count[many] - rank - 1
    a = np.repeat(many, later)
    b = a + 1 + (np.arange(int(later.sum())) - np.repeat(np.cumsum(later) - later, later))
    per = ps[a] // n_acc
    pair_key = (per * n_acc + recv[a]) * n_acc + recv[b]
    pk, times = np.unique(pair_key, return_counts=True)
    co = pk[times >= 2]  # co-funded: two senders or more in common
    if len(co) == 0:
        return []
    # Receivers as nodes (period, receiver); co-funded pairs join them.
    r1 = co // n_acc  # period * n_acc + first receiver
    r2 = (r1 // n_acc) * n_acc + co % n_acc
    nodes, inv = np.unique(np.concatenate([r1, r2]), return_inverse=True)
    inv = inv.ravel()
    m = len(nodes)
    graph = sparse.csr_matrix((np.ones(len(co), np.int8), (inv[: len(co)], inv[len(co) :])), (m, m))
    _, label = csgraph.connected_components(graph, directed=False)
    # A transfer belongs to a block when its receiver is in it and its sender paid two
    # receivers of the block or more.
    node_of = (period * n_acc + dst).astype(np.int64)
    pos = np.searchsorted(nodes, node_of)
    inside = (pos < m) & (nodes[np.minimum(pos, m - 1)] == node_of)
    block = np.where(inside, label[np.minimum(pos, m - 1)], -1)
    sel = np.flatnonzero(inside)
    if len(sel) == 0:
        return []
    sender_key = np.unique(
        np.stack([block[sel].astype(np.int64), src[sel].astype(np.int64), dst[sel]], axis=1),
        axis=0,
    )
    bs = sender_key[:, 0] * n_acc + sender_key[:, 1]
    uniq, paid = np.unique(bs, return_counts=True)
    good = uniq[paid >= 2]
    mine = isin(block[sel] * n_acc + src[sel], good)
    sel = sel[mine]
    if len(sel) == 0:
        return []
    order = np.lexsort((rows[sel], block[sel]))
    grp = block[sel][order]
    cuts = np.flatnonzero(np.diff(grp)) + 1
    return [np.asarray(g, np.int64) for g in np.split(rows[sel][order], cuts) if len(g) >= 4]


def _stacks(tx: _Tx, found: list[I64]) -> list[I64]:
    """Pairs of blocks where two receivers of one or more are senders of the other."""
    out: list[I64] = []
    if len(found) < 2:
        return out
    receivers = [set(tx.dst[b].tolist()) for b in found]
    senders: dict[int, list[int]] = {}
    for j, b in enumerate(found):
        for s in set(tx.src[b].tolist()):
            senders.setdefault(s, []).append(j)
    for i, recv in enumerate(receivers):
        hits: dict[int, int] = {}
        for r in recv:
            for j in senders.get(r, []):
                if j != i:
                    hits[j] = hits.get(j, 0) + 1
        for j, shared in hits.items():
            if shared >= 2:
                out.append(np.union1d(found[i], found[j]).astype(np.int64))
    return out


def layer_pass_through(tx: _Tx, flat: I64, group: I64, n: int) -> tuple[F64, B]:
    """Per alert (``n``; ``flat`` positions into ``tx`` grouped by ``group``): the share of
    what its **middle layer** received that it passed on — the accounts that both receive
    and pay within the alert, what each paid after its first receipt there, at most what
    it received, over what they received (0 when no account does both); and per row of
    ``flat``, whether it is such a payment (**passing on**).

    A stack is layers of accounts passing to the next layer: its middle accounts receive
    from the first layer and pay the second. Friends splitting bills form blocks too, but
    the money stops there; passing it on later is the layering (a pure bipartite block has
    no middle layer, so this is 0 for it). A payment passing on what its payer just
    received is not its payer's own spending, so it is never an *ordinary* payment
    (:mod:`.amounts`), however usual its size for the payer.

    >>> tx = _Tx(np.arange(4), np.array([0, 1, 2, 2]), np.array([2, 2, 3, 4]),
    ...          np.array([100.0, 100.0, 90.0, 60.0]), np.array([0, 1, 2, 3]))
    >>> share, passing = layer_pass_through(tx, np.arange(4), np.zeros(4, np.int64), 1)
    >>> share.tolist(), passing.tolist()
    ([0.75], [False, False, True, True])
    """
    out = np.zeros(n)
    if len(flat) == 0:
        return out, np.zeros(0, bool)
    n_acc = int(max(tx.src.max(), tx.dst.max())) + 1
    g = group.astype(np.int64)
    recv_key, pay_key = g * n_acc + tx.dst[flat], g * n_acc + tx.src[flat]
    keys = np.unique(recv_key)
    k_in = np.searchsorted(keys, recv_key)
    came = np.bincount(k_in, weights=tx.amount[flat], minlength=len(keys))
    first = np.full(len(keys), np.iinfo(np.int64).max, np.int64)
    np.minimum.at(first, k_in, tx.ts[flat])
    # Payments by an account that also received in the alert, after its first receipt.
    at = np.minimum(np.searchsorted(keys, pay_key), len(keys) - 1)
    mid_pay = keys[at] == pay_key
    later = mid_pay & (tx.ts[flat] > first[at])
    went = np.bincount(at[later], weights=tx.amount[flat][later], minlength=len(keys))
    middle = np.zeros(len(keys), bool)
    middle[at[mid_pay]] = True
    alert_of = keys // n_acc
    kept = np.bincount(alert_of[middle], weights=np.minimum(went, came)[middle], minlength=n)
    total = np.bincount(alert_of[middle], weights=came[middle], minlength=n)
    share = np.where(total > 0, kept / np.maximum(total, 1e-9), 0.0)
    return np.asarray(share, np.float64), np.asarray(later, bool)
