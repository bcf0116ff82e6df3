"""Lists answered below the root are on the audit line too (``relgraph.api.audit_nested``)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from relgraph.api.app import ServiceState, create_app
from relgraph.api.auth import Role

from .conftest import KEYS

QUERY = """query ($acct: ID!, $since: String) {
  a: account(id: $acct) {
    w1: transfers(direction: IN, since: $since, first: 0) { totalCount }
    w2: transfers(direction: OUT, first: 2) {
      totalCount edges { node { txId } } pageInfo { hasNextPage } }
    holder { ...P ... on Enterprise { id } }
  }
  households(first: 3) { edges { node { id members { id accounts(first: 1) { totalCount } } } } }
}
fragment P on Person { id accounts(first: 1) { totalCount } }"""


def _post(state: ServiceState, body: Any) -> dict[str, Any]:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(state))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            headers = {"Authorization": f"Bearer {KEYS[Role.ANALYST]}"}
            return await client.post("/graphql", json=body, headers=headers)

    answer: dict[str, Any] = asyncio.run(go()).json()
    return answer


def test_counts_below_the_root_are_on_the_line_with_what_they_asked(
    state: ServiceState,
) -> None:
    """ATTACK: an analyst counts an account's payments window by window under aliases,
    building no transfer (``first: 0``): the line named the account and nothing of what was
    counted. Each nested list is now a call with its path, type and field, its arguments
    (texts as their HMAC) and, per parent answered in order, what it counted."""
    model = state.model
    assert model is not None
    holder = next(
        i for i, p in enumerate(model.account_person.tolist()) if p >= 0
    )  # a person's account, so the fragment on Person applies
    account = model.account_ids[holder]
    answer = _post(state, {"query": QUERY, "variables": {"acct": account, "since": "2024-01-01"}})
    assert "errors" not in answer, answer
    a = answer["data"]["a"]
    members = [m for e in answer["data"]["households"]["edges"] for m in e["node"]["members"]]
    (line,) = [json.loads(x) for x in state.audit.path.read_text().splitlines()]
    nested = [c for c in line["calls"] if "." in c["field"]]
    assert nested == [
        {"as": "a.w1", "field": "Account.transfers",
         "args": {"direction": "IN", "since": state.text_mac("2024-01-01"), "first": 0},
         "total": [a["w1"]["totalCount"]]},
        {"as": "a.w2", "field": "Account.transfers", "args": {"direction": "OUT", "first": 2},
         "total": [a["w2"]["totalCount"]], "rows": [len(a["w2"]["edges"])],
         "more": [a["w2"]["pageInfo"]["hasNextPage"]]},
        {"as": "a.holder.accounts", "field": "Person.accounts", "args": {"first": 1},
         "total": [a["holder"]["accounts"]["totalCount"]]},
        {"as": "households.edges.node.members.accounts", "field": "Person.accounts",
         "args": {"first": 1}, "total": [m["accounts"]["totalCount"] for m in members]},
    ]  # fmt: skip
    assert len(members) > 3  # one call holds a count per member, in the answer's order
    # The root list is kept as before, with single counts.
    assert [c["field"] for c in line["calls"] if "." not in c["field"]] == ["households"]


def test_an_enterprise_holder_gives_no_person_call(state: ServiceState) -> None:
    """A fragment on a type the answer is not (an enterprise's account) counted nothing."""
    model = state.model
    assert model is not None
    firm = next(i for i, e in enumerate(model.account_enterprise.tolist()) if e >= 0)
    body = {"query": QUERY, "variables": {"acct": model.account_ids[firm], "since": None}}
    answer = _post(state, body)
    assert "errors" not in answer, answer
    (line,) = [json.loads(x) for x in state.audit.path.read_text().splitlines()]
    paths = [c["as"] for c in line["calls"]]
    assert "a.holder.accounts" not in paths
    assert "a.w1" in paths
