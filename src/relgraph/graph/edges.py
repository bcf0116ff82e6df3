"""Edges of one kind as CSR arrays over the source index, with a lazy reverse index."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from relgraph.graph.types import IndexArray, frozen, index_dtype
from relgraph.model import EdgeKind


class EdgeSet:
    """All edges of one :class:`~relgraph.model.EdgeKind`, in CSR order over the source.

    Edge ``e`` goes from source node ``src[e]`` to target node ``dst[e]``; the
    out-edges of source ``i`` are ``indptr[i]:indptr[i+1]``, and ``attrs`` row
    ``e`` holds the attributes of edge ``e``. Build one with :meth:`from_edges`.

    Parameters
    ----------
    kind : EdgeKind
        What the edges connect.
    n_source, n_target : int
        Node counts of the source and target kinds.
    src, dst : ndarray of int
        Edge endpoints, ``src`` non-decreasing.
    attrs : DataFrame, optional
        One row per edge, in edge order; no columns when omitted.

    Examples
    --------
    >>> from relgraph.model import EDGE_KIND_BY_NAME
    >>> kind = EDGE_KIND_BY_NAME["Account-TRANSFER->Account"]
    >>> edges = EdgeSet.from_edges(kind, 3, 3, np.array([2, 0, 0]), np.array([0, 2, 1]))
    >>> edges.src.tolist(), edges.dst.tolist(), edges.indptr.tolist()
    ([0, 0, 2], [1, 2, 0], [0, 2, 2, 3])
    >>> edges.neighbors(0).tolist(), edges.in_neighbors(0).tolist()
    ([1, 2], [2])
    """

    def __init__(
        self,
        kind: EdgeKind,
        n_source: int,
        n_target: int,
        src: npt.ArrayLike,
        dst: npt.ArrayLike,
        attrs: pd.DataFrame | None = None,
    ) -> None:
        src_arr = np.asarray(src)
        dst_arr = np.asarray(dst)
        n_edges = len(src_arr)
        if len(dst_arr) != n_edges or (attrs is not None and len(attrs) != n_edges):
            raise ValueError(f"{kind.name}: src, dst and attrs differ in length")
        if n_edges:
            if src_arr.min() < 0 or src_arr.max() >= n_source:
                raise ValueError(f"{kind.name}: source index out of range 0..{n_source - 1}")
            if dst_arr.min() < 0 or dst_arr.max() >= n_target:
                raise ValueError(f"{kind.name}: target index out of range 0..{n_target - 1}")
            if (np.diff(src_arr) < 0).any():
                raise ValueError(f"{kind.name}: edges are not in CSR order (src must not decrease)")
        # One dtype for indices and indptr lets to_scipy hand the arrays over without a cast.
        dtype = index_dtype(n_source, n_target, n_edges)
        self.kind = kind
        self.n_source = n_source
        self.n_target = n_target
        self.src: IndexArray = frozen(src_arr.astype(dtype))
        self.dst: IndexArray = frozen(dst_arr.astype(dtype))
        indptr = np.zeros(n_source + 1, dtype=dtype)
        np.cumsum(np.bincount(self.src, minlength=n_source), out=indptr[1:])
        self.indptr: IndexArray = frozen(indptr)
        """CSR row pointer: the out-edges of source ``i`` are ``indptr[i]:indptr[i+1]``."""
        if attrs is None:
            attrs = pd.DataFrame(index=pd.RangeIndex(n_edges))
        self.attrs: pd.DataFrame = attrs.reset_index(drop=True)
        """Edge attributes (``kind.attributes``), row ``e`` for edge ``e``."""

    @classmethod
    def from_edges(
        cls,
        kind: EdgeKind,
        n_source: int,
        n_target: int,
        src: npt.ArrayLike,
        dst: npt.ArrayLike,
        attrs: pd.DataFrame | None = None,
        order: npt.NDArray[Any] | None = None,
    ) -> EdgeSet:
        """Edges in any order → an EdgeSet in CSR order.

        Edges are ordered by ``(src, dst)`` (ties keep their given order), or by
        ``order`` — a permutation the caller has chosen that sorts ``src``.
        """
        src_arr = np.asarray(src)
        dst_arr = np.asarray(dst)
        if order is None:
            keys = src_arr.astype(np.int64) * max(n_target, 1) + dst_arr
            order = np.argsort(keys, kind="stable")
        if attrs is not None:
            attrs = attrs.take(order)
        return cls(kind, n_source, n_target, src_arr[order], dst_arr[order], attrs)

    def __len__(self) -> int:
        return len(self.src)

    def __repr__(self) -> str:
        return f"EdgeSet({self.kind.name!r}, {len(self):,} edges)"

    @property
    def name(self) -> str:
        """The edge kind's name, ``Source-REL->Target``."""
        return self.kind.name

    @property
    def n_edges(self) -> int:
        return len(self.src)

    # -- out-edges (CSR) ----------------------------------------------------------------------

    def out_edges(self, i: int) -> IndexArray:
        """Positions of the edges leaving source node ``i``."""
        return np.arange(self.indptr[i], self.indptr[i + 1], dtype=self.indptr.dtype)

    def neighbors(self, i: int) -> IndexArray:
        """Targets of the edges leaving ``i``, in edge order (repeated for parallel edges)."""
        return self.dst[self.indptr[i] : self.indptr[i + 1]]

    def out_degree(self) -> IndexArray:
        """Number of edges leaving each source node."""
        return np.diff(self.indptr)

    # -- in-edges (reverse index, built on first use) -------------------------------------------

    @cached_property
    def _reverse(self) -> tuple[IndexArray, IndexArray]:
        dtype = self.indptr.dtype
        # Stable, so the in-edges of a target stay in CSR order (ascending source).
        perm = np.argsort(self.dst, kind="stable").astype(dtype)
        indptr = np.zeros(self.n_target + 1, dtype=dtype)
        np.cumsum(np.bincount(self.dst, minlength=self.n_target), out=indptr[1:])
        return frozen(indptr), frozen(perm)

    @property
    def in_indptr(self) -> IndexArray:
        """Reverse row pointer: the in-edges of target ``j`` are ``in_order[in_indptr[j]:in_indptr[j+1]]``."""
        return self._reverse[0]

    @property
    def in_order(self) -> IndexArray:
        """Edge positions sorted by target (then source): the reverse index's permutation."""
        return self._reverse[1]

    def in_edges(self, j: int) -> IndexArray:
        """Positions of the edges entering target node ``j``, by ascending source."""
        indptr, perm = self._reverse
        return perm[indptr[j] : indptr[j + 1]]

    def in_neighbors(self, j: int) -> IndexArray:
        """Sources of the edges entering ``j`` (repeated for parallel edges)."""
        return self.src[self.in_edges(j)]

    def in_degree(self) -> IndexArray:
        """Number of edges entering each target node."""
        return np.bincount(self.dst, minlength=self.n_target).astype(self.indptr.dtype)

    # -- whole-set views ------------------------------------------------------------------------

    def to_scipy(self, weights: str | npt.ArrayLike | None = None) -> sp.csr_array:
        """Adjacency as a ``scipy.sparse.csr_array`` of shape ``(n_source, n_target)``.

        Parameters
        ----------
        weights : str or array-like, optional
            An attribute column name, or one value per edge; 1.0 per edge when omitted.
            Parallel edges (transfers between the same two accounts) are summed into
            one entry, so with no weights an entry counts the edges.
        """
        if weights is None:
            data = np.ones(len(self), dtype=np.float64)
        elif isinstance(weights, str):
            column = self.attrs[weights].to_numpy(dtype=np.float64, na_value=np.nan)
            data = np.array(column, dtype=np.float64)
        else:
            data = np.array(weights, dtype=np.float64)
            if data.shape != (len(self),):
                raise ValueError(f"{self.name}: need {len(self)} weights, got {data.shape}")
        # Fresh arrays throughout: ours are read-only, and sum_duplicates sorts in place.
        matrix = sp.csr_array(
            (data, self.dst.copy(), self.indptr.copy()), shape=(self.n_source, self.n_target)
        )
        matrix.sum_duplicates()
        return matrix

    def to_frame(self) -> pd.DataFrame:
        """One row per edge: ``source``, ``target`` and the attribute columns."""
        frame = pd.DataFrame({"source": self.src, "target": self.dst})
        return pd.concat([frame, self.attrs], axis=1)
