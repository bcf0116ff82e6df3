"""An employer's payroll whose salary lands in a mule's fan-in: the fan alerts, and its
counterparties take its score, but the payroll (a transfer hub: 60 staff) does not.

Before (RESULTS 2026-12-05): in a fan-in every payer took the alert's score, so a payroll
paying 30,000 staff ranked among the riskiest accounts of its bank."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from relgraph.analytics.layering import Alerts, LayeringIndex, LayeringParams, check_account, scan
from relgraph.analytics.layering.frames import account_risk, chain_ids
from relgraph.graph import Projection
from tests.banks import Rows, held_by_firms, holder_each, project, transfer, write_bank

PAYDAY = datetime(2026, 3, 25, 9, 0)
STAFF = 60
SALARIES: Rows = [
    transfer(f"PAY{m}_{i}", "PAYROLL", f"EMP{i}", 8_000 + 10 * i, PAYDAY + timedelta(days=30 * m))
    for m in range(4)
    for i in range(STAFF)
]
# On the fourth payday EMP0, now a mule, is paid by 25 strangers within hours of its salary
# and sends 95 % of it all on.
MULE_DAY = PAYDAY + timedelta(days=90)
MULE: Rows = [
    *(transfer(f"MUL{k}", f"STR{k}", "EMP0", 8_500 + 40 * k, MULE_DAY + timedelta(hours=1 + k / 5))
      for k in range(25)),
    transfer("MULout", "EMP0", "MUX", 0.95 * (8_000 + sum(8_500 + 40 * k for k in range(25))),
             MULE_DAY + timedelta(hours=8)),
]  # fmt: skip


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Projection:
    root: Path = tmp_path_factory.mktemp("standing")
    tables = held_by_firms(holder_each([*SALARIES, *MULE]), {"PAYROLL"})
    return project(write_bank(root / "bank", tables), root / "data")


def _mule_fan(bank: Projection, alerts: Alerts) -> tuple[str, float]:
    """The fan-in at EMP0 (it holds the payroll's fourth salary to EMP0): id and score."""
    ids = bank.edge("Account", "TRANSFER", "Account").attrs["tx_id"].to_numpy(object)
    held = [i for i in range(len(alerts)) if "PAY3_0" in set(ids[alerts.transfers(i)])]
    (fan,) = [i for i in held if alerts.typology[i] == "fan_in"]
    return str(chain_ids(bank, alerts)[fan]), float(alerts.score[fan])


def _risk(bank: Projection, alerts: Alerts) -> dict[str, tuple[float, set[str]]]:
    frame = account_risk(bank, alerts)
    return {
        str(a): (float(s), {e["chain_id"] for e in json.loads(r)})
        for a, s, r in zip(frame["account_id"], frame["score"], frame["reasons"], strict=True)
    }


def test_a_payroll_takes_no_risk_from_a_mules_fan_its_salary_lands_in(bank: Projection) -> None:
    alerts = scan(bank)
    fan, score = _mule_fan(bank, alerts)
    assert score >= alerts.params.score_threshold
    risk = _risk(bank, alerts)
    # The mule and the strangers paying it take the fan's score, with it as a reason.
    for account in ("EMP0", "STR0", "STR24"):
        assert risk[account][0] == pytest.approx(score)
        assert fan in risk[account][1]
    # The payroll (60 counterparties > hub_partners 50): its own payroll runs only.
    payroll, reasons = risk["PAYROLL"]
    assert fan not in reasons
    assert payroll < alerts.params.score_threshold
    roles = {e["role"] for e in json.loads(account_risk(bank, alerts).set_index("account_id")
                                            .loc["EMP0", "reasons"])}  # fmt: skip
    assert roles == {"hub", "counterparty"}  # its fan's hub; a counterparty of the payroll's


def test_the_hub_partners_setting_decides_who_is_a_transfer_hub(bank: Projection) -> None:
    alerts = scan(bank, LayeringParams(hub_partners=STAFF))  # 60 staff: no longer more
    fan, score = _mule_fan(bank, alerts)
    payroll, reasons = _risk(bank, alerts)["PAYROLL"]
    assert (payroll, fan in reasons) == (pytest.approx(score), True)


def test_layering_check_reads_the_same_risk(bank: Projection) -> None:
    index = LayeringIndex.build(bank)
    risk = _risk(bank, scan(bank))
    accounts = bank.nodes["Account"]
    for account in ("PAYROLL", "EMP0", "STR3"):
        checked = check_account(bank, accounts.index(account), index=index)
        assert checked.score == pytest.approx(risk[account][0])
        assert {r["chain_id"] for r in checked.reasons} == risk[account][1]
    # The mule's fan is among the chains the payroll takes part in, not among its reasons.
    payroll = check_account(bank, accounts.index("PAYROLL"), index=index)
    assert "fan_in" in {c.typology for c in payroll.chains}
