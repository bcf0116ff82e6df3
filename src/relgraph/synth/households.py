"""Households of 1–6 persons with member roles, and flat-shares of unrelated singles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from relgraph.synth.ids import IntArray

HEAD: Final = 0
SPOUSE: Final = 1
CHILD: Final = 2
PARENT: Final = 3
SIBLING: Final = 4
ROLE_RELATION: Final = ("other", "spouse", "child", "parent", "sibling")
"""What a member is to the head, as a ``family.relation`` value (indexed by role)."""
INVERSE_RELATION: Final = ("other", "spouse", "parent", "child", "sibling")
"""What the head is to a member of that role."""

SIZE_SHARES: Final = (0.34, 0.27, 0.20, 0.11, 0.05, 0.03)
"""Share of households with 1, 2, …, 6 persons (mean ≈ 2.35)."""
FLATMATE_SHARE: Final = 0.15
"""Share of single-person households that live in a flat-share."""


@dataclass(frozen=True)
class Households:
    """Persons 0..n-1 grouped into households; a household's persons are contiguous."""

    household: IntArray
    """Per person: household index."""
    role: IntArray
    """Per person: HEAD, SPOUSE, CHILD, PARENT or SIBLING."""
    position: IntArray
    """Per person: index within the household (0 = head)."""
    start: IntArray
    """Per household: first person."""
    size: IntArray
    """Per household: number of persons."""
    dwelling: IntArray
    """Per person: dwelling (address) index; flatmates share one across households."""
    n_dwellings: int

    @property
    def n_persons(self) -> int:
        """Number of persons."""
        return int(self.household.size)

    @property
    def n_households(self) -> int:
        """Number of households."""
        return int(self.start.size)

    def head(self) -> IntArray:
        """Per person: the head of their household."""
        return self.start[self.household]

    def other_member(self, rng: np.random.Generator, persons: IntArray) -> IntArray:
        """A random other member of each person's household (-1 for a single)."""
        hh = self.household[persons]
        size = self.size[hh]
        shift = 1 + (rng.random(persons.size) * np.maximum(size - 1, 1)).astype(np.int64)
        other = self.start[hh] + (self.position[persons] + shift) % np.maximum(size, 1)
        return np.where(size > 1, other, -1)


def build(rng: np.random.Generator, n_persons: int) -> Households:
    """Group ``n_persons`` persons into households and flat-shares.

    Parameters
    ----------
    rng
        Random stream.
    n_persons
        Number of persons.

    Returns
    -------
    Households
        Membership, roles and dwellings.
    """
    draw = rng.choice(len(SIZE_SHARES), size=n_persons // 2 + 8, p=SIZE_SHARES) + 1
    ends = np.cumsum(draw)
    n_hh = int(np.searchsorted(ends, n_persons)) + 1
    size = draw[:n_hh].astype(np.int64)
    size[-1] -= int(ends[n_hh - 1]) - n_persons
    start = np.concatenate([[0], np.cumsum(size)[:-1]]).astype(np.int64)
    household = np.repeat(np.arange(n_hh, dtype=np.int64), size)
    position = np.arange(n_persons, dtype=np.int64) - start[household]

    u = rng.random(n_persons)
    role = np.full(n_persons, HEAD, dtype=np.int64)
    role[position == 1] = np.where(u[position == 1] < 0.9, SPOUSE, SIBLING)
    later = position >= 2
    role[later] = np.where(u[later] < 0.8, CHILD, PARENT)

    # Flat-shares: some singles share a dwelling with 1–3 other unrelated singles.
    singles = np.flatnonzero((size == 1) & (rng.random(n_hh) < FLATMATE_SHARE))
    singles = singles[rng.permutation(singles.size)]
    flat_sizes = rng.integers(2, 5, size=singles.size // 2 + 1)
    flat_of = np.repeat(np.arange(flat_sizes.size, dtype=np.int64), flat_sizes)[: singles.size]
    dwelling_of_hh = np.arange(n_hh, dtype=np.int64)
    dwelling_of_hh[singles] = n_hh + flat_of
    _, dwelling_of_hh = np.unique(dwelling_of_hh, return_inverse=True)
    dwelling_of_hh = dwelling_of_hh.astype(np.int64)
    return Households(
        household=household,
        role=role,
        position=position,
        start=start,
        size=size,
        dwelling=dwelling_of_hh[household],
        n_dwellings=int(dwelling_of_hh.max()) + 1,
    )
