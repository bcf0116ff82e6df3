"""Identity resolution's review band: record pairs that may be one person."""

from __future__ import annotations

from typing import Any, cast

import strawberry

from relgraph.api.context import Info
from relgraph.api.pagination import Connection, paginate


@strawberry.type
class PossibleDuplicate:
    customer_a: strawberry.ID
    customer_b: strawberry.ID
    score: float
    evidence: str


@strawberry.type
class IdentityQueries:
    @strawberry.field(description="Record pairs in identity resolution's review band (not merged).")
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
            rows = cast(list[dict[str, Any]], frame[frame["score"] >= min_score].to_dict("records"))

        def make(r: dict[str, Any]) -> PossibleDuplicate:
            info.context.touch(str(r["customer_a"]))  # the audit trail names both records
            info.context.touch(str(r["customer_b"]))
            return PossibleDuplicate(
                customer_a=strawberry.ID(str(r["customer_a"])),
                customer_b=strawberry.ID(str(r["customer_b"])),
                score=float(r["score"]),
                evidence=str(r["evidence"]),
            )

        return paginate(rows, first, after, make)
