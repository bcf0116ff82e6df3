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


GROUP_SURFACES = {
    "a group by id": """query ($g: ID!) { corporateGroup(id: $g) { id deposits } }""",
    "the group list": """{ corporateGroups(first: 3) { totalCount edges { node { id } } } }""",
    "a group audience": """{ campaignAudience(criteria: {unit: CORPORATE_GROUP}, first: 3) {
        totalCount edges { node { unitId deposits contacts leftOut } } } }""",
}


def test_a_group_id_names_its_controller_whose_roles_list_the_members(model: ReadModel) -> None:
    # The channel found after membership was refused field by field: a group's id is its
    # controller's, and a person's roles are open to campaign keys. So no group id, value
    # or audience may reach a campaign key at all.
    group = next(g for g, m in model.results.group_members.items() if len(m) >= 2)
    controller = str(model.results.groups.row(model.results.groups.row_of[group])["controller_id"])  # type: ignore[union-attr]
    assert group == "G" + controller
    for name, query in GROUP_SURFACES.items():
        result = run(query, model, Role.CAMPAIGN, **_used(query, {"g": group}))
        assert result.errors, f"{name}: campaign got a corporate group"
        assert all(
            e.extensions and e.extensions.get("code") == "FORBIDDEN" for e in result.errors
        ), (name, result.errors)
        assert group not in str(result.data), name
        assert controller not in str(result.data), name


def test_analysts_still_get_group_value_and_audiences(model: ReadModel) -> None:
    for query in GROUP_SURFACES.values():
        group = next(iter(model.results.group_members))
        result = run(query, model, Role.ANALYST, **_used(query, {"g": group}))
        assert result.errors is None, result.errors
    listed = run(GROUP_SURFACES["the group list"], model, Role.ANALYST)
    assert listed.data["corporateGroups"]["totalCount"] > 0
