"""Corporate groups and guarantee circles, and the queries over them."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

import numpy as np
import strawberry

from relgraph import model
from relgraph.api.context import Context, Info
from relgraph.api.errors import (
    NotFoundError,
)
from relgraph.api.pagination import Connection
from relgraph.api.parties import (
    Enterprise,
    Party,
    enterprise_node,
    party_node,
)


@strawberry.type
class GuaranteeCircle:
    id: strawberry.ID
    member_ids: strawberry.Private[list[str]]

    @strawberry.field
    def members(self, info: Info) -> list[Party | None]:
        return [party_node(info.context, p) for p in self.member_ids]


@strawberry.type
class GroupMember:
    enterprise: Enterprise
    share: float | None = strawberry.field(description="The controller's integrated share.")


@strawberry.type(description="Enterprises with the same ultimate controller, and their value.")
class CorporateGroup:
    id: strawberry.ID
    member_count: int
    deposits: float
    loans: float
    credit_limit: float
    guarantees_given: float
    guarantees_received: float
    exposure: float = strawberry.field(
        description="Members' loans + guarantees members give to parties outside the group."
    )
    products: list[str] = strawberry.field(description="Products some member holds.")
    missing_products: list[str] = strawberry.field(description="Products no member holds.")
    in_circle: strawberry.Private[bool]
    controller_id: strawberry.Private[str]
    member_ids: strawberry.Private[list[str]]

    @strawberry.field(description="The ultimate controller (not campaign: see members).")
    def controller(self, info: Info) -> Party | None:
        info.context.require_risk("CorporateGroup.controller")
        return party_node(info.context, self.controller_id)

    @strawberry.field(description="Member enterprises (not campaign).")
    def members(self, info: Info) -> list[GroupMember]:
        # Enterprises carry no marketing consent, so a group's members minus an audience
        # entry's contacts would be exactly the members left out for risk: campaign keys get
        # the group's value and the contact list, never its membership.
        info.context.require_risk("CorporateGroup.members")
        m = info.context.model
        out = []
        for e in self.member_ids:
            owners = dict(m.results.integrated_owners.get(e, []))
            out.append(
                GroupMember(
                    enterprise=enterprise_node(info.context, m.enterprise_index[e]),
                    share=owners.get(self.controller_id),
                )
            )
        return out

    @strawberry.field(description="Whether a member is in a guarantee circle (not campaign).")
    def has_guarantee_circle(self, info: Info) -> bool:
        info.context.require_risk("CorporateGroup.hasGuaranteeCircle")
        return self.in_circle

    @strawberry.field(
        description="Guarantee circles any member or the controller is part of (not campaign)."
    )
    def guarantee_circles(self, info: Info) -> list[GuaranteeCircle]:
        # Mutual guarantees are credit-risk information: refused for campaign keys.
        info.context.require_risk("CorporateGroup.guaranteeCircles")
        results = info.context.model.results
        ids = sorted(
            {
                c
                for p in [*self.member_ids, self.controller_id]
                for c in results.circle_of.get(p, [])
            }
        )
        return [GuaranteeCircle(id=strawberry.ID(c), member_ids=results.circles[c]) for c in ids]


@strawberry.input
class GroupFilter:
    min_members: int | None = None
    min_exposure: float | None = None
    has_guarantee_circle: bool | None = None


@strawberry.enum
class GroupOrder(Enum):
    EXPOSURE_DESC = "exposure_desc"
    MEMBERS_DESC = "members_desc"
    ID = "id"


def _split(text: object) -> list[str]:
    return [p for p in str(text or "").split(model.PRODUCT_LIST_SEPARATOR) if p]


def _group(ctx: Context, row: Mapping[str, Any], members: list[str]) -> CorporateGroup:
    ctx.touch(str(row["group_id"]))  # the audit trail names every group served
    return CorporateGroup(
        id=strawberry.ID(str(row["group_id"])),
        member_count=int(row["members"]),
        deposits=float(row["deposits"]),
        loans=float(row["loans"]),
        credit_limit=float(row["credit_limit"]),
        guarantees_given=float(row["guarantees_given"]),
        guarantees_received=float(row["guarantees_received"]),
        exposure=float(row["exposure"]),
        products=_split(row.get("products")),
        missing_products=_split(row.get("missing_products")),
        in_circle=bool(row["has_guarantee_circle"]),
        controller_id=str(row["controller_id"]),
        member_ids=members,
    )


@strawberry.type
class GroupQueries:
    @strawberry.field
    def corporate_group(self, info: Info, id: strawberry.ID) -> CorporateGroup:
        # Corporate groups are refused to campaign keys, whole. A group's id is named after
        # its controller (``G`` + its id), whose ``roles`` list the group's enterprises,
        # and its value counts every member: beside a campaign audience's contacts either
        # names the members left out, and an enterprise (no consent) is left out for risk
        # or recent contact — telling it would be tipping-off.
        info.context.require_risk("corporateGroup")
        results = info.context.model.results
        table = results.groups
        if table is None or str(id) not in table.row_of:
            raise NotFoundError(f"No corporate group with id {str(id)!r}.")
        return _group(
            info.context, table.row(table.row_of[str(id)]), results.group_members[str(id)]
        )

    @strawberry.field
    def corporate_groups(
        self,
        info: Info,
        filter: GroupFilter | None = None,
        order_by: GroupOrder = GroupOrder.EXPOSURE_DESC,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[CorporateGroup]:
        info.context.require_risk("corporateGroups")  # as corporateGroup
        results = info.context.model.results
        table = results.groups
        if table is None:
            raise NotFoundError("No corporate groups yet: run `relgraph analyze`.")
        f = filter or GroupFilter()
        if f.has_guarantee_circle is not None:
            # A filter on a refused field would answer through totalCount: refused too.
            info.context.require_risk("GroupFilter.hasGuaranteeCircle")

        def keep() -> np.ndarray:
            kept: np.ndarray = table.columns["members"] >= (f.min_members or 0)
            if f.min_exposure is not None:
                kept &= table.columns["exposure"] >= f.min_exposure
            if f.has_guarantee_circle is not None:
                kept &= table.columns["has_guarantee_circle"] == f.has_guarantee_circle
            return kept

        by = (f.min_members, f.min_exposure, f.has_guarantee_circle)
        rows = table.select_where(by, keep, order_by.value, info.context.principal.key_id)
        members = results.group_members
        return info.context.page(
            info,
            rows,
            first,
            after,
            lambda r: _group(
                info.context, table.row(int(r)), members[str(table.columns["group_id"][r])]
            ),
        )
