"""Ingestion endpoints: ``POST /v1/transfers``, ``POST /v1/accounts`` and the GraphQL
mutation ``recordTransfers`` (ingest and admin keys); the work is :mod:`.live`'s.

Answer (HTTP 200 whenever the batch was read, whatever each record's fate)::

    {"accepted": 1, "duplicate": 0, "rejected": 1,
     "results": [{"tx_id": "T1", "status": "accepted",
                  "verdict": {"from_account": {"id": "A1", "score": 0.0},
                              "to_account": {"id": "A2", "score": 0.71},
                              "alerts": [{"chain_id": "R…", "typology": "layering_chain",
                                          "score": 0.71, "hops": 3, "extends": null,
                                          "above_threshold": true}],
                              "truncated": false}},
                 {"tx_id": "T2", "status": "rejected",
                  "reasons": ["unknown_foreign_key: to_account 'A9' is no loaded account …"]}]}

An accepted record is in the journal (fsynced) before the answer is sent; a client that
gets no answer sends the batch again, and what was recorded comes back as ``duplicate``.
The verdicts are computed while the journal write is in flight, and the audit line naming
what they let the key read is queued as soon as they are known: the answer waits for the
two flushes together, not one after the other (:meth:`.live.LiveScoring.apply`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Final

import strawberry
from graphql import GraphQLError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

from relgraph.api.audit import AuditError
from relgraph.api.audit_commit import Commit
from relgraph.api.audit_http import audit_unauthenticated, batch_references, verdict_reads
from relgraph.api.auth import Principal, Role
from relgraph.api.context import Info
from relgraph.api.errors import ClientError, ErrorCode, PermissionDeniedError, error_response
from relgraph.api.live import LiveScoring
from relgraph.api.live_accounts import IndexDroppedError
from relgraph.api.live_build import current_live, live_of
from relgraph.api.live_records import BatchError, await_commits, summary
from relgraph.api.metrics import root_field
from relgraph.api.operation import root_fields
from relgraph.api.request_ids import SCOPE_KEY, next_request_id
from relgraph.journal import JournalError
from relgraph.record_rules import NestingError, json_of

log = logging.getLogger("relgraph.api")


def _audit_as(principal: Principal, request_id: str) -> dict[str, str]:
    return {"key_id": principal.key_id, "role": principal.role.value, "request_id": request_id}


async def _authorised(request: Request, state: Any) -> Principal | Response:
    # The GraphQL guard names its requests; these endpoints name their own, so that each
    # audit line can be found in the server's log.
    request.scope.setdefault(SCOPE_KEY, next_request_id())
    headers = request.headers.getlist("authorization")
    if len(headers) > 1:
        return error_response("Send one Authorization header, not several.",
                              ErrorCode.BAD_USER_INPUT, 400)  # fmt: skip
    principal: Principal | None = state.keys.authenticate(headers[0] if headers else None)
    request_id = request.scope.get(SCOPE_KEY, "-")
    operation = f"{request.method} {request.url.path}"
    if principal is None:
        await audit_unauthenticated(state.audit, state.keys, headers[0] if headers else "",
                                    request_id, operation)  # fmt: skip
        return error_response(
            "Unauthorized: send Authorization: Bearer <api key>.",
            ErrorCode.UNAUTHENTICATED,
            401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not principal.may_ingest:
        try:
            await state.audit.submit(
                **_audit_as(principal, request_id), operation=operation, outcome="forbidden",
                denied=[operation],
            ).wait_async()  # fmt: skip
        except AuditError as exc:  # the refusal holds no data, so it is still the answer
            log.error("request %s: %s", request_id, exc)
        return error_response(
            f"Forbidden: role '{principal.role.value}' may not send records; use an ingest key.",
            ErrorCode.FORBIDDEN,
            403,
        )
    if state.model is None:
        return error_response(
            "Not ready: the graph is still being built; try again shortly.",
            ErrorCode.INTERNAL,
            503,
            headers={"Retry-After": "5"},
        )
    return principal


async def _body(request: Request) -> Any:
    try:
        return json_of(await request.body())
    except NestingError:  # before ValueError, which it is
        raise BatchError(
            "The body is nested too deeply: send a flat JSON array of records."
        ) from None
    except (ValueError, UnicodeDecodeError):
        raise BatchError("The body is not JSON: send a JSON array of records.") from None


def _write_line(
    state: Any,
    principal: Principal,
    request_id: str,
    operation: str,
    read: list[str],
    counts: dict[str, int],
    tried: list[str],
) -> Commit:
    """Queue the write's audit line. ``tried``: ids the bank does not hold, kept as their
    HMAC (:func:`batch_references`)."""
    macs = {"tried_hmac": sorted({state.text_mac(t) for t in tried})} if tried else {}
    commit: Commit = state.audit.submit(
        **_audit_as(principal, request_id), operation=operation, fields=["records"],
        ids=read, outcome="ok", records=counts, **macs,
    )  # fmt: skip
    return commit


async def _withheld(state: Any, principal: Principal, request_id: str, operation: str) -> None:
    """The line after an ``ok`` line whose answer then failed (its journal write): the
    verdicts it names were not handed out."""
    try:
        await state.audit.submit(
            **_audit_as(principal, request_id), operation=operation, outcome="withheld",
            fields=[], reason="journal",
        ).wait_async()  # fmt: skip
    except AuditError as exc:  # the 503 holds no data: it is still the answer
        log.error("request %s: %s", request_id, exc)


async def _committed(commit: Commit, request_id: str) -> Response | None:
    """Wait for a write's audit line: None once durable; a 503 when the trail cannot take
    it (what was accepted is durable: a resend is answered ``duplicate``)."""
    try:
        await commit.wait_async()
    except AuditError as exc:
        log.error("request %s: %s", request_id, exc)
        return error_response(
            "Service unavailable: the audit trail cannot be written, so the answer is "
            "withheld; what was accepted is durable (sent again, it is a duplicate).",
            ErrorCode.INTERNAL,
            503,
            headers={"Retry-After": "5"},
        )
    return None


async def _audited_write(
    state: Any,
    principal: Principal,
    request_id: str,
    operation: str,
    read: list[str],
    counts: dict[str, int],
    tried: list[str],
) -> Response | None:
    """The write's audit line, committed before the answer leaves (:func:`_committed`)."""
    line = _write_line(state, principal, request_id, operation, read, counts, tried)
    return await _committed(line, request_id)


