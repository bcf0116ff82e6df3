"""A fan of a person among strangers is evidence (analytics/layering/hubs.py,
``unrelated_persons``).

Old accounts, each in six payments with counterparties it never dealt with before, one a
day from 2 March 2026, 18,000–18,750 CNY (the same sums and times for every fan):

* ``HP``, a person's account, pays six persons' accounts — a dispersal;
* ``HS``, a person's account, pays six shops (accounts held by enterprises) — shopping;
* ``HM``, a person's account, pays three persons and three shops — half persons, under
  the four in five;
* ``FO``, a firm's account, pays six persons — a payroll has a firm at its hub;
* ``CP``, a person's account, is paid by six persons — a collection account;
* ``CF``, a shop, is paid by six persons — takings;
* ``RE``, a person's account, pays six of its holder's children at the Spring Festival,
  red envelopes of 666 and 888 (family ties: one hidden network).

Three more are paid by six, each payment no more than they received before (their *highs*:
three receipts two to three months earlier), so the fans are within their hubs' habits:

* ``KS``, a shop paid by six persons 110,250 in all (highs 30,000): the discount for a
  shop's usual takings;
* ``KP``, a person's account paid a salary of 30,000 by a firm, then paid by six strangers
  the same 110,250: no discount, a reportable sum gathered from strangers is no shop's
  business;
* ``KT``, a person's account paid a salary of 3,000, then paid by six strangers a tenth of
  those sums (11,025 in all, each under its high): the discount — a tea stall run from a
  person's account.

And ``GS``, a gather-scatter: five persons pay the person ``GH``, who pays five persons.
All persons but ``RE``'s family are strangers to each other.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from relgraph.analytics.layering import Alerts, scan
from relgraph.analytics.networks import hidden_networks
from relgraph.graph import Projection
from tests.banks import Rows, alert_of, kin_and_firms, transfer

START = datetime(2026, 3, 2, 9, 0)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
FIRMS = (
    {"FO", "CF", "KS", "KP-SALARY", "KT-SALARY"}
    | {f"HS-R{j}" for j in range(6)}
    | {f"HM-R{j}" for j in range(3, 6)}
)


def _fan(hub: str, *, paying: bool = True, scale: float = 1.0) -> Rows:
    return [
        transfer(f"{hub}-{j}", *((hub, f"{hub}-R{j}") if paying else (f"{hub}-R{j}", hub)),
                 scale * (18_000 + 150 * j), START + j * DAY)
        for j in range(6)
    ]  # fmt: skip


def _gather_scatter() -> Rows:
    into = [transfer(f"GS-in{i}", f"GS-P{i}", "GH", 20_000 + 100 * i, START + i * DAY / 8)
            for i in range(5)]  # fmt: skip
    out = [transfer(f"GS-out{j}", "GH", f"GS-R{j}", 19_000 + 50 * j, START + DAY + j * DAY / 8)
           for j in range(5)]  # fmt: skip
    return into + out


SPRING_FESTIVAL = datetime(2026, 2, 16, 20, 0)
RED_ENVELOPES: Rows = [
    transfer(f"RE-{j}", "RE", f"RE-R{j}", 666 if j % 2 else 888, SPRING_FESTIVAL + j * HOUR)
    for j in range(6)
]
# Earlier receipts: the highs of KS (30,000 from three persons), KP (a salary of 30,000)
# and KT (a salary of 3,000).
HABITS: Rows = [
    transfer(f"{hub}-H{k}", payer, hub, high, START - (90 - 10 * k) * DAY)
    for hub, high in (("KS", 30_000), ("KP", 30_000), ("KT", 3_000)) for k in range(3)
    for payer in [f"KS-C{k}" if hub == "KS" else f"{hub}-SALARY"]
]  # fmt: skip
TRANSFERS: Rows = [
    *_fan("HP"), *_fan("HS"), *_fan("HM"), *_fan("FO"),
    *_fan("CP", paying=False), *_fan("CF", paying=False), *_gather_scatter(), *RED_ENVELOPES,
    *HABITS, *_fan("KS", paying=False), *_fan("KP", paying=False),
    *_fan("KT", paying=False, scale=0.1),
]  # fmt: skip


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Projection:
    family = [{"customer_id": "CRE", "relative_id": f"CRE-R{j}", "relation": "child"}
              for j in range(6)]  # fmt: skip
    return kin_and_firms(tmp_path_factory.mktemp("persons"), TRANSFERS, FIRMS, family)


@pytest.fixture(scope="module")
def alerts(bank: Projection) -> Alerts:
    return scan(bank, networks_label=hidden_networks(bank).label)


def _reasons(alerts: Alerts, i: int) -> dict[str, dict[str, Any]]:
    return {str(r["reason"]): r for r in alerts.reasons(i)}


@pytest.mark.parametrize(("hub", "typology"), [("HP", "fan_out"), ("CP", "fan_in")])
def test_a_person_paying_or_paid_by_persons(
    bank: Projection, alerts: Alerts, hub: str, typology: str
) -> None:
    reason = _reasons(alerts, alert_of(bank, alerts, hub, typology))["unrelated_persons"]
    assert (reason["value"], reason["weight"]) == (1.0, pytest.approx(0.25))


@pytest.mark.parametrize(
    ("hub", "typology"), [("HS", "fan_out"), ("HM", "fan_out"), ("FO", "fan_out"), ("CF", "fan_in")]
)
def test_shops_around_it_or_a_firm_at_its_hub_is_no_evidence(
    bank: Projection, alerts: Alerts, hub: str, typology: str
) -> None:
    assert "unrelated_persons" not in _reasons(alerts, alert_of(bank, alerts, hub, typology))


def test_red_envelopes_to_family_are_no_evidence(bank: Projection, alerts: Alerts) -> None:
    fan = alert_of(bank, alerts, "RE", "fan_out")
    assert "unrelated_persons" not in _reasons(alerts, fan)
    assert alerts.facts["unrelated_persons"].iloc[fan] == 0.0


def test_the_share_counts_distinct_counterparties(bank: Projection, alerts: Alerts) -> None:
    facts = alerts.facts["unrelated_persons"]
    assert facts.iloc[alert_of(bank, alerts, "HM", "fan_out")] == 0.5
    # A firm's hub has no share: the fact is about persons' hubs.
    assert facts.iloc[alert_of(bank, alerts, "FO", "fan_out")] == 0.0


def test_the_same_fan_among_strangers_scores_higher(bank: Projection, alerts: Alerts) -> None:
    persons, shops = (alert_of(bank, alerts, h, "fan_out") for h in ("HP", "HS"))
    # Both paid out what never arrived: among strangers that is evidence too, and nothing
    # arrived in the month at all (funds.py: 0.3).
    strangers = ("unrelated_persons", "unfunded")
    others = {k: v["weight"] for k, v in _reasons(alerts, persons).items() if k not in strangers}
    assert others == {k: v["weight"] for k, v in _reasons(alerts, shops).items()}
    assert alerts.score[persons] == pytest.approx(1 - (1 - alerts.score[shops]) * 0.75 * 0.7)


def test_a_gather_scatter_among_strangers(bank: Projection, alerts: Alerts) -> None:
    reason = _reasons(alerts, alert_of(bank, alerts, "GS", "gather_scatter"))["unrelated_persons"]
    assert (reason["value"], reason["weight"]) == (1.0, pytest.approx(0.25))


def test_strangers_within_the_hubs_habits_are_not_ordinary(
    bank: Projection, alerts: Alerts
) -> None:
    shop = _reasons(alerts, alert_of(bank, alerts, "KS-", "fan_in"))
    assert shop["ordinary"]["weight"] == pytest.approx(-0.8)
    person = _reasons(alerts, alert_of(bank, alerts, "KP-", "fan_in"))
    assert "ordinary" not in person
    assert person["unrelated_persons"]["weight"] == pytest.approx(0.25)


def test_strangers_small_sums_within_the_hubs_habits_are_ordinary(
    bank: Projection, alerts: Alerts
) -> None:
    stall = _reasons(alerts, alert_of(bank, alerts, "KT-", "fan_in"))
    assert stall["unrelated_persons"]["weight"] == pytest.approx(0.25)
    assert stall["ordinary"]["weight"] == pytest.approx(-0.8)
