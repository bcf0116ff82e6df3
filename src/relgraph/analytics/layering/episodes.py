"""A hub's other bursts: the largest intensity among a hub's other fan pieces, per piece.

A fan burst is stored as pieces (:func:`.detectors._pieces`); each is judged against the
hub's history, which includes its other bursts of the same kind (:mod:`.routine`). At the
72-hour scale, for a hub with earlier transfers in the fan's direction, every other piece
counts (a shop's busy week of takings is its usual); at the 30-day scale, and at 72 hours
for a hub with none, only pieces of another **episode** — the pieces of one hub in time
order are one episode while each starts at most a window after the latest end before it —
since the pieces of one fan are one fan, cut only to bound its length.
"""

from __future__ import annotations

import numpy as np

from relgraph.analytics.layering.params import F64, I64


def _other_episodes_max(hub: I64, value: F64, first: I64, last: I64, window: int) -> F64:
    """Per row: the largest ``value`` among the rows of the same ``hub`` in another
    *episode* (0 if none). Rows of one hub in order of ``first`` are one episode while each
    starts at most ``window`` after the latest ``last`` before it (the pieces of one burst).

    >>> _other_episodes_max(np.array([0, 0, 0]), np.array([5.0, 9.0, 2.0]),
    ...            np.array([0, 10, 500]), np.array([8, 20, 510]), 5)
    array([2., 2., 9.])
    """
    n = len(hub)
    if n <= 1:
        # No other row (a verdict judges one alert per call): its dozen array passes
        # would only find that.
        return np.zeros(n)
    by_time = np.lexsort((first, hub))
    h, f, la = hub[by_time], first[by_time], last[by_time]
    new_hub = np.r_[True, h[1:] != h[:-1]]
    # The latest end so far within the hub (ends are never before starts, so a running
    # maximum over the hub's rows in time order; offset per hub keeps hubs apart).
    hub_no = np.cumsum(new_hub) - 1
    shift = (la.max() - f.min() + 1) * hub_no
    reach = np.maximum.accumulate(la - f.min() + shift)
    opens = new_hub.copy()
    opens[1:] |= f[1:] - f.min() + shift[1:] > reach[:-1] + window
    episode = np.empty(n, np.int64)
    episode[by_time] = np.cumsum(opens) - 1
    # Per episode its largest value; per row the best of its hub's other episodes.
    n_ep = int(episode.max()) + 1
    best = np.full(n_ep, -np.inf)
    np.maximum.at(best, episode, value)
    ep_hub = np.zeros(n_ep, np.int64)
    ep_hub[episode] = hub
    top = _other_max(ep_hub, np.where(np.isfinite(best), best, 0.0))
    return np.asarray(top[episode], np.float64)


def _other_max(hub: I64, value: F64) -> F64:
    """Per row: the largest ``value`` among the other rows of the same ``hub`` (0 if none)."""
    if len(hub) <= 1:
        return np.zeros(len(hub))
    order = np.lexsort((-value, hub))
    h, v = hub[order], value[order]
    first = np.searchsorted(h, h, "left")
    count = np.searchsorted(h, h, "right") - first
    top = v[first]
    second = np.where(count > 1, v[np.minimum(first + 1, len(v) - 1)], 0.0)
    rank = np.arange(len(h)) - first
    out = np.empty(len(h))
    out[order] = np.where(rank == 0, second, top)
    return out
