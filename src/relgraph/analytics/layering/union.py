"""Many neighbourhoods in one pass: the batch definitions on their disjoint union.

A request brings up to a thousand transfers, and each verdict (:mod:`.live`) runs the
definitions on its own neighbourhood — a few dozen transfers, where what costs is the
fixed price of some hundreds of small numpy calls, not the work. :func:`scan_union`
runs :func:`.batch.find_patterns` and :func:`.batch.score_pattern_columns` once over
all the neighbourhoods of a batch laid side by side, and gives each exactly the alerts a
scan of it alone gives (the same transfers, facts, reasons, scores and order):

* **accounts are numbered per neighbourhood** (an account in two neighbourhoods is two
  accounts), and so are persons, enterprises, households and hidden networks: nothing
  links two neighbourhoods — no transfer, no common holder, home or shared device;
* **each neighbourhood's times are shifted** so that its first eligible transfer falls
  on the same moment as every other's (opening times move with them): what counts from
  the scan's first transfer (established relationships, block periods) counts from its
  own, and differences of times are unchanged;
* what is judged over the whole scan is judged per neighbourhood (``segment``): a hub's
  history (its scan's last time, its peers' quantile, running sums restarted), the
  round-trip windows (from its own first non-routine transfer);
* every order the definitions make (by account, transfer, hub, alert) keeps each
  neighbourhood's own relative order, so ties fall the same way.

Everything else in the definitions is per transfer, account, pair, hub, path or alert.
``tests/analytics/test_layering_union.py`` holds the union to scanning each alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from relgraph.analytics.layering.batch import find_patterns, score_pattern_columns
from relgraph.analytics.layering.hops import _eligible, _Tx
from relgraph.analytics.layering.params import F64, I64, LayeringParams
from relgraph.analytics.layering.scoring import ScoredColumns, _Context


@dataclass(frozen=True)
class UnionScan:
    """The alerts of every neighbourhood; an alert's transfers are union positions
    (neighbourhood ``k``'s ``i``-th transfer is at ``offsets[k] + i``)."""

    alerts: ScoredColumns
    offsets: I64
    segment_of: I64
    """Per alert: its neighbourhood."""


def scan_union(
    parts: Sequence[I64],
    arrays: tuple[F64, I64, I64, I64],
    context_of: Callable[[I64], _Context],
    params: LayeringParams,
    highs: tuple[F64, F64] | None = None,
) -> UnionScan:
    """Scan the neighbourhoods ``parts`` (each: row numbers into ``arrays`` = amount,
    time, source and target account per row) side by side (module docstring).

    ``highs``: per row its payer's and payee's highs as the live index judged them on
    arrival, against the accounts' whole past (a neighbourhood holds only part of it).

    Every part must hold an eligible transfer. ``context_of`` gives the context for some
    accounts (their indices as in ``arrays``), compacted to them, as the verdict builds it.
    """
    amount_all, ts_all, src_all, dst_all = arrays
    sizes = np.fromiter((len(p) for p in parts), np.int64, len(parts))
    offsets = np.cumsum(sizes) - sizes
    rows = np.concatenate(parts) if len(parts) else np.zeros(0, np.int64)
    seg_row = np.repeat(np.arange(len(parts), dtype=np.int64), sizes)
    amount, ts, src, dst = amount_all[rows], ts_all[rows], src_all[rows], dst_all[rows]
    eligible = (amount >= params.min_amount) & (src != dst)
    first = np.full(len(parts), np.iinfo(np.int64).max, np.int64)
    np.minimum.at(first, seg_row[eligible], ts[eligible])
    if (first == np.iinfo(np.int64).max).any():
        raise ValueError("scan_union: every neighbourhood needs an eligible transfer")
    shift = first.max() - first
    width = int(max(src.max(initial=0), dst.max(initial=0))) + 1
    n = len(rows)
    keys, inverse = np.unique(
        np.concatenate([seg_row * width + src, seg_row * width + dst]), return_inverse=True
    )
    inverse = inverse.ravel().astype(np.int64)
    segment = (keys // width).astype(np.int64)
    tx = _eligible(amount, ts + shift[seg_row], inverse[:n], inverse[n:], params.min_amount)
    if highs is not None:
        at = rows[tx.edge]
        tx = _Tx(tx.edge, tx.src, tx.dst, tx.amount, tx.ts, highs[0][at], highs[1][at])
    ctx = union_context(context_of(keys % width), segment, shift)
    found = find_patterns(tx, ctx, params, segment)
    alerts = score_pattern_columns(tx, found, ctx, params, segment=segment)
    segment_of = seg_row[alerts.edges[alerts.ptr[:-1]]] if len(alerts) else np.zeros(0, np.int64)
    return UnionScan(alerts, offsets, segment_of)


def union_context(ctx: _Context, segment: I64, shift: I64) -> _Context:
    """The context of the union's accounts: ``ctx`` per account (as if one scan), with
    opening times shifted as their segment's transfers and every holder, household,
    network and device user numbered per segment."""
    opened = np.where(ctx.opened >= 0, ctx.opened + shift[segment], ctx.opened)
    person, persons = _per_segment(ctx.person, segment)
    enterprise, _ = _per_segment(ctx.enterprise, segment)
    person_seg = np.zeros(len(persons), np.int64)
    person_seg[person[person >= 0]] = segment[person >= 0]
    # None stays None and empty stays empty (a bank without persons): the definitions
    # tell the two apart.
    household, network = ctx.household, ctx.network
    if household is not None and len(household):
        household = _labels(household[persons], person_seg, keep_negative=False)
    if network is not None and len(network):
        network = _labels(network[persons], person_seg, keep_negative=True)
    # Private devices of each person copy, in the same layout (``_context``).
    count = ctx.device_ptr[persons + 1] - ctx.device_ptr[persons]
    ptr = np.zeros(len(persons) + 1, np.int64)
    np.cumsum(count, out=ptr[1:])
    within = np.arange(int(ptr[-1]), dtype=np.int64) - np.repeat(ptr[:-1], count)
    device_of = ctx.device_of[np.repeat(ctx.device_ptr[persons], count) + within]
    owner = np.repeat(np.arange(len(persons), dtype=np.int64), count)
    return _Context(
        opened,
        person,
        enterprise,
        household,
        network,
        np.sort(owner * ctx.n_devices + device_of),
        ptr,
        device_of,
        ctx.n_devices,
    )


def _per_segment(value: I64, segment: I64) -> tuple[I64, I64]:
    """Per account: its holder numbered per segment (−1 kept), and per new number the
    original one (numbers ascend with (segment, original), so orders within a segment
    are kept)."""
    has = value >= 0
    out = np.full(len(value), -1, np.int64)
    if not has.any():
        return out, np.zeros(0, np.int64)
    width = int(value.max()) + 1
    keys, inverse = np.unique(segment[has] * width + value[has], return_inverse=True)
    out[has] = inverse.ravel()
    return out, (keys % width).astype(np.int64)


def _labels(label: I64, segment: I64, *, keep_negative: bool) -> I64:
    """Labels numbered per segment: equal within one segment exactly when they were
    (−1, "none", kept when ``keep_negative``)."""
    if len(label) == 0:
        return label.astype(np.int64)
    width = int(label.max()) + 2
    _, inverse = np.unique(segment * width + (label + 1), return_inverse=True)
    out = inverse.ravel().astype(np.int64)
    return np.where(label < 0, -1, out) if keep_negative else out
