"""The protocol every graph-algorithm engine implements, and the array types it speaks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from relgraph.analytics.params import InfluenceParams

IndexArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
IdArray = npt.NDArray[np.object_]


class GraphEngine(Protocol):
    """The graph algorithms an analytic delegates; evidence, values and thresholds stay
    in relgraph, so every engine gives the same result contract.

    Nodes are positions ``0..len(ids)-1``; ``ids`` are their person ids (an engine
    inside the database finds the nodes by them).
    """

    name: str

    def components(
        self, ids: IdArray, a: IndexArray, b: IndexArray, weight: FloatArray
    ) -> IndexArray:
        """Connected-component label of every node over undirected weighted edges."""
        ...

    def split_large(
        self,
        ids: IdArray,
        label: IndexArray,
        a: IndexArray,
        b: IndexArray,
        weight: FloatArray,
        max_size: int,
        seed: int,
    ) -> tuple[IndexArray, npt.NDArray[np.bool_]]:
        """Split every group above ``max_size`` into Leiden communities (see ``networks``)."""
        ...

    def pagerank(
        self, ids: IdArray, source: IndexArray, target: IndexArray, params: InfluenceParams
    ) -> FloatArray:
        """PageRank of every node over directed edges, summing to 1."""
        ...

    def close(self) -> None:
        """Release what the engine holds (a database connection)."""
        ...
