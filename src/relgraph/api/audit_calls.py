"""What each list an operation asked for was asked with, and how many rows it counted: the
audit line's ``calls``.

A list answers from customers' data even when it hands out no node: ``totalCount`` under
criteria narrowed to one household says whether anyone in it may be contacted. The line
names the root fields and the nodes built; without the arguments and the counts, two probes
with other criteria (under aliases, in one request) wrote the same line, and the trail could
not say what a key had learned. So each root field that answers a connection is kept as its
alias, field, the arguments sent (numbers, booleans, enum values and product names in clear;
any other text as its HMAC under the audit key, as ``tried_hmac`` keeps it, since it may be an
id or a phone typed in), ``total`` when ``totalCount`` was answered, ``rows`` when edges were
and ``more`` when ``hasNextPage`` was. A hostile key would crowd its own calls off a bounded
line, so they take the room of what can be checked again later (:func:`fit_calls`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any, Final

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    OperationType,
    Undefined,
    get_named_type,
    value_from_ast_untyped,
)
from strawberry.types import ExecutionContext

from relgraph import model
from relgraph.api.operation import operation_of, root_fields

SEAL_BYTES: Final = 512
"""What the log adds to a line after it is bounded: time, seq, prev, mac and punctuation."""
MAX_LIST_ITEMS: Final = 20
"""Distinct values kept of a list argument (every product, search kind or evidence kind fits)."""
MAX_ALIAS: Final = 40
"""Characters kept of an alias (the client's text, as the operation name's)."""
DIGIT_RUN: Final = re.compile(r"[0-9]{6,}")
"""Six digits or more in a client's label (an operation name, an alias): an id number, a
phone, a card or an account number typed into it (``Lookup_110101199003071234``), not a
tool's name."""
_PRODUCT_FILTERS: Final = frozenset({"hasProduct", "lacksProduct", "hasProducts", "lacksProducts"})
"""Filters whose values are product names, kept in clear."""
CONNECTION: Final = "Connection"
COUNTS: Final = ("total", "rows", "more")
"""What a call keeps of what its answer counted."""
_UNSENT: Final = "…"
"""A text where no audit key is at hand (in-process tools write no line)."""


def root_type(ec: ExecutionContext) -> GraphQLObjectType | None:
    """The Query or Mutation type the operation selects from (None: no such operation)."""
    operation = operation_of(ec.graphql_document, ec.operation_name)
    if operation is None:
        return None
    schema = ec.schema._schema
    found: GraphQLObjectType | None = (
        schema.mutation_type if operation.operation is OperationType.MUTATION else schema.query_type
    )
    return found


def is_text(kind: GraphQLInputType | None) -> bool:
    """Whether ``kind`` holds a client's text (``String``, ``ID``): an id number, a phone."""
    if isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    return isinstance(kind, GraphQLNamedType) and kind.name in ("String", "ID")


def list_calls(ec: ExecutionContext, mac: Callable[[str], str] | None) -> list[dict[str, Any]]:
    """Per root field answering a connection, in document order: what it was asked and
    what it counted (see the module)."""
    root = root_type(ec)
    if root is None:
        return []
    data = ec.result.data if ec.result is not None else None
    out: list[dict[str, Any]] = []
    for node in root_fields(ec.graphql_document, ec.operation_name):
        definition = root.fields.get(node.name.value)
        if definition is None or not get_named_type(definition.type).name.endswith(CONNECTION):
            continue
        alias = node.alias.value if node.alias else node.name.value
        # An alias is the client's text: an id number typed into it is kept as '#'.
        label = DIGIT_RUN.sub("#", alias)[:MAX_ALIAS]
        args = sent_args(node, definition, ec.variables, mac)
        call: dict[str, Any] = {"as": label, "field": node.name.value, "args": args}
        answer = data.get(alias) if isinstance(data, dict) else None
        if isinstance(answer, dict):
            if isinstance(answer.get("totalCount"), int):
                call["total"] = answer["totalCount"]
            if isinstance(answer.get("edges"), list):
                call["rows"] = len(answer["edges"])
            page = answer.get("pageInfo")
            if isinstance(page, dict) and isinstance(page.get("hasNextPage"), bool):
                call["more"] = page["hasNextPage"]  # with first: 0, whether any row matched
        if call not in out:  # a fragment spread twice selects the same call
            out.append(call)
    return out


