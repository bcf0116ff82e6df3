"""The scan's integer sorts by 16-bit digits (:mod:`relgraph.analytics.sets`) give
numpy's own answers: every definition's ties fall by these orders, so any difference
would change which transfer an alert holds."""

from __future__ import annotations

import numpy as np
import pytest

from relgraph.analytics.sets import (
    _RADIX_MIN,
    argsort_stable,
    sort_values,
    unique,
    unique_counts,
    unique_inverse,
)

SPANS = [1, 8, 16, 17, 31, 32, 33, 47, 48, 62]
"""Bits of the keys' range: one, two and three digits, their edges, and past three (numpy's
own sort)."""


def _keys(rng: np.random.Generator, n: int, bits: int, low: int) -> np.ndarray:
    # Few distinct values among many keys: ties are what a stable order must keep.
    pool = rng.integers(0, 1 << bits, max(n // 7, 2), dtype=np.int64) + low
    return rng.choice(pool, n)


@pytest.mark.parametrize("bits", SPANS)
@pytest.mark.parametrize("n", [0, 5, _RADIX_MIN - 1, _RADIX_MIN, 50_000])
def test_every_order_equals_numpys(n: int, bits: int) -> None:
    rng = np.random.default_rng(bits * 1000 + n)
    for low in (0, -(1 << 40), 123_456_789):
        keys = _keys(rng, n, bits, low)
        assert np.array_equal(argsort_stable(keys), np.argsort(keys, kind="stable"))
        assert np.array_equal(sort_values(keys), np.sort(keys))
        assert np.array_equal(unique(keys), np.unique(keys))
        values, inverse = unique_inverse(keys)
        expected_values, expected_inverse = np.unique(keys, return_inverse=True)
        assert np.array_equal(values, expected_values)
        assert np.array_equal(inverse, expected_inverse.ravel())
        values, counts = unique_counts(keys)
        expected_values, expected_counts = np.unique(keys, return_counts=True)
        assert np.array_equal(values, expected_values)
        assert np.array_equal(counts, expected_counts)


def test_ties_keep_their_positions() -> None:
    # Known answer: of 8,192 keys alternating 2, 1, 2, 1, ... the 1s come first, each run
    # in position order — the second digit pass must not reorder the first's ties.
    keys = np.array([2, 1] * 4096) + (1 << 20)
    order = argsort_stable(keys)
    assert order[:4096].tolist() == list(range(1, 8192, 2))
    assert order[4096:].tolist() == list(range(0, 8192, 2))


def test_float_keys_are_sorted_by_numpy() -> None:
    keys = np.random.default_rng(3).random(10_000)
    assert np.array_equal(argsort_stable(keys), np.argsort(keys, kind="stable"))
