"""The browser pages: the explorer at ``/explore`` and GraphiQL, bundled files under ``/static``.

Both are built from npm packages at build time (``make web``: ``web/`` → ``api/static/``) and
ship in the wheel, so a browser on a bank network without internet access gets every script,
style and font from this server. The Content-Security-Policy makes the browser refuse any
other host, should a bundled library ever try one. The pages hold no data: every answer
comes from ``/graphql`` behind an API key, which the pages keep in memory only.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

STATIC_DIR = Path(__file__).parent / "static"
"""Where ``make web`` writes the bundle (``explore/``, ``graphiql/``, ``assets/``)."""

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; connect-src 'self'; img-src 'self' data: blob:; "
    "style-src 'self' 'unsafe-inline'; font-src 'self' data:; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
)
"""Scripts, styles, fonts and requests from this server only (inline styles: the graph
library and GraphiQL set element styles)."""

PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    # The pages are tiny and change with each release: no stale copy after an upgrade.
    "Cache-Control": "no-cache",
}

NOT_BUILT = (
    "The {page} page is not built into this installation: run `make web` "
    "(needs node and npm) and reinstall relgraph."
)


def page(name: str, static_dir: Path | None = None) -> Response:
    """The HTML of a bundled page (``explore`` or ``graphiql``), or a 404 saying how to build it."""
    path = (static_dir or STATIC_DIR) / name / "index.html"
    try:
        html = path.read_text("utf-8")
    except FileNotFoundError:
        return HTMLResponse(
            f"<!doctype html><meta charset=utf-8><p>{NOT_BUILT.format(page=name)}</p>",
            status_code=404,
            headers=PAGE_HEADERS,
        )
    return HTMLResponse(html, headers=PAGE_HEADERS)


class Assets:
    """The bundle's files (content-hashed names, so they may be cached for good). Not its
    HTML: a page is served only by its route, with :data:`PAGE_HEADERS` — a copy under
    ``/static`` would go without the CSP, could be framed by any site (clickjacking the
    risk team's review buttons) and would bring GraphiQL back in production."""

    def __init__(self, static_dir: Path) -> None:
        self.static_dir = static_dir
        self.files = StaticFiles(directory=static_dir, check_dir=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if str(scope.get("path", "")).lower().endswith((".html", ".htm")):
            refused = PlainTextResponse(
                "Not found: the pages are at /explore and /graphql.", status_code=404
            )
            await refused(scope, receive, send)
            return
        if not self.static_dir.is_dir():
            # StaticFiles raises on a missing directory: without `make web` every /static
            # path was a 500 with a traceback in the log, for anyone, with no key.
            unbuilt = PlainTextResponse(NOT_BUILT.format(page="explore"), status_code=404)
            await unbuilt(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))  # type: ignore[call-overload]
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"cache-control", b"public, max-age=31536000, immutable"))
                message["headers"] = headers
            await send(message)

        await self.files(scope, receive, send_with_headers)  # type: ignore[arg-type]


def routes(static_dir: Path | None = None) -> list[BaseRoute]:
    """``/explore`` (the page) and ``/static`` (its files and GraphiQL's); no key needed."""
    static_dir = static_dir or STATIC_DIR

    async def explore(_: Request) -> Response:
        return page("explore", static_dir)

    async def explore_slash(_: Request) -> Response:
        return RedirectResponse("/explore", status_code=308)

    return [
        Route("/explore", explore),
        Route("/explore/", explore_slash),
        Mount("/static", app=Assets(static_dir)),
    ]
