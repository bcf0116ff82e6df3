"""Structuring runs and split payments, found (definitions in :mod:`.routine`): the
transfers a payer keeps under the reporting threshold, as runs of one holder's band
transfers or one payment cut into pieces."""

from __future__ import annotations

import numpy as np

from relgraph.analytics.layering.detectors import _episodes
from relgraph.analytics.layering.hops import _Tx
from relgraph.analytics.layering.params import I64, B, LayeringParams
from relgraph.analytics.layering.routine import in_band
from relgraph.analytics.sets import argsort_stable


def structuring_runs(
    tx: _Tx, params: LayeringParams, own: B | None = None, payer: I64 | None = None
) -> list[I64]:
    """Structuring runs as lists of _Tx positions (definition above); ``own`` marks
    transfers between two accounts of one holder, which are never part of one; ``payer``
    is each transfer's payer's holder key (:func:`.scoring.holder_keys`; default: its
    source account, one run per account)."""
    band = in_band(tx.amount, params)
    if own is not None:
        band &= ~own
    rows = np.flatnonzero(band).astype(np.int64)
    runs: list[I64] = []
    if len(rows):  # none in the band: split payments may still be there
        if payer is None:
            group = tx.src[rows]  # tx is in (source, time) order, so the band rows are too
        else:
            # A holder's accounts interleave in time: (holder, time) order, ties in tx order.
            rows = rows[np.lexsort((tx.ts[rows], payer[rows]))]
            group = payer[rows]
        episode = _episodes(group, tx.ts[rows], params.horizon_ms)
        good = np.bincount(episode) >= params.structuring_min_count
        runs = _episode_slices(rows, episode, good, sort=payer is not None)
    return runs + _split_runs(tx, params, own)


def split_payments(tx: _Tx, params: LayeringParams, own: B | None = None) -> B:
    """Per transfer: part of a split payment (definition above)."""
    out = np.zeros(len(tx), bool)
    runs = _split_runs(tx, params, own)
    if runs:
        out[np.concatenate(runs)] = True
    return out


def _split_runs(tx: _Tx, params: LayeringParams, own: B | None = None) -> list[I64]:
    """Split payments as lists of _Tx positions: at least ``structuring_min_count``
    transfers from one account to one other holder's, each below the reporting threshold
    and within ``window_hours`` of the previous, together at or above it."""
    k = params.structuring_min_count
    below = tx.amount < params.reporting_threshold
    if own is not None:
        below &= ~own
    rows = np.flatnonzero(below).astype(np.int64)
    if len(rows) < k:
        return []
    # A run needs k departures of one account within (k − 1) windows: rows that start or
    # join such a group (tx is in (source, time) order, so ``rows`` are too).
    src, ts = tx.src[rows], tx.ts[rows]
    head = np.flatnonzero(
        (src[k - 1 :] == src[: len(src) - k + 1])
        & (ts[k - 1 :] - ts[: len(ts) - k + 1] <= (k - 1) * params.window_ms)
    )
    if len(head) == 0:
        return []
    near = np.zeros(len(rows), bool)
    for j in range(k):
        near[head + j] = True
    rows = rows[near]
    # (source, target, time) order: a stable sort by target keeps (source, time).
    n_acc = int(max(tx.src.max(), tx.dst.max())) + 1
    pair = tx.src[rows] * n_acc + tx.dst[rows]
    order = argsort_stable(pair)
    rows, pair = rows[order], pair[order]
    episode = _episodes(pair, tx.ts[rows], params.window_ms)
    size = np.bincount(episode)
    total = np.bincount(episode, weights=tx.amount[rows])
    good = (size >= k) & (total >= params.reporting_threshold)
    return _episode_slices(rows, episode, good, sort=True)


def _episode_slices(rows: I64, episode: I64, good: B, *, sort: bool) -> list[I64]:
    """The ``rows`` of each ``good`` episode (``episode``: ascending, one per row), in
    episode order; sorted each when ``sort``. Only the good ones are cut out: a union of a
    request's neighbourhoods has thousands of episodes and keeps a handful, and
    ``np.split`` made a view of every one."""
    start = np.searchsorted(episode, np.flatnonzero(good), "left").tolist()
    end = np.searchsorted(episode, np.flatnonzero(good), "right").tolist()
    return [np.sort(rows[a:b]) if sort else rows[a:b] for a, b in zip(start, end, strict=True)]
