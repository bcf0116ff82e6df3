"""Amounts judged against the accounts' own history: threshold avoidance, ordinary payments.

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
  account usually moves. An account with no such history is never ordinary. (Blocks
  judge their payments against the past instead: *ordinary for a block*, below.) The
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

Against the **past only** (what the real-time index can know of a transfer when it
arrives, so the verdict and the batch agree; :mod:`.live`):

* An account's **high** at a transfer: the largest of its payments (for the payer) or
  receipts (for the payee) made more than ``cycle_horizon_days`` before it — a pattern
  spans at most that, so it is never its own history — when there are at least
  ``routine_min_repeats`` of them; otherwise there is nothing to judge against (no high).
* An **outsized payment**: more than :data:`OUTSIZED_RATIO` (3) times its payer's high.
  The outsized share is the ``unusual_amounts`` evidence of chains and fans (0.3 × the
  share): a salaried customer's account passing on 150,000, or paying strangers 30,000
  each, moves what it never moved.
* A payment **paid before**: at most half its payer's high (:data:`WELL_WITHIN`). A
  round trip's ordinary share is at least its share of payments paid before (firms
  whose trade routinely moves larger sums). Half, not all: a loop run twice pays the
  same sums again a month later, and its first round is no trade.
* A block's payment (bipartite, stack) is **ordinary for a block** when it was *paid
  before* (at most half its payer's high, as for round trips) — unless it passes on what its payer
  just received in the block (a stack's middle layer, :func:`.blocks.layer_pass_through`:
  not the payer's own spending). The past only, as for every amount the real-time index
  judges: what a payer paid later says nothing of whether this payment was usual for it
  when it was made.
* A fan **within its hub's habits**: every one of its transfers at most its hub's high in
  the fan's direction (a fan-in's payee, a fan-out's payer). Its ordinary share is 1 (a
  small shop's busy week of takings, each no larger than takings it had before, is its
  business); otherwise 0 — a fan with a single larger sum is not the hub's habit.
  (Not a fan among strangers that reaches the reporting threshold in all:
  :func:`alert_amounts`.)

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
from relgraph.analytics.sets import argsort_stable, isin, one_of, search


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


OUTSIZED_RATIO = 3.0
"""An outsized payment is more than this many times its payer's largest earlier payment."""
WELL_WITHIN = 2.0
"""A payment paid before is at most its payer's high ÷ this (well within its trade)."""


def running_payments(
    account: I64, amount: F64, counted: B, rank: I64 | None = None
) -> tuple[I64, F64]:
    """Per row (rows grouped by ``account``, each account's in time order): how many of
    the account's rows up to and including this one are ``counted``, and the largest
    amount among those (0 when none) — the two numbers the real-time index keeps per
    account and direction.

    >>> running_payments(np.array([0, 0, 0, 1]), np.array([5.0, 9.0, 2.0, 4.0]),
    ...                  np.array([True, False, True, True]))
    (array([1, 1, 2, 1]), array([5., 5., 5., 4.]))
    """
    n = len(account)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float64)
    new = np.ones(n, bool)
    new[1:] = account[1:] != account[:-1]
    group = np.cumsum(new) - 1
    total = np.cumsum(counted.astype(np.int64))
    start = np.flatnonzero(new)
    count = total - np.where(start > 0, total[start - 1], 0)[group]
    # A running maximum of (group, amount rank) keys restarts at each group, whose keys
    # exceed every earlier group's; a row not counted weighs 0 ("none yet").
    # ``rank``: each row's place among the rows' counted amounts (given when known).
    value = np.where(counted, amount, 0.0)
    if rank is None:
        rank = np.empty(n, np.int64)
        rank[np.argsort(value)] = np.arange(n, dtype=np.int64)
    levels = np.empty(n)
    levels[rank] = value
    running = np.maximum.accumulate(group * n + rank)
    return np.asarray(count, np.int64), np.asarray(levels[running - group * n], np.float64)


def high_of(count: I64, largest: F64, params: LayeringParams) -> F64:
    """An account's *high*: its largest amount when it has a history (at least
    ``routine_min_repeats`` transfers), else NaN (nothing to judge against)."""
    return np.where(count >= params.routine_min_repeats, largest, np.nan)


