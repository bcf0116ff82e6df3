"""Every error carries a code from a fixed set; internal errors are masked; bad input is a 400.

Each code is produced by a request that a client could send, over HTTP against the ASGI app.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest

from relgraph.api.app import ServiceState, create_app
from relgraph.api.auth import Role
from relgraph.api.errors import ErrorCode

from .conftest import KEYS

CODES = {code.value for code in ErrorCode}


def _send(
    app: Any,
    body: Any = None,
    *,
    key: str | None = KEYS[Role.ANALYST],
    content: bytes | None = None,
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
    method: str = "POST",
) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            sent = httpx.Headers(headers or {})
            if key and "authorization" not in sent:
                sent["Authorization"] = f"Bearer {key}"
            if content is None and body is not None:
                return await client.request(method, "/graphql", json=body, headers=sent)
            if "content-type" not in sent:
                sent["Content-Type"] = "application/json"
            return await client.request(method, "/graphql", content=content, headers=sent)

    return asyncio.run(go())


def _errors(response: httpx.Response) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = response.json()["errors"]
    assert errors, response.text
    for error in errors:
        assert error["extensions"]["code"] in CODES, error
    return errors


def _code(response: httpx.Response) -> str:
    codes = {error["extensions"]["code"] for error in _errors(response)}
    assert len(codes) == 1, codes
    return codes.pop()


def test_unauthenticated(app: Any) -> None:
    response = _send(app, {"query": "{ graphStats { nodes { kind } } }"}, key=None)
    assert response.status_code == 401
    assert _code(response) == "UNAUTHENTICATED"


def test_forbidden(app: Any) -> None:
    response = _send(app, {"query": "mutation { refresh { started } }"}, key=KEYS[Role.CAMPAIGN])
    assert response.status_code == 200
    assert _code(response) == "FORBIDDEN"


def test_not_found_echoes_at_most_200_characters_of_the_id(app: Any) -> None:
    probe = "P" + "9" * 5_000
    response = _send(app, {"query": "query($id: ID!) { customer(id: $id) { id } }",
                           "variables": {"id": probe}})  # fmt: skip
    (error,) = _errors(response)
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert probe[:200] in error["message"]
    assert probe[:201] not in error["message"]
    assert len(error["message"]) < 300


@pytest.mark.parametrize(
    ("query", "variables", "says"),
    [
        # A variable of the wrong type: the message says what was wrong, not "Unexpected error."
        ("query($f: Int) { households(first: $f) { totalCount } }", {"f": "ten"},
         "Int cannot represent non-integer value"),
        ("query($c: AudienceCriteria!) { campaignAudience(criteria: $c) { totalCount } }",
         {"c": {"unit": "HOUSEHOLD", "asOf": "yesterday"}},
         "asOf must be a date YYYY-MM-DD or an ISO-8601 timestamp, not 'yesterday'."),
        ("query($c: AudienceCriteria!) { campaignAudience(criteria: $c) { totalCount } }",
         {"c": {"unit": "FAMILY"}}, "does not exist in 'AudienceUnit' enum"),
        ("{ graphStats { nodes { kind } } ", None, "Syntax Error"),
        ("{ households(frist: 3) { totalCount } }", None, "Unknown argument 'frist'"),
        # A cursor the server never made is bad input, not a limit a client may wait out.
        ('{ households(after: "zzz") { totalCount } }', None, "Invalid cursor 'zzz'"),
        # A page of no size below none: no wait makes it valid (a page too large is a limit).
        ("{ households(first: -1) { totalCount } }", None,
         "first must be between 0 and 100, not -1."),
    ],
)  # fmt: skip
def test_bad_user_input_says_what_is_wrong(
    app: Any, query: str, variables: dict[str, Any] | None, says: str
) -> None:
    response = _send(app, {"query": query, "variables": variables})
    assert _code(response) == "BAD_USER_INPUT"
    assert says in response.json()["errors"][0]["message"]


def test_a_long_bad_variable_is_echoed_at_most_200_characters(app: Any) -> None:
    response = _send(app, {"query": "query($f: Int) { households(first: $f) { totalCount } }",
                           "variables": {"f": "x" * 100_000}})  # fmt: skip
    (error,) = _errors(response)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "x" * 201 not in error["message"]
    assert len(error["message"]) < 400


@pytest.mark.parametrize(
    "query",
    [
        "{ households(first: 100000) { totalCount } }",  # a page too large
        "{ " + " ".join(f"a{i}: graphStats {{ nodes {{ kind }} }}" for i in range(30)) + " }",
        "{ households(first: 100) { edges { node { members { accounts(first: 100) { "
        "totalCount } } } } } }",  # cost
    ],
    ids=["page", "aliases", "cost"],
)
def test_limit_exceeded(app: Any, query: str) -> None:
    assert _code(_send(app, {"query": query})) == "LIMIT_EXCEEDED"


class _Exploding(dict[str, Any]):
    """Stats that fail the way a bug would, with a detail the client must not see."""

    def __getitem__(self, key: str) -> Any:
        raise RuntimeError("duckdb: /srv/relgraph/data/store.duckdb is locked by pid 4242")


def test_internal_errors_are_masked_and_logged_with_the_request_id(
    app: Any, state: ServiceState, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    assert state.model is not None
    monkeypatch.setattr(state.model, "stats", _Exploding(state.model.stats))
    with caplog.at_level(logging.ERROR, logger="relgraph.api"):
        response = _send(app, {"query": "{ graphStats { nodes { kind } } }"})
    (error,) = _errors(response)
    assert error["extensions"]["code"] == "INTERNAL"
    assert "store.duckdb" not in response.text
    assert "4242" not in response.text
    request_id = error["extensions"]["requestId"]
    assert request_id in error["message"]
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert len(logged) == 1
    assert logged[0].exc_info is not None
    assert "4242" in str(logged[0].exc_info[1])


@pytest.mark.parametrize(
    ("content", "content_type", "says"),
    [
        (b"null", None, "must be a JSON object"),
        (b'"hello"', None, "must be a JSON object"),
        (b"42", None, "must be a JSON object"),
        (b"[]", None, "Batching"),
        (b"[" * 50_000 + b"]" * 50_000, None, "nested"),
        (b'{"query": "{ graphStats { nodes { count } } }", "variables": ' + b"[" * 100
         + b"]" * 100 + b"}", None, "nested"),
        # A megabyte of small arrays took the event loop for ~0.5 s to decode and walk.
        (b'{"query": "{ graphStats { nodes { count } } }", "variables": {"x": ['
         + b",".join([b"[]"] * 10_001) + b"]}}", None, "more than 10,000 arrays and objects"),
        (b'{"query": "query($x: Float) { graphStats { nodes { count } } }", '
         b'"variables": {"x": NaN}}', None, "not valid JSON"),
        (b'{"query": "{ graphStats { nodes { count } } }", "variables": {"x": Infinity}}',
         None, "not valid JSON"),
        (b'{"query": "\xff\xfe{ graphStats }"}', None, "not UTF-8"),
        # Half a surrogate pair, escaped: in a search text, an id or the operation's name it
        # was a 500 (the audit line and the search's HMAC encode them as UTF-8).
        (b'{"query": "query($t: String!) { search(text: $t) { totalCount } }", '
         b'"variables": {"t": "\\ud800"}}', None, "lone surrogate"),
        (b'{"query": "query($id: ID!) { customer(id: $id) { id } }", '
         b'"variables": {"id": "CB\\uDFFF"}}', None, "lone surrogate"),
        (b'{"query": "{ graphStats { nodes { count } } }", "operationName": "\\ud83d"}', None,
         "lone surrogate"),
        (b"{not json", None, "not valid JSON"),
        (b'{"query": 5}', None, "must be a string"),
        (b'{"query": "{ graphStats { nodes { count } } }", "operationName": {"a": 1}}', None,
         "operationName must be a string"),
        (b"{}", None, "No GraphQL query"),
        (b"query { graphStats { nodes { count } } }", "application/graphql", "content type"),
        (b"query=1", "application/x-www-form-urlencoded", "content type"),
    ],
    ids=["null", "string", "number", "empty-list", "deep-array", "deep-variables",
         "many-arrays", "nan",
         "infinity", "utf8", "surrogate-text", "surrogate-id", "surrogate-opname", "garbage", "query-number", "opname-object", "no-query",
         "graphql-type", "form-type"],
)  # fmt: skip
def test_malformed_bodies_are_400_with_a_graphql_error(
    app: Any, content: bytes, content_type: str | None, says: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else None
    response = _send(app, content=content, headers=headers)
    assert response.status_code == 400, response.text
    assert _code(response) == "BAD_USER_INPUT"
    assert says in response.json()["errors"][0]["message"]


def test_brackets_inside_strings_are_text_not_structure(app: Any) -> None:
    """Only the body's own arrays and objects count against the limits: a search text of
    brackets, or a thousand records (a recordTransfers batch), is an ordinary request."""
    text = "[{" * 20 + '\\"' + "]}" * 20
    variables = {"t": text, "records": [{"tx_id": f"T{i}", "amount": 1} for i in range(1_000)]}
    response = _send(app, {"query": "query($t: String!) { search(text: $t, kinds: [NAME]) "
                           "{ totalCount } }", "variables": variables})  # fmt: skip
    assert response.status_code == 200, response.text
    assert "nested" not in response.text
    assert "arrays and objects" not in response.text


def test_a_surrogate_pair_escaped_whole_is_text(app: Any) -> None:
    """Only half a pair is refused: an emoji escaped as its two halves is one character."""
    response = _send(app, content=b'{"query": "query($t: String!) { search(text: $t) '
                     b'{ totalCount } }", "variables": {"t": "\\ud83d\\ude00"}}')  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json()["data"]["search"]["totalCount"] == 0


def test_an_unknown_operation_name_is_400_and_clipped(app: Any) -> None:
    name = "Q" * 50_000
    response = _send(app, {"query": "query Stats { graphStats { nodes { count } } }",
                           "operationName": name})  # fmt: skip
    assert response.status_code == 400
    assert _code(response) == "BAD_USER_INPUT"
    assert "Q" * 201 not in response.text
    assert len(response.content) < 2_000


def test_bodies_over_the_limit_are_413(state: ServiceState) -> None:
    state.max_body_bytes = 10_000
    app = create_app(state)
    padding = "#" + "x" * 20_000 + "\n"
    big = {"query": padding + "{ graphStats { nodes { count } } }"}
    response = _send(app, big)
    assert response.status_code == 413
    assert _code(response) == "LIMIT_EXCEEDED"
    # Without a Content-Length (a chunked upload) the cap holds as the bytes arrive.

    async def chunks() -> Any:
        for _ in range(30):
            yield b" " * 1_000

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post(
                "/graphql",
                content=chunks(),
                headers={"Authorization": f"Bearer {KEYS[Role.ANALYST]}",
                         "Content-Type": "application/json"},
            )  # fmt: skip

    chunked = asyncio.run(go())
    assert chunked.status_code == 413
    assert _code(chunked) == "LIMIT_EXCEEDED"
    small = _send(app, {"query": "{ graphStats { nodes { count } } }"})
    assert small.status_code == 200


def test_the_default_limit_is_1_mb(app: Any) -> None:
    response = _send(app, {"query": "{ graphStats { nodes { count } } }", "variables":
                           {"pad": "x" * 1_000_001}})  # fmt: skip
    assert response.status_code == 413


def test_max_body_bytes_from_the_environment() -> None:
    from relgraph.api.bodylimit import max_body_bytes
    from relgraph.config import ConfigError

    assert max_body_bytes({}) == 1_000_000
    assert max_body_bytes({"RELGRAPH_MAX_BODY_BYTES": "2048"}) == 2048
    for bad in ("lots", "0", "-5"):
        with pytest.raises(ConfigError, match="RELGRAPH_MAX_BODY_BYTES must be a positive"):
            max_body_bytes({"RELGRAPH_MAX_BODY_BYTES": bad})


def test_replies_built_outside_graphql_have_codes(state: ServiceState) -> None:
    app = create_app(state)
    got = asyncio.run(_get(app, "/graphql?query=%7BgraphStats%7Bnodes%7Bcount%7D%7D%7D"))
    assert got.status_code == 405
    assert _code(got) == "BAD_USER_INPUT"
    two = _send(app, {"query": "{ graphStats { nodes { count } } }"},
                headers=[("Authorization", f"Bearer {KEYS[Role.ANALYST]}"),
                         ("Authorization", f"Bearer {KEYS[Role.ADMIN]}")])  # fmt: skip
    assert two.status_code == 400
    assert _code(two) == "BAD_USER_INPUT"
    assert "one Authorization header" in two.json()["errors"][0]["message"]
    state.model = None
    not_ready = _send(app, {"query": "{ graphStats { nodes { count } } }"})
    assert not_ready.status_code == 503
    assert _code(not_ready) == "INTERNAL"


def test_unknown_paths_and_methods_get_the_json_error_shape(state: ServiceState) -> None:
    app = create_app(state)

    async def ask(method: str, path: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, path)

    missing = asyncio.run(ask("GET", "/v2/graphql"))
    assert missing.status_code == 404
    assert _code(missing) == "NOT_FOUND"
    assert "POST /graphql" in missing.json()["errors"][0]["message"]
    wrong = asyncio.run(ask("GET", "/v1/transfers"))
    assert wrong.status_code == 405
    assert wrong.headers["Allow"] == "POST"
    assert _code(wrong) == "BAD_USER_INPUT"
    assert wrong.json()["errors"][0]["message"] == "This path does not take GET: use POST."
    assert "/v1/transfers" not in wrong.text, "the client's path is not echoed"


async def _get(app: Any, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(path, headers={"Authorization": f"Bearer {KEYS[Role.ANALYST]}"})


@pytest.mark.parametrize(
    "query",
    [
        "{ graphStat { nodes { kind } } }",
        "{ households(frist: 3) { totalCount } }",
        "{ households(orderBy: TOTAL_AUM_DES) { totalCount } }",
        "{ graphStats { nodes { knid } } }",
    ],
)
def test_production_makes_no_suggestions(state: ServiceState, query: str) -> None:
    development = _send(create_app(state), {"query": query})
    assert "Did you mean" in development.text  # the test would see one if it were there
    production = _send(create_app(state, production=True), {"query": query})
    assert _code(production) == "BAD_USER_INPUT"
    assert "Did you mean" not in production.text
    assert "mean" not in production.text


def test_a_variable_naming_a_wrong_enum_value_gets_no_suggestion_in_production(
    state: ServiceState,
) -> None:
    body = {"query": "query($c: AudienceCriteria!) { campaignAudience(criteria: $c) { totalCount } }",
            "variables": {"c": {"unit": "HOUSHOLD"}}}  # fmt: skip
    assert "Did you mean" in _send(create_app(state), body).text
    production = _send(create_app(state, production=True), body)
    assert _code(production) == "BAD_USER_INPUT"
    assert "HOUSEHOLD" not in production.text
