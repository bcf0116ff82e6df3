"""Bulk work of a build done in slices, so that the interpreter lock changes hands between
them: a payment scored while the server builds its next graph waits for a slice, not for
the whole (a hash of every loaded transfer id held the lock for up to 108 ms at 100,000
customers; benchmarks/RESULTS.md).

Example:

>>> import numpy as np
>>> ids = np.array(["T1", "T2", "T3"], object)
>>> bool((id_hashes(ids) == id_hashes(ids[::-1])[::-1]).all())
True
>>> id_hashes(ids, size=2).tolist() == id_hashes(ids).tolist()
True
>>> array(["a", "b", "c"], object, size=2).tolist(), array([3, 1, 2], np.int64, size=2).tolist()
(['a', 'b', 'c'], [3, 1, 2])
>>> python_strings(arrow_strings(["张伟", None, "b"], size=2)).tolist()
['张伟', None, 'b']
>>> mapped(pd.Series(["P2", "P1", "P3"]), pd.Series({"P1": "C7", "P2": "C4"}), size=2).tolist()
['C4', 'C7', nan]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

SLICE: Final = 16_384
"""Rows per slice: 2-3 ms of hashing or mapping each at 100,000 customers."""


def id_hashes(ids: npt.NDArray[np.object_], size: int = SLICE) -> npt.NDArray[np.uint64]:
    """pandas' 64-bit hash of each id (``hash_array``), slice by slice. Not categorized: the
    same hashes (categorizing only saves work on repeated values), and ids are unique, so it
    was all cost (a factorize first: 0.39-0.46 s for 700,000 ids against 0.08 s)."""
    if len(ids) <= size:
        return np.asarray(pd.util.hash_array(ids, categorize=False), np.uint64)
    parts: list[Any] = [
        pd.util.hash_array(ids[at : at + size], categorize=False) for at in range(0, len(ids), size)
    ]
    return np.concatenate(parts).astype(np.uint64, copy=False)


def mapped(values: pd.Series, mapping: pd.Series, size: int = SLICE) -> pd.Series:
    """``values.map(mapping)`` (NaN where ``mapping`` has no entry), slice by slice: the
    map of a 100,000-customer bank's 58,620 network links held the lock 43-79 ms at once."""
    if len(values) <= size:
        return values.map(mapping)
    parts = [values.iloc[at : at + size].map(mapping) for at in range(0, len(values), size)]
    joined: pd.Series = pd.concat(parts)
    return joined


def array(values: Sequence[Any], dtype: npt.DTypeLike, size: int = SLICE) -> npt.NDArray[Any]:
    """``values`` (a list of Python scalars) as an array of ``dtype``, slice by slice. Not a
    DataFrame of the lists: pandas infers each list's type in one call, 253 ms for the
    780,000 name keys of a 100,000-customer bank against 51 ms for the three arrays."""
    if len(values) <= size:
        return np.asarray(values, dtype)
    return np.concatenate(
        [np.asarray(values[at : at + size], dtype) for at in range(0, len(values), size)]
    )


def arrow_strings(values: Sequence[Any] | npt.NDArray[Any], size: int = SLICE) -> pa.ChunkedArray:
    """Python strings (None or NaN for none) as Arrow strings, a chunk per slice."""
    chunks = [
        pa.array(values[at : at + size], pa.string(), from_pandas=True)
        for at in range(0, len(values), size)
    ]
    return pa.chunked_array(chunks, pa.string())


def python_strings(values: pa.ChunkedArray, size: int = SLICE) -> npt.NDArray[np.object_]:
    """Arrow strings as an array of Python strings (None for none), slice by slice."""
    out = np.empty(len(values), object)
    for at in range(0, len(values), size):
        out[at : at + size] = values.slice(at, size).to_numpy(zero_copy_only=False)
    return out
