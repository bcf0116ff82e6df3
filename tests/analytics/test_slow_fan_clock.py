"""A slow fan's verdict does not hang on where the bank's 30-day tiles fall.

何丽 pays six strangers 20,000 a week with nothing coming in: a dispersal (fan-out among
strangers, unfunded). A steady (merchant-like) hub's usual fans are routine, and a hub is
steady when it is dense in at least half the windows of a history at least two horizons
long. Those windows were the scan's tiles, counted from the bank's first transfer: five
weeks of payments starting just after a tile cut touched two tiles, one of them dense — a
"60-day" history, half dense, a business — and the fan vanished, while the first five
payments alone (one tile) alerted. The windows are now the hub's own, from its first
transfer, and the history is as long as its first to last transfer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from relgraph.analytics.layering import LayeringParams, alert_frames, scan
from tests.banks import holder_each, project, transfer, write_bank

START = datetime(2026, 6, 1, 8)  # the bank's first transfer: its tiles cut at days 30k
STRANGERS = ("赵敏", "钱伟", "孙磊", "李娜", "周杰", "吴芳")


def _at(day: float, tx_id: str, src: str, dst: str, amount: float) -> dict[str, Any]:
    return transfer(tx_id, src, dst, amount, START + timedelta(days=day))


def dispersal(first_day: float, payments: int = 6) -> list[dict[str, Any]]:
    """The bank's first transfer on day 0 (two others, monthly), then 何丽's weekly payments."""
    return [
        *(_at(30.0 * k, f"Z{k}", "张强", "王芳", 3_000.0) for k in range(6)),
        *(_at(first_day + 7 * i, f"W{i}", "何丽", STRANGERS[i], 20_000.0) for i in range(payments)),
    ]


def fan_outs(tmp_path: Path, rows: list[dict[str, Any]]) -> list[tuple[frozenset[str], float]]:
    graph = project(write_bank(tmp_path / "bank", holder_each(rows)), tmp_path / "data")
    frames = alert_frames(graph, scan(graph, LayeringParams()))
    hops, chains = frames["risk_chain_hops"], frames["risk_chains"].set_index("chain_id")
    held = hops.groupby("chain_id")["tx_id"].agg(frozenset)
    return [
        (held[c], float(chains.loc[c, "score"]))
        for c in chains.index
        if chains.loc[c, "typology"] == "fan_out"
    ]


@pytest.mark.parametrize("first_day", [106.0, 120.1, 135.0])
def test_a_weekly_dispersal_alerts_wherever_the_tiles_fall(
    tmp_path: Path, first_day: float
) -> None:
    # 120.1: just after the cut at day 120, five payments in one tile and the sixth in the
    # next — the case that was dropped as a steady hub's routine.
    (fan,) = fan_outs(tmp_path, dispersal(first_day))
    assert fan[0] == {f"W{i}" for i in range(6)}
    assert fan[1] >= LayeringParams().score_threshold


def test_one_more_payment_does_not_erase_the_alert(tmp_path: Path) -> None:
    five = fan_outs(tmp_path / "five", dispersal(120.1, 5))
    six = fan_outs(tmp_path / "six", dispersal(120.1, 6))
    assert [len(t) for t, _ in five] == [5]
    assert [len(t) for t, _ in six] == [6]
    assert six[0][1] >= five[0][1] >= LayeringParams().score_threshold