def _unwritten_text(what: str, dropped: bool = False) -> str:
    """Why a batch was not recorded or not scored: resending it is safe (what was written
    is answered ``duplicate``). ``dropped``: the live index was dropped or replaced (a
    failed write, a refresh), not this batch's write failing."""
    if dropped:
        return (f"Service unavailable: the live index is being rebuilt from the store and the "
                f"journal (after a refresh or a failed write), so {what}; send the batch again "
                "shortly.")  # fmt: skip
    return f"Service unavailable: the journal cannot be written, so {what}; send the batch again later."


def _unwritten(what: str, dropped: bool = False) -> Response:
    """The 503 of a batch whose journal write failed or whose live index was dropped."""
    return error_response(
        _unwritten_text(what, dropped), ErrorCode.INTERNAL, 503, headers={"Retry-After": "5"}
    )


class NotRecordedError(ClientError):
    """``recordTransfers``' batch was not recorded or not scored (HTTP 503, as
    ``POST /v1/transfers`` answers): worded, not masked as an internal fault."""

    code = ErrorCode.INTERNAL


def _holds(live: LiveScoring) -> Callable[[str], bool]:
    """Whether the bank holds an id a batch named: an account (loaded or opened since), a
    customer or an enterprise. Anything else goes in the audit line as its HMAC."""
    model = live.model
    return lambda text: (
        live.index.account(text) is not None
        or model.find_person(text) is not None
        or text in model.enterprise_index
    )


Endpoint = Callable[[Request], Awaitable[Response]]
_TRANSFER_REFERENCES: Final = ("tx_id", "from_account", "to_account")
_ACCOUNT_REFERENCES: Final = ("account_id", "holder_id")


