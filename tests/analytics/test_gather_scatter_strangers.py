"""A person passing on what strangers paid in to other strangers: pass-through is evidence
whatever the gather-scatter's excess.

何伟 is paid 50,000, 55,000 and 60,000 by three strangers in six hours and the next
morning pays 52,000 to each of three other strangers (95 % of it). Passing the money on was
mule evidence only with an unusual fan (excess over the hub's usual and its peers'): a
shop's settlement of its takings is not. Among strangers at a person's hub there is no
shop, and the gather-scatter passes the money on by definition; the reason counts.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from relgraph.analytics.layering import LayeringParams, alert_frames, scan
from tests.banks import held_by_firms, holder_each, project, transfer, write_bank

START = datetime(2026, 10, 20, 9)
PAYERS = ("赵敏", "钱伟", "孙磊")
PAYEES = ("李娜", "周杰", "吴芳")


def _rows(hub: str) -> list[dict[str, Any]]:
    at = START
    return [
        _tx("Z0", "张强", "王芳", 3_000.0, at - timedelta(days=60)),
        *(_tx(f"G{i}", p, hub, 50_000.0 + 5_000 * i, at + timedelta(hours=3 * i))
          for i, p in enumerate(PAYERS)),
        *(_tx(f"S{i}", hub, p, 52_000.0, at + timedelta(days=1, hours=2 * i))
          for i, p in enumerate(PAYEES)),
    ]  # fmt: skip


def _tx(tx_id: str, src: str, dst: str, amount: float, when: datetime) -> dict[str, Any]:
    return transfer(tx_id, src, dst, amount, when)


def _gather_scatter(tmp_path: Path, hub: str, firm: bool) -> tuple[float, dict[str, float]]:
    tables = holder_each(_rows(hub))
    if firm:
        tables = held_by_firms(tables, {hub})
    graph = project(write_bank(tmp_path / "bank", tables), tmp_path / "data")
    frames = alert_frames(graph, scan(graph, LayeringParams()))
    chains = frames["risk_chains"]
    (at,) = (chains["typology"] == "gather_scatter").to_numpy().nonzero()[0].tolist()
    reasons = {r["reason"]: float(r["weight"]) for r in json.loads(str(chains["reasons"].iat[at]))}
    return float(chains["score"].to_numpy()[at]), reasons


def test_a_person_passing_strangers_money_to_strangers_is_an_alert(tmp_path: Path) -> None:
    score, reasons = _gather_scatter(tmp_path, "何伟", firm=False)
    assert reasons.get("fan_excess", 0.0) == 0.0  # not unusual against its peers here
    assert reasons["pass_through"] == 0.3
    assert score >= LayeringParams().score_threshold


def test_a_firm_settling_its_takings_is_not(tmp_path: Path) -> None:
    score, reasons = _gather_scatter(tmp_path, "华信商行", firm=True)
    assert reasons.get("pass_through", 0.0) == 0.0
    assert score < LayeringParams().score_threshold
