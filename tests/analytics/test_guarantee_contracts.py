"""Guarantees as a credit system exports them: one row per guarantee contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from relgraph.analytics.groups import control, group_values, guarantee_circles, integrated_ownership
from relgraph.ingest.persons import SOURCE_PRIORITY
from relgraph.jobs.values import values_of
from tests.banks import load, people, projection_of, read_quarantine, write_bank


def _guarantee(g: str, b: str, amount: str, contract: str) -> dict[str, str]:
    return {"guarantee_id": contract, "guarantor_id": g, "borrower_id": b,
            "guarantor_kind": "enterprise", "borrower_kind": "enterprise", "amount": amount}  # fmt: skip


def test_two_contracts_between_one_pair_both_count(tmp_path: Path) -> None:
    # E1 (P's group) guarantees outsider E3's two loans under contracts DB-1 and DB-2. Keyed
    # by the pair alone, DB-2 was a duplicate_key: 250 fell out of the group's exposure (and
    # a credit system's table of such rows was refused outright). A row without a contract
    # number repeating a pair is still a duplicate: nothing tells a second contract from the
    # same row exported twice.
    bank = {
        "customers": people("P"),
        "enterprises": [
            {"enterprise_id": e, "name": f"企业{e}", "loans": "100" if e != "E3" else "0"}
            for e in ("E1", "E2", "E3")
        ],
        "shareholdings": [
            {"holder_id": "P", "enterprise_id": e, "holder_kind": "customer", "share": "0.6"}
            for e in ("E1", "E2")
        ],
        "guarantees": [
            _guarantee("E1", "E3", "100", "DB-1"),
            _guarantee("E1", "E3", "250", "DB-2"),
            _guarantee("E2", "E3", "40", ""),
            _guarantee("E2", "E3", "40", ""),
            _guarantee("E1", "E3", "999", "DB-1"),
        ],
    }
    data = tmp_path / "data"
    report = load(write_bank(tmp_path / "bank", bank), data)
    guarantees = next(t for t in report.tables if t.table == "guarantees")
    assert (guarantees.loaded, guarantees.quarantined) == (3, 2)
    assert [r["reason"] for r in read_quarantine(data, "guarantees")] == [
        "duplicate_key: guarantor_id, borrower_id, guarantee_id 'E2|E3' already loaded from line 4",
        "duplicate_key: guarantor_id, borrower_id, guarantee_id 'E1|E3|DB-1' already loaded "
        "from line 2",
    ]

    projection = projection_of(data)
    circles = guarantee_circles(projection)
    ctrl = control(integrated_ownership(projection))
    values = group_values(projection, ctrl, circles, values_of(projection, None, SOURCE_PRIORITY))
    (group,) = values.to_dict("records")
    assert group["guarantees_given"] == pytest.approx(390.0)
    assert group["exposure"] == pytest.approx(590.0)  # loans 100 + 100, guarantees 390
