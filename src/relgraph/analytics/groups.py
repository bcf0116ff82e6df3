"""Corporate groups: integrated ownership, ultimate controllers, group value and guarantee circles.

Definitions (what the tests hold the code to):

* **Integrated ownership.** ``A[i, j]`` is enterprise *i*'s direct share of enterprise
  *j*, ``P[p, j]`` person *p*'s. Summed over every ownership path, cross-holdings and
  cycles included, the integrated shares are ``P (I − A)⁻¹`` for persons and
  ``A (I − A)⁻¹`` for enterprises. ``I − A`` is block-diagonal over the connected
  parts of the enterprise–enterprise ownership graph, so each block is inverted
  exactly (batched by block size with ``numpy.linalg.inv``; a block of more than
  ``DENSE_BLOCK`` enterprises, such as a holding with thousands of subsidiaries, by a
  sparse LU factorisation) — no path is enumerated.
  A ring of enterprises holding 100% of each other has no outside holder and no inverse
  (the path sums diverge): its block's integrated shares are its direct shares.
* **Controller.** The holder with the largest integrated share of an enterprise, when
  that share is above ``majority`` (0.5), or else at least ``significant`` (0.25);
  otherwise the enterprise has none. Ties (two founders of a 50/50 firm) go to persons
  before enterprises, then to the person whose first customer record sorts first, or the
  enterprise with the smaller id: the bank's own keys, so every store of one bank names
  the same controller whatever its id secret.
* **Ultimate controller.** Follow controllers upward until a person or an enterprise
  without a controller; a ring of enterprises controlling each other is controlled by
  its smallest member. The enterprises with the same ultimate controller form one
  group, which the controller (when an enterprise) belongs to; an enterprise that
  neither is controlled nor controls another stands alone, in no group. A group's id is
  ``G`` followed by its controller's id.
* **Group value.** As :mod:`relgraph.analytics.value` defines it: members, and their
  summed deposits, loans (outstanding loan-account balances, each account once) and
  credit limits; guarantees given and received by members (``amount``, in CNY: one in
  another currency adds 0, no exchange rates being loaded); exposure =
  members' loans + guarantees members gave to parties outside the group (a guarantee
  between two members is not added). Products some member holds, and the gap.
* **Guarantee circles.** Strongly connected parts (2+ parties) of the guarantee graph
  over persons and enterprises, with the guarantees inside them (those close the
  circle). A group *has* a circle when a member or its controller is in one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import splu

from relgraph.analytics.params import GroupParams
from relgraph.analytics.person_order import record_rank
from relgraph.analytics.value import PartyValues, guarantees_outside, product_text, unit_values
from relgraph.graph import Projection
from relgraph.graph.types import IndexArray

FloatArray = npt.NDArray[np.float64]

DENSE_BLOCK = 256
"""Ownership blocks up to this many enterprises are inverted densely, batched by size.
A dense inverse costs size³ time and size² memory (a holding of 4,000 subsidiaries: 12 s
and 1.5 GB; of 8,000: minutes and several GB), whereas a real block's ownership paths are
few (a holding's tree has one per subsidiary), so a larger block is factorised sparsely."""
SOLVE_COLUMNS = 256
"""Columns of the identity solved at once against a sparse factorisation (bounds the
dense right-hand side to ``size × SOLVE_COLUMNS``)."""


@dataclass(frozen=True)
class Ownership:
    """Integrated shares as sparse matrices: ``persons[p, e]`` and ``enterprises[i, e]``."""

    persons: sp.csr_array
    enterprises: sp.csr_array


def share_matrices(projection: Projection) -> tuple[sp.csr_array, sp.csr_array]:
    """Direct shares: ``P`` (persons × enterprises) and ``A`` (enterprises × enterprises)."""
    n_p, n_e = len(projection.nodes["Person"]), len(projection.nodes["Enterprise"])
    person = projection.edge("Person", "SHAREHOLDER_OF", "Enterprise").to_scipy("share")
    enterprise = projection.edge("Enterprise", "SHAREHOLDER_OF", "Enterprise").to_scipy("share")
    # Both shapes are fixed by the edge sets (persons × enterprises, enterprises²).
    assert person.shape == (n_p, n_e)
    assert enterprise.shape == (n_e, n_e)
    return person, enterprise


def inverse_block_diagonal(a: sp.csr_array) -> sp.csr_array:
    """``(I − A)⁻¹`` for a square share matrix, inverting each connected block exactly.

    Parameters
    ----------
    a : csr_array, shape (n, n)
        Non-negative shares.

    Returns
    -------
    csr_array
        The inverse, with the sparsity of the blocks; for a block with no inverse (a ring
        of enterprises owning 100% of each other), ``I + A``: its direct shares.

    Examples
    --------
    Two companies holding 50% of each other: each unit of one is worth 4/3.

    >>> import numpy as np, scipy.sparse as sp
    >>> inv = inverse_block_diagonal(sp.csr_array(np.array([[0, 0.5], [0.5, 0]])))
    >>> np.round(inv.toarray(), 4).tolist()
    [[1.3333, 0.6667], [0.6667, 1.3333]]
    """
    n = a.shape[0]
    _, label = connected_components(a, directed=False)
    sizes = np.bincount(label, minlength=n)
    block_size = sizes[label]
    order = np.lexsort((np.arange(n), label))
    starts = np.r_[0, np.cumsum(sizes)][label[order]]
    local = np.empty(n, np.int64)
    local[order] = np.arange(n) - starts
    rows: list[IndexArray] = [np.flatnonzero(block_size == 1)]
    cols: list[IndexArray] = [rows[0]]
    vals: list[FloatArray] = [np.ones(len(rows[0]))]
    coo = a.tocoo()
    for block in np.unique(label[block_size > DENSE_BLOCK]).tolist():
        members = np.flatnonzero(label == block)
        large = _sparse_inverse(sp.csc_array(a[members][:, members]))
        rows.append(members[large.row])
        cols.append(members[large.col])
        vals.append(large.data.astype(np.float64))
    dense = (block_size > 1) & (block_size <= DENSE_BLOCK)
    for size in np.unique(block_size[dense]).tolist():
        blocks = np.unique(label[block_size == size])
        block_of = np.full(len(sizes), -1, np.int64)
        block_of[blocks] = np.arange(len(blocks))
        members = np.empty((len(blocks), size), np.int64)
        in_size = np.flatnonzero(block_size == size)
        members[block_of[label[in_size]], local[in_size]] = in_size
        stack = np.zeros((len(blocks), size, size))
        inside = block_of[label[coo.row]] >= 0
        r, c = coo.row[inside], coo.col[inside]
        stack[block_of[label[r]], local[r], local[c]] = coo.data[inside]
        try:
            inverse = np.linalg.inv(np.eye(size) - stack)
        except np.linalg.LinAlgError:
            inverse = np.stack([_inverse_or_direct(block) for block in stack])
        b, i, j = np.meshgrid(
            np.arange(len(blocks)), np.arange(size), np.arange(size), indexing="ij"
        )
        rows.append(members[b, i].ravel())
        cols.append(members[b, j].ravel())
        vals.append(np.asarray(inverse, dtype=np.float64).ravel())
    inv = sp.coo_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    ).tocsr()
    inv.eliminate_zeros()
    return inv


