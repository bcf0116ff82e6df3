"""A decision sent twice (a client's retry after a lost answer, an HTTP retry) is one
decision: journaled once, audited twice (the second line says it was a resend)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from relgraph.api.auth import Role
from relgraph.journal import CHAIN_REVIEW, DUPLICATE_DECISION, read

from .conftest import KEYS

REVIEW = """mutation R($id: ID!, $status: ChainStatus!, $note: String, $requestId: String) {
  reviewRiskChain(id: $id, status: $status, note: $note, requestId: $requestId) {
    id status reviews { status note by }
  }
}"""
DECIDE = """mutation D($id: ID!, $decision: DuplicateVerdict!, $note: String!, $requestId: String) {
  decideDuplicate(id: $id, decision: $decision, note: $note, requestId: $requestId) {
    id decision note inForce
  }
}"""


def _post(state: Any, sends: list[tuple[Role, str, dict[str, Any]]]) -> list[dict[str, Any]]:
    import httpx

    from relgraph.api.app import create_app

    async def go() -> list[dict[str, Any]]:
        transport = httpx.ASGITransport(app=create_app(state))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            out = []
            for role, query, variables in sends:
                answer = await client.post(
                    "/graphql",
                    json={"query": query, "variables": variables},
                    headers={"Authorization": f"Bearer {KEYS[role]}"},
                )
                out.append(answer.json())
            return out

    return asyncio.run(go())


def _lines(state: Any) -> list[dict[str, Any]]:
    return [json.loads(x) for x in state.audit.path.read_text().splitlines()]


def test_a_resent_review_is_journaled_once_and_audited_as_a_resend(state: Any) -> None:
    chain = str(state.model.results.risk_chains.columns["chain_id"][0])
    sent = {"id": chain, "status": "DISMISSED", "note": "payroll"}
    first, again = _post(state, [(Role.RISK, REVIEW, sent), (Role.RISK, REVIEW, sent)])
    assert again == first
    assert len(first["data"]["reviewRiskChain"]["reviews"]) == 1
    (entry,) = read(state.audit.path.parent, [CHAIN_REVIEW])
    one, two = _lines(state)
    assert (one["outcome"], two["outcome"]) == ("ok", "ok")
    assert "resend_of" not in one
    assert two["resend_of"] == entry.seq
    assert chain in two["ids"]


def test_a_resend_after_another_reviewer_does_not_undo_their_decision(state: Any) -> None:
    # A DISMISSED whose answer was lost, resent after a colleague escalated the chain: without
    # its request id it would be a new dismissal, undoing the escalation.
    chain = str(state.model.results.risk_chains.columns["chain_id"][0])
    mine = {"id": chain, "status": "DISMISSED", "note": "payroll", "requestId": "rq-1"}
    theirs = {"id": chain, "status": "ESCALATED", "note": "look again"}
    answers = _post(
        state, [(Role.RISK, REVIEW, mine), (Role.ADMIN, REVIEW, theirs), (Role.RISK, REVIEW, mine)]
    )
    assert answers[2]["data"]["reviewRiskChain"]["status"] == "ESCALATED"
    entries = list(read(state.audit.path.parent, [CHAIN_REVIEW]))
    assert [e.data["status"] for e in entries] == ["DISMISSED", "ESCALATED"]
    assert entries[0].data["request_id"] == "rq-1"
    assert _lines(state)[2]["resend_of"] == entries[0].seq


def test_another_decision_under_a_used_request_id_is_refused_naming_it(state: Any) -> None:
    chain = str(state.model.results.risk_chains.columns["chain_id"][0])
    first = {"id": chain, "status": "DISMISSED", "note": "payroll", "requestId": "rq-7"}
    other = first | {"status": "ESCALATED"}
    _, refused = _post(state, [(Role.RISK, REVIEW, first), (Role.RISK, REVIEW, other)])
    (entry,) = read(state.audit.path.parent, [CHAIN_REVIEW])
    assert refused["data"] is None
    assert refused["errors"][0]["message"] == (
        f"Request id 'rq-7' was used for another decision (entry {entry.seq}: DISMISSED on "
        f"chain {chain}, note 'payroll'): send a new request id for a new decision."
    )
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # Another key's request ids are its own.
    (mine,) = _post(state, [(Role.ADMIN, REVIEW, other)])
    assert mine["data"]["reviewRiskChain"]["status"] == "ESCALATED"


def test_a_resent_duplicate_decision_is_journaled_once(state: Any) -> None:
    # A pair decided before (from the command line) may be decided again by its id.
    state.decisions.record("Dresend", "C-A", "C-B", "SAME", "", by="cli:reviewer")
    sent = {"id": "Dresend", "decision": "DIFFERENT", "note": "twins"}
    first, again = _post(state, [(Role.ANALYST, DECIDE, sent), (Role.ANALYST, DECIDE, sent)])
    assert again == first
    _, entry = read(state.audit.path.parent, [DUPLICATE_DECISION])
    assert _lines(state)[1]["resend_of"] == entry.seq
    changed = sent | {"requestId": "rq-2"}
    other = changed | {"decision": "SAME"}
    _, _, refused = _post(
        state,
        [
            (Role.ANALYST, DECIDE, changed),
            (Role.ANALYST, DECIDE, changed),
            (Role.ANALYST, DECIDE, other),
        ],
    )
    assert "Request id 'rq-2' was used for another decision" in refused["errors"][0]["message"]
    assert len(list(read(state.audit.path.parent, [DUPLICATE_DECISION]))) == 3
