"""Counts of nodes and edges per kind, for ``relgraph stats`` and the ``graphStats`` query."""

from __future__ import annotations

from relgraph.graph.projection import Projection


def graph_stats(projection: Projection) -> dict[str, dict[str, int]]:
    """Node counts per node kind and edge counts per edge kind.

    Returns
    -------
    dict
        ``{"nodes": {kind: count}, "edges": {edge kind name: count}}``, kinds in model order.
    """
    return {
        "nodes": {kind: len(table) for kind, table in projection.nodes.items()},
        "edges": {name: len(edges) for name, edges in projection.edges.items()},
    }
