"""Which operations run on the event loop and which in the worker pool.

A lookup by id is answered from the read model's indexes in well under a millisecond.
Handing it to a worker thread and back costs about as much again in interpreter-lock
hand-overs, and the loop, the workers and the audit writer then take turns on one lock: at
saturation (32 clients, 100,000-customer bank) the pooled server answered 0.75× the lookups
of one that ran them on the loop (benchmarks/RESULTS.md, issue 15). So bounded lookups run
on the loop, and everything else keeps the pool's isolation (issue 14): a query runs inline
only when

- it is a query (mutations write journals and wait on disks),
- every root field is one of :data:`INLINE_FIELDS` (reads by id or of a cached, vectorised
  selection, whose work is bounded by the page asked for), and
- its estimated cost (:func:`relgraph.api.limits.estimate_cost`, the same price the cost
  limit uses) is below :data:`INLINE_COST`.

Anything this module cannot read (a syntax error, an unknown operation, odd variables, a
long text) goes to the pool, where Strawberry reports it as it always has.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationType,
    parse,
)

from relgraph.api.key_caches import ENTRIES, PerKey
from relgraph.api.limits import MAX_TOKENS, estimate_cost, find_operation

INLINE_FIELDS = frozenset(
    {"customer", "account", "enterprise", "household", "households", "graphStats", "__typename"}
)
"""Root fields whose resolvers read indexes (or a filtered selection computed once with
numpy and cached) and build at most a page of nodes."""
INLINE_COST = 200
"""Operations priced at this or more go to the pool: a lookup with a page of accounts and a
household costs ~20-60; a page of 50 with nested lists costs hundreds."""
MAX_INLINE_TEXT = 4_096
"""Longer query texts are not parsed on the loop (nor kept in the cache below)."""


def _document(text: str) -> DocumentNode | None:
    """The parsed text (one document per text and key, so the cost cache's identity keys hit)."""
    try:
        return parse(text, no_location=True, max_tokens=MAX_TOKENS)
    except GraphQLError:
        return None


_documents: PerKey[Callable[[str], DocumentNode | None]] = PerKey(
    lambda: lru_cache(maxsize=ENTRIES)(_document)
)
"""Per key, as every cache a request's time depends on (:mod:`relgraph.api.key_caches`)."""


def runs_inline(
    schema: GraphQLSchema,
    query: str | None,
    operation_name: str | None,
    variables: object,
    key: str = "",
) -> bool:
    """Whether the operation is a bounded lookup to answer on the event loop (see above);
    ``key`` is the API key's id, whose own caches it reads."""
    if not isinstance(query, str) or len(query) > MAX_INLINE_TEXT:
        return False
    sent = variables if isinstance(variables, Mapping) else None
    if variables is not None and sent is None:
        return False
    document = _documents.of(key)(query)
    if document is None:
        return False
    operation = find_operation(document, operation_name)
    if operation is None or operation.operation is not OperationType.QUERY:
        return False
    selections = operation.selection_set.selections
    if not all(isinstance(s, FieldNode) and s.name.value in INLINE_FIELDS for s in selections):
        return False  # fragments at the root, or a field that computes
    try:
        # Priced only as far as the inline bound (the walk stops there): this runs on the
        # loop for every request, and the full price is the pool's to find.
        cost = estimate_cost(schema, document, operation_name, sent, INLINE_COST, key)
    except Exception:  # an unpriceable query is the pool's (and Strawberry's) to report
        return False
    return cost < INLINE_COST
