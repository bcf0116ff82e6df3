"""Lookups by id (persons, accounts, enterprises), referral influencers and graph counts."""

from __future__ import annotations

import strawberry

from relgraph.api.context import Info
from relgraph.api.errors import (
    NotFoundError,
)
from relgraph.api.pagination import Connection
from relgraph.api.parties import (
    Account,
    Enterprise,
    Person,
    account_node,
    account_node_by_id,
    enterprise_node,
    person_node,
)


@strawberry.type
class KindCount:
    kind: str
    count: int


@strawberry.type
class GraphStats:
    nodes: list[KindCount]
    edges: list[KindCount]


@strawberry.type
class LookupQueries:
    @strawberry.field(description="A person, by person id or by any of its customer ids.")
    def customer(self, info: Info, id: strawberry.ID) -> Person:
        index = info.context.model.find_person(str(id))
        if index is None:
            raise NotFoundError(f"No customer with id {str(id)!r}.")
        return person_node(info.context, index)

    @strawberry.field(
        description="An account, by id; one sent to the server since the load (POST "
        "/v1/accounts) answers with product 'pending' until `relgraph load` merges it."
    )
    def account(self, info: Info, id: strawberry.ID) -> Account:
        ctx = info.context
        if str(id) not in ctx.model.account_index and ctx.streamed(str(id)):
            return account_node_by_id(ctx, str(id))
        index = ctx.model.account_index.get(str(id))
        if index is None:
            raise NotFoundError(f"No account with id {str(id)!r}.")
        return account_node(ctx, index)

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
        return info.context.page(
            info, chosen, first, after, lambda p: person_node(info.context, m.person_index[p])
        )
