"""Plain Python / networkx versions of the layering definitions, as the reference.

Written for reading, not speed: the hop links come from comparing every transfer into an
account with every transfer out of it, chains from a depth-first walk over networkx's graph of hop links, and
scatter-gathers from dictionaries. Tests assert that :mod:`relgraph.analytics.layering`
finds exactly these on small banks. Not used in production (quadratic per account).

Examples
--------
On ``tests/docbank.py``, one chain of four transfers (their EdgeSet positions, in hop
order):

>>> chains = layering_chains(projection)
>>> [len(chain) for chain in chains]
[4]
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

import networkx as nx

from relgraph.analytics.layering import LayeringParams
from relgraph.graph import Projection

Chain = tuple[int, ...]


def _eligible(
    projection: Projection, params: LayeringParams
) -> list[tuple[int, int, int, float, int]]:
    """(edge position, source, target, amount, time) of every eligible transfer."""
    edges = projection.edge("Account", "TRANSFER", "Account")
    rows = []
    for e, (s, d, amount, ts) in enumerate(
        zip(
            edges.src.tolist(),
            edges.dst.tolist(),
            edges.attrs["amount"].tolist(),
            edges.attrs["ts"].tolist(),
            strict=True,
        )
    ):
        if amount >= params.min_amount and s != d:
            rows.append((e, s, d, float(amount), int(ts)))
    return rows


def hop_graph(projection: Projection, params: LayeringParams | None = None) -> nx.DiGraph:
    """Transfers as nodes (attributes ``src``, ``dst``, ``amount``, ``ts``), hop links as edges."""
    params = params or LayeringParams()
    window = params.window_ms
    rows = _eligible(projection, params)
    graph = nx.DiGraph()
    for e, s, d, amount, ts in rows:
        graph.add_node(e, src=s, dst=d, amount=amount, ts=ts)
    leaving: dict[int, list[tuple[int, float, int]]] = defaultdict(list)
    for f, s, _, amount, ts in rows:
        leaving[s].append((f, amount, ts))
    for e, _, d, amount, ts in rows:
        for f, amount2, ts2 in leaving[d]:
            share = amount2 / amount
            if ts < ts2 <= ts + window and params.min_pass_share <= share <= params.max_pass_share:
                graph.add_edge(e, f)
    return graph


def layering_chains(projection: Projection, params: LayeringParams | None = None) -> set[Chain]:
    """Every maximal chain of at least ``min_hops`` transfers (EdgeSet positions, hop order).

    Chains run from a transfer no hop link enters, through distinct accounts, until no
    hop link continues them, they return to the origin account, or they hold
    ``max_hops`` transfers — the definition in :mod:`relgraph.analytics.layering`.
    """
    params = params or LayeringParams()
    graph = hop_graph(projection, params)
    found: set[Chain] = set()

    def walk(path: list[int], accounts: list[int]) -> None:
        if len(path) == params.max_hops:
            found.add(tuple(path))
            return
        continued = False
        for f in sorted(graph.successors(path[-1])):
            to = graph.nodes[f]["dst"]
            if to in accounts[1:]:
                continue  # back into an intermediate account: not a continuation
            continued = True
            if to == accounts[0]:
                if len(path) + 1 >= params.min_hops:
                    found.add((*path, f))
                continue  # the money came home: the chain ends
            walk([*path, f], [*accounts, to])
        if not continued and len(path) >= params.min_hops:
            found.add(tuple(path))

    for e in sorted(graph.nodes):
        if graph.in_degree(e) == 0 and graph.out_degree(e) > 0:
            node = graph.nodes[e]
            walk([e], [node["src"], node["dst"]])
    return found


def scatter_gathers(
    projection: Projection, params: LayeringParams | None = None
) -> set[frozenset[int]]:
    """Every scatter-gather episode as the set of its transfers' EdgeSet positions (its
    spokes: hop links passing on at least ``spoke_min_share``)."""
    params = params or LayeringParams()
    graph = hop_graph(projection, replace(params, min_pass_share=params.spoke_min_share))
    by_pair: dict[tuple[int, int], list[tuple[int, int, int, int]]] = defaultdict(list)
    for e, f in graph.edges:
        first, second = graph.nodes[e], graph.nodes[f]
        by_pair[(first["src"], second["dst"])].append((first["ts"], e, f, first["dst"]))
    found: set[frozenset[int]] = set()
    for legs in by_pair.values():
        legs.sort()
        episodes: list[list[tuple[int, int, int, int]]] = [[legs[0]]]
        for leg in legs[1:]:
            if leg[0] - episodes[-1][-1][0] > params.window_ms:
                episodes.append([leg])
            else:
                episodes[-1].append(leg)
        for episode in episodes:
            if len({middle for *_, middle in episode}) >= params.min_spokes:
                found.add(frozenset(x for _, e, f, _ in episode for x in (e, f)))
    return found
