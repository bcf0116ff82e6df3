"""A per-key budget of id-number searches that find no one (``RELGRAPH_ID_MISSES`` a day).

An analyst key reads a person's id number masked (``1101***********X``: the district and the
check character) beside the birth date and gender. That leaves a few hundred 18-character
numbers with the right check character, and an exact ``ID_NUMBER`` search says which one is
real: at the minute rate limit alone, one key could complete a masked number in a quarter of
an hour. An investigator copies an id from a document in hand and seldom types a well-formed
number that belongs to no one, so a small daily budget of such misses costs real work little
and stretches the few hundred guesses into weeks of refusals, each one in the audit trail.

Risk and admin keys read id numbers in clear and campaign keys may not search by them, so the
budget binds analyst keys only. Texts that are not shaped like an id number (a name, a phone)
are never counted or refused. A search counts as a miss before its lookup and gives its place
back when it finds the number: searches run in worker threads side by side, and a budget
checked before the lookup but spent after it let a burst of misses all pass the check. The
budget lives in the server process (a restart starts it afresh, as the minute limit does).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from relgraph.api import search_index as ix
from relgraph.api.auth import Principal, Role
from relgraph.api.errors import LimitError
from relgraph.api.ratelimit import DAY_SECONDS, RateLimiter

_ID_SHAPE = re.compile(r"\d{15}|\d{17}[0-9X]")


def budget(misses: int) -> RateLimiter:
    """A sliding 24-hour log of one miss budget per key."""
    return RateLimiter(misses, window=DAY_SECONDS)


def counted(principal: Principal, text: str, wanted: Sequence[str]) -> bool:
    """Whether a search of ``text`` by ``principal`` over ``wanted`` kinds spends the budget.

    >>> from relgraph.api.auth import Principal, Role
    >>> analyst = Principal(Role.ANALYST, "k_1")
    >>> counted(analyst, "110105 19720610 333x", ["ID_NUMBER"]), counted(analyst, "wang", ["ID_NUMBER", "NAME"])
    (True, False)
    """
    if principal.role is not Role.ANALYST or ix.ID_NUMBER not in wanted:
        return False
    # The lookup's own key: a text it would find by id number must spend the budget, however
    # it is wrapped (leading controls or separators that ``str.strip`` drops, text forcing).
    normal = ix.id_number_key(text)
    return normal is not None and _ID_SHAPE.fullmatch(normal) is not None


def paused(limit: RateLimiter, wait: int) -> LimitError:
    """The refusal of an id-shaped search by a key that has spent its budget.

    Every id-shaped search is refused, found or not, and before the lookup: a refusal says
    nothing of the number asked for.
    """
    return LimitError(
        f"Id-number searches paused: {limit.limit} by this key in 24 hours found no one. "
        f"Retry after {wait} s (about {-(-wait // 3600)} h), or ask a risk officer."
    )


def spend(limit: RateLimiter, principal: Principal, at: float, hits: ix.Hits) -> None:
    """Give back the miss counted ``at`` (:meth:`RateLimiter.reserve`) when a hit matched on
    the id number itself."""
    if any(hit.kind == ix.ID_NUMBER for hit in hits.exact):
        limit.release(principal.key_id, at)
