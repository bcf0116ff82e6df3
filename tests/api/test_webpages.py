"""The browser pages over HTTP: served from the bundle, with a policy that keeps the browser on
this server, and a clear answer where the bundle was not built."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from relgraph.api import webpages
from relgraph.api.app import ServiceState, create_app
from relgraph.api.auth import Role

from .conftest import KEYS


def _get(app: Any, path: str) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(path, headers={"Accept": "text/html"})

    return asyncio.run(go())


@pytest.fixture
def bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    static = tmp_path / "static"
    for name in ("explore", "graphiql"):
        (static / name).mkdir(parents=True)
        (static / name / "index.html").write_text(f"<!doctype html><p>{name} 页面</p>", "utf-8")
    (static / "assets").mkdir()
    (static / "assets" / "explore-abc123.js").write_text("console.log(1)", "utf-8")
    monkeypatch.setattr(webpages, "STATIC_DIR", static)
    return static


def test_the_explorer_and_its_files_come_from_the_bundle(state: ServiceState, bundle: Path) -> None:
    app = create_app(state)
    page = _get(app, "/explore")  # no key: the page holds no data
    assert page.status_code == 200
    assert page.text == (bundle / "explore" / "index.html").read_text("utf-8")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "connect-src 'self'" in policy
    script = _get(app, "/static/assets/explore-abc123.js")
    assert script.status_code == 200
    assert "immutable" in script.headers["cache-control"]
    assert _get(app, "/static/assets/missing.js").status_code == 404
    assert _get(app, "/static/../explore/index.html").status_code == 404


@pytest.mark.parametrize("production", [False, True])
def test_a_page_is_served_by_its_route_only(
    state: ServiceState, bundle: Path, production: bool
) -> None:
    # A copy under /static went without the policy: any site could frame the explorer
    # (the risk team's review buttons), and GraphiQL was back in production.
    app = create_app(state, production=production)
    for path in ("/static/explore/index.html", "/static/graphiql/index.html",
                 "/static/explore/INDEX.HTML"):  # fmt: skip
        assert _get(app, path).status_code == 404, path
    assert "frame-ancestors 'none'" in _get(app, "/explore").headers["content-security-policy"]


def test_graphiql_is_the_bundled_page_not_strawberrys_cdn_one(
    state: ServiceState, bundle: Path
) -> None:
    page = _get(create_app(state), "/graphql")
    assert page.status_code == 200
    assert page.text == (bundle / "graphiql" / "index.html").read_text("utf-8")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert _get(create_app(state, production=True), "/graphql").status_code == 405


def test_an_unbuilt_page_says_how_to_build_it(
    state: ServiceState, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webpages, "STATIC_DIR", tmp_path / "nothing")
    app = create_app(state)
    for path in ("/explore", "/graphql", "/static/assets/explore-abc123.js", "/static/x"):
        answer = _get(app, path)
        assert answer.status_code == 404, path
        assert "make web" in answer.text


def test_the_built_pages_name_no_other_host() -> None:
    """What `make web` produced loads its scripts and styles from /static only."""
    built = webpages.STATIC_DIR
    if not (built / "explore" / "index.html").exists():
        pytest.skip("the pages are not built here (make web)")
    for name in ("explore", "graphiql"):
        html = (built / name / "index.html").read_text("utf-8")
        assert "/static/assets/" in html
        assert "http://" not in html
        assert "https://" not in html


def test_answers_holding_personal_data_are_never_stored(state: ServiceState, bundle: Path) -> None:
    app = create_app(state)

    async def ask() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post(
                "/graphql",
                json={"query": "{ graphStats { persons } }"},
                headers={"Authorization": f"Bearer {KEYS[Role.ANALYST]}"},
            )

    answer = asyncio.run(ask())
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["x-content-type-options"] == "nosniff"
    # The bundle's files stay cached for good; the pages keep their own policy.
    assert "immutable" in _get(app, "/static/assets/explore-abc123.js").headers["cache-control"]
    assert _get(app, "/explore").headers["cache-control"] == "no-cache"
