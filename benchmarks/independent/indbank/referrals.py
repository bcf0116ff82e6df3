"""Referrals: a forest of who brought whom, with a few real influencers among many referrers.

Three kinds of referrer: (1) real influencers — their cascades are branching trees
(offspring per node Poisson with mean ``CASCADE_BRANCHING`` at each generation, a few
generations deep), the size of a cascade drawn log-normally (median ``CASCADE_MEDIAN``);
(2) promoters — a salesperson-like customer with many direct referrals who refer nobody
(wide, shallow: downstream = direct count, a decoy for "most referrals"); (3) ordinary
customers who referred one to three people. A person is referred at most once, after the
referrer joined. ``influencers.csv`` ranks the top referrers by measured downstream size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

INFLUENCER_SHARE: Final = 0.002
CASCADE_MEDIAN: Final = 40.0
CASCADE_SIGMA: Final = 0.6
CASCADE_BRANCHING: Final = 1.6
PROMOTER_SHARE: Final = 0.002
PROMOTER_DIRECT: Final = (15, 45)
ORDINARY_REFERRED_SHARE: Final = 0.10
START: Final = np.datetime64("2023-01-01T00:00:00")
SPAN_DAYS: Final = 3 * 365


@dataclass
class Referrals:
    referrer: np.ndarray
    referred: np.ndarray
    at: np.ndarray
    """Seconds after ``START``."""
    downstream: np.ndarray
    """Per person, the number of people below them in the forest."""


def build(rng: np.random.Generator, n: int) -> Referrals:
    order = rng.permutation(n)  # the free pool, consumed from the front
    cursor = 0
    parent = np.full(n, -1)
    joined = rng.uniform(0, SPAN_DAYS * 0.3, size=n) * 86400.0
    n_inf = max(3, int(n * INFLUENCER_SHARE))
    roots = order[cursor : cursor + n_inf]
    cursor += n_inf
    for root in roots:
        size = int(np.clip(np.exp(rng.normal(np.log(CASCADE_MEDIAN), CASCADE_SIGMA)), 10, 600))
        frontier = [int(root)]
        made = 0
        while frontier and made < size and cursor < n:
            nxt: list[int] = []
            for node in frontier:
                kids = int(rng.poisson(CASCADE_BRANCHING + (2.0 if node == root else 0.0)))
                for _ in range(kids):
                    if made >= size or cursor >= n:
                        break
                    child = int(order[cursor])
                    cursor += 1
                    parent[child] = node
                    joined[child] = joined[node] + rng.exponential(40.0) * 86400.0 + 3600.0
                    nxt.append(child)
                    made += 1
            frontier = nxt
    n_prom = max(2, int(n * PROMOTER_SHARE))
    promoters = order[cursor : cursor + n_prom]
    cursor += n_prom
    for p in promoters:
        k = min(int(rng.integers(*PROMOTER_DIRECT)), n - cursor)
        leaves = order[cursor : cursor + k]
        cursor += k
        parent[leaves] = p
        joined[leaves] = joined[p] + rng.uniform(1, 300, size=k) * 86400.0
    # Ordinary referrals: a referred person picks a referrer among earlier joiners at random.
    rest = order[cursor:]
    newcomer = rest[rng.random(rest.size) < ORDINARY_REFERRED_SHARE]
    others = rest[~np.isin(rest, newcomer)]
    if others.size:
        ref = others[rng.integers(0, others.size, size=newcomer.size)]
        parent[newcomer] = ref
        joined[newcomer] = joined[ref] + rng.uniform(1, 200, size=newcomer.size) * 86400.0
    # Downstream sizes: add each node's subtree up its chain of ancestors, deepest first.
    downstream = np.zeros(n, dtype=np.int64)
    anc = parent.copy()
    while (anc >= 0).any():
        has = anc >= 0
        np.add.at(downstream, anc[has], 1)
        anc[has] = parent[anc[has]]
    referred = np.flatnonzero(parent >= 0)
    joined = np.minimum(joined, (SPAN_DAYS - 1) * 86400.0)
    return Referrals(
        referrer=parent[referred], referred=referred, at=joined[referred], downstream=downstream
    )
