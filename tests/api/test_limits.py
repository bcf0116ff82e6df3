"""Each limit against abuse, and the exact error a client gets from it."""

from __future__ import annotations

import time

import pytest

from relgraph.api.auth import Principal, Role
from relgraph.api.context import Context
from relgraph.api.limits import MAX_COST
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


def test_depth_is_counted_through_fragments(model: ReadModel) -> None:
    hop = "family { edges { node { person { ...P } } } }"
    chain = "".join(
        f"fragment P{i} on Person {{ family {{ edges {{ node {{ person {{ ...P{i + 1} }} }} }} }} }} "
        for i in range(3)
    )
    query = '{ customer(id: "x") { ...P0 } } ' + chain + "fragment P3 on Person { id }"
    result = run(query, model)
    assert result.errors[0].message == "'anonymous' exceeds maximum operation depth of 10"
    assert "...P" in hop  # the same hop written inline is test_depth_limit's


def test_aliases_are_counted_through_every_spread(model: ReadModel) -> None:
    eight = " ".join(f"a{i}: id" for i in range(8))
    query = (
        '{ customer(id: "x") { ...A ... on Person { ...A } } } '
        f"fragment A on Person {{ {eight} }}"
    )
    result = run(query, model)
    assert result.errors[0].message == "16 aliases found. Allowed: 15"


def test_a_spread_of_an_undefined_fragment_is_named_not_an_internal_error(
    model: ReadModel,
) -> None:
    # Strawberry's depth rule raised KeyError on it: INTERNAL, and a traceback logged for
    # every such request.
    result = run('{ customer(id: "x") { ...Nowhere } }', model)
    assert [e.message for e in result.errors] == ["Unknown fragment 'Nowhere'."]


def test_alias_limit(model: ReadModel) -> None:
    query = "{ " + " ".join(f"a{i}: graphStats {{ nodes {{ count }} }}" for i in range(16)) + " }"
    result = run(query, model)
    assert result.errors[0].message == "16 aliases found. Allowed: 15"


def test_token_limit(model: ReadModel) -> None:
    query = "{ graphStats { " + " ".join(["nodes { kind }"] * 600) + " } }"
    result = run(query, model)
    assert "Document contains more than 2000 tokens. Parsing aborted." in result.errors[0].message


COST_ERROR = "Query cost exceeds the limit of 5000: ask for smaller pages or fewer nested lists."
HEAVY_INLINE = """{ households(first: 100) { edges { node { members { accounts(first: 100) {
    edges { node { id } } } } } } } }"""
HEAVY_FRAGMENTS = """{ households(first: 100) { ...Page } }
fragment Page on HouseholdConnection { edges { node { ...Members } } }
fragment Members on Household { members { ...Accounts } }
fragment Accounts on Person { accounts(first: 100) { edges { node { id } } } }"""


def _cost(query: str, **variables: object) -> int:
    from graphql import parse

    from relgraph.api.limits import estimate_cost

    schema = build_schema()._schema
    return estimate_cost(schema, parse(query), None, variables or None, cap=10**12)


def test_cost_limit(model: ReadModel) -> None:
    result = run(HEAVY_INLINE, model)
    assert [e.message for e in result.errors] == [COST_ERROR]
    assert result.data is None


def test_a_query_refused_inline_is_refused_through_nested_fragments(model: ReadModel) -> None:
    assert _cost(HEAVY_FRAGMENTS) == _cost(HEAVY_INLINE) > 5_000
    result = run(HEAVY_FRAGMENTS, model)
    assert [e.message for e in result.errors] == [COST_ERROR]


