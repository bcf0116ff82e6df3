"""A fan-out's source of funds: what its hub received before it paid out.

A person paying many strangers sums that never reached the account through the bank is
dispersing money whose source the bank cannot see — cash placed at a counter, or funds
brought in from elsewhere to be spread. A person paying strangers out of a salary, a sale
or savings moved in from another of their accounts has that money arrive first.

* The **funds** of a fan-out: the total its hub received (from anyone, its holder's other
  accounts included: moving savings in funds a payment) in the ``cycle_horizon_days``
  before the fan's last transfer. Only that month, not the whole past: the real-time index
  holds exactly that much of every account (:mod:`.live`), so a verdict and the batch read
  the same funds.
* Its **funded share**: funds ÷ what the fan paid out. Under :data:`FUNDED_SHARE` the fan
  is **unfunded**; a fan-out among strangers (:func:`.hubs.unrelated_persons`) that is
  unfunded gets the reason ``unfunded`` (:data:`UNFUNDED_WEIGHT`). Among strangers only: a
  firm's payroll or a person's shopping paid from an account the bank sees only in part
  is no dispersal.
* When **nothing at all** arrived in that month (a funded share of 0) the weight is
  :data:`UNFUNDED_NOTHING_WEIGHT`. A person living on a salary or a pension has some
  receipt every month, even when a large payment outruns it (spent savings: a share
  between 0 and a half); an account that receives nothing through the bank while it pays
  strangers is fed from somewhere the bank cannot see.

Examples
--------
Account 0 receives 10,000 on day 0 and pays 3 strangers 20,000 each on days 40–42 (nothing
arrived in the 30 days before): unfunded. Account 4 is paid 70,000 on day 39, then pays the
same: funded.

>>> import numpy as np
>>> from relgraph.analytics.layering.hops import _Tx
>>> from relgraph.analytics.layering.params import LayeringParams
>>> day = 86_400_000
>>> tx = _Tx(np.arange(8), np.array([9, 0, 0, 0, 9, 4, 4, 4]), np.array([0, 1, 2, 3, 4, 5, 6, 7]),
...          np.array([1e4, 2e4, 2e4, 2e4, 7e4, 2e4, 2e4, 2e4]),
...          np.array([0, 40, 41, 42, 39, 40, 41, 42]) * day)
>>> flat, grp = np.array([1, 2, 3, 5, 6, 7]), np.array([0, 0, 0, 1, 1, 1])
>>> funded_share(tx, flat, grp, np.array([0, 4]), np.array([42, 42]) * day, LayeringParams())
array([0.        , 1.16666667])
"""

from __future__ import annotations

from typing import Final

import numpy as np

from relgraph.analytics.layering.hops import _Tx
from relgraph.analytics.layering.params import F64, I64, B, LayeringParams

FUNDED_SHARE: Final = 0.5
"""A fan-out that received less than half of what it paid out in the month before is
unfunded."""
UNFUNDED_WEIGHT: Final = 0.15
"""The weight of ``unfunded``: evidence beside others (a fan among strangers, its size,
new accounts), never an alert alone."""
UNFUNDED_NOTHING_WEIGHT: Final = 0.3
"""The weight of ``unfunded`` when nothing arrived at all: twice :data:`UNFUNDED_WEIGHT`,
still never an alert alone (with ``unrelated_persons`` and ``hops``: 0.53)."""


def funded_share(
    tx: _Tx, flat: I64, grp: I64, hub: I64, last_ts: I64, params: LayeringParams
) -> F64:
    """Per alert (``hub`` and ``last_ts`` per alert; its rows ``flat`` of ``tx`` grouped by
    ``grp``): what its hub received in the horizon before its last transfer, divided by
    what the hub paid out in it; NaN for an alert that pays nothing out of its hub."""
    n = len(hub)
    out = np.full(n, np.nan)
    pays = tx.src[flat] == hub[grp]
    paid = np.bincount(grp[pays], weights=tx.amount[flat][pays], minlength=n)
    which = np.flatnonzero(paid > 0)
    if len(which) == 0:
        return out
    hubs = hub[which]
    # The hubs' receipts, in (hub, time) order with running sums.
    into = np.flatnonzero(np.isin(tx.dst, hubs))
    into = into[np.lexsort((tx.ts[into], tx.dst[into]))]
    running = np.concatenate([[0.0], np.cumsum(tx.amount[into])])
    base = int(min(tx.ts.min(), last_ts[which].min())) - params.horizon_ms
    span = int(max(tx.ts.max(), last_ts[which].max())) - base + 1
    key = tx.dst[into] * span + (tx.ts[into] - base)
    end = hubs * span + (last_ts[which] - base)
    lo = np.searchsorted(key, end - params.horizon_ms, "left")
    hi = np.searchsorted(key, end, "left")  # before the last transfer, not at it
    out[which] = (running[hi] - running[lo]) / paid[which]
    return out


def unfunded_weight(funded: F64, strangers: B) -> F64:
    """The ``unfunded`` weight of alerts with these funded shares (NaN: not a fan-out),
    among strangers (``strangers``, per alert) or not.

    >>> import numpy as np
    >>> unfunded_weight(np.array([0.0, 0.2, 0.6, np.nan, 0.0]),
    ...                 np.array([True, True, True, True, False])).tolist()
    [0.3, 0.15, 0.0, 0.0, 0.0]
    """
    with np.errstate(invalid="ignore"):
        weight = np.where(funded == 0, UNFUNDED_NOTHING_WEIGHT, UNFUNDED_WEIGHT)
        return np.where(strangers & (funded < FUNDED_SHARE), weight, 0.0)
