"""Hidden relationship networks: connected components over strong person–person links.

Definition (what the tests hold the code to):

* Links and their strength are those of :mod:`relgraph.analytics.person_links` — shared
  identifiers weighted down by their popularity, public identifiers suppressed, family
  ties, shared enterprise roles and transfers, combined as a noisy-OR.
* A link is *strong* when its strength is at least ``strong_link`` (0.5): one private
  identifier shared by two people, a family tie, three transfers, or several weaker
  pieces together. An address alone (flatmates) or one transfer is not enough.
* A network is a connected component of the strong links; every person is in exactly
  one network, most of them alone.
* A component larger than ``max_network_size`` is split into communities with the
  Leiden algorithm (igraph, modularity, link strength as weight, fixed seed); a
  community still too large is split again at twice the resolution. Leiden takes the
  persons in the order of their first customer record (by customer id) and the links in
  that order: person ids are keyed by each store's secret, and an order of theirs would
  split the same bank differently in two stores. A risk analyst
  reads a network of fifty; a component of thousands is a sign of evidence that
  should have been suppressed, and the split keeps its tightly knit parts.
* A network's id is ``N`` followed by the hex digits of its smallest member's person
  id, so it stays the same across re-runs on unchanged data.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from relgraph.analytics.evidence import evidence_frame
from relgraph.analytics.params import NetworkParams
from relgraph.analytics.person_links import Links, person_links
from relgraph.analytics.person_order import record_rank
from relgraph.analytics.sets import isin
from relgraph.engines.base import GraphEngine
from relgraph.graph import Projection
from relgraph.graph.types import IndexArray

_IGRAPH_RNG = threading.Lock()
"""igraph has one process-wide random number generator: splits set theirs under this lock."""

MAX_LEIDEN_ITERATIONS = 100
"""Leiden iterations per split at most; it stops sooner once an iteration changes nothing
or raises modularity by nothing (2–5 on the networks of the three independent evaluation
banks, 100,000 customers each)."""

MAX_SPLIT_ROUNDS = 6
"""Community rounds (each at twice the resolution) before a network is left as it is;
every engine uses the same number, so they split alike."""


@dataclass(frozen=True)
class Networks:
    """Every person's hidden network.

    Attributes
    ----------
    links : Links
        All links (strong or not) with their evidence.
    label : ndarray of int
        Per person: the index of its network, numbered by smallest member.
    ids : ndarray of str
        Per network: its id.
    size : ndarray of int
        Per network: member count.
    split : ndarray of bool
        Per network: whether it is a community of a larger component.
    """

    links: Links
    label: IndexArray
    ids: npt.NDArray[np.object_]
    size: npt.NDArray[np.int64]
    split: npt.NDArray[np.bool_]


def components(n: int, a: IndexArray, b: IndexArray) -> IndexArray:
    """Connected-component label of each of ``n`` nodes given undirected edges ``a``–``b``."""
    graph = sp.coo_array((np.ones(len(a), np.int8), (a, b)), shape=(n, n)).tocsr()
    _, labels = connected_components(graph, directed=False)
    return np.asarray(labels, dtype=np.int64)


Communities = Callable[[IndexArray, IndexArray, float, int], IndexArray]
"""``communities(members, groups, resolution, round)``: a community number for each of
``members`` (node indices) splitting its group (``groups``, one per member) at Leiden
``resolution``; numbers need only be distinct across the call's groups."""


def split_rounds(
    label: IndexArray, max_size: int, communities: Communities
) -> tuple[IndexArray, npt.NDArray[np.bool_]]:
    """Split every group of ``label`` above ``max_size`` into communities, round by round.

    The one split driver every engine uses: each round takes the groups still above
    ``max_size``, asks ``communities`` for their split at the round's resolution (1, then
    doubling), and stops when none is too large or after :data:`MAX_SPLIT_ROUNDS`
    rounds (a group that never splits is left as it is).

    >>> halves = lambda members, groups, resolution, round_: members % 2
    >>> label, was_split = split_rounds(np.array([0, 0, 0, 1]), 2, halves)
    >>> label.tolist(), was_split.tolist()
    ([2, 3, 2, 1], [True, True, True, False])
    """
    label = label.copy()
    was_split = np.zeros(len(label), bool)
    next_label = int(label.max(initial=-1)) + 1
    resolution = 1.0
    for round_ in range(MAX_SPLIT_ROUNDS):
        large = np.flatnonzero(np.bincount(label) > max_size)
        if len(large) == 0:
            break
        members = np.flatnonzero(isin(label, large))
        community = np.asarray(communities(members, label[members], resolution, round_))
        label[members] = next_label + community
        next_label += int(community.max(initial=0)) + 1
        was_split[members] = True
        resolution *= 2
    return label, was_split


