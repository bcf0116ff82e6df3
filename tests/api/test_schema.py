"""The schema in-process (``schema.execute``), role by role."""

from __future__ import annotations

from pathlib import Path

import pytest

from relgraph.api.auth import Role
from relgraph.api.readmodel import ReadModel
from relgraph.api.schema import build_schema

from .conftest import run

CUSTOMER = """
query Customer($id: ID!) {
  customer(id: $id) {
    id name birthDate segment aum products consentMarketing
    records { customerId sourceSystem name idNumber phone email }
    accounts(first: 10) { totalCount edges { node { id product balance holder { id name } } } }
    devices { totalCount }
    family { totalCount edges { node { relation person { id } } } }
    roles { totalCount }
    household { id }
  }
}
"""


def test_customer_by_person_id_and_by_any_record(
    model: ReadModel, person_with_records: str
) -> None:
    by_person = run(CUSTOMER, model, id=person_with_records)
    assert by_person.errors is None
    customer = by_person.data["customer"]
    assert customer["id"] == person_with_records
    records = [r["customerId"] for r in customer["records"]]
    assert len(records) >= 2
    for record in records:
        again = run(CUSTOMER, model, id=record)
        assert again.data["customer"]["id"] == person_with_records
    account = customer["accounts"]["edges"][0]["node"]
    assert account["holder"]["id"] == person_with_records
    assert customer["accounts"]["totalCount"] >= 1


def test_unknown_customer_gets_a_clear_error(model: ReadModel) -> None:
    result = run(CUSTOMER, model, id="nobody")
    assert result.errors[0].message == "No customer with id 'nobody'."


@pytest.mark.parametrize(
    ("role", "masked_name", "raw_id"),
    [
        (Role.ANALYST, False, False),
        (Role.CAMPAIGN, True, False),
        (Role.RISK, False, True),
        (Role.ADMIN, False, True),
    ],
)
def test_masking_by_role(
    model: ReadModel, person_with_records: str, role: Role, masked_name: bool, raw_id: bool
) -> None:
    # Devices are refused to campaign keys (a non-null connection: the error would void
    # the customer), so their query leaves them out.
    query = (
        CUSTOMER.replace("    devices { totalCount }\n", "") if role is Role.CAMPAIGN else CUSTOMER
    )
    record = run(query, model, role, id=person_with_records).data["customer"]["records"][0]
    index = model.record_index[record["customerId"]]
    raw = model.record
    assert (record["idNumber"] == raw["id_number"][index]) is raw_id or raw["id_number"][
        index
    ] is None
    assert (record["name"] != raw["name"][index]) is masked_name
    if raw["phone"][index]:
        assert ("****" in record["phone"]) is (role is Role.CAMPAIGN)


@pytest.mark.parametrize("field", ["riskRating", "network { id size }", "records { matchScore }"])
def test_campaign_gets_a_permission_error_for_risk_fields(
    model: ReadModel, person_with_records: str, field: str
) -> None:
    query = f'{{ customer(id: "{person_with_records}") {{ id {field} }} }}'
    result = run(query, model, Role.CAMPAIGN)
    assert result.errors is not None
    assert result.errors[0].message.startswith("Permission denied: role 'campaign' may not read ")
    analyst = run(query, model, Role.ANALYST)
    assert analyst.errors is None


def test_first_above_100_is_an_error_not_a_truncation(
    model: ReadModel, person_with_records: str
) -> None:
    query = (
        f'{{ customer(id: "{person_with_records}") {{ accounts(first: 101) {{ totalCount }} }} }}'
    )
    result = run(query, model)
    assert result.errors[0].message == "first must be between 0 and 100, not 101."


def test_pagination_walks_every_household(model: ReadModel) -> None:
    query = """query($after: String) { households(filter: {minSize: 2}, first: 50, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { id size totalAum } } } }"""
    seen: list[str] = []
    after = None
    while True:
        page = (
            run(query, model, after=after).data["households"]
            if after
            else run(query, model).data["households"]
        )
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == page["totalCount"] > 50


def test_household_filters(model: ReadModel) -> None:
    query = """{ households(filter: {minSize: 3, maxSize: 4, lacksProduct: "loan", minTotalAum: 1000}, first: 100) {
        edges { node { id size totalAum products missingProducts head { id } members { id } } } } }"""
    edges = run(query, model).data["households"]["edges"]
    assert edges
    for edge in edges:
        node = edge["node"]
        assert 3 <= node["size"] <= 4
        assert "loan" in node["missingProducts"]
        assert "loan" not in node["products"]
        assert node["totalAum"] >= 1000
        assert node["head"]["id"] in {m["id"] for m in node["members"]}
    bad = run('{ households(filter: {hasProduct: "yacht"}) { totalCount } }', model)
    assert (
        bad.errors[0].message
        == "hasProduct must be one of deposit, card, loan, wealth, not 'yacht'."
    )