def sent_args(
    node: FieldNode,
    definition: GraphQLField,
    variables: dict[str, Any] | None,
    mac: Callable[[str], str] | None,
) -> dict[str, Any]:
    """The arguments ``node`` was sent, as a call keeps them (:func:`kept_arg`)."""
    args = {}
    for arg in node.arguments or ():
        given = definition.args.get(arg.name.value)
        value = value_from_ast_untyped(arg.value, variables)
        if given is not None and value is not Undefined:  # a variable not sent: not asked
            args[arg.name.value] = kept_arg(value, given.type, mac, arg.name.value)
    return args


def fit_calls(
    record: dict[str, Any],
    calls: list[dict[str, Any]],
    ids: Callable[[], dict[str, Any]],
    line_bytes: int,
) -> dict[str, Any]:
    """``record`` (bounded, but for its calls) with ``calls`` in the room a line of
    ``line_bytes`` has left.

    A key's own calls are what a hostile key would crowd out, so they take room from what
    can be checked again later: listed ids become their count and SHA-256 (``ids()``); then
    the last calls keep their counts but their arguments only as a SHA-256; the whole list
    as its count and SHA-256 only when not even that fits (fifteen aliased audiences with
    every criterion fit in clear). The calls below the root come last, so they give way first.
    """
    room = line_bytes - SEAL_BYTES - _size(record)
    if _size(calls) > room and "ids" in record:
        record = {k: v for k, v in record.items() if k != "ids"} | ids()
        room = line_bytes - SEAL_BYTES - _size(record)
    kept = [dict(call) for call in calls]
    for call in reversed(kept):
        if _size(kept) <= room:
            break
        call["args"] = {"sha256": _digest(call["args"])}
        for name in COUNTS:
            # A nested call's counts, one per parent (relgraph.api.audit_nested): their count
            # and SHA-256, as the ids', so the calls above it stay in clear.
            if isinstance(call.get(name), list):
                call[name] = {"count": len(call[name]), "sha256": _digest(call[name])}
    if _size(kept) > room:
        return record | {"calls": {"count": len(calls), "sha256": _digest(calls)}}
    return record | {"calls": kept}


def _json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _size(value: Any) -> int:
    return len(_json(value))


def _digest(value: Any) -> str:
    return hashlib.sha256(_json(value)).hexdigest()


def kept_arg(
    value: Any, kind: GraphQLInputType, mac: Callable[[str], str] | None, name: str = ""
) -> Any:
    """``value`` as the line keeps it, by its GraphQL type: a text as its HMAC."""
    if isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    if value is None:
        return None
    if isinstance(kind, GraphQLList):
        items = value if isinstance(value, list) else [value]
        # Each item once, and the first MAX_LIST_ITEMS of them: a megabyte of products (the
        # same one or 100,000 made-up ones) must neither crowd the line nor cost a MAC each.
        if all(isinstance(v, str | int | float) for v in items):
            items = list(dict.fromkeys(items))
        kept = [kept_arg(v, kind.of_type, mac, name) for v in items[:MAX_LIST_ITEMS]]
        distinct = list({_json(k): k for k in kept}.values())
        if len(items) > MAX_LIST_ITEMS:
            distinct.append(f"… {len(items) - MAX_LIST_ITEMS} more")
        return distinct
    if isinstance(kind, GraphQLInputObjectType) and isinstance(value, dict):
        return {
            k: kept_arg(v, kind.fields[k].type, mac, k)
            for k, v in sorted(value.items())
            if k in kind.fields
        }
    if isinstance(kind, GraphQLEnumType):
        return str(value)
    if isinstance(value, bool | int | float) and not is_text(kind):
        return value
    if name in _PRODUCT_FILTERS and str(value) in model.PRODUCTS:
        return str(value)  # a product filter's value names no one (a search text stays a MAC)
    return mac(str(value)) if mac is not None else _UNSENT
