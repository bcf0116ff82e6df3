"""The ASGI application: ``/graphql`` behind API keys, ``/healthz``, ``/readyz``, ``/metrics``,
and the browser pages (``/explore``, GraphiQL on ``GET /graphql``) that need none."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cross_web import HTTPException
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.extensions import SchemaExtension
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types import ExecutionResult

from relgraph.api.admission import DEFAULT_WORKERS, CostBudget, execute_in_pool
from relgraph.api.audit import AuditError, AuditLog, open_audit_log
from relgraph.api.audit_http import audit_unauthenticated
from relgraph.api.audit_request import after_early, audit_entry, only_records
from relgraph.api.auth import KeyRing, Principal
from relgraph.api.bodylimit import BodyLimit, max_body_bytes
from relgraph.api.chain_reviews import ReviewLog
from relgraph.api.context import Context
from relgraph.api.errors import (
    ClientError,
    ErrorCode,
    coded,
    error_code,
    error_response,
)
from relgraph.api.id_misses import budget as id_miss_budget
from relgraph.api.ingestion import routes
from relgraph.api.live_build import live_of
from relgraph.api.metrics import CONTENT_TYPE, Metrics, root_field
from relgraph.api.private_answers import PrivateAnswers
from relgraph.api.ratelimit import RateLimiter
from relgraph.api.readmodel import ReadModel
from relgraph.api.request_ids import SCOPE_KEY, next_request_id
from relgraph.api.requestbody import decode_request_body
from relgraph.api.schema import build_schema
from relgraph.api.webpages import page
from relgraph.api.webpages import routes as page_routes
from relgraph.api.worker_pool import WorkerPool
from relgraph.config import AuditSettings, Settings
from relgraph.journal.decisions import DecisionBook

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
    passing_failure: str | None = None
    """What the last build met, when it passes by itself (another process held the store,
    the store's server did not answer): a refresh tries again."""
    deadline_seconds: float = DEADLINE_SECONDS
    refresh: Callable[[], None] | None = None
    """Starts a rebuild of the model from the store (set by the server)."""
    store: str = "embedded"
    """Which kind of store the model is built from (``/readyz`` reports it)."""
    max_body_bytes: int = field(default_factory=max_body_bytes)
    """Larger request bodies get HTTP 413 (``RELGRAPH_MAX_BODY_BYTES``, default 1 MB)."""

    budget: CostBudget = field(default_factory=CostBudget)
    """Concurrent cost per key (see :mod:`relgraph.api.admission`)."""
    workers: int = DEFAULT_WORKERS
    """Worker threads that run operations off the event loop."""
    decisions: DecisionBook | None = None
    """Reviewers' duplicate decisions, in the data directory's journal."""
    search_limit: RateLimiter = field(default_factory=lambda: RateLimiter(Settings.search_rate))
    """Searches per key and minute (``RELGRAPH_SEARCH_RATE``)."""
    id_misses: RateLimiter = field(default_factory=lambda: id_miss_budget(Settings.id_misses))
    """Analyst id-number searches that found no one, per key and day (``RELGRAPH_ID_MISSES``)."""
    reviews: ReviewLog | None = None
    """Alert decisions, read from and written to the data directory's journal."""

    def text_mac(self, text: str) -> str:
        """A search text's HMAC under the audit key (what the audit line keeps of it)."""
        return self.audit.key.text_mac(text)

    data_dir: Path | None = None
    """Where the journal is (transfers and accounts sent to the server); None: none taken."""
    live: Any = None
    """The live scoring over ``model`` (:class:`relgraph.api.live.LiveScoring`), once built."""


class AuditUnavailableError(ClientError):
    """The audit line could not be written, so nothing read is handed out (HTTP 503)."""

    code = ErrorCode.INTERNAL

    def __init__(self) -> None:
        super().__init__(
            "Service unavailable: the audit trail cannot be written, so no data was "
            "returned. Try again later; operators: see the server log."
        )


class Observe(SchemaExtension):
    """Per operation: latency, outcome and error codes to the metrics (labelled by root field,
    never by anything the client names); reads, refusals and not-found probes to the audit
    trail. A line that cannot be written withholds the answer."""

    def __init__(self, state: ServiceState) -> None:
        self.state = state

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        early: list[dict[str, Any]] = []
        if isinstance(self.execution_context.context, Context):
            self.execution_context.context.audit_now = functools.partial(self._now, early)
        yield
        ec = self.execution_context
        errors = (ec.result.errors if ec.result is not None else None) or []
        outcome = "error" if errors else "ok"
        self.state.metrics.observe(
            root_field(ec.graphql_document, ec.operation_name, _root_fields(ec.schema)),
            time.perf_counter() - started,
            outcome,
            [error_code(error) for error in errors],
        )
        context = ec.context
        if not isinstance(context, Context):
            return
        context.audit_now = None
        entry = audit_entry(ec, context)
        if early:
            entry = after_early(early[0], entry, ec)
        if entry is not None:
            context.audit_commits.append(self.state.audit.submit(**entry))
        if context.defer_audit:
            # The view awaits the commits on the event loop before it answers
            # (RelgraphGraphQL.execute_single): no worker thread waits on the disk.
            return
        try:
            for commit in context.audit_commits:
                commit.wait()
        except AuditError as exc:
            raise _withheld(context, exc) from None

    def _now(self, early: list[dict[str, Any]]) -> None:
        """The operation's line, queued while it runs (:attr:`Context.audit_now`): only
        for an operation of one ``recordTransfers``, whose line is then complete."""
        ec, context = self.execution_context, self.execution_context.context
        if early or not isinstance(context, Context) or not only_records(ec):
            return
        entry = audit_entry(ec, context)
        if entry is not None:
            early.append({**entry, "ids": list(entry["ids"])})  # as queued, for after_early
            context.audit_commits.append(self.state.audit.submit(**entry))


def _withheld(context: Context, exc: AuditError) -> AuditUnavailableError:
    """The error that replaces an answer whose audit line could not be written (HTTP 503)."""
    log.error("request %s: %s", context.request_id, exc)
    if context.response is not None:
        context.response.status_code = 503
    return AuditUnavailableError()


@functools.lru_cache(maxsize=16)  # per schema, not per request: the schema never changes
def _root_fields(schema: Any) -> frozenset[str]:
    """The names of the schema's Query and Mutation fields: the values a metrics label takes."""
    core = schema._schema  # graphql-core's schema, which Strawberry builds once
    roots = (core.query_type, core.mutation_type)
    return frozenset(name for root in roots if root is not None for name in root.fields)


class RelgraphGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with our context; queries over GET are refused.

    Refusals of the request itself (bad JSON, wrong content type, unknown operation) are
    GraphQL-shaped JSON with a code, like every other error, not Strawberry's plain text.
    """

    def __init__(self, state: ServiceState, *, production: bool) -> None:
        self.state = state
        self.production = production
        super().__init__(
            build_schema(production=production, extra=[lambda: Observe(state)]),
            graphql_ide=None if production else "graphiql",
            allow_queries_via_get=False,
        )
        self._pool = WorkerPool(state.workers)

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
        context.defer_audit = True
        result = await execute_in_pool(
            self.schema,
            self._pool,
            request_adapter.method,
            request_data,
            context,
            root_value,
            context.principal.key_id,
        )
        for commit in context.audit_commits:
            try:
                await commit.wait_async()
            except AuditError as exc:
                # As when the line fails inside the operation: this error alone, no data.
                error = _withheld(context, exc)
                return ExecutionResult(
                    data=None, errors=[GraphQLError(str(error), original_error=error)]
                )
        if context.retry_after is not None:
            sub_response.status_code = 429
            sub_response.headers["Retry-After"] = str(context.retry_after)
        return result

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope, receive))
        except HTTPException as exc:
            response = error_response(exc.reason, ErrorCode.BAD_USER_INPUT, exc.status_code)
        await response(scope, receive, send)

    def decode_json(self, data: str | bytes) -> object:
        return decode_request_body(data)

    async def render_graphql_ide(self, request: Request) -> Response:
        # The bundled GraphiQL (relgraph.api.webpages), not Strawberry's page: that one loads
        # its scripts from a public CDN and persists the Authorization header in the browser.
        return page("graphiql")

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        # Errors raised by an extension's hooks skip MaskInternalErrors: code them here.
        if result.errors:
            request_id = request.scope.get(SCOPE_KEY, "-")
            result.errors = [
                coded(error, request_id=request_id, production=self.production)
                for error in result.errors
            ]
        return await super().process_result(request, result)

    async def get_context(self, request: Any, response: Any) -> Context:
        principal = request.scope.get("relgraph.principal")
        model = self.state.model
        if principal is None or model is None:  # the auth layer lets neither through
            raise RuntimeError("request reached GraphQL without a principal or a model")
        live = None
        if self.state.data_dir is not None:
            live = functools.partial(live_of, self.state)
        return Context(
            principal=principal,
            model=model,
            live=live,
            live_alerts=functools.partial(_live_alerts, self.state, model),
            streamed_account=functools.partial(_streamed_account, self.state, model),
            request_id=request.scope.get(SCOPE_KEY, "-"),
            deadline=time.monotonic() + self.state.deadline_seconds,
            refresh=self.state.refresh,
            response=response,
            budget=self.state.budget,
            decisions=self.state.decisions,
            search_limit=self.state.search_limit,
            id_misses=self.state.id_misses,
            text_mac=self.state.text_mac,
            reviews=self.state.reviews,
        )


def _live_alerts(state: ServiceState, model: ReadModel) -> list[Any]:
    live = state.live
    return [] if live is None or live.model is not model else live.live_alerts()


def _streamed_account(state: ServiceState, model: ReadModel, account_id: str) -> bool:
    live = state.live
    if live is None or live.model is not model or account_id in model.account_index:
        return False
    return live.index.account(account_id) is not None


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
        request_id = next_request_id()
        scope[SCOPE_KEY] = request_id
        if scope["method"] == "GET":
            await self._get(scope, receive, send)
            return
        presented = _authorizations(scope)
        principal: Principal | None = None
        if len(presented) > 1:
            response: Response = _two_headers()
        elif (principal := self.state.keys.authenticate(_first(presented))) is None:
            await audit_unauthenticated(
                self.state.audit, self.state.keys, _first(presented) or "", request_id
            )
            response = _unauthorized()
        elif self.state.model is None:
            response = error_response(
                "Not ready: the graph is still being built; try again shortly.",
                ErrorCode.INTERNAL,
                503,
                headers={"Retry-After": "5"},
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
            response = error_response(
                "Queries over GET are disabled: POST application/json.",
                ErrorCode.BAD_USER_INPUT,
                405,
                headers={"Allow": "POST"},
            )
        await response(scope, receive, send)


def _authorizations(scope: Scope) -> list[str]:
    """Every Authorization header sent; more than one is refused (which would be meant?)."""
    headers = scope.get("headers") or ()
    return [v.decode("latin-1") for k, v in headers if k.lower() == b"authorization"]


def _first(values: list[str]) -> str | None:
    return values[0] if values else None


def _two_headers() -> Response:
    return error_response(
        "Send one Authorization header, not several.", ErrorCode.BAD_USER_INPUT, 400
    )


def _unauthorized() -> Response:
    return error_response(
        "Unauthorized: send Authorization: Bearer <api key>.",
        ErrorCode.UNAUTHENTICATED,
        401,
        headers={"WWW-Authenticate": "Bearer"},
    )


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

    async def metrics(request: Request) -> Response:
        # Behind a key: the counts say who uses what, and scraping is work an anonymous
        # caller should not be able to make the server do.
        presented = _authorizations(request.scope)
        if len(presented) > 1:
            return _two_headers()
        allowed = state.keys.may_scrape(_first(presented))
        if allowed is None:
            return _unauthorized()
        if not allowed:
            return error_response(
                "Forbidden: /metrics needs a 'metrics' (scrape) key or an admin key.",
                ErrorCode.FORBIDDEN,
                403,
            )
        return Response(state.metrics.render(), media_type=CONTENT_TYPE)

    return Starlette(
        routes=[
            *(Route(path, endpoint, methods=["POST"]) for path, endpoint in routes(state)),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            *page_routes(),
        ],
        middleware=[
            Middleware(PrivateAnswers),
            Middleware(BodyLimit, max_bytes=state.max_body_bytes),
        ],
        exception_handlers={404: _not_found, 405: _not_allowed},
    )


async def _not_found(request: Request, _: Exception) -> Response:
    # Clients branch on the JSON error shape; Starlette's own reply is plain text.
    return error_response(
        "No such path: the API is POST /graphql, POST /v1/transfers and POST /v1/accounts.",
        ErrorCode.NOT_FOUND,
        404,
    )


async def _not_allowed(request: Request, exc: Exception) -> Response:
    allow = getattr(exc, "headers", None) or {}
    return error_response(
        # Neither the path nor a long method name is echoed: both are the client's text.
        f"This path does not take {request.method[:16]}"
        + (f": use {allow['Allow']}." if "Allow" in allow else "."),
        ErrorCode.BAD_USER_INPUT,
        405,
        headers=allow,
    )


def default_state(data_dir: Path, keys: KeyRing, audit: AuditLog | None = None) -> ServiceState:
    """State over ``data_dir``'s audit log (by default with the development key rules) and
    its journal of duplicate decisions."""
    if audit is None:
        audit = open_audit_log(data_dir, AuditSettings(), production=False)
    return ServiceState(
        keys=keys.named_with(audit.key),  # key ids are HMACs under the trail's own key
        audit=audit,
        decisions=DecisionBook(data_dir),
        reviews=ReviewLog(data_dir),
        data_dir=data_dir,
    )
