"""Strict decoding of a GraphQL request body: anything but a JSON object is a 400, never a 500."""

from __future__ import annotations

import json
import re

import numpy as np
from cross_web import HTTPException

MAX_NESTING = 32
"""Deepest nesting of arrays and objects a body may have; real variables are a few levels."""
MAX_CONTAINERS = 10_000
"""Most arrays and objects a body may hold: ten times the largest real one (``recordTransfers``
with its 1,000 records). The body is decoded on the event loop, and a megabyte of ``[],``
(330,000 arrays) took ~0.2 s to decode there, stalling ``/healthz`` and every lookup."""


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
    # Each level of nesting opens a bracket: a body with few cannot nest deeply, and most
    # bodies (a query and a few variables) need no look at their structure.
    if text.count("{") + text.count("[") > MAX_NESTING:
        containers, depth = _structure(text)
        if depth > MAX_NESTING:
            raise _nested()
        if containers > MAX_CONTAINERS:
            raise HTTPException(
                400,
                f"The request body holds more than {MAX_CONTAINERS:,} arrays and objects: "
                "send fewer records a request.",
            )
    try:
        value = _DECODER.decode(text)
    except RecursionError:
        raise _nested() from None
    except ValueError as exc:
        raise HTTPException(
            400, f"The request body is not valid JSON ({_reason(exc)}): send a JSON object."
        ) from None
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


_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
"""A JSON string, escapes included: the brackets inside one are text, not structure."""
_OPENS = np.zeros(256, dtype=np.int8)
_OPENS[[ord("["), ord("{")]] = 1
_STEPS = _OPENS.copy()
_STEPS[[ord("]"), ord("}")]] = -1


def _structure(text: str) -> tuple[int, int]:
    """How many arrays and objects the JSON ``text`` holds, and how deeply they nest.

    Read from the text, before it is decoded, with array operations: walking the decoded
    value in Python took ~0.4 s for a megabyte of small arrays, on the event loop. A text
    that is not JSON gives some numbers; decoding it refuses it either way.
    """
    skeleton = np.frombuffer(_STRING.sub("", text).encode("utf-8"), dtype=np.uint8)
    depth = np.cumsum(_STEPS[skeleton], dtype=np.int64)
    return int(_OPENS[skeleton].sum(dtype=np.int64)), int(depth.max(initial=0))
