"""NodeTable id maps and EdgeSet CSR views, on the tiny bank and on hand-built sets."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from relgraph.graph import EdgeSet, NodeTable, Projection
from relgraph.model import EDGE_KIND_BY_NAME

TRANSFER = EDGE_KIND_BY_NAME["Account-TRANSFER->Account"]


def test_index_of_and_id_of_round_trip_with_unknown_ids(projection: Projection) -> None:
    accounts = projection.nodes["Account"]
    query = ["A7", "nope", "A1", "", "A7"]
    idx = accounts.index_of(query)
    assert idx.tolist() == [6, -1, 0, -1, 6]
    assert accounts.id_of(idx).tolist() == ["A7", None, "A1", None, "A7"]
    assert accounts.id_of(accounts.index_of(accounts.ids)).tolist() == list(accounts.ids)
    # Other array-likes are accepted too.
    assert accounts.index_of(np.array(["A2"])).tolist() == [1]
    assert accounts.index_of(pa.array(["A3", None])).tolist() == [2, -1]
    assert accounts.index_of("A4").tolist() == [3]
    assert accounts.index_of([]).tolist() == []


def test_scalar_lookups(projection: Projection) -> None:
    persons = projection.nodes["Person"]
    assert persons.index("P4") == 3
    assert "P4" in persons
    assert "P9" not in persons
    with pytest.raises(KeyError):
        persons.index("P9")
    assert persons.id_of(2).tolist() == ["P3"]


@pytest.mark.parametrize("bad", [5, -2, 100])
def test_id_of_rejects_out_of_range(projection: Projection, bad: int) -> None:
    with pytest.raises(IndexError):
        projection.nodes["Person"].id_of([0, bad])


def test_node_table_rejects_unsorted_or_duplicate_ids() -> None:
    with pytest.raises(ValueError, match="ascending"):
        NodeTable("Phone", pa.array(["b", "a"]))
    with pytest.raises(ValueError, match="ascending"):
        NodeTable("Phone", pa.array(["a", "a"]))


def test_empty_node_table() -> None:
    empty = NodeTable("Device", pa.array([], pa.string()))
    assert len(empty) == 0
    assert empty.index_of(["x"]).tolist() == [-1]
    assert empty.id_of([-1]).tolist() == [None]


@pytest.fixture
def small() -> EdgeSet:
    # 0 → 1 (twice), 0 → 2, 2 → 0, 3 → 2; node 1 has no out-edges.
    src = np.array([3, 0, 2, 0, 0])
    dst = np.array([2, 1, 0, 2, 1])
    return EdgeSet.from_edges(TRANSFER, 4, 4, src, dst)


def test_csr_layout(small: EdgeSet) -> None:
    assert small.src.tolist() == [0, 0, 0, 2, 3]
    assert small.dst.tolist() == [1, 1, 2, 0, 2]
    assert small.indptr.tolist() == [0, 3, 3, 4, 5]
    assert small.out_edges(0).tolist() == [0, 1, 2]
    assert small.neighbors(0).tolist() == [1, 1, 2]
    assert small.neighbors(1).tolist() == []
    assert small.out_degree().tolist() == [3, 0, 1, 1]


def test_reverse_index(small: EdgeSet) -> None:
    assert small.in_neighbors(2).tolist() == [0, 3]
    assert small.in_edges(1).tolist() == [0, 1]
    assert small.in_neighbors(3).tolist() == []
    assert small.in_degree().tolist() == [1, 2, 2, 0]
    assert small.in_indptr.tolist() == [0, 1, 3, 5, 5]
    assert small.dst[small.in_order].tolist() == [0, 1, 1, 2, 2]


def test_to_scipy_sums_parallel_edges(small: EdgeSet) -> None:
    counts = small.to_scipy()
    assert counts.shape == (4, 4)
    assert counts.toarray().tolist() == [
        [0, 2, 1, 0],
        [0, 0, 0, 0],
        [1, 0, 0, 0],
        [0, 0, 1, 0],
    ]
    weighted = small.to_scipy(np.arange(5.0))
    assert weighted[0, 1] == 0.0 + 1.0
    with pytest.raises(ValueError, match="weights"):
        small.to_scipy([1.0])
    # The edge set itself is untouched by scipy's in-place canonicalisation.
    assert small.dst.tolist() == [1, 1, 2, 0, 2]


def test_to_scipy_on_the_bank(projection: Projection) -> None:
    es = projection.edges["Account-TRANSFER->Account"]
    amounts = es.to_scipy("amount")
    assert amounts.shape == (8, 8)
    a1, a3 = projection.nodes["Account"].index_of(["A1", "A3"])
    assert amounts[a1, a3] == 150.0
    assert es.to_scipy()[a1, a3] == 2.0
    holds = projection.edges["Person-HOLDS->Account"].to_scipy()
    assert holds.shape == (5, 8)
    assert holds.sum() == 6


def test_in_and_out_neighbours_agree_for_every_edge_kind(projection: Projection) -> None:
    for es in projection.edges.values():
        pairs = sorted(zip(es.src.tolist(), es.dst.tolist(), strict=True))
        out_pairs = sorted((i, j) for i in range(es.n_source) for j in es.neighbors(i).tolist())
        in_pairs = sorted((i, j) for j in range(es.n_target) for i in es.in_neighbors(j).tolist())
        assert out_pairs == pairs == in_pairs, es.name
        assert es.out_degree().sum() == es.in_degree().sum() == len(es)


def test_edge_set_validation() -> None:
    with pytest.raises(ValueError, match="CSR order"):
        EdgeSet(TRANSFER, 3, 3, np.array([1, 0]), np.array([0, 1]))
    with pytest.raises(ValueError, match="target index"):
        EdgeSet.from_edges(TRANSFER, 3, 3, np.array([0]), np.array([3]))
    with pytest.raises(ValueError, match="length"):
        EdgeSet(TRANSFER, 3, 3, np.array([0]), np.array([0, 1]))


def test_empty_edge_set() -> None:
    es = EdgeSet.from_edges(TRANSFER, 2, 2, np.array([], int), np.array([], int))
    assert len(es) == 0
    assert es.indptr.tolist() == [0, 0, 0]
    assert es.in_neighbors(1).tolist() == []
    assert es.to_scipy().nnz == 0
