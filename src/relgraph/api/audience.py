"""``campaignAudience``: risk-aware household and corporate-group audiences for campaign tools."""

from __future__ import annotations

from enum import Enum
from typing import Any

import pandas as pd
import strawberry

from relgraph.analytics.audience import (
    REASONS,
    AudienceError,
    Criteria,
    campaign_audience,
    parse_as_of,
)
from relgraph.api.context import Context, Info
from relgraph.api.errors import ClientError, NotFoundError, PermissionDeniedError
from relgraph.api.masking import mask_email, mask_phone
from relgraph.api.pagination import Connection, ListCursors, check_first, decode_cursor, paginate

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


@strawberry.type(description="A source system's customer id of a contact.")
class SourceCustomerId:
    system: str
    customer_id: strawberry.ID


@strawberry.type(
    description="One member to contact, as a campaign system imports it (the rows of "
    "`relgraph audience --format contacts`). Phone and email are masked for campaign keys."
)
class AudienceContact:
    party_kind: str = strawberry.field(description="person or enterprise.")
    party_id: strawberry.ID
    customer_ids: list[SourceCustomerId] = strawberry.field(
        description="Every source-system customer id of the person (none for enterprises)."
    )
    phone: str | None
    email: str | None
    channel: str | None = strawberry.field(
        description="The channel of most of the party's contacts; null when never contacted."
    )
    last_contact: str | None = strawberry.field(
        description="Date of the latest contact in RELGRAPH_DISPLAY_TZ (Beijing time by default); null when never contacted."
    )
    consent_marketing: bool | None = strawberry.field(
        description="As recorded (every person on a contact list consented; null for enterprises)."
    )


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
    details: strawberry.Private[list[AudienceContact]]

    @strawberry.field(
        description="The members to contact with their customer ids, channel and last "
        "contact: one per id in contacts, in the same order."
    )
    def contact_details(self) -> list[AudienceContact]:
        return self.details

    @strawberry.field(description="Members left out, by reason (not campaign: see leftOut).")
    def excluded(self, info: Info) -> list[Exclusion]:
        # A unit's members are public to campaign keys and criteria can narrow an audience
        # to one unit, so any split of leftOut by reason, per entry or per audience, would
        # tell a campaign key which member was left out for risk.
        info.context.require_risk("AudienceEntry.excluded")
        return self.exclusions


@strawberry.type(name="AudienceEntryConnection")
class AudienceConnection(Connection[AudienceEntry]):
    warnings: list[str] = strawberry.field(
        description="What to check about the data behind this answer, e.g. contact data "
        "older than the notContactedWithinDays window (the guard then left nobody out)."
    )


def _details(ctx: Context, rows: list[dict[str, Any]]) -> list[AudienceContact]:
    """Contact rows as the caller's role may see them: masked for campaign keys."""
    clear = ctx.principal.sees_risk
    out = []
    for row in rows:
        ids = [str(c) for c in row["customer_ids"]]
        for record in ids:
            ctx.touch(record.partition(":")[2])  # the audit trail names every record handed out
        consent = row["consent_marketing"]
        out.append(
            AudienceContact(
                party_kind=str(row["party_kind"]),
                party_id=strawberry.ID(str(row["party_id"])),
                customer_ids=[
                    SourceCustomerId(system=s, customer_id=strawberry.ID(c))
                    for s, _, c in (i.partition(":") for i in ids)
                ],
                phone=_text(row["phone"]) if clear else mask_phone(_text(row["phone"])),
                email=_text(row["email"]) if clear else mask_email(_text(row["email"])),
                channel=_text(row["channel"]),
                last_contact=_text(row["last_contact"]),
                consent_marketing=None if consent is None or consent is pd.NA else bool(consent),
            )
        )
    return out


def _text(value: Any) -> str | None:
    return None if value is None or value is pd.NA or value != value else str(value)


