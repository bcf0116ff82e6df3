"""Traversal primitives over a projection: neighbours of a node, and bounded multi-source BFS."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from relgraph import model
from relgraph.graph.projection import Projection
from relgraph.graph.types import Direction, IndexArray


class TraversalLimitError(RuntimeError):
    """A traversal reached more nodes than its caller allowed."""


def neighbors_of(
    projection: Projection,
    kind: model.NodeKind,
    index: int,
    rel: model.RelType | None = None,
    direction: Direction = "out",
) -> dict[model.NodeKind, IndexArray]:
    """Distinct neighbours of one node, by node kind.

    Parameters
    ----------
    projection : Projection
    kind, index : NodeKind, int
        The node.
    rel : RelType, optional
        Follow only edges of this type (e.g. ``"HOLDS"``); every type when omitted.
    direction : {"out", "in", "both"}
        Follow edges leaving the node, entering it, or both.

    Returns
    -------
    dict
        Node kind → ascending distinct indices; kinds with no neighbour are left out.

    Examples
    --------
    Accounts a person holds, and who they transferred to::

        accounts = neighbors_of(p, "Person", 7, "HOLDS")["Account"]
    """
    if not 0 <= index < len(projection.nodes[kind]):
        raise IndexError(f"{kind} index {index} out of range")
    found: dict[model.NodeKind, list[IndexArray]] = {}
    for edges, way in projection.incident(kind, rel, direction):
        if way == "out":
            found.setdefault(edges.kind.target, []).append(edges.neighbors(index))
        else:
            found.setdefault(edges.kind.source, []).append(edges.in_neighbors(index))
    result = {k: np.unique(np.concatenate(parts)) for k, parts in found.items()}
    return {k: v for k, v in result.items() if len(v)}


@dataclass(frozen=True)
class Adjacency:
    """A boolean adjacency matrix over all node kinds at once.

    Node ``i`` of kind ``k`` is row/column ``offsets[k] + i``; kinds follow
    ``model.NODE_KINDS``. Build it once with :func:`adjacency` and reuse it across
    :func:`k_hop` calls: building costs a pass over every edge chosen.
    """

    matrix: sp.csr_array
    offsets: dict[model.NodeKind, int]

    def to_global(self, kind: model.NodeKind, indices: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Kind-local indices → global row numbers."""
        return np.asarray(indices, dtype=np.int64) + self.offsets[kind]

    def to_local(self, rows: npt.ArrayLike) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Global row numbers → (position of the kind in ``model.NODE_KINDS``, local index)."""
        rows_arr = np.asarray(rows, dtype=np.int64)
        starts = np.array([self.offsets[k] for k in model.NODE_KINDS], dtype=np.int64)
        kind_code = np.searchsorted(starts, rows_arr, side="right") - 1
        return kind_code, rows_arr - starts[kind_code]


def adjacency(
    projection: Projection,
    edge_kinds: Iterable[str] | None = None,
    direction: Direction = "both",
) -> Adjacency:
    """The adjacency of the chosen edge kinds over one index space for all node kinds.

    Parameters
    ----------
    edge_kinds : iterable of str, optional
        ``EdgeKind.name`` values to follow; all of them when omitted.
    direction : {"out", "in", "both"}
        Follow edges source → target, target → source, or either way.
    """
    offsets: dict[model.NodeKind, int] = {}
    total = 0
    for kind in model.NODE_KINDS:
        offsets[kind] = total
        total += len(projection.nodes[kind])
    names = list(projection.edges) if edge_kinds is None else list(edge_kinds)
    rows: list[npt.NDArray[np.int64]] = []
    cols: list[npt.NDArray[np.int64]] = []
    for name in names:
        edges = projection.edges[name]
        src = edges.src.astype(np.int64) + offsets[edges.kind.source]
        dst = edges.dst.astype(np.int64) + offsets[edges.kind.target]
        if direction in ("out", "both"):
            rows.append(src)
            cols.append(dst)
        if direction in ("in", "both"):
            rows.append(dst)
            cols.append(src)
    row = np.concatenate(rows) if rows else np.empty(0, np.int64)
    col = np.concatenate(cols) if cols else np.empty(0, np.int64)
    matrix = sp.coo_array((np.ones(len(row), dtype=bool), (row, col)), shape=(total, total))
    return Adjacency(matrix.tocsr(), offsets)


def bfs_levels(
    matrix: sp.csr_array,
    sources: npt.ArrayLike,
    max_hops: int,
    max_reached: int | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int16]]:
    """Breadth-first search from every source at once, on a square sparse matrix.

    Each hop advances all searches together: the frontier — the (search, node)
    pairs first reached at the previous hop — is expanded by gathering those
    nodes' CSR rows in one vectorised step, and pairs seen before are dropped.

    Parameters
    ----------
    matrix : csr_array, shape (n, n)
        A stored entry ``matrix[u, v]`` means an edge u → v (values are ignored).
    sources : array-like of int
        Start nodes; search ``r`` starts at ``sources[r]``.
    max_hops : int
        Stop after this many hops (0 returns the sources only).
    max_reached : int, optional
        Raise :class:`TraversalLimitError` once more (search, node) pairs are reached.

    Returns
    -------
    search, node, hops : ndarray
        One entry per node reached by a search, with its hop distance, ordered by
        search, then hops, then node. Each source is reached at hop 0.

    Examples
    --------
    >>> path = sp.csr_array(np.eye(4, k=1, dtype=bool))  # 0 → 1 → 2 → 3
    >>> search, node, hops = bfs_levels(path, [0, 2], max_hops=2)
    >>> search.tolist(), node.tolist(), hops.tolist()
    ([0, 0, 0, 1, 1], [0, 1, 2, 2, 3], [0, 1, 2, 0, 1])
    """
    if max_hops < 0:
        raise ValueError("max_hops must be >= 0")
    n = matrix.shape[0]
    start = np.asarray(sources, dtype=np.int64).reshape(-1)
    if len(start) and (start.min() < 0 or start.max() >= n):
        raise IndexError(f"source out of range 0..{n - 1}")
    # Boolean products OR rather than add, so counts never overflow; skip the copy when
    # the matrix (an Adjacency's) is boolean already.
    indptr, indices = matrix.indptr, matrix.indices  # no copies: they span every edge
    n_searches = len(start)
    searches = np.arange(n_searches, dtype=np.int64)
    # A (search, node) pair as one int64 key, so "seen before" is a sorted-array lookup.
    seen = np.unique(searches * n + start)
    levels = [seen]
    for _ in range(max_hops):
        last = levels[-1]
        if not len(last):
            break
        search, node = last // n, last % n
        # Gather the CSR rows of the frontier directly: work in proportion to the edges
        # leaving it, with no pass over all n nodes, so one-node queries stay fast.
        first = indptr[node].astype(np.int64)
        count = indptr[node + 1].astype(np.int64) - first
        offsets = np.repeat(first - np.cumsum(count) + count, count) + np.arange(count.sum())
        keys = np.unique(np.repeat(search, count) * n + indices[offsets].astype(np.int64))
        pos = np.searchsorted(seen, keys)
        known = pos < len(seen)
        known[known] = seen[pos[known]] == keys[known]
        fresh = keys[~known]
        if max_reached is not None and len(seen) + len(fresh) > max_reached:
            raise TraversalLimitError(f"more than {max_reached:,} nodes reached")
        seen = np.union1d(seen, fresh)
        levels.append(fresh)
    keys = np.concatenate(levels)
    hops = np.repeat(np.arange(len(levels), dtype=np.int16), [len(x) for x in levels])
    search, node = keys // max(n, 1), keys % max(n, 1)
    order = np.lexsort((node, hops, search))
    return search[order], node[order], hops[order]


def k_hop(
    graph: Projection | Adjacency,
    kind: model.NodeKind,
    sources: int | npt.ArrayLike,
    max_hops: int,
    edge_kinds: Iterable[str] | None = None,
    direction: Direction = "both",
    max_reached: int | None = None,
) -> pd.DataFrame:
    """Everything within ``max_hops`` of each source node, with its distance.

    Parameters
    ----------
    graph : Projection or Adjacency
        A projection (its adjacency is built from ``edge_kinds`` and ``direction``), or
        an :class:`Adjacency` built once beforehand for repeated calls.
    kind : NodeKind
        Kind of the source nodes.
    sources : int or array-like of int
        Source node indices; duplicates are searched once.
    max_hops : int
        Largest distance reported.
    edge_kinds, direction
        As for :func:`adjacency`; only with a projection.
    max_reached : int, optional
        Cap on the (source, node) pairs reached, as for :func:`bfs_levels`.

    Returns
    -------
    DataFrame
        Columns ``source`` (index in ``kind``), ``node_kind`` (categorical over
        ``model.NODE_KINDS``), ``node`` (index in its kind) and ``hops``; ordered by
        source, hops, node kind, node. Each source appears at hop 0.

    Examples
    --------
    Accounts up to three transfers downstream of account 5::

        k_hop(p, "Account", 5, 3, ["Account-TRANSFER->Account"], direction="out")
    """
    if isinstance(graph, Adjacency):
        if edge_kinds is not None or direction != "both":
            raise ValueError("edge_kinds and direction are fixed when an Adjacency is given")
        adj = graph
    else:
        adj = adjacency(graph, edge_kinds, direction)
    local = np.unique(np.asarray(sources, dtype=np.int64).reshape(-1))
    n_kind = _kind_size(adj, kind)
    if len(local) and (local[0] < 0 or local[-1] >= n_kind):
        raise IndexError(f"{kind} source out of range 0..{n_kind - 1}")
    search, node, hops = bfs_levels(adj.matrix, adj.to_global(kind, local), max_hops, max_reached)
    kind_code, node_local = adj.to_local(node)
    return pd.DataFrame(
        {
            "source": local[search],
            "node_kind": pd.Categorical.from_codes(
                kind_code, categories=pd.Index(model.NODE_KINDS)
            ),
            "node": node_local,
            "hops": hops,
        }
    )


def _kind_size(adj: Adjacency, kind: model.NodeKind) -> int:
    kinds = list(model.NODE_KINDS)
    position = kinds.index(kind)
    end = adj.offsets[kinds[position + 1]] if position + 1 < len(kinds) else adj.matrix.shape[0]
    return end - adj.offsets[kind]
