"""A line whose request failed part-way says whether its answer carried data.

The line names every node the resolvers built, and a failed non-null field nulls the whole
answer: ``{ a: customer(id: X) { name } b: linkedAccounts(…, maxHops: 9) … }`` named X with
outcome ``error`` though the client got ``data: null``, while a campaign key's
``customer(id: X) { name birthDate }`` named X with outcome ``forbidden`` though the name
went out. The same line for a read that happened and one that did not: ``answer`` now
tells them apart (``partial`` or ``none``; a line with outcome ``ok`` was answered whole).
"""

from __future__ import annotations

import json
from typing import Any

from relgraph.api.app import ServiceState
from relgraph.api.auth import Role
from relgraph.api.readmodel import ReadModel

from .test_ingestion import graphql


def _last(state: ServiceState) -> dict[str, Any]:
    return json.loads(state.audit.path.read_text().splitlines()[-1])  # type: ignore[no-any-return]


def test_a_refused_field_beside_data_served_is_a_partial_answer(
    app: Any, state: ServiceState, model: ReadModel
) -> None:
    person = model.person_ids[0]
    answer = graphql(app, "query($id: ID!) { customer(id: $id) { name birthDate } }",
                     Role.CAMPAIGN, id=person)  # fmt: skip
    assert answer["data"]["customer"]["name"]
    line = _last(state)
    assert (line["outcome"], line["answer"], line["ids"]) == ("forbidden", "partial", [person])


def test_a_read_whose_answer_was_nulled_says_none_was_sent(
    app: Any, state: ServiceState, model: ReadModel
) -> None:
    person, account = model.person_ids[0], model.account_ids[0]
    answer = graphql(
        app,
        "query($p: ID!, $a: ID!) { a: customer(id: $p) { name } "
        "b: linkedAccounts(accountId: $a, maxHops: 9) { totalCount } }",
        Role.ANALYST, p=person, a=account,
    )  # fmt: skip
    assert answer["data"] is None
    line = _last(state)
    assert (line["outcome"], line["answer"]) == ("error", "none")
    assert person in line["ids"]  # built, so still named: the line says it went nowhere


def test_a_whole_answer_carries_no_answer_field(
    app: Any, state: ServiceState, model: ReadModel
) -> None:
    graphql(app, "query($id: ID!) { customer(id: $id) { name } }", Role.ANALYST,
            id=model.person_ids[0])  # fmt: skip
    line = _last(state)
    assert line["outcome"] == "ok"
    assert "answer" not in line
