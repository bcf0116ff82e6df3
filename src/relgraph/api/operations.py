"""Admin operations: rebuilding the served graph from the store."""

from __future__ import annotations

import strawberry

from relgraph.api.context import Info


@strawberry.type
class RefreshResult:
    started: bool
    message: str


@strawberry.type
class AdminMutation:
    @strawberry.mutation(
        description="Rebuild the graph from the store (after a load or analyze); admin keys only."
    )
    def refresh(self, info: Info) -> RefreshResult:
        ctx = info.context
        ctx.require_admin("refresh")
        if ctx.refresh is None:
            return RefreshResult(started=False, message="This server cannot refresh (no store).")
        ctx.refresh()
        return RefreshResult(
            started=True,
            message="Rebuilding beside the live graph; /readyz and graphStats show the new one when done.",
        )