def _sparse_inverse(block: sp.csc_array) -> sp.coo_array:
    """``(I − A)⁻¹`` of one large block from a sparse LU factorisation, solved a slice of
    identity columns at a time; ``I + A`` for a closed ring, as :func:`_inverse_or_direct`."""
    n = block.shape[0]
    try:
        lu = splu(sp.csc_array(sp.eye_array(n, format="csc") - block))
    except RuntimeError:  # exactly singular: a closed ring
        return sp.coo_array(sp.eye_array(n) + block)
    rows: list[IndexArray] = []
    cols: list[IndexArray] = []
    vals: list[FloatArray] = []
    for start in range(0, n, SOLVE_COLUMNS):
        solved = lu.solve(np.eye(n, min(SOLVE_COLUMNS, n - start), -start))
        r, c = np.nonzero(solved)
        rows.append(r)
        cols.append(c + start)
        vals.append(solved[r, c])
    return sp.coo_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )


def _inverse_or_direct(block: FloatArray) -> FloatArray:
    """``(I − A)⁻¹`` of one block, or ``I + A`` for a closed ring (enterprises holding 100%
    of each other, no outside holder: the path sums diverge). Such a ring is a data error
    as often as not (one subsidiary exported from both sides); its direct shares still make
    each member control the next, so it is one group, not a failed ``analyze``."""
    eye = np.eye(len(block))
    try:
        return np.asarray(np.linalg.inv(eye - block), np.float64)
    except np.linalg.LinAlgError:
        return eye + block


