"""A Python stand-in for Neo4j that answers relgraph's own statements by name.

It is not a Cypher engine: each statement's effect is written out here by hand
(rows kept per generation and table, reads by ``seq``, MATCHed endpoints that
must exist). It lets the store contract suite exercise the Neo4j store's Python
side — batching, paging, typing, generations, results — on every run; the Cypher
itself is checked by Neo4j's parser, and against a real server by ``-m neo4j``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pandas as pd

from relgraph import model
from relgraph.store.neo4j import IDENTIFIERS, WRITE_ORDER
from relgraph.store.neo4j_load import ENDS, NODE_KEYS, PARTY_KINDS
from tests.store.recording import RecordingRunner


def key_columns(table: str) -> tuple[str, ...]:
    if table == model.PERSONS_TABLE:
        return ("person_id",)
    if table == model.POSSIBLE_DUPLICATES_TABLE:
        return ("customer_a", "customer_b")
    return model.TABLES[table].key


# Tables whose rows are relationships: a row whose endpoint id names no node is not written
# (their statements MATCH the endpoints; the node tables' OPTIONAL MATCH them).
LINK_TABLES = frozenset(ENDS) - {"customers", "enterprises", "accounts", "contacts"}
SHARED = {f"{label}_create" for label, _ in IDENTIFIERS}
LABEL_TABLES = {
    "prune_person": ["persons"],
    "prune_customer_record": ["customers", "device_links", "family", "referrals", "positions",
                              "possible_duplicates", "shareholdings", "guarantees"],
    "prune_enterprise": ["enterprises"],
    "prune_account": ["accounts", "transfers"],
    "prune_contact": ["contacts"],
}  # fmt: skip


class EmulatedNeo4j(RecordingRunner):
    """Keeps rows by (generation, table); answers merges, reads and prunes as Neo4j would."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[tuple[str, str], dict[Any, dict[str, Any]]] = defaultdict(dict)
        # Keys of the nodes of each (generation, node table or shared label).
        self.keys: dict[tuple[str, str], set[Any]] = defaultdict(set)

    def _answer(self, statement: str, p: dict[str, Any]) -> pd.DataFrame:
        table = statement.removesuffix("_create").removesuffix("_read")
        if statement.endswith("_create") and table in WRITE_ORDER:
            return self._create(table, p)
        if statement in SHARED:
            label = statement.removesuffix("_create")
            self.keys[(p["gen"], label)].update(r["value"] for r in p["rows"])
            ids = [f"{label}:{r['value']}" for r in p["rows"]]
            return pd.DataFrame({"written": [len(ids)], "ids": [ids]})
        if statement.endswith("_read") and table in WRITE_ORDER:
            found = [
                r for r in self.rows[(p["gen"], table)].values() if p["from"] <= r["seq"] < p["to"]
            ]
            found.sort(key=lambda r: r["seq"])
            # One record: collect() of the values of $columns, in order (null when not stored).
            rows = [[r.get(c) for c in p["columns"]] for r in found]
            return pd.DataFrame({"rows": [rows]})
        if statement in LABEL_TABLES:
            deleted = 0
            for name in LABEL_TABLES[statement]:
                deleted += len(self.rows.pop((p["stale"], name), {}))
                self.keys.pop((p["stale"], name), None)
            return pd.DataFrame({"deleted": [deleted]})
        return super()._answer(statement, p)

    def _create(self, table: str, p: dict[str, Any]) -> pd.DataFrame:
        written = 0
        ids = []
        for i, row in enumerate(p["rows"]):
            if table in LINK_TABLES and not all(
                self._names(p["gen"], p[end.param][i], end.kind or PARTY_KINDS.get(
                    row[end.kind_column or ""], ""), row[end.column])
                for end in ENDS[table]
            ):  # fmt: skip
                continue
            key = tuple(row[c] for c in key_columns(table))
            # SET n += row: properties whose value is null are not stored.
            self.rows[(p["gen"], table)][key] = {
                **{k: v for k, v in row.items() if v is not None},
                "gen": p["gen"],
            }
            if table in NODE_KEYS:
                self.keys[(p["gen"], table)].add(row[NODE_KEYS[table]])
                ids.append(f"{table}:{row[NODE_KEYS[table]]}")
            written += 1
        return pd.DataFrame({"written": [written], "ids": [ids]})

    def _names(self, gen: str, element_id: str | None, kind: str, key: Any) -> bool:
        """Whether ``element_id`` is the id this emulator gave the ``kind`` node ``key`` of
        ``gen``: an endpoint sent by the wrong id is a row that finds no node."""
        return element_id == f"{kind}:{key}" and key in self.keys[(gen, kind)]
