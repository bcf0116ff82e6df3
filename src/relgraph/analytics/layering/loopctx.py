"""A verdict's round-trip context (:mod:`.live`): the legs of the loops through its transfer.

A round trip (:mod:`.roundtrip`) brings money back home over up to ``cycle_max_hops``
transfers within ``cycle_horizon_days`` (30), with nothing asked of the time between hops:
``R1 → R2`` on day 1, ``R2 → R3`` on day 5, ``R3 → R4`` on day 9, ``R4 → R1`` on day 13.
The verdict's neighbourhood holds the live transfers of its own two accounts, so when
``R4 → R1`` arrived it held ``R1 → R2`` and ``R3 → R4`` but not ``R2 → R3``: the loop the
batch alerts on was invisible to real time.

So the neighbourhood of the verdict's transfer ``p`` (from ``s`` to ``d`` at ``t``) also
holds the legs of the loops through ``p``, found on the live lists in three steps:

* **back** from ``s``: the accounts whose money can reach ``s`` before ``t`` by at most
  ``cycle_max_hops − 1`` transfers within the horizon, each with the latest time it can
  leave them (arrivals at ``s``, then arrivals at their sources before those, …);
* **forth** from ``d``: the accounts money leaving ``d`` after ``t`` can reach the same
  way, each with the earliest time it can be there — only ``d`` itself for a transfer that
  arrived in order, the later legs for one that arrived late;
* **walk** from each account reached back (``s`` included: ``p`` the first leg) that is
  home to one reached forth — the same account, its holder's, its household's or its
  hidden network's (:func:`.roundtrip.home_groups`) — as the batch walks
  (:func:`.roundtrip.round_trips`): its departures that leave home and are material for
  it (at least the median of its live departures), then at each account the earliest
  departures after the money arrived, within the horizon of the first, carrying
  ``cycle_min_share`` to its inverse times it, never back to an account of the path — at
  most ``cycle_max_branching`` per path and ``cycle_max_paths`` paths per start, counted
  among the departures that can still reach ``s`` before ``t``, then ``p``, then among the
  accounts reached forth, until the money is home.

The legs of the paths that come home join the neighbourhood, and every live departure of
their starts (the median a start's payment is judged against); the batch definitions then
judge them as the batch does (routine flows, households, scores). Most transfers stop at
the first steps: no home account of an account reached forth pays into what reached ``s``.

What real time still leaves to the batch: loops past the searches' caps — at most
:data:`LOOP_LOOKS` arrivals (departures) looked at per account going back (forth), the
latest before (the earliest after), and at most :data:`LOOP_ACCOUNTS` accounts reached each
way.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Final

import numpy as np

from relgraph.analytics.layering.holderctx import HolderContext
from relgraph.analytics.layering.params import F64, I64, LayeringParams
from relgraph.analytics.layering.roundtrip import home_labels
from relgraph.analytics.layering.sides import Side

LOOP_LOOKS: Final = 16
"""Arrivals (departures) looked at per account going back from a verdict's source (forth
from its target): four times ``cycle_max_branching``'s default, as many departures as the
batch's walk looks at per path."""
LOOP_ACCOUNTS: Final = 200
"""Accounts each search reaches at most."""


