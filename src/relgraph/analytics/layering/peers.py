"""A hub's peers: what a busy ordinary account does, as the :data:`PEER_QUANTILE` of
distinct counterparties per (account, window) cell (:mod:`.routine`'s hub histories judge a
fan against it)."""

from __future__ import annotations

import math

import numpy as np

from relgraph.analytics.layering.params import F64, I64
from relgraph.analytics.sets import argsort_stable, run_lengths, run_starts, unique

PEER_QUANTILE = 0.9
"""A hub's usual is at least what this share of its peers stay under."""


def _peer(hub: I64, other: I64, bucket: I64, n_acc: int) -> float:
    """The PEER_QUANTILE of distinct ``other`` per (``hub``, ``bucket``) cell."""
    if len(hub) == 0:
        return 0.0
    return quantile(_distinct(hub, other, bucket, n_acc), PEER_QUANTILE)


def _distinct(hub: I64, other: I64, bucket: I64, n_acc: int) -> I64:
    """Per (``hub``, ``bucket``) cell with a row: its distinct ``other`` (cells ascending)."""
    cell = hub.astype(np.int64) * (int(bucket.max()) + 1) + bucket
    # One integer per (cell, counterparty): 1-D uniques, far faster than rows.
    pairs = unique(cell * n_acc + other)
    return run_lengths(pairs // n_acc)  # pairs ascend: one run per cell


def peer_histogram(hub: I64, other: I64, bucket: I64, n_acc: int) -> I64:
    """How many (``hub``, ``bucket``) cells have each number of distinct ``other`` (index:
    the number): :func:`_peer`'s figures as an aggregate a live index keeps up to date
    (:mod:`.peerctx`) and reads with :func:`histogram_quantile`.

    >>> hub, other = np.array([0, 0, 0, 1, 2]), np.array([1, 2, 1, 0, 0])
    >>> peer_histogram(hub, other, np.array([0, 0, 1, 0, 0]), 3).tolist()
    [0, 3, 1]
    """
    if len(hub) == 0:
        return np.zeros(1, np.int64)
    return np.bincount(_distinct(hub, other, bucket, n_acc)).astype(np.int64)


def histogram_quantile(counts: I64, q: float) -> float:
    """:func:`quantile` of the values ``counts`` holds (``counts[k]``: how many equal
    ``k``) to the last bit: the same two order statistics, found by a cumulative count.

    >>> values = np.array([1, 1, 1, 2, 3, 7, 1, 2])
    >>> histogram_quantile(np.bincount(values), 0.9) == quantile(values, 0.9)
    True
    """
    n = int(counts.sum())
    if n == 0:
        return 0.0
    at = (n - 1) * q
    lo = math.floor(at)
    gamma = at - lo
    # The value of rank r is the smallest k whose cumulative count exceeds r.
    a, b = np.searchsorted(np.cumsum(counts), [lo, min(lo + 1, n - 1)], "right").tolist()
    step = b - a
    return float(b - step * (1 - gamma)) if gamma >= 0.5 else float(a + step * gamma)


def _peers_by(hub: I64, other: I64, bucket: I64, n_acc: int, segment: I64, n_seg: int) -> F64:
    """Per segment (``segment``: per account): :func:`_peer` of the rows whose ``hub`` is
    its account (0 for a segment without any), every segment in one pass, to the last bit
    (:func:`quantile`'s arithmetic, element-wise)."""
    out = np.zeros(n_seg)
    if len(hub) == 0:
        return out
    width = int(bucket.max()) + 1
    cell = hub.astype(np.int64) * width + bucket
    pairs = unique(cell * n_acc + other)
    cells = pairs // n_acc
    firsts = run_starts(cells)
    distinct = run_lengths(cells)
    # Cells ascend with their hub, and hubs with their segment: each segment is one run.
    seg = segment[cells[firsts] // width]
    ranked = distinct[argsort_stable(seg * (int(distinct.max()) + 1) + distinct)]
    start = run_starts(seg)  # seg ascends: one run per segment
    some, count = seg[start], np.diff(np.append(start, len(seg)))
    at = (count - 1) * PEER_QUANTILE
    lo = np.floor(at).astype(np.int64)
    gamma = at - lo
    a = ranked[start + lo].astype(np.float64)
    b = ranked[start + np.minimum(lo + 1, count - 1)].astype(np.float64)
    step = b - a
    out[some] = np.where(gamma >= 0.5, b - step * (1 - gamma), a + step * gamma)
    return out


def quantile(values: I64, q: float) -> float:
    """``np.quantile(values, q)`` (the default, linear method) to the last bit, without its
    set-up (tens of microseconds, more than a verdict's whole fan): the two order
    statistics around ``(n − 1) q``, interpolated as numpy's ``_lerp`` does."""
    ranked = np.sort(values)
    at = (len(ranked) - 1) * q
    lo = math.floor(at)
    gamma = at - lo
    a, b = int(ranked[lo]), int(ranked[min(lo + 1, len(ranked) - 1)])
    step = b - a
    return float(b - step * (1 - gamma)) if gamma >= 0.5 else float(a + step * gamma)
