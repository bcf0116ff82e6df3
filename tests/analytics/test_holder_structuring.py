"""Structuring across one person's accounts: the run is the holder's, in the batch and live.

王芳 pays 49,000 (under the CNY 50,000 report) three times in sixteen days: once from each
of two debit cards held under her core-banking customer number, and once from an account
the bank's card system keeps under a second customer number (same name, same id number:
identity resolution joins the two). Each account alone makes one band payment; the person
makes three. Three strangers who each pay 49,000 once are not a run, and her transfers
between her own accounts report nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from relgraph.analytics.layering import Alerts, LayeringIndex, LayeringParams, alert_frames, scan
from relgraph.analytics.layering.live import LiveIndex
from relgraph.config import moment_ms, source_zone
from relgraph.graph import Projection
from tests.banks import Rows, project, resident_id, transfer, write_bank

START = datetime(2026, 3, 2, 10)
WANG_ID = resident_id("11010519850312462")


def _at(day: float, tx_id: str, src: str, dst: str, amount: float) -> dict[str, Any]:
    return transfer(tx_id, src, dst, amount, START + timedelta(days=day))


TRANSFERS: Rows = [
    # Ordinary months before, so that every account has a history.
    *(_at(-60 + 7 * w, f"BG{w}", f"WF{1 + w % 3}", "SHOP", 300.0 + 17 * w) for w in range(8)),
    *(_at(-50 + 5 * w, f"SB{w}", f"S{1 + w % 3}", "SHOP", 250.0 + 11 * w) for w in range(6)),
    _at(-5, "OWN", "WF1", "WF2", 49_000.0),  # between her own cards: no report to avoid
    _at(1, "SX1", "S1", "Q1", 49_000.0),
    _at(6, "SX2", "S2", "Q2", 48_800.0),
    _at(12, "SX3", "S3", "Q3", 49_300.0),
    _at(0, "WX1", "WF1", "P1", 49_000.0),
    _at(8, "WX2", "WF2", "P2", 48_500.0),
    _at(16, "WX3", "WF3", "P3", 49_200.0),  # last: the live verdict is on it
]
ACCOUNTS = sorted({t[k] for t in TRANSFERS for k in ("from_account", "to_account")})
HOLDER = {"WF1": "CW-core", "WF2": "CW-core", "WF3": "CW-card", "SHOP": "E-SHOP"}


def _tables(transfers: Rows) -> dict[str, Rows]:
    others = [a for a in ACCOUNTS if a not in HOLDER]
    return {
        "customers": [
            {"customer_id": "CW-core", "source_system": "core", "name": "王芳", "id_number": WANG_ID,
             "phone": "13812345678"},
            {"customer_id": "CW-card", "source_system": "card", "name": "王芳", "id_number": WANG_ID,
             "phone": "+86 138 1234 5678"},
            *({"customer_id": f"C{a}", "source_system": "core", "name": f"客户{a}",
               "id_number": f"C{a}"} for a in others),
        ],
        "enterprises": [{"enterprise_id": "E-SHOP", "name": "便利店"}],
        "accounts": [
            {"account_id": a, "holder_id": HOLDER.get(a, f"C{a}"),
             "holder_kind": "enterprise" if a == "SHOP" else "customer", "product": "deposit",
             "opened_at": "2015-01-01"}
            for a in ACCOUNTS
        ],
        "transfers": transfers,
    }  # fmt: skip


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Projection:
    root = tmp_path_factory.mktemp("holder")
    return project(write_bank(root / "bank", _tables(TRANSFERS)), root / "data")


@pytest.fixture(scope="module")
def alerts(bank: Projection) -> Alerts:
    return scan(bank, LayeringParams())


def _structuring(bank: Projection, alerts: Alerts) -> dict[str, tuple[frozenset[str], float]]:
    frames = alert_frames(bank, alerts)
    chains, hops = frames["risk_chains"], frames["risk_chain_hops"]
    runs = chains.loc[chains.typology == "structuring"]
    return {
        str(c): (frozenset(hops.loc[hops.chain_id == c, "tx_id"].astype(str)), float(s))
        for c, s in zip(runs.chain_id, runs.score, strict=True)
    }


def test_one_persons_band_payments_from_several_accounts_are_one_run(
    bank: Projection, alerts: Alerts
) -> None:
    runs = _structuring(bank, alerts)
    assert [members for members, _ in runs.values()] == [frozenset({"WX1", "WX2", "WX3"})]
    (score,) = (s for _, s in runs.values())
    assert score >= LayeringParams().score_threshold


def test_strangers_each_paying_in_the_band_once_are_no_run(
    bank: Projection, alerts: Alerts
) -> None:
    members = set().union(*(m for m, _ in _structuring(bank, alerts).values()))
    assert not members & {"SX1", "SX2", "SX3", "OWN"}


def test_without_the_second_customer_number_joined_her_cards_are_two_holders(
    tmp_path: Path,
) -> None:
    tables = _tables(TRANSFERS)
    tables["customers"][1]["id_number"] = resident_id("11010519850312470")  # another person
    graph = project(write_bank(tmp_path / "bank", tables), tmp_path / "data")
    # WF1 and WF2 are still hers (two band payments, under the run's three): no run.
    assert _structuring(graph, scan(graph, LayeringParams())) == {}


def _live_before_last(
    folder: Path, params: LayeringParams, ids: list[str]
) -> tuple[LiveIndex, int]:
    before = project(write_bank(folder / "part", _tables(TRANSFERS[:-1])), folder / "part-data")
    assert before.nodes["Account"].ids.tolist() == ids
    live = LiveIndex.from_index(
        LayeringIndex.build(before, params), ids, {a: i for i, a in enumerate(ids)}
    )
    last = TRANSFERS[-1]
    row = live.add(last["tx_id"], ids.index(last["from_account"]), ids.index(last["to_account"]),
                   float(last["amount"]), moment_ms(last["ts"], source_zone()))  # fmt: skip
    return live, row


def test_the_live_verdict_on_her_third_payment_holds_the_batch_run(
    bank: Projection, alerts: Alerts, tmp_path: Path
) -> None:
    (batch_id, (members, score)), = _structuring(bank, alerts).items()  # fmt: skip
    ids = bank.nodes["Account"].ids.tolist()
    live, row = _live_before_last(tmp_path, LayeringParams(), ids)
    found = [a for a in live.verdict(row).alerts if a.typology == "structuring"]
    assert [(a.chain_id, a.score) for a in found] == [(batch_id, pytest.approx(score, abs=1e-9))]
    assert {h.tx_id for h in found[0].hops} == members
    # Side by side with another request's transfer (the union scan): the same run.
    other = live.add("SX9", live.account("S1") or 0, live.account("SHOP") or 0, 88.0,
                     int(live._ts[row]) + 60_000)  # fmt: skip
    both = live.verdicts_known([row, other], [live.prepare(row), live.prepare(other)], set())
    assert [a.chain_id for a in both[0].alerts if a.typology == "structuring"] == [batch_id]


def test_an_account_she_opens_after_the_load_joins_her_run(
    bank: Projection, tmp_path: Path
) -> None:
    ids = bank.nodes["Account"].ids.tolist()
    live, row = _live_before_last(tmp_path, LayeringParams(), ids)
    person, _ = live.holder(live.account("WF1") or 0)
    new = live.add_account("WF4", int(live._ts[row]), person=person)
    late = live.add("WX4", new, live.account("P1") or 0, 49_100.0, int(live._ts[row]) + 86_400_000)
    found = [a for a in live.verdict(late).alerts if a.typology == "structuring"]
    assert [{h.tx_id for h in a.hops} for a in found] == [{"WX1", "WX2", "WX3", "WX4"}]
    # A stranger's new account paying the same is no part of it.
    other = live.add_account("ZZ9", int(live._ts[row]))
    alone = live.add(
        "ZX9", other, live.account("P1") or 0, 49_100.0, int(live._ts[row]) + 90_000_000
    )
    assert [a for a in live.verdict(alone).alerts if a.typology == "structuring"] == []
