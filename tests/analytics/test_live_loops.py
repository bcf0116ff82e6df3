"""Real time finds the batch's round trips whose legs pass accounts outside the verdict's
own two (:mod:`relgraph.analytics.layering.loopctx`).

``R1 → R2 → R3 → R4 → R1`` over 12 days, hops four days apart, amounts unrelated hop to
hop: the batch's ``cycle``. When the last leg arrived by stream, its neighbourhood held
``R1``'s and ``R4``'s transfers only — ``R2 → R3`` was missing and real time said nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from relgraph.analytics.households import find_households
from relgraph.analytics.layering import LayeringParams, alert_frames, scan
from relgraph.analytics.layering.check import LayeringIndex
from relgraph.analytics.layering.live import LiveIndex
from relgraph.config import moment_ms, source_zone
from tests.banks import holder_each, kin_and_firms, live_with_last, project, transfer, write_bank

START = datetime(2026, 1, 1, 10)


def _at(day: float, tx_id: str, src: str, dst: str, amount: float) -> dict[str, Any]:
    return transfer(tx_id, src, dst, amount, START + timedelta(days=day))


def _loop(gap: float = 4.0) -> list[dict[str, Any]]:
    """Background (every account has a past) and the round trip, its hops ``gap`` days
    apart; busy ``SHOP`` is paid by R2 and R3 too, and pays R1: money that passes a shop
    is no loop of R1's (its 200 takings are not what the verdict needs)."""
    rows = [_at(10.0 * k, f"Z{k}", "Z1", "Z2", 700.0) for k in range(3)]
    rows += [_at(0.5 + k / 10, f"S{k}", f"C{k % 50}", "SHOP", 88.0 + k) for k in range(200)]
    rows += [_at(0.9, "RS2", "R2", "SHOP", 120.0), _at(0.95, "RS3", "R3", "SHOP", 95.0)]
    rows += [_at(0.2, "SR1", "SHOP", "R1", 300.0)]
    amounts = [80_000.0, 23_000.0, 61_500.0, 12_345.0]
    legs = [("R1", "R2"), ("R2", "R3"), ("R3", "R4"), ("R4", "R1")]
    rows += [_at(1 + gap * i, f"RT{i + 1}", s, d, a) for i, ((s, d), a) in
             enumerate(zip(legs, amounts, strict=True))]  # fmt: skip
    return rows


def _batch(tmp_path: Path, rows: list[dict[str, Any]], params: LayeringParams) -> dict[str, Any]:
    graph = project(write_bank(tmp_path / "full", holder_each(rows)), tmp_path / "d1")
    frames = alert_frames(graph, scan(graph, params))
    chains = frames["risk_chains"].set_index("chain_id")
    hops = frames["risk_chain_hops"]
    cycles = set(hops.loc[hops.tx_id.str.startswith("RT"), "chain_id"])
    return {
        c: float(chains.loc[c, "score"]) for c in cycles if chains.loc[c, "typology"] == "cycle"
    }


def _live_cycles(live: LiveIndex, row: int) -> dict[str, float]:
    return {a.chain_id: a.score for a in live.verdict(row).alerts if a.typology == "cycle"}


def test_the_last_leg_of_a_slow_round_trip_gets_the_batchs_cycle(tmp_path: Path) -> None:
    params = LayeringParams()
    rows = _loop()
    batch = _batch(tmp_path, rows, params)
    assert len(batch) == 1
    assert min(batch.values()) >= params.score_threshold
    ids = project(write_bank(tmp_path / "ids", holder_each(rows)), tmp_path / "d0")
    live, row = live_with_last(tmp_path, rows, params, ids.nodes["Account"].ids.tolist())
    found = _live_cycles(live, row)
    assert found.keys() == batch.keys()
    assert found == pytest.approx(batch)
    # Only the loop's legs joined: not the shop's 200 takings R2 and R3 paid into.
    hood, _ = live.neighbourhood(row)
    assert {live._tx[r] for r in hood.tolist()} >= {"RT1", "RT2", "RT3", "RT4"}
    assert not [t for r in hood.tolist() if (t := live._tx[r])[0] == "S" and t[1:].isdigit()]


