"""The ASGI application: ``/graphql`` behind API keys, ``/healthz``, ``/readyz``, ``/metrics``."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.extensions import SchemaExtension
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from relgraph.api.admission import DEFAULT_WORKERS, CostBudget, execute_in_pool
from relgraph.api.audit import AuditLog
from relgraph.api.auth import KeyRing, Principal
from relgraph.api.context import Context
from relgraph.api.metrics import Metrics
from relgraph.api.readmodel import ReadModel
from relgraph.api.schema import build_schema

log = logging.getLogger("relgraph.api")

DEADLINE_SECONDS = 2.0


@dataclass
class ServiceState:
    """What the app serves from; ``model`` is None until the projection is built."""

    keys: KeyRing
    audit: AuditLog
    metrics: Metrics = field(default_factory=Metrics)
    model: ReadModel | None = None
    error: str | None = None
    deadline_seconds: float = DEADLINE_SECONDS
    refresh: Callable[[], None] | None = None
    """Starts a rebuild of the model from the store (set by the server)."""
    store: str = "embedded"
    """Which kind of store the model is built from (``/readyz`` reports it)."""
    budget: CostBudget = field(default_factory=CostBudget)
    """Concurrent cost per key (see :mod:`relgraph.api.admission`)."""
    workers: int = DEFAULT_WORKERS
    """Worker threads that run operations off the event loop."""


class Observe(SchemaExtension):
    """Per operation: latency and outcome to the metrics; ids read to the audit trail."""

    def __init__(self, state: ServiceState) -> None:
        self.state = state

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        ec = self.execution_context
        name = ec.operation_name or "anonymous"
        outcome = "error" if ec.result is not None and ec.result.errors else "ok"
        self.state.metrics.observe(name, time.perf_counter() - started, outcome)
        context = ec.context
        if isinstance(context, Context) and context.touched:
            self.state.audit.append(
                key_id=context.principal.key_id,
                role=context.principal.role.value,
                operation=name,
                ids=sorted(set(context.touched)),
                outcome=outcome,
                request_id=context.request_id,
            )


class RelgraphGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with our context; queries over GET are refused."""

    def __init__(self, state: ServiceState, *, production: bool) -> None:
        self.state = state
        super().__init__(
            build_schema(production=production, extra=[lambda: Observe(state)]),
            graphql_ide=None if production else "graphiql",
            allow_queries_via_get=False,
        )
        self._limiter: anyio.CapacityLimiter | None = None

    async def execute_single(
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Off the event loop, in the worker pool; a refusal by the cost budget is a 429."""
        if self._limiter is None:  # made inside the running loop, as anyio wants
            self._limiter = anyio.CapacityLimiter(self.state.workers)
        result = await execute_in_pool(
            self.schema, self._limiter, request_adapter.method, request_data, context, root_value
        )
        if context.retry_after is not None:
            sub_response.status_code = 429
            sub_response.headers["Retry-After"] = str(context.retry_after)
        return result

    async def get_context(self, request: Any, response: Any) -> Context:
        principal = request.scope.get("relgraph.principal")
        model = self.state.model
        if principal is None or model is None:  # the auth layer lets neither through
            raise RuntimeError("request reached GraphQL without a principal or a model")
        return Context(
            principal=principal,
            model=model,
            request_id=request.scope.get("relgraph.request_id", "-"),
            deadline=time.monotonic() + self.state.deadline_seconds,
            refresh=self.state.refresh,
            budget=self.state.budget,
        )


class RequireKey:
    """Pure ASGI guard in front of ``/graphql``: 401 without a known key, 503 before ready.

    GET of the GraphiQL page (a browser, outside production) needs no key: it holds no
    data, and every query it sends is a POST that does.
    """

    def __init__(self, app: RelgraphGraphQL, state: ServiceState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:16]
        scope["relgraph.request_id"] = request_id
        if scope["method"] == "GET":
            await self._get(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        principal: Principal | None = self.state.keys.authenticate(authorization)
        if principal is None:
            response: Response = JSONResponse(
                {"errors": [{"message": "Unauthorized: send Authorization: Bearer <api key>."}]},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        elif self.state.model is None:
            response = JSONResponse(
                {"errors": [{"message": "Not ready: the graph is still being built."}]},
                status_code=503,
            )
        else:
            scope["relgraph.principal"] = principal
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)

    async def _get(self, scope: Scope, receive: Receive, send: Send) -> None:
        """GET only ever shows GraphiQL; queries in URLs would leak PII into logs."""
        query_string = scope.get("query_string", b"").decode("latin-1")
        request = Request(scope, receive)
        if "query=" not in query_string and self.app.graphql_ide:
            response = await self.app.render_graphql_ide(request)
        else:
            response = JSONResponse(
                {"errors": [{"message": "Queries over GET are disabled: POST application/json."}]},
                status_code=405,
                headers={"Allow": "POST"},
            )
        await response(scope, receive, send)


def create_app(state: ServiceState, *, production: bool = False) -> Starlette:
    """The ASGI app over ``state`` (its model may be filled in later: see ``/readyz``)."""
    graphql = RequireKey(RelgraphGraphQL(state, production=production), state)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        # Probes are unauthenticated: in production the store's address and the
        # error text stay in the server log, not in the answer.
        def reason(error: str) -> str:
            return "the store cannot be read: see the server log" if production else error

        if state.model is not None:
            ready: dict[str, object] = {
                "status": "ready",
                "store": state.store,
                "nodes": sum(state.model.stats["nodes"].values()),
            }
            if state.error is not None:
                # Still serving the last graph built; the store failed the latest refresh.
                ready["refreshError"] = reason(state.error)
            return JSONResponse(ready)
        return JSONResponse(
            {
                "status": "not ready",
                "store": state.store,
                "reason": reason(state.error) if state.error else "building the graph",
            },
            status_code=503,
        )

    async def metrics(_: Request) -> Response:
        return PlainTextResponse(state.metrics.render(), media_type="text/plain; version=0.0.4")

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            Route("/graphql", graphql, methods=["GET", "POST"]),
        ]
    )


def default_state(data_dir: Path, keys: KeyRing) -> ServiceState:
    return ServiceState(keys=keys, audit=AuditLog(Path(data_dir) / "audit.log"))
