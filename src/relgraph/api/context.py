"""Per-request context: who asks, what they touched (for the audit trail), the deadline."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy.typing as npt
from strawberry.types import Info as _Info

from relgraph.api.admission import CostBudget
from relgraph.api.audit_commit import Commit
from relgraph.api.auth import Principal
from relgraph.api.chain_reviews import ReviewLog
from relgraph.api.errors import LimitError, PermissionDeniedError
from relgraph.api.pagination import Connection, ListCursors, list_scope, paginate
from relgraph.api.ratelimit import RateLimiter
from relgraph.api.readmodel import ReadModel
from relgraph.journal.decisions import DecisionBook

S = TypeVar("S")
T = TypeVar("T")


@dataclass
class Context:
    """What resolvers get as ``info.context``."""

    principal: Principal
    model: ReadModel
    request_id: str
    deadline: float
    """``time.monotonic()`` after which resolving stops."""
    touched: list[str] = field(default_factory=list)
    refresh: Callable[[], None] | None = None
    """Rebuild the graph from the store beside the live one (the admin ``refresh`` mutation)."""
    live: Callable[[], Any] | None = None
    """The server's live scoring (:class:`relgraph.api.live.LiveScoring`), built on first
    use; None when the server takes no transfers."""
    live_alerts: Callable[[], list[Any]] | None = None
    """The real-time alerts found so far (``FoundAlert``), without building anything."""
    streamed_account: Callable[[str], bool] | None = None
    """Whether an id is an account sent to this server since the load (``POST
    /v1/accounts``), without building anything."""
    response: Any = None
    """The HTTP sub-response, whose status an extension may set (503: audit unwritable)."""
    budget: CostBudget | None = None
    """Concurrent cost per key (None: every query within the cost limit runs)."""
    cost: int = 0
    """The operation's estimated cost, once the cost limiter has priced it."""
    retry_after: int | None = None
    """Set when the budget refused the operation: the HTTP answer is 429 with Retry-After."""
    defer_audit: bool = False
    """The caller awaits the audit line itself (``audit_commit``) before answering; otherwise
    the operation waits for its line to be durable before it returns."""
    audit_commits: list[Commit] = field(default_factory=list)
    """The lines the answer waits for (when ``defer_audit``, its caller does): the
    operation's own, and those of the real-time alerts its verdicts hand out."""
    audit_now: Callable[[], None] | None = None
    """Queue the operation's audit line before the operation ends (set by the audit
    extension): ``recordTransfers`` calls it once its verdicts are known, so that the
    line's flush overlaps the journal's. A line that no longer holds when the operation
    ends is followed by a second one (:func:`relgraph.api.audit_request.after_early`)."""
    decisions: DecisionBook | None = None
    """Where reviewers' duplicate decisions are recorded (the data directory's journal);
    None: this server records none."""
    search_limit: RateLimiter | None = None
    """Searches per key and minute (None: unlimited, as in-process tools run)."""
    id_misses: RateLimiter | None = None
    """Analyst id-number searches that found no one, per key and day (None: unlimited)."""
    text_mac: Callable[[str], str] | None = None
    """HMAC of a text under the audit key: what the audit line keeps of a search text."""
    reviews: ReviewLog | None = None
    """Alert decisions (None: none kept, and reviewRiskChain refuses)."""
    searches: list[str] = field(default_factory=list)
    """The HMACs of the texts this operation searched for (for the audit trail)."""
    tried: list[str] = field(default_factory=list)
    """The HMACs of ids a batch named that the bank does not hold (``tried_hmac``)."""
    resent: int | None = None
    """The journal entry a decision sent again resent (the audit line's ``resend_of``)."""

    @contextmanager
    def admit(self, cost: int) -> Iterator[str | None]:
        """Hold ``cost`` of the key's budget while the block runs; yields why not, if refused."""
        self.cost = cost
        if self.budget is None:
            yield None
            return
        with self.budget.hold(self.principal.key_id, cost) as admitted:
            if not admitted:
                self.retry_after = self.budget.retry_after
                yield (
                    "Too many expensive queries in flight for this key: "
                    f"retry after {self.retry_after} s or ask for smaller pages."
                )
                return
            with self.budget.lane(cost, self.deadline - time.monotonic()) as running:
                if running:
                    yield None
                    return
                self.retry_after = self.budget.retry_after
                yield "The server is busy with expensive queries: retry after a few seconds."

    def streamed(self, account_id: str) -> bool:
        """An account sent to the server since the load, for a key that reads accounts' risk
        (an ingest or campaign key learns nothing of what was streamed)."""
        return bool(
            self.principal.sees_risk
            and self.streamed_account is not None
            and self.streamed_account(account_id)
        )

    def touch(self, node_id: str) -> None:
        """Note a node read (for the audit trail) and stop if the deadline has passed."""
        self.touched.append(node_id)
        if time.monotonic() > self.deadline:
            self.check_deadline()

    def page(
        self,
        info: Info,
        items: Sequence[S] | npt.NDArray[Any],
        first: int | None,
        after: str | None,
        make: Callable[[S], T],
        deadline_check: Callable[[], None] | None = None,
        suffix: str = "",
        *,
        of: object = "",
    ) -> Connection[T]:
        """:func:`paginate` over the list ``info`` resolves (of the parent ``of``), in the
        graph this request reads: a cursor from another graph, list or argument is refused
        instead of read into this list's order."""
        return paginate(
            items, first, after, make, deadline_check, suffix, cursors=self.cursors(info, of)
        )

    def cursors(self, info: Info, of: object = "") -> ListCursors:
        """The cursors of the list ``info`` resolves, of the parent ``of`` (its id or index:
        what tells this person's accounts from another's), in this request's graph."""
        return ListCursors.of(
            self.model.generation, self.model.cursor_secret, list_scope(info._raw_info, of)
        )

    def check_deadline(self) -> None:
        if time.monotonic() > self.deadline:
            raise LimitError("Query deadline exceeded: narrow the query or ask for smaller pages.")

    def require_admin(self, field_name: str) -> None:
        """Operations that change what the service serves."""
        if self.principal.role.value != "admin":
            raise PermissionDeniedError(field_name, self.principal.role.value)

    def require_risk_team(self, field_name: str) -> None:
        """AML investigation tools: risk and admin keys only."""
        if not self.principal.sees_raw_ids:
            raise PermissionDeniedError(field_name, self.principal.role.value)

    def require_risk(self, field_name: str) -> None:
        """Campaign keys never see AML or risk data (showing it would be tipping-off)."""
        if not self.principal.sees_risk:
            raise PermissionDeniedError(field_name, self.principal.role.value)


Info = _Info[Context, None]
