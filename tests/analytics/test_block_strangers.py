"""A block of persons paying strangers is evidence (analytics/layering/blocks.py,
``unrelated_persons``), as a fan of a person among strangers is.

Three blocks of the same shape on their own accounts (every account opened in 2015; three
payers each pay the same three payees, 30,000–31,000 CNY per payment, one every six hours
from 2 March 2026):

* ``BS``: nine persons who are strangers to each other — a ring recruited for the purpose;
* ``BH``: the same, but the first payer is a sibling of all three payees (family ties: one
  hidden network): six of its nine pairs are strangers, under the four in five;
* ``BE``: three persons paying three shops (accounts held by enterprises): a pair with a
  firm's account is never two unrelated persons.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from relgraph.analytics.layering import Alerts, LayeringParams, scan
from relgraph.analytics.networks import hidden_networks
from relgraph.graph import Projection
from tests.banks import (
    Rows,
    alert_of,
    holder_each,
    kin_and_firms,
    live_with_last,
    project,
    transfer,
    write_bank,
)

START = datetime(2026, 3, 2, 9, 0)
HOUR = timedelta(hours=1)


def _block(name: str) -> Rows:
    return [
        transfer(f"{name}-{i}-{j}", f"{name}P{i}", f"{name}R{j}", 30_000 + 100 * i + 10 * j,
                 START + 6 * (3 * i + j) * HOUR)
        for i in range(3) for j in range(3)
    ]  # fmt: skip


TRANSFERS: Rows = [*_block("BS"), *_block("BH"), *_block("BE")]
SHOPS = {f"BER{j}" for j in range(3)}


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Projection:
    family = [{"customer_id": "CBHP0", "relative_id": f"CBHR{j}", "relation": "sibling"}
              for j in range(3)]  # fmt: skip
    return kin_and_firms(tmp_path_factory.mktemp("block-strangers"), TRANSFERS, SHOPS, family)


@pytest.fixture(scope="module")
def alerts(bank: Projection) -> Alerts:
    return scan(bank, networks_label=hidden_networks(bank).label)


def _block_alert(bank: Projection, alerts: Alerts, name: str) -> int:
    return alert_of(bank, alerts, name, "bipartite")


def _reasons(alerts: Alerts, i: int) -> dict[str, dict[str, Any]]:
    return {str(r["reason"]): r for r in alerts.reasons(i)}


def test_a_block_of_strangers(bank: Projection, alerts: Alerts) -> None:
    reason = _reasons(alerts, _block_alert(bank, alerts, "BS"))["unrelated_persons"]
    assert (reason["value"], reason["weight"]) == (1.0, pytest.approx(0.25))


def test_the_share_counts_pairs_and_a_family_tie_is_no_stranger(
    bank: Projection, alerts: Alerts
) -> None:
    family = _block_alert(bank, alerts, "BH")
    assert alerts.facts["unrelated_persons"].iloc[family] == pytest.approx(6 / 9)
    assert "unrelated_persons" not in _reasons(alerts, family)


def test_a_pair_with_a_firm_is_no_stranger(bank: Projection, alerts: Alerts) -> None:
    shops = _block_alert(bank, alerts, "BE")
    assert alerts.facts["unrelated_persons"].iloc[shops] == 0.0
    assert "unrelated_persons" not in _reasons(alerts, shops)


def test_the_same_block_among_strangers_scores_higher(bank: Projection, alerts: Alerts) -> None:
    strangers, family = (_block_alert(bank, alerts, name) for name in ("BS", "BH"))
    others = {k: v["weight"] for k, v in _reasons(alerts, strangers).items()}
    assert others.pop("unrelated_persons") == pytest.approx(0.25)
    # Three of the family block's nine pairs are family money, not all: no routine discount.
    assert others == {k: v["weight"] for k, v in _reasons(alerts, family).items()}
    assert alerts.score[strangers] == pytest.approx(1 - (1 - alerts.score[family]) * 0.75)


def test_the_live_verdict_on_the_last_payment_reads_the_same(tmp_path: Path) -> None:
    rows = _block("BS")
    params = LayeringParams()
    whole = project(write_bank(tmp_path / "bank", holder_each(rows)), tmp_path / "data")
    batch = scan(whole, params)
    (i,) = [i for i in range(len(batch)) if batch.typology[i] == "bipartite"]

    # The block's last payment arrives live, onto an index of the eight before it.
    ids = whole.nodes["Account"].ids.tolist()
    live, row = live_with_last(tmp_path, rows, params, ids)
    (alert,) = [a for a in live.verdict(row).alerts if a.typology == "bipartite"]
    assert alert.score == pytest.approx(batch.score[i])
    reasons = {str(r["reason"]): r for r in alert.reasons}
    assert reasons["unrelated_persons"]["weight"] == pytest.approx(0.25)