def integrated_ownership(projection: Projection) -> Ownership:
    """Integrated shares of every person and enterprise in every enterprise."""
    p, a = share_matrices(projection)
    inv = inverse_block_diagonal(a)
    # A (I − A)⁻¹ = (I − A)⁻¹ − I.
    enterprises = (inv - sp.eye_array(inv.shape[0], format="csr")).tocsr()
    enterprises.data[np.abs(enterprises.data) < 1e-12] = 0.0
    enterprises.eliminate_zeros()
    return Ownership(persons=sp.csr_array(p @ inv), enterprises=sp.csr_array(enterprises))


@dataclass(frozen=True)
class Control:
    """Per enterprise: controller and ultimate controller as party indices (−1: none).

    Parties are persons ``0..n_persons-1`` then enterprises. ``group`` is the party index
    of the group's controller (−1 for an enterprise standing alone).
    """

    n_persons: int
    controller: IndexArray
    share: FloatArray
    ultimate: IndexArray
    group: IndexArray


def control(
    ownership: Ownership, params: GroupParams | None = None, person_rank: IndexArray | None = None
) -> Control:
    """Controllers, ultimate controllers and group membership from integrated ownership.

    ``person_rank``: the order ties between persons follow (default: their index;
    :func:`group_frames` gives :func:`~relgraph.analytics.person_order.record_rank`)."""
    params = params or GroupParams()
    n_p, n_e = ownership.persons.shape
    rank = np.concatenate(
        [np.arange(n_p) if person_rank is None else np.asarray(person_rank), n_p + np.arange(n_e)]
    )
    per = ownership.persons.tocoo()
    ent = ownership.enterprises.tocoo()
    holder = np.concatenate([per.row.astype(np.int64), ent.row.astype(np.int64) + n_p])
    target = np.concatenate([per.col, ent.col]).astype(np.int64)
    share = np.concatenate([per.data, ent.data])
    keep = (holder != target + n_p) & (share > 0)  # a ring's share in itself is no holder
    holder, target, share = holder[keep], target[keep], share[keep]
    # Ranked on shares to 12 places: the same share reached by two routes (a person's
    # direct stake, an enterprise's through a cross-holding) differs in its last bits,
    # which would overrule the tie rule below.
    order = np.lexsort((rank[holder], -np.round(share, 12), target))
    holder, target, share = holder[order], target[order], share[order]
    first = np.r_[True, target[1:] != target[:-1]] if len(target) else np.empty(0, bool)
    best_holder = np.full(n_e, -1, np.int64)
    best_share = np.zeros(n_e)
    best_holder[target[first]] = holder[first]
    best_share[target[first]] = share[first]
    controls = (best_share > params.majority) | (best_share >= params.significant)
    controller = np.where(controls, best_holder, -1)
    share_out = np.where(controls, best_share, 0.0)

    ultimate = _ultimate(controller, n_p)
    is_controller = np.zeros(n_e, bool)
    ctrl_enterprise = ultimate[ultimate >= n_p] - n_p
    is_controller[ctrl_enterprise] = True
    group = np.where(controller >= 0, ultimate, np.where(is_controller, np.arange(n_e) + n_p, -1))
    return Control(n_p, controller, share_out, ultimate, group)


