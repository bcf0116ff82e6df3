"""A verdict's round-trip context (:mod:`.live`): the legs of the loops its transfer closes.

A round trip (:mod:`.roundtrip`) brings money back home over up to ``cycle_max_hops``
transfers within ``cycle_horizon_days`` (30), with nothing asked of the time between hops:
``R1 → R2`` on day 1, ``R2 → R3`` on day 5, ``R3 → R4`` on day 9, ``R4 → R1`` on day 13.
The verdict's neighbourhood holds the live transfers of its own two accounts, so when
``R4 → R1`` arrived it held ``R1 → R2`` and ``R3 → R4`` but not ``R2 → R3``: the loop the
batch alerts on was invisible to real time.

So when the verdict's transfer ``p`` (from ``s`` to ``d`` at ``t``) may close a loop, the
neighbourhood also holds its legs, found on the live lists in two steps:

* **back** from ``s``: the accounts whose money can reach ``s`` before ``t`` by at most
  ``cycle_max_hops − 1`` transfers within the horizon, each with the latest time it can
  leave them (arrivals at ``s``, then arrivals at their sources before those, …). Those
  that are home to ``d`` — the same account, its holder's, its household's or its hidden
  network's (:func:`.roundtrip.home_groups`) — are where a loop through ``p`` can start.
* **walk** from each such start as the batch walks (:func:`.roundtrip.round_trips`): its
  departures that leave home and are material for it (at least the median of its live
  departures), then at each account the earliest departures after the money arrived,
  within the horizon of the first, carrying ``cycle_min_share`` to its inverse times it, never
  back to an account of the path — at most ``cycle_max_branching`` per path and
  ``cycle_max_paths`` paths per start, counted among the departures that can still reach
  ``s`` before ``t`` (the batch counts among those a cycle can pass). A path that reaches
  ``s`` is closed by ``p`` when ``p`` carries enough and falls within the horizon.

The legs of the closed paths join the neighbourhood, and every live departure of their
starts (the median a start's payment is judged against); the batch definitions then judge
them as the batch does (routine flows, households, scores). Most transfers stop at the
first step: no home account of ``d`` pays into what reached ``s``.

What real time still leaves to the batch: a leg arriving late in the middle of a loop (its
verdict looks back from its source only), and loops past the search's caps — at most
:data:`LOOP_LOOKS` arrivals looked at per account going back (the latest), and at most
:data:`LOOP_ACCOUNTS` accounts reached.
"""

from __future__ import annotations

import bisect
from dataclasses import replace
from typing import Final

import numpy as np

from relgraph.analytics.layering.holderctx import HolderContext
from relgraph.analytics.layering.params import F64, I64, LayeringParams
from relgraph.analytics.layering.roundtrip import home_groups
from relgraph.analytics.layering.sides import Side

