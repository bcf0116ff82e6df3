"""``campaignAudience``: risk-aware household and corporate-group audiences for campaign tools."""

from __future__ import annotations

from enum import Enum

import strawberry

from relgraph.analytics.audience import (
    REASONS,
    AudienceError,
    Criteria,
    campaign_audience,
    parse_as_of,
)
from relgraph.api.context import Info
from relgraph.api.errors import ClientError, NotFoundError, PermissionDeniedError
from relgraph.api.pagination import Connection, check_first, decode_cursor, paginate

ROLES = ("campaign", "analyst", "admin")
"""Who may ask: risk keys investigate, they do not market."""


@strawberry.enum
class AudienceUnit(Enum):
    HOUSEHOLD = "HOUSEHOLD"
    CORPORATE_GROUP = "CORPORATE_GROUP"


@strawberry.enum
class AudienceOrder(Enum):
    TOTAL_AUM_DESC = "TOTAL_AUM_DESC"
    DEPOSITS_DESC = "DEPOSITS_DESC"
    EXPOSURE_DESC = "EXPOSURE_DESC"
    SIZE_DESC = "SIZE_DESC"


@strawberry.enum(description="Why members were left out of a contact list: codes, never details.")
class ExclusionReason(Enum):
    RISK_FLAGGED = "RISK_FLAGGED"
    NETWORK_RISK = "NETWORK_RISK"
    NO_CONSENT = "NO_CONSENT"
    RECENTLY_CONTACTED = "RECENTLY_CONTACTED"


assert tuple(r.value for r in ExclusionReason) == REASONS


@strawberry.input(description="What a campaign asks for; the same keys as `relgraph audience`.")
class AudienceCriteria:
    unit: AudienceUnit
    min_total_aum: float | None = None
    min_deposits: float | None = None
    min_exposure: float | None = None
    has_products: list[str] | None = strawberry.field(
        default=None, description="Some member holds each of these."
    )
    lacks_products: list[str] | None = strawberry.field(
        default=None, description="No member holds any of these: the cross-sell gap."
    )
    min_size: int | None = None
    max_size: int | None = None
    risk_ceiling: float | None = strawberry.field(
        default=None,
        description="Members with a layering alert scoring at or above this are left out "
        "(default: the alert threshold analyze ran with). Analyst and admin keys only: "
        "varying it would rank scores.",
    )
    not_contacted_within_days: int | None = strawberry.field(
        default=None, description="Leave out members contacted this recently (needs contacts)."
    )
    as_of: str | None = strawberry.field(
        default=None,
        description="When the contact guard counts back from (default: now): a date "
        "(YYYY-MM-DD; the whole day counts, in RELGRAPH_DISPLAY_TZ, default Asia/Shanghai) "
        "or an ISO-8601 timestamp (an offset such as +08:00 is honoured; without one it is "
        "in RELGRAPH_DISPLAY_TZ).",
    )
    order_by: AudienceOrder | None = None


@strawberry.type
class Exclusion:
    reason: ExclusionReason
    count: int


@strawberry.type(description="A household or corporate group to market to as a whole.")
class AudienceEntry:
    unit: AudienceUnit
    unit_id: strawberry.ID
    size: int
    total_aum: float | None = strawberry.field(description="Households only.")
    deposits: float
    exposure: float = strawberry.field(description="A household's loans; a group's exposure.")
    products: list[str]
    product_gap: list[str] = strawberry.field(description="Products no member holds.")
    contacts: list[strawberry.ID] = strawberry.field(
        description="Person or enterprise ids to contact."
    )
    left_out: int = strawberry.field(
        description="Members not on the contact list, for any reason (every role)."
    )
    qualified_because: list[str]
    exclusions: strawberry.Private[list[Exclusion]]

    @strawberry.field(description="Members left out, by reason (not campaign: see leftOut).")
    def excluded(self, info: Info) -> list[Exclusion]:
        # A unit's members are public to campaign keys and criteria can narrow an audience
        # to one unit, so any split of leftOut by reason, per entry or per audience, would
        # tell a campaign key which member was left out for risk.
        info.context.require_risk("AudienceEntry.excluded")
        return self.exclusions


def _criteria(given: AudienceCriteria) -> Criteria:
    try:
        return Criteria(
            unit=given.unit.value,
            min_total_aum=given.min_total_aum,
            min_deposits=given.min_deposits,
            min_exposure=given.min_exposure,
            has_products=tuple(given.has_products or ()),
            lacks_products=tuple(given.lacks_products or ()),
            min_size=given.min_size,
            max_size=given.max_size,
            risk_ceiling=given.risk_ceiling,
            not_contacted_within_days=given.not_contacted_within_days,
            as_of=parse_as_of(given.as_of),
            order_by=given.order_by.value if given.order_by else "",
        )
    except AudienceError as exc:
        raise ClientError(str(exc)) from None


def campaign_audience_field(
    info: Info, criteria: AudienceCriteria, first: int | None = None, after: str | None = None
) -> Connection[AudienceEntry]:
    """Households or corporate groups by value and product gap, risky and unwilling members left out."""
    ctx = info.context
    if ctx.principal.role.value not in ROLES:
        raise PermissionDeniedError("campaignAudience", ctx.principal.role.value)
    if criteria.risk_ceiling is not None:
        # Any ceiling a campaign key could choose turns contact lists into a score oracle.
        ctx.require_risk("AudienceCriteria.riskCeiling")
    source = ctx.model.audience
    if source is None:
        raise NotFoundError("No audiences yet: run `relgraph analyze`.")
    try:
        audience = campaign_audience(source, _criteria(criteria))
    except AudienceError as exc:
        raise ClientError(str(exc)) from None
    start = decode_cursor(after) + 1 if after else 0
    page = audience.frame(start, start + check_first(first)).to_dict("records")

    def entry(i: int) -> AudienceEntry:
        row = page[i - start]
        # The audit trail names every person and enterprise handed to a campaign.
        for contact in row["contacts"]:
            ctx.touch(str(contact))
        aum = row["total_aum"]
        return AudienceEntry(
            unit=AudienceUnit(row["unit"]),
            unit_id=strawberry.ID(row["unit_id"]),
            size=int(row["size"]),
            total_aum=None if aum is None or aum != aum else float(aum),
            deposits=float(row["deposits"]),
            exposure=float(row["exposure"]),
            products=row["products"],
            product_gap=row["product_gap"],
            contacts=[strawberry.ID(c) for c in row["contacts"]],
            left_out=int(row["size"]) - int(row["contact_count"]),
            exclusions=[
                Exclusion(reason=ExclusionReason[r], count=int(row[f"excluded_{r.lower()}"]))
                for r in REASONS
            ],
            qualified_because=row["qualified_because"],
        )

    return paginate(range(len(audience)), first, after, entry, ctx.check_deadline)


@strawberry.type
class AudienceQueries:
    campaign_audience: Connection[AudienceEntry] = strawberry.field(
        resolver=campaign_audience_field,
        description="Households or corporate groups to market to, risky and unwilling members left out.",
    )
