"""Merchants' season: how busy the bank's takings are when a shop's fan-in happens.

A hub is judged against its own history (:mod:`.routine`), but in the weeks of the Spring
Festival, on 618 or on Singles' Day every shop takes in two or three times what it usually
does: a small shop paid by ten customers in three days, when it usually sees one, is the
season, not a fan — on the independent banks most false fan-ins at the threshold were
enterprises' accounts between 22 January and 12 February (benchmarks/RESULTS.md). So a
fan-in at an enterprise's account is judged against its peers *at the time*: its fan
excess is divided by the bank's **takings level**.

The takings level of an alert spanning ``first`` to ``last`` is the rate of *takings* —
eligible transfers into enterprises' accounts, bank-wide — over the whole hours from
``first``'s to ``last``'s (at least the :data:`MIN_SPAN_HOURS` hours before ``last``'s),
divided by their rate over the :data:`BASELINE_DAYS` days before those hours; at least 1
(a quiet week makes nothing more unusual), and 1 when fewer than
:data:`MIN_BASELINE_DAYS` days of the bank precede them. The fan's own transfers are not
counted in its hours: the season is what the *other* shops take in (a bank with few takings
would otherwise read a shell company's fan-in of twelve payers as a busy season and divide
its excess away). Hours before ``last``'s own only:
what a real-time verdict on ``last`` has seen, so the live index (which counts takings per
hour as transfers arrive) and the batch give the same level.

>>> import numpy as np
>>> hour = 3_600_000
>>> day = 24 * hour
>>> ts = np.arange(40 * 24) * hour                # one taking an hour for 40 days
>>> ts = np.concatenate([ts, 35 * day + np.arange(48) * hour])   # twice as many on days 35–36
>>> t = takings(ts, np.ones(len(ts), bool))
>>> takings_level(t, np.array([35 * day, 10 * day, 2 * day]),
...               np.array([37 * day, 12 * day, 3 * day])).tolist()
[2.0, 1.0, 1.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from relgraph.analytics.layering.params import _HOUR_MS, F64, I64, B, LayeringParams

MIN_SPAN_HOURS: Final = 24
"""A short fan's level is read over the day before its last transfer."""
BASELINE_DAYS: Final = 28
MIN_BASELINE_DAYS: Final = 7


@dataclass(frozen=True)
class Takings:
    """Takings per hour of the bank, cumulated: ``cumulative[i]`` is the count in the hours
    from ``first_hour`` (epoch hours) to ``first_hour + i``, exclusive."""

    first_hour: int
    cumulative: I64


def takings(ts: I64, into_enterprise: B) -> Takings | None:
    """The :class:`Takings` of transfers at ``ts`` (epoch ms), counting those
    ``into_enterprise`` (None when the bank has no transfer)."""
    if len(ts) == 0:
        return None
    hours = ts // _HOUR_MS
    first = int(hours.min())
    counts = np.bincount(hours[into_enterprise] - first, minlength=int(hours.max()) - first + 1)
    return Takings(first, hourly_cumulative(counts))


def bank_takings(
    amount: F64, ts: I64, src: I64, dst: I64, enterprise: I64, params: LayeringParams
) -> Takings | None:
    """The bank's takings among these transfers: the eligible ones into enterprises'
    accounts (``enterprise``: per account, its enterprise or −1), as the live index counts
    them."""
    eligible = (amount >= params.min_amount) & (src != dst)
    return takings(ts[eligible], enterprise[dst[eligible]] >= 0)


