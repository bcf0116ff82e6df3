"""Vectorised random helpers shared by the generators (distinct picks, Zipf choices, ragged splits)."""

from __future__ import annotations

import numpy as np

from relgraph.synth.ids import FloatArray, IntArray, unique_ints


def distinct(rng: np.random.Generator, pool: IntArray, k: int) -> IntArray:
    """``k`` distinct members of ``pool`` (with repeats only when the pool is too small)."""
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    if pool.size == 0:
        raise ValueError("cannot pick from an empty pool")
    if k <= pool.size:
        return pool[unique_ints(rng, 0, pool.size, k)]
    return pool[rng.integers(0, pool.size, size=k)]


def zipf(rng: np.random.Generator, n_items: int, size: int, exponent: float) -> IntArray:
    """Item indexes drawn with weight ``1 / rank**exponent`` (item 0 the most popular)."""
    weights = 1.0 / np.arange(1, n_items + 1, dtype=np.float64) ** exponent
    return rng.choice(n_items, size=size, p=weights / weights.sum()).astype(np.int64)


def ragged(counts: IntArray) -> tuple[IntArray, IntArray]:
    """Flatten ``counts[i]`` slots per item into (item, slot-within-item) arrays."""
    item = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    slot = np.arange(item.size, dtype=np.int64) - starts[item]
    return item, slot


def cumsum_within(values: FloatArray, item: IntArray, counts: IntArray) -> FloatArray:
    """Running sum of ``values`` restarted for each item (rows of an item are contiguous)."""
    total = np.cumsum(values)
    before = np.concatenate([[0.0], total])[np.cumsum(counts) - counts]
    return np.asarray(total - before[item], dtype=np.float64)


def split(rng: np.random.Generator, group: IntArray, totals: FloatArray) -> FloatArray:
    """Split ``totals[g]`` at random (flat Dirichlet) over the rows of ``group`` equal to g."""
    weights = rng.exponential(size=group.size)
    sums = np.bincount(group, weights=weights, minlength=totals.size)
    return weights / sums[group] * totals[group]
