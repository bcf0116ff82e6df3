"""Answers that hold personal data are never stored by a browser or a proxy.

Pure ASGI middleware: every answer but the bundle's files (``/static``, content-hashed and
cached for good) gets ``Cache-Control: no-store`` unless its route set a policy of its own
(the pages' ``no-cache``), and ``X-Content-Type-Options: nosniff`` so a JSON answer quoting a
customer's name is never sniffed into HTML.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_STATIC = "/static/"


class PrivateAnswers:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(_STATIC):
            await self.app(scope, receive, send)
            return

        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, marked)
