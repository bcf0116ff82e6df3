"""Loan guarantees: an acyclic background, guarantee chains, and planted guarantee circles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from relgraph import model
from relgraph.synth.enterprises import CUSTOMER, ENTERPRISE, UTILITY, Enterprises
from relgraph.synth.frame import Coded, Fixed, Frame
from relgraph.synth.ids import IntArray, numbers_text
from relgraph.synth.records import LOAN, Records
from relgraph.synth.sampling import distinct, ragged

CIRCLE_SIZES: Final = (0.3, 0.3, 0.25, 0.15)
"""Share of planted circles with 2, 3, 4, 5 members."""


@dataclass(frozen=True)
class Guarantees:
    """The guarantees table and the planted circles."""

    frame: Frame
    circles: Any
    """Truth table (circle_key, member_id)."""


def build(
    rng: np.random.Generator, enterprises: Enterprises, records: Records, customers: int
) -> Guarantees:
    """Draw who guarantees whose loans.

    Parties are enterprises (``0..E-1``) and persons (``E + person``). Background guarantees
    and chains only run from a lower to a higher position of one random ranking of all
    parties, so they form no cycle; circles are drawn among parties kept out of them.

    Parameters
    ----------
    rng
        Random stream.
    enterprises, records
        Parties (a person guarantees under their loan-system record when they have one).
    customers
        Size of the bank (scales the number of circles and chains).

    Returns
    -------
    Guarantees
        The table (rows in random order) and the circles' members.
    """
    n_ent = enterprises.n
    n_persons = records.rec_of.shape[0]
    firms = np.flatnonzero(enterprises.kind != UTILITY)
    persons = np.arange(n_persons, dtype=np.int64)

    n_circles = max(2, customers // 5000)
    size = rng.choice(len(CIRCLE_SIZES), size=n_circles, p=CIRCLE_SIZES) + 2
    circle, slot = ragged(size.astype(np.int64))
    is_firm = rng.random(circle.size) < 0.75
    n_firm = min(int(is_firm.sum()), max(firms.size - 4, 0))
    is_firm[np.flatnonzero(is_firm)[n_firm:]] = False
    members = np.empty(circle.size, dtype=np.int64)
    members[is_firm] = distinct(rng, firms, int(is_firm.sum()))
    members[~is_firm] = n_ent + distinct(rng, persons, int((~is_firm).sum()))
    nxt = np.arange(circle.size) + 1
    last = slot == size[circle] - 1
    nxt[last] -= size[circle[last]]
    c_from, c_to = members, members[nxt]

    # Everyone outside the circles, ranked once: edges only go up the ranking.
    party = np.concatenate([firms, n_ent + persons])
    party = party[~np.isin(party, members)]
    rank = np.full(n_ent + n_persons, -1, dtype=np.int64)
    rank[party] = rng.permutation(party.size)
    bg_firms = party[party < n_ent]
    bg_persons = party[party >= n_ent]
    n_bg = round(0.6 * firms.size) + n_persons // 100
    mix = rng.choice(4, size=n_bg, p=(0.5, 0.35, 0.1, 0.05))
    a = np.where(np.isin(mix, (0, 3)), bg_firms[rng.integers(0, bg_firms.size, n_bg)], 0)
    a = np.where(np.isin(mix, (1, 2)), bg_persons[rng.integers(0, bg_persons.size, n_bg)], a)
    b = np.where(mix <= 1, bg_firms[rng.integers(0, bg_firms.size, n_bg)], 0)
    b = np.where(mix >= 2, bg_persons[rng.integers(0, bg_persons.size, n_bg)], b)
    n_chains = max(1, customers // 2000)
    chain_len = rng.integers(3, 7, size=n_chains)
    chain, _ = ragged(chain_len)
    hop = party[rng.integers(0, party.size, size=chain.size)]
    by_rank = np.lexsort((rank[hop], chain))
    hop = hop[by_rank]
    link = np.flatnonzero(chain[1:] == chain[:-1])
    a = np.concatenate([a, hop[link]])
    b = np.concatenate([b, hop[link + 1]])
    low = np.where(rank[a] < rank[b], a, b)
    high = np.where(rank[a] < rank[b], b, a)
    ok = low != high
    g_from = np.concatenate([low[ok], c_from])
    g_to = np.concatenate([high[ok], c_to])
    unique = ~pd.DataFrame({"f": g_from, "t": g_to}).duplicated().to_numpy()
    g_from, g_to = g_from[unique], g_to[unique]

    m = g_from.size
    g_kind = np.where(g_from < n_ent, ENTERPRISE, CUSTOMER)
    b_kind = np.where(g_to < n_ent, ENTERPRISE, CUSTOMER)
    scale = np.where(g_kind == ENTERPRISE, 5e6, 5e5)
    amount = np.maximum(np.round(rng.lognormal(0, 0.9, size=m) * scale / 1e4) * 1e4, 1e4)

    def code(p: IntArray) -> IntArray:
        # Persons are named by their loan-system record when they have one.
        person_rec = records.record_for(np.maximum(p - n_ent, 0), LOAN)
        return np.where(p < n_ent, records.n + p, person_rec)

    ids = pa.concat_arrays([records.customer_id, enterprises.enterprise_id])
    kinds = pa.array(list(model.PARTY_KINDS))
    order = rng.permutation(m)
    frame = Frame(
        model.GUARANTEES,
        {
            "guarantor_id": Coded(code(g_from)[order], ids),
            "borrower_id": Coded(code(g_to)[order], ids),
            "guarantor_kind": Coded(g_kind[order], kinds),
            "borrower_kind": Coded(b_kind[order], kinds),
            "amount": Fixed((amount[order] * 100).astype(np.int64)),
        },
    )
    circles = pa.table(
        {
            "circle_key": pc.binary_replace_slice(numbers_text(circle + 10_001), 0, 1, "GC"),
            "member_id": ids.take(pa.array(code(members))),
        }
    )
    return Guarantees(frame, circles)
