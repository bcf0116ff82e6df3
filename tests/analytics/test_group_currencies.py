"""Guarantees as a bank's credit system exports them: each amount in its own currency."""

from __future__ import annotations

from pathlib import Path

import pytest

from relgraph.analytics.groups import control, group_values, guarantee_circles, integrated_ownership
from relgraph.ingest.persons import SOURCE_PRIORITY
from relgraph.jobs.values import values_of
from tests.banks import load, people, projection_of, read_quarantine, write_bank


def _guarantee(g: str, b: str, amount: str, currency: str) -> dict[str, str]:
    return {"guarantor_id": g, "borrower_id": b, "guarantor_kind": "enterprise",
            "borrower_kind": "enterprise", "amount": amount, "currency": currency}  # fmt: skip


def test_a_guarantee_in_another_currency_closes_a_circle_but_adds_no_yuan(tmp_path: Path) -> None:
    # P controls E1 and E2. E1 guarantees outsider E3's loan of 100 yuan and of 5,000,000 yen
    # (担保币种 日元); E3 guarantees E1 in dollars. Read as yuan, the yen made the group's
    # exposure 5,000,200 instead of 200: no exchange rates are loaded, so a foreign amount
    # counts in no value, as a foreign account's balance does. The circle E1 ⇄ E3 is real.
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
            _guarantee("E1", "E3", "100", "人民币"),
            _guarantee("E2", "E3", "5000000", "日元"),
            _guarantee("E3", "E1", "80", "USD"),
            _guarantee("E3", "E2", "7", ""),  # none given is CNY
            _guarantee("E2", "E1", "9", "贝壳"),
        ],
    }
    data = tmp_path / "data"
    report = load(write_bank(tmp_path / "bank", bank), data)
    guarantees = next(t for t in report.tables if t.table == "guarantees")
    assert (guarantees.loaded, guarantees.quarantined) == (4, 1)
    assert guarantees.ignored_columns == []
    assert read_quarantine(data, "guarantees")[0]["reason"].startswith("bad_enum: currency '贝壳'")
    (note,) = guarantees.notes
    assert note.startswith("2 guarantees in other currencies than CNY: loaded")

    projection = projection_of(data)
    circles = guarantee_circles(projection)
    assert circles.n_circles == 1
    ctrl = control(integrated_ownership(projection))
    values = group_values(projection, ctrl, circles, values_of(projection, None, SOURCE_PRIORITY))
    (group,) = values.to_dict("records")
    assert group["members"] == 2
    assert group["guarantees_given"] == pytest.approx(100.0)
    assert group["guarantees_received"] == pytest.approx(7.0)
    assert group["exposure"] == pytest.approx(300.0)  # loans 100 + 100, E1's 100 to E3
