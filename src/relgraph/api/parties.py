"""Parties and what hangs off them: persons, records, accounts, enterprises and their
analytics (risk, network, household and group references, influence)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Annotated, Any

import numpy as np
import strawberry

from relgraph import model
from relgraph.api.context import Context, Info
from relgraph.api.errors import ClientError
from relgraph.api.influence import Influence, influence_of
from relgraph.api.masking import mask_email, mask_id_number, mask_name, mask_phone
from relgraph.api.pagination import Connection
from relgraph.api.risk_reasons import RiskReason, risk_reasons
from relgraph.config import display_zone, format_moment, moment_ms


def _date(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).date().isoformat()


def _text(value: Any) -> str | None:
    """A text column's cell (the read model keeps columns as plain lists of Any)."""
    return None if value is None else str(value)


def _products(text: str | None) -> list[str]:
    return [p for p in (text or "").split(model.PRODUCT_LIST_SEPARATOR) if p]


def _masked_name(ctx: Context, name: str | None) -> str | None:
    return name if ctx.principal.sees_risk else mask_name(name)


@strawberry.interface(description="A person or an enterprise: whoever holds, owns or guarantees.")
class Party:
    id: strawberry.ID
    name: str | None


@strawberry.type(
    description="One step of a match's waterfall: a comparison, the level it reached and its "
    "match weight in bits (term-frequency adjustment included). The comparison `prior` is "
    "the prior log-odds; `decision` (level `same`, no weight) is a reviewer's SAME decision."
)
class MatchEvidence:
    comparison: str
    level: str
    weight: float | None


def _evidence(text: str | None) -> list[MatchEvidence] | None:
    """The stored waterfall (JSON, see ``ingest.linkage``) as typed steps."""
    if text is None:
        return None
    try:
        steps = json.loads(text)
    except ValueError:  # a store loaded before the waterfall: fields that agreed, as text
        return [
            MatchEvidence(comparison=part.split("=")[0], level=part.partition("=")[2], weight=None)
            for part in text.split(";")
            if part
        ]
    return [
        MatchEvidence(
            comparison=str(step["comparison"]),
            level=str(step["level"]),
            weight=None if step.get("weight") is None else float(step["weight"]),
        )
        for step in steps
    ]


@strawberry.type(description="One row of a source system (core, card, loan, wealth).")
class Record:
    index: strawberry.Private[int]

    @strawberry.field
    def customer_id(self, info: Info) -> strawberry.ID:
        return strawberry.ID(info.context.model.record_ids[self.index])

    @strawberry.field
    def source_system(self, info: Info) -> str:
        return str(info.context.model.record["source_system"][self.index])

    @strawberry.field
    def name(self, info: Info) -> str | None:
        return _masked_name(info.context, info.context.model.record["name"][self.index])

    @strawberry.field(description="Raw for risk and admin, masked for analysts and campaign.")
    def id_number(self, info: Info) -> str | None:
        value = info.context.model.record["id_number"][self.index]
        return value if info.context.principal.sees_raw_ids else mask_id_number(value)

    @strawberry.field
    def phone(self, info: Info) -> str | None:
        value = info.context.model.record["phone"][self.index]
        return value if info.context.principal.sees_risk else mask_phone(value)

    @strawberry.field
    def email(self, info: Info) -> str | None:
        value = info.context.model.record["email"][self.index]
        return value if info.context.principal.sees_risk else mask_email(value)

    @strawberry.field(description="Identity resolution: the record's strongest match (null alone).")
    def match_score(self, info: Info) -> float | None:
        info.context.require_risk("Record.matchScore")
        value = info.context.model.record["match_score"][self.index]
        return None if value is None or value != value else float(value)

    @strawberry.field(
        description="The waterfall of that match: each comparison, its level and match weight."
    )
    def match_evidence(self, info: Info) -> list[MatchEvidence] | None:
        info.context.require_risk("Record.matchEvidence")
        return _evidence(_text(info.context.model.record["match_evidence"][self.index]))


