"""Attack: a campaign key tries to learn which enterprises a corporate-group audience left
out for risk.

Enterprises carry no marketing consent, so the only reasons an enterprise of a group is
not on the contact list are risk and recent contact: a group's membership beside an
audience entry's contacts would name them. Every channel that maps a group to its member
enterprises must be closed to campaign keys — and open to risk keys, so the test can fail.
"""

from __future__ import annotations

from typing import Any

from relgraph.api.auth import Role
from relgraph.api.readmodel import ReadModel

from .conftest import run

CHANNELS = {
    "members": """query ($g: ID!) { corporateGroup(id: $g) { members { enterprise { id } } } }""",
    "controller": """query ($g: ID!) { corporateGroup(id: $g) { controller { id } } }""",
    "listed members": """{ corporateGroups(first: 5) { edges { node {
        members { enterprise { id } } } } } }""",
    "enterprise.group": """query ($e: ID!) { enterprise(id: $e) { group { id } } }""",
    "integrated owners": """query ($e: ID!) { enterprise(id: $e) {
        integratedOwners { holder { id } share } } }""",
    "through a fragment": """query ($g: ID!) { corporateGroup(id: $g) { ...M } }
        fragment M on CorporateGroup { m: members { enterprise { id } } }""",
    "through a person's roles": """query ($p: ID!) { customer(id: $p) {
        roles(first: 10) { edges { node { enterprise { group { id } } } } } } }""",
}


def _a_group(model: ReadModel) -> tuple[str, str, str]:
    """A group of 2+ members, one member, and a person with a role in that member."""
    results = model.results
    for group, members in results.group_members.items():
        if len(members) < 2:
            continue
        for enterprise in members:
            e = model.enterprise_index[enterprise]
            officers = model.positions.src[model.positions.dst == e]
            if len(officers):
                return group, enterprise, model.person_ids[int(officers[0])]
    raise AssertionError("the test bank has no group with an officer")


def _variables(model: ReadModel) -> dict[str, Any]:
    group, enterprise, person = _a_group(model)
    return {"g": group, "e": enterprise, "p": person}


def _used(query: str, variables: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in variables.items() if f"${k}" in query}


def test_campaign_keys_cannot_map_a_group_to_its_members(model: ReadModel) -> None:
    variables = _variables(model)
    for name, query in CHANNELS.items():
        result = run(query, model, Role.CAMPAIGN, **_used(query, variables))
        assert result.errors, f"{name}: campaign learnt group membership"
        assert all(
            e.extensions and e.extensions.get("code") == "FORBIDDEN" for e in result.errors
        ), (name, result.errors)
        shown = str(result.data)
        members = model.results.group_members[variables["g"]]
        assert not any(m in shown for m in members), name
        if name not in ("members", "controller", "through a fragment"):
            assert variables["g"] not in shown, name


def test_risk_keys_see_the_membership_the_attack_needs(model: ReadModel) -> None:
    variables = _variables(model)
    members = run(CHANNELS["members"], model, Role.RISK, g=variables["g"])
    assert members.errors is None
    found = {m["enterprise"]["id"] for m in members.data["corporateGroup"]["members"]}
    assert variables["e"] in found
    assert len(found) >= 2
    group = run(CHANNELS["enterprise.group"], model, Role.RISK, e=variables["e"])
    assert group.errors is None
    assert group.data["enterprise"]["group"]["id"] == variables["g"]


def test_campaign_keys_still_get_group_value_and_audiences(model: ReadModel) -> None:
    result = run(
        """{ corporateGroups(first: 3) { totalCount edges { node { id memberCount exposure } } }
           campaignAudience(criteria: {unit: CORPORATE_GROUP}, first: 3) {
             totalCount edges { node { unitId contacts leftOut } } } }""",
        model,
        Role.CAMPAIGN,
    )
    assert result.errors is None, result.errors
    assert result.data["corporateGroups"]["totalCount"] > 0