def highs(tx: _Tx, params: LayeringParams, own: B, at: I64) -> tuple[F64, F64]:
    """Per transfer ``at``: its payer's and its payee's *high* (:func:`high_of`) over
    their history — the payer's payments and the payee's receipts more than
    ``cycle_horizon_days`` before it (a pattern spans at most that: it is never its own
    history). Transfers between one holder's accounts (``own``) pay nobody: they are in
    no history and have none (NaN). ``tx`` is in (source, time) order (``_eligible``).

    Only the past counts, so the real-time index keeps the same numbers per account and
    direction as transfers arrive (:mod:`.live`) and gives every transfer the batch's
    highs whatever part of the history its neighbourhood holds.
    """
    if len(tx) == 0 or len(at) == 0:
        return np.full(len(at), np.nan), np.full(len(at), np.nan)
    lag = params.horizon_ms
    base = int(tx.ts.min()) - lag - 1
    span = int(tx.ts.max()) - base + 1
    n = len(tx)
    out: list[F64] = []
    # One ranking of the payments' amounts serves both sides.
    rank = np.empty(n, np.int64)
    rank[np.argsort(np.where(own, 0.0, tx.amount))] = np.arange(n, dtype=np.int64)
    for side in (tx.src, tx.dst):
        key = side * span + (tx.ts - base)
        # Payers are in order already (tx is); payees need the (payee, time) order, which
        # the arrivals share (``_Tx.by_target``: the same stable order as sorting ``key``).
        order: I64 | None = None
        if not bool((key[1:] >= key[:-1]).all()):
            order = tx.by_target if side is tx.dst else argsort_stable(key)
        if order is not None:
            key, side, amount, counted = key[order], side[order], tx.amount[order], ~own[order]
            ranked = rank[order]
        else:
            amount, counted, ranked = tx.amount, ~own, rank
        count, largest = running_payments(side, amount, counted, ranked)
        # Each row's history ends a lag before it (its own account's rows: ts - base > lag).
        before = np.searchsorted(key, key - lag, "left")
        new = np.ones(n, bool)
        new[1:] = side[1:] != side[:-1]
        first = np.maximum.accumulate(np.where(new, np.arange(n), 0))
        has = before > first
        c = np.where(has, count[np.maximum(before - 1, 0)], 0)
        m = np.where(has, largest[np.maximum(before - 1, 0)], 0.0)
        high = np.where(counted, high_of(c, m, params), np.nan)
        if order is not None:
            unsorted = np.empty(n)
            unsorted[order] = high
            high = unsorted
        out.append(high[at])
    return out[0], out[1]


def outsized(amount: F64, payer_high: F64) -> B:
    """Per transfer: an **outsized payment** — more than :data:`OUTSIZED_RATIO` times its
    payer's high (:func:`highs`). A salaried customer's main account that suddenly
    passes on 150,000, or a household paying strangers 30,000 each, pays what it never
    paid before; a firm whose invoices vary, or a payroll, does not.

    >>> day = 86_400_000
    >>> tx = _Tx(np.arange(5), np.zeros(5, np.int64), np.arange(1, 6),
    ...          np.array([500.0, 800.0, 600.0, 30_000.0, 2_000.0]), np.arange(5) * 40 * day)
    >>> payer, payee = highs(tx, LayeringParams(), np.zeros(5, bool), np.arange(5))
    >>> payer.tolist()
    [nan, nan, nan, 800.0, 30000.0]
    >>> outsized(tx.amount, payer).tolist()
    [False, False, False, True, False]
    """
    with np.errstate(invalid="ignore"):
        return np.asarray(amount > OUTSIZED_RATIO * payer_high, bool)


def amount_shares(
    amount: F64, payer_high: F64, payee_high: F64, group: I64, n: int, inbound: B
) -> tuple[F64, F64, F64]:
    """Per alert (``n``; rows of their transfers grouped by ``group``, with each row's
    amount and highs): the share of outsized payments (:func:`outsized`), the share
    *paid before* (at most half the payer's high, :data:`WELL_WITHIN`), and whether
    the alert is **within its hub's habits** (1.0 or 0.0): every transfer at most its
    hub's high — the payee's for a fan-in row (``inbound``), the payer's otherwise. A
    small shop's busy week of takings, each no larger than takings it had before, is
    its business; twelve strangers paying a salaried customer 30,000 each are not.

    >>> amount_shares(np.array([100.0, 90.0, 5e4, 80.0]), np.array([500.0, 60.0, 9e3, np.nan]),
    ...               np.array([120.0, 95.0, 2e3, 70.0]), np.array([0, 0, 1, 1]), 2,
    ...               np.ones(4, bool))
    (array([0. , 0.5]), array([0.5, 0. ]), array([1., 0.]))
    """
    size = np.maximum(np.bincount(group, minlength=n), 1)
    with np.errstate(invalid="ignore"):
        paid = WELL_WITHIN * amount <= payer_high
        usual = amount <= np.where(inbound, payee_high, payer_high)

    def share(hit: B) -> F64:
        return np.asarray(np.bincount(group, weights=hit, minlength=n) / size, np.float64)

    return share(outsized(amount, payer_high)), share(paid), (share(usual) >= 1.0).astype(float)


