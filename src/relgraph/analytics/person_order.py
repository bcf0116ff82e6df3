"""An order of persons that is the same in every store of one bank.

Person ids are keyed by each store's id secret (``config``), so the same bank loaded into
two stores numbers its persons in two different orders. Whatever depends on that order —
Leiden's communities, the rounding of sums, the tie-break between equals — must take the
persons in an order of the bank's own keys instead: :func:`record_rank`.
"""

from __future__ import annotations

import numpy as np

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
