"""The serving graph projection: CSR edge sets, id ↔ index maps, node attributes, traversals."""

from relgraph.graph.build import ProjectionError
from relgraph.graph.edges import EdgeSet
from relgraph.graph.nodes import NodeTable
from relgraph.graph.projection import Projection, build_projection
from relgraph.graph.stats import graph_stats
from relgraph.graph.traversal import (
    Adjacency,
    TraversalLimitError,
    adjacency,
    bfs_levels,
    k_hop,
    neighbors_of,
)

__all__ = [
    "Adjacency",
    "EdgeSet",
    "NodeTable",
    "Projection",
    "ProjectionError",
    "TraversalLimitError",
    "adjacency",
    "bfs_levels",
    "build_projection",
    "graph_stats",
    "k_hop",
    "neighbors_of",
]
