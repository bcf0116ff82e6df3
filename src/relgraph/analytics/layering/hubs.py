"""Hub alerts — fan bursts and gather-scatters — judged against their hubs' histories:
the facts :func:`.scoring._assemble_columns` scores them by (fan excess, pass-through,
counterparties, a new hub, a person among strangers), and which of them are a hub's
routine and never stored (definitions in :mod:`.routine`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numpy as np

from relgraph.analytics.layering.hops import _Tx
from relgraph.analytics.layering.params import _DAY_MS, F64, I64, B, LayeringParams
from relgraph.analytics.layering.routine import HubHistory, slow_params
from relgraph.analytics.sets import unique

STRANGERS_SHARE: Final = 0.8
"""A hub alert is among unrelated persons when its hub is a person's account and at least
this share of its counterparties are accounts of persons unrelated to it
(:func:`unrelated_persons`)."""
STRANGERS_WEIGHT: Final = 0.25
"""The weight of a hub alert among unrelated persons (``unrelated_persons``)."""

HubSets = list[tuple[int, I64, list[I64], bool, str]]
"""Per group of hub alerts: the first alert's index, per alert its hub and transfers,
whether slow, and the kind (``fan_in``, ``fan_out``, ``gather_scatter``)."""


def judge_hubs(
    tx: _Tx,
    hub_sets: HubSets,
    first_ts: I64,
    opened: I64,
    params: LayeringParams,
    segment: I64 | None,
    peaks: F64 | None = None,
    season: F64 | None = None,
    origin: int | None = None,
    peers: tuple[float, float, float, float] | None = None,
) -> tuple[F64, F64, I64, B, B, B]:
    """Per alert (of ``len(first_ts)``; zeros for those in no group): fan excess,
    pass-through share, distinct counterparties, a new hub, a slow fan, and whether it is
    its hub's routine (a steady hub's usual window, or a slow fan at a hub busy over 72
    hours) — never stored. ``opened``: per account, its opening time; ``segment`` as for
    :class:`.routine.HubHistory`; ``peaks``: per account, its fan peaks paying out and
    taking in (:mod:`.peaks`), the 72-hour fans' other bursts no longer in ``tx``;
    ``season``: per alert, the level its excess is divided by (:mod:`.season`); ``origin``:
    where the peers' windows are cut (:class:`.routine.HubHistory`); ``peers``: the bank's
    peers' figures (:attr:`.scoring._Context.peers`; None: those of ``tx``)."""
    n = len(first_ts)
    excess = np.zeros(n)
    passed = np.zeros(n)
    hub_new = np.zeros(n, bool)
    # Built on first use, per scale (each costs passes over ``tx``; a verdict's
    # neighbourhood often has no slow fan, and a fast fan needs no slow history).
    histories: dict[bool, HubHistory] = {}

    def history(slow: bool) -> HubHistory:
        if slow not in histories:
            bank = None if peers is None else (peers[2 * slow], peers[2 * slow + 1])
            histories[slow] = (
                HubHistory(tx, slow_params(params), True, segment, origin, bank)
                if slow
                else HubHistory(tx, params, segment=segment, origin=origin, bank=bank)
            )
        return histories[slow]

    steady = np.zeros(n, bool)
    slow_fan = np.zeros(n, bool)
    parties = np.zeros(n, np.int64)
    busy = np.zeros(n, bool)
    for offset, hub, sets, slow, name in hub_sets:
        rows = slice(offset, offset + len(sets))
        opened_hub = opened[hub]
        hub_new[rows] = (opened_hub >= 0) & (
            opened_hub >= first_ts[rows] - params.new_account_days * _DAY_MS
        )
        slow_fan[rows] = slow
        if name != "gather_scatter":
            steady[rows] = history(slow).steady(hub, name == "fan_in")
            if slow:
                busy[rows] = history(False).steady(hub, name == "fan_in")
    # The facts of every hub alert of one scale in one call, each judged against the
    # other bursts of its own kind (``kind``): per call, not per burst, is what a
    # request's few alerts cost. A slow fan at a busy hub is dropped whatever its facts
    # (below), and its kind's other bursts are at the same hub (dropped too): its facts —
    # the peers of a whole neighbourhood, a merchant's month — are not computed.
    for scale in (False, True):
        kinds = [k for k, found in enumerate(hub_sets) if found[3] == scale]
        if not kinds:
            continue
        at = np.concatenate([np.arange(hub_sets[k][0], hub_sets[k][0] + len(hub_sets[k][2]))
                             for k in kinds])  # fmt: skip
        kind = np.repeat(np.array(kinds, np.int64), [len(hub_sets[k][2]) for k in kinds])
        hubs = np.concatenate([hub_sets[k][1] for k in kinds])
        sets_at = [m for k in kinds for m in hub_sets[k][2]]
        judged = np.flatnonzero(~busy[at])
        if len(judged) < len(at):
            at, kind, hubs = at[judged], kind[judged], hubs[judged]
            sets_at = [sets_at[i] for i in judged.tolist()]
        earlier = None
        if peaks is not None and not scale and len(at):
            # A fan-in's peak taking in, a fan-out's paying out; none for gather-scatters.
            way = np.array([{"fan_in": 1, "fan_out": 0}.get(s[4], -1) for s in hub_sets])[kind]
            known = (way >= 0) & (hubs < len(peaks))
            earlier = np.zeros(len(at))
            earlier[known] = peaks[hubs[known], way[known]]
        if len(at):
            excess[at], passed[at], parties[at] = history(scale).facts(
                hubs, sets_at, hub_new[at], kind=kind, earlier=earlier
            )
    if season is not None:
        excess = excess / season
    # A steady hub's usual window is its business, not a fan (routine.py): never stored.
    routine_hub = steady & (excess <= params.fan_excess_ratio) | busy
    return excess, passed, parties, hub_new, slow_fan, routine_hub


