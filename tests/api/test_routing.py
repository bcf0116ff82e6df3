"""Bounded lookups are answered on the event loop; everything else in the worker pool."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import pytest
from graphql import GraphQLSchema

from relgraph.api.app import ServiceState, create_app
from relgraph.api.auth import Role
from relgraph.api.readmodel import ReadModel
from relgraph.api.routing import INLINE_COST, MAX_INLINE_TEXT, runs_inline
from relgraph.api.schema import build_schema

from .conftest import KEYS

LOOKUP = "query C($id: ID!) { customer(id: $id) { id name accounts(first: 5) { edges { node { id } } } } }"
PAGE = """query H($n: Int!) { households(first: $n) { edges { node { id members { id name
  accounts(first: 10) { edges { node { id } } } } } } } }"""
HEAVY = """query Heavy($id: ID!) { customer(id: $id) { family(first: 100) { edges { node {
  person { accounts(first: 10) { edges { node { id product } } } } } } } } }"""


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema(production=True)._schema  # type: ignore[no-any-return]  # graphql-core's


@pytest.mark.parametrize(
    ("query", "name", "variables", "inline"),
    [
        (LOOKUP, None, {"id": "p1"}, True),
        ('{ account(id: "a1") { id balance holder { id } } }', None, None, True),
        ("{ households(first: 10) { edges { node { id size } } } }", None, None, True),
        # A page big enough to cost INLINE_COST or more: the pool.
        (PAGE, None, {"n": 50}, False),
        # Tools that compute, whatever their price: the pool.
        ('{ layeringCheck(accountId: "a1") { score } }', None, None, False),
        (
            '{ linkedAccounts(accountId: "a1", maxHops: 3, first: 5) { totalCount } }',
            None,
            None,
            False,
        ),
        # A lookup beside a computing field: the pool.
        (
            '{ customer(id: "p1") { id } layeringCheck(accountId: "a1") { score } }',
            None,
            None,
            False,
        ),
        # Mutations never (they write journals and wait on disks).
        ('mutation { decideDuplicate(a: "c1", b: "c2", same: false) { a } }', None, None, False),
        # What this module cannot read goes where Strawberry reports it.
        ('{ customer(id: "p1") { id }', None, None, False),
        (
            'query A { customer(id: "1") { id } } query B { account(id: "2") { id } }',
            None,
            None,
            False,
        ),
        (
            'query A { customer(id: "1") { id } } query B { account(id: "2") { id } }',
            "B",
            None,
            True,
        ),
        ("query C($id: ID!) { customer(id: $id) { id } }", None, ["not", "a", "map"], False),
        ('{ ...F } fragment F on Query { customer(id: "1") { id } }', None, None, False),
        ('{ customer(id: "1") { id } }' + " " * MAX_INLINE_TEXT, None, None, False),
        (None, None, None, False),
    ],
)
def test_which_operations_run_inline(
    schema: GraphQLSchema, query: Any, name: str | None, variables: Any, inline: bool
) -> None:
    assert runs_inline(schema, query, name, variables) is inline


def test_the_inline_price_is_the_cost_limits_price(schema: GraphQLSchema) -> None:
    # households(first: n) costs more with n: the same query moves to the pool as pages grow.
    small = runs_inline(schema, PAGE, None, {"n": 1})
    big = runs_inline(schema, PAGE, None, {"n": 100})
    assert (small, big) == (True, False), INLINE_COST


def test_a_lookup_is_answered_on_the_loop_and_a_heavy_query_in_a_worker(
    state: ServiceState, model: ReadModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    find = type(model).find_person

    def recording(self: ReadModel, any_id: str) -> int | None:
        threads.append(threading.current_thread().name)
        return find(self, any_id)

    monkeypatch.setattr(type(model), "find_person", recording)
    # Where each query runs is the point, not how fast: on a loaded 2-core machine the heavy
    # one once passed the 2 s deadline (data null) in a full run.
    state.deadline_seconds = 30.0
    app = create_app(state)

    async def go() -> list[httpx.Response]:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as client:
            headers = {"Authorization": f"Bearer {KEYS[Role.ANALYST]}"}
            return [
                await client.post(
                    "/graphql",
                    json={"query": q, "variables": {"id": model.person_ids[0]}},
                    headers=headers,
                )
                for q in (LOOKUP, HEAVY)
            ]

    loop_thread = threading.current_thread().name  # asyncio.run's loop runs on this thread
    answers = asyncio.run(go())
    assert [a.status_code for a in answers] == [200, 200]
    for answer in answers:
        assert "errors" not in answer.json(), answer.json()
        assert answer.json()["data"]["customer"] is not None
    assert threads[0] == loop_thread
    assert threads[1].startswith("relgraph-worker")
