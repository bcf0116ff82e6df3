"""The GraphQL schema: the ``Query`` root and the extensions that guard it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import Enum
from typing import Any, cast

import numpy as np
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
from relgraph.api.audience import AudienceEntry, campaign_audience_field
from relgraph.api.context import Context, Info
from relgraph.api.errors import (
    ClientError,
    MaskInternalErrors,
    NotFoundError,
    clip,
    is_internal,
    request_id_of,
)
from relgraph.api.limits import MAX_ALIASES, MAX_DEPTH, MAX_TOKENS, CostLimiter
from relgraph.api.masking import mask_evidence_ref
from relgraph.api.pagination import Connection, paginate
from relgraph.api.types import (
    Account,
    Enterprise,
    GraphStats,
    KindCount,
    Party,
    Person,
    RiskReason,
    account_node,
    enterprise_node,
    party_node,
    person_node,
    risk_reasons,
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


@strawberry.type(description="One piece of evidence tying two persons.")
class Evidence:
    kind: str = strawberry.field(
        description="device, phone, email, address, id_document, family, enterprise or transfer"
    )
    ref: str = strawberry.field(
        description="The shared identifier, the relation, the enterprise or the tx id."
    )
    weight: float | None = None
    count: int | None = strawberry.field(
        default=None, description="Sharers of the identifier, or transfers between the two."
    )


@strawberry.type
class NetworkLink:
    a: Person
    b: Person
    strength: float
    evidence: list[Evidence]


@strawberry.type(description="A hidden relationship network: persons tied by strong links.")
class HiddenNetwork:
    id: strawberry.ID
    size: int
    members: list[Person]
    links: list[NetworkLink]


@strawberry.enum
class Via(Enum):
    DEVICE = "device"
    PHONE = "phone"
    EMAIL = "email"
    ADDRESS = "address"
    ID_DOCUMENT = "id_document"
    FAMILY = "family"
    ENTERPRISE = "enterprise"
    TRANSFER = "transfer"


@strawberry.type
class PathStep:
    source: Party | None = strawberry.field(name="from")
    target: Party | None = strawberry.field(name="to")
    strength: float
    evidence: list[Evidence]


@strawberry.type(description="An account tied to the asked one, with the shortest evidence path.")
class LinkedAccount:
    account: Account
    hops: int
    strength: float = strawberry.field(description="Product of the tie strengths along the path.")
    path: list[PathStep]


@strawberry.type
class ChainHop:
    tx_id: str
    source: Account = strawberry.field(name="from")
    target: Account = strawberry.field(name="to")
    amount: float
    timestamp: str


@strawberry.type(description="A layered flow the batch scan or a check found.")
class RiskChain:
    id: strawberry.ID
    typology: str
    score: float
    reasons: list[RiskReason]
    hops: list[ChainHop]


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
    since: str | None = strawberry.field(default=None, description="ISO date or timestamp (UTC).")
    until: str | None = None
    account_id: strawberry.ID | None = None


@strawberry.enum
class RiskChainOrder(Enum):
    SCORE_DESC = "score_desc"
    FIRST_TS_DESC = "first_ts_desc"
    ID = "id"


def _epoch_ms(name: str, text: str | None) -> int | None:
    from datetime import UTC, datetime

    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ClientError(f"{name} must be an ISO date or timestamp, not {text!r}.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _chain(
    ctx: Context,
    chain_id: str,
    typology: str,
    score: float,
    reasons: list[dict[str, Any]],
    hops: list[dict[str, Any]],
) -> RiskChain:
    from datetime import UTC, datetime

    m = ctx.model
    return RiskChain(
        id=strawberry.ID(chain_id),
        typology=typology,
        score=score,
        reasons=risk_reasons(reasons),
        hops=[
            ChainHop(
                tx_id=str(h["tx_id"]),
                source=account_node(ctx, m.account_index[str(h["from_account"])]),
                target=account_node(ctx, m.account_index[str(h["to_account"])]),
                amount=float(h["amount"]),
                timestamp=datetime.fromtimestamp(int(h["ts"]) / 1000, UTC).isoformat(
                    timespec="seconds"
                ),
            )
            for h in hops
        ],
    )


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
        in_circle=bool(row["has_guarantee_circle"]),
        controller_id=str(row["controller_id"]),
        member_ids=members,
    )


@strawberry.type
class Query:
    campaign_audience: Connection[AudienceEntry] = strawberry.field(
        resolver=campaign_audience_field,
        description="Households or corporate groups to market to, risky and unwilling members left out.",
    )

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
            # A filter on a refused field would answer through totalCount: refused too.
            info.context.require_risk("GroupFilter.hasGuaranteeCircle")
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

    @strawberry.field(
        description="A person's hidden network: members and the links among them (risk)."
    )
    def hidden_network(self, info: Info, customer_id: strawberry.ID) -> HiddenNetwork:
        ctx = info.context
        ctx.require_risk("hiddenNetwork")
        m = ctx.model
        index = m.find_person(str(customer_id))
        if index is None:
            raise NotFoundError(f"No customer with id {str(customer_id)!r}.")
        results = m.results
        person_id = m.person_ids[index]
        network = results.network_of.get(person_id)
        if network is None or results.network_links is None or results.network_evidence is None:
            raise NotFoundError("No hidden networks yet: run `relgraph analyze`.")
        members = results.network_members.get(network, [person_id])
        links = m.rows_between(results.network_links, "network_id", network)
        out = []
        for a, b, strength in zip(
            links["person_a"], links["person_b"], links["strength"], strict=True
        ):
            rows = m.rows_between(results.network_evidence, "pair", f"{a}|{b}")
            evidence = [
                Evidence(kind=str(k), ref=_ref(ctx, str(k), str(r)), weight=float(w), count=int(c))
                for k, r, w, c in zip(
                    rows["kind"], rows["ref"], rows["weight"], rows["count"], strict=True
                )
            ]
            out.append(
                NetworkLink(
                    a=person_node(ctx, m.person_index[a]),
                    b=person_node(ctx, m.person_index[b]),
                    strength=float(strength),
                    evidence=evidence,
                )
            )
        return HiddenNetwork(
            id=strawberry.ID(network),
            size=len(members),
            members=[person_node(ctx, m.person_index[p]) for p in members],
            links=out,
        )

    @strawberry.field(description="Accounts linked to this one through the chosen evidence (risk).")
    def linked_accounts(
        self,
        info: Info,
        account_id: strawberry.ID,
        max_hops: int = 2,
        via: list[Via] | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[LinkedAccount]:
        from relgraph.analytics.linked_accounts import MAX_HOPS, linked_accounts
        from relgraph.graph import TraversalLimitError

        ctx = info.context
        ctx.require_risk("linkedAccounts")
        m = ctx.model
        account = m.account_index.get(str(account_id))
        if account is None:
            raise NotFoundError(f"No account with id {str(account_id)!r}.")
        if not 1 <= max_hops <= MAX_HOPS:
            raise ClientError(f"maxHops must be between 1 and {MAX_HOPS}, not {max_hops}.")
        kinds = (
            frozenset(v.value for v in via) if via is not None else frozenset(x.value for x in Via)
        )
        if not kinds:
            raise ClientError("via must name at least one kind of evidence.")
        graph = m.linked_graph()
        try:
            found = linked_accounts(graph, account, max_hops, kinds)
        except TraversalLimitError as exc:
            raise ClientError(
                f"Too many linked parties ({exc}): lower maxHops or narrow via."
            ) from exc

        def make(i: int) -> LinkedAccount:
            steps = [
                PathStep(
                    source=_party_by_index(ctx, graph, hop.source),
                    target=_party_by_index(ctx, graph, hop.target),
                    strength=hop.strength,
                    evidence=[Evidence(kind=k, ref=_ref(ctx, k, r)) for k, r in hop.evidence],
                )
                for hop in found.path(i)
            ]
            return LinkedAccount(
                account=account_node(ctx, int(found.account[i])),
                hops=int(found.hops[i]),
                strength=float(found.strength[i]),
                path=steps,
            )

        return paginate(range(len(found)), first, after, make)

    @strawberry.field(
        description="On-demand layering check of one account (risk and admin keys), with the "
        "settings analyze stored unless windowHours, maxHops or minAmount are given."
    )
    def layering_check(
        self,
        info: Info,
        account_id: strawberry.ID,
        window_hours: float | None = None,
        max_hops: int | None = None,
        min_amount: float | None = None,
    ) -> LayeringCheck:
        from relgraph.analytics.layering import check_account

        ctx = info.context
        ctx.require_risk_team("layeringCheck")
        m = ctx.model
        account = m.account_index.get(str(account_id))
        if account is None:
            raise NotFoundError(f"No account with id {str(account_id)!r}.")
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
        chains = [
            _chain(
                ctx,
                str(c["chain_id"]),
                str(c["typology"]),
                float(c["score"]),
                c["reasons"],
                c["hops"],
            )
            for c in found.chains
        ]
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
        import json

        from relgraph.analytics.layering import TYPOLOGIES

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
        minimum = ctx.model.alert_threshold if f.min_score is None else f.min_score
        keep = score >= minimum
        if f.typology is not None:
            keep &= table.columns["typology"] == f.typology
        since, until = _epoch_ms("since", f.since), _epoch_ms("until", f.until)
        if since is not None:
            keep &= table.columns["last_ts"] >= since
        if until is not None:
            keep &= table.columns["first_ts"] <= until
        if f.account_id is not None:
            involved = hops.loc[
                (hops["from_account"] == str(f.account_id))
                | (hops["to_account"] == str(f.account_id)),
                "chain_id",
            ].unique()
            keep &= np.isin(table.columns["chain_id"], involved)
        rows = table.select(keep, order_by.value)
        m = ctx.model

        def make(r: int) -> RiskChain:
            row = table.row(int(r))
            chain_hops = m.records_between(hops, "chain_id", str(row["chain_id"]))
            return _chain(
                ctx, str(row["chain_id"]), str(row["typology"]), float(row["score"]),
                json.loads(str(row["reasons"])), chain_hops,
            )  # fmt: skip

        return paginate(rows, first, after, make)

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

        def make(r: dict[str, object]) -> PossibleDuplicate:
            info.context.touch(str(r["customer_a"]))  # the audit trail names both records
            info.context.touch(str(r["customer_b"]))
            return PossibleDuplicate(
                customer_a=strawberry.ID(str(r["customer_a"])),
                customer_b=strawberry.ID(str(r["customer_b"])),
                score=float(r["score"]),  # type: ignore[arg-type]
                evidence=str(r["evidence"]),
            )

        return paginate(rows, first, after, make)


# One rule class each for every request: the validation cache is keyed by the rules, so
# per-request classes (what QueryDepthLimiter/MaxAliasesLimiter build) would never hit it.
@strawberry.type
class RefreshResult:
    started: bool
    message: str


@strawberry.type
class Mutation:
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


log = logging.getLogger("relgraph.api")

DEPTH_RULE = query_depth_limiter.create_validator(MAX_DEPTH, None)
ALIAS_RULE = max_aliases.create_validator(MAX_ALIASES)


class RelgraphSchema(strawberry.Schema):
    """Logs only errors nobody meant: client errors are the answer, not an incident."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Called before MaskInternalErrors replaces the message: the log keeps the
        # original and its traceback, under the request id the client is given.
        request_id = request_id_of(execution_context.context if execution_context else None)
        for error in errors:
            if is_internal(error):
                log.error(
                    "request %s: internal error: %s",
                    request_id,
                    clip(error.message),
                    exc_info=error.original_error,
                )