def unrelated_persons(
    tx: _Tx, flat: I64, grp: I64, hub: I64, person: I64, linked: Callable[[I64, I64], I64], n: int
) -> F64:
    """Per alert (of ``n``) whose hub (``hub`` per alert) is a person's account: the share
    of the distinct accounts it pays or is paid by in the alert (rows ``flat`` of ``tx``,
    alert ``grp``) that are accounts of persons unrelated to it (``person`` ≥ 0 per
    account, and ``linked(hub, account)``, a :data:`.params.LINKS` code, 0: no common
    holder, household, hidden network or private device); 0 for the other alerts.

    A person paying many strangers, or paid by many, is a mule herder's dispersal or a
    collection account. A payroll or a shop's takings have a firm at the hub, a person's
    shopping has shops around it, and red envelopes at the Spring Festival go to family.

    >>> import numpy as np
    >>> from relgraph.analytics.layering.hops import _Tx
    >>> tx = _Tx(np.arange(6), np.array([0, 0, 0, 3, 2, 0]), np.array([1, 2, 1, 0, 4, 5]),
    ...          np.ones(6), np.arange(6))
    >>> person = np.array([0, 1, -1, 2, 3, 4])
    >>> family = lambda a, b: np.where((a == 0) & (b == 5), 3, 0)  # 5: 0's household
    >>> grp = np.array([0, 0, 0, 1, 2, 0])
    >>> unrelated_persons(tx, np.arange(6), grp, np.array([0, 0, 2]), person, family, 3).tolist()
    [0.3333333333333333, 1.0, 0.0]
    """
    out = np.zeros(n)
    # Only persons' hubs: a shop's month of takings is the most of a verdict's fans.
    mine = (hub >= 0) & (person[np.maximum(hub, 0)] >= 0)
    kept = mine[grp]
    flat, grp = flat[kept], grp[kept]
    at = hub[grp]
    touches = (tx.src[flat] == at) | (tx.dst[flat] == at)
    if not touches.any():
        return out
    other = np.where(tx.src[flat] == at, tx.dst[flat], tx.src[flat])[touches]
    width = int(other.max()) + 1
    key = unique(grp[touches] * width + other)
    alert, party = key // width, key % width
    stranger = (person[party] >= 0) & (linked(hub[alert], party) == 0)
    parties = np.bincount(alert, minlength=n)
    strangers = np.bincount(alert, weights=stranger.astype(np.float64), minlength=n)
    np.divide(strangers, parties, out=out, where=parties > 0)
    return out


def strangers_weight(share: F64) -> F64:
    """The ``unrelated_persons`` weight of alerts with these shares (:func:`unrelated_persons`):
    :data:`STRANGERS_WEIGHT` from :data:`STRANGERS_SHARE` on, else 0."""
    return np.where(share >= STRANGERS_SHARE, STRANGERS_WEIGHT, 0.0)
