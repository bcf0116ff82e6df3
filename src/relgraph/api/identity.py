"""Identity resolution's review band: record pairs that may be one person, and reviewers'
decisions on them.

A possible duplicate's ``id`` is keyed (``D`` + an HMAC of its two customer ids, sorted,
under the deployment's person-id secret, made by ``load``): it names the pair to the
server, and tells a caller nothing about which records it names. ``decideDuplicate``
writes a SAME or DIFFERENT decision to the data directory's journal; the next ``load``
applies it (:mod:`relgraph.ingest.decisions`) and the pair leaves the review band, while
``duplicateDecisions`` keeps listing it with who decided and when.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, cast

import pandas as pd
import strawberry

from relgraph import model
from relgraph.api.context import Context, Info
from relgraph.api.errors import ClientError, NotFoundError
from relgraph.api.pagination import Connection
from relgraph.api.queue_pages import keyed_page
from relgraph.journal.decisions import DecisionError, DuplicateDecision, latest
from relgraph.journal.resends import ResendConflictError, request_id_problem


@strawberry.enum(description="Why a pair of records is offered as a possible duplicate.")
class DuplicateReason(Enum):
    SCORE = strawberry.enum_value(
        model.DUPLICATE_BY_SCORE, description="The linkage model's score is in the review band."
    )
    SHARED_ID_NUMBER = strawberry.enum_value(
        model.DUPLICATE_BY_SHARED_ID,
        description="The two records carry one id number that one of them contradicts (its "
        "birth date or sex differs from the number's), whatever the score: the number is "
        "no evidence for the model, but one person's records, or a relative's id typed on "
        "the wrong record, are for a reviewer to tell apart.",
    )


@strawberry.type
class PossibleDuplicate:
    duplicate_id: strawberry.Private[str | None]
    customer_a: strawberry.ID
    customer_b: strawberry.ID
    score: float
    evidence: str
    reason: DuplicateReason = strawberry.field(
        description="Why the pair is offered (pairs stored before reasons existed: SCORE)."
    )

    @strawberry.field(
        description="The pair's id, for decideDuplicate: a keyed hash of its two customer "
        "ids that names them to the server only."
    )
    def id(self) -> strawberry.ID:
        if self.duplicate_id is None:
            raise ClientError(
                "This store was loaded before possible duplicates had ids: run `relgraph "
                "load` again, then refresh."
            )
        return strawberry.ID(self.duplicate_id)


def _possible(context: Context, row: dict[str, Any]) -> PossibleDuplicate:
    context.touch(str(row["customer_a"]))  # the audit trail names both records
    context.touch(str(row["customer_b"]))
    duplicate_id = row.get("duplicate_id")
    return PossibleDuplicate(
        duplicate_id=None if pd.isna(duplicate_id) else str(duplicate_id),
        customer_a=strawberry.ID(str(row["customer_a"])),
        customer_b=strawberry.ID(str(row["customer_b"])),
        score=float(row["score"]),
        evidence=str(row["evidence"]),
        reason=_reason(row),
    )


def _reason(row: dict[str, Any]) -> DuplicateReason:
    value = row.get("reason")
    return DuplicateReason.SCORE if value is None or pd.isna(value) else DuplicateReason(value)


def _band_row(context: Context, duplicate_id: str) -> dict[str, Any] | None:
    """The served review band's row with ``duplicate_id``, if any."""
    frame = context.model.results.possible_duplicates
    if frame is None or "duplicate_id" not in frame.columns:
        return None
    found = frame[frame["duplicate_id"] == duplicate_id]
    return None if found.empty else cast(dict[str, Any], found.iloc[0].to_dict())


@strawberry.enum(description="A reviewer's decision on a possible duplicate.")
class DuplicateVerdict(Enum):
    SAME = strawberry.enum_value(
        "SAME", description="One person: the next load merges the two records."
    )
    DIFFERENT = strawberry.enum_value(
        "DIFFERENT",
        description="Two persons: no load puts the two records in one person, directly or "
        "through other records.",
    )


@strawberry.type(
    name="DuplicateDecision", description="A reviewer's decision on a pair of customer records."
)
class DuplicateDecisionNode:
    id: strawberry.ID = strawberry.field(description="The possible duplicate's id.")
    customer_a: strawberry.ID
    customer_b: strawberry.ID
    decision: DuplicateVerdict
    note: str
    decided_by: str = strawberry.field(
        description="The deciding API key's id (k_…), or cli:<user> for `relgraph decide`."
    )
    decided_at: str = strawberry.field(description="When it was recorded, ISO 8601 in UTC.")
    in_force: bool = strawberry.field(
        description="The latest decision on its pair (the one loads apply)."
    )
    possible_duplicate: PossibleDuplicate | None = strawberry.field(
        description="The pair in the served review band; null once it left the band "
        "(a load applied the decision)."
    )