def test_a_late_middle_leg_closes_the_loop_too(tmp_path: Path) -> None:
    # RT2 (R2 → R3, day 5) arrives after the others (a partition that lagged): money goes
    # back from it to R1, and forth through R3 and R4 home.
    params = LayeringParams()
    rows = _loop()
    batch = _batch(tmp_path, rows, params)
    late = [r for r in rows if r["tx_id"] != "RT2"] + [r for r in rows if r["tx_id"] == "RT2"]
    ids = project(write_bank(tmp_path / "ids", holder_each(rows)), tmp_path / "d0")
    live, row = live_with_last(tmp_path, late, params, ids.nodes["Account"].ids.tolist())
    assert live._tx[row] == "RT2"
    assert _live_cycles(live, row) == pytest.approx(batch)
    # And the first leg arriving last: forth all the way home.
    first = [r for r in rows if r["tx_id"] != "RT1"] + [r for r in rows if r["tx_id"] == "RT1"]
    live, row = live_with_last(tmp_path / "first", first, params,
                               ids.nodes["Account"].ids.tolist())  # fmt: skip
    assert _live_cycles(live, row) == pytest.approx(batch)


def test_a_loop_over_forty_days_is_no_round_trip_either_way(tmp_path: Path) -> None:
    params = LayeringParams()
    rows = _loop(gap=40 / 3)
    assert _batch(tmp_path, rows, params) == {}
    ids = project(write_bank(tmp_path / "ids", holder_each(rows)), tmp_path / "d0")
    live, row = live_with_last(tmp_path, rows, params, ids.nodes["Account"].ids.tolist())
    assert _live_cycles(live, row) == {}
    # …and the search did not bring the first leg, 40 days back, into the verdict.
    hood, _ = live.neighbourhood(row)
    assert "RT2" not in {live._tx[r] for r in hood.tolist()}


def test_a_loop_closed_inside_one_household_is_no_alert_live(tmp_path: Path) -> None:
    # Husband R1, wife R4 (one household), strangers R2, R3: R1 → R2 → R3 → R4 is a round
    # trip home. Inside the household only (R2, R3 family too): none.
    params = LayeringParams(score_threshold=0.0)
    rows = [*_loop()[:-1], _at(13, "RT4", "R3", "R4", 12_345.0)]
    rows = [r for r in rows if r["tx_id"] != "RT3"]  # R1 → R2 → R3 → R4 (wife)
    rows.insert(0, _at(0.3, "R4B", "R4", "Z1", 500.0))  # the wife is a customer before

    def verdict(family: list[dict[str, str]], name: str) -> dict[str, float]:
        root = tmp_path / name
        whole = kin_and_firms(root / "whole", rows, set(), family)
        before = kin_and_firms(root / "before", rows[:-1], set(), family)
        ids = whole.nodes["Account"].ids.tolist()
        assert before.nodes["Account"].ids.tolist() == ids
        index = LayeringIndex.build(before, params, find_households(before).label)
        live = LiveIndex.from_index(index, ids, {a: i for i, a in enumerate(ids)})
        last = rows[-1]
        row = live.add(last["tx_id"], ids.index(last["from_account"]),
                       ids.index(last["to_account"]), float(last["amount"]),
                       moment_ms(last["ts"], source_zone()))  # fmt: skip
        batch = alert_frames(
            whole, scan(whole, params, households_label=find_households(whole).label)
        )
        hops = batch["risk_chain_hops"].merge(batch["risk_chains"], on="chain_id")
        held = hops[(hops.tx_id == "RT4") & (hops.typology == "cycle")]
        assert set(held.chain_id) == set(_live_cycles(live, row))
        return _live_cycles(live, row)

    spouses = [{"customer_id": "CR1", "relative_id": "CR4", "relation": "spouse"}]
    assert len(verdict(spouses, "spouses")) == 1
    kin = spouses + [{"customer_id": "CR1", "relative_id": f"CR{k}", "relation": "child"}
                     for k in (2, 3)]  # fmt: skip
    assert verdict(kin, "kin") == {}


def test_a_small_payments_payee_paying_on_a_large_sum_is_no_round_trip(tmp_path: Path) -> None:
    # R1 pays R2 82 (its only payment: material for it); R2 pays R3 45,000 and R3 pays R1
    # 40,000: that is not R1's 82 coming back (over ten times what left), either way.
    rows = [_at(10.0 * k, f"Z{k}", "Z1", "Z2", 700.0) for k in range(3)]
    rows += [_at(1, "RT1", "R1", "R2", 82.0), _at(5, "RT2", "R2", "R3", 45_000.0),
             _at(9, "RT3", "R3", "R1", 40_000.0)]  # fmt: skip
    ids = project(write_bank(tmp_path / "ids", holder_each(rows)), tmp_path / "d0")
    accounts = ids.nodes["Account"].ids.tolist()
    for share, found in ((0.1, False), (0.001, True)):
        params = LayeringParams(score_threshold=0.0, cycle_min_share=share)
        where = tmp_path / str(share)
        assert bool(_batch(where, rows, params)) is found
        live, row = live_with_last(where, rows, params, accounts)
        assert bool(_live_cycles(live, row)) is found
