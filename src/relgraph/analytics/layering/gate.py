"""Which detectors can hold each verdict's transfer: :mod:`.focus`'s conditions, batch-wise.

A request's neighbourhoods are scanned side by side (:mod:`.union`), and a payment to a
merchant brings the merchant's month of takings into its neighbourhood: every detector
then runs over every copy of it. Most of them cannot hold the transfer the verdict is
about. :func:`needs_all` evaluates, for every neighbourhood of the union at once, the
cheap necessary conditions of :mod:`.focus` for the detectors beside the fans — a hop
link into or out of the transfer (chains, scatter-gathers), a slow spoke whose splitter
reaches its gatherer through enough middles (slow scatter-gathers), money that reached
its source able to come back home to its target's home group or network (round trips), an
amount in the structuring band or a split payment beside it (structuring), small
co-funded accounts (blocks, and the layers next to them: stacks) — and says which
neighbourhoods need every detector. The others can be held only by fan bursts and the
gather-scatters built on them, so the union scans them with those alone (the same alerts
holding the transfer: alerts merge only within a typology, and a fan is scored against its
neighbourhood's transfers, not against other typologies' alerts).

The conditions are those of :mod:`.focus` (necessary, so a neighbourhood that fails
them has no alert of that typology holding its transfer) except that a routine transfer
is not excused from round trips and blocks here: a weaker test, never a wrong one.
"""

from __future__ import annotations

import numpy as np

from relgraph.analytics.layering.detectors import may_gather_slowly
from relgraph.analytics.layering.hops import _Tx, linked_to
from relgraph.analytics.layering.params import I64, B, LayeringParams
from relgraph.analytics.layering.roundtrip import home_groups, reach
from relgraph.analytics.layering.routine import in_band
from relgraph.analytics.layering.scoring import _Context
from relgraph.analytics.sets import isin, unique


def needs_all(tx: _Tx, ctx: _Context, params: LayeringParams, segment: I64, p: I64) -> B:
    """Per neighbourhood ``k`` (``segment``: per account of the union, its neighbourhood;
    ``p[k]``: the position in ``tx`` of the transfer its verdict is on): whether a detector
    other than the fans may hold ``p[k]`` (module docstring)."""
    n_seg = len(p)
    seg_row = segment[tx.src]
    need = _hop_linked(tx, params, seg_row, p) | _structuring(tx, params, seg_row, p)
    rest = np.flatnonzero(~need)
    if len(rest):
        need[rest] |= may_gather_slowly(tx, params, seg_row, p)[rest]
    rest = np.flatnonzero(~need)
    if len(rest):
        need[rest] |= _blocks(tx, params, seg_row, p, n_seg)[rest]
    rest = np.flatnonzero(~need)
    if len(rest):
        need[rest] |= _loops(tx, ctx, params, segment, seg_row, p, n_seg)[rest]
    return need


def _hop_linked(tx: _Tx, params: LayeringParams, seg_row: I64, p: I64) -> B:
    """``focus._hop_linked`` per neighbourhood: a hop link (a chain's or a spoke's) enters
    or leaves ``p``."""
    _, ok = linked_to(tx, p[seg_row], params, params.window_ms, params.loosest_share)
    hit = np.zeros(len(p), bool)
    hit[seg_row[ok]] = True
    return hit


def _structuring(tx: _Tx, params: LayeringParams, seg_row: I64, p: I64) -> B:
    """``p`` in the band, or below the reporting threshold beside another transfer of its
    payer to the same account below it (``focus._split_may``)."""
    threshold = params.reporting_threshold
    band = in_band(tx.amount[p], params)
    mine = p[seg_row]
    same = (tx.src == tx.src[mine]) & (tx.dst == tx.dst[mine]) & (tx.amount < threshold)
    count = np.bincount(seg_row[same], minlength=len(p))
    return np.asarray(band | ((tx.amount[p] < threshold) & (count >= 2)), bool)


