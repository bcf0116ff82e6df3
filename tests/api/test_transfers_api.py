"""``Account.transfers``: an account's transfers by direction and time, oldest first."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from relgraph.api.auth import Role
from relgraph.api.readmodel import ReadModel

from .conftest import run

QUERY = """query T($id: ID!, $direction: TransferDirection, $since: String, $until: String,
                  $first: Int, $after: String) {
  account(id: $id) {
    transfers(direction: $direction, since: $since, until: $until, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node { txId from { id } to { id } amount timestamp } }
    }
  }
}"""


def _busy_account(model: ReadModel) -> int:
    """An account that both sent and received several transfers."""
    t = model.transfers
    sent, received = np.diff(t.indptr), t.in_degree()
    both = np.flatnonzero((sent >= 2) & (received >= 2))
    assert len(both), "the test bank has a busy account"
    return int(both[0])


def _transfers(model: ReadModel, role: Role = Role.ANALYST, **variables: object) -> object:
    result = run(QUERY, model, role, **variables)
    assert result.errors is None, result.errors
    return result.data["account"]["transfers"]


def test_both_directions_oldest_first_and_by_direction(model: ReadModel) -> None:
    a = _busy_account(model)
    account = model.account_ids[a]
    t = model.transfers
    every = _transfers(model, id=account, first=100)
    nodes = [e["node"] for e in every["edges"]]
    assert every["totalCount"] == len(t.out_edges(a)) + len(t.in_edges(a)) - int(
        np.isin(t.out_edges(a), t.in_edges(a)).sum()
    )
    moments = [datetime.fromisoformat(n["timestamp"]) for n in nodes]
    assert moments == sorted(moments)
    assert all(account in (n["from"]["id"], n["to"]["id"]) for n in nodes)
    sent = _transfers(model, id=account, direction="OUT", first=100)
    received = _transfers(model, id=account, direction="IN", first=100)
    assert sent["totalCount"] == len(t.out_edges(a))
    assert received["totalCount"] == len(t.in_edges(a))
    assert {e["node"]["from"]["id"] for e in sent["edges"]} == {account}
    assert {e["node"]["to"]["id"] for e in received["edges"]} == {account}
    stored = {str(model.transfer_tx[e]): float(model.transfer_amount[e]) for e in t.out_edges(a)}
    assert {e["node"]["txId"]: e["node"]["amount"] for e in sent["edges"]} == stored


def test_since_and_until_bound_the_time_and_pages_follow(model: ReadModel) -> None:
    account = model.account_ids[_busy_account(model)]
    nodes = [e["node"] for e in _transfers(model, id=account, first=100)["edges"]]
    middle = nodes[len(nodes) // 2]["timestamp"]
    later = _transfers(model, id=account, since=middle, first=100)
    earlier = _transfers(model, id=account, until=middle, first=100)
    assert later["totalCount"] + earlier["totalCount"] >= len(nodes)
    assert all(e["node"]["timestamp"] >= middle for e in later["edges"])
    assert all(e["node"]["timestamp"] <= middle for e in earlier["edges"])
    one = _transfers(model, id=account, first=1)
    assert one["pageInfo"]["hasNextPage"]
    two = _transfers(model, id=account, first=1, after=one["pageInfo"]["endCursor"])
    assert two["edges"][0]["node"] == nodes[1]


def test_a_date_is_a_whole_beijing_day_for_since_and_until(model: ReadModel) -> None:
    # Since and until the same date: that day's transfers, by the Beijing date they show
    # (until 2026-06-03 once stopped at the midnight that day begins with: none of its own).
    account = model.account_ids[_busy_account(model)]
    nodes = [e["node"] for e in _transfers(model, id=account, first=100)["edges"]]
    day = nodes[len(nodes) // 2]["timestamp"][:10]
    on_day = _transfers(model, id=account, since=day, until=day, first=100)
    assert [e["node"] for e in on_day["edges"]] == [n for n in nodes if n["timestamp"][:10] == day]
    up_to = _transfers(model, id=account, until=day, first=100)
    assert up_to["totalCount"] == sum(n["timestamp"][:10] <= day for n in nodes)


def test_campaign_keys_may_not_read_transfers(model: ReadModel) -> None:
    result = run(QUERY, model, Role.CAMPAIGN, id=model.account_ids[0])
    assert result.errors[0].extensions["code"] == "FORBIDDEN"
    assert "Account.transfers" in result.errors[0].message


def test_a_bad_since_is_refused_with_a_reason(model: ReadModel) -> None:
    result = run(QUERY, model, id=model.account_ids[0], since="last tuesday")
    assert result.errors[0].extensions["code"] == "BAD_USER_INPUT"
    assert "since must be an ISO date or timestamp" in result.errors[0].message
