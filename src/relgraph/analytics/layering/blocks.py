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
* A **stack** is money passed layer to layer, each a ``stack`` alert:

  - two blocks of one period where at least two receivers of the first are senders of the
    second: the union of their transfers;
  - a block with a layer next to it that need not be a block itself: its **next layer**,
    the block transfers of its period from its receivers, each after its payer's first
    receipt in the block, to an account outside the block that at least two of its
    receivers pay so; and its **previous layer**, the block transfers of its period to its
    senders, each before its payee's last payment in the block, from an account outside
    the block that pays at least two of its senders so. A block with either layer, the
    union of its transfers and both layers', is a stack. (Layers of a few accounts where
    not every account pays every account of the next are often a block only once: the
    layer beside it may be no more than two receivers paying one account.)

  A next (previous) layer needs two of the block's receivers (senders) dealing with one
  account, as a block needs two of its senders: friends who split bills and then pay
  their own way form a block with no layer beside it; the degree limit keeps shops and
  employers out, the routine rule regular family money.

Scores use the common reasons (``hops`` counts the transfers, as for a scatter-gather;
new accounts, structuring, routine), and the ordinary-payment discount of
:mod:`.amounts`: friends splitting bills form blocks too. A bipartite block's **width** is
evidence (``many_to_many``): the fewer of its distinct payers and payees
(:func:`block_width`), 0.1 for each past two, at most 0.2. Two people paying the same two
is what friends, couples and flatmates do every month; three or more each paying the same
three or more in one period seldom happens by chance. (Not for stacks: their layers are
counted once on each side, and the layering is their evidence.) A block or stack of persons
paying **strangers** is evidence too (``unrelated_persons``, 0.25, as for a fan of a person
among strangers): at least four in five of its distinct payer–payee pairs are accounts of
two persons with no common holder, household, hidden network or private device
(:func:`unrelated_pairs`) — friends who split bills pay inside their circle, which their
hidden network knows (the transfers between them, shared contacts); a ring recruited to
move money pays people it never knew. Layers passing the money on
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

Later the receivers 2 and 3 both pay account 4 on (transfers 4 and 5): a next layer of
one account — no block — and the block with it is a stack:

>>> tx = _Tx(np.arange(6), np.array([0, 0, 1, 1, 2, 3]), np.array([2, 3, 2, 3, 4, 4]),
...          np.full(6, 30_000.0), np.array([0, 1, 2, 3, 5, 6]) * 3_600_000)
>>> bip, stacks = blocks(tx, np.zeros(6, bool), LayeringParams())
>>> [b.tolist() for b in bip], [s.tolist() for s in stacks]
([[0, 1, 2, 3]], [[0, 1, 2, 3, 4, 5]])
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from relgraph.analytics.layering.hops import _Tx
from relgraph.analytics.layering.params import F64, I64, B, LayeringParams
from relgraph.analytics.sets import argsort_stable, isin, search, unique, unique_inverse


