"""A result table served as lists: numpy columns, row orders computed once, and each API
key's filtered selections remembered (households, corporate groups, risk chains)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import pandas as pd

from relgraph.api.key_caches import PerKey

SELECTIONS_KEPT = 64
"""Selections remembered per table and API key (the filters clients use are few)..."""
SELECTION_BYTES = 32 * 1024 * 1024
"""...and at most this many bytes of them: a selection of a 1M-row table is up to 8 MB."""


class Ranked:
    """A result table as numpy columns, with its row orders precomputed for list queries."""

    def __init__(
        self, frame: pd.DataFrame, orders: dict[str, tuple[list[str], list[bool]]]
    ) -> None:
        self.frame = frame.reset_index(drop=True)
        self.columns = {c: self.frame[c].to_numpy() for c in self.frame.columns}
        self.orders = {
            name: np.asarray(
                self.frame.sort_values(keys, ascending=ascending, kind="stable").index.to_numpy(),
                dtype=np.int64,
            )
            for name, (keys, ascending) in orders.items()
        }
        key = self.frame.columns[0]
        self.row_of = {str(v): i for i, v in enumerate(self.frame[key].tolist())}
        self._selections: PerKey[_Selections] = PerKey(_Selections)
        """Each API key's selections (:meth:`select_where`)."""

    def __len__(self) -> int:
        return len(self.frame)

    def row(self, i: int) -> dict[str, Any]:
        return {c: values[i] for c, values in self.columns.items()}

    def select(self, mask: np.ndarray, order: str) -> np.ndarray:
        """Rows where ``mask`` holds, in the precomputed ``order``."""
        rows = self.orders[order]
        selected: np.ndarray = rows[mask[rows]]
        return selected

    def select_where(
        self, key: Hashable, mask: Callable[[], np.ndarray], order: str, api_key: str = ""
    ) -> np.ndarray:
        """:meth:`select` of ``mask()``, remembered under ``key`` (the filter's values) for
        the API key whose id is ``api_key``.

        The table never changes (a refresh builds a new model), so one filter always selects
        the same rows: a stream of list queries with a few filters is selected a few times,
        not once per request. This also keeps the numpy passes over the whole table, which
        let go of the interpreter lock mid-request, off the busy path of a server whose
        other threads then take it. Each API key has its own, so a filter another key used
        answers no faster (:mod:`relgraph.api.key_caches`). The caller checks permissions
        before it asks.
        """
        mine = self._selections.of(api_key)
        cache_key = (key, order)
        with mine.lock:
            selected = mine.kept.get(cache_key)
            if selected is not None:
                mine.kept.move_to_end(cache_key)
                return selected
        selected = self.select(mask(), order)
        selected.setflags(write=False)  # shared by every request of the key that asks the same
        with mine.lock:
            if cache_key not in mine.kept:
                mine.kept[cache_key] = selected
                mine.bytes += selected.nbytes
            while len(mine.kept) > 1 and (
                len(mine.kept) > SELECTIONS_KEPT or mine.bytes > SELECTION_BYTES
            ):
                mine.bytes -= mine.kept.popitem(last=False)[1].nbytes
        return selected


class _Selections:
    """One API key's selections by filter and order, most recently used last."""

    def __init__(self) -> None:
        self.kept: OrderedDict[tuple[Hashable, str], np.ndarray] = OrderedDict()
        self.bytes = 0
        self.lock = threading.Lock()
