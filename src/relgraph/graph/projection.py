"""The serving projection: node tables and CSR edge sets of every kind, built from a store."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from relgraph import model
from relgraph.graph.build import ProjectionBuilder
from relgraph.graph.edges import EdgeSet
from relgraph.graph.nodes import NodeTable
from relgraph.graph.types import Direction
from relgraph.store.base import Store


@dataclass(frozen=True)
class Projection:
    """An immutable in-memory graph: one :class:`NodeTable` per node kind, one
    :class:`EdgeSet` per edge kind.

    Attributes
    ----------
    nodes : Mapping[NodeKind, NodeTable]
        Keyed by every kind in ``model.NODE_KINDS``.
    edges : Mapping[str, EdgeSet]
        Keyed by ``EdgeKind.name`` for every kind in ``model.EDGE_KINDS``.
    meta : Mapping[str, str]
        The store's load metadata at build time (its fingerprint tells versions apart).
    """

    nodes: Mapping[model.NodeKind, NodeTable]
    edges: Mapping[str, EdgeSet]
    meta: Mapping[str, str] = field(default_factory=dict)

    def edge(self, source: model.NodeKind, rel: model.RelType, target: model.NodeKind) -> EdgeSet:
        """The edge set ``source-rel->target``; ``KeyError`` when the model has no such kind."""
        return self.edges[f"{source}-{rel}->{target}"]

    def incident(
        self,
        kind: model.NodeKind,
        rel: model.RelType | None = None,
        direction: Direction = "both",
    ) -> Iterator[tuple[EdgeSet, Direction]]:
        """Edge sets touching nodes of ``kind``, each with the way it leaves them.

        ``("out", es)`` when ``kind`` is the source of ``es``, ``("in", es)`` when it is the
        target; a set whose source and target are both ``kind`` comes once per way asked.
        """
        for es in self.edges.values():
            if rel is not None and es.kind.rel != rel:
                continue
            if direction in ("out", "both") and es.kind.source == kind:
                yield es, "out"
            if direction in ("in", "both") and es.kind.target == kind:
                yield es, "in"


def build_projection(store: Store, progress: Callable[[str], None] | None = None) -> Projection:
    """Build the projection from the canonical tables in ``store``.

    Parameters
    ----------
    store : Store
        A store holding what ingest writes (any implementation of the interface).
    progress : callable, optional
        Called with the name of each build step as it starts.

    Returns
    -------
    Projection
        Nodes indexed in ascending id order and edges in CSR order, so two builds
        from the same store are identical.

    Raises
    ------
    ProjectionError
        When the tables break an invariant ingest guarantees (a dangling id).
    """
    builder = ProjectionBuilder(store)
    builder.run(progress)
    nodes = {kind: builder.nodes[kind] for kind in model.NODE_KINDS}
    edges = {kind.name: builder.edges[kind.name] for kind in model.EDGE_KINDS}
    return Projection(nodes=nodes, edges=edges, meta=store.meta())
