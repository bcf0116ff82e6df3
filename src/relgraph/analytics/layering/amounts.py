"""Amounts judged against the payer's own history: threshold avoidance, ordinary payments.

* **Threshold avoidance** of an account: of its departures at or above the band's
  lower edge (``(1 − structuring_band) × reporting_threshold``), the share that stay
  below the reporting threshold — ``band / (band + at_or_above)``. Someone who pays
  60,000 and 120,000 whenever trade needs it is not avoiding the 50,000 report when
  one payment lands at 48,000; someone who never crosses it but keeps landing just under
  is. A transfer in the band counts as structuring evidence by its payer's avoidance (a
  share in [0, 1]; 1 for an account that never reached the threshold).
* An **ordinary payment**: a transfer whose payer made at least
  ``routine_min_repeats`` *other* payments as large or larger outside the alert (to
  anyone). A loop of trading firms paying each other invoices of their usual size, or
  friends settling small bills, is made of ordinary payments; money laundered through a
  salaried customer's, a mule's or a dormant shell's account is far above what that
  account usually moves. An account with no such history is never ordinary. The
  *ordinary share* of an alert is the share of its transfers that are ordinary; it
  lowers a round trip's or a block's score (``ordinary_weight``), and the reasons say so.
* A **payment** is a transfer to another holder: moving money between one's own
  accounts (savings, a second deposit) pays nobody, so it never makes another payment
  ordinary or usual.
* An **unusual payment**: its payer made no other payment as large outside the alert.
  The *unusual share* of a block is evidence (``unusual_amounts``, 0.3 × the share):
  nothing else in a block judges amounts, and layers moving sums their accounts never
  otherwise move is what laundering through them looks like. (Not for round trips:
  their return home is the evidence, and strangers' everyday loops are often unusual
  sums for a quiet account.)

Examples
--------
>>> import numpy as np
>>> from relgraph.analytics.layering.hops import _Tx
>>> from relgraph.analytics.layering.params import LayeringParams
>>> tx = _Tx(np.arange(4), np.array([0, 0, 0, 1]), np.array([1, 2, 3, 0]),
...          np.array([48_000.0, 120_000.0, 60_000.0, 48_000.0]), np.arange(4))
>>> threshold_avoidance(tx, LayeringParams()).round(2).tolist()
[0.33, 0.33, 0.33, 1.0]

Account 0 pays 30,000 to account 1 (the alert) and moves 40,000 three times to its own
savings account 2: with those marked ``own`` the payment is unusual, not ordinary.

>>> tx = _Tx(np.arange(4), np.zeros(4, np.int64), np.array([1, 2, 2, 2]),
...          np.array([30_000.0, 40_000.0, 40_000.0, 40_000.0]), np.arange(4))
>>> alert, group = np.array([0]), np.array([0])
>>> payer_history(tx, alert, group, 1, LayeringParams())
(array([1.]), array([0.]))
>>> payer_history(tx, alert, group, 1, LayeringParams(), own=tx.dst == 2)
(array([0.]), array([1.]))
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from relgraph.analytics.layering.hops import _Tx
from relgraph.analytics.layering.params import F64, I64, B, LayeringParams
from relgraph.analytics.layering.sets import isin, search


def threshold_avoidance(tx: _Tx, params: LayeringParams) -> F64:
    """Per transfer: its payer's threshold avoidance (module docstring)."""
    if len(tx) == 0:
        return np.zeros(0)
    n = int(max(tx.src.max(), tx.dst.max())) + 1
    low = params.reporting_threshold * (1 - params.structuring_band)
    band = np.bincount(
        tx.src, weights=(tx.amount >= low) & (tx.amount < params.reporting_threshold), minlength=n
    )
    above = np.bincount(tx.src, weights=tx.amount >= params.reporting_threshold, minlength=n)
    share = np.where(band > 0, band / np.maximum(band + above, 1), 1.0)
    return np.asarray(share[tx.src], np.float64)


def payer_history(
    tx: _Tx, flat: I64, group: I64, n: int, params: LayeringParams, own: B | None = None
) -> tuple[F64, F64]:
    """Per alert: the shares of its transfers that are ordinary and unusual payments for
    their payer (module docstring).

    ``flat`` are positions into ``tx`` grouped by alert (``group`` per row, ``n`` alerts);
    ``own`` marks transfers between two accounts of one holder (not payments).
    """
    if len(flat) == 0:
        return np.zeros(n), np.zeros(n)
    counted = np.ones(len(tx), bool) if own is None else ~own
    # Only the alerts' payers' own payments count: the others are left out before sorting.
    payer = tx.src[flat]
    rows = np.flatnonzero(isin(tx.src, payer))
    # Per payer, its payments' amounts ascending (one integer key per payer and amount
    # rank): how many are at least this one is a difference of two bisects.
    _, ranked = np.unique(tx.amount[rows], return_inverse=True)
    rank = np.zeros(len(tx), np.int64)
    rank[rows] = ranked.ravel()
    width = int(rank.max()) + 2
    r = rank[flat]
    mine = counted[flat]
    others = _at_least(tx.src[rows], rank[rows], counted[rows], payer, r, width) - _own_at_least(
        group, payer, r, mine, width
    )
    size = np.maximum(np.bincount(group, minlength=n), 1)

    def share(hit: npt.NDArray[np.bool_]) -> F64:
        return np.asarray(np.bincount(group, weights=hit, minlength=n) / size, np.float64)

    return share(others >= params.routine_min_repeats), share(others == 0)


def _at_least(key: I64, rank: I64, counted: B, at: I64, r: I64, width: int) -> I64:
    """Per query ``(at, r)``: the ``counted`` rows with ``key == at`` and ``rank >= r``."""
    keys = np.sort(key[counted] * width + rank[counted])
    return search(keys, at * width + width - 1) - search(keys, at * width + r)


def _own_at_least(group: I64, key: I64, r: I64, counted: B, width: int) -> I64:
    """Per alert row: the alert's ``counted`` rows with the same ``key`` and rank ≥ ``r``
    (itself included when counted) — the alert's own, not "other", payments."""
    _, pair = np.unique(group.astype(np.int64) * (int(key.max()) + 1) + key, return_inverse=True)
    code = pair.ravel().astype(np.int64) * width + (width - 1 - r)
    ranked = np.sort(code[counted])
    return np.asarray(
        np.searchsorted(ranked, code, "right")
        - np.searchsorted(ranked, code - (width - 1 - r), "left"),
        np.int64,
    )
