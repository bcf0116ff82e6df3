"""A gather-scatter of three accounts a side: a scatter-gather turned inside out.

Three people pay one account within a day and it pays three others on within hours: a
mule gathering and scattering. The independent banks plant gather-scatters of 3–10
accounts a side; a fan's five (``min_fan``) missed the smaller ones entirely (independent-2:
three of 35 with no alert at all). Each side now needs ``min_spokes`` (3), as a
scatter-gather's middles do; the batch, the real-time verdict and the on-demand check
find the same alert.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from relgraph.analytics.layering import (
    LayeringParams,
    alert_frames,
    check_account,
    scan,
)
from relgraph.analytics.layering.detectors import _Bursts, _gather_scatter, gather_bursts
from relgraph.analytics.layering.hops import _Tx
from tests.banks import holder_each, live_with_last, project, transfer, write_bank

START = datetime(2026, 3, 2, 9)


def _at(hours: float, tx_id: str, src: str, dst: str, amount: float) -> dict[str, Any]:
    return transfer(tx_id, src, dst, amount, START + timedelta(hours=hours))


def _bank(payers: int = 3, passed: float = 0.95) -> list[dict[str, Any]]:
    """``payers`` accounts pay H 30,000–50,000 each within a day; H pays three accounts
    ``passed`` of it within hours (38,000 each: outside the structuring band). A month
    before, every account makes one small payment to someone of its own (so none is new
    to the bank: the alert stands on its shape)."""
    paid = [30_000.0 + 10_000.0 * k for k in range(payers)]
    out = sum(paid) * passed / 3
    accounts = [*(f"P{k}" for k in range(payers)), "H", "D0", "D1", "D2"]
    return [
        *(_at(-720.0 + k, f"OLD{k}", a, f"X{k}", 35.0) for k, a in enumerate(accounts)),
        _at(-700.0, "BACK", "X0", "H", 35.0),
        *(_at(2.0 * k, f"IN{k}", f"P{k}", "H", amount) for k, amount in enumerate(paid)),
        *(_at(20.0 + k, f"OUT{k}", "H", f"D{k}", round(out, 2)) for k in range(3)),
    ]


def _batch(tmp_path: Path, rows: list[dict[str, Any]], params: LayeringParams) -> Any:
    graph = project(write_bank(tmp_path / "bank", holder_each(rows)), tmp_path / "data")
    frames = alert_frames(graph, scan(graph, params))
    return graph, frames["risk_chains"], frames["risk_chain_hops"]


def test_three_in_and_three_out_is_a_gather_scatter(tmp_path: Path) -> None:
    params = LayeringParams(score_threshold=0.0)
    _, chains, hops = _batch(tmp_path, _bank(), params)
    (chain_id,) = chains.loc[chains.typology == "gather_scatter", "chain_id"]
    members = set(hops.loc[hops.chain_id == chain_id, "tx_id"])
    assert members == {"IN0", "IN1", "IN2", "OUT0", "OUT1", "OUT2"}
    # No fan of five here: before, the pattern had no alert of any kind.
    assert not {"fan_in", "fan_out"} & set(chains.typology)


@pytest.mark.parametrize(
    ("payers", "passed"),
    [(2, 0.95), (3, 0.3)],
    ids=["two payers: a fan of two is everyday life", "passes on 30%: kept, not scattered"],
)
def test_fewer_payers_or_little_passed_on_is_none(
    tmp_path: Path, payers: int, passed: float
) -> None:
    _, chains, _ = _batch(tmp_path, _bank(payers, passed), LayeringParams(score_threshold=0.0))
    assert "gather_scatter" not in set(chains.typology)


def test_real_time_and_the_check_find_the_batchs_alert(tmp_path: Path) -> None:
    params = LayeringParams(score_threshold=0.0)
    rows = _bank()
    graph, chains, _ = _batch(tmp_path, rows, params)
    batch = chains.loc[chains.typology == "gather_scatter"].iloc[0]

    # The last payment out arrives live, onto an index of everything before it.
    ids = graph.nodes["Account"].ids.tolist()
    live, row = live_with_last(tmp_path, rows, params, ids)
    (alert,) = [a for a in live.verdict(row).alerts if a.typology == "gather_scatter"]
    assert (alert.chain_id, alert.score) == (batch.chain_id, pytest.approx(batch.score))

    # On demand with other settings than the index's (a 48-hour window): found at the hub.
    hub = graph.nodes["Account"].index("H")
    checked = check_account(graph, hub, params, window_hours=48.0)
    (found,) = [c for c in checked.chains if c.typology == "gather_scatter"]
    assert {h.tx_id for h in found.hops} == {"IN0", "IN1", "IN2", "OUT0", "OUT1", "OUT2"}


def _pairs_one_by_one(tx: _Tx, fan_in: _Bursts, fan_out: _Bursts, p: LayeringParams) -> list[Any]:
    """The definition burst by burst (the loop the window join replaced)."""
    out = []
    for i, came in enumerate(fan_in.members):
        t_first, t_last = int(tx.ts[came].min()), int(tx.ts[came].max())
        total_in = float(tx.amount[came].sum())
        for j, went in enumerate(fan_out.members):
            if fan_out.hub[j] != fan_in.hub[i]:
                continue
            share = float(tx.amount[went].sum()) / total_in
            if (
                t_first < int(tx.ts[went].min()) <= t_last + p.window_ms
                and p.min_pass_share <= share <= p.max_pass_share
            ):
                out.append(np.union1d(came, went).tolist())
    return out


@pytest.mark.parametrize("seed", range(6))
def test_the_window_join_pairs_bursts_as_the_definition_does(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, accounts = 400, 12
    src = rng.integers(0, accounts, n)
    dst = (src + rng.integers(1, accounts, n)) % accounts
    ts = np.sort(rng.integers(0, 20 * 86_400_000, n))
    amount = rng.choice([900.0, 1_000.0, 1_100.0], n)
    order = np.lexsort((ts, src))
    tx = _Tx(np.arange(n), src[order], dst[order], amount[order], ts[order])
    p = LayeringParams(min_spokes=3)
    fan_in, fan_out = gather_bursts(tx, p, True), gather_bursts(tx, p, False)
    expected = _pairs_one_by_one(tx, fan_in, fan_out, p)
    assert [g.tolist() for g in _gather_scatter(tx, fan_in, fan_out, p)] == expected
    assert expected  # the random bank has gather-scatters
