"""What ``(:RelgraphState)`` says: the live generation, its tables and its results, and
whether the graph properties Neo4j users query are those results'.

Results switch at once (the state names the run), but writing them back onto the graph —
``Person.networkId``, ``:Alert`` nodes, ``LINKED``, … — is many transactions after the
switch. The switch names its run ``graphPending`` and only a write-back that finished
clears it (``graphRun`` then names the run the properties are from): a write-back that
stopped part-way leaves the graph a mix of two runs, and the state says so until the next
run completes its own.

>>> state = State.from_row({"gen": "g1", "results": '{"households": "r2"}',
...                         "graph_pending": "r2", "graph_run": "r1"})
>>> state.results, state.graph_pending
({'households': 'r2'}, 'r2')
>>> print(state.notice())
the graph properties Neo4j users query (networkId, householdId, :Alert, LINKED, …) are partly from an earlier run: writing run r2 back onto the graph stopped. GraphQL, stats and validate read the saved results; run `relgraph analyze` to complete the graph
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class State:
    """What ``(:RelgraphState)`` says: the live generation, its tables and results."""

    gen: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: dict[str, str] = field(default_factory=dict)
    pending: tuple[str, ...] = ()
    graph_pending: str | None = None
    """The run whose results were switched to and not yet written back whole, if any."""

    @classmethod
    def from_row(cls, row: Mapping[Hashable, Any]) -> State:
        def value(key: str) -> Any:
            # A property never set comes back null, which pandas may hold as NaN.
            found = row.get(key)
            return None if found is None or isinstance(found, float) else found

        return cls(
            gen=value("gen"),
            meta=json.loads(value("meta") or "{}"),
            tables=json.loads(value("tables") or "{}"),
            results=json.loads(value("results") or "{}"),
            pending=tuple(value("pending") or ()),
            graph_pending=value("graph_pending"),
        )

    def notice(self) -> str | None:
        """What an operator should know about the graph's properties, or None."""
        if self.graph_pending is None:
            return None
        return (
            "the graph properties Neo4j users query (networkId, householdId, :Alert, LINKED, "
            f"…) are partly from an earlier run: writing run {self.graph_pending} back onto "
            "the graph stopped. GraphQL, stats and validate read the saved results; run "
            "`relgraph analyze` to complete the graph"
        )
