"""Linked accounts: accounts whose holders are tied to an account's holder, with the evidence path.

Definition:

* The traversal runs over *parties* (persons and enterprises). Two persons are tied by a
  link of :mod:`relgraph.analytics.person_links` (shared device, phone, email, address or id
  document, family tie, shared enterprise role, transfers); a person is tied to an
  enterprise where they hold a position or shares (``enterprise`` evidence, weight
  ``enterprise_weight``); a party is tied to an enterprise it exchanged money with
  (``transfer`` evidence, weighed as between persons). A party with more than
  ``max_transfer_partners`` counterparties (a merchant, an employer, a utility) is a hub:
  money through it ties no one to anyone.
* ``via`` chooses the evidence kinds a hop may use; a tie's strength counts only the
  chosen kinds (noisy-OR, as for links).
* An account is linked at *k* hops when its holder is reached after *k* ties and not
  fewer; the holder's own other accounts are linked at 0 hops. Among the shortest
  paths the strongest (product of tie strengths) is reported, with the evidence of each
  hop; ties broken by the smaller party index, so answers are repeatable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from relgraph import model
from relgraph.analytics.params import NetworkParams
from relgraph.analytics.person_links import (
    EVIDENCE_KINDS,
    IDENTIFIERS,
    KIND_CODE,
    Links,
    hubs_of_pairs,
    transfer_parties,
)
from relgraph.graph import Projection, TraversalLimitError
from relgraph.graph.types import IndexArray

MAX_HOPS: Final = 4
MAX_EVIDENCE_PER_HOP: Final = 10
ALL_KINDS: Final = frozenset(EVIDENCE_KINDS)


@dataclass(frozen=True)
class PartyGraph:
    """Ties between parties (persons ``0..n_persons-1``, then enterprises) in CSR form.

    ``miss[t, k]`` is the product of ``1 − weight`` over tie ``t``'s evidence of kind
    ``k``; ``evidence_*`` list each tie's evidence (kind code and reference; transfers
    are referenced through ``tx_tie``/``tx_edge``), sorted by tie;
    ``accounts_ptr``/``accounts`` list each party's accounts.
    """

    n_persons: int
    party_ids: npt.NDArray[np.object_]
    indptr: IndexArray
    neighbor: IndexArray
    tie_of: IndexArray
    miss: npt.NDArray[np.float32]
    evidence_ptr: IndexArray
    evidence_kind: npt.NDArray[np.int8]
    evidence_ref: npt.NDArray[np.object_]
    tx_tie: IndexArray
    tx_edge: IndexArray
    tx_ids: npt.NDArray[np.object_]
    holder: IndexArray
    accounts_ptr: IndexArray
    accounts: IndexArray
    account_ids: pd.Index

    @property
    def n_parties(self) -> int:
        return len(self.party_ids)

    def transfers_of(self, tie: int) -> list[str]:
        """The tx ids listed as evidence of ``tie`` (oldest first)."""
        lo, hi = np.searchsorted(self.tx_tie, [tie, tie + 1])
        return [str(t) for t in self.tx_ids[self.tx_edge[lo:hi]]]


@dataclass(frozen=True)
class Hop:
    """One tie along a path: the parties it joins and the evidence that ties them."""

    source: int
    target: int
    strength: float
    evidence: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class LinkedAccount:
    account: int
    holder: int
    hops: int
    strength: float
    path: tuple[Hop, ...]


def _ties(
    a: npt.NDArray[np.int64],
    b: npt.NDArray[np.int64],
    kind: npt.NDArray[np.int64] | int,
    weight: npt.NDArray[np.float64] | float,
    ref: npt.NDArray[np.object_] | str,
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lo": np.minimum(a, b),
            "hi": np.maximum(a, b),
            "kind": kind,
            "weight": weight,
            "ref": ref,
        },
        index=pd.RangeIndex(len(a)),
    )


def _listed(
    keys: npt.NDArray[np.int64], rank_by: npt.NDArray[np.int64], cap: int
) -> npt.NDArray[np.int64]:
    """Positions of the first ``cap`` rows of every key, ordered by key then ``rank_by``."""
    order = np.lexsort((rank_by, keys))
    k = keys[order]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]]) if len(k) else np.empty(0, np.int64)
    rank = np.arange(len(k)) - np.repeat(starts, np.diff(np.r_[starts, len(k)]))
    return np.asarray(order[rank < cap], dtype=np.int64)


def build_party_graph(
    projection: Projection, links: Links, params: NetworkParams | None = None
) -> PartyGraph:
    """The tie graph :func:`linked_accounts` walks, built once per projection.

    Parameters
    ----------
    projection : Projection
    links : Links
        Person–person links (:func:`~relgraph.analytics.person_links.person_links`).
    params : NetworkParams, optional
        ``enterprise_weight``, transfer weights and ``max_transfer_partners``.
    """
    params = params or NetworkParams()
    persons, enterprises = projection.nodes["Person"], projection.nodes["Enterprise"]
    n_p = len(persons)
    party_ids = np.concatenate(
        [persons.id_of(np.arange(n_p)), enterprises.id_of(np.arange(len(enterprises)))]
    ).astype(object)
    n = len(party_ids)

    # Person–person evidence, with readable references (transfers listed separately).
    ev = links.evidence
    ref = np.full(len(ev.a), "", dtype=object)
    for kind, (_, node_kind) in IDENTIFIERS.items():
        rows = np.flatnonzero(ev.kind == KIND_CODE[kind])
        ref[rows] = projection.nodes[node_kind].id_of(ev.ref[rows])
    rows = np.flatnonzero(ev.kind == KIND_CODE["enterprise"])
    ref[rows] = enterprises.id_of(ev.ref[rows])
    rows = np.flatnonzero(ev.kind == KIND_CODE["family"])
    ref[rows] = np.asarray(model.RELATIONS, dtype=object)[ev.ref[rows]]
    parts = [
        _ties(
            ev.a.astype(np.int64), ev.b.astype(np.int64), ev.kind.astype(np.int64), ev.weight, ref
        )
    ]
    tx_keys = [links.a[links.transfer_link].astype(np.int64) * n + links.b[links.transfer_link]]
    tx_edges = [links.transfer_edge.astype(np.int64)]

    # Person–enterprise roles: the position held, or "shareholder".
    positions = projection.edge("Person", "POSITION_AT", "Enterprise")
    parts.append(
        _ties(
            positions.src.astype(np.int64),
            positions.dst.astype(np.int64) + n_p,
            KIND_CODE["enterprise"],
            params.enterprise_weight,
            positions.attrs["role"].to_numpy(object),
        )
    )
    holdings = projection.edge("Person", "SHAREHOLDER_OF", "Enterprise")
    parts.append(
        _ties(
            holdings.src.astype(np.int64),
            holdings.dst.astype(np.int64) + n_p,
            KIND_CODE["enterprise"],
            params.enterprise_weight,
            "shareholder",
        )
    )
    enterprise_money, keys, edges = _enterprise_transfers(projection, params, n_p)
    parts.append(enterprise_money)
    tx_keys.append(keys)
    tx_edges.append(edges)

    ties = pd.concat(parts, ignore_index=True)
    key = ties["lo"].to_numpy(np.int64) * n + ties["hi"].to_numpy(np.int64)
    order = np.lexsort((ties["kind"].to_numpy(), key))
    key = key[order]
    kinds = ties["kind"].to_numpy(np.int64)[order]
    weight = np.clip(ties["weight"].to_numpy(np.float64)[order], 0.0, 1.0)
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.empty(0, np.int64)
    tie_key = key[starts]
    tie_index = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(key)]))
    miss = np.ones((len(starts), len(EVIDENCE_KINDS)), np.float64)
    np.multiply.at(miss, (tie_index, kinds), 1.0 - weight)
    lo, hi = tie_key // max(n, 1), tie_key % max(n, 1)

    # Symmetric CSR over parties.
    src = np.concatenate([lo, hi])
    dst = np.concatenate([hi, lo])
    tie_of = np.concatenate([np.arange(len(starts)), np.arange(len(starts))])
    by_source = np.lexsort((dst, src))
    indptr = np.searchsorted(src[by_source], np.arange(n + 1)).astype(np.int64)

    all_tx_keys = np.concatenate(tx_keys)
    tx_tie = np.searchsorted(tie_key, all_tx_keys)
    tx_order = np.argsort(tx_tie, kind="stable")
    transfers = projection.edge("Account", "TRANSFER", "Account")

    accounts = projection.nodes["Account"]
    holder = accounts.attrs["person"].to_numpy(np.int64)
    enterprise_holder = accounts.attrs["enterprise"].to_numpy(np.int64)
    holder = np.where(holder >= 0, holder, enterprise_holder + n_p)
    by_holder = np.argsort(holder, kind="stable")
    return PartyGraph(
        n_persons=n_p,
        party_ids=party_ids,
        indptr=indptr,
        neighbor=dst[by_source],
        tie_of=tie_of[by_source],
        miss=miss.astype(np.float32),
        evidence_ptr=np.r_[starts, len(key)].astype(np.int64),
        evidence_kind=kinds.astype(np.int8),
        evidence_ref=ties["ref"].to_numpy(object)[order],
        tx_tie=tx_tie[tx_order].astype(np.int64),
        tx_edge=np.concatenate(tx_edges)[tx_order],
        tx_ids=transfers.attrs["tx_id"].to_numpy(object),
        holder=holder,
        accounts_ptr=np.searchsorted(holder[by_holder], np.arange(n + 1)).astype(np.int64),
        accounts=by_holder.astype(np.int64),
        account_ids=pd.Index(accounts.id_of(np.arange(len(accounts)))),
    )


def _enterprise_transfers(
    projection: Projection, params: NetworkParams, n_p: int
) -> tuple[pd.DataFrame, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Transfer ties with an enterprise on a side, hubs left out; and the transfers listed."""
    n = n_p + len(projection.nodes["Enterprise"])
    party = transfer_parties(projection)
    transfers = projection.edge("Account", "TRANSFER", "Account")
    a, b = party[transfers.src], party[transfers.dst]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    edge = np.flatnonzero((lo != hi) & (lo >= 0))
    key = lo[edge] * n + hi[edge]
    hub = hubs_of_pairs(key, n, params.max_transfer_partners)  # the pairs just made
    keep = (hi[edge] >= n_p) & ~hub[lo[edge]] & ~hub[hi[edge]]
    edge, key = edge[keep], key[keep]
    pair, counts = np.unique(key, return_counts=True)
    weight = params.transfer_weight * np.minimum(1.0, counts / params.transfer_full_count)
    ties = _ties(pair // n, pair % n, KIND_CODE["transfer"], weight, "")
    ts = transfers.attrs["ts"].to_numpy(np.int64)[edge]
    listed = _listed(key, ts, params.max_transfer_evidence)
    return ties, key[listed], edge[listed].astype(np.int64)


@dataclass(frozen=True)
class LinkedAccounts:
    """The answer of :func:`linked_accounts`: accounts in answer order, paths on demand.

    ``account``, ``holder``, ``hops`` and ``strength`` are parallel arrays; ``path(i)``
    gives the hops from the start account's holder to ``holder[i]``.
    """

    graph: PartyGraph
    via: frozenset[str]
    account: IndexArray
    holder: IndexArray
    hops: npt.NDArray[np.int64]
    strength: npt.NDArray[np.float64]
    parent: IndexArray
    parent_tie: IndexArray
    tie_strength: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.account)

    def __getitem__(self, i: int) -> LinkedAccount:
        return LinkedAccount(
            int(self.account[i]),
            int(self.holder[i]),
            int(self.hops[i]),
            float(self.strength[i]),
            self.path(i),
        )

    def path(self, i: int) -> tuple[Hop, ...]:
        """The evidence path to the holder of answer ``i``, from the start's holder."""
        graph, party = self.graph, int(self.holder[i])
        hops: list[Hop] = []
        while self.parent[party] >= 0:
            source, tie = int(self.parent[party]), int(self.parent_tie[party])
            lo, hi = graph.evidence_ptr[tie], graph.evidence_ptr[tie + 1]
            evidence: list[tuple[str, str]] = []
            for k, ref in zip(
                graph.evidence_kind[lo:hi].tolist(), graph.evidence_ref[lo:hi].tolist(), strict=True
            ):
                kind = EVIDENCE_KINDS[k]
                if kind == "transfer" and kind in self.via:
                    evidence += [(kind, tx) for tx in graph.transfers_of(tie)]
                elif kind in self.via:
                    evidence.append((kind, str(ref)))
            strength = float(self.tie_strength[party])
            hops.append(Hop(source, party, strength, tuple(evidence[:MAX_EVIDENCE_PER_HOP])))
            party = source
        return tuple(reversed(hops))


