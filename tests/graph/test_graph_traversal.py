"""neighbors_of on the tiny bank, and k_hop / bfs_levels against networkx BFS."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from relgraph import model
from relgraph.graph import (
    Projection,
    TraversalLimitError,
    adjacency,
    bfs_levels,
    k_hop,
    neighbors_of,
)


def ids(p: Projection, found: dict[model.NodeKind, np.ndarray]) -> dict[str, list[str]]:
    return {kind: list(p.nodes[kind].id_of(idx)) for kind, idx in found.items()}


def test_neighbors_of_a_person(projection: Projection) -> None:
    p1 = projection.nodes["Person"].index("P1")
    assert ids(projection, neighbors_of(projection, "Person", p1, "HOLDS")) == {
        "Account": ["A1", "A2"]
    }
    assert ids(projection, neighbors_of(projection, "Person", p1)) == {
        "Account": ["A1", "A2"],
        "Device": ["D1"],
        "Phone": ["+8613800000001"],
        "Email": ["alice@card.cn", "alice@x.cn"],
        "Address": ["1 river rd"],
        "IdDocument": ["ID-A"],
        "Person": ["P2", "P3"],  # spouse; guaranteed and referred Carol
        "Enterprise": ["E1"],  # shareholder and director, once
    }
    assert ids(projection, neighbors_of(projection, "Person", p1, "RECORD_OF", "in")) == {
        "CustomerRecord": ["C1", "C2"]
    }


def test_neighbors_of_both_directions(projection: Projection) -> None:
    p2 = projection.nodes["Person"].index("P2")
    assert ids(projection, neighbors_of(projection, "Person", p2, "FAMILY", "both")) == {
        "Person": ["P1"]
    }
    e2 = projection.nodes["Enterprise"].index("E2")
    assert ids(projection, neighbors_of(projection, "Enterprise", e2, "GUARANTEES", "both")) == {
        "Person": ["P2"],
        "Enterprise": ["E1"],
    }
    a3 = projection.nodes["Account"].index("A3")
    assert ids(projection, neighbors_of(projection, "Account", a3, "TRANSFER", "in")) == {
        "Account": ["A1"]  # two transfers, one neighbour
    }
    with pytest.raises(IndexError):
        neighbors_of(projection, "Account", 99)


def test_k_hop_follows_money_downstream(projection: Projection) -> None:
    accounts = projection.nodes["Account"]
    result = k_hop(
        projection,
        "Account",
        accounts.index("A8"),
        max_hops=3,
        edge_kinds=["Account-TRANSFER->Account"],
        direction="out",
    )
    reached = list(zip(accounts.id_of(result["node"]), result["hops"], strict=True))
    assert reached == [("A8", 0), ("A1", 1), ("A3", 2), ("A4", 3)]
    assert set(result["node_kind"]) == {"Account"}


def test_k_hop_across_node_kinds(projection: Projection) -> None:
    # P1 and P2 share an address: two hops apart through the Address node.
    persons = projection.nodes["Person"]
    result = k_hop(
        projection,
        "Person",
        [persons.index("P1")],
        max_hops=2,
        edge_kinds=["Person-LIVES_AT->Address"],
    )
    assert result.to_dict("list") == {
        "source": [0, 0, 0],
        "node_kind": ["Person", "Address", "Person"],
        "node": [0, 0, 1],
        "hops": [0, 1, 2],
    }


def test_k_hop_limit_and_prebuilt_adjacency(projection: Projection) -> None:
    adj = adjacency(projection)
    full = k_hop(adj, "Person", [0, 1, 2, 3, 4], max_hops=2)
    assert full.equals(k_hop(projection, "Person", [4, 3, 2, 1, 0, 0], max_hops=2))
    with pytest.raises(TraversalLimitError):
        k_hop(adj, "Person", [0, 1, 2, 3, 4], max_hops=2, max_reached=len(full) - 1)
    with pytest.raises(ValueError, match="fixed"):
        k_hop(adj, "Person", 0, 1, direction="out")
    with pytest.raises(IndexError):
        k_hop(adj, "Person", 5, 1)


def _nx_levels(graph: nx.DiGraph, sources: list[int], hops: int) -> list[tuple[int, int, int]]:
    rows = []
    for search, source in enumerate(sources):
        lengths = nx.single_source_shortest_path_length(graph, source, cutoff=hops)
        rows += [(search, node, dist) for node, dist in lengths.items()]
    return sorted(rows, key=lambda r: (r[0], r[2], r[1]))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("max_hops", [0, 1, 2, 4])
def test_bfs_levels_matches_networkx(seed: int, max_hops: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 40))
    m = int(rng.integers(0, 3 * n))
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    matrix = sp.csr_array((np.ones(m, dtype=bool), (src, dst)), shape=(n, n))
    graph = nx.DiGraph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(zip(src.tolist(), dst.tolist(), strict=True))
    sources = rng.integers(0, n, int(rng.integers(1, 5))).tolist()
    search, node, hops = bfs_levels(matrix, sources, max_hops)
    got = list(zip(search.tolist(), node.tolist(), hops.tolist(), strict=True))
    assert got == _nx_levels(graph, sources, max_hops)


@pytest.mark.parametrize("direction", ["out", "in", "both"])
@pytest.mark.parametrize("kind", ["Person", "Account", "Enterprise"])
def test_k_hop_on_the_bank_matches_networkx(
    projection: Projection, direction: str, kind: model.NodeKind
) -> None:
    adj = adjacency(projection, direction=direction)
    graph = nx.DiGraph()
    graph.add_nodes_from(range(adj.matrix.shape[0]))
    for es in projection.edges.values():
        u = es.src + adj.offsets[es.kind.source]
        v = es.dst + adj.offsets[es.kind.target]
        pairs = list(zip(u.tolist(), v.tolist(), strict=True))
        if direction in ("out", "both"):
            graph.add_edges_from(pairs)
        if direction in ("in", "both"):
            graph.add_edges_from((b, a) for a, b in pairs)
    sources = list(range(len(projection.nodes[kind])))
    result = k_hop(adj, kind, sources, max_hops=3)
    codes = result["node_kind"].cat.codes.to_numpy()
    starts = np.array([adj.offsets[k] for k in model.NODE_KINDS])
    global_node = starts[codes] + result["node"].to_numpy()
    rows = zip(
        result["source"].tolist(), global_node.tolist(), result["hops"].tolist(), strict=True
    )
    # Searches are numbered by position in `sources`, which here equals the source index.
    expected = _nx_levels(graph, adj.to_global(kind, sources).tolist(), 3)
    assert sorted(rows) == sorted(expected)
