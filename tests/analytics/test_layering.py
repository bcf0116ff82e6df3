"""Layered transactions on hand-made transfer sets whose answers are written out.

Every story lives on its own accounts, so one bank holds them all:

* ``L1 → L2 → L3 → L4 → L5``: a 4-hop chain, each hop 1–4 h after the money arrived,
  passing on 92–97 %: one layering chain.
* ``W1 → … → W5``: the same, but the third hop leaves 80 h after the money arrived
  (window 72 h): two 2-hop pieces, no chain.
* ``P1 → … → P5``: the same, but the third hop passes on only 40 %: no chain.
* ``H1 → X1 → X2 → H2``: money leaves Han Mei's account and comes back, three hops
  later, to her husband Han Lei's (declared spouse): a cycle through a household member.
* ``S → M1, M2, M3 → G``: split over three accounts and re-joined: one scatter-gather.
* Employer ``E`` pays six salaries of 12,000 within two hours; each employee pays a
  bill of 150 and a card repayment of 3,000 later that month: nothing may alert (the
  payroll is a fan-out burst, scored under the threshold).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from relgraph.analytics.households import find_households
from relgraph.analytics.layering import (
    Alerts,
    LayeringIndex,
    LayeringParams,
    alert_frames,
    check_account,
    scan,
)
from relgraph.analytics.networks import hidden_networks
from relgraph.config import ConfigError
from relgraph.graph import Projection
from tests.banks import Rows, loaded_synthetic, project, projection_of, write_bank
from tests.oracles import layering_reference as reference

DAY = "2026-06-10"


def _tx(tx_id: str, frm: str, to: str, amount: float, when: str) -> dict[str, Any]:
    return {"tx_id": tx_id, "from_account": frm, "to_account": to, "amount": f"{amount:.2f}",
            "currency": "CNY", "ts": when}  # fmt: skip


def _hops(prefix: str, accounts: list[str], amounts: list[float], times: list[str]) -> Rows:
    return [
        _tx(f"{prefix}{i + 1}", accounts[i], accounts[i + 1], amounts[i], times[i])
        for i in range(len(amounts))
    ]


CHAIN_TIMES = [f"{DAY}T08:00:00", f"{DAY}T09:00:00", f"{DAY}T12:00:00", f"{DAY}T16:00:00"]
AMOUNTS = [100_000.0, 97_000.0, 93_000.0, 90_000.0]

TRANSFERS: Rows = [
    *_hops("TL", ["L1", "L2", "L3", "L4", "L5"], AMOUNTS, CHAIN_TIMES),
    # Third hop 80 h after the second arrived: outside the 72 h window.
    *_hops("TW", ["W1", "W2", "W3", "W4", "W5"], AMOUNTS,
           [CHAIN_TIMES[0], CHAIN_TIMES[1], "2026-06-13T17:00:00", "2026-06-13T20:00:00"]),
    # Third hop passes on 40 % of what arrived.
    *_hops("TP", ["P1", "P2", "P3", "P4", "P5"], [100_000.0, 97_000.0, 38_800.0, 37_000.0],
           CHAIN_TIMES),
    *_hops("TH", ["H1", "X1", "X2", "H2"], [200_000.0, 190_000.0, 185_000.0], CHAIN_TIMES[:3]),
    *(_tx(f"TS{i}", "S", f"M{i}", 30_000.0, f"{DAY}T10:0{i}:00") for i in (1, 2, 3)),
    *(_tx(f"TG{i}", f"M{i}", "G", 28_500.0, f"{DAY}T2{i}:00:00") for i in (1, 2, 3)),
    *(_tx(f"TE{i}", "E", f"Y{i}", 12_000.0, f"2026-06-15T09:{10 * i:02d}:00") for i in range(6)),
    *(_tx(f"TB{i}", f"Y{i}", "U", 150.0, "2026-06-18T12:00:00") for i in range(6)),
    *(_tx(f"TC{i}", f"Y{i}", f"K{i}", 3_000.0, "2026-06-22T12:00:00") for i in range(6)),
]  # fmt: skip

ACCOUNT_IDS = sorted({t[k] for t in TRANSFERS for k in ("from_account", "to_account")})
HOLDER = {a: f"C{a}" for a in ACCOUNT_IDS if a not in ("E", "U", "H2")}
HOLDER["H2"] = "CH2"  # Han Lei, Han Mei's husband
ENTERPRISES = {"E": "EE", "U": "EU"}

BANK: dict[str, Rows] = {
    "customers": [
        {"customer_id": c, "source_system": "core", "name": f"Person {c}", "id_number": c}
        for c in sorted(set(HOLDER.values()))
    ],
    "enterprises": [{"enterprise_id": e, "name": f"Company {e}"} for e in ENTERPRISES.values()],
    "accounts": [
        {
            "account_id": a,
            "holder_id": HOLDER.get(a) or ENTERPRISES[a],
            "holder_kind": "enterprise" if a in ENTERPRISES else "customer",
            "product": "deposit",
            "opened_at": "2015-01-01",
        }
        for a in ACCOUNT_IDS
    ],
    "family": [{"customer_id": "CH1", "relative_id": "CH2", "relation": "spouse"}],
    "transfers": TRANSFERS,
}


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Projection:
    root = tmp_path_factory.mktemp("layering")
    return project(write_bank(root / "bank", BANK), root / "data")


@pytest.fixture(scope="module")
def households(bank: Projection) -> np.ndarray:
    return find_households(bank).label


def _tx_ids(projection: Projection, edges: Any) -> tuple[str, ...]:
    ids = projection.edge("Account", "TRANSFER", "Account").attrs["tx_id"].to_numpy(object)
    return tuple(str(x) for x in ids[np.asarray(edges)])


def _found(projection: Projection, alerts: Alerts) -> dict[tuple[str, ...], str]:
    return {
        _tx_ids(projection, alerts.transfers(i)): str(alerts.typology[i])
        for i in range(len(alerts))
    }


def _vectorised_chains(projection: Projection, params: LayeringParams) -> set[tuple[str, ...]]:
    alerts = scan(projection, params, merge=False)
    # Hop chains only (a chain home is a cycle too); the round trips are tested apart.
    round_trip = alerts.facts["round_trip"].to_numpy(bool)
    chains = np.isin(alerts.typology, ["layering_chain", "cycle"]) & ~round_trip
    return {_tx_ids(projection, alerts.transfers(i)) for i in np.flatnonzero(chains)}


def _reference_chains(projection: Projection, params: LayeringParams) -> set[tuple[str, ...]]:
    return {_tx_ids(projection, c) for c in reference.layering_chains(projection, params)}


ChainFinder = Callable[[Projection, LayeringParams], set[tuple[str, ...]]]
IMPLEMENTATIONS = pytest.mark.parametrize(
    "chains", [_vectorised_chains, _reference_chains], ids=["vectorised", "reference"]
)

EXPECTED_CHAINS = {
    ("TL1", "TL2", "TL3", "TL4"),  # the 4-hop chain; TW* and TP* break
    ("TH1", "TH2", "TH3"),  # the household cycle
}


@IMPLEMENTATIONS
def test_chains_written_out(bank: Projection, chains: ChainFinder) -> None:
    assert chains(bank, LayeringParams()) == EXPECTED_CHAINS


@IMPLEMENTATIONS
def test_a_wider_window_and_a_lower_pass_share_join_the_broken_chains(
    bank: Projection, chains: ChainFinder
) -> None:
    assert ("TW1", "TW2", "TW3", "TW4") in chains(bank, LayeringParams(window_hours=96))
    assert ("TP1", "TP2", "TP3", "TP4") in chains(bank, LayeringParams(min_pass_share=0.4))


def test_typologies_with_and_without_the_household(bank: Projection, households: Any) -> None:
    with_household = _found(bank, scan(bank, households_label=households))
    assert with_household[("TL1", "TL2", "TL3", "TL4")] == "layering_chain"
    assert with_household[("TH1", "TH2", "TH3")] == "cycle"
    assert with_household[("TS1", "TS2", "TS3", "TG1", "TG2", "TG3")] == "scatter_gather"
    # Without the household labels Han Lei is a stranger: a plain chain.
    assert _found(bank, scan(bank))[("TH1", "TH2", "TH3")] == "layering_chain"


def test_the_cycle_scores_its_household_reason(bank: Projection, households: Any) -> None:
    alerts = scan(bank, households_label=households)
    i = list(_found(bank, alerts)).index(("TH1", "TH2", "TH3"))
    reasons = {r["reason"]: r for r in alerts.reasons(i)}
    assert reasons["linked_endpoints"]["value"] == "household"
    assert reasons["linked_endpoints"]["weight"] == pytest.approx(0.4)
    assert reasons["hops"]["value"] == 3
    assert reasons["speed"]["value"] == {"median_dwell_minutes": 120.0}  # 1 h and 3 h
    assert reasons["retained"]["value"] == pytest.approx(0.075)  # 185,000 of 200,000 arrived
    assert alerts.score[i] == pytest.approx(1 - (1 - 0.15) * (1 - 0.25) * (1 - 0.4) * (1 - 0.1))


def test_salary_and_bill_flows_do_not_alert(bank: Projection) -> None:
    alerts = scan(bank)
    found = _found(bank, alerts)
    payroll = tuple(f"TE{i}" for i in range(6))
    assert found[payroll] == "fan_out"
    # The bills are a fan-in at U now that no amount floor hides them: scored, not alerted.
    assert found[tuple(f"TB{i}" for i in range(6))] == "fan_in"
    for i, ids in enumerate(found):
        if any(x[:2] in ("TE", "TB", "TC") for x in ids):
            assert alerts.score[i] < alerts.params.score_threshold


def test_only_the_planted_stories_are_above_the_threshold(
    bank: Projection, households: Any
) -> None:
    frames = alert_frames(bank, scan(bank, households_label=households))
    chains = frames["risk_chains"]
    assert set(chains[chains.above_threshold].typology) <= {
        "cycle",
        "scatter_gather",
        "layering_chain",
    }
    hops = frames["risk_chain_hops"]
    row = hops[hops.tx_id == "TL2"].iloc[0]
    assert (row.hop, row.from_account, row.to_account, row.amount) == (1, "L2", "L3", 97_000.0)
    risk = frames["account_risk"].set_index("account_id")
    assert risk.loc["L3", "score"] == pytest.approx(
        chains.set_index("origin_account").loc["L1", "score"]
    )
    again = alert_frames(bank, scan(bank, households_label=households))["risk_chains"]
    assert list(again.chain_id) == list(chains.chain_id)  # stable across re-runs


def test_check_account_finds_the_chain_through_an_intermediate(bank: Projection) -> None:
    index = LayeringIndex.build(bank)
    account = bank.nodes["Account"].index("L3")
    result = check_account(bank, account, index=index)
    assert [tuple(h.tx_id for h in c.hops) for c in result.chains] == [("TL1", "TL2", "TL3", "TL4")]
    hop = result.chains[0].hops[0]
    assert (hop.from_account, hop.to_account, hop.amount) == ("L1", "L2", 100_000.0)
    assert result.score == pytest.approx(result.chains[0].score)
    assert not result.truncated
    wide = check_account(bank, bank.nodes["Account"].index("W3"), window_hours=96, index=index)
    assert [c.typology for c in wide.chains] == ["layering_chain"]
    assert check_account(bank, bank.nodes["Account"].index("W3"), index=index).chains == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"account_index": -1}, "account_index must be in 0.."),
        ({"account_index": 10**6}, "account_index must be in 0.."),
        ({"window_hours": 0}, "window_hours must be > 0"),
        ({"window_hours": 10_000}, "≤ 720"),
        ({"max_hops": 2}, "max_hops must be in 3..12"),
        ({"max_hops": 99}, "max_hops must be in 3..12"),
        ({"min_amount": -5}, "min_amount must be a positive number"),
        ({"since_ms": 2, "until_ms": 1}, "is after until_ms"),
    ],
)
def test_check_account_argument_errors(
    bank: Projection, kwargs: dict[str, Any], message: str
) -> None:
    arguments: dict[str, Any] = {"account_index": 0, **kwargs}
    with pytest.raises(ValueError, match=message):
        check_account(bank, **arguments)


def test_params_from_the_environment() -> None:
    params = LayeringParams.from_env({"RELGRAPH_LAYERING_MAX_HOPS": "6"})
    assert params.max_hops == 6
    with pytest.raises(ConfigError):
        LayeringParams.from_env({"RELGRAPH_LAYERING_MIN_PASS_SHARE": "1.5"})
    assert LayeringParams.from_env({"RELGRAPH_LAYERING_PASS_WEIGHT": "0.2"}).pass_weight == 0.2
    # A longer chain adds up to 0.2: a weight past 0.8 would leave [0, 1].
    with pytest.raises(ConfigError, match="RELGRAPH_LAYERING_PASS_WEIGHT in"):
        LayeringParams.from_env({"RELGRAPH_LAYERING_PASS_WEIGHT": "0.9"})


@pytest.fixture(scope="module")
def small_bank(tmp_path_factory: pytest.TempPathFactory) -> Projection:
    # generate(2_000, 11), loaded once for this module and test_networks'.
    return projection_of(loaded_synthetic(tmp_path_factory, 2_000, 11)[1])


# Far looser than the defaults: hundreds of branching chains to compare, not four.
SMALL_PARAMS = LayeringParams(min_amount=100, window_hours=240, min_pass_share=0.3)


def test_reference_equals_vectorised_on_a_synthetic_bank(small_bank: Projection) -> None:
    assert _vectorised_chains(small_bank, LayeringParams()) == _reference_chains(
        small_bank, LayeringParams()
    )
    expected = _reference_chains(small_bank, SMALL_PARAMS)
    assert len(expected) >= 100
    assert _vectorised_chains(small_bank, SMALL_PARAMS) == expected
    alerts = scan(small_bank, SMALL_PARAMS, merge=False)
    scatter = np.flatnonzero(alerts.typology == "scatter_gather")
    got = {frozenset(alerts.transfers(i).tolist()) for i in scatter}
    assert got == reference.scatter_gathers(small_bank, SMALL_PARAMS)
    assert got


def test_check_account_agrees_with_the_scan(small_bank: Projection) -> None:
    networks = hidden_networks(small_bank).label
    alerts = scan(small_bank, SMALL_PARAMS, networks_label=networks)
    index = LayeringIndex.build(small_bank, SMALL_PARAMS, networks_label=networks)
    edges = small_bank.edge("Account", "TRANSFER", "Account")
    by_account: dict[int, set[tuple[int, ...]]] = {}
    chains = np.isin(alerts.typology, ["layering_chain", "cycle"])
    for i in np.flatnonzero(chains & ~alerts.facts["round_trip"].to_numpy(bool)):
        e = alerts.transfers(i)
        for a in {*edges.src[e].tolist(), *edges.dst[e].tolist()}:
            by_account.setdefault(a, set()).add(tuple(e.tolist()))
    for account, expected in by_account.items():
        result = check_account(small_bank, account, index=index)
        got = {
            tuple(result.alerts.transfers(i).tolist())
            for i in range(len(result.alerts))
            if result.alerts.typology[i] in ("layering_chain", "cycle")
            and not result.alerts.facts["round_trip"].iloc[i]
        }
        assert got == expected, account


def test_scan_on_a_bank_without_transfers(tmp_path: Path) -> None:
    bank = {"customers": [{"customer_id": "C", "source_system": "core", "name": "C", "id_number": "C"}],
            "enterprises": [{"enterprise_id": "E", "name": "E"}],
            "accounts": [{"account_id": "A", "holder_id": "C", "holder_kind": "customer", "product": "deposit"}]}  # fmt: skip
    projection = project(write_bank(tmp_path / "bank", bank), tmp_path / "data")
    alerts = scan(projection)
    assert len(alerts) == 0
    frames = alert_frames(projection, alerts)
    assert all(frame.empty for frame in frames.values())
    assert check_account(projection, 0).score == 0.0