LOOP_LOOKS: Final = 16
"""Arrivals looked at per account going back from a verdict's source (the latest before
money must leave it): four times ``cycle_max_branching``'s default, as many departures as
the batch's walk looks at per path."""
LOOP_ACCOUNTS: Final = 200
"""Accounts the search back from a verdict's source reaches at most."""


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
        base = len(self._ctx.person)
        old = accounts < base
        person = np.full(len(accounts), -1, np.int64)
        enterprise = np.full(len(accounts), -1, np.int64)
        person[old] = self._ctx.person[accounts[old]]
        enterprise[old] = self._ctx.enterprise[accounts[old]]
        for i in np.flatnonzero(~old).tolist():  # opened since the load: a few
            person[i], enterprise[i] = self.holder(int(accounts[i]))
        return home_groups(replace(self._ctx, person=person, enterprise=enterprise), len(accounts))

    def _loop_rows(self, row: int) -> list[I64]:
        """The legs of the loops ``row`` closes that the neighbourhood lacks (module
        docstring; none for most rows)."""
        p = self.params
        t, h = int(self._ts[row]), p.horizon_ms
        src, dst = int(self._src[row]), int(self._dst[row])
        late = self._reach_back(src, t, t - h, p.cycle_max_hops - 1)
        if len(late) < 2:
            return []  # nothing reached the source: no loop to close
        reached = np.fromiter(late, np.int64, len(late))
        group, network = self._homes(np.append(reached[reached != dst], dst))
        g, n = group[-1], network[-1]  # the target's
        at_home = (group[:-1] == g) | ((n >= 0) & (network[:-1] == n))
        home = set(reached[reached != dst][at_home].tolist())
        if dst in late:
            home.add(dst)
        if not home or src in home:
            return []  # nothing of d's home pays in; a transfer home from home closes none
        out: list[I64] = []
        for a0 in sorted(home):
            legs = self._walk_home(a0, row, late, home)
            if legs:
                out.append(np.asarray(legs, np.int64))
                side = self._out.get(a0)
                if side is not None:
                    out.append(side.rows_array())
        return out

    def _reach_back(self, a0: int, t: int, bound: int, hops: int) -> dict[int, int]:
        """Per account whose money can reach ``a0`` before ``t`` by at most ``hops``
        transfers no earlier than ``bound``: the latest time it can leave (``a0``: ``t``)."""
        late = {a0: t}
        frontier = [a0]
        for _ in range(hops):
            nxt: list[int] = []
            for a in frontier:
                side = self._in.get(a)
                if side is None:
                    continue
                lo = bisect.bisect_left(side.ts, bound)
                hi = bisect.bisect_left(side.ts, late[a])  # strictly before
                for r in side.rows[max(lo, hi - LOOP_LOOKS) : hi]:
                    b, tr = int(self._src[r]), int(self._ts[r])
                    known = late.get(b)
                    if known is None and len(late) >= LOOP_ACCOUNTS:
                        continue
                    if known is None or tr > known:
                        late[b] = tr  # a later departure widens b's window: looked at again
                        nxt.append(b)
            frontier = list(dict.fromkeys(nxt))
            if not frontier:
                break
        return late

    def _walk_home(self, a0: int, row: int, late: dict[int, int], home: set[int]) -> list[int]:
        """The legs of the paths from ``a0`` (a home account of ``row``'s target) that
        ``row`` closes, walked as :func:`.roundtrip.round_trips` walks (module docstring)."""
        p = self.params
        t, h, src = int(self._ts[row]), p.horizon_ms, int(self._src[row])
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
            if self._amount[first] < median or b in home or tf >= late.get(b, tf):
                continue  # not material, not leaving home, or going nowhere near the source
            limit = tf + h
            share = p.cycle_min_share
            floor, ceiling = float(self._amount[first]) * share, float(self._amount[first]) / share
            if t > limit or not floor <= self._amount[row] <= ceiling:
                continue
            paths: list[list[int]] = [[first]]
            for _ in range(p.cycle_max_hops - 2):
                grown: list[list[int]] = []
                for path in paths:
                    last = path[-1]
                    if int(self._dst[last]) == src:
                        legs.update(path)  # row closes it
                        continue
                    grown += [
                        [*path, r] for r in self._steps(path, late, home, limit, (floor, ceiling))
                    ]
                paths = grown[: p.cycle_max_paths]
                if not paths:
                    break
            legs.update(r for path in paths if int(self._dst[path[-1]]) == src for r in path)
        return sorted(legs)

    def _steps(
        self,
        path: list[int],
        late: dict[int, int],
        home: set[int],
        limit: int,
        amounts: tuple[float, float],
    ) -> list[int]:
        """The departures a path goes on by: the earliest after its last arrival that can
        still reach the source in time, carry ``amounts`` (floor, ceiling) and visit no
        account of the path or home, at most ``cycle_max_branching``."""
        last = path[-1]
        a, after = int(self._dst[last]), int(self._ts[last])
        side = self._out.get(a)
        if side is None:
            return []
        visited = {int(self._src[path[0]])} | {int(self._dst[r]) for r in path}
        steps: list[int] = []
        i = bisect.bisect_right(side.ts, after)
        j = bisect.bisect_right(side.ts, limit)
        for r in side.rows[i:j]:
            b, tr = int(self._dst[r]), int(self._ts[r])
            by = late.get(b)
            if by is None or tr >= by or b in visited or b in home:
                continue  # cannot reach the source before the row, or not a simple loop
            if not amounts[0] <= self._amount[r] <= amounts[1]:
                continue
            steps.append(r)
            if len(steps) >= self.params.cycle_max_branching:
                break
        return steps
