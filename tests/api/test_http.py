"""The HTTP surface through httpx's ASGI transport: keys, routes, GET and batching refused, audit."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from relgraph.api.app import ServiceState, create_app
from relgraph.api.audit import verify
from relgraph.api.auth import Role

from .conftest import KEYS


def _post(app: Any, body: Any, key: str | None = KEYS[Role.ANALYST], **kw: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            return await client.post("/graphql", json=body, headers=headers, **kw)

    return asyncio.run(go())


def _get(app: Any, path: str, **kw: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(path, **kw)

    return asyncio.run(go())


QUERY = {"query": "query Stats { graphStats { nodes { kind count } } }", "operationName": "Stats"}


@pytest.mark.parametrize("key", [None, "wrong-key-0123456789", ""])
def test_no_or_unknown_key_is_401_with_no_data(app: Any, key: str | None) -> None:
    response = _post(app, QUERY, key=key)
    assert response.status_code == 401
    assert "data" not in response.json()
    assert response.headers["www-authenticate"] == "Bearer"


def test_every_role_can_query(app: Any) -> None:
    for role in Role:
        response = _post(app, QUERY, key=KEYS[role])
        if role is Role.INGEST:  # a payment system's key sends transfers and reads nothing
            assert response.status_code == 403
            continue
        assert response.status_code == 200
        assert response.json()["data"]["graphStats"]["nodes"][0]["kind"] == "Person"


def test_queries_over_get_are_refused(app: Any) -> None:
    response = _get(app, "/graphql", params={"query": "{ graphStats { nodes { kind } } }"},
                    headers={"Authorization": f"Bearer {KEYS[Role.ANALYST]}"})  # fmt: skip
    assert response.status_code in (400, 405)
    assert "graphStats" not in response.text


def test_batching_is_refused(app: Any) -> None:
    response = _post(app, [QUERY, QUERY])
    assert response.status_code == 400
    assert "Batching is not enabled" in response.text


def test_health_ready_metrics(app: Any, state: ServiceState) -> None:
    assert _get(app, "/healthz").json() == {"status": "ok"}
    assert _get(app, "/readyz").json()["status"] == "ready"
    _post(app, QUERY)
    admin = {"Authorization": f"Bearer {KEYS[Role.ADMIN]}"}
    metrics = _get(app, "/metrics", headers=admin).text
    assert 'relgraph_requests_total{outcome="ok",root_field="graphStats"} 1.0' in metrics
    assert 'relgraph_request_seconds_count{root_field="graphStats"} 1.0' in metrics


def test_not_ready_until_the_graph_is_built(state: ServiceState) -> None:
    state.model = None
    state.error = "no store"
    app = create_app(state)
    assert _get(app, "/readyz").status_code == 503
    assert _get(app, "/readyz").json()["reason"] == "no store"
    assert _post(app, QUERY).status_code == 503


def test_reads_of_persons_are_audited(
    app: Any, state: ServiceState, person_with_records: str
) -> None:
    body = {
        "query": f'query One {{ customer(id: "{person_with_records}") {{ id accounts {{ totalCount }} }} }}'
    }
    assert _post(app, body).status_code == 200
    assert _post(app, body, key=KEYS[Role.CAMPAIGN]).status_code == 200
    _post(app, QUERY)  # reads no person: not audited
    lines = [json.loads(line) for line in state.audit.path.read_text().splitlines()]
    assert len(lines) == 2
    assert lines[0]["operation"] == "One"
    assert lines[0]["role"] == "analyst"
    assert person_with_records in lines[0]["ids"]
    assert lines[0]["outcome"] == "ok"
    assert lines[0]["key_id"].startswith("k_")
    assert KEYS[Role.ANALYST] not in state.audit.path.read_text()
    assert verify(state.audit.path, state.audit.key).ok


def test_graphiql_page_outside_production_only(state: ServiceState) -> None:
    page = _get(create_app(state), "/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
    closed = _get(create_app(state, production=True), "/graphql", headers={"Accept": "text/html"})
    assert closed.status_code == 405


def test_refresh_is_for_admins_only(app: Any, state: ServiceState) -> None:
    calls: list[int] = []
    state.refresh = lambda: calls.append(1)
    mutation = {"query": "mutation { refresh { started message } }"}
    denied = _post(app, mutation, key=KEYS[Role.RISK]).json()
    assert denied["errors"][0]["message"] == "Permission denied: role 'risk' may not read refresh."
    assert calls == []
    done = _post(app, mutation, key=KEYS[Role.ADMIN]).json()
    assert done["data"]["refresh"]["started"] is True
    assert calls == [1]


def test_the_api_recovers_when_the_store_comes_back(data_dir: Path, state: ServiceState) -> None:
    """A store that cannot be reached makes /readyz say so; when it returns, no restart."""
    import threading

    from relgraph.api.server import keep_trying
    from relgraph.store.base import Store, StoreError
    from relgraph.store.embedded import EmbeddedStore

    state.model, state.error = None, None
    state.store = "neo4j"
    app = create_app(state)
    attempts: list[int] = []
    down = threading.Event()
    down.set()

    def open_store() -> Store:
        attempts.append(1)
        if down.is_set():
            raise StoreError("cannot reach Neo4j at neo4j://127.0.0.1:7687: connection refused")
        return EmbeddedStore(data_dir, read_only=True)

    worker = threading.Thread(target=keep_trying, args=(state, open_store, 0.05))
    worker.start()
    while len(attempts) < 2:
        threading.Event().wait(0.01)
    answer = _get(app, "/readyz")
    assert answer.status_code == 503
    assert answer.json() == {
        "status": "not ready",
        "store": "neo4j",
        "reason": "cannot reach Neo4j at neo4j://127.0.0.1:7687: connection refused",
    }
    down.clear()
    worker.join(timeout=30)
    assert not worker.is_alive()
    ready = _get(app, "/readyz")
    assert ready.status_code == 200
    assert ready.json()["store"] == "neo4j"
    assert _post(app, QUERY).status_code == 200


def test_a_failed_refresh_keeps_serving_and_says_why(app: Any, state: ServiceState) -> None:
    state.error = "cannot reach Neo4j at neo4j://db:7687: connection refused"
    answer = _get(app, "/readyz")
    assert answer.status_code == 200
    assert answer.json()["refreshError"] == state.error
    assert _post(app, QUERY).status_code == 200


def test_production_probes_keep_store_errors_in_the_log(state: ServiceState) -> None:
    state.model = None
    state.error = "cannot reach Neo4j at neo4j://db.internal:7687: connection refused"
    answer = _get(create_app(state, production=True), "/readyz")
    assert answer.status_code == 503
    assert answer.json()["reason"] == "the store cannot be read: see the server log"
    assert "db.internal" not in answer.text


def test_two_authorization_headers_are_400(app: Any) -> None:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            headers = [
                ("Authorization", f"Bearer {KEYS[Role.CAMPAIGN]}"),
                ("Authorization", f"Bearer {KEYS[Role.RISK]}"),
            ]
            return await client.post("/graphql", json=QUERY, headers=headers)

    response = asyncio.run(go())
    assert response.status_code == 400
    assert "data" not in response.json()
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_readyz_waits_for_the_live_index_on_the_first_build(
    data_dir: Path, state: ServiceState, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ready server takes transfers at once: /readyz says 503 while the live index (and
    the journal's replay) is still being built, so the first transfer does not wait."""
    import relgraph.api.live_build as live_build
    from relgraph.api.live import LiveScoring
    from relgraph.api.server import load_model
    from relgraph.store.embedded import EmbeddedStore

    state.model, state.error, state.live = None, None, None
    app = create_app(state)
    during: list[int] = []

    def building(*args: Any) -> LiveScoring:
        during.append(_get(app, "/readyz").status_code)
        return LiveScoring(*args)

    monkeypatch.setattr(live_build, "LiveScoring", building)
    assert load_model(state, lambda: EmbeddedStore(data_dir, read_only=True))
    assert during == [503]
    assert _get(app, "/readyz").status_code == 200
    assert state.live is not None
    assert state.live.model is state.model
