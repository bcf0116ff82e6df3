"""A fan-out's source of funds (analytics/layering/funds.py).

Old accounts of persons, each paying six strangers (or shops) one payment a day from
2 March 2026, 18,000–18,750 CNY (110,250 in all):

* ``UF`` received 10,000 eight days before its first payment: unfunded (a funded share
  of 0.09);
* ``UO`` was paid 120,000 seventy days before, outside the month the funds are counted
  over: unfunded, and nothing arrived in the month (twice the weight);
* ``FD`` was paid 120,000 for a sale nine days before: funded;
* ``FH`` moved 120,000 in from its holder's savings account ``FH-SAV`` five days before:
  funded (one's own savings fund a payment);
* ``HS`` received nothing and pays six shops: unfunded, but not a fan among strangers.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from relgraph.analytics.layering import Alerts, LayeringIndex, LayeringParams, scan
from relgraph.analytics.layering.live import LiveIndex
from relgraph.config import moment_ms, source_zone
from relgraph.graph import Projection
from tests.banks import Rows, held_by_firms, holder_each, project, transfer, write_bank

START = datetime(2026, 3, 2, 9, 0)
DAY = timedelta(days=1)
SHOPS = {f"HS-R{j}" for j in range(6)}


def _fan(hub: str) -> Rows:
    return [transfer(f"{hub}-{j}", hub, f"{hub}-R{j}", 18_000 + 150 * j, START + j * DAY)
            for j in range(6)]  # fmt: skip


ROWS: Rows = [
    transfer("UF-in", "UF-OLD", "UF", 10_000, START - 8 * DAY),
    transfer("UO-in", "UO-OLD", "UO", 120_000, START - 70 * DAY),
    transfer("FD-in", "FD-BUYER", "FD", 120_000, START - 9 * DAY),
    transfer("FH-in", "FH-SAV", "FH", 120_000, START - 5 * DAY),
    *_fan("UF"), *_fan("UO"), *_fan("FD"), *_fan("FH"), *_fan("HS"),
]  # fmt: skip


def _tables(rows: Rows) -> dict[str, Rows]:
    tables = held_by_firms(holder_each(ROWS), SHOPS)  # every account, whichever rows are sent
    for account in tables["accounts"]:
        if account["account_id"] == "FH-SAV":
            account["holder_id"] = "CFH"
    tables["transfers"] = rows
    return tables


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Projection:
    root: Path = tmp_path_factory.mktemp("funds")
    return project(write_bank(root / "bank", _tables(ROWS)), root / "data")


@pytest.fixture(scope="module")
def alerts(bank: Projection) -> Alerts:
    return scan(bank)


def _fan_out(bank: Projection, alerts: Alerts, hub: str) -> int:
    ids = bank.edge("Account", "TRANSFER", "Account").attrs["tx_id"].to_numpy(object)
    found = [i for i in range(len(alerts)) if alerts.typology[i] == "fan_out"
             and all(str(t).startswith(f"{hub}-") for t in ids[alerts.transfers(i)])]  # fmt: skip
    assert len(found) == 1, hub
    return found[0]


def _reasons(alerts: Alerts, i: int) -> dict[str, dict[str, Any]]:
    return {str(r["reason"]): r for r in alerts.reasons(i)}


def test_strangers_paid_what_never_arrived_in_the_month_before(
    bank: Projection, alerts: Alerts
) -> None:
    reasons = _reasons(alerts, _fan_out(bank, alerts, "UF"))
    assert reasons["unfunded"]["weight"] == pytest.approx(0.15)
    assert reasons["unfunded"]["value"] == pytest.approx(10_000 / 110_250, abs=1e-4)
    assert reasons["unrelated_persons"]["weight"] == pytest.approx(0.25)


def test_what_arrived_before_the_month_does_not_fund_it(bank: Projection, alerts: Alerts) -> None:
    i = _fan_out(bank, alerts, "UO")
    reasons = _reasons(alerts, i)
    # Nothing at all arrived in the month: the weight doubles, and the fan alerts where
    # UF's (a tenth funded) does not.
    assert (reasons["unfunded"]["weight"], reasons["unfunded"]["value"]) == (0.3, 0.0)
    assert alerts.score[i] >= LayeringParams().score_threshold
    assert alerts.score[_fan_out(bank, alerts, "UF")] < LayeringParams().score_threshold


@pytest.mark.parametrize("hub", ["FD", "FH"])
def test_a_fan_paid_from_a_sale_or_ones_own_savings_is_funded(
    bank: Projection, alerts: Alerts, hub: str
) -> None:
    i = _fan_out(bank, alerts, hub)
    assert "unfunded" not in _reasons(alerts, i)
    assert alerts.facts["funded"].iloc[i] == pytest.approx(120_000 / 110_250)
    unfunded = _fan_out(bank, alerts, "UF")
    assert alerts.score[unfunded] == pytest.approx(1 - (1 - alerts.score[i]) * 0.85)


def test_paying_shops_from_elsewhere_is_no_evidence(bank: Projection, alerts: Alerts) -> None:
    i = _fan_out(bank, alerts, "HS")
    assert "unfunded" not in _reasons(alerts, i)
    assert "unrelated_persons" not in _reasons(alerts, i)


def test_the_live_verdict_reads_the_funds_the_batch_reads(
    tmp_path: Path, bank: Projection, alerts: Alerts
) -> None:
    # The bank without UF's last payment, loaded; that payment arrives live.
    last = ROWS.index(next(r for r in ROWS if r["tx_id"] == "UF-5"))
    before = project(
        write_bank(tmp_path / "bank", _tables(ROWS[:last] + ROWS[last + 1 :])), tmp_path / "data"
    )
    ids = bank.nodes["Account"].ids.tolist()
    assert before.nodes["Account"].ids.tolist() == ids
    live = LiveIndex.from_index(
        LayeringIndex.build(before, LayeringParams()), ids, {a: i for i, a in enumerate(ids)}
    )
    arriving = ROWS[last]
    row = live.add(
        arriving["tx_id"], ids.index(arriving["from_account"]), ids.index(arriving["to_account"]),
        float(arriving["amount"]), moment_ms(arriving["ts"], source_zone()),
    )  # fmt: skip
    fan = [a for a in live.verdict(row).alerts if a.typology == "fan_out"]
    assert len(fan) == 1
    batch = _fan_out(bank, alerts, "UF")
    # The batch's score, unfunded (reasons are kept for alerts at the threshold only).
    assert "unfunded" in _reasons(alerts, batch)
    assert fan[0].score == pytest.approx(alerts.score[batch])
