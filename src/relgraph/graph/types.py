"""Array type aliases shared by the graph modules."""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt

IndexArray: TypeAlias = npt.NDArray[np.signedinteger[Any]]
"""Node or edge positions: int32 when they fit, else int64."""

Direction: TypeAlias = Literal["out", "in", "both"]
"""Which way to follow an edge: source → target, target → source, or either."""

INT32_LIMIT = 2**31 - 1


def index_dtype(*sizes: int) -> type[np.int32] | type[np.int64]:
    """``int32`` when every size fits in it, else ``int64``."""
    return np.int32 if max(sizes, default=0) < INT32_LIMIT else np.int64


def frozen(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Mark ``array`` read-only: a projection is shared by every request that reads it."""
    array.flags.writeable = False
    return array
