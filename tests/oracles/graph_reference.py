"""Straightforward networkx versions of the networks and households definitions, as the reference.

Written for reading, not speed: loops over identifiers, pairs from
``itertools.combinations``, components from networkx. Tests assert that the vectorised
analytics give exactly these results on small banks, and the benchmarks report how much
faster the vectorised ones are. Not used in production.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Mapping
from itertools import combinations
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt
import pandas as pd

from relgraph import model
from relgraph.analytics.households import GENERATION_YEARS, surname_codes
from relgraph.analytics.networks import split_large
from relgraph.analytics.params import HouseholdParams, NetworkParams
from relgraph.analytics.person_links import IDENTIFIERS
from relgraph.graph import Projection

Pair = tuple[int, int]


def _users(projection: Projection, rel: model.RelType, kind: model.NodeKind) -> dict[int, set[int]]:
    users: dict[int, set[int]] = defaultdict(set)
    edges = projection.edge("Person", rel, kind)
    for person, node in zip(edges.src.tolist(), edges.dst.tolist(), strict=True):
        users[node].add(person)
    return users


def _shared(users: Mapping[Any, set[int]], max_sharers: int) -> dict[Pair, list[int]]:
    """Pair → sizes of the identifiers the pair shares (suppressed identifiers left out)."""
    pairs: dict[Pair, list[int]] = defaultdict(list)
    for persons in users.values():
        if 2 <= len(persons) <= max_sharers:
            for a, b in combinations(sorted(persons), 2):
                pairs[(a, b)].append(len(persons))
    return pairs


def _transfer_counts(projection: Projection) -> dict[Pair, int]:
    holder = projection.nodes["Account"].attrs["person"].tolist()
    transfers = projection.edge("Account", "TRANSFER", "Account")
    counts: dict[Pair, int] = defaultdict(int)
    for s, d in zip(transfers.src.tolist(), transfers.dst.tolist(), strict=True):
        a, b = holder[s], holder[d]
        if a >= 0 and b >= 0 and a != b:
            counts[(min(a, b), max(a, b))] += 1
    return counts


def _transfer_hubs(projection: Projection, max_partners: int) -> set[int]:
    """Persons paying or paid by more than ``max_partners`` distinct parties (persons or
    enterprises): their transfers are no network evidence."""
    n_p = len(projection.nodes["Person"])
    person = projection.nodes["Account"].attrs["person"].tolist()
    enterprise = projection.nodes["Account"].attrs["enterprise"].tolist()
    party = [
        p if p >= 0 else (e + n_p if e >= 0 else -1)
        for p, e in zip(person, enterprise, strict=True)
    ]
    partners: dict[int, set[int]] = defaultdict(set)
    transfers = projection.edge("Account", "TRANSFER", "Account")
    for s, d in zip(transfers.src.tolist(), transfers.dst.tolist(), strict=True):
        a, b = party[s], party[d]
        if a >= 0 and b >= 0 and a != b:
            partners[a].add(b)
            partners[b].add(a)
    return {p for p, others in partners.items() if p < n_p and len(others) > max_partners}


def _family_pairs(projection: Projection) -> set[Pair]:
    family = projection.edge("Person", "FAMILY", "Person")
    return {
        (min(a, b), max(a, b))
        for a, b in zip(family.src.tolist(), family.dst.tolist(), strict=True)
    }


def _family_relations(projection: Projection) -> dict[Pair, str]:
    """Each declared pair and its relation (the first in ``model.RELATIONS`` order when the
    pair declared several)."""
    family = projection.edge("Person", "FAMILY", "Person")
    found: dict[Pair, str] = {}
    for a, b, relation in zip(
        family.src.tolist(), family.dst.tolist(), family.attrs["relation"].tolist(), strict=True
    ):
        pair = (min(a, b), max(a, b))
        if pair not in found or model.RELATIONS.index(relation) < model.RELATIONS.index(
            found[pair]
        ):
            found[pair] = relation
    return found


def link_strengths(projection: Projection, params: NetworkParams) -> dict[Pair, float]:
    """Pair of persons → link strength, by the definition in :mod:`relgraph.analytics.person_links`."""
    weights: dict[Pair, list[float]] = defaultdict(list)
    for kind, (rel, node_kind) in IDENTIFIERS.items():
        base = float(getattr(params, f"{kind}_weight"))
        cap = int(getattr(params, f"max_{kind}_sharers"))
        for pair, sizes in _shared(_users(projection, rel, node_kind), cap).items():
            weights[pair] += [min(base / math.log2(d), 1.0) for d in sizes]
    roles = _users(projection, "POSITION_AT", "Enterprise")
    for node, persons in _users(projection, "SHAREHOLDER_OF", "Enterprise").items():
        roles[node] |= persons
    for pair, sizes in _shared(roles, params.max_enterprise_sharers).items():
        weights[pair] += [min(params.enterprise_weight / math.log2(d), 1.0) for d in sizes]
    for pair in _family_pairs(projection):
        weights[pair].append(params.family_weight)
    hubs = _transfer_hubs(projection, params.max_transfer_partners)
    for pair, count in _transfer_counts(projection).items():
        if pair[0] in hubs or pair[1] in hubs:
            continue
        weights[pair].append(params.transfer_weight * min(1.0, count / params.transfer_full_count))
    return {pair: 1.0 - math.prod(1.0 - min(w, 1.0) for w in ws) for pair, ws in weights.items()}


def _labels_by_first_member(groups: list[set[int]], n: int) -> npt.NDArray[np.int64]:
    label = np.empty(n, np.int64)
    for i, members in enumerate(sorted(groups, key=min)):
        label[list(members)] = i
    return label


def network_labels(projection: Projection, params: NetworkParams) -> npt.NDArray[np.int64]:
    """Per person: its network, numbered by smallest member."""
    n = len(projection.nodes["Person"])
    strengths = link_strengths(projection, params)
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    strong = {pair: s for pair, s in strengths.items() if s >= params.strong_link}
    graph.add_edges_from(strong)
    label = _labels_by_first_member(list(nx.connected_components(graph)), n)
    if np.bincount(label).max(initial=0) > params.max_network_size:
        # Leiden takes persons in the order of their first customer record, and links
        # in that order: the same networks whatever order the store's person ids sort in.
        records = projection.nodes["CustomerRecord"].attrs["person"].tolist()
        first: dict[int, int] = {}
        for record, person in enumerate(records):
            first.setdefault(int(person), record)
        order = sorted(range(n), key=lambda person: (first.get(person, len(records)), person))
        rank = {person: i for i, person in enumerate(order)}
        canon = {tuple(sorted((rank[x], rank[y]))): s for (x, y), s in strong.items()}
        pairs = sorted(canon)
        a = np.array([p[0] for p in pairs], np.int64)
        b = np.array([p[1] for p in pairs], np.int64)
        w = np.array([canon[p] for p in pairs])
        in_order = _labels_by_first_member(
            [{rank[p] for p in g} for g in nx.connected_components(graph)], n
        )
        split, _ = split_large(in_order, a, b, w, params.max_network_size, params.seed)
        groups: dict[int, set[int]] = defaultdict(set)
        for person in range(n):
            groups[int(split[rank[person]])].add(person)
        label = _labels_by_first_member(list(groups.values()), n)
    return label


_YEAR_MS = 365.2425 * 24 * 3600 * 1000


def _flats_of(projection: Projection) -> dict[int, set[str]]:
    """Person → flats (first and last number of each address with both)."""
    flats: dict[int, set[str]] = defaultdict(set)
    addresses = projection.nodes["Address"].id_of(range(len(projection.nodes["Address"])))
    lives = projection.edge("Person", "LIVES_AT", "Address")
    for p, x in zip(lives.src.tolist(), lives.dst.tolist(), strict=True):
        first = re.match(r"^\D*(\d+)", str(addresses[x]))
        last = re.search(r"(\d+)\D*$", str(addresses[x]))
        if first and last:
            flats[p].add(first.group(1) + "|" + last.group(1))
    return flats


def _generations(projection: Projection, a: int, b: int) -> bool | None:
    """Whether two persons are a generation apart; None when an age is unknown."""
    birth = projection.nodes["Person"].attrs["birth_date"]
    x, y = birth.iloc[a], birth.iloc[b]
    if pd.isna(x) or pd.isna(y):
        return None
    return bool(abs(float(x) - float(y)) >= GENERATION_YEARS * _YEAR_MS)


def _shorter_forms(address: str) -> set[str]:
    """The texts ``address`` could also be written as: without its unit, without the
    divisions in front of one of its levels, or both."""
    head, tail = re.match(r"^([^0-9]*)(.*)$", address).groups()  # type: ignore[union-attr]
    cuts = [i + 1 for i, ch in enumerate(head[:-1]) if ch in "省市区县州盟旗"][:4]
    heads = {head} | {head[c:] for c in cuts}
    tails = {tail, re.sub(r"[0-9]+单元", "", tail)}
    return {h + t for h in heads for t in tails} - {address}


def _residents(projection: Projection) -> dict[str, set[int]]:
    """Dwelling → the persons whose records give it: every address in its dashes spelled out,
    each one put at the one full form (an address no other is longer than) it is a shorter
    form of, when there is exactly one."""
    nodes = projection.nodes["Address"]
    texts = [str(t) for t in nodes.id_of(range(len(nodes)))]
    spelled = [
        re.sub(r"([\u4e00-\u9fff])([0-9]+)-([0-9]+)-([0-9]+)$", r"\1\2栋\3单元\4室", t)
        for t in texts
    ]
    known = set(spelled)
    forms = {t: _shorter_forms(t) & known for t in known}
    shorter = {f for fs in forms.values() for f in fs}
    full = [t for t in known if t not in shorter]
    dwelling = {}
    for t in known:
        fits = [b for b in full if t in forms[b]]
        dwelling[t] = fits[0] if len(fits) == 1 else t
    residents: dict[str, set[int]] = defaultdict(set)
    for node, persons in _users(projection, "LIVES_AT", "Address").items():
        residents[dwelling[spelled[node]]] |= persons
    return residents


def household_labels(projection: Projection, params: HouseholdParams) -> npt.NDArray[np.int64]:
    """Per person: its household, numbered by smallest member."""
    n = len(projection.nodes["Person"])
    flats = _flats_of(projection)
    birth = projection.nodes["Person"].attrs["birth_date"]

    def left_home(pair: Pair) -> bool:
        if not _generations(projection, *pair):
            return False
        a, b = pair
        younger, older = (a, b) if float(birth.iloc[a]) > float(birth.iloc[b]) else (b, a)
        return len(flats[younger]) > 1 and bool(flats[younger] - flats[older])

    address = set(_shared(_residents(projection), params.max_address_sharers))
    private: set[Pair] = set()
    for rel, kind, cap in (
        ("USES_DEVICE", "Device", params.max_device_sharers),
        ("HAS_PHONE", "Phone", params.max_phone_sharers),
        ("HAS_EMAIL", "Email", params.max_device_sharers),
    ):
        private |= set(_shared(_users(projection, rel, kind), cap))
    transfers = set(_transfer_counts(projection))
    surname = surname_codes(projection).tolist()
    has_address = set(projection.edge("Person", "LIVES_AT", "Address").src.tolist())

    family = {
        pair
        for pair, relation in _family_relations(projection).items()
        if relation not in ("parent", "child")  # a parent and a child: under one roof only
        or pair[0] not in has_address
        or pair[1] not in has_address
        or (pair in address and not left_home(pair))
    }
    coresidence = {
        (a, b)
        for (a, b) in address
        if (
            (a, b) in private
            or (a, b) in transfers
            or (
                surname[a] >= 0
                and surname[a] == surname[b]
                and _generations(projection, a, b) is not False
            )
        )
        and not left_home((a, b))
    }
    coresidence |= {(a, b) for (a, b) in private if a not in has_address or b not in has_address}

    def components(ties: set[Pair]) -> list[set[int]]:
        graph = nx.Graph()
        graph.add_nodes_from(range(n))
        graph.add_edges_from(ties)
        return list(nx.connected_components(graph))

    broken: set[int] = set()
    groups = components(family | coresidence)
    too_big = {p for g in groups if len(g) > params.max_size for p in g}
    if too_big:
        ties = {t for t in family | coresidence if t in coresidence or t[0] not in too_big}
        groups = components(ties)
        broken = {p for g in groups if len(g) > params.max_size for p in g}
        ties = {(a, b) for (a, b) in ties if a not in broken}
        groups = components(ties)
    else:
        ties = family | coresidence
    if params.join_sole_other_resident:
        ties |= _sole_other_resident_ties(projection, groups, broken, params)
        groups = components(ties)
    return _labels_by_first_member(groups, n)


def _sole_other_resident_ties(
    projection: Projection, groups: list[set[int]], broken: set[int], params: HouseholdParams
) -> set[Pair]:
    """A family home's other residents, each tied to the family's smallest member there."""
    group_of = {p: i for i, g in enumerate(groups) for p in g}
    flats = _flats_of(projection)
    homes: dict[int, set[int]] = defaultdict(set)  # joiner → families it fits
    member: dict[tuple[int, int], int] = {}
    for persons in _residents(projection).values():
        if len(persons) > params.max_address_sharers:
            continue
        by_group: dict[int, list[int]] = defaultdict(list)
        for p in sorted(persons):
            by_group[group_of[p]].append(p)
        families = [g for g, here in by_group.items() if len(here) >= 2]
        singles = [g for g in by_group if len(groups[g]) == 1]
        if len(families) != 1 or not singles or len(singles) != len(by_group) - 1:
            continue
        family = families[0]
        for g in singles:
            alone = by_group[g][0]
            if alone not in broken:
                homes[alone].add(family)
                member.setdefault((alone, family), by_group[family][0])
    joiners: dict[int, list[int]] = defaultdict(list)
    for alone, families_of in homes.items():
        if len(families_of) == 1 and len(flats[alone]) <= 1:
            joiners[next(iter(families_of))].append(alone)
    ties: set[Pair] = set()
    for g, people in joiners.items():
        if len(groups[g]) + len(people) <= params.max_size:
            ties |= {(min(p, member[(p, g)]), max(p, member[(p, g)])) for p in people}
    return ties


def integrated_ownership_by_component(projection: Projection) -> dict[tuple[int, int], float]:
    """(holder party, enterprise) → integrated share; one dense inverse per ownership component.

    Parties are persons, then enterprises (offset by the person count), as in
    :mod:`relgraph.analytics.groups`.
    """
    n_p = len(projection.nodes["Person"])
    graph = nx.Graph()
    graph.add_nodes_from(range(len(projection.nodes["Enterprise"])))
    enterprise = projection.edge("Enterprise", "SHAREHOLDER_OF", "Enterprise")
    shares = enterprise.attrs["share"].tolist()
    for i, j in zip(enterprise.src.tolist(), enterprise.dst.tolist(), strict=True):
        graph.add_edge(i, j)
    person = projection.edge("Person", "SHAREHOLDER_OF", "Enterprise")
    holders: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for p, e, s in zip(
        person.src.tolist(), person.dst.tolist(), person.attrs["share"].tolist(), strict=True
    ):
        holders[e].append((p, s))
    result: dict[tuple[int, int], float] = {}
    direct: dict[tuple[int, int], float] = defaultdict(float)
    for i, j, s in zip(enterprise.src.tolist(), enterprise.dst.tolist(), shares, strict=True):
        direct[(i, j)] += s
    for component in nx.connected_components(graph):
        members = sorted(component)
        where = {e: k for k, e in enumerate(members)}
        a = np.zeros((len(members), len(members)))
        for (i, j), s in direct.items():
            if i in where and j in where:
                a[where[i], where[j]] = s
        inverse = np.linalg.inv(np.eye(len(members)) - a)
        for x, i in enumerate(members):
            for y, j in enumerate(members):
                value = inverse[x, y] - (1.0 if x == y else 0.0)
                if x != y and abs(value) > 1e-12:
                    result[(n_p + i, j)] = value
        for x, e in enumerate(members):
            for p, s in holders[e]:
                for y, j in enumerate(members):
                    key = (p, j)
                    result[key] = result.get(key, 0.0) + s * inverse[x, y]
    return result


def guarantee_circle_members(projection: Projection) -> list[set[int]]:
    """Strongly connected parts of 2+ parties of the guarantee graph."""
    n_p = len(projection.nodes["Person"])
    offset = {"Person": 0, "Enterprise": n_p}
    graph = nx.DiGraph()
    for es in projection.edges.values():
        if es.kind.rel == "GUARANTEES":
            src = (es.src + offset[es.kind.source]).tolist()
            dst = (es.dst + offset[es.kind.target]).tolist()
            graph.add_edges_from(zip(src, dst, strict=True))
    return [c for c in nx.strongly_connected_components(graph) if len(c) >= 2]


def referral_cascades(
    projection: Projection, damping: float = 0.85
) -> tuple[dict[int, int], dict[int, float]]:
    """Per person: cascade size (first referrals only) and PageRank, with networkx."""
    edges = projection.edge("Person", "REFERRED", "Person")
    when = edges.attrs["referred_at"].astype("Float64").fillna(float("inf")).tolist()
    first: dict[int, tuple[float, int]] = {}
    for s, d, t in zip(edges.src.tolist(), edges.dst.tolist(), when, strict=True):
        if d not in first or (t, s) < first[d]:
            first[d] = (t, s)
    tree = nx.DiGraph()
    tree.add_nodes_from(range(len(projection.nodes["Person"])))
    tree.add_edges_from((s, d) for d, (_, s) in first.items())
    sizes = {node: len(nx.descendants(tree, node)) for node in tree if tree.out_degree(node)}
    reverse = nx.DiGraph()
    reverse.add_nodes_from(range(len(projection.nodes["Person"])))
    reverse.add_edges_from(zip(edges.dst.tolist(), edges.src.tolist(), strict=True))
    return sizes, nx.pagerank(reverse, alpha=damping)
