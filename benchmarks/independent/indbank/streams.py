"""Named random streams: each stage draws from its own stream spawned from the seed.

A stage's draws never depend on how many numbers an earlier stage consumed, so changing one
stage does not reshuffle the others, and the same seed always gives the same bank.
"""

from __future__ import annotations

from typing import Final

import numpy as np

STAGES: Final = (
    "households",
    "names",
    "contact",
    "records",
    "firms",
    "groups",
    "guarantees",
    "referrals",
    "devices",
    "accounts",
    "routine",
    "typologies",
    "contacts",
)


def streams(seed: int) -> dict[str, np.random.Generator]:
    """One generator per stage, in a fixed order, from ``seed``."""
    children = np.random.SeedSequence(seed).spawn(len(STAGES))
    return {
        name: np.random.default_rng(child) for name, child in zip(STAGES, children, strict=True)
    }


def unique_ints(rng: np.random.Generator, low: int, high: int, n: int) -> np.ndarray:
    """``n`` distinct integers in ``[low, high)`` in random order (rejection; high - low >> n)."""
    out = np.unique(rng.integers(low, high, size=int(n * 1.1) + 16))
    while out.size < n:
        out = np.unique(np.concatenate([out, rng.integers(low, high, size=n)]))
    rng.shuffle(out)
    return out[:n]
