"""Vectorised group-by over integer keys: pick one row per key, or reduce a column per key."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from relgraph.graph.types import IndexArray

INT64_MIN = np.iinfo(np.int64).min
INT64_MAX = np.iinfo(np.int64).max


def pair_keys(src: IndexArray, dst: IndexArray, n_target: int) -> npt.NDArray[np.int64]:
    """One int64 key per (source, target) pair, ordered as the pairs are."""
    return src.astype(np.int64) * max(n_target, 1) + dst


class Groups:
    """Rows grouped by an integer key, groups in ascending key order.

    Parameters
    ----------
    keys : ndarray of int
        One key per row.
    rank : ndarray, optional
        Within a group, rows are ordered by ``rank`` (then by row position), which
        decides :attr:`first`.

    Examples
    --------
    >>> g = Groups(np.array([7, 3, 7]))
    >>> g.keys.tolist(), g.first.tolist(), g.sum(np.array([1, 2, 3])).tolist()
    ([3, 7], [1, 0], [2, 4])
    """

    def __init__(self, keys: npt.NDArray[Any], rank: npt.NDArray[Any] | None = None) -> None:
        if rank is None:
            self.order: IndexArray = np.argsort(keys, kind="stable")
        else:
            # lexsort is stable: equal (key, rank) rows stay in row order.
            self.order = np.lexsort((rank, keys))
        sorted_keys = keys[self.order]
        boundary = np.ones(len(keys), dtype=bool)
        boundary[1:] = sorted_keys[1:] != sorted_keys[:-1]
        self.starts: IndexArray = np.flatnonzero(boundary)
        self.keys: npt.NDArray[Any] = sorted_keys[self.starts]
        self.first: IndexArray = self.order[self.starts]
        """Row chosen for each group: the first by (rank, row position)."""

    def __len__(self) -> int:
        return len(self.keys)

    def _reduce(self, ufunc: np.ufunc, values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        if len(self.starts) == 0:
            return values[:0]
        result: npt.NDArray[Any] = ufunc.reduceat(values[self.order], self.starts)
        return result

    def sum(self, values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Per-group sum."""
        return self._reduce(np.add, values)

    def count(self, mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
        """Per-group number of rows where ``mask`` holds."""
        return self._reduce(np.add, mask.astype(np.int64))

    def min(self, values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Per-group minimum."""
        return self._reduce(np.minimum, values)

    def max(self, values: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Per-group maximum."""
        return self._reduce(np.maximum, values)


def order_by_source_then(src: IndexArray, values: npt.NDArray[np.int64]) -> IndexArray:
    """Stable permutation ordering rows by ``src``, then ``values`` (e.g. timestamps).

    Both fit one int64 key whenever the sources' bits plus the values' range do
    (1.8M accounts and a century of milliseconds need 63), and one stable argsort of
    that key is twice as fast as ``np.lexsort`` on two arrays.
    """
    if len(src) == 0:
        return np.empty(0, dtype=np.int64)
    low = int(values.min())
    span = int(values.max()) - low
    src_bits = int(src.max()).bit_length()
    if span.bit_length() + src_bits > 62:
        return np.lexsort((values, src))
    keys = (src.astype(np.int64) << span.bit_length()) | (values - low)
    return np.argsort(keys, kind="stable")