def test_groups_and_influencers(model: ReadModel) -> None:
    query = """{ corporateGroups(filter: {minMembers: 2}, first: 5) { totalCount edges { node {
        id memberCount exposure controller { id name } members { enterprise { id group { id } } share } } } }
        influencers(first: 3) { edges { node { id influence { rank directReferrals cascadeSize cascadeAum } } } } }"""
    data = run(query, model).data
    group = data["corporateGroups"]["edges"][0]["node"]
    assert group["memberCount"] >= 2
    assert all(m["enterprise"]["group"]["id"] == group["id"] for m in group["members"])
    ranks = [e["node"]["influence"]["rank"] for e in data["influencers"]["edges"]]
    assert ranks == [1, 2, 3]


def test_graph_stats_counts_every_kind(model: ReadModel) -> None:
    data = run("{ graphStats { nodes { kind count } edges { kind count } } }", model).data
    nodes = {n["kind"]: n["count"] for n in data["graphStats"]["nodes"]}
    assert nodes["Person"] == len(model.person_ids)
    assert len(data["graphStats"]["edges"]) == 20


def test_the_committed_sdl_matches_the_schema() -> None:
    committed = Path(__file__).resolve().parents[2] / "schema.graphql"
    assert committed.read_text("utf-8") == str(build_schema()) + "\n", (
        "schema.graphql is stale: run `relgraph export-schema`"
    )


def test_corporate_group_by_id_with_owners_and_circles(model: ReadModel) -> None:
    groups = run(
        "{ corporateGroups(filter: {hasGuaranteeCircle: true}, first: 1) { edges { node { id } } } }",
        model,
    ).data["corporateGroups"]["edges"]
    assert groups, "the test bank has no group with a guarantee circle"
    group_id = groups[0]["node"]["id"]
    query = f"""{{ corporateGroup(id: "{group_id}") {{ id hasGuaranteeCircle controller {{ id }}
        members {{ share enterprise {{ id integratedOwners {{ holder {{ id }} share }} }} }}
        guaranteeCircles {{ id members {{ id }} }} }} }}"""
    group = run(query, model).data["corporateGroup"]
    assert group["hasGuaranteeCircle"]
    assert group["guaranteeCircles"]
    assert all(len(c["members"]) >= 2 for c in group["guaranteeCircles"])
    controller = group["controller"]["id"]
    for member in group["members"]:
        owners = {o["holder"]["id"]: o["share"] for o in member["enterprise"]["integratedOwners"]}
        if member["share"] is not None:
            assert owners[controller] == member["share"]
    missing = run('{ corporateGroup(id: "G-nope") { id } }', model)
    assert missing.errors[0].message == "No corporate group with id 'G-nope'."


def test_possible_duplicates_and_match_evidence_by_role(
    model: ReadModel, person_with_records: str
) -> None:
    query = "{ possibleDuplicates(minScore: 0.5, first: 10) { totalCount edges { node { customerA customerB score evidence } } } }"
    analyst = run(query, model, Role.ANALYST)
    assert analyst.errors is None
    for edge in analyst.data["possibleDuplicates"]["edges"]:
        assert 0.5 <= edge["node"]["score"] < 0.99
    campaign = run(query, model, Role.CAMPAIGN)
    assert (
        campaign.errors[0].message
        == "Permission denied: role 'campaign' may not read possibleDuplicates."
    )
    records = run(
        f'{{ customer(id: "{person_with_records}") {{ records {{ customerId matchScore matchEvidence {{ comparison level weight }} }} }} }}',
        model,
        Role.RISK,
    ).data["customer"]["records"]
    assert all(r["matchScore"] is not None and r["matchScore"] >= 0.99 for r in records)
    for record in records:  # a waterfall: the prior, then comparisons that carried the match
        steps = {s["comparison"]: s for s in record["matchEvidence"]}
        assert steps["prior"]["weight"] < 0
        assert any(s["weight"] > 0 for name, s in steps.items() if name != "prior")


@pytest.mark.parametrize(
    ("bounds", "message"),
    [
        ("minSize: 3, maxSize: 2", "maxSize must be ≥ minSize and ≥ 1, not 2."),
        ("maxSize: 0", "maxSize must be ≥ minSize and ≥ 1, not 0."),
    ],
)
def test_household_size_bounds_no_household_can_meet_are_refused(
    model: ReadModel, bounds: str, message: str
) -> None:
    """As campaignAudience refuses them: an empty answer read as "no such households"."""
    result = run(f"{{ households(filter: {{{bounds}}}) {{ totalCount }} }}", model)
    assert result.errors[0].message == message
    assert result.errors[0].extensions["code"] == "BAD_USER_INPUT"
