"""Loan guarantees: ordinary ones (acyclic) and planted guarantee circles (联保/互保圈).

Ordinary guarantees: owners guarantee their own firms' loans, holdings their subsidiaries,
firms their trading partners (from a lower to a higher rank only) and relatives each other
(from the lower person index to the higher). Enterprises never guarantee persons outside a
circle, so ordinary guarantees hold no cycle. A circle is 2 to 8 parties (mutual pairs
included) where each guarantees the next and the last the first; 30% of circles include one
person (an owner). Circles get "tails": guarantees into a member from an outside person and
from a member out to an outside firm, which touch the circle without closing a new cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from indbank.firms import CIRCLE_LENGTHS, PERSONS_PER_CIRCLE, Firms
from indbank.population import Population

OWNER_GUARANTEE_SHARE: Final = 0.5
PARTNER_GUARANTEES_PER_FIRM: Final = 0.3
RELATIVE_GUARANTEE_SHARE: Final = 0.02
TAILS_PER_CIRCLE: Final = (0, 3)


@dataclass
class Guarantees:
    """Edges as (guarantor, guarantor_kind, borrower, borrower_kind, amount); kind 0 person."""

    edges: list[tuple[int, int, int, int, float]]
    circles: list[list[tuple[int, int]]]
    """Per circle, its members as (index, kind)."""


def _amount(rng: np.random.Generator) -> float:
    return round(float(np.exp(rng.normal(14.9, 0.8))) / 1000) * 1000.0


def build(rng: np.random.Generator, pop: Population, firms: Firms) -> Guarantees:
    kind = firms.kind
    n_ent = kind.size
    edges: list[tuple[int, int, int, int, float]] = []
    grouped = np.zeros(n_ent, dtype=bool)
    for _, members in firms.groups:
        grouped[members] = True
    # Circle members: person-owned employers outside groups.
    candidates = np.flatnonzero((kind == 0) & ~grouped & (firms.owner_of >= 0))
    n_circles = max(3, pop.n // PERSONS_PER_CIRCLE)
    lengths = rng.choice(
        [x for x, _ in CIRCLE_LENGTHS], size=n_circles, p=[p for _, p in CIRCLE_LENGTHS]
    )
    pool = list(rng.permutation(candidates))
    in_circle_e = np.zeros(n_ent, dtype=bool)
    in_circle_p = np.zeros(pop.n, dtype=bool)
    circles: list[list[tuple[int, int]]] = []
    for length in lengths:
        if len(pool) < length + 5:
            break
        ring = [(int(pool.pop()), 1) for _ in range(int(length))]
        if length >= 3 and rng.random() < 0.3:
            owner = int(firms.owner_of[ring[0][0]])
            if not in_circle_p[owner]:
                ring[1] = (owner, 0)
        for idx, k in ring:
            (in_circle_p if k == 0 else in_circle_e)[idx] = True
        circles.append(ring)
        for i, (g, gk) in enumerate(ring):
            b, bk = ring[(i + 1) % len(ring)]
            edges.append((g, gk, b, bk, _amount(rng)))
    # Tails: in from outside persons, out to outside non-circle firms.
    outside_firms = np.flatnonzero(~in_circle_e & (kind != 2))
    free_persons = np.flatnonzero(~in_circle_p & (pop.age >= 25))
    for ring in circles:
        for _ in range(int(rng.integers(*TAILS_PER_CIRCLE))):
            m, mk = ring[int(rng.integers(len(ring)))]
            if rng.random() < 0.5:
                edges.append((int(rng.choice(free_persons)), 0, m, mk, _amount(rng)))
            elif mk == 1:
                edges.append((m, 1, int(rng.choice(outside_firms)), 1, _amount(rng)))
    # Owners guarantee their own firms.
    owned = np.flatnonzero((firms.owner_of >= 0) & (rng.random(n_ent) < OWNER_GUARANTEE_SHARE))
    for e in owned:
        o = int(firms.owner_of[e])
        if not in_circle_p[o]:
            edges.append((o, 0, int(e), 1, _amount(rng)))
    # Holdings guarantee subsidiaries (down the tree: depth increases).
    for _, members in firms.groups:
        for sub in members[1:]:
            if firms.depth[sub] > 0 and rng.random() < 0.5:
                edges.append((members[0], 1, sub, 1, _amount(rng)))
    # Trading partners: lower rank to higher rank; group members rank by depth first.
    rank = np.where(firms.depth < 99, firms.depth - 1000, rng.permutation(n_ent))
    eligible = np.flatnonzero(~in_circle_e & (kind != 3))
    k = int(eligible.size * PARTNER_GUARANTEES_PER_FIRM)
    left = rng.choice(eligible, size=k)
    right = rng.choice(eligible, size=k)
    for x, y in zip(left, right, strict=True):
        if rank[x] < rank[y]:
            edges.append((int(x), 1, int(y), 1, _amount(rng)))
        elif rank[y] < rank[x]:
            edges.append((int(y), 1, int(x), 1, _amount(rng)))
    # Relatives: lower person index guarantees higher (acyclic by construction).
    pick = (pop.tie_a < pop.tie_b) & (rng.random(pop.tie_a.size) < RELATIVE_GUARANTEE_SHARE)
    pick &= ~in_circle_p[pop.tie_a] & ~in_circle_p[pop.tie_b]
    for x, y in zip(pop.tie_a[pick], pop.tie_b[pick], strict=True):
        edges.append((int(x), 0, int(y), 0, _amount(rng)))
    return Guarantees(edges=edges, circles=circles)
