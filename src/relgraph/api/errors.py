"""Errors a client is meant to read, their codes, and the masking of every other error.

Every error the API sends carries ``extensions.code``, one of :class:`ErrorCode`, whether it
comes from GraphQL (:class:`MaskInternalErrors`) or from the HTTP layer (:func:`error_response`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from enum import StrEnum
from typing import Any

from graphql import GraphQLError
from starlette.responses import JSONResponse
from strawberry.extensions import MaskErrors

log = logging.getLogger("relgraph.api")


class ErrorCode(StrEnum):
    """The only values ``extensions.code`` takes, so clients can branch on them."""

    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    INTERNAL = "INTERNAL"


class ClientError(Exception):
    """A request the API refuses, with a message that tells the client why."""

    code = ErrorCode.BAD_USER_INPUT


class NotFoundError(ClientError):
    """An id that names nothing."""

    code = ErrorCode.NOT_FOUND


class PermissionDeniedError(ClientError):
    """A field the caller's role may not see (never a quiet null)."""

    code = ErrorCode.FORBIDDEN

    def __init__(self, field: str, role: str) -> None:
        super().__init__(f"Permission denied: role '{role}' may not read {field}.")


class LimitError(ClientError):
    """A request above one of the API's limits."""

    code = ErrorCode.LIMIT_EXCEEDED


MAX_ECHO = 200
"""At most this many characters of a client's value are echoed back in an error."""
MAX_MESSAGE = 1_000
"""No error message is longer, whatever it quotes."""

_LONG_RUN = re.compile(rf"[^'\"]{{{MAX_ECHO}}}[^'\"]+")
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")
# The messages of graphql-core's and Strawberry's limit validators, and of our cost rule:
# validation errors carry no exception, so the message is all there is to tell them by.
_LIMIT_MESSAGE = re.compile(
    r"exceeds maximum operation depth|aliases found\. Allowed|Document contains more than"
    r"|exceeds the limit of|Query cost"
)


def clip(message: str) -> str:
    """``message`` with every stretch between quotes cut to 200 characters, the whole to 1,000.

    Errors echo what the client sent (an id, an operation name, a variable); a 2 MB value
    must not come back 2 MB long, in a reply or in a log. Our own sentences are shorter
    than 200 characters between quotes, so only echoed values are cut.
    """
    clipped = _LONG_RUN.sub(lambda match: match.group(0)[:MAX_ECHO] + "…", message)
    if len(clipped) > MAX_MESSAGE:
        clipped = clipped[:MAX_MESSAGE] + "…"
    return clipped


def no_suggestions(message: str) -> str:
    """``message`` without graphql-core's "Did you mean …?", which names schema members."""
    return _SUGGESTION.sub("", message)


def is_internal(error: GraphQLError) -> bool:
    """Whether ``error`` is a fault of ours rather than an answer to the client.

    graphql-core's own errors (syntax, validation, variables) and :class:`ClientError` are
    answers. A variable that fails its scalar's parser carries that parser's exception but
    points at the variable (``nodes``, no ``path``); an exception from a resolver has a
    ``path``, and one escaping validation has neither.
    """
    original = error.original_error
    if original is None or isinstance(original, ClientError | GraphQLError):
        return False
    return error.path is not None or not error.nodes


def error_code(error: GraphQLError) -> ErrorCode:
    """The code of a GraphQL error (see :class:`ErrorCode`)."""
    original = error.original_error
    if isinstance(original, ClientError):
        return original.code
    given = str((error.extensions or {}).get("code"))
    if given in ErrorCode.__members__:
        return ErrorCode(given)
    if is_internal(error):
        return ErrorCode.INTERNAL
    if _LIMIT_MESSAGE.search(error.message):
        return ErrorCode.LIMIT_EXCEEDED
    return ErrorCode.BAD_USER_INPUT


def request_id_of(context: Any) -> str:
    return str(getattr(context, "request_id", "-"))


def masked(error: GraphQLError, request_id: str) -> GraphQLError:
    """What the client sees of an internal error: one sentence and the request id."""
    return GraphQLError(
        f"Internal error (request {request_id}): the server logged it; "
        "try again, and give support the request id if it persists.",
        nodes=error.nodes,
        path=error.path,
        extensions={"code": ErrorCode.INTERNAL.value, "requestId": request_id},
    )


def coded(error: GraphQLError, *, request_id: str, production: bool) -> GraphQLError:
    """``error`` as the client may see it: masked if internal, else clipped and coded."""
    if (error.extensions or {}).get("code") == ErrorCode.INTERNAL.value:
        return error  # masked already
    if is_internal(error):
        return masked(error, request_id)
    message = clip(error.message)
    if production:
        message = no_suggestions(message)
    return GraphQLError(
        message,
        nodes=error.nodes,
        path=error.path,
        original_error=error.original_error,
        extensions={**(error.extensions or {}), "code": error_code(error).value},
    )


class MaskInternalErrors(MaskErrors):
    """Strawberry's error masking, plus a code on every error and clipped echoes.

    Internal errors become one sentence with the request id (the schema's
    ``process_errors`` has logged the original under the same id). Other messages are
    clipped (:func:`clip`) and, in production, lose graphql-core's suggestions. Errors
    raised by an extension's own hooks (a syntax error found by the parser cache) leave
    the operation before this runs: the HTTP view applies :func:`coded` to those.
    """

    def __init__(self, *, production: bool = False) -> None:
        super().__init__(should_mask_error=is_internal)
        self.production = production

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return masked(error, request_id_of(self.execution_context.context))

    def on_operation(self) -> Iterator[None]:
        yield from super().on_operation()
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            request_id = request_id_of(self.execution_context.context)
            result.errors = [
                coded(error, request_id=request_id, production=self.production) for error in errors
            ]


def error_body(message: str, code: ErrorCode) -> dict[str, Any]:
    """A GraphQL-shaped error reply for refusals made outside GraphQL."""
    return {"errors": [{"message": clip(message), "extensions": {"code": code.value}}]}


def error_response(
    message: str, code: ErrorCode, status: int, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """An HTTP error reply with the GraphQL error shape and a code."""
    return JSONResponse(error_body(message, code), status_code=status, headers=headers)
