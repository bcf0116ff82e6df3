"""The GraphQL schema: the ``Query`` root and the extensions that guard it."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Annotated, cast

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
    max_aliases,
    query_depth_limiter,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from relgraph import model
from relgraph.api.context import Info
from relgraph.api.errors import ClientError, NotFoundError
from relgraph.api.limits import (
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_TOKENS,
    MaskInternalErrors,
    cost_rule,
)
from relgraph.api.pagination import Connection, paginate
from relgraph.api.types import (
    Account,
    Enterprise,
    GraphStats,
    KindCount,
    Party,
    Person,
    account_node,
    enterprise_node,
    influence_of,
    party_node,
    person_node,
)


@strawberry.type(description="A household and its value to the bank.")
class Household:
    id: strawberry.ID
    size: int
    total_aum: float
    deposits: float
    loans: float
    card_spend: float
    products: list[str]
    missing_products: list[str]
    head_id: strawberry.Private[str]
    member_ids: strawberry.Private[list[str]]

    @strawberry.field
    def head(self, info: Info) -> Person | None:
        index = info.context.model.person_index.get(self.head_id)
        return None if index is None else person_node(info.context, index)

    @strawberry.field
    def members(self, info: Info) -> list[Person]:
        m = info.context.model
        return [person_node(info.context, m.person_index[p]) for p in self.member_ids]


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
    exposure: float
    has_guarantee_circle: bool
    controller_id: strawberry.Private[str]
    member_ids: strawberry.Private[list[str]]

    @strawberry.field
    def controller(self, info: Info) -> Party | None:
        return party_node(info.context, self.controller_id)

    @strawberry.field
    def members(self, info: Info) -> list[GroupMember]:
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

    @strawberry.field(description="Guarantee circles any member or the controller is part of.")
    def guarantee_circles(self, info: Info) -> list[GuaranteeCircle]:
        results = info.context.model.results
        ids = sorted(
            {
                c
                for p in [*self.member_ids, self.controller_id]
                for c in results.circle_of.get(p, [])
            }
        )
        return [GuaranteeCircle(id=strawberry.ID(c), member_ids=results.circles[c]) for c in ids]


@strawberry.type
class PossibleDuplicate:
    customer_a: strawberry.ID
    customer_b: strawberry.ID
    score: float
    evidence: str


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


def _check_product(name: str, value: str | None) -> None:
    if value is not None and value not in model.PRODUCTS:
        raise ClientError(f"{name} must be one of {', '.join(model.PRODUCTS)}, not {value!r}.")


def _household(row: dict[str, object], members: list[str]) -> Household:
    return Household(
        id=strawberry.ID(str(row["household_id"])),
        size=int(row["size"]),  # type: ignore[call-overload]
        total_aum=float(row["total_aum"]),  # type: ignore[arg-type]
        deposits=float(row["deposits"]),  # type: ignore[arg-type]
        loans=float(row["loans"]),  # type: ignore[arg-type]
        card_spend=float(row["card_spend"]),  # type: ignore[arg-type]
        products=_split(row["products"]),
        missing_products=_split(row["missing_products"]),
        head_id=str(row["head_id"]),
        member_ids=members,
    )


def _group(row: dict[str, object], members: list[str]) -> CorporateGroup:
    return CorporateGroup(
        id=strawberry.ID(str(row["group_id"])),
        member_count=int(row["members"]),  # type: ignore[call-overload]
        deposits=float(row["deposits"]),  # type: ignore[arg-type]
        loans=float(row["loans"]),  # type: ignore[arg-type]
        credit_limit=float(row["credit_limit"]),  # type: ignore[arg-type]
        guarantees_given=float(row["guarantees_given"]),  # type: ignore[arg-type]
        guarantees_received=float(row["guarantees_received"]),  # type: ignore[arg-type]
        exposure=float(row["exposure"]),  # type: ignore[arg-type]
        has_guarantee_circle=bool(row["has_guarantee_circle"]),
        controller_id=str(row["controller_id"]),
        member_ids=members,
    )


@strawberry.type
class Query:
    @strawberry.field(description="A person, by person id or by any of its customer ids.")
    def customer(self, info: Info, id: strawberry.ID) -> Person:
        index = info.context.model.find_person(str(id))
        if index is None:
            raise NotFoundError(f"No customer with id {str(id)!r}.")
        return person_node(info.context, index)

    @strawberry.field
    def account(self, info: Info, id: strawberry.ID) -> Account:
        index = info.context.model.account_index.get(str(id))
        if index is None:
            raise NotFoundError(f"No account with id {str(id)!r}.")
        return account_node(info.context, index)

    @strawberry.field
    def enterprise(self, info: Info, id: strawberry.ID) -> Enterprise:
        index = info.context.model.enterprise_index.get(str(id))
        if index is None:
            raise NotFoundError(f"No enterprise with id {str(id)!r}.")
        return enterprise_node(info.context, index)

    @strawberry.field(description="Node and edge counts per kind.")
    def graph_stats(self, info: Info) -> GraphStats:
        stats = info.context.model.stats
        return GraphStats(
            nodes=[KindCount(kind=k, count=v) for k, v in stats["nodes"].items()],
            edges=[KindCount(kind=k, count=v) for k, v in stats["edges"].items()],
        )

    @strawberry.field
    def household(self, info: Info, id: strawberry.ID) -> Household:
        results = info.context.model.results
        table = results.households
        if table is None or str(id) not in table.row_of:
            raise NotFoundError(f"No household with id {str(id)!r}.")
        return _household(table.row(table.row_of[str(id)]), results.household_members[str(id)])

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
        size, aum = table.columns["size"], table.columns["total_aum"]
        keep = size >= (f.min_size or 0)
        if f.max_size is not None:
            keep &= size <= f.max_size
        if f.min_total_aum is not None:
            keep &= aum >= f.min_total_aum
        if f.has_product:
            keep &= (held & (1 << model.PRODUCTS.index(f.has_product))) > 0
        if f.lacks_product:
            keep &= (held & (1 << model.PRODUCTS.index(f.lacks_product))) == 0
        rows = table.select(keep, order_by.value)
        members = results.household_members
        return paginate(
            rows,
            first,
            after,
            lambda r: _household(table.row(int(r)), members[str(table.columns["household_id"][r])]),
        )

    @strawberry.field
    def corporate_group(self, info: Info, id: strawberry.ID) -> CorporateGroup:
        results = info.context.model.results
        table = results.groups
        if table is None or str(id) not in table.row_of:
            raise NotFoundError(f"No corporate group with id {str(id)!r}.")
        return _group(table.row(table.row_of[str(id)]), results.group_members[str(id)])

    @strawberry.field
    def corporate_groups(
        self,
        info: Info,
        filter: GroupFilter | None = None,
        order_by: GroupOrder = GroupOrder.EXPOSURE_DESC,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[CorporateGroup]:
        results = info.context.model.results
        table = results.groups
        if table is None:
            raise NotFoundError("No corporate groups yet: run `relgraph analyze`.")
        f = filter or GroupFilter()
        keep = table.columns["members"] >= (f.min_members or 0)
        if f.min_exposure is not None:
            keep &= table.columns["exposure"] >= f.min_exposure
        if f.has_guarantee_circle is not None:
            keep &= table.columns["has_guarantee_circle"] == f.has_guarantee_circle
        rows = table.select(keep, order_by.value)
        members = results.group_members
        return paginate(
            rows,
            first,
            after,
            lambda r: _group(table.row(int(r)), members[str(table.columns["group_id"][r])]),
        )

    @strawberry.field(description="Persons who brought others in, most influential first.")
    def influencers(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        min_referrals: int = 1,
    ) -> Connection[Person]:
        results = info.context.model.results
        if results.influence is None:
            raise NotFoundError("No influence scores yet: run `relgraph analyze`.")
        frame = results.influence
        chosen = frame.loc[frame["direct_referrals"] >= min_referrals, "person_id"].tolist()
        m = info.context.model
        return paginate(
            chosen, first, after, lambda p: person_node(info.context, m.person_index[p])
        )

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
            rows = cast(
                list[dict[str, object]], frame[frame["score"] >= min_score].to_dict("records")
            )
        return paginate(
            rows,
            first,
            after,
            lambda r: PossibleDuplicate(
                customer_a=strawberry.ID(str(r["customer_a"])),
                customer_b=strawberry.ID(str(r["customer_b"])),
                score=float(r["score"]),  # type: ignore[arg-type]
                evidence=str(r["evidence"]),
            ),
        )


# One rule class each for every request: the validation cache is keyed by the rules, so
# per-request classes (what QueryDepthLimiter/MaxAliasesLimiter build) would never hit it.
COST_RULE = cost_rule()
DEPTH_RULE = query_depth_limiter.create_validator(MAX_DEPTH, None)
ALIAS_RULE = max_aliases.create_validator(MAX_ALIASES)


class RelgraphSchema(strawberry.Schema):
    """Logs only errors nobody meant: client errors are the answer, not an incident."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            original = error.original_error
            if original is not None and not isinstance(original, ClientError):
                super().process_errors([error], execution_context)


def build_schema(
    *, production: bool = False, extra: list[Callable[[], SchemaExtension]] | None = None
) -> strawberry.Schema:
    """The schema with its guards: depth, aliases, tokens, cost, deadline, masked errors,
    parser and validation caches; in production no introspection and no field suggestions."""
    # Factories, so every request gets fresh extension objects (they hold per-request state).
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: ParserCache(maxsize=1_000),
        lambda: AddValidationRules([DEPTH_RULE, ALIAS_RULE, COST_RULE]),
        lambda: ValidationCache(maxsize=1_000),
        MaskInternalErrors,
        *(extra or []),
    ]
    if production:
        extensions.append(DisableIntrospection)
    return RelgraphSchema(
        query=Query,
        types=[Person, Enterprise],
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=production),
    )


_unused = (Annotated, influence_of)