def _ultimate(controller: IndexArray, n_p: int) -> IndexArray:
    """Follow controllers up to a person or an uncontrolled enterprise (pointer jumping)."""
    n_e = len(controller)
    # up[e]: the party above enterprise e, or e itself (as a party) at the top.
    up = np.where(controller >= 0, controller, np.arange(n_e) + n_p)
    for _ in range(max(1, int(np.ceil(np.log2(n_e + 1))) + 2)):
        enterprise_above = up >= n_p
        nxt = up.copy()
        nxt[enterprise_above] = up[up[enterprise_above] - n_p]
        if np.array_equal(nxt, up):
            break
        up = nxt
    # Rings never settle; each is controlled by its smallest member.
    ring = (up >= n_p) & (controller >= 0) & (controller[np.maximum(up - n_p, 0)] >= 0)
    if ring.any():
        members = np.flatnonzero(ring)
        _, label = connected_components(
            sp.coo_array(
                (np.ones(len(members)), (members, controller[members] - n_p)), shape=(n_e, n_e)
            ),
            directed=False,
        )
        smallest = np.full(n_e, n_e, np.int64)
        np.minimum.at(smallest, label[members], members)
        up[members] = smallest[label[members]] + n_p
    return np.where(controller >= 0, up, -1)


@dataclass(frozen=True)
class Circles:
    """Guarantee circles: per party its circle (−1 for none), and the closing guarantees."""

    label: IndexArray
    n_circles: int
    guarantor: IndexArray
    borrower: IndexArray
    amount: FloatArray
    edge_circle: IndexArray


def guarantee_edges(projection: Projection) -> tuple[IndexArray, IndexArray, FloatArray]:
    """All guarantees as (guarantor party, borrower party, amount)."""
    n_p = len(projection.nodes["Person"])
    offset = {"Person": 0, "Enterprise": n_p}
    g: list[IndexArray] = []
    b: list[IndexArray] = []
    amount: list[FloatArray] = []
    for es in projection.edges.values():
        if es.kind.rel != "GUARANTEES":
            continue
        g.append(es.src.astype(np.int64) + offset[es.kind.source])
        b.append(es.dst.astype(np.int64) + offset[es.kind.target])
        amount.append(es.attrs["amount"].to_numpy(np.float64))
    return np.concatenate(g), np.concatenate(b), np.concatenate(amount)


def guarantee_circles(projection: Projection) -> Circles:
    """Strongly connected parts of 2+ parties in the guarantee graph."""
    n = len(projection.nodes["Person"]) + len(projection.nodes["Enterprise"])
    g, b, amount = guarantee_edges(projection)
    graph = sp.coo_array((np.ones(len(g)), (g, b)), shape=(n, n)).tocsr()
    _, scc = connected_components(graph, directed=True, connection="strong")
    sizes = np.bincount(scc, minlength=n)
    in_circle = sizes[scc] >= 2
    # Circles numbered by smallest member, for ids that do not move between runs.
    first = np.full(n, n, np.int64)
    members = np.flatnonzero(in_circle)
    np.minimum.at(first, scc[members], members)
    circle_sccs = np.unique(scc[members])
    rank = np.full(n, -1, np.int64)
    rank[circle_sccs[np.argsort(first[circle_sccs], kind="stable")]] = np.arange(len(circle_sccs))
    label = np.where(in_circle, rank[scc], -1)
    closing = (label[g] >= 0) & (label[g] == label[b])
    return Circles(
        label, len(circle_sccs), g[closing], b[closing], amount[closing], label[g][closing]
    )


def group_values(
    projection: Projection, ctrl: Control, circles: Circles, values: PartyValues
) -> pd.DataFrame:
    """One row per group: controller, members and value (see the module docstring)."""
    n_p = ctrl.n_persons
    member = np.flatnonzero(ctrl.group >= 0)
    groups, group_of_member = np.unique(ctrl.group[member], return_inverse=True)
    n_g = len(groups)
    party_group = np.full(n_p + len(ctrl.group), -1, np.int64)
    party_group[member + n_p] = group_of_member
    totals = unit_values(values, party_group, n_g)
    g, b, amount = guarantee_edges(projection)
    given, received, given_outside = guarantees_outside(party_group, g, b, amount, n_g)
    in_circle = circles.label >= 0
    member_circle = np.bincount(
        group_of_member, weights=in_circle[member + n_p].astype(float), minlength=n_g
    )
    has_circle = (member_circle > 0) | in_circle[groups]
    return pd.DataFrame(
        {
            "controller": groups,
            "members": totals.size,
            "deposits": totals.deposits,
            "loans": totals.loans,
            "credit_limit": totals.credit_limit,
            "guarantees_given": given,
            "guarantees_received": received,
            "exposure": totals.loans + given_outside,
            "has_guarantee_circle": has_circle,
            "products": product_text(totals.held),
            "missing_products": product_text(~totals.held),
            "pending_products": product_text(totals.pending),
        }
    )