class LoopContext(HolderContext):
    """The round-trip half of :class:`.live.LiveIndex` (its lists, declared here; an
    account's holder from :class:`.holderctx.HolderContext`)."""

    params: LayeringParams
    _src: I64
    _dst: I64
    _ts: I64
    _amount: F64
    _out: dict[int, Side]
    _in: dict[int, Side]

    def _homes(self, accounts: I64) -> tuple[I64, I64]:
        """:func:`.roundtrip.home_groups` of ``accounts`` (distinct; labels comparable
        within one call only)."""
        person, enterprise = self.holders(accounts)
        return home_labels(person, enterprise, self._ctx.household, self._ctx.network)

    def _loop_rows(self, row: int) -> list[I64]:
        """The legs of the loops through ``row`` that the neighbourhood lacks (module
        docstring; none for most rows)."""
        p = self.params
        t, h = self._ts.item(row), p.horizon_ms
        src, dst = self._src.item(row), self._dst.item(row)
        late = self._reach_back(src, t, t - h, p.cycle_max_hops - 1)
        early = self._reach_forth(dst, t, t + h, p.cycle_max_hops - 1)
        if len(late) < 2 and len(early) < 2:
            return []  # nothing reached the source, nothing left the target since
        every = list(dict.fromkeys([*late, *early]))  # late's accounts first, in its order
        groups, networks = self._homes(np.array(every, np.int64))
        group, network = groups.tolist(), networks.tolist()
        at = dict(zip(every, range(len(every)), strict=True))
        end_groups = {group[at[e]] for e in early}
        end_networks = {network[at[e]] for e in early} - {-1}
        # The starts home to an account money reaches from the target; most rows have none.
        starts = [(a0, g, n) for a0, g, n in zip(every[: len(late)], group, network, strict=False)
                  if g in end_groups or n in end_networks]  # fmt: skip
        out: list[I64] = []
        for a0, g, n in sorted(starts):
            home = {x for x, gx, nx in zip(every, group, network, strict=True)
                    if gx == g or (n >= 0 and nx == n)}  # fmt: skip
            if src in home and a0 != src:
                continue  # the money is home before the row: a loop closed already
            legs = self._walk_home(a0, row, late, early, home)
            if legs:
                out.append(np.asarray(legs, np.int64))
                side = self._out.get(a0)
                if side is not None:
                    out.append(side.rows_array())
        return out

    def _reach_forth(self, a0: int, t: int, bound: int, hops: int) -> dict[int, int]:
        """Per account money leaving ``a0`` after ``t`` can reach by at most ``hops``
        transfers no later than ``bound`` (later transfers that arrived before the row):
        the earliest time it can be there (``a0``: ``t``)."""
        early = {a0: t}
        frontier = [a0]
        # A side's times are its rows' (``side.ts[k]`` is row ``side.rows[k]``'s): read
        # from the list, not the array, one Python int each (this walk runs per verdict).
        dst_of, sides, known_at = self._dst.item, self._out, early.get
        for _ in range(hops):
            nxt: list[int] = []
            for a in frontier:
                side = sides.get(a)
                if side is None:
                    continue
                ts = side.ts
                lo = bisect.bisect_right(ts, early[a])  # strictly after
                hi = min(bisect.bisect_right(ts, bound), lo + LOOP_LOOKS)
                rows = side.rows
                for k in range(lo, hi):
                    b, tr = dst_of(rows[k]), ts[k]
                    known = known_at(b)
                    if known is None:
                        if len(early) >= LOOP_ACCOUNTS:
                            continue
                    elif tr >= known:
                        continue
                    early[b] = tr
                    nxt.append(b)
            frontier = list(dict.fromkeys(nxt))
            if not frontier:
                break
        return early

    def _reach_back(self, a0: int, t: int, bound: int, hops: int) -> dict[int, int]:
        """Per account whose money can reach ``a0`` before ``t`` by at most ``hops``
        transfers no earlier than ``bound``: the latest time it can leave (``a0``: ``t``)."""
        late = {a0: t}
        frontier = [a0]
        src_of, sides, known_at = self._src.item, self._in, late.get  # as in _reach_forth
        for _ in range(hops):
            nxt: list[int] = []
            for a in frontier:
                side = sides.get(a)
                if side is None:
                    continue
                ts = side.ts
                hi = bisect.bisect_left(ts, late[a])  # strictly before
                lo = max(bisect.bisect_left(ts, bound), hi - LOOP_LOOKS)
                rows = side.rows
                for k in range(lo, hi):
                    b, tr = src_of(rows[k]), ts[k]
                    known = known_at(b)
                    if known is None:
                        if len(late) >= LOOP_ACCOUNTS:
                            continue
                    elif tr <= known:
                        continue
                    late[b] = tr  # a later departure widens b's window: looked at again
                    nxt.append(b)
            frontier = list(dict.fromkeys(nxt))
            if not frontier:
                break
        return late

    def _walk_home(
        self, a0: int, row: int, late: dict[int, int], early: dict[int, int], home: set[int]
    ) -> list[int]:
        """The legs of the loops from ``a0`` through ``row`` back to ``home`` (``a0``'s),
        walked as :func:`.roundtrip.round_trips` walks (module docstring): towards the
        source among the accounts of ``late``, by ``row``, then from the target among those
        of ``early``."""
        p = self.params
        t, h = int(self._ts[row]), p.horizon_ms
        side = self._out.get(a0)
        if side is None or not side.rows:
            return []
        amounts = np.sort(self._amount[side.rows_array()])
        median = float(amounts[(len(amounts) - 1) // 2])
        legs: set[int] = set()
        lo = bisect.bisect_left(side.ts, t - h)
        hi = bisect.bisect_right(side.ts, late[a0])  # its departure at that time too
        for first in side.rows[lo:hi]:
            b, tf = int(self._dst[first]), int(self._ts[first])
            nowhere = first != row and tf >= late.get(b, tf)  # the row first: forth at once
            if self._amount[first] < median or b in home or nowhere:
                continue  # not material, not leaving home, or going nowhere near the source
            share = p.cycle_min_share
            walk = _Walk(row, late, early, home, tf + h,
                         (float(self._amount[first]) * share, float(self._amount[first]) / share))  # fmt: skip
            if t > walk.limit or not walk.amounts[0] <= self._amount[row] <= walk.amounts[1]:
                continue
            paths: list[list[int]] = [[first]]
            for _ in range(p.cycle_max_hops - 1):
                grown: list[list[int]] = []
                for path in paths:
                    if int(self._dst[path[-1]]) in home:
                        legs.update(path)  # back home, through the row
                        continue
                    grown += [[*path, r] for r in self._steps(path, walk)]
                paths = grown[: p.cycle_max_paths]
                if not paths:
                    break
            legs.update(r for path in paths if int(self._dst[path[-1]]) in home for r in path)
        return sorted(legs)

    def _steps(self, path: list[int], walk: _Walk) -> list[int]:
        """The departures a path goes on by, at most ``cycle_max_branching`` (the earliest
        after its last arrival, within the horizon, carrying the walk's amounts, visiting no
        account of the path): before the row, towards the source in time and never home;
        at the source, the row; after it, among the accounts money can reach from the
        target, or home."""
        last = path[-1]
        a, after = int(self._dst[last]), int(self._ts[last])
        row = walk.row
        before = row not in path
        if before and a == int(self._src[row]):
            return [row] if int(self._ts[row]) > after else []
        side = self._out.get(a)
        if side is None:
            return []
        # The start is no visit: a return to it is the loop closing (as the batch's walk).
        visited = {int(self._dst[r]) for r in path}
        steps: list[int] = []
        i = bisect.bisect_right(side.ts, after)
        j = bisect.bisect_right(side.ts, walk.limit)
        for r in side.rows[i:j]:
            b, tr = int(self._dst[r]), int(self._ts[r])
            if b in visited or not walk.amounts[0] <= self._amount[r] <= walk.amounts[1]:
                continue
            if before:
                by = walk.late.get(b)
                if by is None or tr >= by or b in walk.home:
                    continue  # cannot reach the source before the row, or home too soon
            elif b not in walk.home and b not in walk.early:
                continue  # the target's money does not reach it
            steps.append(r)
            if len(steps) >= self.params.cycle_max_branching:
                break
        return steps


@dataclass(frozen=True)
class _Walk:
    """One start's walk: the row it must pass, the back and forth reach, the start's home,
    the horizon's end and the hop amounts (floor, ceiling)."""

    row: int
    late: dict[int, int]
    early: dict[int, int]
    home: set[int]
    limit: int
    amounts: tuple[float, float]
