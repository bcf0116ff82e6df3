"""Risk chains as ``analyze`` stored them, read without copying their hops.

A stored chain's hops are slices of the ``risk_chain_hops`` columns; :class:`StoredHops`
makes :class:`~relgraph.analytics.layering.check.Hop` objects only for the hops a
request reads. A merchant's fan-in can hold 17,000 hops (100k bank): building them all
for a page of 50 cost ~50 ms a chain, and a customer who paid that merchant takes part in
several such chains.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, overload

import numpy.typing as npt

from relgraph.analytics.layering.check import CheckedChain, Hop

Columns = Mapping[str, npt.NDArray[Any]]
"""``tx_id``, ``from_account``, ``to_account``, ``amount``, ``ts``: one chain's hops."""


class StoredHops(Sequence[Hop]):
    """A chain's hops in hop order, as a sequence over column slices (read-only views)."""

    __slots__ = ("_cols",)

    def __init__(self, columns: Columns) -> None:
        self._cols = columns

    def __len__(self) -> int:
        return len(self._cols["tx_id"])

    @overload
    def __getitem__(self, index: int) -> Hop: ...

    @overload
    def __getitem__(self, index: slice) -> list[Hop]: ...

    def __getitem__(self, index: int | slice) -> Hop | list[Hop]:
        if isinstance(index, slice):
            return self._hops(index)
        n = len(self)
        if not -n <= index < n:
            raise IndexError(index)
        return self._hops(slice(index % n, index % n + 1))[0]

    def __iter__(self) -> Iterator[Hop]:
        return iter(self._hops(slice(None)))

    def _hops(self, span: slice) -> list[Hop]:
        c = self._cols
        # ndarray.tolist() gives Python str, float and int in one C loop per column.
        return [
            Hop(str(t), str(a), str(b), float(x), int(s))
            for t, a, b, x, s in zip(
                c["tx_id"][span].tolist(),
                c["from_account"][span].tolist(),
                c["to_account"][span].tolist(),
                c["amount"][span].tolist(),
                c["ts"][span].tolist(),
                strict=True,
            )
        ]


def stored_chain(row: Mapping[str, Any], hops: Columns) -> CheckedChain:
    """A chain as ``analyze`` stored it (``risk_chains`` row, its ``risk_chain_hops``)."""
    return CheckedChain(
        chain_id=str(row["chain_id"]),
        typology=str(row["typology"]),
        score=float(row["score"]),
        reasons=json.loads(str(row["reasons"])),
        hops=StoredHops(hops),
    )