def alert_amounts(
    tx: _Tx,
    flat: I64,
    grp: I64,
    typology: npt.NDArray[np.object_],
    kinds: tuple[B, B],
    params: LayeringParams,
    own: B,
    passing: B,
    strangers: B,
) -> tuple[F64, F64]:
    """Per alert (rows ``flat`` of ``tx`` grouped by ``grp``; ``kinds`` is which alerts are
    chains and which round trips): its **ordinary share** and its **unusual share**.

    * Round trips: the larger of the share ordinary for its payers (:func:`payer_history`)
      and the share *paid before*; no unusual share (their return home is the evidence).
    * Blocks: the share *ordinary for a block* (paid before, not passing on what was just
      received, ``passing``); unusual: the share their payers never otherwise paid as large.
    * Chains and fans: unusual is the *outsized* share. A fan within its hub's habits is
      ordinary (1) — unless it is among strangers (``strangers``, :func:`.hubs.unrelated_persons`)
      and moves at least the reporting threshold in all: a small shop's busy week of usual
      takings is its business; a person's account gathering from, or paying, unrelated
      persons a sum the bank must report is not, however usual each payment.

    >>> tx = _Tx(np.arange(3), np.array([1, 2, 3]), np.zeros(3, np.int64),
    ...          np.full(3, 20_000.0), np.arange(3), payer_high=np.full(3, np.nan),
    ...          payee_high=np.full(3, 30_000.0))
    >>> fan = np.array(["fan_in"], dtype=object)
    >>> none = np.zeros(1, bool)
    >>> rows, one = np.arange(3), np.zeros(3, np.int64)
    >>> kw = dict(params=LayeringParams(), own=np.zeros(3, bool), passing=np.zeros(3, bool))
    >>> alert_amounts(tx, rows, one, fan, (none, none), strangers=none, **kw)[0].tolist()
    [1.0]
    >>> alert_amounts(tx, rows, one, fan, (none, none), strangers=~none, **kw)[0].tolist()
    [0.0]
    """
    n = len(typology)
    is_chain, is_round = kinds
    layered = one_of(typology, ("bipartite", "stack"))
    structural = is_round | layered
    # Only round trips and blocks read the payers' histories (a verdict's fans need none).
    ordinary, rare = np.zeros(n), np.zeros(n)
    if structural.any():  # of those alerts only: each alert's figures are its own
        which = np.flatnonzero(structural)
        at = np.full(n, -1, np.int64)
        at[which] = np.arange(len(which))
        held = structural[grp]
        ordinary[which], rare[which] = payer_history(
            tx, flat[held], at[grp[held]], len(which), params, own
        )
    ordinary, rare = np.where(structural, ordinary, 0.0), np.where(layered, rare, 0.0)
    if tx.payer_high is not None and tx.payee_high is not None:
        payer_high, payee_high = tx.payer_high[flat], tx.payee_high[flat]
    else:  # an on-demand check with other settings: judged on its neighbourhood
        payer_high, payee_high = highs(tx, params, own, flat)
    amounts = tx.amount[flat]
    fanned = one_of(typology, ("fan_in", "fan_out"))
    big, paid_before, habitual = amount_shares(
        amounts, payer_high, payee_high, grp, n, (typology == "fan_in")[grp]
    )
    rare = np.where(is_chain | fanned, big, rare)
    ordinary = np.where(is_round, np.maximum(ordinary, paid_before), ordinary)
    # The past only, as the real-time index knows it: what a payer paid later says nothing
    # of whether this payment was usual for it when it was made.
    with np.errstate(invalid="ignore"):
        usual = (WELL_WITHIN * amounts <= payer_high) & ~passing
    size = np.maximum(np.bincount(grp, minlength=n), 1)
    ordinary = np.where(layered, np.bincount(grp, weights=usual, minlength=n) / size, ordinary)
    total = np.bincount(grp, weights=amounts, minlength=n)
    reportable = strangers & (total >= params.reporting_threshold)
    return np.where(fanned, np.where(reportable, 0.0, habitual), ordinary), rare
