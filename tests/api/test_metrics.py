"""/metrics: bounded labels whatever clients send, and only for scrape or admin keys."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest

from relgraph.api.app import ServiceState, create_app
from relgraph.api.auth import KeyRing, Role
from relgraph.api.metrics import Metrics

from .conftest import KEYS

SCRAPE_KEY = "prometheus-scrape-key-0123456789"


@pytest.fixture
def scraped(state: ServiceState) -> Any:
    """The app with a scrape key besides one key per role."""
    state.keys = KeyRing(
        {key: role for role, key in KEYS.items()}, scrape=[SCRAPE_KEY], names=state.audit.key
    )
    return create_app(state)


def _call(app: Any, method: str, path: str, key: str | None, **kw: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            return await client.request(method, path, headers=headers, **kw)

    return asyncio.run(go())


def _scrape(app: Any) -> str:
    response = _call(app, "GET", "/metrics", SCRAPE_KEY)
    assert response.status_code == 200
    return response.text


def _series(text: str) -> set[str]:
    """Each sample's name and labels, without its value."""
    return {line.rsplit(" ", 1)[0] for line in text.splitlines() if not line.startswith("#")}


def test_metrics_are_labelled_by_root_field(scraped: Any) -> None:
    for query in (
        "query Dashboard { graphStats { nodes { kind } } }",
        "query Dashboard { graphStats { nodes { kind } } }",
        "{ households(first: 2) { totalCount } }",
        "{ nosuchField }",
        "{ graphStats { nodes { kind } } households(first: 1) { totalCount } }",
    ):
        _call(scraped, "POST", "/graphql", KEYS[Role.ANALYST], json={"query": query})
    text = _scrape(scraped)
    assert 'relgraph_requests_total{outcome="ok",root_field="graphStats"} 2.0' in text
    assert 'relgraph_requests_total{outcome="ok",root_field="households"} 1.0' in text
    assert 'relgraph_requests_total{outcome="error",root_field="other"} 1.0' in text
    assert 'relgraph_requests_total{outcome="ok",root_field="other"} 1.0' in text
    assert 'relgraph_errors_total{code="BAD_USER_INPUT"} 1.0' in text
    assert "nosuchField" not in text
    assert "Dashboard" not in text


def test_attack_client_names_do_not_grow_the_metrics(state: ServiceState) -> None:
    """Five 2 MB operation names and 200 distinct ones add no series and no bytes of names."""
    state.max_body_bytes = 10_000_000  # let the big names through to the metrics
    state.keys = KeyRing(
        {key: role for role, key in KEYS.items()}, scrape=[SCRAPE_KEY], names=state.audit.key
    )
    app = create_app(state)
    ask = "graphStats { nodes { kind } }"
    _call(app, "POST", "/graphql", KEYS[Role.ANALYST], json={"query": f"query A {{ {ask} }}"})
    before = _scrape(app)
    huge = [c * 2_000_000 for c in "BCDEF"]
    names = huge + [f"Op{i}" for i in range(200)]
    for name in names:
        response = _call(app, "POST", "/graphql", KEYS[Role.ANALYST],
                         json={"query": f"query {name} {{ {ask} }}", "operationName": name})  # fmt: skip
        assert response.status_code == 200
    after = _scrape(app)
    assert _series(after) == _series(before)
    assert len(after) < len(before) + 200  # only the counts' digits may grow
    assert not re.search("BBBB|Op1", after)
    assert (
        f'relgraph_requests_total{{outcome="ok",root_field="graphStats"}} {len(names) + 1}.0'
        in after
    )


def test_label_values_come_from_fixed_sets() -> None:
    metrics = Metrics()
    metrics.observe("graphStats", 0.01, "made-up-outcome")
    metrics.observe_ingest("made-up-endpoint", 0.01, 418)
    metrics.count_records("transfers", {"made-up-status": 2})
    metrics.realtime_alert("made-up-typology")
    text = metrics.render().decode()
    assert 'outcome="error"' in text
    assert 'relgraph_ingest_seconds_count{code="other",endpoint="other"} 1.0' in text
    assert 'relgraph_ingest_records_total{endpoint="transfers",status="other"} 2.0' in text
    assert 'relgraph_realtime_alerts_total{typology="other"} 1.0' in text
    assert "made-up" not in text


@pytest.mark.parametrize(
    ("key", "status"),
    [(None, 401), ("not-a-key-0123456789", 401), (KEYS[Role.ANALYST], 403),
     (KEYS[Role.RISK], 403), (KEYS[Role.CAMPAIGN], 403), (KEYS[Role.ADMIN], 200),
     (SCRAPE_KEY, 200)],
)  # fmt: skip
def test_metrics_need_a_scrape_or_admin_key(scraped: Any, key: str | None, status: int) -> None:
    response = _call(scraped, "GET", "/metrics", key)
    assert response.status_code == status
    if status != 200:
        assert "relgraph_requests_total" not in response.text
        code = response.json()["errors"][0]["extensions"]["code"]
        assert code == ("UNAUTHENTICATED" if status == 401 else "FORBIDDEN")


def test_a_scrape_key_cannot_query(scraped: Any) -> None:
    body = {"query": "{ graphStats { nodes { kind } } }"}
    response = _call(scraped, "POST", "/graphql", SCRAPE_KEY, json=body)
    assert response.status_code == 401
    assert "data" not in response.json()


def test_two_apps_count_apart(state: ServiceState) -> None:
    state.keys = KeyRing(
        {key: role for role, key in KEYS.items()}, scrape=[SCRAPE_KEY], names=state.audit.key
    )
    first = create_app(state)
    other = ServiceState(keys=state.keys, audit=state.audit, model=state.model)
    second = create_app(other)
    _call(first, "POST", "/graphql", KEYS[Role.ANALYST],
          json={"query": "{ graphStats { nodes { kind } } }"})  # fmt: skip
    assert 'root_field="graphStats"} 1.0' in _scrape(first)
    assert 'root_field="graphStats"' not in _scrape(second)


def test_two_authorization_headers_on_metrics_are_400(scraped: Any) -> None:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=scraped)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            headers = [("Authorization", f"Bearer {SCRAPE_KEY}"), ("Authorization", "Bearer x")]
            return await client.get("/metrics", headers=headers)

    response = asyncio.run(go())
    assert response.status_code == 400
    assert "relgraph_requests_total" not in response.text
