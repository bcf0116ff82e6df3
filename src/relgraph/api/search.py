"""Search: a person, an enterprise, an account or a household from what an investigator
has in hand — a name (hanzi or pinyin, in part), a phone, an email, an id number, a customer,
account or household id, a credit code.

What a role may search by follows what it may read: campaign keys search by customer,
household or account id only (exactly), so a masked phone ``138****5678`` cannot be
completed by trying its 10,000 candidates; analyst keys, which read id numbers masked, have a
daily budget of id-number searches that find no one (:mod:`relgraph.api.id_misses`). Every
search is rate-limited per key and audited with its text as an HMAC under the audit key, never
in clear.
"""

from __future__ import annotations

from enum import Enum
from typing import Final

import strawberry

from relgraph.api import id_misses
from relgraph.api import search_index as ix
from relgraph.api.auth import Principal, Role
from relgraph.api.context import Context, Info
from relgraph.api.errors import ClientError, LimitError, PermissionDeniedError
from relgraph.api.households import Household, household_node
from relgraph.api.pagination import Connection, check_first
from relgraph.api.parties import (
    Account,
    Enterprise,
    Person,
    account_node,
    enterprise_node,
    person_node,
)

MAX_TEXT = 100
"""Characters a search text may have (a name, a phone or an id is far shorter)."""


@strawberry.enum(description="What a search text is matched against.")
class SearchKind(Enum):
    NAME = strawberry.enum_value(
        ix.NAME,
        description="A person's or enterprise's name, in part: hanzi (张小明, 小明) or pinyin "
        "(zhangxiaoming, xiaoming, zxm); not for campaign keys.",
    )
    PHONE = strawberry.enum_value(
        ix.PHONE,
        description="A person's phone, exactly after normalisation; not for campaign keys.",
    )
    EMAIL = strawberry.enum_value(
        ix.EMAIL,
        description="A person's email, exactly after normalisation; not for campaign keys.",
    )
    ID_NUMBER = strawberry.enum_value(
        ix.ID_NUMBER, description="A person's id number, exactly; risk, admin and analyst keys."
    )
    CUSTOMER_ID = strawberry.enum_value(
        ix.CUSTOMER_ID, description="A customer id (a source record's) or a person id, exactly."
    )
    ENTERPRISE_ID = strawberry.enum_value(
        ix.ENTERPRISE_ID, description="An enterprise id (the bank's own for the firm), exactly."
    )
    ACCOUNT_ID = strawberry.enum_value(ix.ACCOUNT_ID, description="An account id, exactly.")
    HOUSEHOLD_ID = strawberry.enum_value(ix.HOUSEHOLD_ID, description="A household id, exactly.")
    CREDIT_CODE = strawberry.enum_value(
        ix.CREDIT_CODE,
        description="An enterprise's unified social credit code, exactly after normalisation; "
        "not for campaign keys.",
    )


CAMPAIGN_KINDS: Final = (ix.CUSTOMER_ID, ix.ENTERPRISE_ID, ix.ACCOUNT_ID, ix.HOUSEHOLD_ID)
"""Campaign keys see personal data masked: they may only name what they already hold (an
enterprise id as ``enterprise(id)`` takes it from every role)."""


def kinds_for(principal: Principal) -> tuple[str, ...]:
    """The kinds ``principal`` may search by."""
    return CAMPAIGN_KINDS if principal.role is Role.CAMPAIGN else ix.KINDS


@strawberry.type(
    description="One search result: what the text matched, and the party, account or "
    "household it names (an account comes with its holder)."
)
class SearchHit:
    matched_on: SearchKind
    person: Person | None = None
    enterprise: Enterprise | None = None
    account: Account | None = None
    household: Household | None = None


def _hit(ctx: Context, hit: ix.Hit) -> SearchHit:
    m = ctx.model
    found = SearchHit(matched_on=SearchKind[hit.kind])
    if hit.account >= 0:
        found.account = account_node(ctx, hit.account)
    persons = len(m.person_ids)
    if 0 <= hit.party < persons:
        found.person = person_node(ctx, hit.party)
    elif hit.party >= persons:
        found.enterprise = enterprise_node(ctx, hit.party - persons)
    if hit.household is not None:
        found.household = household_node(ctx, hit.household)
    return found


def _limit(ctx: Context) -> None:
    if ctx.search_limit is None:
        return
    wait = ctx.search_limit.take(ctx.principal.key_id)
    if wait is not None:
        ctx.retry_after = wait
        raise LimitError(
            f"Too many searches: this key may search {ctx.search_limit.limit} times a "
            f"minute; retry after {wait} s."
        )


@strawberry.type
class SearchQueries:
    @strawberry.field(
        description="Persons, enterprises, accounts and households matching `text`, exact "
        "identifiers first, then names (whole, then starting with the text, then containing "
        "it). `kinds` narrows what the text is matched against (default: every kind the key "
        "may use; campaign keys: CUSTOMER_ID, ENTERPRISE_ID, ACCOUNT_ID, HOUSEHOLD_ID). Rate-limited per key "
        "(RELGRAPH_SEARCH_RATE a minute, default 60) and audited with the text as an HMAC. An "
        "analyst key's searches for well-formed id numbers that belong to no one are limited "
        "too (RELGRAPH_ID_MISSES a day, default 20); past that, its id-number searches are "
        "refused until the oldest miss is a day old."
    )
    def search(
        self,
        info: Info,
        text: str,
        kinds: list[SearchKind] | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[SearchHit]:
        ctx = info.context
        if ctx.text_mac is not None:
            ctx.searches.append(ctx.text_mac(text))
        allowed = kinds_for(ctx.principal)
        if kinds is not None:
            if not kinds:
                raise ClientError("kinds must name at least one SearchKind, or be left out.")
            for kind in kinds:
                if kind.name not in allowed:
                    raise PermissionDeniedError(
                        f"search(kinds: {kind.name})", ctx.principal.role.value
                    )
        # Counted before the text is looked at, so a refused search costs the same whatever
        # it asked for.
        _limit(ctx)
        check_first(first)
        if not text.strip():
            raise ClientError("text must not be empty: type a name, a phone or an id.")
        if len(text) > MAX_TEXT:
            raise ClientError(f"text must be at most {MAX_TEXT} characters, not {len(text)}.")
        wanted = allowed if kinds is None else tuple(k.name for k in kinds)
        misses = ctx.id_misses
        if misses is not None and not id_misses.counted(ctx.principal, text, wanted):
            misses = None
        if misses is None:
            hits = ctx.model.search_index().find(text, wanted)
        else:
            # Counted as a miss before the lookup, given back if found: a burst of concurrent
            # misses cannot all pass the check before any of them is counted.
            wait, at = misses.reserve(ctx.principal.key_id)
            if wait is not None:
                ctx.retry_after = wait
                raise id_misses.paused(misses, wait)
            hits = ctx.model.search_index().find(text, wanted)
            id_misses.spend(misses, ctx.principal, at, hits)
        return info.context.page(info, hits, first, after, lambda h: _hit(ctx, h))
