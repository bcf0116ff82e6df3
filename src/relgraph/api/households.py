"""Households: the family units analyze found, their value, and the queries over them."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

import numpy as np
import strawberry

from relgraph import model
from relgraph.api.context import Context, Info
from relgraph.api.errors import (
    ClientError,
    NotFoundError,
)
from relgraph.api.pagination import Connection
from relgraph.api.parties import (
    Person,
    person_node,
)


@strawberry.type(
    description="A household and its value to the bank: the members' values summed, each "
    "account counted once (see Person.aum)."
)
class Household:
    id: strawberry.ID
    size: int
    total_aum: float
    deposits: float
    loans: float = strawberry.field(description="The members' loans: the household's exposure.")
    card_spend: float
    products: list[str] = strawberry.field(description="Products some member holds.")
    missing_products: list[str] = strawberry.field(description="Products no member holds.")
    pending: strawberry.Private[list[str]]
    head_id: strawberry.Private[str]
    member_ids: strawberry.Private[list[str]]

    @strawberry.field(
        description="Products counted as held only because a record still in identity "
        "review with a member holds them (not campaign: see possibleDuplicates)."
    )
    def pending_products(self, info: Info) -> list[str]:
        # Products lists them as held for every role; which of them hang on a record in
        # review says a member may be a duplicate, which campaign keys may not learn.
        info.context.require_risk("Household.pendingProducts")
        return self.pending

    @strawberry.field
    def head(self, info: Info) -> Person | None:
        index = info.context.model.person_index.get(self.head_id)
        return None if index is None else person_node(info.context, index)

    @strawberry.field
    def members(self, info: Info) -> list[Person]:
        m = info.context.model
        return [person_node(info.context, m.person_index[p]) for p in self.member_ids]


@strawberry.input
class HouseholdFilter:
    min_total_aum: float | None = None
    min_size: int | None = None
    max_size: int | None = None
    has_product: str | None = None
    lacks_product: str | None = None


@strawberry.enum
class HouseholdOrder(Enum):
    TOTAL_AUM_DESC = "total_aum_desc"
    SIZE_DESC = "size_desc"
    ID = "id"


def _split(text: object) -> list[str]:
    return [p for p in str(text or "").split(model.PRODUCT_LIST_SEPARATOR) if p]


def _check_product(name: str, value: str | None) -> None:
    if value is not None and value not in model.PRODUCTS:
        raise ClientError(f"{name} must be one of {', '.join(model.PRODUCTS)}, not {value!r}.")


def _household(ctx: Context, row: Mapping[str, Any], members: list[str]) -> Household:
    ctx.touch(str(row["household_id"]))  # the audit trail names every household served
    return Household(
        id=strawberry.ID(str(row["household_id"])),
        size=int(row["size"]),
        total_aum=float(row["total_aum"]),
        deposits=float(row["deposits"]),
        loans=float(row["loans"]),
        card_spend=float(row["card_spend"]),
        products=_split(row["products"]),
        missing_products=_split(row["missing_products"]),
        pending=_split(row.get("pending_products")),
        head_id=str(row["head_id"]),
        member_ids=members,
    )


def household_node(ctx: Context, household_id: str) -> Household | None:
    """The household ``household_id`` as served, or None when analyze stored none by that id."""
    results = ctx.model.results
    table = results.households
    if table is None or household_id not in table.row_of:
        return None
    return _household(
        ctx, table.row(table.row_of[household_id]), results.household_members[household_id]
    )


@strawberry.type
class HouseholdQueries:
    @strawberry.field
    def household(self, info: Info, id: strawberry.ID) -> Household:
        results = info.context.model.results
        table = results.households
        if table is None or str(id) not in table.row_of:
            raise NotFoundError(f"No household with id {str(id)!r}.")
        return _household(
            info.context, table.row(table.row_of[str(id)]), results.household_members[str(id)]
        )

    @strawberry.field(description="Households for campaigns, filtered and ordered; best first.")
    def households(
        self,
        info: Info,
        filter: HouseholdFilter | None = None,
        order_by: HouseholdOrder = HouseholdOrder.TOTAL_AUM_DESC,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Household]:
        results = info.context.model.results
        table, held = results.households, results.household_products
        if table is None or held is None:
            raise NotFoundError("No households yet: run `relgraph analyze`.")
        f = filter or HouseholdFilter()
        _check_product("hasProduct", f.has_product)
        _check_product("lacksProduct", f.lacks_product)
        if f.max_size is not None and f.max_size < max(f.min_size or 1, 1):
            # As campaignAudience refuses it: an empty answer reads as "no such households".
            raise ClientError(f"maxSize must be ≥ minSize and ≥ 1, not {f.max_size}.")
        size, aum = table.columns["size"], table.columns["total_aum"]

        def keep() -> np.ndarray:
            kept: np.ndarray = size >= (f.min_size or 0)
            if f.max_size is not None:
                kept &= size <= f.max_size
            if f.min_total_aum is not None:
                kept &= aum >= f.min_total_aum
            if f.has_product:
                kept &= (held & (1 << model.PRODUCTS.index(f.has_product))) > 0
            if f.lacks_product:
                kept &= (held & (1 << model.PRODUCTS.index(f.lacks_product))) == 0
            return kept

        by = (f.min_size, f.max_size, f.min_total_aum, f.has_product, f.lacks_product)
        rows = table.select_where(by, keep, order_by.value, info.context.principal.key_id)
        members = results.household_members
        return info.context.page(
            info,
            rows,
            first,
            after,
            lambda r: _household(
                info.context, table.row(int(r)), members[str(table.columns["household_id"][r])]
            ),
        )
