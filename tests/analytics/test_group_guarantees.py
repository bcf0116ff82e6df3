"""Guarantees as a bank's credit system exports them: each amount in its own currency, one
row per guarantee contract.

Both tests use one bank: P controls E1 and E2 (60 % each), each with loans of 100; E3, an
outsider, has none. Only the guarantees differ.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from relgraph.analytics.groups import control, group_values, guarantee_circles, integrated_ownership
from relgraph.ingest.persons import SOURCE_PRIORITY
from relgraph.ingest.report import TableReport
from relgraph.jobs.values import values_of
from tests.banks import load, people, projection_of, read_quarantine, write_bank


def _guarantee(g: str, b: str, amount: str, **more: str) -> dict[str, str]:
    return {"guarantor_id": g, "borrower_id": b, "guarantor_kind": "enterprise",
            "borrower_kind": "enterprise", "amount": amount, **more}  # fmt: skip


def _load(tmp_path: Path, guarantees: list[dict[str, str]]) -> tuple[Path, TableReport]:
    """The bank with ``guarantees`` loaded: its data folder and the guarantees' report."""
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
        "guarantees": guarantees,
    }
    data = tmp_path / "data"
    report = load(write_bank(tmp_path / "bank", bank), data)
    return data, next(t for t in report.tables if t.table == "guarantees")


def _group(data: Path) -> tuple[int, dict[str, Any]]:
    """The guarantee circles found, and P's group's value row."""
    projection = projection_of(data)
    circles = guarantee_circles(projection)
    ctrl = control(integrated_ownership(projection))
    values = group_values(projection, ctrl, circles, values_of(projection, None, SOURCE_PRIORITY))
    (group,) = values.to_dict("records")
    return circles.n_circles, group


def test_a_guarantee_in_another_currency_closes_a_circle_but_adds_no_yuan(tmp_path: Path) -> None:
    # E1 guarantees outsider E3's loan of 100 yuan and E2 one of 5,000,000 yen (担保币种
    # 日元); E3 guarantees E1 in dollars. Read as yuan, the yen made the group's exposure
    # 5,000,200 instead of 200: no exchange rates are loaded, so a foreign amount counts in
    # no value, as a foreign account's balance does. The circle E1 ⇄ E3 is real.
    data, guarantees = _load(tmp_path, [
        _guarantee("E1", "E3", "100", currency="人民币"),
        _guarantee("E2", "E3", "5000000", currency="日元"),
        _guarantee("E3", "E1", "80", currency="USD"),
        _guarantee("E3", "E2", "7", currency=""),  # none given is CNY
        _guarantee("E2", "E1", "9", currency="贝壳"),
    ])  # fmt: skip
    assert (guarantees.loaded, guarantees.quarantined) == (4, 1)
    assert guarantees.ignored_columns == []
    assert read_quarantine(data, "guarantees")[0]["reason"].startswith("bad_enum: currency '贝壳'")
    (note,) = guarantees.notes
    assert note.startswith("2 guarantees in other currencies than CNY: loaded")

    circles, group = _group(data)
    assert circles == 1
    assert group["members"] == 2
    assert group["guarantees_given"] == pytest.approx(100.0)
    assert group["guarantees_received"] == pytest.approx(7.0)
    assert group["exposure"] == pytest.approx(300.0)  # loans 100 + 100, E1's 100 to E3


def test_two_contracts_between_one_pair_both_count(tmp_path: Path) -> None:
    # E1 guarantees outsider E3's two loans under contracts DB-1 and DB-2. Keyed by the pair
    # alone, DB-2 was a duplicate_key: 250 fell out of the group's exposure (and a credit
    # system's table of such rows was refused outright). A row without a contract number
    # repeating a pair is still a duplicate: nothing tells a second contract from the same
    # row exported twice.
    data, guarantees = _load(tmp_path, [
        _guarantee("E1", "E3", "100", guarantee_id="DB-1"),
        _guarantee("E1", "E3", "250", guarantee_id="DB-2"),
        _guarantee("E2", "E3", "40", guarantee_id=""),
        _guarantee("E2", "E3", "40", guarantee_id=""),
        _guarantee("E1", "E3", "999", guarantee_id="DB-1"),
    ])  # fmt: skip
    assert (guarantees.loaded, guarantees.quarantined) == (3, 2)
    assert [r["reason"] for r in read_quarantine(data, "guarantees")] == [
        "duplicate_key: guarantor_id, borrower_id, guarantee_id 'E2|E3' already loaded from line 4",
        "duplicate_key: guarantor_id, borrower_id, guarantee_id 'E1|E3|DB-1' already loaded "
        "from line 2",
    ]

    _, group = _group(data)
    assert group["guarantees_given"] == pytest.approx(390.0)
    assert group["exposure"] == pytest.approx(590.0)  # loans 100 + 100, guarantees 390
