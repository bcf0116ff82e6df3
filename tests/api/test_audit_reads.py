"""The audit line of a query names every record it read (a QA pass on 2026-12-04 found four
kinds of ids answered but not named): the source records whose raw fields a person's
``records`` hands out, the transfers of ``Account.transfers`` and of a chain's ``hops``, the
devices of ``Person.devices`` and the hidden network itself."""

from __future__ import annotations

import json
from typing import Any

from relgraph.api.app import ServiceState
from relgraph.api.auth import Role
from relgraph.api.readmodel import ReadModel

from .test_ingestion import graphql


def _last_ids(state: ServiceState) -> set[str]:
    lines = [json.loads(x) for x in state.audit.path.read_text().splitlines()]
    return set(lines[-1]["ids"])


def test_records_transfers_hops_devices_and_networks_read_are_named(
    app: Any, state: ServiceState, model: ReadModel
) -> None:
    person = model.person_ids[int(model.uses.src[0])]  # one who uses a device
    answer = graphql(app, "query($id: ID!) { customer(id: $id) { records { customerId phone } "
                     "devices { edges { node { id } } } } }", Role.RISK, id=person)  # fmt: skip
    got = answer["data"]["customer"]
    named = _last_ids(state)
    assert {r["customerId"] for r in got["records"]} <= named
    assert {e["node"]["id"] for e in got["devices"]["edges"]} <= named
    assert got["devices"]["edges"]

    account = model.account_ids[int(model.transfers.src[0])]
    answer = graphql(app, "query($id: ID!) { account(id: $id) { transfers(first: 5) "
                     "{ edges { node { txId } } } } }", Role.RISK, id=account)  # fmt: skip
    sent = {e["node"]["txId"] for e in answer["data"]["account"]["transfers"]["edges"]}
    assert sent
    assert sent <= _last_ids(state)

    answer = graphql(app, "{ riskChains(first: 1) { edges { node { hops { txId } } } } }",
                     Role.RISK)  # fmt: skip
    hops = {h["txId"] for e in answer["data"]["riskChains"]["edges"] for h in e["node"]["hops"]}
    assert hops
    assert hops <= _last_ids(state)

    member = next(p for p in model.person_ids if p in model.results.network_of)
    answer = graphql(app, "query($id: ID!) { hiddenNetwork(customerId: $id) { id } }",
                     Role.RISK, id=member)  # fmt: skip
    assert answer["data"]["hiddenNetwork"]["id"] in _last_ids(state)


def test_a_count_about_a_named_account_names_it(
    app: Any, state: ServiceState, model: ReadModel
) -> None:
    """``linkedAccounts(accountId)`` and ``riskChains(filter: {accountId})`` answer about the
    account they name even when only ``totalCount`` is asked for (how many accounts it links
    to, how many alerts it is in): that read was answered with no audit line at all."""
    account = model.account_ids[int(model.transfers.src[0])]
    for query, role in (
        ("query($id: ID!) { linkedAccounts(accountId: $id) { totalCount } }", Role.ANALYST),
        ("query($id: ID!) { riskChains(filter: {accountId: $id}) { totalCount } }", Role.RISK),
    ):
        before = len(state.audit.path.read_text().splitlines())
        answer = graphql(app, query, role, id=account)
        assert "errors" not in answer, answer
        assert len(state.audit.path.read_text().splitlines()) == before + 1, query
        assert account in _last_ids(state)
