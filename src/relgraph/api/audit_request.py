"""What one GraphQL operation's audit line says: who, what was asked, what was read, how
it ended (``ok``, ``forbidden``, ``not_found``, ``error``).

Refused and not-found calls are audited as well as reads: a key probing for fields its
role may not see, or for ids that exist, is what an auditor looks for. An id that names
nothing is kept as an HMAC under the audit key, never in clear: it is whatever the client
typed (an id number or a phone pasted into ``customer(id:)``), not one of the bank's ids.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from graphql import FieldNode, GraphQLError, OperationDefinitionNode, value_from_ast_untyped
from strawberry.types import ExecutionContext

from relgraph.api.audit_calls import DIGIT_RUN, is_text, list_calls, root_type
from relgraph.api.audit_nested import nested_calls
from relgraph.api.context import Context
from relgraph.api.errors import LimitError, NotFoundError, PermissionDeniedError
from relgraph.api.operation import operation_of, root_fields
from relgraph.journal import JournalError

NO_CUSTOMER_DATA = frozenset({"graphStats", "__schema", "__type", "__typename"})
"""Root fields that answer with the bank's totals or the schema, never a customer's data."""


def audit_entry(ec: ExecutionContext, context: Context) -> dict[str, Any] | None:
    """The audit line of an operation, or None when it read nothing and was refused nothing."""
    errors: list[GraphQLError] = list(ec.result.errors or []) if ec.result is not None else []
    errors += [e for e in ec.pre_execution_errors or [] if e not in errors]
    denied = [e for e in errors if _is(e, PermissionDeniedError, "FORBIDDEN")]
    missing = [e for e in errors if _is(e, NotFoundError, "NOT_FOUND")]
    if denied:
        outcome = "forbidden"
    elif missing:
        outcome = "not_found"
    elif any(_is(e, LimitError, "LIMIT_EXCEEDED") for e in errors):
        # A key at a limit (a search rate, the id-miss budget) may be probing: named apart.
        outcome = "limited"
    elif errors:
        outcome = "error"
    else:
        outcome = "ok"
    operation = _operation(ec)
    changes = operation is not None and operation.operation.value == "mutation"
    quiet = ("ok", "error", "limited")
    if (
        not context.touched
        and outcome in quiet
        and not changes
        and not context.searches
        and not _answered_from_data(ec)
    ):
        return None
    entry: dict[str, Any] = {
        "key_id": context.principal.key_id,
        "role": context.principal.role.value,
        "operation": operation_label(ec.operation_name),
        "fields": _root_fields(ec),
        "ids": context.touched,
        "outcome": outcome,
        "request_id": context.request_id,
    }
    if errors:
        # The nodes named were built, but a failed non-null field nulls what holds it: say
        # whether any of them went out, so a refusal beside data served is not read as a
        # read that never happened, nor the reverse.
        entry["answer"] = "partial" if _answered_from_data(ec) else "none"
    if context.resent is not None:
        # A decision sent again: nothing was journaled; the line says which entry it resent.
        entry["resend_of"] = context.resent
    calls = list_calls(ec, context.text_mac) + nested_calls(ec, context.text_mac)
    if calls:
        # What each list was asked and counted: a count handed out no id, yet says something.
        entry["calls"] = calls
    if context.searches:
        # The text as an HMAC under the audit key, never in clear: an auditor holding the key
        # can check whether a given phone or name was searched; the log alone tells nothing.
        entry["searched_hmac"] = context.searches
    if denied:
        entry["denied"] = sorted({_path(e) for e in denied})
    tried = set(context.tried)
    if missing:
        probes = [_probe(e, ec, context.text_mac) for e in missing]
        entry["not_found"] = sorted({field for field, _ in probes})
        tried.update(mac for _, macs in probes for mac in macs)
    if tried or missing:
        entry["tried_hmac"] = sorted(tried)
    return entry


def only_records(ec: ExecutionContext) -> bool:
    """Whether the operation is one ``recordTransfers`` and nothing else: its line can be
    queued as soon as the verdicts are known (no other field reads after them)."""
    fields = root_fields(ec.graphql_document, ec.operation_name)
    return [f.name.value for f in fields] == ["recordTransfers"]


def after_early(
    early: dict[str, Any], entry: dict[str, Any] | None, ec: ExecutionContext
) -> dict[str, Any] | None:
    """The second line of an operation whose line was queued while it ran (``early``),
    given the line it would have had at its end (``entry``): None when that is the same;
    ``outcome: withheld`` when no data went out (the verdicts ``early`` names were not
    handed out: a journal write failed, ``reason: journal``), else ``entry`` itself."""
    if entry is None or entry == early:
        return None
    if entry.get("answer") != "none":
        return entry
    errors = list(ec.result.errors or []) if ec.result is not None else []
    # The mutation words a failed write as a 503 (its cause the journal's error).
    journal = any(
        isinstance(e.original_error, JournalError)
        or isinstance(getattr(e.original_error, "__cause__", None), JournalError)
        for e in errors
    )
    return {
        **{k: early[k] for k in ("key_id", "role", "operation", "request_id")},
        "outcome": "withheld",
        "fields": [],
        "reason": "journal" if journal else entry["outcome"],
    }


def operation_label(name: str | None) -> str:
    """The operation's name as the audit line keeps it: the client chose it, so each run of
    six digits or more is ``#`` — the log keeps no id number or phone in clear, as it keeps
    search texts and missed ids only as HMACs.

    >>> operation_label("Lookup_110101199003071234"), operation_label(None)
    ('Lookup_#', 'anonymous')
    >>> operation_label("Q2024Report")
    'Q2024Report'
    """
    return DIGIT_RUN.sub("#", name) if name else "anonymous"


def _answered_from_data(ec: ExecutionContext) -> bool:
    """Whether the answer holds a root field read from customers' data, even one that named
    no node: a ``totalCount`` under criteria narrowed to one household says something of it,
    so the request is on the trail (with no ids) though it names none."""
    data = ec.result.data if ec.result is not None else None
    if not data:
        return False
    return any(
        field.name.value not in NO_CUSTOMER_DATA
        and data.get(field.alias.value if field.alias else field.name.value) is not None
        for field in root_fields(ec.graphql_document, ec.operation_name)
    )


def _is(error: GraphQLError, kind: type[Exception], code: str) -> bool:
    """By the exception raised, or by the error's code (refusals made while validating)."""
    return isinstance(error.original_error, kind) or (error.extensions or {}).get("code") == code


