"""Alert decisions: ``reviewRiskChain`` sets an alert's status with a note, written to the
server's journal (see :mod:`relgraph.api.chain_reviews` for how decisions follow chains)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import strawberry

from relgraph.analytics.layering.check import CheckedChain
from relgraph.api import chain_reviews as cr
from relgraph.api.context import Context, Info
from relgraph.api.errors import ClientError, ErrorCode, NotFoundError
from relgraph.api.live_records import FoundAlert
from relgraph.api.risk import (
    ChainStatus,
    RiskChain,
    _chain,
    _from_snapshot,
    _live_chain,
    _snapshot,
    _view,
)
from relgraph.api.stored_chains import stored_chain
from relgraph.journal import JournalError
from relgraph.journal.resends import ResendConflictError, request_id_problem

log = logging.getLogger("relgraph.api")


class ReviewNotSavedError(ClientError):
    """The journal refused a decision: nothing was saved (the server log says why)."""

    code = ErrorCode.INTERNAL


def _current_chain(ctx: Context, chain_id: str) -> CheckedChain | None:
    """The chain ``chain_id`` names now: a current chain, the chain a decision on it followed
    to, or the chain as last reviewed when it is gone; None when nothing by that id."""
    results = ctx.model.results
    table, hops = results.risk_chains, results.risk_chain_hops
    view = _view(ctx)
    chain_id = view.current_of.get(chain_id, chain_id)
    if table is not None and hops is not None and chain_id in table.row_of:
        row = table.row(table.row_of[chain_id])
        return stored_chain(row, ctx.model.columns_between(hops, "chain_id", chain_id))
    history = view.history(chain_id)
    if history:
        return _from_snapshot(chain_id, history[-1].snapshot)
    return None


def _live_alert(ctx: Context, chain_id: str) -> FoundAlert | None:
    """The live alert ``chain_id`` names, if any (found since the last analyze)."""
    found = ctx.live_alerts() if ctx.live_alerts is not None else []
    return next((f for f in found if f.alert.chain_id == chain_id), None)


@strawberry.type
class ReviewMutations:
    @strawberry.mutation(
        description="Set an alert's status with a note (risk and admin keys; audited). The "
        "decision is written to the server's journal before the answer and follows the chain "
        "across loads and analyses (to the chain holding at least half of its transfers); a "
        "chain that is gone stays in riskChains with its history. REPORTED is final. "
        "Sent again (the same decision under the same requestId, or without one the same as "
        "the chain's latest decision by this key), it is answered without a second decision; "
        "another decision under a requestId already used is refused."
    )
    def review_risk_chain(
        self,
        info: Info,
        id: strawberry.ID,
        status: ChainStatus,
        note: str | None = None,
        request_id: str | None = None,
    ) -> RiskChain:
        ctx = info.context
        ctx.require_risk_team("reviewRiskChain")
        if ctx.reviews is None or not ctx.reviews.writable:
            raise ClientError("This server keeps no journal, so decisions cannot be saved.")
        if note is not None and len(note) > cr.MAX_NOTE:
            raise ClientError(f"note must be at most {cr.MAX_NOTE} characters, not {len(note)}.")
        problem = request_id_problem(request_id)
        if problem is not None:
            raise ClientError(problem)
        chain = _current_chain(ctx, str(id))
        # An alert a streamed transfer raised since the last analyze is in the queue too
        # (foundBy REALTIME); its id was answered "No risk chain".
        found = None if chain is not None else _live_alert(ctx, str(id))
        if found is not None:
            chain = _live_chain(ctx, found).chain
        if chain is None:
            raise NotFoundError(f"No risk chain with id {str(id)!r}.")
        chain_id = chain.chain_id

        def still_open_to(reviews: Sequence[cr.Review]) -> None:
            # Checked against every decision written, under the log's lock: a report that
            # landed while this request was read still refuses another status.
            reported = cr.status_of(ctx.model.review_view(reviews).history(chain_id))
            if reported == cr.REPORTED and status is not ChainStatus.REPORTED:
                raise ClientError(
                    f"Chain {chain_id} was reported: its status stays REPORTED "
                    "(send status REPORTED to add a note)."
                )

        still_open_to(ctx.reviews.snapshot())
        ctx.touch(chain_id)
        record = cr.review_record(chain_id, status.value, note, _snapshot(chain), request_id)
        try:
            review, new = ctx.reviews.append(record, by=ctx.principal.key_id, check=still_open_to)
        except ResendConflictError as exc:
            raise ClientError(str(exc)) from None
        except JournalError as exc:
            log.error("request %s: %s", ctx.request_id, exc)
            raise ReviewNotSavedError(
                "The decision was not saved: the server cannot write its journal; try again "
                "later (operators: see the server log)."
            ) from None
        if not new:
            ctx.resent = review.seq
        return _chain(ctx, chain) if found is None else _live_chain(ctx, found)