def _node(context: Context, made: DuplicateDecision, *, in_force: bool) -> DuplicateDecisionNode:
    context.touch(made.customer_a)
    context.touch(made.customer_b)
    row = _band_row(context, made.duplicate_id)
    return DuplicateDecisionNode(
        id=strawberry.ID(made.duplicate_id),
        customer_a=strawberry.ID(made.customer_a),
        customer_b=strawberry.ID(made.customer_b),
        decision=DuplicateVerdict(made.decision),
        note=made.note,
        decided_by=made.by,
        decided_at=made.at,
        in_force=in_force,
        possible_duplicate=None if row is None else _possible(context, row),
    )


@strawberry.type
class IdentityQueries:
    @strawberry.field(
        description="Record pairs in identity resolution's review band (not merged). "
        "minScore leaves out pairs offered for their score below it; pairs offered for a "
        "shared id number (reason SHARED_ID_NUMBER) are listed whatever their score."
    )
    def possible_duplicates(
        self,
        info: Info,
        min_score: float = 0.5,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[PossibleDuplicate]:
        info.context.require_risk("possibleDuplicates")
        frame = info.context.model.results.possible_duplicates
        if frame is None:
            rows: list[dict[str, object]] = []
        else:
            kept = frame["score"] >= min_score
            if "reason" in frame.columns:
                kept |= frame["reason"] == DuplicateReason.SHARED_ID_NUMBER.value
            rows = cast(list[dict[str, Any]], frame[kept].to_dict("records"))
        return info.context.page(info, rows, first, after, lambda r: _possible(info.context, r))


@strawberry.type
class DecisionQueries:
    @strawberry.field(
        description="Reviewers' decisions on possible duplicates, newest first, with who "
        "decided and when; pairs no longer in the review band included."
    )
    def duplicate_decisions(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[DuplicateDecisionNode]:
        context = info.context
        context.require_risk("duplicateDecisions")
        made = context.decisions.all() if context.decisions is not None else []
        in_force = {d.seq for d in latest(made).values()}
        # Decisions only ever come after the others, and newest first they come first: an
        # offset from the top served one again per decision made since the page before.
        # Counted from the oldest (no journal seq, which counts every entry), a place stays.
        newest = list(enumerate(made))[::-1]
        return keyed_page(
            newest,
            lambda n: (-n[0],),
            [],
            first,
            after,
            lambda n: _node(context, n[1], in_force=n[1].seq in in_force),
            tail_key=lambda n: n[0],  # no tail
            order="newest",
            listed="duplicateDecisions",
            cursors=context.cursors(info),
        )


@strawberry.type
class DecisionMutations:
    @strawberry.mutation(
        description="Decide whether a possible duplicate's two records are one person (SAME) "
        "or two (DIFFERENT); the next load applies it. Analyst, risk and admin keys. Sent "
        "again (the same decision under the same requestId, or without one the same as the "
        "latest decision on the pair by this key), it is answered without a second decision; "
        "another decision under a requestId already used is refused."
    )
    def decide_duplicate(
        self,
        info: Info,
        id: strawberry.ID,
        decision: DuplicateVerdict,
        note: str = "",
        request_id: str | None = None,
    ) -> DuplicateDecisionNode:
        context = info.context
        context.require_risk("decideDuplicate")
        problem = request_id_problem(request_id)
        if problem is not None:
            raise ClientError(problem)
        if context.decisions is None:
            raise ClientError(
                "This server records no decisions (it has no data directory): use "
                "`relgraph decide` on the data directory instead."
            )
        duplicate_id = str(id)
        row = _band_row(context, duplicate_id)
        earlier = None if row is not None else context.decisions.find(duplicate_id)
        if row is not None:
            pair = (str(row["customer_a"]), str(row["customer_b"]))
        elif earlier is not None:  # a pair decided before may be decided again
            pair = earlier.pair
        else:
            raise NotFoundError(
                f"No possible duplicate has id {duplicate_id!r}: take the id from "
                "possibleDuplicates or duplicateDecisions."
            )
        try:
            made, new = context.decisions.record_once(
                duplicate_id, pair, decision.name, note,
                by=context.principal.key_id, request_id=request_id,
            )  # fmt: skip
        except (DecisionError, ResendConflictError) as exc:
            raise ClientError(str(exc)) from None
        if new:
            return _node(context, made, in_force=True)
        context.resent = made.seq  # another reviewer may have decided the pair since
        in_force = latest(context.decisions.all())[made.pair].seq == made.seq
        return _node(context, made, in_force=in_force)