def _ref(ctx: Context, kind: str, ref: str) -> str:
    """An evidence reference masked as the same identifier is on a record."""
    p = ctx.principal
    return mask_evidence_ref(kind, ref, sees_raw_ids=p.sees_raw_ids, sees_contact=p.sees_risk)


def _party_by_index(ctx: Context, graph: Any, party: int) -> Party | None:
    if party < graph.n_persons:
        return person_node(ctx, party)
    return enterprise_node(ctx, party - graph.n_persons)


def build_schema(
    *, production: bool = False, extra: list[Callable[[], SchemaExtension]] | None = None
) -> strawberry.Schema:
    """The schema with its guards: depth, aliases, tokens, cost, deadline, masked errors,
    parser and validation caches; in production no introspection and no field suggestions."""
    # Factories, so every request gets fresh extension objects (they hold per-request state).
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: ParserCache(maxsize=1_000),
        lambda: AddValidationRules([DEPTH_RULE, ALIAS_RULE]),
        lambda: ValidationCache(maxsize=1_000),
        CostLimiter,  # at execution: the cost depends on the variables sent
        lambda: MaskInternalErrors(production=production),
        *(extra or []),
    ]
    if production:
        extensions.append(DisableIntrospection)
    return RelgraphSchema(
        query=Query,
        mutation=Mutation,
        types=[Person, Enterprise],
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=production),
    )
