"""hiddenNetwork and linkedAccounts over GraphQL: answers, evidence, errors and the campaign rule."""

from __future__ import annotations

import pytest

from relgraph.analytics.linked_accounts import linked_accounts
from relgraph.api.auth import Role
from relgraph.api.readmodel import ReadModel

from .conftest import run

NETWORK = """query($id: ID!) { hiddenNetwork(customerId: $id) { id size members { id }
  links { a { id } b { id } strength evidence { kind ref weight count } } } }"""
LINKED = """query($id: ID!, $hops: Int!, $via: [Via!]) { linkedAccounts(accountId: $id, maxHops: $hops, via: $via, first: 100) {
  totalCount edges { node { account { id holder { id } } hops strength path { from { id } to { id } strength evidence { kind ref } } } } } }"""


def _networked(model: ReadModel) -> str:
    results = model.results
    return next(
        p
        for p in model.person_ids
        if results.network_size.get(results.network_of.get(p, ""), 1) >= 3
    )


def test_hidden_network_lists_members_and_evidenced_links(model: ReadModel) -> None:
    person = _networked(model)
    result = run(NETWORK, model, Role.RISK, id=person)
    assert result.errors is None
    network = result.data["hiddenNetwork"]
    members = {m["id"] for m in network["members"]}
    assert person in members
    assert network["size"] == len(members) >= 3
    assert network["links"]
    for link in network["links"]:
        assert {link["a"]["id"], link["b"]["id"]} <= members
        assert 0 < link["strength"] <= 1
        assert link["evidence"]
    # Strong links tie every member in: the members are connected through them.
    strong = [(k["a"]["id"], k["b"]["id"]) for k in network["links"] if k["strength"] >= 0.5]
    reached = {person}
    for _ in members:
        reached |= {b for a, b in strong if a in reached} | {a for a, b in strong if b in reached}
    assert reached == members


def test_campaign_may_not_see_networks_or_linked_accounts(model: ReadModel) -> None:
    person = _networked(model)
    result = run(NETWORK, model, Role.CAMPAIGN, id=person)
    assert (
        result.errors[0].message == "Permission denied: role 'campaign' may not read hiddenNetwork."
    )
    linked = run(LINKED, model, Role.CAMPAIGN, id=model.account_ids[0], hops=2)
    assert (
        linked.errors[0].message
        == "Permission denied: role 'campaign' may not read linkedAccounts."
    )


def test_linked_accounts_match_the_analytic(model: ReadModel) -> None:
    account = model.account_ids[model.holds.neighbors(model.person_index[_networked(model)])[0]]
    result = run(
        LINKED, model, Role.RISK, id=account, hops=3, via=["DEVICE", "PHONE", "FAMILY", "TRANSFER"]
    )
    assert result.errors is None
    answer = result.data["linkedAccounts"]
    expected = linked_accounts(model.linked_graph(), model.account_index[account], 3,
                               frozenset({"device", "phone", "family", "transfer"}))  # fmt: skip
    assert answer["totalCount"] == len(expected)
    for edge in answer["edges"]:
        node = edge["node"]
        assert len(node["path"]) == node["hops"]
        if node["path"]:
            assert node["path"][-1]["to"]["id"] == node["account"]["holder"]["id"]
            assert all(
                e["kind"] in {"device", "phone", "family", "transfer"}
                for s in node["path"]
                for e in s["evidence"]
            )


@pytest.mark.parametrize(
    ("account", "hops", "via", "message"),
    [
        ("NOPE", 2, None, "No account with id 'NOPE'."),
        (None, 0, None, "maxHops must be between 1 and 4, not 0."),
        (None, 9, None, "maxHops must be between 1 and 4, not 9."),
        (None, 2, [], "via must name at least one kind of evidence."),
    ],
)
def test_linked_accounts_bad_arguments(
    model: ReadModel, account: str | None, hops: int, via: list[str] | None, message: str
) -> None:
    variables = {"id": account or model.account_ids[0], "hops": hops}
    if via is not None:
        variables["via"] = via
    result = run(LINKED, model, Role.RISK, **variables)
    assert result.errors[0].message == message
