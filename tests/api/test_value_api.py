"""The GraphQL value fields show the hand-computed numbers of ``tests/valuebank.py``: the same
definition behind persons, households, corporate groups and audience entries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from relgraph.api.auth import Role
from relgraph.api.readmodel import ReadModel, build_read_model
from relgraph.graph import build_projection
from relgraph.jobs.analyze import analyze
from relgraph.store.embedded import EmbeddedStore
from tests import valuebank
from tests.api.conftest import run
from tests.banks import balances_in_three_currencies, load


@pytest.fixture(scope="module")
def value_model(tmp_path_factory: pytest.TempPathFactory) -> ReadModel:
    folder = tmp_path_factory.mktemp("value-api")
    load(valuebank.write(folder / "bank"), folder / "data")
    with EmbeddedStore(folder / "data") as store:
        analyze(store, build_projection(store))
    with EmbeddedStore(folder / "data", read_only=True) as store:
        return build_read_model(store)


def _data(query: str, model: ReadModel, role: Role = Role.ANALYST, **variables: Any) -> Any:
    result = run(query, model, role, **variables)
    assert result.errors is None, result.errors
    return result.data


PERSON = """query ($id: ID!) { customer(id: $id) { aum deposits loans cardSpend12m products
    household { id } } }"""


@pytest.mark.parametrize("customer", sorted(valuebank.EXPECTED_PERSONS))
def test_person_and_household_fields(value_model: ReadModel, customer: str) -> None:
    person = _data(PERSON, value_model, id=customer)["customer"]
    expected = valuebank.EXPECTED_PERSONS[customer]
    assert (person["aum"], person["deposits"], person["loans"], person["cardSpend12m"]) == (
        expected["aum"],
        expected["deposits"],
        expected["loans"],
        expected["card_spend"],
    )
    assert person["products"] == expected["products"]
    if customer not in valuebank.EXPECTED_HOUSEHOLDS:
        return
    household = _data(
        """query ($id: ID!) { household(id: $id) { size totalAum deposits loans cardSpend
            products missingProducts pendingProducts } }""",
        value_model,
        id=person["household"]["id"],
    )["household"]
    want = valuebank.EXPECTED_HOUSEHOLDS[customer]
    assert household == {
        "size": want["size"],
        "totalAum": want["total_aum"],
        "deposits": want["deposits"],
        "loans": want["loans"],
        "cardSpend": want["card_spend"],
        "products": want["products"],
        "missingProducts": want["missing_products"],
        "pendingProducts": want["pending_products"],
    }


def test_group_fields_and_audience_entry_agree(value_model: ReadModel) -> None:
    groups = _data(
        """{ corporateGroups { edges { node { id memberCount deposits loans creditLimit
            guaranteesGiven guaranteesReceived exposure products missingProducts } } } }""",
        value_model,
    )["corporateGroups"]["edges"]
    (group,) = [e["node"] for e in groups]
    want = valuebank.EXPECTED_GROUP
    assert (group["memberCount"], group["deposits"], group["loans"], group["exposure"]) == (
        want["members"],
        want["deposits"],
        want["loans"],
        want["exposure"],
    )
    assert group["guaranteesGiven"] == want["guarantees_given"]
    assert (group["products"], group["missingProducts"]) == (
        want["products"],
        want["missing_products"],
    )
    entries = _data(
        """{ campaignAudience(criteria: {unit: CORPORATE_GROUP}) { edges { node { unitId
            exposure deposits products productGap } } } }""",
        value_model,
        Role.ANALYST,  # group audiences are refused to campaign keys (test_privacy_groups)
    )["campaignAudience"]["edges"]
    (entry,) = [e["node"] for e in entries]
    assert entry["unitId"] == group["id"]
    assert (entry["exposure"], entry["deposits"]) == (group["exposure"], group["deposits"])
    assert (entry["products"], entry["productGap"]) == (
        group["products"],
        group["missingProducts"],
    )


def test_household_audience_entry_matches_household(value_model: ReadModel) -> None:
    query = """{ campaignAudience(criteria: {unit: HOUSEHOLD, minSize: 2}) { edges { node {
        unitId totalAum deposits exposure products productGap } } warnings } }"""
    answer = _data(query, value_model, Role.CAMPAIGN)["campaignAudience"]
    (entry,) = [e["node"] for e in answer["edges"]]
    want = valuebank.EXPECTED_HOUSEHOLDS["W-CORE"]
    assert (entry["totalAum"], entry["deposits"], entry["exposure"]) == (
        want["total_aum"],
        want["deposits"],
        want["loans"],
    )
    assert entry["productGap"] == want["missing_products"]
    assert answer["warnings"] == []


def test_contact_details_and_stale_contact_warning(value_model: ReadModel) -> None:
    query = """{ campaignAudience(criteria: {unit: HOUSEHOLD, minSize: 2,
            notContactedWithinDays: 30, asOf: "2026-11-30"}) {
        warnings edges { node { contacts contactDetails { partyKind partyId
            customerIds { system customerId } phone email channel lastContact
            consentMarketing } } } } }"""
    answer = _data(query, value_model, Role.ANALYST)["campaignAudience"]
    (warning,) = answer["warnings"]
    assert "newest contact on record (2026-05-01)" in warning
    (node,) = [e["node"] for e in answer["edges"]]
    details = {d["partyId"]: d for d in node["contactDetails"]}
    assert list(details) == node["contacts"]
    wang = details[value_model.person_ids[value_model.find_person("W-CORE") or 0]]
    assert wang["customerIds"] == [
        {"system": "core", "customerId": "W-CORE"},
        {"system": "loan", "customerId": "W-LOAN"},
    ]
    # Two SMS and one call: SMS is the channel the bank uses with him; last contact 1 May.
    assert (wang["channel"], wang["lastContact"]) == ("sms", "2026-05-01")
    assert (wang["phone"], wang["consentMarketing"], wang["partyKind"]) == (
        "13800000001",
        True,
        "person",
    )
    li = details[value_model.person_ids[value_model.find_person("L-CORE") or 0]]
    assert (li["channel"], li["lastContact"], li["email"]) == (None, None, "li.na@example.cn")


def test_an_account_says_the_currency_its_balance_is_in(tmp_path: Path) -> None:
    # A yen balance is shown as loaded, beside the code that says it is no yuan amount (the
    # person's AUM counts only the CNY one); an account loaded without a currency is CNY.
    load(balances_in_three_currencies(tmp_path / "bank"), tmp_path / "data")
    with EmbeddedStore(tmp_path / "data") as store:
        analyze(store, build_projection(store))
    with EmbeddedStore(tmp_path / "data", read_only=True) as store:
        model = build_read_model(store)
    query = "query ($id: ID!) { account(id: $id) { balance currency } }"
    shown = {a: _data(query, model, Role.CAMPAIGN, id=a)["account"] for a in ("A1", "A2", "A3")}
    assert shown == {
        "A1": {"balance": 1200.0, "currency": "CNY"},
        "A2": {"balance": 10_000_000.0, "currency": "JPY"},
        "A3": {"balance": 50.0, "currency": "CNY"},
    }
    assert _data('{ customer(id: "C1") { aum } }', model)["customer"]["aum"] == 1250.0


def test_campaign_keys_do_not_learn_a_member_has_a_record_in_identity_review(
    value_model: ReadModel,
) -> None:
    # 赵敏's card is held only on a record still in identity review with hers: possible
    # duplicates are refused to campaign keys, so nothing they read may say so.
    zhao = value_model.person_ids[value_model.find_person("Z-CORE") or 0]
    household = _data(
        "query ($id: ID!) { customer(id: $id) { household { id } } }", value_model, id=zhao
    )["customer"]["household"]["id"]
    refused = run(
        "query ($id: ID!) { household(id: $id) { products pendingProducts } }",
        value_model,
        Role.CAMPAIGN,
        id=household,
    )
    assert refused.errors is not None
    assert (refused.errors[0].extensions or {})["code"] == "FORBIDDEN"
    assert "Household.pendingProducts" in refused.errors[0].message
    # The card still counts as held for them (a product gap is a marketing claim).
    query = """{ campaignAudience(criteria: {unit: HOUSEHOLD, hasProducts: ["card"]}) {
        edges { node { contacts products qualifiedBecause } } } }"""

    def because(role: Role) -> list[str]:
        edges = _data(query, value_model, role)["campaignAudience"]["edges"]
        (node,) = [e["node"] for e in edges if zhao in e["node"]["contacts"]]
        assert "card" in node["products"]
        return list(node["qualifiedBecause"])

    assert because(Role.CAMPAIGN) == ["a member holds card", "1 of 1 members can be contacted"]
    assert because(Role.ANALYST)[0] == (
        "a member holds card on a record still in identity review (counted as held)"
    )
