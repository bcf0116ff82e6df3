"""Nodes of one kind: sorted string ids, id ↔ index maps, attributes aligned with indices."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from relgraph.model import NodeKind


class NodeTable:
    """The nodes of one kind, indexed 0..n-1 in ascending id order.

    Parameters
    ----------
    kind : NodeKind
        The node kind, one of ``model.NODE_KINDS``.
    ids : pyarrow.Array of string
        The node ids, strictly ascending (so sorted and unique); node ``i`` has id ``ids[i]``.
    attrs : DataFrame, optional
        One row per node, row ``i`` describing node ``i``; no columns when omitted.

    Examples
    --------
    >>> nodes = NodeTable("Phone", pa.array(["+861", "+862"]))
    >>> nodes.index_of(["+862", "nope"]).tolist()
    [1, -1]
    >>> nodes.id_of([0, -1]).tolist()
    ['+861', None]
    """

    def __init__(self, kind: NodeKind, ids: pa.Array, attrs: pd.DataFrame | None = None) -> None:
        if len(ids) > 1 and not pc.all(pc.less(ids[:-1], ids[1:])).as_py():
            raise ValueError(f"{kind} ids must be unique and ascending")
        if ids.null_count:
            raise ValueError(f"{kind} ids must not be null")
        if attrs is None:
            attrs = pd.DataFrame(index=pd.RangeIndex(len(ids)))
        if len(attrs) != len(ids):
            raise ValueError(f"{kind}: {len(attrs)} attribute rows for {len(ids)} nodes")
        self.kind: NodeKind = kind
        self._arrow = ids
        self.ids: pd.Index = pd.Index(ids.to_pandas(), dtype="str", copy=False, name="id")
        """Node ids as a pandas ``str`` Index (Arrow-backed); ``ids[i]`` is node ``i``."""
        self.attrs: pd.DataFrame = attrs.reset_index(drop=True)
        """Node attributes; row ``i`` describes node ``i``."""

    def __len__(self) -> int:
        return len(self._arrow)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self.ids

    def __repr__(self) -> str:
        return f"NodeTable({self.kind!r}, {len(self):,} nodes, attrs={list(self.attrs.columns)})"

    def index(self, node_id: str) -> int:
        """Index of one id; raises ``KeyError`` when unknown."""
        loc = self.ids.get_loc(node_id)
        if not isinstance(loc, int):  # a unique Index always answers with an int
            raise KeyError(node_id)
        return loc

    def index_of(self, ids: str | Iterable[str] | npt.ArrayLike) -> npt.NDArray[np.intp]:
        """Indices of ``ids`` (−1 for an unknown id), in the order given.

        A single hash lookup per id, over a hash table built once on first use.
        """
        query: pd.Index
        if isinstance(ids, str):
            query = pd.Index([ids], dtype="str")
        elif isinstance(ids, pa.Array | pa.ChunkedArray):
            query = pd.Index(ids.to_pandas(), dtype="str")
        else:
            query = pd.Index(np.asarray(ids, dtype=object), dtype="str")
        result: npt.NDArray[np.intp] = self.ids.get_indexer(query)
        return result

    def id_of(self, indices: int | npt.ArrayLike) -> npt.NDArray[np.object_]:
        """Ids of node ``indices`` as an object array; −1 gives ``None``.

        Raises ``IndexError`` for any other index outside ``0..n-1``.
        """
        idx = np.atleast_1d(np.asarray(indices, dtype=np.int64))
        missing = idx == -1
        if ((idx < -1) | (idx >= len(self))).any():
            raise IndexError(f"{self.kind} index out of range 0..{len(self) - 1}")
        taken = self._arrow.take(pa.array(np.where(missing, 0, idx), mask=missing))
        result: npt.NDArray[np.object_] = taken.to_numpy(zero_copy_only=False)
        return result

    def arrow_ids(self) -> pa.Array:
        """The ids as an Arrow string array (for joins and result tables)."""
        return self._arrow


def empty_ids() -> pa.Array:
    """A zero-length id array."""
    return pa.array([], pa.string())
