"""Attack: a campaign key tries to learn who an audience left out for risk.

The bank is the hand-made one of ``tests/analytics/test_audience.py``: in the audience,
Zhao Mei is left out for a layering alert, Sun Li for her hidden network, and Wang Xiao
because he refused marketing. A campaign key may see who is not on a contact list (that
is what a contact list is), but not which of them was left out for risk: telling them
apart would be tipping-off.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from relgraph.analytics.audience import Criteria, campaign_audience
from relgraph.api.auth import Role
from relgraph.api.readmodel import ReadModel, build_read_model
from relgraph.graph import build_projection
from relgraph.ingest import load_directory
from relgraph.jobs.analyze import analyze
from relgraph.store.embedded import EmbeddedStore
from tests.analytics.test_audience import BANK
from tests.banks import write_bank

from .conftest import run
from .privacy_walk import walk

AUDIENCE = """query ($criteria: AudienceCriteria!) { campaignAudience(criteria: $criteria) {
    totalCount edges { node { unitId size contacts leftOut qualifiedBecause } } } }"""
MEMBERS = """query ($id: ID!) { household(id: $id) { size members { id } } }"""


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReadModel, dict[str, str]]:
    """The served bank and customer id → person id."""
    folder: Path = tmp_path_factory.mktemp("lake")
    source = write_bank(folder / "bank", BANK)
    with EmbeddedStore(folder / "data") as store:
        load_directory(source, store, folder / "data")
        analyze(store, build_projection(store))
        model = build_read_model(store)
        records = store.read_frame("customers", ["customer_id", "person_id"])
    return model, dict(zip(records["customer_id"], records["person_id"], strict=True))


def _ok(result: Any) -> Any:
    assert result.errors is None, result.errors
    return result.data


def _refused(result: Any) -> bool:
    return result.errors is not None and all(
        e.message.startswith("Permission denied: role 'campaign'") for e in result.errors
    )


def _risk_truth(model: ReadModel, role: Role, persons: set[str]) -> set[str]:
    """Who the risk team knows to be risky: an alert of their own, or in their network."""
    query = """query ($id: ID!) { customer(id: $id) { riskFlags network { id } } }"""
    flagged, networked = set(), set()
    for person in persons:
        data = _ok(run(query, model, role, id=person))["customer"]
        if any(f.startswith("layering_alert:") for f in data["riskFlags"]):
            flagged.add(person)
        if data["network"]:
            networked.add(person)
    truth = set(flagged)
    for person in networked:
        net = _ok(
            run(
                """query ($id: ID!) { hiddenNetwork(customerId: $id) {
                    members { id riskFlags } } }""",
                model,
                role,
                id=person,
            )
        )["hiddenNetwork"]
        if any(f.startswith("layering_alert:") for m in net["members"] for f in m["riskFlags"]):
            truth.add(person)
    return truth


def _not_contacted(model: ReadModel, role: Role) -> tuple[set[str], set[str]]:
    """Everyone in an audience household, and those of them on no contact list."""
    entries = _ok(run(AUDIENCE, model, role, criteria={"unit": "HOUSEHOLD"}))
    members, contacts = set(), set()
    for edge in entries["campaignAudience"]["edges"]:
        node = edge["node"]
        household = _ok(run(MEMBERS, model, role, id=node["unitId"]))["household"]
        members |= {m["id"] for m in household["members"]}
        contacts |= set(node["contacts"])
    return members, members - contacts


def test_the_attack_that_works_with_consent_in_hand(lake: tuple[ReadModel, dict[str, str]]) -> None:
    """Analysts see consent: subtracting it from the left-out members gives the risk set.
    (Analysts may see risk; this shows the attack is sound and the truth not empty.)"""
    model, person_of = lake
    members, left_out = _not_contacted(model, Role.ANALYST)
    refused = {
        p
        for p in left_out
        if _ok(run("query ($id: ID!) { customer(id: $id) { consentMarketing } }", model,
                   Role.ANALYST, id=p))["customer"]["consentMarketing"] is not True
    }  # fmt: skip
    truth = _risk_truth(model, Role.RISK, members)
    assert truth == {person_of["ZHAO2"], person_of["SUN1"]}
    assert left_out - refused == truth


def test_a_campaign_key_cannot_separate_risk_from_refusal(
    lake: tuple[ReadModel, dict[str, str]],
) -> None:
    model, person_of = lake
    members, left_out = _not_contacted(model, Role.CAMPAIGN)
    truth = _risk_truth(model, Role.RISK, members)
    assert truth

    # Every channel that would split the left-out members by reason is refused.
    one = next(iter(left_out))
    for field in ("consentMarketing", "riskFlags", "riskRating", "network { id }"):
        query = f'{{ customer(id: "{one}") {{ id {field} }} }}'
        assert _refused(run(query, model, Role.CAMPAIGN)), field
    household = {"unit": "HOUSEHOLD"}
    split = AUDIENCE.replace("leftOut", "leftOut excluded { reason count }")
    assert _refused(run(split, model, Role.CAMPAIGN, criteria=household))
    assert _refused(run(AUDIENCE, model, Role.CAMPAIGN, criteria=household | {"riskCeiling": 1}))
    assert _refused(run(f'{{ hiddenNetwork(customerId: "{one}") {{ id }} }}', model, Role.CAMPAIGN))

    # Narrowing the audience to one household at a time gives counts, never reasons.
    inferred = set(left_out)
    for lo, hi in ((1, 1), (2, 2), (3, 3)):
        narrow = household | {"minSize": lo, "maxSize": hi}
        for edge in _ok(run(AUDIENCE, model, Role.CAMPAIGN, criteria=narrow))["campaignAudience"][
            "edges"
        ]:
            node = edge["node"]
            assert node["leftOut"] == node["size"] - len(node["contacts"])
    # The attacker's best answer is everyone left out, which is not the risk set.
    assert person_of["WANG2"] in inferred
    assert inferred != truth
    assert truth < inferred


def _swapped(model: ReadModel, risky: int, refusing: int) -> ReadModel:
    """The same bank, but ``risky`` refused marketing instead and ``refusing`` is risky."""
    parties = model.audience.parties
    risk, network, consent = (
        parties.risk.copy(),
        parties.network_risk.copy(),
        parties.consent.copy(),
    )
    risk[refusing], network[refusing], consent[refusing] = 1.0, 1.0, True
    risk[risky], network[risky], consent[risky] = 0.0, 0.0, False
    other = copy.copy(model)
    other.audience = dataclasses.replace(
        model.audience,
        parties=dataclasses.replace(parties, risk=risk, network_risk=network, consent=consent),
    )
    person = dict(model.person)
    person["consent_marketing"] = np.array(person["consent_marketing"], dtype=object)
    person["consent_marketing"][model.person_index[model.audience.parties.ids[refusing]]] = True
    person["consent_marketing"][model.person_index[model.audience.parties.ids[risky]]] = False
    other.person = person
    return other


def _left_out_for_risk(model: ReadModel) -> set[str]:
    audience = campaign_audience(model.audience, Criteria("HOUSEHOLD"))
    ids = model.audience.parties.ids
    return {str(ids[i]) for i in np.flatnonzero(np.isin(audience.reason, (1, 2)))}


def test_two_banks_that_differ_only_in_who_is_risky_look_the_same_to_campaign(
    lake: tuple[ReadModel, dict[str, str]],
) -> None:
    """Zhao Mei risky and Wang Xiao refusing, or the other way round: every answer a
    campaign key can get is the same in both banks, so no attack can tell who is risky."""
    model, person_of = lake
    ids = list(model.audience.parties.ids)
    swapped = _swapped(model, ids.index(person_of["ZHAO2"]), ids.index(person_of["WANG2"]))
    assert _left_out_for_risk(model) != _left_out_for_risk(swapped)

    households = sorted(set(model.results.household_of.values()))
    criteria = [
        "{unit: HOUSEHOLD}",
        *(f"{{unit: HOUSEHOLD, minSize: {n}, maxSize: {n}}}" for n in (1, 2, 3)),
        *(f"{{unit: HOUSEHOLD, minTotalAum: {a}}}" for a in (100000, 200000, 600000, 900000)),
        "{unit: HOUSEHOLD, lacksProducts: [loan], orderBy: SIZE_DESC}",
        "{unit: HOUSEHOLD, hasProducts: [deposit]}",
        '{unit: HOUSEHOLD, notContactedWithinDays: 30, asOf: "2026-06-20"}',
        "{unit: HOUSEHOLD, riskCeiling: 0.99}",
        "{unit: CORPORATE_GROUP}",
    ]
    calls = [
        *(("customer", f'(id: "{p}")') for p in sorted(person_of.values())),
        *(("household", f'(id: "{h}")') for h in households),
        ("households", "(first: 100)"),
        ("influencers", "(first: 100)"),
        ("corporateGroups", "(first: 100)"),
        *(("campaignAudience", f"(criteria: {c}, first: 100)") for c in criteria),
        *(("hiddenNetwork", f'(customerId: "{p}")') for p in sorted(person_of.values())),
    ]
    assert walk(model, Role.CAMPAIGN, calls).text == walk(swapped, Role.CAMPAIGN, calls).text
    # An analyst, who may see reasons, does tell the two banks apart: the walk can differ.
    assert walk(model, Role.ANALYST, calls).text != walk(swapped, Role.ANALYST, calls).text


@pytest.mark.parametrize("role", [Role.ANALYST, Role.ADMIN, Role.CAMPAIGN])
def test_risk_ceiling_cannot_be_binary_searched_by_campaign_keys(
    lake: tuple[ReadModel, dict[str, str]], role: Role
) -> None:
    model = lake[0]
    answers = [
        run(AUDIENCE, model, role, criteria={"unit": "HOUSEHOLD", "riskCeiling": ceiling})
        for ceiling in (0.25, 0.5, 0.75, 1.0)
    ]
    if role is Role.CAMPAIGN:
        for answer in answers:
            assert answer.errors is not None
            assert answer.errors[0].message == (
                "Permission denied: role 'campaign' may not read AudienceCriteria.riskCeiling."
            )
            assert answer.data is None
    else:
        counts = [_ok(a)["campaignAudience"]["totalCount"] for a in answers]
        assert counts == sorted(counts)  # a higher ceiling leaves out fewer
