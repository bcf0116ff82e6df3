"""Referral influencers: direct referrals, the whole cascade below a person, its value, PageRank.

Definitions (what the tests hold the code to):

* A person joins one cascade: the one of their *first* referral (earliest
  ``referred_at``; ties to the referrer whose first customer record sorts first). The
  cascades are then trees.
* ``direct_referrals``: distinct persons a person referred (every referral counts).
* ``cascade_size``: persons below them in their cascade tree (children, their
  children, …); ``cascade_aum``: those persons' summed AUM — the value brought in — as
  :mod:`relgraph.analytics.value` defines it (``Person.aum``: account balances, each
  account once; a record summary only without account data, never summed across
  systems).
* ``pagerank``: PageRank with damping ``damping`` on the referral graph with edges
  pointing from the referred person to the referrer, so credit flows up to whoever
  brought people in (every referral counts, not only first ones).
* Rank: by ``cascade_size``, then ``cascade_aum``, then ``pagerank``, all descending,
  then by the person's first customer record (:func:`.person_order.record_rank`: the
  bank's own key, so one bank ranks alike in every store) — reach first, because a
  campaign pays per person brought in; value and centrality separate equal reaches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from relgraph import model
from relgraph.analytics.params import InfluenceParams
from relgraph.analytics.person_order import record_rank
from relgraph.analytics.sets import unique
from relgraph.analytics.value import party_values_of
from relgraph.engines.base import GraphEngine
from relgraph.graph import Projection
from relgraph.graph.types import IndexArray

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Influence:
    """Per person (projection index): referral figures and rank (1 = most influential)."""

    direct_referrals: npt.NDArray[np.int64]
    cascade_size: npt.NDArray[np.int64]
    cascade_aum: FloatArray
    pagerank: FloatArray
    rank: npt.NDArray[np.int64]


def first_referrer(projection: Projection, in_order: IndexArray) -> IndexArray:
    """Per person: who referred them first (−1 when nobody did); of referrals at one
    instant, the referrer first in ``in_order`` (:func:`.person_order.record_rank`)."""
    n = len(projection.nodes["Person"])
    edges = projection.edge("Person", "REFERRED", "Person")
    when = edges.attrs["referred_at"].astype("Float64").to_numpy(np.float64, na_value=np.inf)
    order = np.lexsort((in_order[edges.src], when, edges.dst))
    referred = edges.dst[order]
    first = np.r_[True, referred[1:] != referred[:-1]] if len(referred) else np.empty(0, bool)
    parent = np.full(n, -1, np.int64)
    parent[referred[first]] = edges.src[order][first]
    return parent


def cascade_totals(
    parent: IndexArray, value: FloatArray
) -> tuple[npt.NDArray[np.int64], FloatArray]:
    """Per node of a forest: descendants and the sum of their ``value``.

    Level by level from the deepest up, each level's totals are added to the parents in
    one vectorised step.

    Examples
    --------
    >>> import numpy as np
    >>> size, total = cascade_totals(np.array([-1, 0, 0, 1]), np.array([1.0, 2.0, 3.0, 4.0]))
    >>> size.tolist(), total.tolist()
    ([3, 1, 0, 0], [9.0, 4.0, 0.0, 0.0])
    """
    n = len(parent)
    parent = _without_cycles(parent)
    # Pointer jumping: (ancestor, steps to it) doubles its reach each round.
    ancestor = parent.copy()
    depth = (parent >= 0).astype(np.int64)
    while (ancestor >= 0).any():
        has = ancestor >= 0
        above = np.where(has, ancestor, 0)
        depth = depth + np.where(has, depth[above], 0)
        ancestor = np.where(has, ancestor[above], -1)
    size = np.zeros(n, np.int64)
    total = np.zeros(n)
    for level in range(int(depth.max(initial=0)), 0, -1):
        at = np.flatnonzero(depth == level)
        np.add.at(size, parent[at], size[at] + 1)
        np.add.at(total, parent[at], total[at] + value[at])
    return size, total


def _without_cycles(parent: IndexArray) -> IndexArray:
    """``parent`` with every referral ring cut (its members become roots)."""
    n = len(parent)
    child = np.flatnonzero(parent >= 0)
    graph = sp.coo_array((np.ones(len(child)), (child, parent[child])), shape=(n, n)).tocsr()
    _, scc = connected_components(graph, directed=True, connection="strong")
    in_ring = np.bincount(scc, minlength=n)[scc] > 1
    return np.where(in_ring, -1, parent)


class PageRankConvergenceError(ArithmeticError):
    """Power iteration stopped at ``max_iterations`` before its change fell under the tolerance.

    Raised instead of returning an unconverged vector (as networkx raises
    ``PowerIterationFailedConvergence``): ranks that are still moving are not a result.
    """

    def __init__(self, iterations: int, residual: float | None, tolerance: float) -> None:
        # GDS reports whether it converged, not by how much it missed: residual None.
        change = "" if residual is None else f"change {residual:.3g}, "
        super().__init__(
            f"PageRank did not converge in {iterations} iterations ({change}"
            f"needed < {tolerance:.3g}): raise RELGRAPH_INFLUENCE_MAX_ITERATIONS or "
            "RELGRAPH_INFLUENCE_TOLERANCE"
        )
        self.iterations = iterations
        self.residual = residual


def pagerank(source: IndexArray, target: IndexArray, n: int, params: InfluenceParams) -> FloatArray:
    """PageRank of ``n`` nodes over edges ``source → target`` (power iteration).

    Repeated edges count once; dangling nodes spread their rank evenly, as networkx does,
    so the two agree. Iteration stops when the L1 change is under ``n × tolerance``
    (networkx's rule); :class:`PageRankConvergenceError` when ``max_iterations`` pass first.
    Hand-written rather than igraph's PRPACK because it measured faster on the referral
    graphs relgraph sees (0.14 s vs 0.34 s at 1M persons, benchmarks/RESULTS.md).

    Examples
    --------
    >>> import numpy as np
    >>> rank = pagerank(np.array([1, 2]), np.array([0, 0]), 3, InfluenceParams())
    >>> [round(float(r), 3) for r in rank]
    [0.574, 0.213, 0.213]
    """
    if n == 0:
        return np.zeros(0)
    matrix = sp.csr_array((np.ones(len(source)), (source, target)), shape=(n, n))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    out: FloatArray = np.asarray(matrix.sum(axis=1), dtype=np.float64).ravel()
    dangling = out == 0
    scale = np.divide(1.0, out, out=np.zeros(n), where=~dangling)
    transition = sp.csr_array(sp.diags_array(scale) @ matrix).T.tocsr()
    rank = np.full(n, 1.0 / n)
    change = float("inf")
    for _ in range(params.max_iterations):
        spread = params.damping * rank[dangling].sum() / n
        new = params.damping * (transition @ rank) + spread + (1 - params.damping) / n
        change = float(np.abs(new - rank).sum())
        if change < n * params.tolerance:
            return np.asarray(new)
        rank = new
    raise PageRankConvergenceError(params.max_iterations, change, n * params.tolerance)


def influence(
    projection: Projection,
    params: InfluenceParams | None = None,
    engine: GraphEngine | None = None,
    aum: FloatArray | None = None,
) -> Influence:
    """Referral influence of every person; ``engine`` runs PageRank (this process by default).

    ``aum`` is each person's AUM as ``analyze`` valued it (the persons of
    :func:`relgraph.analytics.value.party_values_of`); by default it is valued here, without
    a review band and with the model's source-system precedence.

    Examples
    --------
    王伟 (C1) of ``tests/docbank.py`` brought in three persons, one of them through 张强:

    >>> result = influence(projection)
    >>> int(result.direct_referrals[person("C1")]), int(result.cascade_size[person("C1")])
    (2, 3)
    >>> int(result.rank[person("C1")])
    1
    """
    params = params or InfluenceParams()
    persons = projection.nodes["Person"]
    n = len(persons)
    edges = projection.edge("Person", "REFERRED", "Person")
    pairs = unique(edges.src.astype(np.int64) * n + edges.dst)
    direct = np.bincount(pairs // max(n, 1), minlength=n).astype(np.int64)
    if aum is None:
        # Not the persons table's ``aum``: it is the record summary, and knows no account.
        aum = party_values_of(projection, None, model.SOURCE_PRECEDENCE).aum[:n]
    source, target = edges.dst.astype(np.int64), edges.src.astype(np.int64)
    # In the bank's own order of persons: the cascades' and PageRank's sums then run in the
    # same order in every store (0.1 + 0.2 + 0.3 is not 0.3 + 0.2 + 0.1 in floats, and
    # cascadeAum is served as summed), and equals are ranked alike.
    in_order = record_rank(projection, n)
    parent = first_referrer(projection, in_order)
    ranked_parent = np.full(n, -1, np.int64)
    ranked_parent[in_order] = np.where(parent >= 0, in_order[np.maximum(parent, 0)], -1)
    ranked_aum = np.empty(n)
    ranked_aum[in_order] = np.nan_to_num(aum)
    ranked_size, ranked_total = cascade_totals(ranked_parent, ranked_aum)
    size, total = ranked_size[in_order], ranked_total[in_order]
    if engine is None:
        score = pagerank(in_order[source], in_order[target], n, params)[in_order]
    else:
        score = engine.pagerank(
            np.asarray(persons.id_of(np.arange(n)), dtype=object), source, target, params
        )
    order = np.lexsort((in_order, -score, -total, -size))
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(1, n + 1)
    return Influence(direct, size, total, score, rank)


def influence_frame(projection: Projection, result: Influence) -> pd.DataFrame:
    """``influence`` result table: one row per person who referred someone, best first."""
    persons = projection.nodes["Person"]
    who = np.flatnonzero(result.direct_referrals > 0)
    who = who[np.argsort(result.rank[who], kind="stable")]
    return pd.DataFrame(
        {
            "person_id": persons.id_of(who),
            "rank": np.arange(1, len(who) + 1),
            "direct_referrals": result.direct_referrals[who],
            "cascade_size": result.cascade_size[who],
            "cascade_aum": result.cascade_aum[who],
            "pagerank": result.pagerank[who],
        }
    )
