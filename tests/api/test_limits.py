"""Each limit against abuse, and the exact error a client gets from it."""

from __future__ import annotations

import time

import pytest

from relgraph.api.auth import Principal, Role
from relgraph.api.context import Context
from relgraph.api.readmodel import ReadModel
from relgraph.api.schema import build_schema

from .conftest import run


def _nested(depth: int) -> str:
    inner = "id"
    for _ in range(depth):
        inner = f"family {{ edges {{ node {{ person {{ {inner} }} }} }} }}"
    return f'{{ customer(id: "x") {{ {inner} }} }}'


def test_depth_limit(model: ReadModel) -> None:
    result = run(_nested(3), model)
    assert result.errors[0].message == "'anonymous' exceeds maximum operation depth of 10"


def test_alias_limit(model: ReadModel) -> None:
    query = "{ " + " ".join(f"a{i}: graphStats {{ nodes {{ count }} }}" for i in range(16)) + " }"
    result = run(query, model)
    assert result.errors[0].message == "16 aliases found. Allowed: 15"


def test_token_limit(model: ReadModel) -> None:
    query = "{ graphStats { " + " ".join(["nodes { kind }"] * 600) + " } }"
    result = run(query, model)
    assert "Document contains more than 2000 tokens. Parsing aborted." in result.errors[0].message


def test_cost_limit(model: ReadModel) -> None:
    query = """{ households(first: 100) { edges { node { members { accounts(first: 100) {
        edges { node { id } } } } } } } }"""
    result = run(query, model)
    assert result.errors[0].message.startswith("Query cost ")
    assert result.errors[0].message.endswith(
        "exceeds the limit of 5000: ask for smaller pages or fewer nested lists."
    )


def test_deadline(model: ReadModel) -> None:
    context = Context(Principal(Role.ANALYST, "k"), model, "r-1", deadline=time.monotonic() - 1)
    import asyncio

    query = "{ households(first: 5) { edges { node { members { id } } } } }"
    result = asyncio.run(build_schema().execute(query, context_value=context))
    assert result.errors[0].message == (
        "Query deadline exceeded: narrow the query or ask for smaller pages."
    )


def test_internal_errors_are_masked_with_a_request_id(
    model: ReadModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("secret detail from inside")

    monkeypatch.setattr(type(model), "find_person", broken)
    result = run('{ customer(id: "x") { id } }', model)
    error = result.errors[0]
    assert error.message.startswith("Internal error (request r-test)")
    assert error.extensions == {"code": "INTERNAL", "requestId": "r-test"}
    assert "secret" not in str(result.errors)


def test_production_turns_off_introspection_and_suggestions(model: ReadModel) -> None:
    import asyncio

    context = Context(Principal(Role.ANALYST, "k"), model, "r-1", deadline=float("inf"))
    production = build_schema(production=True)
    result = asyncio.run(
        production.execute("{ __schema { types { name } } }", context_value=context)
    )
    assert (
        result.errors[0].message
        == "GraphQL introspection has been disabled, but the requested query contained the field '__schema'."
    )
    typo = asyncio.run(
        production.execute("{ graphStat { nodes { kind } } }", context_value=context)
    )
    assert typo.errors[0].message == "Cannot query field 'graphStat' on type 'Query'."
    development = asyncio.run(
        build_schema().execute("{ graphStat { nodes { kind } } }", context_value=context)
    )
    assert "Did you mean 'graphStats'?" in development.errors[0].message