def shop_fan_levels(
    t: Takings | None,
    enterprise: I64,
    hub_sets: Sequence[tuple[int, I64, Sequence[I64], bool, str]],
    first_ts: I64,
    last_ts: I64,
    tx_ts: I64,
    tx_dst: I64,
) -> F64:
    """Per alert (``first_ts``, ``last_ts``; hub alerts grouped as :data:`.hubs.HubSets`,
    whose transfers are positions into ``tx_ts`` / ``tx_dst``): its takings level if it
    is a fan-in at an enterprise's account, else 1."""
    level = np.ones(len(first_ts))
    if t is None:
        return level
    for offset, hub, members, _, name in hub_sets:
        if name != "fan_in":
            continue
        shop = np.flatnonzero(enterprise[hub] >= 0)
        if len(shop) == 0:
            continue
        at: I64 = offset + shop
        sizes = np.array([len(members[i]) for i in shop.tolist()], np.int64)
        flat = np.concatenate([members[i] for i in shop.tolist()]).astype(np.int64)
        grp = np.repeat(np.arange(len(shop)), sizes)
        start, end = _span_hours(first_ts[at], last_ts[at])
        hours = tx_ts[flat] // _HOUR_MS
        mine = (tx_dst[flat] == hub[shop][grp]) & (hours >= start[grp]) & (hours < end[grp])
        own = np.bincount(grp[mine], minlength=len(shop)).astype(np.int64)
        level[at] = takings_level(t, first_ts[at], last_ts[at], own)
    return level


def _span_hours(first_ts: I64, last_ts: I64) -> tuple[I64, I64]:
    """The hours whose takings rate is the level's numerator: [start, end)."""
    end = last_ts // _HOUR_MS
    return np.minimum(first_ts // _HOUR_MS, end - MIN_SPAN_HOURS), end


def hourly_cumulative(counts: I64) -> I64:
    """Per-hour counts as :attr:`Takings.cumulative` (a leading zero)."""
    out = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=out[1:])
    return out


def takings_level(t: Takings | None, first_ts: I64, last_ts: I64, own: I64 | None = None) -> F64:
    """Per alert (its first and last transfer's times): the takings level (module
    docstring); 1.0 throughout when ``t`` is None. ``own``: per alert, how many of the
    takings in its hours are its own transfers, left out of the rate."""
    level = np.ones(len(first_ts))
    if t is None or len(first_ts) == 0:
        return level
    top = len(t.cumulative) - 1

    def at(hour: I64) -> I64:
        return np.asarray(t.cumulative[np.clip(hour - t.first_hour, 0, top)], np.int64)

    start, end = _span_hours(first_ts, last_ts)
    theirs = at(end) - at(start) - (0 if own is None else own)
    base_start = np.maximum(start - BASELINE_DAYS * 24, t.first_hour)
    base_hours = start - base_start
    ok = base_hours >= MIN_BASELINE_DAYS * 24
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.maximum(theirs, 0) / (end - start)
        base = (at(start) - at(base_start)) / np.where(ok, base_hours, 1)
        ratio = np.where(ok & (base > 0), rate / np.where(base > 0, base, 1.0), 1.0)
    return np.asarray(np.maximum(level, ratio), np.float64)


class HourlyTakings:
    """Takings per hour as transfers arrive (the live index's), from the loaded bank's.

    >>> live = HourlyTakings(None)
    >>> for ts in (0, 10, 2 * 3_600_000):
    ...     live.add(ts)
    >>> t = live.current()
    >>> t.first_hour, t.cumulative[:5].tolist()
    (0, [0, 2, 2, 3, 3])
    """

    def __init__(self, loaded: Takings | None) -> None:
        self._first = loaded.first_hour if loaded is not None else 0
        self._counts = np.diff(loaded.cumulative) if loaded is not None else np.zeros(0, np.int64)
        self._current = loaded

    def add(self, ts: int) -> None:
        """Count one taking at ``ts`` (epoch ms)."""
        hour = ts // _HOUR_MS
        if len(self._counts) == 0:
            self._first = hour
        if hour < self._first:  # a late arrival before the bank's first hour
            self._counts = np.concatenate([np.zeros(self._first - hour, np.int64), self._counts])
            self._first = hour
        at = hour - self._first
        if at >= len(self._counts):
            grown = np.zeros(max(at + 1, len(self._counts) + 24 * 30), np.int64)
            grown[: len(self._counts)] = self._counts
            self._counts = grown
        self._counts[at] += 1
        self._current = None

    def current(self) -> Takings | None:
        """The takings so far (cached until the next :meth:`add`)."""
        if self._current is None and len(self._counts):
            self._current = Takings(self._first, hourly_cumulative(self._counts))
        return self._current