def test_inline_fragments_on_the_party_interface_are_priced(model: ReadModel) -> None:
    """``holder`` is a ``Party``: its lists hide behind ``... on Person``."""
    inline = """{ account(id: "x") { holder { ... on Person { accounts(first: 100) { edges {
        node { holder { ... on Person { accounts(first: 100) { edges { node { id
        } } } } } } } } } } } }"""
    named = """{ account(id: "x") { holder { ...P } } }
    fragment P on Party { ... on Person { accounts(first: 100) { edges { node { holder { ...Q } } } } } }
    fragment Q on Party { ... on Person { accounts(first: 100) { edges { node { id } } } } }"""
    assert _cost(named) == _cost(inline) > 5_000
    for query in (inline, named):
        assert [e.message for e in run(query, model).errors] == [COST_ERROR]


def test_fragment_cycles_are_refused(model: ReadModel) -> None:
    query = """{ customer(id: "x") { ...A } }
    fragment A on Person { accounts(first: 100) { edges { node { holder { ...B } } } } }
    fragment B on Party { ... on Person { ...A } }"""
    assert _cost(query) < 5_000  # the walk stops at the cycle instead of looping
    result = run(query, model)
    assert result.errors[0].message == "Cannot spread fragment 'A' within itself via 'B'."


def test_fragments_spread_many_times_are_each_counted(model: ReadModel) -> None:
    """Doubling fragments (A spreads B twice, B spreads C twice...) cannot hide their size."""
    chain = ["fragment F0 on Account { id product balance status }"]
    for i in range(1, 14):
        chain.append(f"fragment F{i} on Account {{ ...F{i - 1} holder {{ id }} ...F{i - 1} }}")
    query = '{ account(id: "x") { ...F13 } }\n' + "\n".join(chain)
    assert _cost(query) > 5_000
    assert [e.message for e in run(query, model).errors] == [COST_ERROR]


@pytest.mark.parametrize(
    "field",
    [
        "riskChains(first: 100) { edges { node { id hops { txId } } } }",
        "campaignAudience(criteria: {unit: HOUSEHOLD}, first: 100) { edges { node { id } } }",
        "influencers(first: 100) { edges { node { id } } }",
    ],
)
def test_every_connection_is_priced_by_its_page(field: str) -> None:
    small = _cost("{ " + field.replace("first: 100", "first: 2") + " }")
    large = _cost("{ " + field + " }")
    assert large > 40 * small > 0


def test_every_list_and_connection_field_of_the_schema_is_priced() -> None:
    """Walks the schema: a field returning a list or a connection multiplies what is under it."""
    from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType, get_named_type, parse

    from relgraph.api.limits import DEFAULT_LIST_COST, _Estimator, is_connection

    schema = build_schema()._schema
    priced = 0
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for name, definition in type_.fields.items():
            kind = definition.type
            kind = kind.of_type if isinstance(kind, GraphQLNonNull) else kind
            named = get_named_type(kind)
            if not (isinstance(kind, GraphQLList) or is_connection(named)):
                continue
            if not isinstance(named, GraphQLObjectType) or (
                name == "edges" and is_connection(type_)
            ):
                continue
            estimator = _Estimator(schema, {}, {}, cap=10**9)
            node = (
                parse(f"{{ {name} {{ __typename }} }}").definitions[0].selection_set.selections[0]
            )  # type: ignore[attr-defined]
            assert estimator.items(node, type_, kind, named) >= DEFAULT_LIST_COST, (type_, name)
            priced += 1
    assert priced >= 20


def test_a_first_sent_as_a_variable_is_priced_at_its_value(model: ReadModel) -> None:
    query = """query($n: Int) { households(first: $n) { edges { node { members {
        accounts(first: $n) { edges { node { id } } } } } } } }"""
    assert _cost(query, n=5) == _cost(query.replace("$n)", "5)").replace("query($n: Int) ", ""))
    assert run(query, model, n=5).errors is None
    assert [e.message for e in run(query, model, n=100).errors] == [COST_ERROR]
    # Without a value the variable may be anything up to the largest page.
    assert _cost(query) == _cost(query, n=100)


