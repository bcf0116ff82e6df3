"""Round trips, routine flows, structuring, mules and relative fans on hand-made transfers.

Each story lives on its own accounts, so one bank holds them all (amounts in CNY, 2026):

* ``R1 → R2 → R3 → R4 → R1``: a round trip over 12 days, hops four days apart, amounts
  unrelated hop to hop (80,000, 23,000, 61,500, 12,345): a ``cycle`` alert.
* ``G1 → … → G1``: the same loop spread over 40 days: past the 30-day horizon, no cycle.
* ``Q1 → Q2 → Q3 → Q1``: husband, wife and son (one household) pass money round: a
  cycle closed inside one household is not an alert.
* Parent ``RP`` sends child ``RC`` 6,500 on the 1st of six months; ``RC`` pays landlord
  ``RL`` the same 6,500 on the 3rd: a rent relay, not an alert.
* ``ST1`` pays ``ST2`` 49,000 every week for nine weeks (reporting threshold 50,000):
  structuring, an alert although perfectly regular.
* Spouses ``SP1`` and ``SP2`` send each other 20,000 and 15,000 every month: no alert.
* Salary account ``SAL`` pays 40 merchants every month, the same amount each: no alert.
* Mule ``MU``, opened ten days before, receives from 25 strangers in one day and sends
  95 % on to two accounts within hours: an alert with the mule reasons.
* ``FH`` is paid by ten distinct customers every day for two months; ``FA`` is paid once
  every ten days, then by twelve strangers within six hours. A fan-in is judged against
  the account's own history: ``FH``'s days are usual (no alert), ``FA``'s burst is not.
* Shop ``SHOP`` is paid 8 times a day for 60 days, each time by a new customer (480 of
  them): a merchant-like hub, routine, never a stored fan. On day 40 it is paid by 80
  more strangers within four hours: that window is unusual for it, a fan piece of its
  own (never the shop's whole history).
* ``NP`` is paid 100,000 three times in three weeks and has never paid anyone; then it
  pays twelve strangers in eight hours: no history of paying out, so judged against its
  peers, an alert. ``DORM``, an old account silent for the scan's first four months,
  pays twelve strangers in eight hours: dormant, then a fan, judged against its peers.
* Trading firm ``TR1`` pays three suppliers 48,000–49,500 in three weeks, and pays above the
  50,000 threshold ten times besides: no threshold to avoid, so no structuring alert.
* Firms ``W1 → W2 → W3 → W1`` pay each other invoices over 12 days, each a size its payer
  pays four other suppliers too: a round trip of ordinary payments, scored down.
* Slow fan: ``SF``, opened three weeks before, is paid by eight strangers 2.5 days
  apart (no 72-hour window holds five) and sends 95 % on: a slow ``fan_in`` alert.
* Bipartite: ``LB1``–``LB3`` each pay each of ``LR1``–``LR3`` over ten days, sums none of
  them otherwise moves: a ``bipartite`` alert.
* Stack: ``LA1``, ``LA2`` pay ``LM1``, ``LM2``, which pay ``LC1``, ``LC2``: a ``stack``.
* Stack of ordinary sums: ``LOA1``, ``LOA2`` pay ``LOM1``, ``LOM2`` about 40,000 each, and
  within days the two pass 95 % on to ``LOC1``, ``LOC2``. ``LOM1`` and ``LOM2`` paid
  60,000 to four others each months before, so 38,000 is an ordinary size for them — but
  passing on what they just received is not their own spending: a ``stack`` alert whose
  middle layer passed the money on (``pass_through``), with no ordinary payment.
* Blocks judged against the past: ``LPF1``–``LPF3`` each pay ``LPG1``–``LPG3`` about
  30,000 and, two months later, pay 60,000 to four others each; ``LPP1``–``LPP3`` pay
  ``LPQ1``–``LPQ3`` the same, having paid 70,000 to four others each months before. Only
  the second block's payments were paid before (well within what their payers had paid):
  ordinary, scored down; what the first block's payers did later does not make its
  payments ordinary.
* ``K1 → K2 → K3 → K4``, every hop paid in three chunks of 95 % of one chunk before: 27
  chains by the definitions, one pattern, so one alert.
* ``CUT1`` pays ``CUT2`` 120,000 as four transfers of 30,000 within three hours (none in
  the 45,000–50,000 band, all under the 50,000 report): a split payment, structuring.
  ``CUW1`` pays ``CUW2`` 30,000 three times a week apart: no split.
* Old account ``NWH`` pays eight accounts ``NWR0``–``NWR7`` opened a week before, within
  eight hours: a fan-out through new accounts (recruited mules), ``new_accounts`` by
  their share although the hub itself is old. It pays a 45 bill to ``NWU`` in the same
  hours: not of the fan's size, not part of it.
* Tea stall ``TEA`` (a person's account) is paid 60–300 by a customer or two a week for
  three months, then by twelve customers within a day, each no more than takings it had
  a month before: an unusual fan within its habits, scored down (``ordinary``).
* Salaried ``OC1`` is paid 9,000 a month and pays bills of 200–500; then ``OCX`` pays it
  150,000, which it passes on to ``OC2`` and on to ``OC3`` within hours: a chain whose
  middle payment is outsized for its payer (``unusual_amounts``).
* Strangers ``PC1 → PC2 → PC3 → PC4`` pass 200,000 on within five hours, each keeping
  3 %: a layering chain with no evidence but its shape (hops, speed, what passed through),
  an alert. ``SC1 → SC2 → SC3 → SC4`` pass the same sums on two days apart: no alert.
* ``SG0`` pays strangers ``SGM1``–``SGM3`` 60,000 each; within three hours each pays
  55,000 on to ``SGE``: a scatter-gather with no evidence but its shape, an alert.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest

from relgraph.analytics.households import find_households
from relgraph.analytics.layering import Alerts, LayeringParams, scan
from relgraph.graph import Projection
from tests.banks import Rows, project, write_bank

START = datetime(2026, 3, 2, 10, 0)


def _tx(tx_id: str, frm: str, to: str, amount: float, when: datetime) -> dict[str, Any]:
    return {"tx_id": tx_id, "from_account": frm, "to_account": to, "amount": f"{amount:.2f}",
            "currency": "CNY", "ts": when.isoformat(timespec="seconds")}  # fmt: skip


def _loop(prefix: str, accounts: list[str], amounts: list[float], days: list[int]) -> Rows:
    ring = [*accounts, accounts[0]]
    return [
        _tx(f"{prefix}{i + 1}", ring[i], ring[i + 1], amounts[i], START + timedelta(days=days[i]))
        for i in range(len(accounts))
    ]


def _month(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute)


ROUND_TRIP = _loop("RT", ["R1", "R2", "R3", "R4"], [80_000, 23_000, 61_500, 12_345], [0, 4, 8, 12])
SLOW_LOOP = _loop("GT", ["G1", "G2", "G3", "G4"], [80_000, 23_000, 61_500, 12_345], [0, 14, 28, 40])
HOUSEHOLD_LOOP = _loop("QT", ["Q1", "Q2", "Q3"], [30_000, 20_000, 10_000], [0, 3, 7])
RENT_RELAY = [
    row
    for m in range(1, 7)
    for row in (
        _tx(f"RR{m}a", "RP", "RC", 6_500, _month(m, 1, 9)),
        _tx(f"RR{m}b", "RC", "RL", 6_500, _month(m, 3, 11)),
    )
]
STRUCTURING = [
    _tx(f"SS{w}", "ST1", "ST2", 49_000, START + timedelta(days=7 * w, hours=w % 3))
    for w in range(9)
]
SPOUSES = [
    row
    for m in range(1, 7)
    for row in (
        _tx(f"SP{m}a", "SP1", "SP2", 20_000, _month(m, 5)),
        _tx(f"SP{m}b", "SP2", "SP1", 15_000, _month(m, 20)),
    )
]
SALARY = [
    _tx(f"SA{m}_{i}", "SAL", f"MER{i}", 1_000 + 37 * i, _month(m, 25, 9, i))
    for m in range(1, 7)
    for i in range(40)
]
MULE_DAY = datetime(2026, 3, 30, 9, 0)
MULE_IN = [3_000 + 250 * i for i in range(25)]
MULE = [
    *(_tx(f"MI{i}", f"MS{i}", "MU", MULE_IN[i], MULE_DAY + timedelta(minutes=20 * i))
      for i in range(25)),
    _tx("MO1", "MU", "MX1", 0.95 * sum(MULE_IN) * 0.6, MULE_DAY + timedelta(hours=10)),
    _tx("MO2", "MU", "MX2", 0.95 * sum(MULE_IN) * 0.4, MULE_DAY + timedelta(hours=11)),
]  # fmt: skip
USUAL_FAN = [
    _tx(f"FH{d}_{k}", f"FHP{(3 * d + k) % 40}", "FH", 800 + 10 * k,
        START + timedelta(days=d, hours=k))
    for d in range(60)
    for k in range(10)
]  # fmt: skip
BURST_DAY = START + timedelta(days=45)
UNUSUAL_FAN = [
    *(_tx(f"FAu{d}", "FAP", "FA", 2_000, START + timedelta(days=10 * d)) for d in range(6)),
    *(_tx(f"FAb{k}", f"FAS{k}", "FA", 1_500 + 100 * k, BURST_DAY + timedelta(minutes=30 * k))
      for k in range(12)),
]  # fmt: skip

SHOP_SPIKE = START + timedelta(days=40, hours=2)
SHOP = [
    *(_tx(f"SHd{d}_{k}", f"SHC{8 * d + k}", "SHOP", 20 + 11 * k + d % 7,
          START + timedelta(days=d, hours=9 + k)) for d in range(60) for k in range(8)),
    *(_tx(f"SHs{k}", f"SHX{k}", "SHOP", 30 + k, SHOP_SPIKE + timedelta(minutes=3 * k))
      for k in range(80)),
]  # fmt: skip
NEVER_PAID = [
    *(_tx(f"NPi{w}", "NPF", "NP", 100_000, START + timedelta(days=7 * w)) for w in range(3)),
    *(_tx(f"NPo{k}", "NP", f"NPS{k}", 20_000 + 900 * k, START + timedelta(days=25, minutes=40 * k))
      for k in range(12)),
]  # fmt: skip
DORMANT = [
    _tx(f"DMo{k}", "DORM", f"DMS{k}", 15_000 + 700 * k, START + timedelta(days=60, minutes=40 * k))
    for k in range(12)
]

CHUNKED = [
    _tx(f"KC{hop}_{c}", f"K{hop + 1}", f"K{hop + 2}", 10_000 * 0.95**hop,
        START + timedelta(days=20, hours=hop, minutes=10 * c))
    for hop in range(3)
    for c in range(3)
]  # fmt: skip

SPLIT = [
    *(_tx(f"CUT{c}", "CUT1", "CUT2", 30_000, START + timedelta(days=70, minutes=50 * c))
      for c in range(4)),
    *(_tx(f"CUW{w}", "CUW1", "CUW2", 30_000, START + timedelta(days=70 + 7 * w)) for w in range(3)),
]  # fmt: skip

NEW_PAYEES = [
    *(_tx(f"NWo{k}", "NWH", f"NWR{k}", 9_000 + 100 * k, START + timedelta(days=80, hours=k))
      for k in range(8)),
    _tx("NWbill", "NWH", "NWU", 45, START + timedelta(days=80, hours=3, minutes=30)),
]  # fmt: skip
TEA_DAY = START + timedelta(days=95)
TEA = [
    *(_tx(f"TEw{w}", f"TEC{w % 9}", "TEA", 60 + 27 * (w % 9), START + timedelta(days=7 * w))
      for w in range(13)),
    *(_tx(f"TEb{k}", f"TEN{k}", "TEA", 70 + 15 * k, TEA_DAY + timedelta(hours=2 * k))
      for k in range(12)),
]  # fmt: skip
OUTSIZED_DAY = START + timedelta(days=100)
OUTSIZED_CHAIN = [
    *(_tx(f"OCs{m}", "OCE", "OC1", 9_000, START + timedelta(days=30 * m)) for m in range(4)),
    *(_tx(f"OCb{m}", "OC1", f"OCB{m % 2}", 200 + 100 * m, START + timedelta(days=30 * m + 2))
      for m in range(4)),
    _tx("OCh1", "OCX", "OC1", 150_000, OUTSIZED_DAY),
    _tx("OCh2", "OC1", "OC2", 140_000, OUTSIZED_DAY + timedelta(hours=3)),
    _tx("OCh3", "OC2", "OC3", 130_000, OUTSIZED_DAY + timedelta(hours=5)),
]  # fmt: skip

TRADER = [
    *(_tx(f"TB{i}", "TR1", f"TRS{i}", 48_000 + 500 * i, START + timedelta(days=7 * i))
      for i in range(3)),
    *(_tx(f"TA{i}", "TR1", f"TRB{i}", 60_000 + 9_000 * i, START + timedelta(days=3 * i, hours=5))
      for i in range(10)),
]  # fmt: skip
TRADE_LOOP = [
    *_loop("WT", ["W1", "W2", "W3"], [80_000, 70_000, 90_000], [0, 5, 12]),
    *(_tx(f"WS{w}_{i}", f"W{w}", f"WSUP{w}_{i}", 100_000 + 1_000 * i,
          START + timedelta(days=15 + 8 * i)) for w in (1, 2, 3) for i in range(4)),
]  # fmt: skip

SLOW_DAY = START + timedelta(days=30)
SLOW_FAN = [
    *(_tx(f"SFI{k}", f"SFS{k}", "SF", 20_000 + 1_000 * k, SLOW_DAY + timedelta(hours=60 * k))
      for k in range(8)),
    _tx("SFO1", "SF", "SFX", 0.95 * sum(20_000 + 1_000 * k for k in range(8)),
        SLOW_DAY + timedelta(days=19)),
]  # fmt: skip
BIPARTITE = [
    _tx(f"LB{i}{j}", f"LB{i}", f"LR{j}", 30_000 + 1_000 * (3 * i + j),
        START + timedelta(days=50 + 3 * i + j // 2, hours=j))
    for i in range(1, 4)
    for j in range(1, 4)
]  # fmt: skip
STACK = [
    *(_tx(f"LSa{i}{j}", f"LA{i}", f"LM{j}", 40_000 + 1_000 * (2 * i + j),
          START + timedelta(days=55 + i, hours=j)) for i in (1, 2) for j in (1, 2)),
    *(_tx(f"LSb{i}{j}", f"LM{i}", f"LC{j}", 38_000 + 1_000 * (2 * i + j),
          START + timedelta(days=59 + i, hours=j)) for i in (1, 2) for j in (1, 2)),
]  # fmt: skip
ORDINARY_STACK = [
    *(_tx(f"LOh{i}{k}", f"LOM{i}", f"LOX{i}{k}", 60_000, START + timedelta(days=5 + 9 * k))
      for i in (1, 2) for k in range(4)),
    *(_tx(f"LOa{i}{j}", f"LOA{i}", f"LOM{j}", 40_000 + 1_000 * (2 * i + j),
          START + timedelta(days=80 + i, hours=j)) for i in (1, 2) for j in (1, 2)),
    *(_tx(f"LOb{i}{j}", f"LOM{i}", f"LOC{j}", 0.95 * (40_000 + 1_000 * (2 * j + i)),
          START + timedelta(days=83 + i, hours=j)) for i in (1, 2) for j in (1, 2)),
]  # fmt: skip
PAST_BLOCKS = [
    *(_tx(f"LPh{side}{i}{k}", f"LP{side}{i}", f"LPX{side}{i}{k}", amount,
          START + timedelta(days=day + 10 * k))
      for side, amount, day in (("F", 60_000, 160), ("P", 70_000, 5))
      for i in range(1, 4) for k in range(4)),
    *(_tx(f"LP{side.lower()}{i}{j}", f"LP{side}{i}", f"LP{recv}{j}", 30_000 + 200 * (3 * i + j),
          START + timedelta(days=100 + i, hours=j))
      for side, recv in (("F", "G"), ("P", "Q")) for i in range(1, 4) for j in range(1, 4)),
]  # fmt: skip
PASSED_ON = [
    _tx(f"{p}h{k + 1}", f"{p}{k + 1}", f"{p}{k + 2}", 200_000 * 0.97**k,
        START + timedelta(days=140, hours=hours * k))
    for p, hours in (("PC", 2), ("SC", 44)) for k in range(3)
]  # fmt: skip
SCATTERED = [
    *(_tx(f"SGs{k}", "SG0", f"SGM{k}", 60_000, START + timedelta(days=150)) for k in (1, 2, 3)),
    *(_tx(f"SGg{k}", f"SGM{k}", "SGE", 55_000, START + timedelta(days=150, hours=k))
      for k in (1, 2, 3)),
]  # fmt: skip

TRANSFERS: Rows = [
    *ROUND_TRIP, *SLOW_LOOP, *HOUSEHOLD_LOOP, *RENT_RELAY, *STRUCTURING, *SPOUSES, *SALARY,
    *MULE, *USUAL_FAN, *UNUSUAL_FAN, *CHUNKED, *TRADER, *TRADE_LOOP, *SLOW_FAN, *BIPARTITE,
    *STACK, *ORDINARY_STACK, *PAST_BLOCKS, *SHOP, *NEVER_PAID, *DORMANT, *SPLIT, *NEW_PAYEES, *TEA, *OUTSIZED_CHAIN,
    *PASSED_ON, *SCATTERED,
]  # fmt: skip

ACCOUNT_IDS = sorted({t[k] for t in TRANSFERS for k in ("from_account", "to_account")})
# Shops, the traders and their suppliers: accounts held by enterprises. (The trader as a
# person paying thirteen persons 1.1 million in four weeks, nothing arriving, is a fan-out
# among strangers that alerts: funds.py.)
MERCHANTS = {a for a in ACCOUNT_IDS if a.startswith(("MER", "W", "TR"))}
OPENED = {"MU": "2026-03-20", "SF": "2026-03-10"} | {f"NWR{k}": "2026-05-14" for k in range(8)}
ADDRESS = {"CQ1": "5 Lotus Rd", "CQ2": "5 Lotus Road", "CQ3": "5 lotus rd."}

BANK: dict[str, Rows] = {
    "customers": [
        {"customer_id": f"C{a}", "source_system": "core", "name": f"Person {a}",
         "id_number": f"C{a}", "address": ADDRESS.get(f"C{a}", f"{i} Elm St")}
        for i, a in enumerate(ACCOUNT_IDS)
        if a not in MERCHANTS
    ],
    "enterprises": [{"enterprise_id": f"E{a}", "name": f"Shop {a}"} for a in sorted(MERCHANTS)],
    "accounts": [
        {"account_id": a, "holder_id": f"E{a}" if a in MERCHANTS else f"C{a}",
         "holder_kind": "enterprise" if a in MERCHANTS else "customer", "product": "deposit",
         "opened_at": OPENED.get(a, "2015-01-01")}
        for a in ACCOUNT_IDS
    ],
    "family": [
        {"customer_id": "CQ1", "relative_id": "CQ2", "relation": "spouse"},
        {"customer_id": "CQ1", "relative_id": "CQ3", "relation": "parent"},
        {"customer_id": "CSP1", "relative_id": "CSP2", "relation": "spouse"},
    ],
    "transfers": TRANSFERS,
}  # fmt: skip


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Projection:
    root = tmp_path_factory.mktemp("aml")
    return project(write_bank(root / "bank", BANK), root / "data")


@pytest.fixture(scope="module")
def alerts(bank: Projection) -> Alerts:
    return scan(bank, households_label=find_households(bank).label)


def _tx_ids(bank: Projection, alerts: Alerts, i: int) -> set[str]:
    ids = bank.edge("Account", "TRANSFER", "Account").attrs["tx_id"].to_numpy(object)
    return {str(x) for x in ids[alerts.transfers(i)]}


def _touching(bank: Projection, alerts: Alerts, prefix: str, above: bool = True) -> list[int]:
    """Alerts (at or above the threshold unless ``above`` is False) holding a transfer
    whose id starts with ``prefix``."""
    threshold = alerts.params.score_threshold if above else -1.0
    return [
        i
        for i in range(len(alerts))
        if alerts.score[i] >= threshold
        and any(t.startswith(prefix) for t in _tx_ids(bank, alerts, i))
    ]


def _one(bank: Projection, alerts: Alerts, prefix: str, typology: str) -> int:
    """The one alert of ``typology``, at any score, holding a transfer whose id starts
    with ``prefix``."""
    found = [i for i in _touching(bank, alerts, prefix, above=False)
             if alerts.typology[i] == typology]  # fmt: skip
    assert len(found) == 1
    return found[0]


def _reasons(alerts: Alerts, i: int) -> dict[str, dict[str, Any]]:
    return {str(r["reason"]): r for r in alerts.reasons(i)}


def test_a_slow_round_trip_with_unrelated_amounts_is_a_cycle(
    bank: Projection, alerts: Alerts
) -> None:
    found = _touching(bank, alerts, "RT")
    assert [str(alerts.typology[i]) for i in found] == ["cycle"]
    assert _tx_ids(bank, alerts, found[0]) == {"RT1", "RT2", "RT3", "RT4"}
    reasons = _reasons(alerts, found[0])
    assert reasons["round_trip"]["value"] == "same_account"
    assert reasons["hops"]["value"] == 4


def test_a_round_trip_past_the_horizon_is_not_found(bank: Projection, alerts: Alerts) -> None:
    assert not [i for i in _touching(bank, alerts, "GT", above=False)
                if alerts.typology[i] == "cycle"]  # fmt: skip
    wider = scan(bank, LayeringParams(cycle_horizon_days=45))
    assert [str(wider.typology[i]) for i in _touching(bank, wider, "GT")] == ["cycle"]


def test_a_round_trip_inside_one_household_is_not_an_alert(
    bank: Projection, alerts: Alerts
) -> None:
    assert _touching(bank, alerts, "QT") == []
    # Without the household labels the three are strangers, and the loop is a round trip.
    strangers = scan(bank)
    assert [str(strangers.typology[i]) for i in _touching(bank, strangers, "QT")] == ["cycle"]


def test_a_monthly_rent_relay_is_not_an_alert(bank: Projection, alerts: Alerts) -> None:
    assert _touching(bank, alerts, "RR") == []


def test_spouse_transfers_are_not_an_alert(bank: Projection, alerts: Alerts) -> None:
    assert _touching(bank, alerts, "SP") == []


def test_a_salary_account_paying_merchants_monthly_is_not_an_alert(
    bank: Projection, alerts: Alerts
) -> None:
    assert _touching(bank, alerts, "SA") == []
    low = _touching(bank, alerts, "SA", above=False)
    assert low, "the monthly fan-out is still scored, under the threshold"
    assert all("routine" in _reasons(alerts, i) for i in low)
    assert all(_reasons(alerts, i)["routine"]["weight"] < 0 for i in low)


def test_regular_structuring_alerts(bank: Projection, alerts: Alerts) -> None:
    found = _touching(bank, alerts, "SS")
    assert [str(alerts.typology[i]) for i in found] == ["structuring"]
    assert _tx_ids(bank, alerts, found[0]) == {f"SS{w}" for w in range(9)}
    assert _reasons(alerts, found[0])["structuring"]["value"] == 9
    # Under a lower reporting threshold 49,000 is no longer just below it.
    assert _touching(bank, scan(bank, LayeringParams(reporting_threshold=40_000)), "SS") == []


def test_a_new_pass_through_account_is_a_mule(bank: Projection, alerts: Alerts) -> None:
    found = _touching(bank, alerts, "MI")
    assert found
    reasons = _reasons(alerts, found[0])
    assert {"new_accounts", "pass_through", "fan_excess"} <= set(reasons)
    assert reasons["pass_through"]["value"] == pytest.approx(0.95, abs=0.01)


def test_a_fan_in_is_judged_against_the_account_history(bank: Projection, alerts: Alerts) -> None:
    assert _touching(bank, alerts, "FH") == []
    burst = _touching(bank, alerts, "FAb")
    assert [str(alerts.typology[i]) for i in burst] == ["fan_in"]
    assert _tx_ids(bank, alerts, burst[0]) >= {f"FAb{k}" for k in range(12)}
    assert _reasons(alerts, burst[0])["fan_excess"]["value"] > 4


def test_a_merchant_like_hub_is_routine_and_its_unusual_window_is_bounded(
    bank: Projection, alerts: Alerts
) -> None:
    # Its ordinary days are never stored: only the spike's window is a fan.
    fan = _one(bank, alerts, "SH", "fan_in")
    held = _tx_ids(bank, alerts, fan)
    assert held >= {f"SHs{k}" for k in range(80)}
    assert len(held) < 80 + 3 * 3 * 8, "at most three 72-hour windows of its takings"
    assert _reasons(alerts, fan)["fan_excess"]["value"] > alerts.params.fan_excess_ratio
    # Without the spike the shop is a steady hub: no fan is stored at all.
    quiet = [i for i in range(len(alerts)) if alerts.typology[i] == "fan_in"
             and _tx_ids(bank, alerts, i) & {f"SHd{d}_0" for d in range(30)}]  # fmt: skip
    assert quiet == []
    # The same days as the hub's usual at 72 hours are FH's too: nothing stored there.
    assert [i for i in _touching(bank, alerts, "FH", above=False)
            if alerts.typology[i] == "fan_in"] == []  # fmt: skip


def test_every_stored_fan_spans_at_most_three_windows(bank: Projection, alerts: Alerts) -> None:
    ts = bank.edge("Account", "TRANSFER", "Account").attrs["ts"].to_numpy()
    p = alerts.params
    for i in range(len(alerts)):
        if alerts.typology[i] in ("fan_in", "fan_out"):
            span = int(np.ptp(ts[alerts.transfers(i)]))
            # A fast piece within a slow one: the slow scale bounds the merged alert.
            assert span < 3 * p.horizon_ms + 3 * p.window_ms


def test_a_fan_from_an_account_that_never_paid_out_is_judged_against_its_peers(
    bank: Projection, alerts: Alerts
) -> None:
    found = _touching(bank, alerts, "NPo")
    assert [str(alerts.typology[i]) for i in found] == ["fan_out"]
    assert _tx_ids(bank, alerts, found[0]) >= {f"NPo{k}" for k in range(12)}
    # Well past twice the usual (its peers': a couple of payees per 72 hours).
    assert _reasons(alerts, found[0])["fan_excess"]["value"] > 2 * alerts.params.fan_excess_ratio


def test_a_dormant_account_paying_strangers_is_judged_against_its_peers(
    bank: Projection, alerts: Alerts
) -> None:
    found = _touching(bank, alerts, "DMo")
    assert [str(alerts.typology[i]) for i in found] == ["fan_out"]
    assert _reasons(alerts, found[0])["fan_excess"]["value"] > 2 * alerts.params.fan_excess_ratio


def test_an_unusual_fans_size_is_evidence_and_a_usual_ones_is_not(
    bank: Projection, alerts: Alerts
) -> None:
    mule = _reasons(alerts, _touching(bank, alerts, "MI")[0])
    # 25 strangers: 0.1 + 0.05 per payer past five (at most +0.25), as far as unusual.
    unusual = mule["fan_excess"]["weight"] / 0.45
    assert 0 < unusual <= 1
    assert mule["hops"]["weight"] == pytest.approx(0.1 + 0.25 * unusual, abs=1e-3)
    # The payroll's 40 payees are its monthly business: size adds nothing.
    for i in _touching(bank, alerts, "SA", above=False):
        assert _reasons(alerts, i)["hops"]["weight"] == pytest.approx(0.1)


def test_scores_are_probabilities(alerts: Alerts) -> None:
    assert len(alerts) > 0
    assert np.all((alerts.score >= 0) & (alerts.score <= 1))


def test_the_caps_say_when_they_cut_the_round_trip_search(bank: Projection, alerts: Alerts) -> None:
    assert alerts.truncations["cycle"] >= 0
    short = scan(bank, LayeringParams(cycle_max_hops=3))
    # The four-hop round trip is past a three-hop cap: not found, and the cut is counted.
    assert not [i for i in _touching(bank, short, "RT", above=False)
                if short.typology[i] == "cycle"]  # fmt: skip
    assert short.truncations["cycle"] > alerts.truncations["cycle"]


def test_a_chain_paid_in_chunks_is_one_alert(bank: Projection, alerts: Alerts) -> None:
    households = find_households(bank).label
    per_chain = scan(bank, households_label=households, merge=False)
    chains = _touching(bank, per_chain, "KC", above=False)
    assert len(chains) == 27  # 3 chunks to choose at each of 3 hops
    merged = _touching(bank, alerts, "KC", above=False)
    assert [str(alerts.typology[i]) for i in merged] == ["layering_chain"]
    assert _tx_ids(bank, alerts, merged[0]) == {f"KC{h}_{c}" for h in range(3) for c in range(3)}
    # The best chain's score, and the union of the chains' reasons.
    assert alerts.score[merged[0]] == pytest.approx(max(per_chain.score[i] for i in chains))
    union = {r for i in chains for r in _reasons(per_chain, i)}
    assert set(_reasons(alerts, merged[0])) == union
    # Transfers listed in time order.
    ts = bank.edge("Account", "TRANSFER", "Account").attrs["ts"].to_numpy()
    assert np.all(np.diff(ts[alerts.transfers(merged[0])]) >= 0)


def test_a_payment_split_under_the_reporting_threshold_is_structuring(
    bank: Projection, alerts: Alerts
) -> None:
    found = _touching(bank, alerts, "CUT")
    assert [str(alerts.typology[i]) for i in found] == ["structuring"]
    assert _tx_ids(bank, alerts, found[0]) == {f"CUT{c}" for c in range(4)}
    assert _reasons(alerts, found[0])["structuring"]["value"] == 4
    # The same pieces a week apart are three payments, not one split.
    assert _touching(bank, alerts, "CUW", above=False) == []
    # Under a reporting threshold the pieces do not add up to, nothing was avoided.
    high = scan(bank, LayeringParams(reporting_threshold=150_000))
    assert _touching(bank, high, "CUT", above=False) == []


def test_a_fan_through_new_accounts_counts_them_by_their_share(
    bank: Projection, alerts: Alerts
) -> None:
    fan = _one(bank, alerts, "NWo", "fan_out")
    reasons = _reasons(alerts, fan)
    assert reasons["new_accounts"]["value"] == 8
    assert reasons["new_accounts"]["weight"] == pytest.approx(0.6 * 8 / 9, abs=1e-3)
    # The hub's 45 bill in the same hours is not of the fan's size: not part of it.
    assert "NWbill" not in _tx_ids(bank, alerts, fan)
    # The payroll pays long-open merchant accounts: no new accounts.
    for i in _touching(bank, alerts, "SA", above=False):
        assert "new_accounts" not in _reasons(alerts, i)


def test_an_account_that_crosses_the_threshold_freely_is_not_structuring(
    bank: Projection, alerts: Alerts
) -> None:
    assert _touching(bank, alerts, "TB") == []
    low = [i for i in _touching(bank, alerts, "TB", above=False)
           if alerts.typology[i] == "structuring"]  # fmt: skip
    assert low, "the run is still found, scored by how far its payer avoids the threshold"
    assert _reasons(alerts, low[0])["structuring"]["weight"] < 0.2


def test_a_round_trip_of_ordinary_invoices_is_scored_down(bank: Projection, alerts: Alerts) -> None:
    assert _touching(bank, alerts, "WT") == []
    loop = _one(bank, alerts, "WT", "cycle")
    ordinary = _reasons(alerts, loop)["ordinary"]
    assert ordinary["value"] == 1.0
    assert ordinary["weight"] < 0
    # Without the discount the loop is an alert: the ordinary payments are what lowered it.
    undiscounted = scan(bank, LayeringParams(ordinary_weight=0.0),
                        households_label=find_households(bank).label)  # fmt: skip
    assert [str(undiscounted.typology[i]) for i in _touching(bank, undiscounted, "WT")] == ["cycle"]


def test_a_slow_fan_in_to_a_new_account_is_an_alert(bank: Projection, alerts: Alerts) -> None:
    found = _touching(bank, alerts, "SFI")
    assert [str(alerts.typology[i]) for i in found] == ["fan_in"]
    assert _tx_ids(bank, alerts, found[0]) >= {f"SFI{k}" for k in range(8)}
    assert {"fan_excess", "pass_through"} <= set(_reasons(alerts, found[0]))
    # With slow fans cut to the 72-hour window nothing is dense enough.
    fast = scan(bank, LayeringParams(cycle_horizon_days=3))
    assert _touching(bank, fast, "SFI") == []


def test_senders_paying_the_same_receivers_are_a_bipartite_block(
    bank: Projection, alerts: Alerts
) -> None:
    found = _touching(bank, alerts, "LB")
    assert [str(alerts.typology[i]) for i in found] == ["bipartite"]
    assert _tx_ids(bank, alerts, found[0]) == {
        f"LB{i}{j}" for i in range(1, 4) for j in range(1, 4)
    }
    assert _reasons(alerts, found[0])["unusual_amounts"]["value"] == 1.0


def test_layers_passing_to_the_next_layer_are_a_stack(bank: Projection, alerts: Alerts) -> None:
    found = _touching(bank, alerts, "LS")
    stacks = [i for i in found if alerts.typology[i] == "stack"]
    assert len(stacks) == 1
    expected = {f"LS{x}{i}{j}" for x in "ab" for i in (1, 2) for j in (1, 2)}
    assert _tx_ids(bank, alerts, stacks[0]) == expected


def test_a_middle_layer_passing_on_ordinary_sums_is_still_a_stack(
    bank: Projection, alerts: Alerts
) -> None:
    stacks = [i for i in _touching(bank, alerts, "LOb") if alerts.typology[i] == "stack"]
    assert len(stacks) == 1
    assert _tx_ids(bank, alerts, stacks[0]) == {
        f"LO{x}{i}{j}" for x in "ab" for i in (1, 2) for j in (1, 2)
    }
    reasons = _reasons(alerts, stacks[0])
    # LOM1 and LOM2 passed on 95 % of what they received, after receiving it.
    assert reasons["pass_through"]["value"] == pytest.approx(0.95, abs=1e-3)
    assert reasons["pass_through"]["weight"] == pytest.approx(0.3 * 0.95, abs=1e-3)
    # 38,000 is within their usual 60,000s, but passing money on is not their spending.
    assert "ordinary" not in reasons or reasons["ordinary"]["value"] == 0


def test_a_blocks_payments_are_judged_against_what_their_payers_paid_before(
    bank: Projection, alerts: Alerts
) -> None:
    later, before = (
        [i for i in _touching(bank, alerts, prefix, above=False)
         if alerts.typology[i] == "bipartite"]
        for prefix in ("LPf", "LPp")
    )  # fmt: skip
    assert len(later) == 1
    assert len(before) == 1
    assert _tx_ids(bank, alerts, later[0]) == {f"LPf{i}{j}" for i in (1, 2, 3) for j in (1, 2, 3)}
    # Paying 60,000 later does not make the earlier 30,000s usual for their payers…
    assert "ordinary" not in _reasons(alerts, later[0])
    # …having paid 70,000 four times before does: ordinary, scored down.
    assert _reasons(alerts, before[0])["ordinary"]["value"] == 1.0
    assert alerts.score[before[0]] < alerts.score[later[0]]


def test_a_fan_within_its_hubs_habits_is_scored_down(bank: Projection, alerts: Alerts) -> None:
    assert _touching(bank, alerts, "TEb") == []
    fan = _one(bank, alerts, "TEb", "fan_in")
    reasons = _reasons(alerts, fan)
    assert reasons["fan_excess"]["weight"] > 0  # twelve payers in a day is unusual for it…
    assert reasons["ordinary"]["value"] == 1.0  # …but each paid what it had taken before
    evidence = 1 - np.prod([1 - r["weight"] for r in reasons.values() if r["weight"] > 0])
    assert evidence >= 0.5  # an alert but for its habits
    assert alerts.score[fan] == pytest.approx(evidence * (1 - 0.8), abs=1e-6)


def test_an_outsized_payment_in_a_chain_is_evidence(bank: Projection, alerts: Alerts) -> None:
    chain = _one(bank, alerts, "OCh", "layering_chain")
    assert _tx_ids(bank, alerts, chain) == {"OCh1", "OCh2", "OCh3"}
    unusual = _reasons(alerts, chain)["unusual_amounts"]
    # OC1's 140,000 is far above the bills it paid; OCX and OC2 have no history to judge.
    assert unusual["value"] == pytest.approx(1 / 3, abs=1e-4)
    assert unusual["weight"] == pytest.approx(0.3 / 3, abs=1e-3)


@pytest.mark.parametrize(
    ("prefix", "typology", "held", "weights", "alert"),
    [
        # Three hops within five hours, 6 % kept end to end: an alert on its shape alone.
        ("PCh", "layering_chain", {"PCh1", "PCh2", "PCh3"},
         {"hops": 0.3, "speed": 0.25, "retained": 0.1}, True),
        # The same two days per hop: no speed, no alert.
        ("SCh", "layering_chain", {"SCh1", "SCh2", "SCh3"}, {"hops": 0.3, "retained": 0.1},
         False),
        # Three middles; speed from half the episode's three hours; 180,000 in, 165,000 on.
        ("SG", "scatter_gather", {f"SG{x}{k}" for x in "sg" for k in (1, 2, 3)},
         {"hops": 0.3, "speed": 0.25, "retained": 0.1}, True),
    ],
)  # fmt: skip
def test_patterns_that_pass_money_on_weigh_it(
    bank: Projection,
    alerts: Alerts,
    prefix: str,
    typology: str,
    held: set[str],
    weights: dict[str, float],
    alert: bool,
) -> None:
    i = _one(bank, alerts, prefix, typology)
    assert _tx_ids(bank, alerts, i) == held
    given = {name: r["weight"] for name, r in _reasons(alerts, i).items() if r["weight"] != 0}
    assert given == pytest.approx(weights)  # pass_weight: 0.3 at three hops or middles
    score = 1 - np.prod([1 - w for w in weights.values()])
    assert alerts.score[i] == pytest.approx(score, abs=1e-6)
    assert bool(alerts.score[i] >= alerts.params.score_threshold) is alert
