"""Execution off the event loop, and admission of concurrent heavy queries by cost.

Resolvers are synchronous and CPU-bound. Run on the event loop, four heavy queries kept
``/healthz`` and every light query waiting for seconds; so operations run in a bounded pool
of worker threads and the loop parses HTTP and sends answers. Bounded lookups by id are the
exception (:mod:`relgraph.api.routing`): they cost less than the hand-over to a worker, so
they are answered on the loop.

Each key has a budget of concurrent cost (the estimate of :mod:`relgraph.api.limits`): a
query that would take its key's cost in flight over the budget is refused with 429 and a
Retry-After, while the key's lighter queries and other keys' queries go on. Heavy queries
(cost ≥ ``HEAVY_COST``) then take turns in a narrow lane, and at most ``HEAVY_QUEUE`` of them
hold workers at once (running or waiting), so light queries always find a free worker.

Operations waiting for a worker are served round-robin by key, not first come first served:
a key with a backlog of cheap queries delays only itself, and a key alone still gets every
worker (no per-key cap: a bank puts many analysts or a campaign tool behind one key).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import partial

from cross_web import HTTPException
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLRequestData
from strawberry.schema.base import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from relgraph.api.limits import MAX_COST
from relgraph.api.routing import runs_inline
from relgraph.api.worker_pool import WorkerPool

DEFAULT_WORKERS = 16
"""Worker threads running operations. Above the heavy queries the budgets let in at once, so
light queries find a free worker; the GIL shares the CPU between them."""
HEAVY_COST = 1_000
"""From this cost on an operation runs in the heavy lane (a page of lists, not a lookup)."""
HEAVY_LANE = 1
"""Heavy operations running at once, over all keys. Resolvers are Python: threads share one
interpreter lock, so every heavy query running beside the light ones slows them; one at a
time keeps lookups and probes quick, and heavy queries queue (within their deadline)."""
HEAVY_REST = 1.0
"""After a heavy operation of ``d`` seconds the lane rests ``HEAVY_REST × d`` before the
next one starts: back-to-back heavy queries would otherwise hold the interpreter lock most of
the time (one at a time is not enough), so heavy work gets at most half of it and lookups
the rest. The finished query's answer is not held back; only the next heavy one waits."""
HEAVY_QUEUE = DEFAULT_WORKERS // 2
"""Heavy operations holding a worker (running or waiting for the lane); more get 429."""
DEFAULT_KEY_BUDGET = 2 * MAX_COST
"""Concurrent cost one key may have in flight: two of the most expensive queries allowed."""


class CostBudget:
    """Cost in flight per key, and who gets in."""

    def __init__(
        self,
        per_key: int = DEFAULT_KEY_BUDGET,
        retry_after: float = 2.0,
        heavy_cost: int = HEAVY_COST,
        heavy_lane: int = HEAVY_LANE,
        heavy_queue: int = HEAVY_QUEUE,
        heavy_rest: float = HEAVY_REST,
    ) -> None:
        self.per_key = per_key
        self.heavy_cost = heavy_cost
        self._heavy = threading.BoundedSemaphore(heavy_lane)
        self.heavy_queue = heavy_queue
        self._heavy_holding = 0
        self.heavy_rest = heavy_rest
        self._rest_until = 0.0
        """When the heavy lane may start its next operation (``time.monotonic``)."""
        self.retry_after = max(1, math.ceil(retry_after))
        """Seconds a refused client should wait: the deadline bounds every query in flight."""
        self._lock = threading.Lock()
        self._in_flight: dict[str, int] = {}

    def in_flight(self, key: str) -> int:
        with self._lock:
            return self._in_flight.get(key, 0)

    @contextmanager
    def lane(self, cost: int, timeout: float) -> Iterator[bool]:
        """Waits (in the worker thread) for the heavy lane if ``cost`` is heavy; yields
        whether it got in before ``timeout`` seconds."""
        if cost < self.heavy_cost:
            yield True
            return
        with self._lock:
            if self._heavy_holding >= self.heavy_queue:
                full = True
            else:
                full = False
                self._heavy_holding += 1
        if full:
            yield False
            return
        entered = False
        started = 0.0
        deadline = time.monotonic() + min(max(timeout, 0.0), 60.0)
        try:
            entered = self._heavy.acquire(timeout=max(deadline - time.monotonic(), 0.0))
            if entered:
                rest = self._rest_until - time.monotonic()
                if rest > 0:
                    # Sleeping releases the interpreter lock: lookups run meanwhile.
                    time.sleep(min(rest, max(deadline - time.monotonic(), 0.0)))
                started = time.monotonic()
            yield entered
        finally:
            if entered:
                self._rest_until = time.monotonic() + self.heavy_rest * (time.monotonic() - started)
                self._heavy.release()
            with self._lock:
                self._heavy_holding -= 1

    @contextmanager
    def hold(self, key: str, cost: int) -> Iterator[bool]:
        """Yields whether ``cost`` more fits the key's budget (held until the block ends).

        A key with nothing in flight always gets in, so no allowed query is refused forever.
        """
        with self._lock:
            used = self._in_flight.get(key, 0)
            admitted = used == 0 or used + cost <= self.per_key
            if admitted:
                self._in_flight[key] = used + cost
        try:
            yield admitted
        finally:
            if admitted:
                with self._lock:
                    left = self._in_flight[key] - cost
                    if left:
                        self._in_flight[key] = left
                    else:
                        del self._in_flight[key]


def allowed_operations(method: str) -> Iterable[OperationType]:
    """Queries and mutations over POST only: queries in URLs would leak PII into logs."""
    allowed = OperationType.from_http(method)  # type: ignore[arg-type]  # any verb maps
    return allowed - {OperationType.QUERY} if method == "GET" else allowed


async def execute_in_pool(
    schema: BaseSchema,
    pool: WorkerPool,
    method: str,
    request_data: GraphQLRequestData,
    context: object,
    root_value: object,
    key: str,
) -> ExecutionResult:
    """Strawberry's ``execute_single``, run by ``execute_sync`` in a worker thread, or on the
    loop for a bounded lookup (:func:`relgraph.api.routing.runs_inline`).

    ``key`` is the API key's id: pooled operations wait their turn round-robin by key, so one
    key's backlog delays only that key (:class:`relgraph.api.worker_pool.FairQueue`).

    The client's errors map to the same HTTP answers as Strawberry's own view. A client that
    goes away does not stop its worker: the deadline does.
    """
    run = partial(
        schema.execute_sync,
        request_data.query,
        root_value=root_value,
        variable_values=request_data.variables,
        context_value=context,
        operation_name=request_data.operation_name,
        allowed_operation_types=allowed_operations(method),
        operation_extensions=request_data.extensions,
    )
    inline = method == "POST" and runs_inline(
        schema._schema,  # type: ignore[attr-defined]  # graphql-core's schema, built once by Strawberry
        request_data.query,
        request_data.operation_name,
        request_data.variables,
        key,
    )
    try:
        return run() if inline else await pool.run(run, key)
    except CannotGetOperationTypeError as e:
        raise HTTPException(400, e.as_http_error_reason()) from e
    except InvalidOperationTypeError as e:
        raise HTTPException(400, e.as_http_error_reason(method)) from e
    except MissingQueryError as e:
        raise HTTPException(400, "No GraphQL query found in the request") from e