def party_ids(projection: Projection) -> npt.NDArray[np.object_]:
    """Ids of all parties: persons, then enterprises (the party index order)."""
    persons, enterprises = projection.nodes["Person"], projection.nodes["Enterprise"]
    return np.concatenate(
        [persons.id_of(np.arange(len(persons))), enterprises.id_of(np.arange(len(enterprises)))]
    ).astype(object)


def group_frames(
    projection: Projection, values: PartyValues, params: GroupParams | None = None
) -> dict[str, pd.DataFrame]:
    """The result tables of corporate groups and guarantee circles.

    ``enterprise_control`` (enterprise_id, controller_id, controller_share,
    ultimate_controller_id, group_id), ``integrated_ownership`` (holder_id, enterprise_id,
    share), ``corporate_groups`` (group_id, controller_id and the value columns of
    :func:`group_values`), ``guarantee_circles`` (circle_id, member_id) and
    ``guarantee_circle_edges`` (circle_id, guarantor_id, borrower_id, amount).
    """
    ids = party_ids(projection)
    n_p = len(projection.nodes["Person"])
    ownership = integrated_ownership(projection)
    ctrl = control(ownership, params, record_rank(projection, n_p))
    circles = guarantee_circles(projection)

    def name(index: IndexArray) -> npt.NDArray[np.object_]:
        out = np.full(len(index), None, dtype=object)
        has = index >= 0
        out[has] = ids[index[has]]
        return out

    group_id = np.full(len(ctrl.group), None, dtype=object)
    grouped = ctrl.group >= 0
    group_id[grouped] = "G" + ids[ctrl.group[grouped]].astype(str)
    enterprise_ids = ids[n_p:]
    per = ownership.persons.tocoo()
    ent = ownership.enterprises.tocoo()
    not_self = ent.row != ent.col
    integrated = pd.DataFrame(
        {
            "holder_id": np.concatenate([ids[per.row], enterprise_ids[ent.row[not_self]]]),
            "enterprise_id": np.concatenate(
                [enterprise_ids[per.col], enterprise_ids[ent.col[not_self]]]
            ),
            "share": np.concatenate([per.data, ent.data[not_self]]),
        }
    )
    table = group_values(projection, ctrl, circles, values)
    controller = table.pop("controller").to_numpy(np.int64)
    table.insert(0, "controller_id", ids[controller])
    table.insert(0, "group_id", "G" + ids[controller].astype(str))
    circle_first = np.full(circles.n_circles, len(ids), np.int64)
    members = np.flatnonzero(circles.label >= 0)
    np.minimum.at(circle_first, circles.label[members], members)
    circle_ids = np.asarray(["C" + str(x) for x in ids[circle_first]], dtype=object)
    return {
        "enterprise_control": pd.DataFrame(
            {
                "enterprise_id": enterprise_ids,
                "controller_id": name(ctrl.controller),
                "controller_share": ctrl.share,
                "ultimate_controller_id": name(ctrl.ultimate),
                "group_id": group_id,
            }
        ),
        "integrated_ownership": integrated,
        "corporate_groups": table,
        "guarantee_circles": pd.DataFrame(
            {"circle_id": circle_ids[circles.label[members]], "member_id": ids[members]}
        ),
        "guarantee_circle_edges": pd.DataFrame(
            {
                "circle_id": circle_ids[circles.edge_circle],
                "guarantor_id": ids[circles.guarantor],
                "borrower_id": ids[circles.borrower],
                "amount": circles.amount,
            }
        ),
    }
