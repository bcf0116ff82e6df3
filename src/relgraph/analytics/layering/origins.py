"""Where a busy hub's fan burst began, kept when its first transfers leave the live index.

A fan burst merges every overlapping dense window, with no end while the hub is busy, and
is tiled in windows from its first transfer (:func:`.detectors._pieces`). The batch sees a
merchant's whole history, so its tiles count from the day the merchant got busy; the live
index (:mod:`.live`) holds the last 33 days, and a burst tiled from its first row *still
held* moved every tile at each eviction: the same transfers got other fan members (another
chain id) depending on when the eviction ran (``benchmarks/RESULTS.md``, helper hevtime).

So per hub and kind — 72-hour fans and gather-scatter sides, out and in (the kinds of
:func:`.detectors.kind_starts`) — the index keeps the burst running across its cut: the
time of the burst's first transfer, as a scan of the whole history finds it, and the start
of its last dense window before the cut. A dense window opening at ``t`` after the cut
joins that burst when ``t`` is at most a window after the kept start, as in the batch's
merge; then the hub's first burst in a verdict's scan is tiled from the kept time
(:func:`.detectors._dense`). :meth:`.live.LiveIndex.from_index` computes them over the
loaded history, each eviction folds the rows that leave into them (as it folds fan peaks),
so they do not depend on when it runs. Slow (30-day) fans keep none: their rows are the
non-routine ones, judged per scan, and their pieces reach past the horizon anyway.
"""

from __future__ import annotations

import numpy as np

from relgraph.analytics.layering.detectors import NO_START, _dense, gather_params, kind_starts
from relgraph.analytics.layering.hops import _Tx
from relgraph.analytics.layering.params import I64, LayeringParams

KINDS = 4


def no_starts(n: int) -> I64:
    """``n`` accounts without a kept burst (per kind: start, latest dense window)."""
    return np.full((n, KINDS, 2), NO_START, np.int64)


def fold_starts(starts: I64, tx: _Tx, params: LayeringParams, cut: int) -> I64:
    """``starts`` moved to the cut ``cut``: per hub of ``tx`` with a dense window opening
    before it, the burst that window is in (its start, counted from ``starts`` when it goes
    on from there) and that window's start. ``tx`` holds every transfer of those hubs from
    where ``starts`` was cut to a window past ``cut`` (later dense windows are not read)."""
    if len(tx) == 0:
        return starts
    for kind in range(KINDS):
        p = params if kind < 2 else gather_params(params)
        d = _dense(tx, p, bool(kind % 2), kind_starts(starts, kind))
        burst = np.cumsum(d.new) - 1
        before = np.flatnonzero(d.ts[d.dense] < cut)
        if len(before) == 0:
            continue
        hub = d.hub[d.dense[before]]
        # The last dense window before the cut, per hub (rows are by hub, then time).
        last = before[np.append(hub[1:] != hub[:-1], True)]
        hubs = d.hub[d.dense[last]]
        if int(hubs.max()) >= len(starts):
            grown = no_starts(int(hubs.max()) + 1)
            grown[: len(starts)] = starts
            starts = grown
        starts[hubs, kind, 0] = d.origin[burst[last]]
        starts[hubs, kind, 1] = d.ts[d.dense[last]]
    return starts
