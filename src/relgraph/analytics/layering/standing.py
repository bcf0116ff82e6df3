"""Which alerts count toward an account's risk: a transfer hub's part in another's fan does not.

An account's risk is the highest score of the alerts it takes part in (the package
docstring), with one exception. Fans, gather-scatters and structuring runs have a **hub**
(:data:`HUBBED`): every transfer of the alert meets at one account, and the others are its
**counterparties**. A counterparty that is itself a **transfer hub** — paying or paid by
more than ``hub_partners`` (50) distinct accounts over the data: an employer's payroll,
a payment company's settlement account, a utility — takes no risk from that alert. Its one
payment to a mule's fan-in is a salary or a refund, as it is to everyone else it pays; the
alert stays, with its transfers and accounts, and its hub takes its score. (Networks read
transfers the same way: money through a hub ties no one to anyone, ``person_links``.)

The payers and payees of a laundering fan deal with few accounts; on every bank measured
(the synthetic one and three independent ones, 100,000 customers each) no account touched
by a planted pattern both had more than 50 counterparties and took its risk as a fan's
counterparty only (RESULTS, 2026-12-05 "A payroll's salary to a mule").

>>> import numpy as np
>>> src, dst = np.array([0, 0, 0, 1, 2]), np.array([1, 2, 3, 3, 3])
>>> transfer_hubs(src, dst, 5, 2).tolist()
[True, False, False, True, False]
>>> counts(np.array(["fan_in", "fan_in", "layering_chain"], dtype=object),
...        np.array([3, 3, 0]), np.array([0, 3, 0]), np.array([True, True, True])).tolist()
[False, True, True]
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from relgraph.analytics.layering.params import I64, B
from relgraph.analytics.person_links import hubs_of_pairs
from relgraph.analytics.sets import one_of, unique_counts

HUBBED: Final = frozenset({"fan_in", "fan_out", "gather_scatter", "structuring"})
"""Typologies whose transfers all meet at one account (the alert's ``origin`` fact)."""


def transfer_hubs(src: I64, dst: I64, n: int, max_partners: int) -> B:
    """Per account ``0 … n−1``: paying or paid by more than ``max_partners`` distinct other
    accounts (the networks' :func:`~relgraph.analytics.person_links.hubs_of_pairs`, by
    account instead of party)."""
    lo, hi = np.minimum(src, dst).astype(np.int64), np.maximum(src, dst).astype(np.int64)
    between = lo != hi
    return hubs_of_pairs(lo[between] * max(n, 1) + hi[between], n, max_partners)


def counts(typology: npt.NDArray[np.object_], hub: I64, account: I64, transfer_hub: B) -> B:
    """Per (alert, account) row: whether the alert's score counts toward the account's risk.

    ``hub`` is the alert's hub account (−1 or any for typologies outside :data:`HUBBED`),
    ``transfer_hub`` whether ``account`` has more than ``hub_partners`` counterparties.
    """
    hubbed = one_of(typology, tuple(HUBBED))
    return np.asarray(~(hubbed & (account != hub) & transfer_hub), dtype=np.bool_)


def alert_hub(typology: str, src: I64, dst: I64) -> int:
    """The hub of a :data:`HUBBED` alert from its transfers (−1 for other typologies): the
    payer of a fan-out or a structuring run, the payee of a fan-in, and the account every
    transfer of a gather-scatter passes through (in and out: the most frequent one)."""
    if typology not in HUBBED or len(src) == 0:
        return -1
    if typology in ("fan_out", "structuring"):
        return int(src[0])
    if typology == "fan_in":
        return int(dst[0])
    ends, seen = unique_counts(np.concatenate([src, dst]))
    return int(ends[np.argmax(seen)])
