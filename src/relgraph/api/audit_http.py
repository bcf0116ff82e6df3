"""Audit lines for HTTP answers outside GraphQL's own (``audit_request``): 401s, and the
ingestion endpoints' refusals and writes.

A write's line names what the answer let its key read — the accounts whose scores a
verdict gave and the alerts it named — as a GraphQL read's line names the nodes it served.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from relgraph.api.audit import AuditError, AuditLog
from relgraph.api.auth import KeyRing

log = logging.getLogger("relgraph.api")


async def audit_unauthenticated(
    audit: AuditLog, keys: KeyRing, authorization: str, request_id: str, operation: str = "-"
) -> None:
    """One line per 401, naming the key only when a known key came in the wrong form
    (``Token <key>``, no scheme); the presented text itself is never written."""
    words = authorization.split()
    known = keys.authenticate("Bearer " + words[-1]) if words else None
    try:
        await audit.submit(
            key_id=known.key_id if known else "unknown",
            role=known.role.value if known else "-",
            operation=operation,
            outcome="unauthenticated",
            request_id=request_id,
        ).wait_async()
    except AuditError as exc:  # the 401 holds no data, so it is still the answer
        log.error("request %s: %s", request_id, exc)


def batch_references(
    body: Any,
    results: Sequence[Mapping[str, Any]],
    columns: Iterable[str],
    holds: Callable[[str], bool],
) -> tuple[list[str], list[str]]:
    """The ids a batch's records name in ``columns``, each once, in order, as (held, tried).

    The answer per record tells whether they exist (an unknown account, a holder that does
    not match), so they are ids the key read, written or not. Held: ids of a record written
    (accepted or a duplicate) and ids the bank holds (``holds``), kept in clear. Tried: the
    rest — whatever the sender typed, an id number in ``holder_id`` perhaps — which the
    line keeps only as their HMAC (``tried_hmac``), as a missed lookup's.
    """  # fmt: skip
    names = tuple(columns)
    held: dict[str, None] = {}
    tried: dict[str, None] = {}
    records = body if isinstance(body, list) else []
    for record, result in zip(records, results, strict=False):  # one answer per record
        if not isinstance(record, Mapping):
            continue
        written = result.get("status") in ("accepted", "duplicate")
        for name in names:
            value = record.get(name)
            if isinstance(value, str | int) and not isinstance(value, bool):
                # A lone surrogate (JSON allows it, UTF-8 does not) as its escape.
                text = str(value).encode("utf-8", "backslashreplace").decode("utf-8")
                (held if written or holds(text) else tried)[text] = None
    return list(held), [t for t in tried if t not in held]


def verdict_reads(results: Iterable[Mapping[str, Any]]) -> list[str]:
    """What the answers to a batch of transfers let its key read: per verdict both
    accounts (their scores) and the alerts it names, each once, in order."""
    read: dict[str, None] = {}
    for result in results:
        verdict = result.get("verdict")
        if not verdict:
            continue
        read[str(verdict["from_account"]["id"])] = None
        read[str(verdict["to_account"]["id"])] = None
        for alert in verdict["alerts"]:
            read[str(alert["chain_id"])] = None
    return list(read)
