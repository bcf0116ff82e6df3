"""A bipartite block's width is evidence (analytics/layering/blocks.py, ``many_to_many``).

Three blocks on their own accounts (every account opened in 2015, 30,000–31,000 CNY per
payment, one every six hours from 2 March 2026):

* ``W2``: two payers each pay the same two payees — what friends and flatmates do;
* ``W3``: three payers each pay the same three payees;
* ``W5``: five payers each pay the same six payees (the width is the smaller side, 5; each
  payer's six payments are also a fan-out, each payee's five receipts a fan-in).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from relgraph.analytics.layering import Alerts, scan
from relgraph.graph import Projection
from tests.banks import Rows, holder_each, project, transfer, write_bank

START = datetime(2026, 3, 2, 9, 0)
HOUR = timedelta(hours=1)


def _block(name: str, payers: int, payees: int) -> Rows:
    return [
        transfer(f"{name}-{i}-{j}", f"{name}P{i}", f"{name}R{j}", 30_000 + 100 * i + 10 * j,
                 START + 6 * (payees * i + j) * HOUR)
        for i in range(payers) for j in range(payees)
    ]  # fmt: skip


TRANSFERS: Rows = [*_block("W2", 2, 2), *_block("W3", 3, 3), *_block("W5", 5, 6)]


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Projection:
    root: Path = tmp_path_factory.mktemp("width")
    return project(write_bank(root / "bank", holder_each(TRANSFERS)), root / "data")


@pytest.fixture(scope="module")
def alerts(bank: Projection) -> Alerts:
    return scan(bank)


def _block_alert(bank: Projection, alerts: Alerts, name: str) -> int:
    ids = bank.edge("Account", "TRANSFER", "Account").attrs["tx_id"].to_numpy(object)
    found = [i for i in range(len(alerts))
             if any(str(t).startswith(name) for t in ids[alerts.transfers(i)])]  # fmt: skip
    blocks = [i for i in found if alerts.typology[i] == "bipartite"]
    assert len(blocks) == 1, name
    return blocks[0]


def _reasons(alerts: Alerts, i: int) -> dict[str, dict[str, Any]]:
    return {str(r["reason"]): r for r in alerts.reasons(i)}


def test_two_paying_the_same_two_is_no_width_evidence(bank: Projection, alerts: Alerts) -> None:
    assert "many_to_many" not in _reasons(alerts, _block_alert(bank, alerts, "W2"))


def test_a_block_is_as_wide_as_its_smaller_side(bank: Projection, alerts: Alerts) -> None:
    three = _reasons(alerts, _block_alert(bank, alerts, "W3"))["many_to_many"]
    assert (three["value"], three["weight"]) == (3, pytest.approx(0.1))
    # Five payers and six payees: five wide, and the weight stops at 0.2.
    five = _reasons(alerts, _block_alert(bank, alerts, "W5"))["many_to_many"]
    assert (five["value"], five["weight"]) == (5, pytest.approx(0.2))


def test_a_wider_block_scores_higher(bank: Projection, alerts: Alerts) -> None:
    w3, w5 = (_block_alert(bank, alerts, name) for name in ("W3", "W5"))
    # Both have as many transfers as ``hops`` counts at most: only the width differs.
    assert _reasons(alerts, w3)["hops"]["weight"] == _reasons(alerts, w5)["hops"]["weight"]
    assert alerts.score[w5] > alerts.score[w3]
