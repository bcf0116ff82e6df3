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
from relgraph.store.neo4j import WRITE_ORDER
from tests.store.recording import RecordingRunner

# Statement of each endpoint a link table MATCHes: (column, kind column, fixed table).
ENDPOINTS: dict[str, list[tuple[str, str | None, str | None]]] = {
    "device_links": [("customer_id", None, "customers")],
    "family": [("customer_id", None, "customers"), ("relative_id", None, "customers")],
    "referrals": [("referrer_id", None, "customers"), ("referred_id", None, "customers")],
    "possible_duplicates": [("customer_a", None, "customers"), ("customer_b", None, "customers")],
    "positions": [("customer_id", None, "customers"), ("enterprise_id", None, "enterprises")],
    "shareholdings": [("holder_id", "holder_kind", None), ("enterprise_id", None, "enterprises")],
    "guarantees": [
        ("guarantor_id", "guarantor_kind", None),
        ("borrower_id", "borrower_kind", None),
    ],
    "transfers": [("from_account", None, "accounts"), ("to_account", None, "accounts")],
}


def key_columns(table: str) -> tuple[str, ...]:
    if table == model.PERSONS_TABLE:
        return ("person_id",)
    if table == model.POSSIBLE_DUPLICATES_TABLE:
        return ("customer_a", "customer_b")
    return model.TABLES[table].key


KEYS = {
    "persons": "person_id",
    "customers": "customer_id",
    "enterprises": "enterprise_id",
    "accounts": "account_id",
    "contacts": "contact_id",
}
PARTY_TABLE = {"customer": "customers", "enterprise": "enterprises"}
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

    def _answer(self, statement: str, p: dict[str, Any]) -> pd.DataFrame:
        table = statement.removesuffix("_create").removesuffix("_read")
        if statement.endswith("_create") and table in WRITE_ORDER:
            return self._create(table, p)
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
            return pd.DataFrame({"deleted": [deleted]})
        return super()._answer(statement, p)

    def _exists(self, gen: str, table: str, key: Any) -> bool:
        return any(r.get(KEYS[table]) == key for r in self.rows[(gen, table)].values())

    def _create(self, table: str, p: dict[str, Any]) -> pd.DataFrame:
        written = 0
        for row in p["rows"]:
            landed = all(
                self._exists(p["gen"], fixed or PARTY_TABLE[row[kind]], row[column])
                for column, kind, fixed in ENDPOINTS.get(table, [])
            )
            if not landed:
                continue
            key = tuple(row[c] for c in key_columns(table))
            # SET n += row: properties whose value is null are not stored.
            self.rows[(p["gen"], table)][key] = {
                **{k: v for k, v in row.items() if v is not None},
                "gen": p["gen"],
            }
            written += 1
        return pd.DataFrame({"written": [written]})
