"""Strict decoding of a GraphQL request body: anything but a JSON object is a 400, never a 500."""

from __future__ import annotations

import json
import re

from cross_web import HTTPException

MAX_NESTING = 32
"""Deepest nesting of arrays and objects a body may have; real variables are a few levels."""


def decode_request_body(data: str | bytes) -> object:
    """The body as JSON: UTF-8, no NaN or Infinity, nested at most 32 deep, an object or a list.

    A list is left for Strawberry, which refuses batches with its own message. Each refusal
    is an ``HTTPException(400)`` whose reason says what to send instead.
    """
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise HTTPException(400, "The request body is not UTF-8: send JSON in UTF-8.") from None
    if text.startswith("\ufeff"):
        raise HTTPException(
            400, "The request body starts with a byte order mark: send JSON without one."
        )
    try:
        value = _DECODER.decode(text)
    except RecursionError:
        raise _nested() from None
    except ValueError as exc:
        raise HTTPException(
            400, f"The request body is not valid JSON ({_reason(exc)}): send a JSON object."
        ) from None
    # Each level of nesting opens a bracket: a body with few cannot nest deeply, and most
    # bodies (a query and a few variables) need no walk.
    if text.count("{") + text.count("[") > MAX_NESTING and _depth(value) > MAX_NESTING:
        raise _nested()
    # JSON may escape half of a surrogate pair alone ("\\ud800"): no UTF-8 text holds one, and
    # it failed wherever the value was encoded (a search's HMAC, the audit line — a whole
    # group commit of other keys' lines with it), a 500 instead of a 400.
    if _ESCAPED_SURROGATE.search(text) and _lone_surrogate(value):
        raise HTTPException(
            400, "The request body escapes a lone surrogate (\\ud800–\\udfff): send UTF-8 text."
        )
    if isinstance(value, list):
        return value
    if not isinstance(value, dict):
        raise HTTPException(
            400, 'The request body must be a JSON object: {"query": "...", "variables": {...}}.'
        )
    if not isinstance(value.get("operationName"), str | None):
        raise HTTPException(400, "operationName must be a string or null, if provided.")
    return value


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_no_constant)
"""Made once: ``json.loads`` with an option builds a decoder per call."""


_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
"""Only such an escape decodes to a surrogate: most bodies need no second look."""


def _lone_surrogate(value: object) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _reason(exc: ValueError) -> str:
    return exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)


def _nested() -> HTTPException:
    return HTTPException(
        400, f"The request body is nested more than {MAX_NESTING} levels deep: flatten it."
    )


def _depth(value: object) -> int:
    """How deeply ``value`` nests lists and dicts, walked without recursion."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_NESTING:
                return deepest
            stack.extend((child, depth) for child in item)
    return deepest
