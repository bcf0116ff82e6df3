"""An order of persons that is the same in every store of one bank.

Person ids are keyed by each store's id secret (``config``), so the same bank loaded into
two stores numbers its persons in two different orders. Whatever depends on that order —
Leiden's communities, the rounding of sums, the tie-break between equals — must take the
persons in an order of the bank's own keys instead: :func:`record_rank`.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from relgraph.graph import Projection
from relgraph.graph.types import IndexArray


def record_rank(projection: Projection, n: int) -> IndexArray:
    """Per person (of ``n``): its position when persons are ordered by their first customer
    record (records are ordered by customer id), those without a record last — an order
    of the bank's own keys, not of the store's keyed person ids.

    >>> import types
    >>> records = types.SimpleNamespace(attrs={"person": np.array([2, 0, 2])})
    >>> bank = types.SimpleNamespace(nodes={"CustomerRecord": records})
    >>> record_rank(bank, 4).tolist()
    [1, 2, 0, 3]
    """
    person = np.asarray(projection.nodes["CustomerRecord"].attrs["person"], np.int64)
    first = np.full(n, len(person), np.int64)
    np.minimum.at(first, person[person >= 0], np.flatnonzero(person >= 0))
    order = np.lexsort((np.arange(n), first))
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    return rank


def _sorted_places(text: pa.Array) -> IndexArray:
    """Per value of ``text``: its place when the values are sorted."""
    order = np.asarray(pc.sort_indices(text).to_numpy(), np.int64)
    place = np.empty(len(order), np.int64)
    place[order] = np.arange(len(order))
    return place


def party_rank(
    record_ids: pa.Array, record_party: IndexArray, n_persons: int, enterprise_ids: pa.Array
) -> IndexArray:
    """Per party (``n_persons`` persons, then the enterprises of ``enterprise_ids``): its
    place in the bank's own order — persons by their first customer record, as
    :func:`record_rank`, then enterprises by id. ``record_party`` is each record's person
    (−1: none).

    >>> records = pa.array(["C2", "C1", "C3"])
    >>> party_rank(records, np.array([0, 1, 0]), 2, pa.array(["E2", "E1"])).tolist()
    [1, 0, 3, 2]
    """
    n = n_persons + len(enterprise_ids)
    key = np.full(n, len(record_ids), np.int64)
    held = record_party >= 0
    np.minimum.at(key, record_party[held], _sorted_places(record_ids)[held])
    key[n_persons:] = len(record_ids) + 1 + _sorted_places(enterprise_ids)
    rank = np.empty(n, np.int64)
    rank[np.lexsort((np.arange(n), key))] = np.arange(n)
    return rank