def routes(state: Any) -> list[tuple[str, Any]]:
    """``(path, endpoint)`` of the ingestion endpoints over ``state``."""

    async def transfers(request: Request) -> Response:
        principal = await _authorised(request, state)
        if isinstance(principal, Response):
            return principal
        request_id = request.scope.get(SCOPE_KEY, "-")
        try:
            body = await _body(request)
            found = current_live(state)
            live = found if found is not None else await run_in_threadpool(live_of, state)
            batch = await run_in_threadpool(live.validate_transfers, body, principal.key_id)
        except BatchError as exc:
            return error_response(str(exc), ErrorCode.BAD_USER_INPUT, 400)
        except IndexDroppedError as exc:
            # Found before the drop, reached after it: nothing of this batch was reserved
            # or queued (the next request finds the rebuilt index).
            log.error("request %s: %s", request_id, exc)
            return _unwritten("nothing was recorded", dropped=True)
        results, operation = batch.results, "POST /v1/transfers"
        counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
        for r in results:
            counts[r["status"]] += 1
        lines: list[Commit] = []

        def queue_line() -> None:
            # Each record's answer says whether the accounts it names exist: they were read.
            held, tried = batch_references(body, results, _TRANSFER_REFERENCES, _holds(live))
            read = list(dict.fromkeys([*verdict_reads(results), *held]))
            lines.append(_write_line(state, principal, request_id, operation, read, counts,
                                     tried))  # fmt: skip

        if batch.commit is not None:
            try:
                # Off the loop: it takes the scorer's lock, which another batch holds for as
                # long as its verdicts and journal write take; waiting for it on the loop
                # stopped every request, /healthz included. Durable before acknowledged: it
                # returns once the write is, the audit line queued meanwhile.
                # The new alerts' lines follow the write: the answer waits for them too, as
                # the trail must hold every alert a verdict handed out before it leaves.
                lines += await run_in_threadpool(live.apply, batch.fresh,
                                                 _audit_as(principal, request_id), batch.commit,
                                                 queue_line)  # fmt: skip
            except Exception as exc:
                log.error("request %s: %s", request_id, exc)
                if lines:
                    await _withheld(state, principal, request_id, operation)
                if isinstance(exc, IndexDroppedError):
                    return _unwritten("this batch was not scored", dropped=True)
                return _unwritten("nothing was recorded")
        try:
            # A resend's "duplicate" too means on disk: another request may still be
            # writing it.
            for commit in batch.waits:
                await commit.wait_async()
        except Exception as exc:
            log.error("request %s: %s", request_id, exc)
            if lines:
                await _withheld(state, principal, request_id, operation)
            return _unwritten("a record sent before by another request was not recorded")
        state.metrics.count_records("transfers", counts)
        if not lines:
            queue_line()
        for line in lines:
            failed = await _committed(line, request_id)
            if failed is not None:
                return failed
        return JSONResponse({**counts, "results": results})

    async def accounts(request: Request) -> Response:
        principal = await _authorised(request, state)
        if isinstance(principal, Response):
            return principal
        try:
            body = await _body(request)
            live = await run_in_threadpool(live_of, state)
            answer = await run_in_threadpool(live.record_accounts, body, principal.key_id)
        except BatchError as exc:
            return error_response(str(exc), ErrorCode.BAD_USER_INPUT, 400)
        except IndexDroppedError as exc:  # before JournalError, which it is
            log.error("%s", exc)
            return _unwritten("nothing was recorded", dropped=True)
        except JournalError as exc:
            log.error("%s", exc)
            return error_response(
                "Service unavailable: the journal cannot be written; send the batch again later.",
                ErrorCode.INTERNAL,
                503,
            )
        counts = {k: answer[k] for k in ("accepted", "duplicate", "rejected")}
        state.metrics.count_records("accounts", counts)
        request_id = request.scope.get(SCOPE_KEY, "-")
        # Each record's answer says whether its account and holder exist: they were read.
        read, tried = batch_references(body, answer["results"], _ACCOUNT_REFERENCES,
                                       _holds(live))  # fmt: skip
        failed = await _audited_write(
            state, principal, request_id, "POST /v1/accounts", read, counts, tried
        )
        return failed or JSONResponse(answer)

    def observed(name: str, endpoint: Endpoint) -> Endpoint:
        """``endpoint`` with each answer's latency and status in the metrics."""

        async def timed(request: Request) -> Response:
            started = time.perf_counter()
            response = await endpoint(request)
            state.metrics.observe_ingest(name, time.perf_counter() - started, response.status_code)
            return response

        return timed

    return [
        ("/v1/transfers", observed("transfers", transfers)),
        ("/v1/accounts", observed("accounts", accounts)),
    ]


