"""A recording query runner: the Cypher file, parameters and transaction kind of every call.

It answers the statements the Neo4j store needs to keep going — the state node and
result chunks are kept in memory, writes report every row written — so unit tests
check what relgraph sends without a database (as graph-data-science-client tests
itself). It is not a Cypher engine: canonical tables are not read back from it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass
class Call:
    statement: str
    params: dict[str, Any]
    operation: str
    write: bool


@dataclass
class RecordingRunner:
    calls: list[Call] = field(default_factory=list)
    state: dict[str, Any] | None = None
    chunks: dict[tuple[str, str, int], dict[str, Any]] = field(default_factory=dict)
    overrides: dict[str, Callable[[dict[str, Any]], pd.DataFrame]] = field(default_factory=dict)
    closed: bool = False
    held: list[tuple[int, int]] = field(default_factory=list)
    """Each ``hold``: the index in ``calls`` of its statement, and how many calls there were
    when it was released (the calls it guarded are those between)."""

    def run(
        self,
        statement: str,
        params: Mapping[str, Any] | None = None,
        *,
        operation: str,
        write: bool = False,
    ) -> pd.DataFrame:
        values = dict(params or {})
        self.calls.append(Call(statement, values, operation, write))
        if statement in self.overrides:
            return self.overrides[statement](values)
        return self._answer(statement, values)

    @contextmanager
    def hold(
        self, statement: str, params: Mapping[str, Any] | None = None, *, operation: str
    ) -> Iterator[None]:
        self.calls.append(Call(statement, dict(params or {}), operation, True))
        taken = len(self.calls) - 1
        try:
            yield
        finally:
            self.held.append((taken, len(self.calls)))

    def close(self) -> None:
        self.closed = True

    def named(self, prefix: str) -> list[Call]:
        return [c for c in self.calls if c.statement.startswith(prefix)]

    def statements(self) -> list[str]:
        return [c.statement for c in self.calls]

    def _answer(self, statement: str, p: dict[str, Any]) -> pd.DataFrame:
        if "rows" in p:
            # Node statements return their nodes' element ids: here "<statement>:<seq or value>".
            name = statement.removesuffix("_create")
            ids = [f"{name}:{r.get('seq', r.get('value'))}" for r in p["rows"]]
            return pd.DataFrame({"written": [len(p["rows"])], "ids": [ids]})
        if statement == "state_read":
            return pd.DataFrame([self.state]) if self.state else pd.DataFrame()
        if statement == "state_begin_load":
            self.state = self.state or {"gen": None, "meta": None, "tables": None, "results": None}
            pending = [g for g in self.state.get("pending") or [] if g != p["gen"]]
            self.state["pending"] = [*pending, p["gen"]]
            return pd.DataFrame([self.state])
        if statement == "state_commit_load":
            assert self.state is not None
            replaced = [self.state["gen"]] if self.state["gen"] not in (None, p["gen"]) else []
            pending = [*self.state["pending"], *replaced]
            self.state.update(gen=p["gen"], meta=p["meta"], tables=p["tables"], results="{}")
            self.state["graph_pending"] = None
            self.state["pending"] = [g for g in pending if g != p["gen"]]
            return pd.DataFrame({"gen": [p["gen"]]})
        if statement == "state_pruned":
            assert self.state is not None
            self.state["pending"] = [g for g in self.state["pending"] if g not in p["pruned"]]
            return pd.DataFrame({"pending": [self.state["pending"]]})
        if statement == "state_commit_results":
            if self.state is None or self.state["gen"] != p["gen"]:
                return pd.DataFrame()
            self.state["results"] = p["results"]
            self.state["graph_pending"] = p["run"]
            return pd.DataFrame({"results": [p["results"]]})
        if statement == "state_written_back":
            if self.state is None or self.state.get("graph_pending") != p["run"]:
                return pd.DataFrame()
            self.state["graph_pending"] = None
            return pd.DataFrame({"graph_run": [p["run"]]})
        if statement == "result_chunk_merge":
            self.chunks[(p["table"], p["run"], p["part"])] = p
            return pd.DataFrame({"written": [1]})
        if statement == "result_chunk_read":
            found = sorted(
                (c for (t, r, _), c in self.chunks.items() if (t, r) == (p["table"], p["run"])),
                key=lambda c: int(c["part"]),
            )
            return pd.DataFrame(
                [{"part": c["part"], "parts": c["parts"], "data": c["data"]} for c in found]
            )
        if statement == "result_chunk_prune":
            keep = set(p["keep"])
            stale = [k for k in self.chunks if f"{k[0]}/{k[1]}" not in keep][: p["batch"]]
            for k in stale:
                del self.chunks[k]
            return pd.DataFrame({"deleted": [len(stale)]})
        if "batch" in p:
            return pd.DataFrame({"deleted": [0]})
        return pd.DataFrame()

    def results_map(self) -> dict[str, str]:
        assert self.state is not None
        results: dict[str, str] = json.loads(self.state["results"] or "{}")
        return results
