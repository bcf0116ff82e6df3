"""Person–person links: what two persons share, how strongly that ties them, and the evidence.

A link between persons *a* and *b* collects evidence of eight kinds: a shared device,
phone, email, address or id document; a declared family tie; a role (position or
shareholding) at the same enterprise; transfers between their accounts.

* A shared identifier used by *d* persons weighs ``weight / log2(d)`` (the Adamic–Adar
  idea: the more people share it, the less it says about any two of them). An
  identifier used by more than its ``max_*_sharers`` is *suppressed* — a branch
  kiosk, an office PC, a call-centre number — and is listed instead of used.
* A family tie weighs ``family_weight``.
* Transfers weigh ``transfer_weight × min(1, count / transfer_full_count)``. A party with
  more than ``max_transfer_partners`` distinct counterparties (:func:`transfer_hubs`: a
  landlord collecting rent from a building, a sole trader's shop, an employer) is a hub:
  its transfers are no evidence, as a kiosk's users share nothing but the kiosk.

The strength of a link combines its evidence as a noisy-OR, ``1 − Π(1 − wᵢ)``: it stays
in [0, 1], grows with every independent piece of evidence, and one certain piece
(a weight of 1) makes it 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from relgraph import model
from relgraph.analytics.params import NetworkParams
from relgraph.analytics.sets import unique
from relgraph.graph import Projection
from relgraph.graph.types import IndexArray

EVIDENCE_KINDS: Final = (
    "device",
    "phone",
    "email",
    "address",
    "id_document",
    "family",
    "enterprise",
    "transfer",
)
"""Evidence kinds, in the order their codes number them."""
KIND_CODE: Final = {kind: i for i, kind in enumerate(EVIDENCE_KINDS)}

IDENTIFIERS: Final[dict[str, tuple[model.RelType, model.NodeKind]]] = {
    "device": ("USES_DEVICE", "Device"),
    "phone": ("HAS_PHONE", "Phone"),
    "email": ("HAS_EMAIL", "Email"),
    "address": ("LIVES_AT", "Address"),
    "id_document": ("HAS_ID_DOCUMENT", "IdDocument"),
}
"""Identifier evidence kinds and the Person edge and node kind they come from."""

Int64Array = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class SharedPairs:
    """Every pair of persons sharing an identifier, and the identifiers too popular to use.

    Attributes
    ----------
    a, b : ndarray of int
        Person indices, ``a < b``, one row per (pair, identifier).
    node : ndarray of int
        The shared identifier of each row.
    sharers : ndarray of int
        How many persons use that identifier.
    suppressed, suppressed_sharers : ndarray of int
        Identifiers used by more than ``max_sharers`` persons, and by how many.
    """

    a: IndexArray
    b: IndexArray
    node: IndexArray
    sharers: Int64Array
    suppressed: IndexArray
    suppressed_sharers: Int64Array


def shared_pairs(person: IndexArray, node: IndexArray, max_sharers: int) -> SharedPairs:
    """Pairs of persons using the same node, from (person, node) incidence rows.

    Parameters
    ----------
    person, node : ndarray of int
        One row per use; repeated rows count once.
    max_sharers : int
        Nodes used by more persons are suppressed.

    Returns
    -------
    SharedPairs

    Examples
    --------
    >>> import numpy as np
    >>> sp = shared_pairs(np.array([0, 1, 2, 0, 3]), np.array([7, 7, 7, 8, 8]), 2)
    >>> sp.a.tolist(), sp.b.tolist(), sp.node.tolist(), sp.suppressed.tolist()
    ([0], [3], [8], [7])
    """
    order = np.lexsort((person, node))
    p, x = person[order].astype(np.int64), node[order].astype(np.int64)
    distinct = np.ones(len(p), bool)
    distinct[1:] = (p[1:] != p[:-1]) | (x[1:] != x[:-1])
    p, x = p[distinct], x[distinct]
    starts = np.flatnonzero(np.r_[True, x[1:] != x[:-1]]) if len(x) else np.empty(0, np.int64)
    sizes = np.diff(np.r_[starts, len(x)])
    too_many = sizes > max_sharers
    suppressed = x[starts[too_many]]
    group_size = np.repeat(sizes, sizes)
    keep = (group_size >= 2) & (group_size <= max_sharers)
    p, x, group_size = p[keep], x[keep], group_size[keep]
    # Rows of one node are contiguous and sorted by person: pair row i with row i + k for
    # every offset k below the group size, one vectorised pass per k (k < max_sharers).
    a: list[Int64Array] = []
    b: list[Int64Array] = []
    nodes: list[Int64Array] = []
    for k in range(1, int(group_size.max(initial=1))):
        same = x[:-k] == x[k:]
        a.append(p[:-k][same])
        b.append(p[k:][same])
        nodes.append(x[:-k][same])
    pair_node = np.concatenate(nodes) if nodes else np.empty(0, np.int64)
    sharers = _sizes_of(pair_node, x, group_size)
    return SharedPairs(
        a=np.concatenate(a).astype(np.int32) if a else np.empty(0, np.int32),
        b=np.concatenate(b).astype(np.int32) if b else np.empty(0, np.int32),
        node=pair_node.astype(np.int32),
        sharers=sharers,
        suppressed=suppressed.astype(np.int32),
        suppressed_sharers=sizes[too_many].astype(np.int64),
    )


def _sizes_of(query: Int64Array, nodes: Int64Array, sizes: Int64Array) -> Int64Array:
    """Group size of each queried node, by binary search in the sorted ``nodes``."""
    if len(query) == 0:
        return np.empty(0, np.int64)
    return np.asarray(sizes[np.searchsorted(nodes, query)], dtype=np.int64)


def identifier_weight(base: float, sharers: Int64Array) -> FloatArray:
    """``base / log2(sharers)``: 2 sharers give ``base``, each doubling takes a step off."""
    return np.minimum(base / np.log2(np.maximum(sharers, 2)), 1.0)


@dataclass(frozen=True)
class Evidence:
    """Evidence rows, one per (pair of persons, piece of evidence).

    ``ref`` is the identifier's or enterprise's node index, the family relation's index
    in ``model.RELATIONS``, or −1 for transfers; ``count`` is the identifier's sharers,
    or the number of transfers.
    """

    a: IndexArray
    b: IndexArray
    kind: npt.NDArray[np.int8]
    ref: IndexArray
    weight: FloatArray
    count: Int64Array

    @staticmethod
    def concat(parts: list[Evidence]) -> Evidence:
        return Evidence(
            *(
                np.concatenate([getattr(p, f) for p in parts])
                for f in ("a", "b", "kind", "ref", "weight", "count")
            )
        )

    def take(self, rows: IndexArray) -> Evidence:
        return Evidence(
            self.a[rows],
            self.b[rows],
            self.kind[rows],
            self.ref[rows],
            self.weight[rows],
            self.count[rows],
        )


def _evidence(
    kind: str, a: IndexArray, b: IndexArray, ref: IndexArray, weight: FloatArray, count: Int64Array
) -> Evidence:
    return Evidence(
        a.astype(np.int32),
        b.astype(np.int32),
        np.full(len(a), KIND_CODE[kind], np.int8),
        ref.astype(np.int32),
        weight.astype(np.float64),
        count.astype(np.int64),
    )


@dataclass(frozen=True)
class Links:
    """Person–person links with their strength and evidence.

    Attributes
    ----------
    n_persons : int
    a, b : ndarray of int32
        Link endpoints (person indices), ``a < b``, sorted by (a, b).
    strength : ndarray of float
        Noisy-OR of the link's evidence weights.
    evidence : Evidence
        Sorted by link; ``evidence_link[i]`` is the link of row ``i``.
    evidence_link : ndarray of int
    transfer_link, transfer_edge : ndarray of int
        Transfers listed as evidence: the link and the ``Account-TRANSFER->Account`` edge.
    suppressed : DataFrame
        ``kind``, ``node`` (index in the kind's node table), ``id``, ``persons``.
    """

    n_persons: int
    a: IndexArray
    b: IndexArray
    strength: FloatArray
    evidence: Evidence
    evidence_link: IndexArray
    transfer_link: IndexArray
    transfer_edge: IndexArray
    suppressed: pd.DataFrame

    def __len__(self) -> int:
        return len(self.a)

    def strong(self, threshold: float) -> npt.NDArray[np.bool_]:
        return self.strength >= threshold


def _identifier_evidence(
    projection: Projection, kind: str, max_sharers: int, base: float
) -> tuple[Evidence, pd.DataFrame]:
    rel, node_kind = IDENTIFIERS[kind]
    edges = projection.edge("Person", rel, node_kind)
    shared = shared_pairs(edges.src, edges.dst, max_sharers)
    weight = identifier_weight(base, shared.sharers)
    suppressed = pd.DataFrame(
        {
            "kind": kind,
            "node": shared.suppressed,
            "id": projection.nodes[node_kind].id_of(shared.suppressed),
            "persons": shared.suppressed_sharers,
        }
    )
    return _evidence(kind, shared.a, shared.b, shared.node, weight, shared.sharers), suppressed


def _enterprise_evidence(
    projection: Projection, params: NetworkParams
) -> tuple[Evidence, pd.DataFrame]:
    positions = projection.edge("Person", "POSITION_AT", "Enterprise")
    holdings = projection.edge("Person", "SHAREHOLDER_OF", "Enterprise")
    person = np.concatenate([positions.src, holdings.src])
    enterprise = np.concatenate([positions.dst, holdings.dst])
    shared = shared_pairs(person, enterprise, params.max_enterprise_sharers)
    weight = identifier_weight(params.enterprise_weight, shared.sharers)
    suppressed = pd.DataFrame(
        {
            "kind": "enterprise",
            "node": shared.suppressed,
            "id": projection.nodes["Enterprise"].id_of(shared.suppressed),
            "persons": shared.suppressed_sharers,
        }
    )
    return (
        _evidence("enterprise", shared.a, shared.b, shared.node, weight, shared.sharers),
        suppressed,
    )


def _family_evidence(projection: Projection, params: NetworkParams) -> Evidence:
    family = projection.edge("Person", "FAMILY", "Person")
    a = np.minimum(family.src, family.dst)
    b = np.maximum(family.src, family.dst)
    relation = pd.Categorical(family.attrs["relation"], categories=model.RELATIONS).codes
    # A tie declared from both sides is one piece of evidence; the first relation in
    # model.RELATIONS order names it.
    order = np.lexsort((relation, b, a))
    a, b, relation = a[order], b[order], relation[order]
    first = np.r_[True, (a[1:] != a[:-1]) | (b[1:] != b[:-1])] if len(a) else np.empty(0, bool)
    a, b, relation = a[first], b[first], relation[first]
    weight = np.full(len(a), params.family_weight)
    return _evidence("family", a, b, relation.astype(np.int64), weight, np.ones(len(a), np.int64))


def transfer_parties(projection: Projection) -> IndexArray:
    """Per account: its holder as a party — persons ``0..n_persons-1``, then enterprises
    (``n_persons + enterprise index``); −1 for an account without a known holder."""
    n_p = len(projection.nodes["Person"])
    accounts = projection.nodes["Account"].attrs
    person = accounts["person"].to_numpy(np.int64)
    enterprise = accounts["enterprise"].to_numpy(np.int64)
    return np.where(person >= 0, person, np.where(enterprise >= 0, enterprise + n_p, -1))


def transfer_hubs(projection: Projection, max_partners: int) -> npt.NDArray[np.bool_]:
    """Per party (persons, then enterprises): paying or paid by more than ``max_partners``
    distinct parties.

    A hub's counterparties share a payee or a payer, not a relationship: a landlord's
    3,000 tenants, a sole trader's customers, an employer's staff. Money through a hub
    ties no one to anyone, the hub included (its family is found by what else they share).

    Examples
    --------
    On the hand-made bank of ``tests/docbank.py`` nobody pays or is paid by many.

    >>> bool(transfer_hubs(projection, 50).any())
    False
    """
    n = len(projection.nodes["Person"]) + len(projection.nodes["Enterprise"])
    transfers = projection.edge("Account", "TRANSFER", "Account")
    party = transfer_parties(projection)
    a, b = party[transfers.src], party[transfers.dst]
    between = (a >= 0) & (b >= 0) & (a != b)
    lo, hi = np.minimum(a[between], b[between]), np.maximum(a[between], b[between])
    return hubs_of_pairs(lo * n + hi, n, max_partners)


def hubs_of_pairs(keys: Int64Array, n: int, max_partners: int) -> npt.NDArray[np.bool_]:
    """:func:`transfer_hubs` from the transfers' party pairs (``lo * n + hi``, ``lo < hi``,
    repeats allowed), for a caller that has them already."""
    distinct = unique(keys)
    partners = np.bincount(np.concatenate([distinct // n, distinct % n]), minlength=n)
    return np.asarray(partners > max_partners, dtype=np.bool_)


def _transfer_evidence(
    projection: Projection, params: NetworkParams
) -> tuple[Evidence, Int64Array, IndexArray]:
    """Transfer evidence per person pair, hubs left out, plus (pair key, edge) of the
    transfers listed."""
    n = len(projection.nodes["Person"])
    transfers = projection.edge("Account", "TRANSFER", "Account")
    holder = projection.nodes["Account"].attrs["person"].to_numpy(np.int64)
    pa_, pb_ = holder[transfers.src], holder[transfers.dst]
    hub = np.r_[transfer_hubs(projection, params.max_transfer_partners)[:n], False]
    between = np.flatnonzero((pa_ >= 0) & (pb_ >= 0) & (pa_ != pb_) & ~hub[pa_] & ~hub[pb_])
    a = np.minimum(pa_[between], pb_[between])
    b = np.maximum(pa_[between], pb_[between])
    key = a * n + b
    ts = transfers.attrs["ts"].to_numpy(np.int64)[between]
    order = np.lexsort((ts, key))
    key, edge = key[order], between[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.empty(0, np.int64)
    counts = np.diff(np.r_[starts, len(key)])
    pair = key[starts]
    weight = params.transfer_weight * np.minimum(1.0, counts / params.transfer_full_count)
    rank = np.arange(len(key)) - np.repeat(starts, counts)
    listed = rank < params.max_transfer_evidence
    evidence = _evidence(
        "transfer", pair // n, pair % n, np.full(len(pair), -1), weight, counts.astype(np.int64)
    )
    return evidence, key[listed], edge[listed].astype(np.int32)


def person_links(projection: Projection, params: NetworkParams | None = None) -> Links:
    """Every person–person link of the projection, with strength and evidence.

    Parameters
    ----------
    projection : Projection
    params : NetworkParams, optional
        Weights and suppression thresholds; defaults when omitted.

    Returns
    -------
    Links
    """
    params = params or NetworkParams()
    n = len(projection.nodes["Person"])
    parts: list[Evidence] = []
    suppressed: list[pd.DataFrame] = []
    for kind in IDENTIFIERS:
        max_sharers = int(getattr(params, f"max_{kind}_sharers"))
        part, gone = _identifier_evidence(
            projection, kind, max_sharers, float(getattr(params, f"{kind}_weight"))
        )
        parts.append(part)
        suppressed.append(gone)
    part, gone = _enterprise_evidence(projection, params)
    parts.append(part)
    suppressed.append(gone)
    parts.append(_family_evidence(projection, params))
    transfer, transfer_key, transfer_edge = _transfer_evidence(projection, params)
    parts.append(transfer)

    evidence = Evidence.concat(parts)
    key = evidence.a.astype(np.int64) * n + evidence.b
    order = np.lexsort((evidence.ref, evidence.kind, key))
    evidence, key = evidence.take(order), key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.empty(0, np.int64)
    link_key = key[starts]
    evidence_link = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(key)]))
    with np.errstate(divide="ignore"):
        log_miss = np.log1p(-np.clip(evidence.weight, 0.0, 1.0))
    miss = np.exp(np.add.reduceat(log_miss, starts)) if len(starts) else np.empty(0)
    return Links(
        n_persons=n,
        a=(link_key // n).astype(np.int32),
        b=(link_key % n).astype(np.int32),
        strength=1.0 - miss,
        evidence=evidence,
        evidence_link=evidence_link.astype(np.int32),
        transfer_link=np.searchsorted(link_key, transfer_key).astype(np.int32),
        transfer_edge=transfer_edge,
        suppressed=pd.concat(suppressed, ignore_index=True),
    )