def split_large(
    label: IndexArray,
    a: IndexArray,
    b: IndexArray,
    weight: npt.NDArray[np.float64],
    max_size: int,
    seed: int,
) -> tuple[IndexArray, npt.NDArray[np.bool_]]:
    """Split every group of ``label`` above ``max_size`` into Leiden communities (igraph).

    Parameters
    ----------
    label : ndarray of int
        Group of each node.
    a, b, weight : ndarray
        Undirected weighted edges (only edges inside a group matter).
    max_size : int
    seed : int
        Seed of igraph's random numbers; same input and seed, same communities.

    Returns
    -------
    label : ndarray of int
        New group labels (arbitrary numbers; callers renumber).
    was_split : ndarray of bool
        Per node: whether its group came from a split.
    """
    inside = label[a] == label[b]
    a, b, weight = a[inside], b[inside], weight[inside]

    def leiden(
        members: IndexArray, groups: IndexArray, resolution: float, round_: int
    ) -> IndexArray:
        # Here, only once a group is too large: igraph loads matplotlib.pyplot when it is
        # installed (validate's plots), 0.65 s of every `analyze` that never splits.
        import igraph

        group_of = np.full(len(label), -1, np.int64)
        group_of[members] = groups
        local = np.full(len(label), -1, np.int64)
        community = np.empty(len(members), np.int64)
        offset = 0
        for group in np.unique(groups).tolist():
            mine = np.flatnonzero(groups == group)
            local[members[mine]] = np.arange(len(mine))
            edges = np.flatnonzero((group_of[a] == group) & (group_of[b] == group))
            graph = igraph.Graph(
                n=len(mine), edges=np.column_stack([local[a[edges]], local[b[edges]]]).tolist()
            )
            parts = _leiden(graph, weight[edges].tolist(), resolution, f"{seed}:{round_}:{group}")
            membership = np.asarray(parts.membership, dtype=np.int64)
            community[mine] = offset + membership
            offset += int(membership.max(initial=0)) + 1
        return community

    return split_rounds(label, max_size, leiden)


def _leiden(graph: Any, weights: list[float], resolution: float, seed: str) -> Any:
    """Leiden with a generator of its own, seeded per call from ``seed``.

    igraph draws from one process-wide generator. A fresh one per call, set under
    ``_IGRAPH_RNG`` and the default put back after, makes each split depend only on its
    group and the seed: not on other splits running in other threads, on what they did
    with ``random`` meanwhile, nor on the order groups were split in. igraph calls back into
    Python for every draw, so another thread can run between two draws: code setting
    igraph's generator without this lock could still interleave (relgraph has none).
    """
    import igraph  # only where a split runs (see split_large)

    rng = random.Random(seed)  # noqa: S311 - reproducible community splits, not secrets
    with _IGRAPH_RNG:
        igraph.set_random_number_generator(rng)
        try:
            # One iteration at a time until one changes nothing or gains nothing: igraph's
            # own "until stable" (n_iterations=-1) never returned on a 59-person network of
            # a held-out evaluation bank, moving members between partitions of one quality.
            parts = None
            for _ in range(MAX_LEIDEN_ITERATIONS):
                again = graph.community_leiden(
                    objective_function="modularity",
                    weights=weights,
                    resolution=resolution,
                    n_iterations=1,
                    initial_membership=None if parts is None else parts.membership,
                )
                if parts is not None and (
                    again.membership == parts.membership or again.quality <= parts.quality
                ):
                    break
                parts = again
            return parts
        finally:
            igraph.set_random_number_generator(random)


def canonical_links(
    rank: IndexArray, a: IndexArray, b: IndexArray, weight: npt.NDArray[np.float64]
) -> tuple[IndexArray, IndexArray, npt.NDArray[np.float64]]:
    """Links renumbered by ``rank`` (:func:`record_rank`), smaller end first, in order.

    >>> a, b, w = canonical_links(np.array([2, 0, 1]), np.array([0, 1]), np.array([1, 2]),
    ...                           np.array([0.5, 0.7]))
    >>> a.tolist(), b.tolist(), w.tolist()
    ([0, 0], [1, 2], [0.7, 0.5])
    """
    ra, rb = rank[a], rank[b]
    lo, hi = np.minimum(ra, rb), np.maximum(ra, rb)
    order = np.lexsort((hi, lo))
    return lo[order], hi[order], np.asarray(weight, np.float64)[order]