# -- GraphQL -------------------------------------------------------------------------------


class IngestKeysOnlySend(SchemaExtension):
    """An ingest key (a payment system's) may run ``recordTransfers`` and nothing else:
    every other operation is refused before any resolver runs (HTTP 403), whichever way
    the schema is executed."""

    def on_execute(self) -> Iterator[None]:
        ec = self.execution_context
        context = ec.context
        fields = root_fields(ec.graphql_document, ec.operation_name)
        if sum(f.name.value == "recordTransfers" for f in fields) > 1:
            # Aliases would stack batches of 1,000 past the cap a request may carry.
            ec.result = ExecutionResult(data=None, errors=[GraphQLError(
                "One recordTransfers per request: send the transfers (at most 1,000) in one "
                "list, not in several aliases.", extensions={"code": "BAD_USER_INPUT"})])  # fmt: skip
            yield
            return
        principal = getattr(context, "principal", None)
        if principal is None or principal.role is not Role.INGEST:
            yield
            return
        core = ec.schema._schema
        roots = (core.query_type, core.mutation_type)
        known = frozenset(n for root in roots if root is not None for n in root.fields)
        field = root_field(ec.graphql_document, ec.operation_name, known)
        if field != "recordTransfers":
            denied = PermissionDeniedError(field, Role.INGEST.value)
            response = getattr(context, "response", None)
            if response is not None:
                response.status_code = 403
            ec.result = ExecutionResult(
                data=None, errors=[GraphQLError(str(denied), original_error=denied)]
            )
        yield


@strawberry.input(description="One transfer, with the columns of the transfers table.")
class TransferInput:
    tx_id: str
    from_account: str
    to_account: str
    amount: float
    currency: str
    timestamp: str = strawberry.field(
        description="As the loader reads timestamps (ISO-8601, 2026/06/12 10:00, "
        "20260612 100000, 2026年6月12日 10:15, with or without an offset); without one it is "
        "read in the zone the store was loaded under (RELGRAPH_SOURCE_TZ as the load ran)."
    )


@strawberry.type
class AccountScore:
    id: strawberry.ID
    score: float = strawberry.field(description="The account's risk after the transfer.")


@strawberry.type
class VerdictAlert:
    chain_id: strawberry.ID
    typology: str
    score: float
    hops: int
    extends: strawberry.ID | None = strawberry.field(
        description="The alert this one grew from (it held the same transfers but this one)."
    )
    above_threshold: bool


@strawberry.type
class TransferVerdict:
    from_account: AccountScore
    to_account: AccountScore
    alerts: list[VerdictAlert] = strawberry.field(
        description="The alerts the transfer completes or extends, highest score first."
    )
    truncated: bool = strawberry.field(
        description="The verdict did not see all it reads: the search reached its cap, or "
        "the transfer came so late that its detection windows reach back past what the "
        "live index holds (about three days behind the newest transfer). Not a clearance: "
        "the next `relgraph analyze` judges it with every transfer."
    )


@strawberry.type
class TransferResult:
    tx_id: str
    status: str = strawberry.field(description="accepted, duplicate (sent before) or rejected.")
    reasons: list[str]
    verdict: TransferVerdict | None


@strawberry.type
class RecordTransfersResult:
    accepted: int
    duplicate: int
    rejected: int
    results: list[TransferResult]


