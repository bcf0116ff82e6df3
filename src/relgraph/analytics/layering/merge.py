"""One alert per pattern: alerts of one typology that share a transfer merge.

The definitions enumerate every chain, and money split into chunks gives one chain per
choice of chunk at each hop (a three-hop chain whose hops are paid in four chunks each is
64 chains): a team would see one pattern as dozens of alerts. So after scoring, alerts of
the **same typology** that share at least one transfer — directly or through a third —
become **one alert**:

* its transfers are the union of theirs, in time order;
* its reasons are the union of theirs: each reason's weight is the largest any of them
  had (a discount — ``routine``, ``ordinary`` — the smallest, so a discount that does not
  hold for every member never lowers the pattern), and its facts are those of its best-scoring member
  (the first and last times span the union);
* its score is the noisy-OR of those reasons, so at least the best member's score.

Alerts of different typologies are never merged (a fan-in and the gather-scatter it
starts are two findings). Fan pieces (:mod:`.detectors`) never share a transfer with
another piece of their scale, but a fast (72-hour) piece may overlap two slow (30-day)
ones: it joins only the slow piece it shares most transfers with, so merging never
chains a busy hub's pieces back into its whole history.

Examples
--------
Two chains A → B → C → D that differ only in which of two chunks paid the middle hop
share their first and last transfers, so they are one alert:

>>> import numpy as np, pandas as pd
>>> from relgraph.analytics.layering.scoring import Alerts, Columns, ScoredColumns, noisy_or
>>> facts = pd.DataFrame({"hops": [3, 3], "first_ts": [0, 0], "last_ts": [3, 4]})
>>> weights = pd.DataFrame({"hops": [0.15, 0.15], "speed": [0.3, 0.0],
...                         "routine": [0.0, 0.0]})
>>> two = Alerts(np.array(["layering_chain"] * 2, object), np.array([0, 3, 6]),
...              np.array([0, 1, 3, 0, 2, 3]), facts, weights, np.array([0.405, 0.15]))
>>> one = merge_overlapping(two, ts_of_edge=np.array([0, 1, 2, 3]))
>>> len(one), one.transfers(0).tolist(), round(float(one.score[0]), 3)
(1, [0, 1, 2, 3], 0.405)
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse import csgraph

from relgraph.analytics.layering.hops import _Tx
from relgraph.analytics.layering.params import I64
from relgraph.analytics.layering.scoring import Alerts, Columns, ScoredColumns, noisy_or
from relgraph.analytics.sets import (
    argsort_stable,
    one_of,
    run_starts,
    unique,
    unique_inverse,
)


def merge_overlapping(alerts: Alerts, ts_of_edge: I64) -> Alerts:
    """Merge the alerts of one typology that share a transfer (module docstring).

    ``ts_of_edge`` gives each EdgeSet position's time (for the merged transfers' order).
    """
    if len(alerts) < 2:
        return alerts
    columns = ScoredColumns.of(alerts)
    merged = merge_columns(columns, ts_of_edge)
    return alerts if merged is columns else merged.to_alerts()


def merge_columns(alerts: ScoredColumns, ts_of_edge: I64) -> ScoredColumns:
    """:func:`merge_overlapping` on plain columns (the real-time verdict's path: no
    pandas); the input itself when nothing merges."""
    n = len(alerts)
    if n < 2:
        return alerts
    size = np.diff(alerts.ptr)
    grp = np.repeat(np.arange(n, dtype=np.int64), size)
    # Alert–transfer bipartite graph, one transfer node per (typology, transfer): alerts
    # of different typologies never meet.
    _, typ = np.unique(alerts.typology.astype(str), return_inverse=True)
    width = int(alerts.edges.max(initial=0)) + 1
    node_key = typ[grp].astype(np.int64) * width + alerts.edges
    keys, tnode = unique_inverse(node_key)
    link = _no_bridges(alerts, grp, tnode, len(keys))
    labels = _components(grp[link], tnode[link], n, len(keys))
    _, inverse = np.unique(labels, return_inverse=True)
    comp = np.asarray(inverse.ravel(), np.int64)
    n_comp = int(comp.max()) + 1
    if n_comp == n:
        return alerts
    # Best member per component: highest score, then the earliest alert.
    order = np.lexsort((np.arange(n), -alerts.score, comp))
    first = np.ones(n, bool)
    first[1:] = comp[order][1:] != comp[order][:-1]
    best = order[first]  # one per component, in component order

    # Union of transfers, time order within each merged alert.
    key = unique(comp[grp] * width + alerts.edges)
    member_comp, edge = key // width, key % width
    # (component, time, transfer): ``key`` ascends by (component, transfer), so a stable
    # sort of one packed (component, time) key gives it when that fits.
    at = ts_of_edge[edge]
    t0 = int(at.min())  # two alerts or more: never empty
    span = int(at.max()) - t0 + 1
    if n_comp * span < 1 << 62:
        by_time = argsort_stable(member_comp * span + (at - t0))
    else:
        by_time = np.lexsort((edge, at, member_comp))
    edges = edge[by_time].astype(np.int64)
    new_size = np.bincount(member_comp, minlength=n_comp).astype(np.int64)
    ptr = np.zeros(n_comp + 1, np.int64)
    np.cumsum(new_size, out=ptr[1:])

    # Per component (every one has a member): members grouped in component order.
    by_comp = argsort_stable(comp)
    starts = run_starts(comp[by_comp])

    def most(column: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return np.maximum.reduceat(column[by_comp], starts)

    # Positive reasons: the strongest of the members'; discounts (≤ 0): the weakest too.
    weights: Columns = {name: most(column) for name, column in alerts.weights.items()}
    facts: Columns = {name: column[best] for name, column in alerts.facts.items()}
    if "first_ts" in facts:
        facts["first_ts"] = np.minimum.reduceat(alerts.facts["first_ts"][by_comp], starts)
        facts["last_ts"] = most(alerts.facts["last_ts"])
    return ScoredColumns(
        alerts.typology[best],
        ptr,
        edges,
        facts,
        weights,
        np.asarray(np.clip(noisy_or(weights), 0.0, 1.0), np.float64),
        alerts.params,
        alerts.truncations,
    )


_PROPAGATE_MAX: Final = 2_000
"""Alerts up to which components are found by propagating labels (a verdict's handful:
scipy's graph set-up costs more); beyond, scipy's connected components."""


def _components(grp: I64, tnode: I64, n: int, n_nodes: int) -> I64:
    """Per alert: a component label of the alert–transfer graph (alert ``grp[i]`` holds
    transfer node ``tnode[i]``), labels increasing with each component's first alert."""
    if n <= _PROPAGATE_MAX:
        # Each alert takes the smallest alert index it reaches: its component's first.
        label = np.arange(n, dtype=np.int64)
        while True:
            at_node = np.full(n_nodes, n, np.int64)
            np.minimum.at(at_node, tnode, label[grp])
            nxt = label.copy()
            np.minimum.at(nxt, grp, at_node[tnode])
            nxt = nxt[nxt]  # a label is an alert of the same component: jump to its label
            if np.array_equal(nxt, label):
                return label
            label = nxt
    m = n + n_nodes
    graph = sparse.csr_matrix((np.ones(len(grp), np.int8), (grp, n + tnode)), shape=(m, m))
    _, labels = csgraph.connected_components(graph, directed=False)
    return np.asarray(labels[:n], np.int64)


def edge_times(tx: _Tx) -> I64:
    """Per EdgeSet position (up to the largest in ``tx``): its time (0 for the others)."""
    out = np.zeros(int(tx.edge.max(initial=-1)) + 1, np.int64)
    out[tx.edge] = tx.ts
    return out


def _no_bridges(alerts: ScoredColumns, grp: I64, tnode: I64, n_nodes: int) -> npt.NDArray[np.bool_]:
    """Per (alert, transfer) row: whether it links the alert to the transfer in the merge
    graph. A fast fan piece links only through the slow piece it shares most transfers
    with (module docstring); every other row links."""
    link = np.ones(len(grp), bool)
    if "slow_fan" not in alerts.facts:
        return link
    hubbed = one_of(alerts.typology, ("fan_in", "fan_out"))
    slow = np.asarray(alerts.facts["slow_fan"], bool) & hubbed
    fast = hubbed & ~slow
    if not slow.any() or not fast.any():
        return link
    # The slow piece holding each transfer node (slow pieces of one typology are disjoint).
    slow_of = np.full(n_nodes, -1, np.int64)
    rows = slow[grp]
    slow_of[tnode[rows]] = grp[rows]
    fast_rows = np.flatnonzero(fast[grp] & (slow_of[tnode] >= 0))
    if len(fast_rows) == 0:
        return link
    n = len(alerts)
    pair, shared = np.unique(grp[fast_rows] * n + slow_of[tnode[fast_rows]], return_counts=True)
    # Per fast alert the slow one with most shared transfers (ties: the earliest).
    order = np.lexsort((pair % n, -shared, pair // n))
    first = np.ones(len(order), bool)
    first[1:] = (pair[order] // n)[1:] != (pair[order] // n)[:-1]
    best = np.full(n, -1, np.int64)
    best[pair[order][first] // n] = pair[order][first] % n
    # A fast alert's rows link only to transfers of its best slow piece.
    has_best = best[grp] >= 0
    link &= ~(fast[grp] & has_best & (slow_of[tnode] != best[grp]))
    return link