def renumber(label: IndexArray) -> IndexArray:
    """Labels renumbered 0.. in order of each group's smallest member (stable across runs)."""
    n = len(label)
    first = np.full(int(label.max(initial=-1)) + 1, n, np.int64)
    np.minimum.at(first, label, np.arange(n))
    used = np.flatnonzero(first < n)
    rank = np.empty(len(first), np.int64)
    rank[used[np.argsort(first[used], kind="stable")]] = np.arange(len(used))
    return rank[label]


def group_ids(
    prefix: str, label: IndexArray, person_ids: npt.NDArray[np.object_]
) -> npt.NDArray[np.object_]:
    """Id of each group (numbered as :func:`renumber` does): prefix + its first member's id digits."""
    n_groups = int(label.max(initial=-1)) + 1
    first = np.full(n_groups, len(label), np.int64)
    np.minimum.at(first, label, np.arange(len(label)))

    firsts = pa.array(person_ids[first], pa.string())
    ids = pc.utf8_replace_slice(firsts, start=0, stop=1, replacement=prefix)
    return np.asarray(ids.to_numpy(zero_copy_only=False), dtype=object)


def hidden_networks(
    projection: Projection,
    params: NetworkParams | None = None,
    links: Links | None = None,
    engine: GraphEngine | None = None,
) -> Networks:
    """Hidden relationship networks of every person in ``projection``.

    Parameters
    ----------
    projection : Projection
    params : NetworkParams, optional
    links : Links, optional
        Precomputed :func:`~relgraph.analytics.person_links.person_links` (same params).
    engine : GraphEngine, optional
        Where components and communities are computed; this process by default.

    Returns
    -------
    Networks

    Examples
    --------
    On the hand-made bank of ``tests/docbank.py``: the two strangers who share a private
    tablet are one network; six persons make four networks.

    >>> networks = hidden_networks(projection)
    >>> bool(networks.label[person("C3")] == networks.label[person("C4")])
    True
    >>> len(networks.ids)
    4
    """
    params = params or NetworkParams()
    links = links if links is not None else person_links(projection, params)
    n = links.n_persons
    strong = links.strong(params.strong_link)
    person_ids = np.asarray(projection.nodes["Person"].id_of(np.arange(n)), dtype=object)
    # Communities depend on the order persons and links reach Leiden. Person ids are keyed
    # by the store's secret, so their order differs from store to store: take persons in
    # the order of their first customer record instead, and links in that order too, so
    # one bank loaded twice gives the same networks.
    rank = record_rank(projection, n)
    a, b, w = canonical_links(rank, links.a[strong], links.b[strong], links.strength[strong])
    ids = np.empty(n, dtype=object)
    ids[rank] = person_ids
    if engine is None:
        label = components(n, a, b)
        label, was_split = split_large(label, a, b, w, params.max_network_size, params.seed)
    else:
        label = engine.components(ids, a, b, w)
        label, was_split = engine.split_large(
            ids, label, a, b, w, params.max_network_size, params.seed
        )
    label, was_split = label[rank], was_split[rank]
    label = renumber(label)
    size = np.bincount(label, minlength=int(label.max(initial=-1)) + 1).astype(np.int64)
    split = np.zeros(len(size), bool)
    split[label[was_split]] = True
    return Networks(links, label, group_ids("N", label, person_ids), size, split)


def network_frames(projection: Projection, networks: Networks) -> dict[str, pd.DataFrame]:
    """The result tables written to the store.

    ``person_networks`` (person_id, network_id), ``networks`` (network_id, size, split),
    ``network_links`` (person_a, person_b, strength, network_id: null when the link
    crosses networks), ``network_evidence`` (person_a, person_b, kind, ref, weight,
    count) and ``suppressed_identifiers`` (kind, id, persons).
    """

    persons = projection.nodes["Person"]
    person_ids = np.asarray(persons.id_of(np.arange(len(persons))), dtype=object)
    links = networks.links
    same = networks.label[links.a] == networks.label[links.b]
    link_network = networks.ids[networks.label[links.a]].copy()
    link_network[~same] = None
    return {
        "person_networks": pd.DataFrame(
            {"person_id": person_ids, "network_id": networks.ids[networks.label]}
        ),
        "networks": pd.DataFrame(
            {"network_id": networks.ids, "size": networks.size, "split": networks.split}
        ),
        "network_links": pd.DataFrame(
            {
                "person_a": person_ids[links.a],
                "person_b": person_ids[links.b],
                "strength": links.strength,
                "network_id": link_network,
            }
        ),
        "network_evidence": evidence_frame(projection, links),
        "suppressed_identifiers": links.suppressed[["kind", "id", "persons"]].reset_index(
            drop=True
        ),
    }
