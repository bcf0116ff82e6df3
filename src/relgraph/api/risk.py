"""Layered transactions: the stored alerts (riskChains) and the on-demand check of one account."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime, tzinfo
from enum import Enum
from typing import Any

import numpy as np
import strawberry

from relgraph.analytics.layering import TYPOLOGIES, check_account
from relgraph.analytics.layering.check import CheckedChain, Hop
from relgraph.api import chain_reviews as cr
from relgraph.api.context import Context, Info
from relgraph.api.errors import (
    ClientError,
    NotFoundError,
)
from relgraph.api.live_records import FoundAlert
from relgraph.api.pagination import Connection
from relgraph.api.parties import (
    Account,
    Party,
    account_node,
    account_node_by_id,
    moment_or_none,
    party_node,
)
from relgraph.api.queue_pages import keyed_page
from relgraph.api.risk_reasons import RiskReason, risk_reasons
from relgraph.api.stored_chains import stored_chain
from relgraph.config import display_zone, format_moment


@strawberry.enum(description="Where an alert stands in the queue.")
class ChainStatus(Enum):
    OPEN = cr.OPEN
    ESCALATED = cr.ESCALATED
    DISMISSED = cr.DISMISSED
    REPORTED = strawberry.enum_value(
        cr.REPORTED, description="Reported to the regulator: final, never lost."
    )


@strawberry.type(description="One decision on an alert.")
class ChainReview:
    status: ChainStatus
    note: str | None
    by: str = strawberry.field(description="The API key id (or cli:<user>) that decided.")
    at: str = strawberry.field(description="When, ISO-8601 in RELGRAPH_DISPLAY_TZ.")
    chain_id: strawberry.ID = strawberry.field(
        description="The chain as reviewed: an earlier id when the decision followed its "
        "chain to this one after a re-analysis."
    )


@strawberry.type(description="What a chain moved, when, and between whom.")
class ChainSummary:
    total_amount: float = strawberry.field(description="The sum of the chain's transfers.")
    first_at: str | None
    last_at: str | None
    parties: list[Party] = strawberry.field(
        description="The holders of the chain's accounts, in hop order, each once."
    )


@strawberry.type
class ChainHop:
    tx_id: str
    source: Account = strawberry.field(name="from")
    target: Account = strawberry.field(name="to")
    amount: float
    timestamp: str = strawberry.field(
        description="ISO-8601 with the offset of RELGRAPH_DISPLAY_TZ (default Asia/Shanghai, "
        "+08:00), e.g. 2024-01-06T10:15:00+08:00."
    )


HOPS_PAGE = 50
"""Hops a chain lists unless asked for more: a fan-in burst can hold hundreds of transfers,
and the cost limit prices ``hops`` at what it may return."""
MAX_HOPS_LISTED = 1_000


@strawberry.enum(description="Who found an alert.")
class FoundBy(Enum):
    BATCH = "batch"
    """`relgraph analyze` over every stored transfer."""
    REALTIME = "realtime"
    """The server, when a transfer sent to it completed or extended the chain."""


@strawberry.type(description="A layered flow the batch scan, a check or the real-time path found.")
class RiskChain:
    id: strawberry.ID
    typology: str
    score: float
    reasons: list[RiskReason]
    hop_count: int = strawberry.field(description="How many transfers the chain holds.")
    chain: strawberry.Private[CheckedChain]
    found_by: FoundBy = strawberry.field(
        default=FoundBy.BATCH, description="BATCH (analyze) or REALTIME (a streamed transfer)."
    )
    found_at: str | None = strawberry.field(
        default=None,
        description="When the server found a REALTIME alert (ISO-8601, UTC); null for BATCH.",
    )

    @strawberry.field(description="Total amount, first and last transfer, parties.")
    def summary(self, info: Info) -> ChainSummary:
        ctx = info.context
        m = ctx.model
        hops = self.chain.hops
        zone = display_zone()
        holders: dict[str, None] = {}
        for hop in hops:
            for account_id in (hop.from_account, hop.to_account):
                index = m.account_index.get(account_id)
                if index is None:
                    continue
                party = m.search_index().holder(index)
                if party >= 0:
                    persons = len(m.person_ids)
                    holders.setdefault(
                        m.person_ids[party]
                        if party < persons
                        else m.enterprise_ids[party - persons],
                        None,
                    )
        parties = [p for p in (party_node(ctx, h) for h in holders) if p is not None]
        moments = [h.ts for h in hops]
        return ChainSummary(
            total_amount=round(float(sum(h.amount for h in hops)), 2),
            first_at=format_moment(min(moments), zone) if moments else None,
            last_at=format_moment(max(moments), zone) if moments else None,
            parties=parties,
        )

    @strawberry.field(description="OPEN until someone reviews it (reviewRiskChain).")
    def status(self, info: Info) -> ChainStatus:
        return ChainStatus(_view(info.context).status(str(self.id)))

    @strawberry.field(description="Every decision on this chain, oldest first.")
    def reviews(self, info: Info) -> list[ChainReview]:
        zone = display_zone()
        return [
            ChainReview(
                status=ChainStatus(r.status),
                note=r.note,
                by=r.by,
                at=_local(r.at, zone),
                chain_id=strawberry.ID(r.chain_id),
            )
            for r in _history(info.context, str(self.id))
        ]

    @strawberry.field(
        description="The chain's transfers in hop order: the first `first` of them "
        f"(default {HOPS_PAGE}, at most {MAX_HOPS_LISTED}; hopCount says how many there are)."
    )
    def hops(self, info: Info, first: int = HOPS_PAGE) -> list[ChainHop]:
        if not 1 <= first <= MAX_HOPS_LISTED:
            raise ClientError(f"hops(first:) must be between 1 and {MAX_HOPS_LISTED}, not {first}.")
        ctx = info.context
        zone = display_zone()
        for h in self.chain.hops[:first]:  # the transfers are read: audited by their ids
            ctx.touch(h.tx_id)
        return [
            ChainHop(
                tx_id=h.tx_id,
                source=account_node_by_id(ctx, h.from_account),
                target=account_node_by_id(ctx, h.to_account),
                amount=h.amount,
                timestamp=format_moment(h.ts, zone),
            )
            # A chain kept only by a decision may name accounts no longer loaded: shown by
            # id, as accounts sent since the load are.
            for h in self.chain.hops[:first]
        ]


@strawberry.type(description="The layering settings an on-demand check ran with.")
class LayeringSettings:
    window_hours: float
    max_hops: int
    min_amount: float
    score_threshold: float


@strawberry.type
class LayeringCheck:
    account: Account
    score: float
    reasons: list[RiskReason]
    chains: list[RiskChain]
    truncated: bool
    settings_overridden: bool = strawberry.field(
        description="True when the arguments changed the settings analyze stored, so this "
        "answer may differ from the stored alerts (riskChains, Account.risk)."
    )
    settings: LayeringSettings = strawberry.field(description="The settings used.")


@strawberry.input
class RiskChainFilter:
    typology: str | None = None
    min_score: float | None = None
    since: str | None = strawberry.field(
        default=None,
        description="Chains whose last transfer is at or after this ISO-8601 date or "
        "timestamp; an offset (+08:00, Z) is honoured, a value without one is in "
        "RELGRAPH_DISPLAY_TZ (default Asia/Shanghai), a date is its midnight there.",
    )
    until: str | None = strawberry.field(
        default=None,
        description="Chains whose first transfer is at or before this ISO-8601 date or "
        "timestamp (read as since is; a date is the whole day, to its last moment).",
    )
    account_id: strawberry.ID | None = None
    status: ChainStatus | None = strawberry.field(
        default=None, description="Only chains in this status (OPEN: never reviewed, or reopened)."
    )


@strawberry.enum
class RiskChainOrder(Enum):
    SCORE_DESC = "score_desc"
    FIRST_TS_DESC = "first_ts_desc"
    ID = "id"


log = logging.getLogger("relgraph.api")


def _view(ctx: Context) -> cr.ReviewView:
    reviews = ctx.reviews.snapshot() if ctx.reviews is not None else ()
    view: cr.ReviewView = ctx.model.review_view(reviews)
    return view


def _history(ctx: Context, chain_id: str) -> list[cr.Review]:
    return _view(ctx).history(chain_id)


def _local(at: str, zone: tzinfo) -> str:
    """A journal time (ISO-8601, UTC) in the display zone."""
    return datetime.fromisoformat(at).astimezone(zone).isoformat(timespec="seconds")


def _snapshot(chain: CheckedChain) -> dict[str, Any]:
    """What a decision keeps of its chain (shown once the chain is gone)."""
    return {
        "typology": chain.typology,
        "score": chain.score,
        "reasons": chain.reasons,
        "hops": [[h.tx_id, h.from_account, h.to_account, h.amount, h.ts] for h in chain.hops],
    }


def _from_snapshot(chain_id: str, snapshot: Mapping[str, Any]) -> CheckedChain:
    return CheckedChain(
        chain_id=chain_id,
        typology=str(snapshot.get("typology", "")),
        score=float(snapshot.get("score", 0.0)),
        reasons=list(snapshot.get("reasons", [])),
        hops=[
            Hop(str(t), str(a), str(b), float(amount), int(ts))
            for t, a, b, amount, ts in snapshot.get("hops", [])
        ],
    )


def _orphan_chain(orphan: cr.Orphan) -> CheckedChain:
    return _from_snapshot(orphan.chain_id, orphan.history[-1].snapshot)


def _first_decided(orphan: cr.Orphan) -> int:
    return orphan.history[0].seq


def _orphan_kept(
    orphan: cr.Orphan, f: RiskChainFilter, since: int | None, until: int | None
) -> bool:
    """Whether a gone chain's decision passes the queue's filter (on the chain as reviewed)."""
    chain = _orphan_chain(orphan)
    moments = [h.ts for h in chain.hops] or [0]
    return (
        (f.status is None or cr.status_of(orphan.history) == f.status.value)
        and (f.typology is None or chain.typology == f.typology)
        and (f.min_score is None or chain.score >= f.min_score)
        and (since is None or max(moments) >= since)
        and (until is None or min(moments) <= until)
        and (
            f.account_id is None
            or any(str(f.account_id) in (h.from_account, h.to_account) for h in chain.hops)
        )
    )


_epoch_ms = moment_or_none  # one parser of since/until for transfers and alerts


def _chain(ctx: Context, chain: CheckedChain) -> RiskChain:
    ctx.touch(chain.chain_id)  # the audit trail names every alert served

    return RiskChain(
        id=strawberry.ID(chain.chain_id),
        typology=chain.typology,
        score=chain.score,
        reasons=risk_reasons(chain.reasons),
        hop_count=len(chain.hops),
        chain=chain,
    )


def _order_key(
    order: RiskChainOrder, score: float, first_ts: int, chain_id: str
) -> tuple[Any, ...]:
    if order is RiskChainOrder.SCORE_DESC:
        return (-score, chain_id)
    if order is RiskChainOrder.FIRST_TS_DESC:
        return (-first_ts, chain_id)
    return (chain_id,)


def _live_matches(
    ctx: Context, f: RiskChainFilter, minimum: float, since: int | None, until: int | None
) -> list[FoundAlert]:
    """The real-time alerts the filter keeps (none before a transfer was sent)."""
    if ctx.live_alerts is None:
        return []
    out: list[FoundAlert] = []
    for found in ctx.live_alerts():
        a = found.alert
        if not a.hops:
            continue  # below the threshold when found: kept by id only
        if a.score < minimum or (f.typology is not None and a.typology != f.typology):
            continue
        if since is not None and a.hops[-1].ts < since:
            continue
        if until is not None and a.hops[0].ts > until:
            continue
        if f.account_id is not None and str(f.account_id) not in a.accounts:
            continue
        out.append(found)
    return out


def _live_chain(ctx: Context, found: FoundAlert) -> RiskChain:
    a = found.alert
    chain = CheckedChain(
        chain_id=a.chain_id,
        typology=a.typology,
        score=a.score,
        reasons=a.reasons,
        hops=[Hop(h.tx_id, h.from_account, h.to_account, h.amount, h.ts) for h in a.hops],
    )
    return RiskChain(
        id=strawberry.ID(a.chain_id), typology=a.typology, score=a.score,
        reasons=risk_reasons(a.reasons), hop_count=len(a.hops), chain=chain,
        found_by=FoundBy.REALTIME, found_at=found.found_at,
    )  # fmt: skip


def _stored_check(ctx: Context, account: int) -> LayeringCheck | None:
    """The check with the stored settings: the stored alerts of the account, exactly what
    ``Account.risk`` reads (recomputing on the account's neighbourhood could disagree:
    round trips, routine flows and a hub's history are judged over every transfer)."""
    m = ctx.model
    table, hops = m.results.risk_chains, m.results.risk_chain_hops
    if table is None or hops is None:
        return None
    score, text = m.results.account_risk.get(m.account_ids[account], (0.0, "[]"))
    entries = json.loads(text)
    chains: list[RiskChain] = []
    for entry in entries:
        row_index = table.row_of.get(str(entry.get("chain_id")))
        if row_index is None:
            continue
        row = table.row(row_index)
        chain_hops = m.columns_between(hops, "chain_id", str(row["chain_id"]))
        chains.append(_chain(ctx, stored_chain(row, chain_hops)))
    used = m.results.settings.layering
    return LayeringCheck(
        account=account_node(ctx, account),
        score=float(score),
        reasons=risk_reasons(entries),
        chains=chains,
        truncated=False,
        settings_overridden=False,
        settings=LayeringSettings(
            window_hours=float(used.window_hours),
            max_hops=int(used.max_hops),
            min_amount=float(used.min_amount),
            score_threshold=float(used.score_threshold),
        ),
    )


@strawberry.type
class RiskQueries:
    @strawberry.field(
        description="Layering check of one account (risk and admin keys): without "
        "windowHours, maxHops or minAmount, the alerts analyze stored for it (the same score "
        "as Account.risk); with them, a check recomputed on demand with those settings."
    )
    def layering_check(
        self,
        info: Info,
        account_id: strawberry.ID,
        window_hours: float | None = None,
        max_hops: int | None = None,
        min_amount: float | None = None,
    ) -> LayeringCheck:

        ctx = info.context
        ctx.require_risk_team("layeringCheck")
        m = ctx.model
        account = m.account_index.get(str(account_id))
        if account is None and ctx.streamed(str(account_id)):
            raise NotFoundError(
                f"Account {str(account_id)!r} was sent to the server since the last load: "
                "layeringCheck reads it after `relgraph load` and `relgraph analyze` (its "
                "alerts so far: riskChains, foundBy REALTIME)."
            )
        if account is None:
            raise NotFoundError(f"No account with id {str(account_id)!r}.")
        if window_hours is None and max_hops is None and min_amount is None:
            stored = _stored_check(ctx, account)
            if stored is not None:
                return stored
        index = m.layering_index()
        try:
            found = check_account(
                m.projection, account, index.params, window_hours, max_hops, min_amount, index=index
            )
        except ValueError as exc:
            name = str(exc).split(" ", 1)[0]
            camel = {
                "window_hours": "windowHours",
                "max_hops": "maxHops",
                "min_amount": "minAmount",
            }
            raise ClientError(str(exc).replace(name, camel.get(name, name), 1) + ".") from exc
        chains = [_chain(ctx, c) for c in found.chains]
        used = found.params
        return LayeringCheck(
            account=account_node(ctx, account),
            score=float(found.score),
            reasons=risk_reasons(found.reasons),
            chains=chains,
            truncated=bool(found.truncated),
            settings_overridden=used != index.params,
            settings=LayeringSettings(
                window_hours=float(used.window_hours),
                max_hops=int(used.max_hops),
                min_amount=float(used.min_amount),
                score_threshold=float(used.score_threshold),
            ),
        )

    @strawberry.field(
        description="Batch layering alerts (risk and admin keys); by default those at or above the score threshold."
    )
    def risk_chains(
        self,
        info: Info,
        filter: RiskChainFilter | None = None,
        order_by: RiskChainOrder = RiskChainOrder.SCORE_DESC,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[RiskChain]:

        ctx = info.context
        ctx.require_risk_team("riskChains")
        results = ctx.model.results
        table, hops = results.risk_chains, results.risk_chain_hops
        if table is None or hops is None:
            raise NotFoundError("No layering alerts yet: run `relgraph analyze`.")
        f = filter or RiskChainFilter()
        if f.typology is not None and f.typology not in TYPOLOGIES:
            raise ClientError(
                f"typology must be one of {', '.join(TYPOLOGIES)}, not {f.typology!r}."
            )
        score = table.columns["score"]
        view = _view(ctx)
        minimum = ctx.model.alert_threshold if f.min_score is None else f.min_score
        keep = score >= minimum
        if f.min_score is None:
            keep |= view.reviewed  # a decided alert stays in the queue below the threshold
        if f.status is not None:
            keep &= view.row_status == f.status.value
        if f.typology is not None:
            keep &= table.columns["typology"] == f.typology
        since, until = _epoch_ms("since", f.since), _epoch_ms("until", f.until)
        if since is not None:
            keep &= table.columns["last_ts"] >= since
        if until is not None:
            keep &= table.columns["first_ts"] <= until
        if f.account_id is not None:
            # Even a totalCount alone says how many alerts name this account: audited as read.
            ctx.touch(str(f.account_id))
            involved = hops.loc[
                (hops["from_account"] == str(f.account_id))
                | (hops["to_account"] == str(f.account_id)),
                "chain_id",
            ].unique()
            keep &= np.isin(table.columns["chain_id"], involved)
        rows = table.select(keep, order_by.value)
        live = _live_matches(ctx, f, minimum, since, until)
        # A decision on a real-time alert has no stored chain to follow until analyze stores
        # one: the alert itself is listed with its status, not again as a gone chain.
        found = ctx.live_alerts() if ctx.live_alerts is not None else []
        listed_live = {a.alert.chain_id for a in found if a.alert.hops}
        # By each one's first decision, which a decision made while the queue is paged does
        # not move (the view lists them by their latest): the cursor's place stays put.
        orphans = sorted(
            (
                o for o in view.orphans
                if o.chain_id not in listed_live and _orphan_kept(o, f, since, until)
            ),
            key=_first_decided,
        )  # fmt: skip
        m = ctx.model

        def make(item: int | cr.Orphan) -> RiskChain:
            if isinstance(item, cr.Orphan):
                return _chain(ctx, _orphan_chain(item))
            row = table.row(int(item))
            chain_hops = m.columns_between(hops, "chain_id", str(row["chain_id"]))
            return _chain(ctx, stored_chain(row, chain_hops))

        if f.status is not None:
            live = [a for a in live if view.status(a.alert.chain_id) == f.status.value]
        first_ts, chain_id = table.columns["first_ts"], table.columns["chain_id"]

        def key_of(item: int | FoundAlert) -> tuple[Any, ...]:
            if isinstance(item, FoundAlert):
                a = item.alert
                return _order_key(order_by, a.score, a.hops[0].ts, a.chain_id)
            return _order_key(
                order_by, float(score[item]), int(first_ts[item]), str(chain_id[item])
            )

        # Stored and real-time alerts in one order; the gone chains' decisions after them.
        queue: Any = rows
        if live:
            queue = sorted([*(int(r) for r in rows.tolist()), *live], key=key_of)

        def make_any(item: int | FoundAlert | cr.Orphan) -> RiskChain:
            return _live_chain(ctx, item) if isinstance(item, FoundAlert) else make(item)

        return keyed_page(
            queue,
            key_of,
            orphans,
            first,
            after,
            make_any,
            tail_key=_first_decided,
            order=order_by.value,
            listed="riskChains",
            cursors=ctx.cursors(info),
        )
