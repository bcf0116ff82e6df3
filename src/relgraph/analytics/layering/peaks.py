"""A hub's fan pieces that left the live index: the busiest of them, per account and way.

A hub is judged against its own history (:mod:`.routine`): among other things its other
fan pieces of the same kind are its usual — last month's payroll makes this month's an
ordinary day. The batch scan sees every transfer; the live index (:mod:`.live`) keeps only
the last :attr:`.eviction.Evicting.horizon_ms` (33 days with the defaults), so a monthly
burst falls out just before the next one arrives, and the next one was judged as if the
hub had never paid so many people. On independent-1, streamed from 1 February to 12 March
2025, 408 of the 412 real-time fan-out alerts at the threshold that the batch did not
report at the threshold were such months (benchmarks/RESULTS.md).

So when transfers leave the index their hubs keep a **fan peak** per way (paying out,
taking in): the largest *intensity* — distinct counterparties per window spanned, as
:meth:`.routine.HubHistory.facts` measures a burst — of the 72-hour fan pieces
(:func:`.detectors._fan_bursts`) that held a transfer leaving. A piece across the cut is
found whole: the hub's transfers up to a window after it join the search. The verdict
takes a hub's peak as one more of its other bursts (and as proof of earlier transfers that
way), which is what the batch's scan of the whole history has in view. Slow (30-day)
pieces keep no peak: their history is the peers' and a steady hub's, both judged on what
the index holds.

>>> import numpy as np
>>> from relgraph.analytics.layering.hops import _Tx
>>> from relgraph.analytics.layering.params import LayeringParams
>>> hour = 3_600_000
>>> tx = _Tx(np.arange(6), np.zeros(6, np.int64), np.arange(1, 7), np.full(6, 100.0),
...          np.arange(6) * hour)
>>> hub, inbound, intensity = fan_peaks(tx, np.array([True] * 3 + [False] * 3),
...                                     LayeringParams())
>>> hub.tolist(), inbound.tolist(), intensity.tolist()
([0], [False], [6.0])
"""

from __future__ import annotations

import numpy as np

from relgraph.analytics.layering.detectors import _distinct_count, _fan_bursts, kind_starts
from relgraph.analytics.layering.hops import _Tx
from relgraph.analytics.layering.params import F64, I64, B, LayeringParams


def fan_peaks(
    tx: _Tx, gone: B, params: LayeringParams, starts: I64 | None = None
) -> tuple[I64, B, F64]:
    """Per 72-hour fan piece among ``tx`` that holds a ``gone`` transfer: its hub, whether
    it takes in (a fan-in), and its intensity (definition above); ``starts``: the hubs'
    kept burst starts (:mod:`.origins`), their pieces tiled from them."""
    hubs: list[I64] = []
    ways: list[B] = []
    peaks: list[F64] = []
    if len(tx) == 0:
        return np.zeros(0, np.int64), np.zeros(0, bool), np.zeros(0)
    for inbound in (False, True):
        bursts = _fan_bursts(tx, params, inbound, kind_starts(starts, int(inbound)))
        if not bursts.members:
            continue
        size = np.fromiter((len(m) for m in bursts.members), np.int64, len(bursts.members))
        flat = np.concatenate(bursts.members)
        piece = np.repeat(np.arange(len(size), dtype=np.int64), size)
        start = np.cumsum(size) - size
        held = np.maximum.reduceat(gone[flat].astype(np.int8), start) > 0
        if not held.any():
            continue
        other = tx.src[flat] if inbound else tx.dst[flat]
        distinct = _distinct_count(piece, other, len(size))
        first = np.minimum.reduceat(tx.ts[flat], start)
        last = np.maximum.reduceat(tx.ts[flat], start)
        windows = np.maximum((last - first) / params.window_ms, 1.0)
        hubs.append(bursts.hub[held])
        ways.append(np.full(int(held.sum()), inbound))
        peaks.append((distinct / windows)[held])
    if not hubs:
        return np.zeros(0, np.int64), np.zeros(0, bool), np.zeros(0)
    return np.concatenate(hubs), np.concatenate(ways), np.concatenate(peaks)


def fold_peaks(peaks: F64, hub: I64, inbound: B, intensity: F64) -> F64:
    """``peaks`` (per account, columns paying out and taking in; grown to hold every
    ``hub``) with each piece's intensity folded in as a running maximum."""
    if len(hub) == 0:
        return peaks
    need = int(hub.max()) + 1
    if need > len(peaks):
        grown = np.zeros((need, 2))
        grown[: len(peaks)] = peaks
        peaks = grown
    np.maximum.at(peaks, (hub, inbound.astype(np.int64)), intensity)
    return peaks
