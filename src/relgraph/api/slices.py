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
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

SLICE: Final = 65_536
"""Ids per slice: ~7 ms of hashing here."""


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
