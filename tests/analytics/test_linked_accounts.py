"""Linked accounts: who is reached, in how many hops, and the evidence path that shows why."""

from __future__ import annotations

import re

import networkx as nx
import numpy as np
import pytest

from relgraph.analytics.linked_accounts import (
    ALL_KINDS,
    PartyGraph,
    build_party_graph,
    linked_accounts,
)
from relgraph.analytics.person_links import KIND_CODE, person_links
from relgraph.graph import Projection
from tests.banks import loaded_synthetic, projection_of

from .conftest import NETWORK_PARAMS


@pytest.fixture(scope="module")
def graph(tiny: Projection) -> PartyGraph:
    return build_party_graph(tiny, person_links(tiny, NETWORK_PARAMS), NETWORK_PARAMS)


def _answer(
    tiny: Projection, graph: PartyGraph, account: str, hops: int, via: frozenset[str] = ALL_KINDS
) -> list[tuple[str, int]]:
    found = linked_accounts(graph, tiny.nodes["Account"].index(account), hops, via)
    return [
        (str(graph.account_ids[a]), int(h)) for a, h in zip(found.account, found.hops, strict=True)
    ]


def test_linked_accounts_of_the_tiny_bank(tiny: Projection, graph: PartyGraph) -> None:
    # A1 (Wang Wei) → A2 (his spouse) and A9 (one transfer); A8 paid A9 three times.
    assert _answer(tiny, graph, "A1", 1) == [("A2", 1), ("A9", 1)]
    assert _answer(tiny, graph, "A1", 2) == [("A2", 1), ("A9", 1), ("A8", 2)]
    assert _answer(tiny, graph, "A1", 4, frozenset({"family"})) == [("A2", 1)]
    assert _answer(tiny, graph, "A1", 4, frozenset({"device", "phone"})) == []


def test_the_path_names_the_evidence(tiny: Projection, graph: PartyGraph) -> None:
    found = linked_accounts(graph, tiny.nodes["Account"].index("A1"), 2)
    last = found[len(found) - 1]
    assert str(graph.account_ids[last.account]) == "A8"
    assert [h.evidence for h in last.path] == [
        (("transfer", "T9"),),
        (("transfer", "T1"), ("transfer", "T2"), ("transfer", "T3")),
    ]
    assert last.path[0].strength == pytest.approx(0.2)
    assert last.path[1].strength == pytest.approx(0.6)
    assert last.strength == pytest.approx(0.2 * 0.6)
    spouse = found[0]
    assert spouse.path[0].evidence == (("address", "1 rose road"), ("family", "spouse"))


@pytest.mark.parametrize(
    ("hops", "via", "message"),
    [
        (0, ALL_KINDS, "max_hops must be between 1 and 4, not 0"),
        (9, ALL_KINDS, "max_hops must be between 1 and 4, not 9"),
        (2, frozenset(), "via must name some of device, phone"),
        (2, frozenset({"gossip"}), "via must name some of device, phone"),
    ],
)
def test_bad_arguments_are_refused(
    graph: PartyGraph, hops: int, via: frozenset[str], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        linked_accounts(graph, 0, hops, via)


def test_hops_agree_with_networkx_shortest_paths(tmp_path_factory: pytest.TempPathFactory) -> None:
    # generate(2_000, 11), loaded once for this test and test_networks' and test_layering's.
    projection = projection_of(loaded_synthetic(tmp_path_factory, 2_000, 11)[1])
    graph = build_party_graph(projection, person_links(projection))
    via = frozenset({"device", "phone", "family", "transfer"})
    columns = [KIND_CODE[k] for k in via]
    usable = np.prod(graph.miss[:, columns], axis=1) < 1.0
    g = nx.Graph()
    for party in range(graph.n_parties):
        for pos in range(graph.indptr[party], graph.indptr[party + 1]):
            if usable[graph.tie_of[pos]]:
                g.add_edge(party, int(graph.neighbor[pos]))
    rng = np.random.default_rng(0)
    for account in rng.integers(0, len(graph.holder), 40).tolist():
        found = linked_accounts(graph, account, 3, via)
        start = int(graph.holder[account])
        expected = (
            nx.single_source_shortest_path_length(g, start, cutoff=3) if start in g else {start: 0}
        )
        got = dict(zip(found.holder.tolist(), found.hops.tolist(), strict=True))
        holders_expected = {
            p: h for p, h in expected.items() if graph.accounts_ptr[p + 1] > graph.accounts_ptr[p]
        }
        holders_expected = {
            p: h
            for p, h in holders_expected.items()
            if not (p == start and graph.accounts_ptr[p + 1] - graph.accounts_ptr[p] == 1)
        }
        assert got == holders_expected
        assert all(len(found.path(i)) == found.hops[i] for i in range(min(len(found), 20)))