def _verdict(v: dict[str, Any] | None) -> TransferVerdict | None:
    if v is None:
        return None
    return TransferVerdict(
        from_account=AccountScore(id=strawberry.ID(v["from_account"]["id"]),
                                  score=v["from_account"]["score"]),
        to_account=AccountScore(id=strawberry.ID(v["to_account"]["id"]),
                                score=v["to_account"]["score"]),
        alerts=[
            VerdictAlert(
                chain_id=strawberry.ID(a["chain_id"]), typology=a["typology"], score=a["score"],
                hops=a["hops"], extends=None if a["extends"] is None else strawberry.ID(a["extends"]),
                above_threshold=a["above_threshold"],
            )
            for a in v["alerts"]
        ],
        truncated=v["truncated"],
    )  # fmt: skip


def _not_recorded(
    ctx: Any, exc: JournalError, what: str, dropped: bool = False
) -> NotRecordedError:
    """The error of a ``recordTransfers`` batch not recorded or not scored: a 503 worded as
    ``POST /v1/transfers`` words it (logged with the cause)."""
    log.error("request %s: %s", ctx.request_id, exc)
    if ctx.response is not None:
        ctx.response.status_code = 503
    return NotRecordedError(_unwritten_text(what, dropped))


@strawberry.type
class IngestMutation:
    @strawberry.mutation(
        description="Record up to 1,000 transfers (ingest and admin keys): each is checked "
        "with the transfers table's rules, journalled durably, applied to the live graph and "
        "answered with its verdict."
    )
    def record_transfers(self, info: Info, transfers: list[TransferInput]) -> RecordTransfersResult:
        ctx = info.context
        if not ctx.principal.may_ingest:
            raise PermissionDeniedError("recordTransfers", ctx.principal.role.value)
        if ctx.live is None:
            raise ClientError("This server does not take transfers (no data directory).")
        body = [
            {"tx_id": t.tx_id, "from_account": t.from_account, "to_account": t.to_account,
             "amount": t.amount, "currency": t.currency, "ts": t.timestamp}
            for t in transfers
        ]  # fmt: skip
        live: LiveScoring = ctx.live()
        try:
            batch = live.validate_transfers(body, ctx.principal.key_id)
        except BatchError as exc:
            raise ClientError(str(exc)) from exc
        except IndexDroppedError as exc:
            raise _not_recorded(ctx, exc, "nothing was recorded", dropped=True) from exc
        noted: list[bool] = []

        def note_reads() -> None:
            # The audit trail names the scores and alerts handed out, and every id a record
            # named (its answer says whether it exists), as the /v1/transfers line does.
            # Not ctx.touch: past the deadline it raises, and the batch is recorded by now.
            held, tried = batch_references(body, batch.results, _TRANSFER_REFERENCES,
                                           _holds(live))  # fmt: skip
            ctx.touched.extend(dict.fromkeys([*verdict_reads(batch.results), *held]))
            if ctx.text_mac is not None:  # None: no audit trail to keep them for
                ctx.tried.extend(ctx.text_mac(t) for t in tried)
            noted.append(True)

        def on_verdict() -> None:
            # The line queued now: its flush overlaps the journal write's, as on the HTTP
            # path; the answer waits for it and for the new alerts' lines (audit_commits).
            note_reads()
            if ctx.audit_now is not None:
                ctx.audit_now()

        if batch.commit is not None:
            as_ = _audit_as(ctx.principal, ctx.request_id)
            try:
                ctx.audit_commits += live.apply(batch.fresh, as_, batch.commit, on_verdict)
            except IndexDroppedError as exc:  # before JournalError, which it is
                raise _not_recorded(ctx, exc, "this batch was not scored", dropped=True) from exc
            except JournalError as exc:
                raise _not_recorded(ctx, exc, "nothing was recorded") from exc
        # Resends of transfers other requests were writing: answered once those are on disk.
        try:
            await_commits(batch.waits)
        except JournalError as exc:
            raise _not_recorded(
                ctx, exc, "a record sent before by another request was not recorded"
            ) from exc
        if not noted:
            note_reads()
        answer = summary(batch.results)
        return RecordTransfersResult(
            accepted=answer["accepted"],
            duplicate=answer["duplicate"],
            rejected=answer["rejected"],
            results=[
                TransferResult(
                    tx_id=r["tx_id"], status=r["status"], reasons=r.get("reasons", []),
                    verdict=_verdict(r.get("verdict")),
                )
                for r in answer["results"]
            ],
        )  # fmt: skip
