"""Hidden relationship networks and linked accounts, with the evidence behind each tie."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry

from relgraph.analytics.linked_accounts import MAX_HOPS, linked_accounts
from relgraph.api.context import Context, Info
from relgraph.api.errors import (
    ClientError,
    NotFoundError,
)
from relgraph.api.masking import mask_evidence_ref
from relgraph.api.pagination import Connection
from relgraph.api.parties import (
    Account,
    Party,
    Person,
    account_node,
    enterprise_node,
    person_node,
)
from relgraph.graph import TraversalLimitError


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


@strawberry.type(
    description="An identifier analyze left out of the evidence as public (used by more "
    "persons than its limit, e.g. a branch kiosk): shown as such, never a tie."
)
class SuppressedIdentifier:
    kind: str
    ref: str
    persons: int = strawberry.field(description="How many persons use it.")
    used_by: list[strawberry.ID] = strawberry.field(
        description="The network's members who use it (person ids)."
    )


@strawberry.type(description="A hidden relationship network: persons tied by strong links.")
class HiddenNetwork:
    id: strawberry.ID
    size: int
    members: list[Person]
    links: list[NetworkLink]
    suppressed: list[SuppressedIdentifier] = strawberry.field(
        description="Devices the members use that were suppressed as public (not evidence)."
    )


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


def _ref(ctx: Context, kind: str, ref: str) -> str:
    """An evidence reference masked as the same identifier is on a record."""
    p = ctx.principal
    return mask_evidence_ref(kind, ref, sees_raw_ids=p.sees_raw_ids, sees_contact=p.sees_risk)


def _suppressed_devices(ctx: Context, members: list[str]) -> list[SuppressedIdentifier]:
    """The public devices the members use (devices are what the read model maps to persons)."""
    m = ctx.model
    public = m.results.suppressed
    users: dict[str, list[strawberry.ID]] = {}
    if public:
        for person in members:
            for device in m.uses.neighbors(m.person_index[person]):
                device_id = str(m.device_ids[int(device)])
                if ("device", device_id) in public:
                    users.setdefault(device_id, []).append(strawberry.ID(person))
    return [
        SuppressedIdentifier(
            kind="device",
            ref=_ref(ctx, "device", device_id),
            persons=public[("device", device_id)],
            used_by=used_by,
        )
        for device_id, used_by in sorted(users.items())
    ]


def _party_by_index(ctx: Context, graph: Any, party: int) -> Party | None:
    if party < graph.n_persons:
        return person_node(ctx, party)
    return enterprise_node(ctx, party - graph.n_persons)


@strawberry.type
class NetworkQueries:
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
        ctx.touch(str(network))  # the network itself is read, not only its members
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
            suppressed=_suppressed_devices(ctx, members),
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

        ctx = info.context
        ctx.require_risk("linkedAccounts")
        m = ctx.model
        account = m.account_index.get(str(account_id))
        if account is None:
            raise NotFoundError(f"No account with id {str(account_id)!r}.")
        # The answer is about this account even when no linked node is asked for (a
        # totalCount alone): the audit trail names it as read.
        ctx.touch(str(account_id))
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

        return info.context.page(info, range(len(found)), first, after, make)
