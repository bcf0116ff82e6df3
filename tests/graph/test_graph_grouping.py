"""The vectorised helpers the build rests on, checked against plain Python on random data."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pyarrow as pa
import pytest

from relgraph.graph.grouping import Groups, order_by_source_then
from relgraph.graph.tables import distinct_sorted, encode_sorted


@pytest.mark.parametrize("seed", range(5))
def test_groups_match_a_dictionary(seed: int) -> None:
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, 20, 200)
    values = rng.integers(-50, 50, 200)
    rank = rng.integers(0, 3, 200)
    expected: dict[int, list[int]] = defaultdict(list)
    for row, key in enumerate(keys.tolist()):
        expected[key].append(row)
    groups = Groups(keys, rank)
    assert groups.keys.tolist() == sorted(expected)
    assert groups.sum(values).tolist() == [sum(values[expected[k]]) for k in sorted(expected)]
    assert groups.min(values).tolist() == [min(values[expected[k]]) for k in sorted(expected)]
    assert groups.max(values).tolist() == [max(values[expected[k]]) for k in sorted(expected)]
    assert groups.count(values > 0).tolist() == [
        int((values[expected[k]] > 0).sum()) for k in sorted(expected)
    ]
    # `first`: the lowest rank, then the earliest row.
    assert groups.first.tolist() == [
        min(expected[k], key=lambda r: (rank[r], r)) for k in sorted(expected)
    ]


def test_groups_of_nothing() -> None:
    groups = Groups(np.array([], dtype=np.int64))
    assert len(groups) == 0
    assert groups.sum(np.array([], dtype=np.int64)).tolist() == []


@pytest.mark.parametrize("span", [10, 2**40, 2**62], ids=["packed", "packed-wide", "lexsort"])
def test_order_by_source_then_values_is_a_stable_lexsort(span: int) -> None:
    rng = np.random.default_rng(1)
    src = rng.integers(0, 50, 1000).astype(np.int32)
    values = rng.integers(0, 5, 1000) * (span // 5) - 7
    expected = np.lexsort((values, src))
    assert order_by_source_then(src, values).tolist() == expected.tolist()
    assert order_by_source_then(src[:0], values[:0]).tolist() == []


def test_distinct_sorted() -> None:
    keys = np.array([5, 1, 5, 3, 1], dtype=np.int64)
    assert distinct_sorted(keys).tolist() == [1, 3, 5]
    assert distinct_sorted(keys[:0]).tolist() == []


def test_encode_sorted_over_columns() -> None:
    first = pa.chunked_array([pa.array(["b", None]), pa.array(["a", "", "b"])])
    second = pa.array(["c", "a"])
    ids, codes = encode_sorted(first, second)
    assert ids.to_pylist() == ["a", "b", "c"]
    assert [c.tolist() for c in codes] == [[1, -1, 0, -1, 1], [2, 0]]
    ids, codes = encode_sorted(pa.array([], pa.string()))
    assert (ids.to_pylist(), [c.tolist() for c in codes]) == ([], [[]])
