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

import numpy as np
import pytest

from relgraph.analytics.layering import LayeringParams, alert_frames, scan
from relgraph.analytics.layering.hops import _Tx
from relgraph.analytics.layering.routine import HubHistory, slow_params
from tests.banks import holder_each, live_with_last, project, transfer, write_bank

START = datetime(2026, 6, 1, 8)  # the bank's first transfer: its tiles cut at days 30k
STRANGERS = ("赵敏", "钱伟", "孙磊", "李娜", "周杰", "吴芳")


def _at(day: float, tx_id: str, src: str, dst: str, amount: float) -> dict[str, Any]:
    return transfer(tx_id, src, dst, amount, START + timedelta(days=day))


def dispersal(first_day: float, payments: int = 6, months: int = 6) -> list[dict[str, Any]]:
    """The bank's first transfer on day 0 (two others, monthly), then 何丽's weekly payments."""
    return [
        *(_at(30.0 * k, f"Z{k}", "张强", "王芳", 3_000.0) for k in range(months)),
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


def test_the_verdict_on_the_sixth_payment_is_the_batchs_alert(tmp_path: Path) -> None:
    # 何丽 receives nothing and the strangers pass nothing on: no hop link, no fast fan, no
    # money in before — only a slow fan can hold W5, and the verdict once never looked
    # (``LiveIndex._may_hold``). 吴芳 was paid once before (the index numbers her account).
    # Counted from W0 (day 106), five payments fell in one window of a "60-day" history:
    # steady, were the windows the neighbourhood's (test_slow_fan_clock's first fix).
    rows = [_at(1.0, "Z9", "张强", "吴芳", 800.0), *dispersal(106.0, months=4)]
    graph = project(write_bank(tmp_path / "full", holder_each(rows)), tmp_path / "d1")
    frames = alert_frames(graph, scan(graph, LayeringParams()))
    hops, chains = frames["risk_chain_hops"], frames["risk_chains"].set_index("chain_id")
    (batch,) = hops.loc[hops.tx_id == "W5", "chain_id"].tolist()
    assert chains.loc[batch, "typology"] == "fan_out"
    live, row = live_with_last(
        tmp_path, rows, LayeringParams(), graph.nodes["Account"].ids.tolist()
    )
    (alert,) = live.verdict(row).alerts
    assert (alert.chain_id, alert.typology) == (batch, "fan_out")
    assert alert.score == pytest.approx(float(chains.loc[batch, "score"]))


def test_a_neighbourhoods_peers_cut_time_where_the_batch_does() -> None:
    # The bank: account 0 pays 1 on day 0 (its first transfer), hub 2 pays 3 … 8 weekly from
    # day 45. Per (payer, 30-day window from day 0): 1, 3, 3 counterparties; the verdict's
    # neighbourhood holds the hub's payments only. Cut from its own first transfer (day
    # 45) its windows hold 5 and 1: peers of 4.6 where the batch's are 3.
    day = 86_400_000
    days = np.array([0, 45, 52, 59, 66, 73, 80], np.int64) * day
    bank = _Tx(
        np.arange(7),
        np.array([0, 2, 2, 2, 2, 2, 2]),
        np.array([1, 3, 4, 5, 6, 7, 8]),
        np.ones(7),
        days,
    )
    near = bank.take(np.arange(1, 7))
    slow = slow_params(LayeringParams())
    batch = HubHistory(bank, slow, True).peer_out
    assert batch == 3.0
    assert HubHistory(near, slow, True, origin=0).peer_out == batch
    assert HubHistory(near, slow, True).peer_out == pytest.approx(4.6)