def _criteria(given: AudienceCriteria) -> Criteria:
    try:
        return Criteria(
            unit=given.unit.value,
            min_total_aum=given.min_total_aum,
            min_deposits=given.min_deposits,
            min_exposure=given.min_exposure,
            # Each product once: a list naming one product 100,000 times (a campaign key's
            # megabyte) was filtered by 100,000 times over and answered with 100,000 reasons
            # per household, 11 MB for a page of 5, at the price of a lookup.
            has_products=tuple(dict.fromkeys(given.has_products or ())),
            lacks_products=tuple(dict.fromkeys(given.lacks_products or ())),
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
) -> AudienceConnection:
    """Households or corporate groups by value and product gap, risky and unwilling members left out."""
    ctx = info.context
    if ctx.principal.role.value not in ROLES:
        raise PermissionDeniedError("campaignAudience", ctx.principal.role.value)
    if criteria.risk_ceiling is not None:
        # Any ceiling a campaign key could choose turns contact lists into a score oracle.
        ctx.require_risk("AudienceCriteria.riskCeiling")
    if criteria.unit == AudienceUnit.CORPORATE_GROUP:
        # Enterprises carry no consent, so a group member off the contact list is off it
        # for risk (or recent contact): a group's value beside its contacts' values, or its
        # id (named after its controller, whose roles list its enterprises), would name
        # them. Campaign keys market to households; groups are for the bank's own staff.
        ctx.require_risk("campaignAudience(criteria: {unit: CORPORATE_GROUP})")
    source = ctx.model.audience
    if source is None:
        raise NotFoundError("No audiences yet: run `relgraph analyze`.")
    cursors = ctx.cursors(info)
    clock = _clock_of(after, cursors) if after else None
    try:
        audience = campaign_audience(source, _criteria(criteria), now_ms=clock)
    except AudienceError as exc:
        raise ClientError(str(exc)) from None
    # Without asOf the contact guard counts back from now, which moves while a tool pages
    # (contacts age out of the window, households come in): the pages after the first count
    # back from the first page's moment, carried in the cursor.
    moment = "" if audience.clock_ms is None else f"@{audience.clock_ms}"
    start = decode_cursor(after, cursors, moment) + 1 if after else 0
    stop = start + check_first(first)
    # Campaign keys may not learn that a member has a record in identity review
    # (possibleDuplicates is refused to them): the product counts, the reason is not said.
    page = audience.frame(start, stop, identity_review=ctx.principal.sees_risk).to_dict("records")
    wants_details = _selects(info, "contactDetails")
    by_entry: dict[str, list[dict[str, Any]]] = {}
    if wants_details and page:
        for row in audience.contacts_frame(start, stop).to_dict("records"):
            by_entry.setdefault(str(row["unit_id"]), []).append({str(k): v for k, v in row.items()})

    def entry(i: int) -> AudienceEntry:
        row = page[i - start]
        # The audit trail names every household or group and every person and enterprise
        # handed to a campaign.
        ctx.touch(str(row["unit_id"]))
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
            details=_details(ctx, by_entry.get(str(row["unit_id"]), [])),
        )

    page_of = paginate(
        range(len(audience)), first, after, entry, ctx.check_deadline, moment, cursors=cursors
    )
    return AudienceConnection(
        edges=page_of.edges,
        page_info=page_of.page_info,
        total_count=page_of.total_count,
        warnings=list(audience.warnings),
    )


def _clock_of(after: str, cursors: ListCursors) -> int | None:
    """The moment the first page's contact guard counted back from, if its cursor says."""
    _, at, moment = cursors.place(after).partition("@")
    return int(moment) if at and moment.isascii() and moment.isdigit() else None


def _selects(info: Info, name: str) -> bool:
    """Whether the query asks for ``name`` anywhere below this field (fragments included)."""

    def walk(selections: list[Any]) -> bool:
        for s in selections:
            if getattr(s, "name", None) == name:
                return True
            if walk(list(getattr(s, "selections", []) or [])):
                return True
        return False

    return walk(list(info.selected_fields))


@strawberry.type
class AudienceQueries:
    campaign_audience: AudienceConnection = strawberry.field(
        resolver=campaign_audience_field,
        description="Households or corporate groups to market to, risky and unwilling members left out.",
    )
