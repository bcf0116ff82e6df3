"""The default engine: the graph algorithms in this process (scipy, igraph, numpy)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from relgraph.analytics.influence import pagerank
from relgraph.analytics.networks import components, split_large
from relgraph.analytics.params import InfluenceParams
from relgraph.engines.base import FloatArray, IdArray, IndexArray


class LocalEngine:
    """The algorithms in this process: scipy's components, igraph's Leiden, power iteration."""

    name = "local"

    def components(
        self, ids: IdArray, a: IndexArray, b: IndexArray, weight: FloatArray
    ) -> IndexArray:
        return components(len(ids), a, b)

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
        return split_large(label, a, b, weight, max_size, seed)

    def pagerank(
        self, ids: IdArray, source: IndexArray, target: IndexArray, params: InfluenceParams
    ) -> FloatArray:
        return pagerank(source, target, len(ids), params)

    def close(self) -> None:
        """Nothing to release."""