def test_a_layering_check_that_computes_is_priced_as_a_heavy_query() -> None:
    """With its own settings it walks transfers whatever it selects: the heavy lane's price,
    through variables, fragments and aliases alike; the stored alerts stay a lookup."""
    from relgraph.api.admission import HEAVY_COST

    check = 'query($w: Float) { layeringCheck(accountId: "A1", windowHours: $w) { score } }'
    assert _cost(check, w=24.0) >= HEAVY_COST
    assert _cost(check) >= HEAVY_COST  # no value sent: it may be anything
    assert _cost(check, w=None) < HEAVY_COST
    assert _cost('{ layeringCheck(accountId: "A1") { score } }') < HEAVY_COST
    assert _cost('{ layeringCheck(accountId: "A1", maxHops: null) { score } }') < HEAVY_COST
    spread = (
        '{ ...C } fragment C on Query { layeringCheck(accountId: "A1", minAmount: 5) { score } }'
    )
    assert _cost(spread) >= HEAVY_COST
    two = (
        '{ a: layeringCheck(accountId: "A1", maxHops: 3) { score } '
        'b: layeringCheck(accountId: "A2", maxHops: 3) { score } }'
    )
    assert _cost(two) >= 2 * HEAVY_COST


def _spread_tree(depth: int, leaf: str) -> str:
    """A query whose fragments each spread the next twice: 2^depth leaves in ~40 bytes a level."""
    fragments = [f"fragment F{i} on Person {{ ...F{i + 1} ...F{i + 1} }}" for i in range(depth)]
    return (
        '{ customer(id: "x") { ...F0 } } '
        + " ".join(fragments)
        + (f" fragment F{depth} on Person {{ {leaf} }}")
    )


def test_a_tree_of_fragment_spreads_is_priced_at_once(model: ReadModel) -> None:
    """Leaves that cost nothing (a fragment the document does not define) made the walk
    2^depth long before validation refused the document: the router prices every request on
    the event loop, so a kilobyte stopped the server (22 levels: seconds; 30: hours)."""
    from graphql import parse

    from relgraph.api.limits import estimate_cost
    from relgraph.api.routing import runs_inline

    schema = build_schema()._schema
    bomb = _spread_tree(22, "...Nowhere")
    started = time.perf_counter()
    assert estimate_cost(schema, parse(bomb)) > MAX_COST
    assert runs_inline(schema, bomb, None, None) is False  # the pool's to refuse
    assert time.perf_counter() - started < 0.5
    # Validation too walked each fragment once per spread (Strawberry's depth and alias
    # rules): 19 levels took a worker 4 s, 25 levels minutes, before any cost was looked at.
    started = time.perf_counter()
    result = run(_spread_tree(19, "id"), model)
    assert time.perf_counter() - started < 0.5
    assert [e.message for e in result.errors] == [COST_ERROR]
    result = run(bomb, model)
    assert [e.message for e in result.errors] == ["Unknown fragment 'Nowhere'."]
    # Leaves that cost still reach the cap as they always did, priced as written out.
    assert _cost(_spread_tree(4, "id")) == 1 + 2**4
    assert [e.message for e in run(_spread_tree(13, "id"), model).errors] == [COST_ERROR]


def test_a_remembered_cost_never_lets_a_larger_page_through(model: ReadModel) -> None:
    """Costs are remembered per query: the same text with a larger ``first`` is priced anew."""
    import asyncio

    schema = build_schema()
    query = """query($n: Int) { households(first: $n) { edges { node { members {
        accounts(first: $n) { edges { node { id } } } } } } } }"""

    def errors(n: int) -> list[str]:
        context = Context(Principal(Role.ANALYST, "k"), model, "r", deadline=float("inf"))
        result = asyncio.run(schema.execute(query, {"n": n}, context_value=context))
        return [e.message for e in result.errors or []]

    assert errors(5) == []
    assert errors(5) == []  # priced from memory
    assert errors(100) == [COST_ERROR]
    assert errors(5) == []


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
