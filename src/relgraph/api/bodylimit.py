"""A cap on request bodies, as pure ASGI middleware: HTTP 413 before the body is read whole."""

from __future__ import annotations

import os
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from relgraph.api.errors import ErrorCode, error_response
from relgraph.config import ConfigError

DEFAULT_MAX_BODY_BYTES = 1_000_000
"""1 MB: a GraphQL query with its variables is a few kilobytes."""


def max_body_bytes(environ: Mapping[str, str] | None = None) -> int:
    """``RELGRAPH_MAX_BODY_BYTES``, else 1 MB."""
    env = os.environ if environ is None else environ
    value = env.get("RELGRAPH_MAX_BODY_BYTES", "").strip()
    if not value:
        return DEFAULT_MAX_BODY_BYTES
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if limit <= 0:
        raise ConfigError(
            f"RELGRAPH_MAX_BODY_BYTES must be a positive number of bytes, not {value[:40]!r}"
        )
    return limit


class _TooLargeError(Exception):
    pass


class BodyLimit:
    """Refuses bodies over ``max_bytes`` with 413: by ``Content-Length`` at once, else (chunked
    uploads) as soon as the bytes received pass the limit, before the app sees them all."""

    def __init__(self, app: ASGIApp, max_bytes: int | None = None) -> None:
        self.app = app
        self.max_bytes = max_body_bytes() if max_bytes is None else max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLargeError
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started |= message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except _TooLargeError:
            if started:  # the app answered before reading it all: nothing left to say
                return
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            f"The request body is larger than {self.max_bytes:,} bytes: send a smaller query "
            "(or raise RELGRAPH_MAX_BODY_BYTES).",
            ErrorCode.LIMIT_EXCEEDED,
            413,
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or ():
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
