"""Layering over GraphQL: riskChains, layeringCheck, account risk, risk flags, and who may see them."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from relgraph.api.auth import Role
from relgraph.api.readmodel import ReadModel

from .conftest import run

CHAINS = """query($f: RiskChainFilter) { riskChains(filter: $f, first: 10) { totalCount edges { node {
  id typology score hopCount reasons { reason weight value }
  hops(first: 8) { txId from { id holder { id } } to { id holder { id } } amount timestamp } } } } }"""
CHECK = """query($a: ID!, $w: Float, $h: Int, $m: Float) { layeringCheck(accountId: $a, windowHours: $w, maxHops: $h, minAmount: $m) {
  score truncated reasons { reason weight } chains { id typology score hops { txId } } } }"""


def _chains(model: ReadModel, **f: object) -> dict[str, object]:
    result = run(CHAINS, model, Role.RISK, f=f or None)
    assert result.errors is None, result.errors
    return result.data["riskChains"]


def test_risk_chains_default_to_the_score_threshold(model: ReadModel) -> None:
    chains = _chains(model)
    assert chains["totalCount"] > 0
    for edge in chains["edges"]:
        node = edge["node"]
        assert node["score"] >= 0.5
        assert node["reasons"]
        hops = node["hops"]
        # A round trip (a cycle) lists every transfer of its loop in time order: chunks
        # of one hop sit side by side, so only chains are checked hop to hop.
        if node["typology"] == "layering_chain":
            assert len(hops) >= 3
            assert all(a["to"]["id"] == b["from"]["id"] for a, b in itertools.pairwise(hops))
    everything = _chains(model, minScore=0.0)
    assert everything["totalCount"] >= chains["totalCount"]


def test_risk_chain_filters(model: ReadModel) -> None:
    top = _chains(model)["edges"][0]["node"]
    account = top["hops"][0]["from"]["id"]
    by_account = _chains(model, accountId=account, minScore=0.0)
    assert top["id"] in {e["node"]["id"] for e in by_account["edges"]}
    cycles = _chains(model, typology="cycle", minScore=0.0)
    assert all(e["node"]["typology"] == "cycle" for e in cycles["edges"])
    assert _chains(model, since="2099-01-01")["totalCount"] == 0
    bad = run(CHAINS, model, Role.RISK, f={"since": "last tuesday"})
    assert bad.errors[0].message == "since must be an ISO date or timestamp, not 'last tuesday'."


def test_layering_check_agrees_with_the_batch(model: ReadModel) -> None:
    top = _chains(model)["edges"][0]["node"]
    account = top["hops"][0]["from"]["id"]
    result = run(CHECK, model, Role.RISK, a=account)
    assert result.errors is None
    check = result.data["layeringCheck"]
    assert check["score"] >= top["score"] - 1e-9
    assert top["id"] in {c["id"] for c in check["chains"]}
    risk = run(f'{{ account(id: "{account}") {{ risk {{ score }} }} }}', model, Role.ANALYST)
    assert risk.data["account"]["risk"]["score"] == pytest.approx(check["score"])


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"a": "NOPE"}, "No account with id 'NOPE'."),
        ({"h": 40}, "maxHops must be in 3..12, not 40."),
        ({"w": 0.0}, "windowHours must be > 0 and ≤ 720, not 0.0."),
        ({"m": -5.0}, "minAmount must be a positive number, not -5.0."),
    ],
)
def test_layering_check_bad_arguments(
    model: ReadModel, variables: dict[str, object], message: str
) -> None:
    result = run(CHECK, model, Role.RISK, **{"a": model.account_ids[0], **variables})
    assert result.errors[0].message == message


@pytest.mark.parametrize("role", [Role.CAMPAIGN, Role.ANALYST])
def test_only_risk_and_admin_run_aml_tools(model: ReadModel, role: Role) -> None:
    check = run(CHECK, model, role, a=model.account_ids[0])
    assert (
        check.errors[0].message
        == f"Permission denied: role '{role.value}' may not read layeringCheck."
    )
    chains = run(CHAINS, model, role)
    assert (
        chains.errors[0].message
        == f"Permission denied: role '{role.value}' may not read riskChains."
    )
    assert run(CHAINS, model, Role.ADMIN).errors is None


def test_campaign_never_sees_risk_flags(model: ReadModel) -> None:
    query = f'{{ customer(id: "{model.person_ids[0]}") {{ riskFlags accounts {{ edges {{ node {{ risk {{ score }} }} }} }} }} }}'
    campaign = run(query, model, Role.CAMPAIGN)
    messages = {e.message for e in campaign.errors}
    assert "Permission denied: role 'campaign' may not read Person.riskFlags." in messages
    assert run(query, model, Role.ANALYST).errors is None


def test_hops_are_listed_a_page_at_a_time_and_priced_as_such(model: ReadModel) -> None:
    query = """query($n: Int!) { riskChains(first: 5) { edges { node {
        hopCount hops(first: $n) { txId } } } } }"""
    two = run(query, model, Role.RISK, n=2)
    assert two.errors is None, two.errors
    for edge in two.data["riskChains"]["edges"]:
        node = edge["node"]
        assert len(node["hops"]) == min(2, node["hopCount"])
    bad = run(query, model, Role.RISK, n=0)
    assert bad.errors[0].message == "hops(first:) must be between 1 and 1000, not 0."
    # 100 chains × the default 50 hops each is what the query may resolve: over the limit.
    heavy = run(
        "{ riskChains(first: 100) { edges { node { hops { txId amount from { id } } } } } }",
        model,
        Role.RISK,
    )
    assert heavy.errors[0].extensions["code"] == "LIMIT_EXCEEDED"


HOP_TIMES = """query($f: RiskChainFilter) { riskChains(filter: $f, first: 10) { edges { node {
  id hopCount hops(first: 20) { timestamp } } } } }"""


def _count(model: ReadModel, **f: object) -> int:
    result = run(CHAINS, model, Role.RISK, f={"minScore": 0.0, **f})
    assert result.errors is None, result.errors
    return int(result.data["riskChains"]["totalCount"])


def test_timestamps_are_shown_with_the_display_zone_offset(model: ReadModel) -> None:
    result = run(HOP_TIMES, model, Role.RISK, f={"minScore": 0.0})
    assert result.errors is None, result.errors
    stamps = [h["timestamp"] for e in result.data["riskChains"]["edges"] for h in e["node"]["hops"]]
    assert stamps
    assert all(datetime.fromisoformat(s).utcoffset() == timedelta(hours=8) for s in stamps)
    assert all(s.endswith("+08:00") for s in stamps)


def test_since_without_an_offset_is_beijing_time(
    model: ReadModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run(HOP_TIMES, model, Role.RISK, f={"minScore": 0.0})
    assert result.errors is None, result.errors
    # A chain's last hop: since that moment keeps the chain, a second later drops it.
    node = next(
        e["node"] for e in result.data["riskChains"]["edges"]
        if e["node"]["hopCount"] == len(e["node"]["hops"])
    )  # fmt: skip
    last = max(datetime.fromisoformat(h["timestamp"]) for h in node["hops"])
    naive = last.replace(tzinfo=None).isoformat()  # Beijing wall-clock time, no offset
    at = _count(model, since=naive)
    later = (last + timedelta(seconds=1)).replace(tzinfo=None).isoformat()
    assert _count(model, since=later) < at
    # The same moment with an explicit offset counts the same; the wall-clock time read as
    # UTC is eight hours later and counts fewer.
    assert _count(model, since=last.astimezone(UTC).isoformat()) == at
    as_utc = _count(model, since=naive + "+00:00")
    assert as_utc < at
    # RELGRAPH_DISPLAY_TZ decides how a naive value reads, and how times are shown.
    monkeypatch.setenv("RELGRAPH_DISPLAY_TZ", "UTC")
    assert _count(model, since=naive) == as_utc
    shown = run(HOP_TIMES, model, Role.RISK, f={"minScore": 0.0})
    hop = shown.data["riskChains"]["edges"][0]["node"]["hops"][0]["timestamp"]
    assert hop.endswith("+00:00")


def test_layering_check_and_account_risk_give_one_score_for_every_account(
    model: ReadModel,
) -> None:
    # Every account with a stored risk, and as many without: the check without arguments
    # answers from the same stored alerts, so the two can never disagree.
    risky = list(model.results.account_risk)
    calm = [a for a in model.account_ids if a not in model.results.account_risk][: len(risky)]
    query = """query($a: ID!) { layeringCheck(accountId: $a) { score settingsOverridden
        reasons { reason weight valueId } chains { id score } }
        account(id: $a) { risk { score reasons { reason weight valueId } } } }"""
    assert risky
    assert calm
    for account in risky + calm:
        result = run(query, model, Role.RISK, a=account)
        assert result.errors is None, result.errors
        check, risk = result.data["layeringCheck"], result.data["account"]["risk"]
        assert check["score"] == risk["score"], account
        assert check["reasons"] == risk["reasons"]
        assert check["settingsOverridden"] is False
        assert {c["id"] for c in check["chains"]} == {r["valueId"] for r in risk["reasons"]}


def test_risk_reasons_are_typed(model: ReadModel) -> None:
    query = """{ riskChains(first: 20, filter: {minScore: 0}) { edges { node { hopCount
        reasons { reason weight value valueNumber valueId valueText } } } } }"""
    result = run(query, model, Role.RISK)
    assert result.errors is None, result.errors
    for edge in result.data["riskChains"]["edges"]:
        reasons = {r["reason"]: r for r in edge["node"]["reasons"]}
        assert reasons["hops"]["valueNumber"] == float(reasons["hops"]["value"])
        assert reasons["speed"]["valueNumber"] is not None  # the median dwell, in minutes
        for r in reasons.values():
            assert (r["valueNumber"] is None) or (r["valueText"] is None)
            assert r["valueId"] is None
            assert -1 <= r["weight"] <= 1