def linked_accounts(
    graph: PartyGraph,
    account: int,
    max_hops: int,
    via: frozenset[str] = ALL_KINDS,
    max_parties: int = 50_000,
) -> LinkedAccounts:
    """Accounts linked to ``account`` within ``max_hops`` ties of the chosen kinds.

    Parameters
    ----------
    graph : PartyGraph
    account : int
        Index of the account in the projection's Account nodes.
    max_hops : int
        1 to ``MAX_HOPS``.
    via : frozenset of str
        Evidence kinds a tie may use (``links.EVIDENCE_KINDS``).
    max_parties : int
        Raise :class:`~relgraph.graph.TraversalLimitError` when more parties are reached.

    Returns
    -------
    LinkedAccounts
        Ordered by hops, then strength (strongest first), then account id; the start
        account itself is left out.

    Examples
    --------
    张强's account A3 in ``tests/docbank.py`` reaches 刘洋's account A4 through their
    shared tablet:

    >>> from relgraph.analytics.person_links import person_links
    >>> from relgraph.analytics.params import NetworkParams
    >>> params = NetworkParams()
    >>> graph = build_party_graph(projection, person_links(projection, params), params)
    >>> found = linked_accounts(graph, account=account("A3"), max_hops=2, via=frozenset({"device"}))
    >>> found[0].hops, found.path(0)[0].evidence
    (1, (('device', 'D2'),))
    """
    if not 1 <= max_hops <= MAX_HOPS:
        raise ValueError(f"max_hops must be between 1 and {MAX_HOPS}, not {max_hops}")
    unknown = via - ALL_KINDS
    if unknown or not via:
        raise ValueError(f"via must name some of {', '.join(EVIDENCE_KINDS)}")
    columns = np.array(sorted(KIND_CODE[k] for k in via))
    n = graph.n_parties
    start = int(graph.holder[account])
    hops_of = np.full(n, -1, np.int64)
    best = np.zeros(n)
    parent = np.full(n, -1, np.int64)
    parent_tie = np.full(n, -1, np.int64)
    tie_strength = np.zeros(n)
    hops_of[start], best[start] = 0, 1.0
    frontier = np.array([start], np.int64)
    reached = 1
    for hop in range(1, max_hops + 1):
        first = graph.indptr[frontier]
        count = graph.indptr[frontier + 1] - first
        total = int(count.sum())
        if total == 0:
            break
        pos = np.repeat(first - np.cumsum(count) + count, count) + np.arange(total)
        source = np.repeat(frontier, count)
        target, tie = graph.neighbor[pos], graph.tie_of[pos]
        strength = 1.0 - np.prod(graph.miss[tie][:, columns], axis=1, dtype=np.float64)
        usable = (strength > 0) & (hops_of[target] < 0)
        source, target, tie, strength = (
            source[usable],
            target[usable],
            tie[usable],
            strength[usable],
        )
        if len(target) == 0:
            break
        path = best[source] * strength
        # Per target the strongest parent; the smaller source breaks ties.
        order = np.lexsort((source, -path, target))
        target, source, tie, strength, path = (
            x[order] for x in (target, source, tie, strength, path)
        )
        keep = np.r_[True, target[1:] != target[:-1]]
        target = target[keep]
        hops_of[target], best[target] = hop, path[keep]
        parent[target], parent_tie[target], tie_strength[target] = (
            source[keep],
            tie[keep],
            strength[keep],
        )
        reached += len(target)
        if reached > max_parties:
            raise TraversalLimitError(f"more than {max_parties:,} parties reached")
        frontier = target
    parties = np.flatnonzero(hops_of >= 0)
    first = graph.accounts_ptr[parties]
    count = graph.accounts_ptr[parties + 1] - first
    pos = np.repeat(first - np.cumsum(count) + count, count) + np.arange(int(count.sum()))
    accounts = graph.accounts[pos]
    holder = np.repeat(parties, count)
    others = accounts != account
    accounts, holder = accounts[others], holder[others]
    # Account indices follow id order, so the last key sorts by account id.
    order = np.lexsort((accounts, -best[holder], hops_of[holder]))
    accounts, holder = accounts[order], holder[order]
    return LinkedAccounts(
        graph,
        via,
        accounts,
        holder,
        hops_of[holder],
        best[holder],
        parent,
        parent_tie,
        tie_strength,
    )