def blocks(
    tx: _Tx, routine: B, params: LayeringParams, origin: int | None = None
) -> tuple[list[I64], list[I64]]:
    """Bipartite blocks and stacks as lists of positions into ``tx`` (module docstring);
    periods count from ``origin`` (default: the first of ``tx``)."""
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
    t0 = int(tx.ts.min()) if origin is None else origin
    for offset in (0, horizon // 2):
        period = (tx.ts[rows] - t0 + offset) // horizon
        found = _blocks_of(tx, rows, period, n_acc)
        bipartite.extend(found)
        stacks.extend(_stacks(tx, found))
        stacks.extend(_with_layers(tx, rows, period, n_acc, found))
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


def _with_layers(tx: _Tx, rows: I64, period: I64, n_acc: int, found: list[I64]) -> list[I64]:
    """Blocks with their adjacent layers (module docstring): each block of ``found`` (one
    tiling's) with its next and previous layers, when it has either."""
    if not found:
        return []
    sizes = np.fromiter((len(b) for b in found), np.int64, len(found))
    members = np.concatenate(found)
    bid = np.repeat(np.arange(len(found), dtype=np.int64), sizes)
    at = np.full(len(tx), -1, np.int64)
    at[rows] = period
    # Every transfer of a block lies in one period (blocks are found per period).
    per = at[members]
    # The block's own accounts: a payment back into the block is no next layer (money
    # coming home is a round trip, :mod:`.roundtrip`), nor one between its members.
    own = unique(np.concatenate([bid * n_acc + tx.src[members], bid * n_acc + tx.dst[members]]))
    onward, onward_bid = _layer(tx, rows, period, n_acc, (bid, per, members, own), True)
    before, before_bid = _layer(tx, rows, period, n_acc, (bid, per, members, own), False)
    extra = np.concatenate([onward, before])
    extra_bid = np.concatenate([onward_bid, before_bid])
    if len(extra) == 0:
        return []
    # Each grown block with its layers: (block, position) keys, sorted, cut per block.
    grown = isin(bid, extra_bid)
    width = len(tx)
    keys = unique(np.concatenate([extra_bid * width + extra, bid[grown] * width + members[grown]]))
    cuts = np.flatnonzero(np.diff(keys // width)) + 1
    return [np.asarray(g % width, np.int64) for g in np.split(keys, cuts)]


def _layer(
    tx: _Tx, rows: I64, period: I64, n_acc: int, block: tuple[I64, I64, I64, I64], onward: bool
) -> tuple[I64, I64]:
    """A layer adjacent to each block: with ``onward``, the block transfers of the block's
    period from its receivers, each after its payer's first receipt in the block, to an
    account outside the block that at least two of the receivers pay so (the next layer);
    else the block transfers of the period into its senders, each before its payee's last
    payment in the block, from an account outside the block that pays at least two of
    the senders so (the previous layer). Positions into ``tx`` and their block (a
    transfer may lie next to two blocks: once for each)."""
    bid, per, members, own = block
    none = np.zeros(0, np.int64)
    # The middle accounts of each block: receivers (onward) or senders, with the time
    # the layer must follow (first receipt) or precede (last payment).
    mid = tx.dst[members] if onward else tx.src[members]
    key = unique(bid * n_acc + mid)
    m_bid, m_acc = key // n_acc, key % n_acc
    slot = np.searchsorted(key, bid * n_acc + mid)
    if onward:
        limit = np.full(len(key), np.iinfo(np.int64).max, np.int64)
        np.minimum.at(limit, slot, tx.ts[members])
    else:
        limit = np.full(len(key), np.iinfo(np.int64).min, np.int64)
        np.maximum.at(limit, slot, tx.ts[members])
    m_per = np.zeros(len(key), np.int64)
    m_per[slot] = per
    # Join the period's block transfers to the middle accounts they leave (arrive at):
    # an account may be a middle account of several blocks of a period.
    m_key = m_per * n_acc + m_acc
    order = argsort_stable(m_key)
    sorted_key = m_key[order]
    near = (tx.src[rows] if onward else tx.dst[rows]).astype(np.int64)
    q = period * n_acc + near
    lo, hi = search(sorted_key, q, "left"), search(sorted_key, q, "right")
    count = hi - lo
    if not count.any():
        return none, none
    row = np.repeat(rows, count)
    step = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    which = order[np.repeat(lo, count) + step]
    b = m_bid[which]
    far = (tx.dst[row] if onward else tx.src[row]).astype(np.int64)
    timely = tx.ts[row] > limit[which] if onward else tx.ts[row] < limit[which]
    keep = timely & ~isin(b * n_acc + far, own)
    row, b, far, middle = row[keep], b[keep], far[keep], m_acc[which][keep]
    # The far account must deal so with two middle accounts of the block or more.
    trio = unique((b * n_acc + far) * n_acc + middle)
    pair, times = np.unique(trio // n_acc, return_counts=True)
    keep = isin(b * n_acc + far, pair[times >= 2])
    return row[keep].astype(np.int64), b[keep].astype(np.int64)


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


def block_width(tx: _Tx, flat: I64, group: I64, n: int) -> I64:
    """Per alert (``n``; ``flat`` positions into ``tx`` grouped by ``group``): the fewer of
    its distinct payers and distinct payees (its width as a block, module docstring).

    Two payers each paying the same three payees, and three paying three:

    >>> tx = _Tx(np.arange(15), np.array([0, 0, 0, 1, 1, 1, 5, 5, 5, 6, 6, 6, 7, 7, 7]),
    ...          np.array([2, 3, 4, 2, 3, 4, 8, 9, 10, 8, 9, 10, 8, 9, 10]),
    ...          np.full(15, 30_000.0), np.arange(15))
    >>> block_width(tx, np.arange(15), np.repeat([0, 1], [6, 9]), 2).tolist()
    [2, 3]
    """
    if len(flat) == 0:
        return np.zeros(n, np.int64)
    width = int(max(tx.src.max(), tx.dst.max())) + 1
    g = group.astype(np.int64)
    payers = np.bincount(unique(g * width + tx.src[flat]) // width, minlength=n)
    payees = np.bincount(unique(g * width + tx.dst[flat]) // width, minlength=n)
    return np.asarray(np.minimum(payers, payees), np.int64)


def unrelated_pairs(
    tx: _Tx, flat: I64, group: I64, person: I64, linked: Callable[[I64, I64], I64], n: int
) -> F64:
    """Per alert (``n``; ``flat`` positions into ``tx`` grouped by ``group``): the share of
    its distinct payer–payee pairs that are accounts of two persons unrelated to each other
    (``person`` ≥ 0 per account, and ``linked(payer, payee)``, a :data:`.params.LINKS`
    code, is 0: no common holder, household, hidden network or private device).

    Friends who split bills pay one another inside their circle, which the hidden network
    knows (shared contacts, addresses, employers); a block of persons paying the same
    strangers is a ring recruited for the purpose. The counterpart of a fan's
    ``unrelated_persons`` (:func:`.hubs.unrelated_persons`), pair by pair since a block has
    no hub. Pairs with an enterprise's account are never unrelated persons.

    Payers 0 and 1 pay 2 and 3; 0 and 2 are one household:

    >>> tx = _Tx(np.arange(4), np.array([0, 0, 1, 1]), np.array([2, 3, 2, 3]),
    ...          np.full(4, 30_000.0), np.arange(4))
    >>> family = lambda a, b: np.where((a == 0) & (b == 2), 3, 0)
    >>> person = np.array([0, 1, 2, 3])
    >>> unrelated_pairs(tx, np.arange(4), np.zeros(4, np.int64), person, family, 1).tolist()
    [0.75]
    """
    out = np.zeros(n)
    if len(flat) == 0:
        return out
    width = int(max(tx.src.max(), tx.dst.max())) + 1
    # Distinct (alert, payer, payee): a pair paying twice counts once. Pairs are numbered
    # first, so the key stays within int64 on a bank of millions of accounts.
    pair_key, pair = unique_inverse(tx.src[flat] * width + tx.dst[flat])
    key = unique(group.astype(np.int64) * len(pair_key) + pair)
    alert, which = key // len(pair_key), pair_key[key % len(pair_key)]
    payer, payee = which // width, which % width
    strangers = (person[payer] >= 0) & (person[payee] >= 0) & (linked(payer, payee) == 0)
    pairs = np.bincount(alert, minlength=n)
    hits = np.bincount(alert, weights=strangers.astype(np.float64), minlength=n)
    np.divide(hits, pairs, out=out, where=pairs > 0)
    return out