@strawberry.type
class Device:
    id: strawberry.ID
    kind: str | None


@strawberry.type
class FamilyTie:
    relation: str
    person: Annotated[Person, strawberry.lazy("relgraph.api.parties")]


@strawberry.type
class EnterpriseRole:
    role: str
    enterprise: Annotated[Enterprise, strawberry.lazy("relgraph.api.parties")]


@strawberry.type
class NetworkRef:
    id: strawberry.ID
    size: int


@strawberry.type
class HouseholdRef:
    id: strawberry.ID


@strawberry.type
class GroupRef:
    id: strawberry.ID


@strawberry.type(description="A resolved person: one or more source records.")
class Person(Party):
    index: strawberry.Private[int]

    @strawberry.field(description="The year of birth (every role).")
    def birth_year(self, info: Info) -> int | None:
        ms = info.context.model.person["birth_date"][self.index]
        return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC).year

    @strawberry.field(description="Not for campaign keys: they get birthYear.")
    def birth_date(self, info: Info) -> str | None:
        # Full birth date and gender narrow an id number down to a few guesses, and a
        # campaign needs neither: refused like the risk fields, never a quiet null.
        info.context.require_risk("Person.birthDate")
        return _date(info.context.model.person["birth_date"][self.index])

    @strawberry.field(description="Not for campaign keys.")
    def gender(self, info: Info) -> str | None:
        info.context.require_risk("Person.gender")
        return _text(info.context.model.person["gender"][self.index])

    @strawberry.field
    def segment(self, info: Info) -> str | None:
        return _text(info.context.model.person["segment"][self.index])

    @strawberry.field(description="Risk field: not for campaign keys.")
    def risk_rating(self, info: Info) -> str | None:
        info.context.require_risk("Person.riskRating")
        return _text(info.context.model.person["risk_rating"][self.index])

    @strawberry.field(
        description="Deposits + wealth balances (accounts; the record by source-system precedence without account data): counted once."
    )
    def aum(self, info: Info) -> float | None:
        return _float(info.context.model.value["aum"][self.index])

    @strawberry.field(description="Deposit balances, each account once; overdrawn ones count 0.")
    def deposits(self, info: Info) -> float | None:
        return _float(info.context.model.value["deposits"][self.index])

    @strawberry.field(
        description="Outstanding loan balances and overdrawn deposits as positive amounts, each account once (an overdraft is owed)."
    )
    def loans(self, info: Info) -> float | None:
        return _float(info.context.model.value["loans"][self.index])

    @strawberry.field(
        description="Card spend over 12 months: the card system's record first, never summed."
    )
    def card_spend_12m(self, info: Info) -> float | None:
        return _float(info.context.model.value["card_spend"][self.index])

    @strawberry.field(
        description="Products held: on accounts and records, and on a record still in identity "
        "review with this person's (counted as held)."
    )
    def products(self, info: Info) -> list[str]:
        return _products(info.context.model.value["products"][self.index])

    @strawberry.field(
        description="Not for campaign keys: audiences apply consent, and consent beside a "
        "contact list would single out the members left out for risk."
    )
    def consent_marketing(self, info: Info) -> bool | None:
        info.context.require_risk("Person.consentMarketing")
        value = info.context.model.person["consent_marketing"][self.index]
        return None if value is None else bool(value)

    @strawberry.field(description="The source records this person was resolved from.")
    def records(self, info: Info) -> list[Record]:
        ctx = info.context
        found = ctx.model.records_of(self.index)
        for r in found:  # each record's own fields (a raw phone) are read: audited by its id
            ctx.touch(str(ctx.model.record_ids[r]))
        return [Record(index=r) for r in found]

    @strawberry.field
    def accounts(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[Account, strawberry.lazy("relgraph.api.parties")]]:
        found = info.context.model.holds.neighbors(self.index).tolist()
        return info.context.page(
            info, found, first, after, lambda a: account_node(info.context, a), of=self.index
        )

    @strawberry.field(description="Devices the person logged in from (not campaign).")
    def devices(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Device]:
        # A device two persons share is hidden-network evidence (refused to campaign keys):
        # its id beside each person would rebuild the network, and so guess who a
        # NETWORK_RISK exclusion left out.
        info.context.require_risk("Person.devices")
        m = info.context.model
        found = m.uses.neighbors(self.index).tolist()

        def device(d: int) -> Device:
            info.context.touch(str(m.device_ids[d]))
            return Device(id=strawberry.ID(m.device_ids[d]), kind=m.device_kind[d])

        return info.context.page(info, found, first, after, device, of=self.index)

    @strawberry.field
    def family(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[FamilyTie]:
        m = info.context.model
        out = [(int(e), int(m.family.dst[e])) for e in m.family.out_edges(self.index)]
        back = [(int(e), int(m.family.src[e])) for e in m.family.in_edges(self.index)]
        seen: dict[int, str] = {}
        for edge, other in out + back:
            seen.setdefault(other, str(m.family_relation[edge]))
        ties = sorted(seen.items())
        return info.context.page(
            info,
            ties,
            first,
            after,
            lambda t: FamilyTie(relation=t[1], person=person_node(info.context, t[0])),
            of=self.index,
        )

    @strawberry.field(description="Positions held at enterprises.")
    def roles(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[EnterpriseRole]:
        m = info.context.model
        edges = m.positions.out_edges(self.index).tolist()
        return info.context.page(
            info,
            edges,
            first,
            after,
            lambda e: EnterpriseRole(
                role=str(m.position_role[e]),
                enterprise=enterprise_node(info.context, int(m.positions.dst[e])),
            ),
            of=self.index,
        )

    @strawberry.field(
        description="Risk flags (not campaign): layering alerts on the person's accounts, a high risk rating."
    )
    def risk_flags(self, info: Info) -> list[str]:
        ctx = info.context
        ctx.require_risk("Person.riskFlags")
        m = ctx.model
        flags = []
        if m.person["risk_rating"][self.index] == "high":
            flags.append("high_risk_rating")
        threshold = m.alert_threshold
        for account in m.holds.neighbors(self.index).tolist():
            score, _ = m.results.account_risk.get(m.account_ids[account], (0.0, ""))
            if score >= threshold:
                flags.append(f"layering_alert:{m.account_ids[account]}")
        return flags

    @strawberry.field(description="Hidden relationship network (risk field).")
    def network(self, info: Info) -> NetworkRef | None:
        info.context.require_risk("Person.network")
        results = info.context.model.results
        network = results.network_of.get(self.id)
        if network is None:
            return None
        return NetworkRef(id=strawberry.ID(network), size=results.network_size.get(network, 1))

    @strawberry.field
    def household(self, info: Info) -> HouseholdRef | None:
        household = info.context.model.results.household_of.get(self.id)
        return None if household is None else HouseholdRef(id=strawberry.ID(household))

    @strawberry.field(description="Referral influence; null for persons who referred nobody.")
    def influence(self, info: Info) -> Influence | None:
        results = info.context.model.results
        row = results.influence_of.get(self.id)
        if row is None or results.influence is None:
            return None
        return influence_of(results.influence, row)


@strawberry.type(description="An enterprise (company) customer.")
class Enterprise(Party):
    index: strawberry.Private[int]

    @strawberry.field
    def industry(self, info: Info) -> str | None:
        return _text(info.context.model.enterprise["industry"][self.index])

    @strawberry.field
    def credit_code(self, info: Info) -> str | None:
        return _text(info.context.model.enterprise["credit_code"][self.index])

    @strawberry.field(description="As for persons: from accounts, else the enterprise's row.")
    def deposits(self, info: Info) -> float | None:
        m = info.context.model
        return _float(m.value["deposits"][len(m.person_ids) + self.index])

    @strawberry.field(description="As for persons: from accounts, else the enterprise's row.")
    def loans(self, info: Info) -> float | None:
        m = info.context.model
        return _float(m.value["loans"][len(m.person_ids) + self.index])

    @strawberry.field
    def credit_limit(self, info: Info) -> float | None:
        return _float(info.context.model.enterprise["credit_limit"][self.index])

    @strawberry.field(description="Risk field: not for campaign keys.")
    def risk_rating(self, info: Info) -> str | None:
        info.context.require_risk("Enterprise.riskRating")
        return _text(info.context.model.enterprise["risk_rating"][self.index])

    @strawberry.field
    def accounts(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[Account, strawberry.lazy("relgraph.api.parties")]]:
        found = info.context.model.enterprise_holds.neighbors(self.index).tolist()
        return info.context.page(
            info, found, first, after, lambda a: account_node(info.context, a), of=self.index
        )

    @strawberry.field(
        description="The corporate group this enterprise belongs to, if any (not campaign)."
    )
    def group(self, info: Info) -> GroupRef | None:
        # Per enterprise, this would rebuild a group's membership (see CorporateGroup.members).
        info.context.require_risk("Enterprise.group")
        group = info.context.model.results.group_of.get(self.id)
        return None if group is None else GroupRef(id=strawberry.ID(group))

    @strawberry.field(
        description="Holders by integrated share (every ownership path), largest first "
        "(not campaign)."
    )
    def integrated_owners(
        self, info: Info
    ) -> list[Annotated[Ownership, strawberry.lazy("relgraph.api.parties")]]:
        info.context.require_risk("Enterprise.integratedOwners")
        owners = info.context.model.results.integrated_owners.get(self.id, [])
        return [Ownership(holder=party_node(info.context, h), share=s) for h, s in owners]


@strawberry.type
class Ownership:
    holder: Party | None
    share: float


@strawberry.enum(description="Which of an account's transfers: sent, received or both.")
class TransferDirection(Enum):
    IN = "in"
    OUT = "out"
    BOTH = "both"


def moment_or_none(name: str, text: str | None) -> int | None:
    """Epoch ms of a since/until argument (None when not given); a clear error otherwise.

    A date alone is a day in ``RELGRAPH_DISPLAY_TZ``: ``since`` from its first moment,
    ``until`` to its last (an analyst asking until 1 March means 1 March too, not up to
    the midnight it begins with), as ``campaignAudience``'s ``asOf`` reads a date."""
    if text is None:
        return None
    try:
        if name == "until" and (day := _date_only(text)) is not None:
            return moment_ms((day + timedelta(days=1)).isoformat(), display_zone()) - 1
        return moment_ms(text, display_zone())
    except ValueError:
        raise ClientError(f"{name} must be an ISO date or timestamp, not {text!r}.") from None


def _date_only(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


@strawberry.type(description="A bank account.")
class Account:
    id: strawberry.ID
    index: strawberry.Private[int]
    """Position in the projection; −1 for an account sent to the server after the last
    load (its details are served once ``relgraph load`` has merged it)."""

    @strawberry.field(description="The product; 'pending' for an account sent since the load.")
    def product(self, info: Info) -> str:
        if self.index < 0:
            return "pending"
        return str(info.context.model.account["product"][self.index])

    @strawberry.field
    def balance(self, info: Info) -> float | None:
        return None if self.index < 0 else _float(info.context.model.account["balance"][self.index])

    @strawberry.field
    def status(self, info: Info) -> str | None:
        return None if self.index < 0 else _text(info.context.model.account["status"][self.index])

    @strawberry.field(
        description="ISO 4217 code of the balance's currency (an account loaded without one "
        "is CNY); value and AUM count only CNY balances."
    )
    def currency(self, info: Info) -> str | None:
        if self.index < 0:
            return None
        # A store loaded before accounts had a currency column holds CNY balances only.
        codes = info.context.model.account.get("currency")
        code = None if codes is None else codes[self.index]
        return model.REPORTING_CURRENCY if code is None else str(code)

    @strawberry.field
    def opened_at(self, info: Info) -> str | None:
        if self.index < 0:
            return None
        return _date(info.context.model.account["opened_at"][self.index])

    @strawberry.field(
        description="Layering risk: the highest alert score and its reasons (not campaign)."
    )
    def risk(self, info: Info) -> AccountRisk:

        info.context.require_risk("Account.risk")
        score, reasons = info.context.model.results.account_risk.get(self.id, (0.0, "[]"))
        return AccountRisk(score=score, reasons=risk_reasons(json.loads(reasons)))

    @strawberry.field(
        description="The account's transfers, sent, received or both (default), oldest first; "
        "since and until (ISO-8601 dates or timestamps, read as riskChains' filter reads "
        "them) bound the time. Not for campaign keys."
    )
    def transfers(
        self,
        info: Info,
        direction: TransferDirection = TransferDirection.BOTH,
        since: str | None = None,
        until: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Transfer]:
        ctx = info.context
        ctx.require_risk("Account.transfers")
        m = ctx.model
        zone = display_zone()
        edges = m.transfers_of(
            self.index,
            incoming=direction is not TransferDirection.OUT,
            outgoing=direction is not TransferDirection.IN,
            since=moment_or_none("since", since),
            until=moment_or_none("until", until),
        )

        def make(e: int) -> Transfer:
            ctx.touch(str(m.transfer_tx[e]))
            return Transfer(
                tx_id=str(m.transfer_tx[e]),
                source=account_node(ctx, int(m.transfers.src[e])),
                target=account_node(ctx, int(m.transfers.dst[e])),
                amount=float(m.transfer_amount[e]),
                timestamp=format_moment(int(m.transfer_ts[e]), zone),
            )

        return info.context.page(info, edges, first, after, make, of=self.index)

    @strawberry.field(description="The person or enterprise holding the account.")
    def holder(self, info: Info) -> Party | None:
        m = info.context.model
        if self.index < 0:
            return None
        person = int(m.account_person[self.index])
        if person >= 0:
            return person_node(info.context, person)
        enterprise = int(m.account_enterprise[self.index])
        return enterprise_node(info.context, enterprise) if enterprise >= 0 else None


@strawberry.type(description="One transfer between two accounts.")
class Transfer:
    tx_id: str
    source: Account = strawberry.field(name="from")
    target: Account = strawberry.field(name="to")
    amount: float
    timestamp: str = strawberry.field(
        description="ISO-8601 with the offset of RELGRAPH_DISPLAY_TZ (default Asia/Shanghai)."
    )


@strawberry.type
class AccountRisk:
    score: float
    reasons: list[RiskReason]


def _float(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if np.isnan(number) else number


def person_node(ctx: Context, index: int) -> Person:
    m = ctx.model
    person_id = m.person_ids[index]
    ctx.touch(person_id)
    return Person(
        id=strawberry.ID(person_id), name=_masked_name(ctx, m.person["name"][index]), index=index
    )


def account_node(ctx: Context, index: int) -> Account:
    account_id = ctx.model.account_ids[index]
    ctx.touch(account_id)
    return Account(id=strawberry.ID(account_id), index=index)


def account_node_by_id(ctx: Context, account_id: str) -> Account:
    """The account, or one sent to the server since the load (``index`` −1)."""
    index = ctx.model.account_index.get(account_id)
    if index is not None:
        return account_node(ctx, index)
    ctx.touch(account_id)
    return Account(id=strawberry.ID(account_id), index=-1)


def enterprise_node(ctx: Context, index: int) -> Enterprise:
    m = ctx.model
    enterprise_id = m.enterprise_ids[index]
    ctx.touch(enterprise_id)
    return Enterprise(
        id=strawberry.ID(enterprise_id), name=m.enterprise["name"][index], index=index
    )


def party_node(ctx: Context, party_id: str) -> Party | None:
    m = ctx.model
    if party_id in m.person_index:
        return person_node(ctx, m.person_index[party_id])
    if party_id in m.enterprise_index:
        return enterprise_node(ctx, m.enterprise_index[party_id])
    return None
