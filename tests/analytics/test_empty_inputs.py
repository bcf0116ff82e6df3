"""Analytics on zero persons: every result table is written, the person ones empty.

A bank whose customers file is empty (header only) loads; ``analyze`` on it must not index
an empty label array (households' heads, layering's network and household links did).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from relgraph.graph import build_projection
from relgraph.jobs.analyze import analyze
from relgraph.store.embedded import EmbeddedStore
from tests.banks import Rows, companies, load, write_bank

ACCOUNTS: Rows = [
    {"account_id": f"A{i}", "holder_id": f"E{i}", "holder_kind": "enterprise", "product": "deposit"}
    for i in range(5)
]
# A0 -> A1 -> A2 -> A3 -> A4 within hours, each passing on nearly all: a layering chain between
# enterprises, scored while there is no person to link its ends.
CHAIN: Rows = [
    {"tx_id": f"T{i}", "from_account": f"A{i}", "to_account": f"A{i + 1}",
     "amount": str(100_000 - 1_000 * i), "currency": "CNY", "ts": f"2026-06-01T1{i}:00:00"}
    for i in range(4)
]  # fmt: skip
CIRCLE: Rows = [
    {"guarantor_id": a, "guarantor_kind": "enterprise", "borrower_id": b,
     "borrower_kind": "enterprise", "amount": "10"}
    for a, b in (("E0", "E1"), ("E1", "E0"))
]  # fmt: skip
ENTERPRISE_BANK: dict[str, Rows] = {
    "enterprises": companies(*(f"E{i}" for i in range(5))),
    "accounts": ACCOUNTS,
    "transfers": CHAIN,
    "guarantees": CIRCLE,
}


@pytest.mark.parametrize(
    "tables",
    [
        pytest.param({}, id="nothing"),
        pytest.param(ENTERPRISE_BANK, id="enterprises-only"),
    ],
)
def test_analyze_on_zero_persons_writes_empty_person_tables(
    tmp_path: Path, tables: dict[str, Rows]
) -> None:
    data = tmp_path / "data"
    load(write_bank(tmp_path / "bank", tables), data)
    with EmbeddedStore(data) as store:
        report = analyze(store, build_projection(store))
        results = {name: store.read_results(name).num_rows for name in store.result_names()}
    assert results == report.tables
    for name in ("person_networks", "networks", "households", "person_households", "influence"):
        assert results[name] == 0, name
    if tables:
        assert results["risk_chains"] >= 1  # the chain was found and scored
        assert results["guarantee_circles"] >= 1
        assert results["enterprise_control"] == 5