def _blocks(tx: _Tx, params: LayeringParams, seg_row: I64, p: I64, n_seg: int) -> B:
    """``focus._may_be_block`` per neighbourhood: both accounts of ``p`` with at most
    ``block_max_degree`` distinct counterparties, and ``p`` possibly a block transfer (its
    source paying two or more, its target paid by two or more and co-funded), in a block's
    next layer (its source paid by two or more and co-funded, its target paid by two or
    more) or in a block's previous layer (its target paying two or more with another
    account paying two of its payees, its source paying two or more)."""
    n_acc = int(max(tx.src.max(initial=0), tx.dst.max(initial=0))) + 1
    pairs = unique(tx.src * n_acc + tx.dst)
    out_deg = np.bincount(pairs // n_acc, minlength=n_acc)
    in_deg = np.bincount(pairs % n_acc, minlength=n_acc)
    src, dst = tx.src[p], tx.dst[p]
    limit = params.block_max_degree
    small = (out_deg[src] + in_deg[src] <= limit) & (out_deg[dst] + in_deg[dst] <= limit)
    block = small & (out_deg[src] >= 2) & (in_deg[dst] >= 2)
    hit = block & _dealt_twice(tx, seg_row, np.where(block, dst, -1), n_acc, n_seg, True)
    onward = small & ~hit & (in_deg[src] >= 2) & (in_deg[dst] >= 2)
    hit |= onward & _dealt_twice(tx, seg_row, np.where(onward, src, -1), n_acc, n_seg, True)
    before = small & ~hit & (out_deg[src] >= 2) & (out_deg[dst] >= 2)
    hit |= before & _dealt_twice(tx, seg_row, np.where(before, dst, -1), n_acc, n_seg, False)
    return hit


def _dealt_twice(tx: _Tx, seg_row: I64, account: I64, n_acc: int, n_seg: int, inbound: bool) -> B:
    """Per neighbourhood ``k`` with ``account[k] ≥ 0``: whether another account is paid by
    two of ``account[k]``'s payers (``inbound``) or pays two of its payees
    (``focus._dealt_twice``). Accounts are numbered per neighbourhood, so one mark per
    account keeps the neighbourhoods apart."""
    side, other = (tx.dst, tx.src) if inbound else (tx.src, tx.dst)
    asked = np.zeros(n_acc, bool)
    asked[account[account >= 0]] = True
    party = np.zeros(n_acc, bool)
    party[other[asked[side]]] = True
    theirs = np.flatnonzero(party[other] & ~asked[side])
    dealt = unique(side[theirs] * n_acc + other[theirs]) // n_acc
    twice = dealt[1:][dealt[1:] == dealt[:-1]]
    # A dealt-with account's neighbourhood is its counterparties'.
    seg_of_acc = np.full(n_acc, -1, np.int64)
    seg_of_acc[side[theirs]] = seg_row[theirs]
    hit = np.zeros(n_seg, bool)
    hit[seg_of_acc[twice]] = True
    return hit


def _loops(
    tx: _Tx, ctx: _Context, params: LayeringParams, segment: I64, seg_row: I64, p: I64, n_seg: int
) -> B:
    """``focus._may_close_loop`` per neighbourhood: money that reached ``p``'s source within
    the horizon before it comes from a home (group or network) that money leaving ``p``'s
    target can reach after it — by time-respecting paths of at most ``cycle_max_hops − 1``
    transfers, each neighbourhood on its own (its accounts are its own)."""
    n_acc = len(ctx.person)
    group, network = home_groups(ctx, n_acc)
    t = tx.ts[p][seg_row]
    horizon = params.horizon_ms
    near = (tx.ts >= t - horizon) & (tx.ts <= t + horizon)
    after = np.flatnonzero(near & (tx.ts > t))
    before = np.flatnonzero(near & (tx.ts < t))
    forth, back = reach(tx, p, after, before, params.cycle_max_hops - 1, n_acc)
    hit = np.zeros(n_seg, bool)
    # Homes are numbered per neighbourhood too: a home both sides reach is one
    # neighbourhood's.
    acc = np.arange(n_acc, dtype=np.int64)
    for label, valid in ((group, np.ones(n_acc, bool)), (network, network >= 0)):
        reached = unique(label[back & valid])
        common = reached[isin(reached, label[forth & valid])]
        if len(common):
            hit[segment[acc[isin(label, common) & valid & (back | forth)]]] = True
    return hit
