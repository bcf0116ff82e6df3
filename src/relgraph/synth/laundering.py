"""Planted money-laundering typologies: layering chains, cycles, scatter-gather, fan-in, fan-out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from relgraph.model import PLANTED_TYPOLOGIES
from relgraph.synth import clock
from relgraph.synth.accounts import ACTIVE, DEPOSIT, Accounts, in_use
from relgraph.synth.enterprises import CUSTOMER
from relgraph.synth.ids import FloatArray, IntArray
from relgraph.synth.people import People
from relgraph.synth.records import CORE, Records
from relgraph.synth.sampling import cumsum_within, distinct, ragged

TYPOLOGIES: Final = PLANTED_TYPOLOGIES
"""Planted typologies, from the one enumeration in :mod:`relgraph.model`."""
CHAIN, CYCLE, SCATTER, FAN_IN, FAN_OUT = range(5)
PATTERNS_PER_CUSTOMER: Final = 1 / 1000
MIN_PATTERNS: Final = 10
MULE_SHARE: Final = 0.4
"""Share of pattern accounts (besides the origin) that were opened days before the pattern."""
START_FLOOR: Final = 5_000.0
"""Smallest amount (CNY) a pattern starts with."""
STRUCTURING_CAP: Final = 49_900.0
"""Fan transfers stay just below the 50,000 CNY large-transaction report."""


@dataclass(frozen=True)
class Planted:
    """Planted transfers (by internal account index) and the fresh accounts they use."""

    mules: Accounts
    source: IntArray
    target: IntArray
    amount: IntArray
    """In cents."""
    ts: IntArray
    """Epoch seconds."""
    pattern: IntArray
    typology: IntArray
    """Per pattern: index into TYPOLOGIES."""


def _slots(rng: np.random.Generator, typology: IntArray) -> tuple[IntArray, IntArray]:
    """Transfers per pattern (hops or spokes) and accounts it needs."""
    n = typology.size
    hops = rng.integers(3, 7, size=n)
    spokes = np.where(typology == SCATTER, rng.integers(3, 9, size=n), rng.integers(5, 16, size=n))
    size = np.select(
        [typology == CHAIN, typology == CYCLE, typology == SCATTER],
        [hops, hops, spokes],
        default=spokes,
    )
    n_accounts = np.select(
        [typology == CHAIN, typology == CYCLE, typology == SCATTER],
        [hops + 1, hops, spokes + 2],
        default=spokes + 1,
    )
    return size.astype(np.int64), n_accounts.astype(np.int64)


def _cycle_ends(
    rng: np.random.Generator, people: People, accounts: Accounts, main: IntArray, origin: IntArray
) -> IntArray:
    """Where a cycle returns: the origin, another account of its holder, or a household member."""
    n = origin.size
    owner = accounts.person[origin]
    held = np.flatnonzero(in_use(accounts))
    held = held[np.argsort(accounts.person[held], kind="stable")]
    lo = np.searchsorted(accounts.person[held], owner, side="left")
    count = np.searchsorted(accounts.person[held], owner, side="right") - lo
    pick = held[
        np.minimum(lo + (rng.random(n) * np.maximum(count - 1, 1)).astype(np.int64), held.size - 1)
    ]
    other_own = np.where(pick == origin, held[np.minimum(lo + count - 1, held.size - 1)], pick)
    other_own = np.where(count >= 2, other_own, origin)
    relative = people.households.other_member(rng, owner)
    relative_acct = np.where(relative >= 0, main[np.maximum(relative, 0)], -1)
    relative_acct = np.where(relative_acct >= 0, relative_acct, origin)
    u = rng.random(n)
    return np.select([u < 0.5, u < 0.75], [origin, other_own], default=relative_acct)


def accounts_of_last_resort(accounts: Accounts, n_persons: int) -> IntArray:
    """Per person: any customer account (for a bank too small to have active deposits)."""
    out = np.full(n_persons, -1, dtype=np.int64)
    own = np.flatnonzero(accounts.person >= 0)
    person, first = np.unique(accounts.person[own], return_index=True)
    out[person] = own[first]
    return out


def plan(
    rng: np.random.Generator,
    people: People,
    records: Records,
    accounts: Accounts,
    main: IntArray,
    customers: int,
) -> Planted:
    """Plant the laundering patterns.

    Parameters
    ----------
    rng
        Random stream.
    people, records, accounts
        The bank so far; ``accounts`` are the regular accounts (new ones are appended).
    main
        Per person: their main active deposit account (-1 if none).
    customers
        Size of the bank: about one pattern per 1,000 customers, at least ten.

    Returns
    -------
    Planted
        The patterns' transfers and their freshly opened accounts.
    """
    n_pat = max(MIN_PATTERNS, round(customers * PATTERNS_PER_CUSTOMER))
    typology = (np.arange(n_pat) % len(TYPOLOGIES)).astype(np.int64)
    size, n_acc = _slots(rng, typology)
    t0 = rng.integers(clock.WINDOW_START + clock.DAY, clock.WINDOW_END - 4 * clock.DAY, size=n_pat)
    start = rng.lognormal(np.log(150_000), 0.8, size=n_pat)
    floor = np.where(typology == SCATTER, 10 * START_FLOOR, START_FLOOR)
    start = np.clip(start, floor, 3e6)

    pool = np.flatnonzero(main >= 0)
    if pool.size == 0:
        pool = np.arange(people.n, dtype=np.int64)
        main = accounts_of_last_resort(accounts, people.n)
    origin_person = distinct(rng, pool, n_pat)
    pat, slot = ragged(n_acc)
    hh = people.households.household
    # Other parties come from outside the origins' households, so a cycle's way home is unique.
    rest = pool[~np.isin(hh[pool], hh[origin_person])]
    other = slot > 0
    mule = other & (rng.random(pat.size) < MULE_SHARE)
    existing = other & ~mule
    if rest.size < 4 * int(existing.sum()):
        mule, existing = other, np.zeros(pat.size, dtype=bool)
    acct = np.full(pat.size, -1, dtype=np.int64)
    acct[slot == 0] = main[origin_person]
    acct[existing] = main[distinct(rng, rest, int(existing.sum()))]
    n_mule = int(mule.sum())
    acct[mule] = accounts.n + np.arange(n_mule)
    core_persons = np.flatnonzero(records.rec_of[:, CORE] >= 0)
    mule_person = core_persons[rng.integers(0, core_persons.size, size=n_mule)]
    mules = Accounts(
        holder_kind=np.full(n_mule, CUSTOMER),
        holder=records.rec_of[mule_person, CORE],
        person=mule_person,
        product=np.full(n_mule, DEPOSIT),
        slot=np.ones(n_mule, dtype=np.int64),
        opened=t0[pat[mule]] // clock.DAY - rng.integers(3, 60, size=n_mule),
        balance=np.round(rng.lognormal(np.log(200), 1.0, size=n_mule) * 100).astype(np.int64),
        status=np.full(n_mule, ACTIVE),
    )
    grid = np.full((n_pat, int(n_acc.max())), -1, dtype=np.int64)
    grid[pat, slot] = acct
    # Only regular accounts can close a cycle: a fresh account may already sit inside it.
    end = _cycle_ends(rng, people, accounts, main, grid[:, 0])

    parts: list[tuple[IntArray, IntArray, FloatArray, FloatArray, IntArray]] = []
    # Chains and cycles: each hop passes on 85–99% after minutes to hours.
    hopping = np.flatnonzero((typology == CHAIN) | (typology == CYCLE))
    hp, hop = ragged(size[hopping])
    p = hopping[hp]
    skim = np.where(hop == 0, 1.0, rng.uniform(0.85, 0.99, size=hop.size))
    amount = start[p] * np.exp(cumsum_within(np.log(skim), hp, size[hopping]))
    dwell = np.where(hop == 0, 0.0, rng.uniform(5 * clock.MINUTE, 10 * clock.HOUR, size=hop.size))
    ts = t0[p] + cumsum_within(dwell, hp, size[hopping])
    last = hop == size[p] - 1
    nxt = np.where(
        last & (typology[p] == CYCLE), end[p], grid[p, np.minimum(hop + 1, grid.shape[1] - 1)]
    )
    parts.append((grid[p, hop], nxt, amount, ts, p))

    # Scatter-gather: split over several accounts within hours, re-joined within a day and a half.
    scatter = np.flatnonzero(typology == SCATTER)
    sp, j = ragged(size[scatter])
    p = scatter[sp]
    piece = start[p] / size[p] * rng.uniform(0.9, 1.1, size=j.size)
    t_split = t0[p] + rng.uniform(0, 4 * clock.HOUR, size=j.size)
    t_join = t_split + rng.uniform(30 * clock.MINUTE, 36 * clock.HOUR, size=j.size)
    middle = grid[p, 1 + j]
    parts.append((grid[p, 0], middle, piece, t_split, p))
    parts.append(
        (middle, grid[p, size[p] + 1], piece * rng.uniform(0.9, 0.99, size=j.size), t_join, p)
    )

    # Fan-in and fan-out: many transfers just below the reporting threshold within two days.
    for kind in (FAN_IN, FAN_OUT):
        fan = np.flatnonzero(typology == kind)
        fp, j = ragged(size[fan])
        p = fan[fp]
        low = 40_000.0 if kind == FAN_IN else 20_000.0
        each = rng.uniform(low, STRUCTURING_CAP, size=j.size)
        when = t0[p] + rng.uniform(0, 48 * clock.HOUR, size=j.size)
        hub, spoke = grid[p, 0], grid[p, 1 + j]
        src, dst = (spoke, hub) if kind == FAN_IN else (hub, spoke)
        parts.append((src, dst, each, when, p))

    return Planted(
        mules=mules,
        source=np.concatenate([x[0] for x in parts]),
        target=np.concatenate([x[1] for x in parts]),
        amount=np.round(np.concatenate([x[2] for x in parts]) * 100).astype(np.int64),
        ts=np.concatenate([x[3] for x in parts]).astype(np.int64),
        pattern=np.concatenate([x[4] for x in parts]),
        typology=typology,
    )
