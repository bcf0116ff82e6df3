"""Referral cascades: trees with heavy-tailed sizes, so a few influencers bring in many customers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pyarrow as pa

from relgraph import model
from relgraph.synth import clock
from relgraph.synth.frame import Coded, Frame, Timestamp
from relgraph.synth.ids import IntArray
from relgraph.synth.records import Records
from relgraph.synth.sampling import ragged

REFERRED_SHARE: Final = 0.2
"""Share of persons who joined through a referral."""
PARETO_SHAPE: Final = 1.1
"""Tail of the cascade-size distribution (smaller = heavier)."""
PRODUCT_SHARES: Final = (0.25, 0.45, 0.1, 0.2)
"""Referred product, in ``model.PRODUCTS`` order (deposit, card, loan, wealth)."""


@dataclass(frozen=True)
class Referrals:
    """The referrals table and the top referrers."""

    frame: Frame
    influencers: Any
    """Truth table (customer_id, rank, downstream)."""


def _subtree_sizes(parent: IntArray) -> IntArray:
    """Nodes in each node's subtree (itself included); ``parent`` is -1 at roots, parent < child."""
    n = parent.size
    depth = np.zeros(n, dtype=np.int64)
    has_parent = parent >= 0
    while True:
        new = np.where(has_parent, depth[np.maximum(parent, 0)] + 1, 0)
        if np.array_equal(new, depth):
            break
        depth = new
    size = np.ones(n, dtype=np.int64)
    for d in range(int(depth.max(initial=0)), 0, -1):
        at = np.flatnonzero(depth == d)
        size += np.bincount(parent[at], weights=size[at], minlength=n).astype(np.int64)
    return size


def build(rng: np.random.Generator, records: Records) -> Referrals:
    """Grow referral cascades over the persons.

    Each cascade is a tree: its root referred a few people, who referred others, and every
    referral happens after the one that brought the referrer in. Cascade sizes follow a
    Pareto law, and inside a cascade early members refer more, so the roots of the biggest
    cascades are the influencers.

    Parameters
    ----------
    rng
        Random stream.
    records
        Customer rows (a person refers and is referred under their main record).

    Returns
    -------
    Referrals
        The table (rows in random order) and the top referrers by planted downstream size.
    """
    n_persons = records.rec_of.shape[0]
    target = max(2, int(REFERRED_SHARE * n_persons))
    cap = max(20, target // 15)
    draw = np.minimum(np.floor(rng.pareto(PARETO_SHAPE, size=target) * 2) + 1, cap).astype(np.int64)
    ends = np.cumsum(draw + 1)
    n_cascades = max(1, int(np.searchsorted(ends, target, side="right")))
    n_cascades = min(n_cascades, n_persons // 2)
    sizes = draw[:n_cascades] + 1  # root plus referred
    total = int(sizes.sum())
    if total > n_persons:
        sizes = np.maximum(sizes * n_persons // total, 2)
        sizes[np.cumsum(sizes) > n_persons] = 0
        sizes = sizes[sizes > 0]
    cascade, node = ragged(sizes)
    start = np.cumsum(sizes) - sizes
    # Preferential pull towards early members: the root refers most, leaves refer least.
    parent_node = np.floor(node * rng.random(node.size) ** 2.5).astype(np.int64)
    parent = np.where(node > 0, start[cascade] + parent_node, -1)
    person = rng.permutation(n_persons)[: node.size]

    begin = rng.integers(clock.day(2021, 1, 1), clock.day(2026, 3, 1), size=sizes.size) * clock.DAY
    room = clock.SNAPSHOT_DAY * clock.DAY - begin - clock.DAY
    span = np.minimum(rng.uniform(30, 400, size=sizes.size) * clock.DAY, room)
    offset = rng.random(node.size) * span[cascade]
    # Sorted offsets within a cascade, plus the node number in seconds, make times strictly
    # increase with node order, and so down the tree (a parent precedes its children).
    offset = np.floor(offset[np.lexsort((offset, cascade))]).astype(np.int64)
    when = begin[cascade] + offset + node

    edge = np.flatnonzero(parent >= 0)
    product = rng.choice(len(PRODUCT_SHARES), size=edge.size, p=PRODUCT_SHARES).astype(np.int64)
    # The referred person's record in the system of the product they came for, if they have one.
    referred_rec = records.rec_of[person[edge], product]
    referred_rec = np.where(referred_rec >= 0, referred_rec, records.primary[person[edge]])
    referrer_rec = records.primary[person[parent[edge]]]
    order = rng.permutation(edge.size)
    frame = Frame(
        model.REFERRALS,
        {
            "referrer_id": Coded(referrer_rec[order], records.customer_id),
            "referred_id": Coded(referred_rec[order], records.customer_id),
            "referred_at": Timestamp(when[edge][order]),
            "product": Coded(product[order], pa.array(list(model.PRODUCTS))),
        },
    )

    downstream = _subtree_sizes(parent) - 1
    k = int(np.clip(n_persons // 100, 10, 100))
    k = min(k, int((downstream > 0).sum()))
    top = np.lexsort((person, -downstream))[:k]
    influencers = pa.table(
        {
            "customer_id": records.customer_id.take(pa.array(records.primary[person[top]])),
            "rank": pa.array(np.arange(1, k + 1, dtype=np.int64)),
            "downstream": pa.array(downstream[top]),
        }
    )
    return Referrals(frame, influencers)