def _operation(ec: ExecutionContext) -> OperationDefinitionNode | None:
    return operation_of(ec.graphql_document, ec.operation_name)


def _root_fields(ec: ExecutionContext) -> list[str]:
    """The operation's top-level field names (not aliases: those the client chooses). A name
    the schema lacks is the client's text too (a failed mutation is still on the trail): its
    digit runs are '#', as the operation name's."""
    names = {f.name.value for f in root_fields(ec.graphql_document, ec.operation_name)}
    return sorted({DIGIT_RUN.sub("#", name) for name in names})


def _path(error: GraphQLError) -> str:
    # A path names the client's aliases: an id number typed into one is kept as '#', as in
    # the operation name.
    steps = (DIGIT_RUN.sub("#", p) if isinstance(p, str) else str(p) for p in error.path or [])
    return ".".join(steps) or str(error.original_error)


def _probe(
    error: GraphQLError, ec: ExecutionContext, mac: Callable[[str], str] | None
) -> tuple[str, list[str]]:
    """``field arg …`` for a lookup that named nothing, and the MACs of the values it tried.

    Numbers and booleans (``maxHops=2``) stay in clear: they name no one. A text or an
    input object is MAC'd as sent (an object as compact JSON with sorted keys), so an
    auditor holding the key can check whether a given id was tried; without the key (or
    without an audit trail, in-process tests) nothing of the value is kept. An ``ID`` or
    ``String`` sent as a number (``customer(id: 13800138000)``) is a text: it is what the
    client typed, a phone or an id number.
    """
    field = error.nodes[0] if error.nodes else None
    if not isinstance(field, FieldNode):
        return _path(error), []
    root = root_type(ec) if len(error.path or ()) == 1 else None
    definition = None if root is None else root.fields.get(field.name.value)
    names: list[str] = []
    macs: list[str] = []
    for arg in field.arguments or ():
        value = value_from_ast_untyped(arg.value, ec.variables)
        given = None if definition is None else definition.args.get(arg.name.value)
        # Below the root the type is not looked up: a number of six digits or more is a text.
        typed = is_text(given.type) if given is not None else DIGIT_RUN.search(str(value))
        if value is None or (isinstance(value, bool | int | float) and not typed):
            names.append(f"{arg.name.value}={json.dumps(value)}")
            continue
        names.append(arg.name.value)
        text = (
            json.dumps(value, sort_keys=True, separators=(",", ":"))
            if isinstance(value, dict | list)
            else str(value)
        )
        if mac is not None:
            macs.append(mac(text))
    return f"{field.name.value} {' '.join(names)}".strip(), macs
