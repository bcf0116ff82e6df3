"""Declared family ties: part of the households tell the bank who is spouse, parent, child, sibling."""

from __future__ import annotations

from typing import Final

import numpy as np
import pyarrow as pa

from relgraph import model
from relgraph.synth.frame import Coded, Frame
from relgraph.synth.households import HEAD, INVERSE_RELATION, ROLE_RELATION
from relgraph.synth.ids import IntArray
from relgraph.synth.people import People
from relgraph.synth.records import Records

DECLARED_SHARE: Final = 0.6
"""Share of multi-person households whose ties are declared."""
BOTH_WAYS_SHARE: Final = 0.4
"""Share of declared ties also declared from the relative's side."""


def any_record(rng: np.random.Generator, records: Records, persons: IntArray) -> IntArray:
    """A random one of each person's customer records."""
    rec = records.rec_of[persons]
    keys = np.where(rec >= 0, rng.random(rec.shape), np.inf)
    return np.asarray(rec[np.arange(persons.size), np.argmin(keys, axis=1)], dtype=np.int64)


def build(rng: np.random.Generator, people: People, records: Records) -> Frame:
    """Declare family ties between household heads and the other members.

    Parameters
    ----------
    rng
        Random stream.
    people, records
        Households and the records a tie is filed under (usually the main one).

    Returns
    -------
    Frame
        The ``family`` table, rows in random order; ``relation`` is what ``relative_id`` is
        to ``customer_id``.
    """
    hh = people.households
    declared = (hh.size > 1) & (rng.random(hh.n_households) < DECLARED_SHARE)
    member = np.flatnonzero(declared[hh.household] & (hh.role != HEAD))
    head = hh.head()[member]
    role = hh.role[member]

    def record_of(persons: IntArray) -> IntArray:
        main = records.primary[persons]
        return np.where(rng.random(persons.size) < 0.8, main, any_record(rng, records, persons))

    head_rec, member_rec = record_of(head), record_of(member)
    relation_labels = list(model.RELATIONS)
    forward = np.array([relation_labels.index(r) for r in ROLE_RELATION])[role]
    backward = np.array([relation_labels.index(r) for r in INVERSE_RELATION])[role]
    # In-laws and step-relations end up as "other" now and then.
    other = relation_labels.index("other")
    forward = np.where(rng.random(member.size) < 0.03, other, forward)
    both = rng.random(member.size) < BOTH_WAYS_SHARE
    customer = np.concatenate([head_rec, member_rec[both]])
    relative = np.concatenate([member_rec, head_rec[both]])
    relation = np.concatenate([forward, backward[both]]).astype(np.int64)
    order = rng.permutation(customer.size)
    return Frame(
        model.FAMILY,
        {
            "customer_id": Coded(customer[order], records.customer_id),
            "relative_id": Coded(relative[order], records.customer_id),
            "relation": Coded(relation[order], pa.array(relation_labels)),
        },
    )
