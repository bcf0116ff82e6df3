"""Hidden networks on known-answer banks, parametrised over the vectorised and networkx versions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from relgraph.analytics.networks import hidden_networks, network_frames
from relgraph.analytics.params import NetworkParams
from relgraph.analytics.person_links import person_links, shared_pairs
from relgraph.graph import Projection
from tests.banks import (
    Rows,
    loaded_synthetic,
    people,
    project,
    projection_of,
    transfer,
    write_bank,
)
from tests.oracles import graph_reference as reference

from .conftest import NETWORK_PARAMS, groups_of

Labeller = Callable[[Projection, NetworkParams], np.ndarray]


def _vectorised(projection: Projection, params: NetworkParams) -> np.ndarray:
    return hidden_networks(projection, params).label


IMPLEMENTATIONS = pytest.mark.parametrize(
    "labeller", [_vectorised, reference.network_labels], ids=["vectorised", "networkx"]
)

EXPECTED = {
    frozenset({"C1", "C1B", "C2"}),  # one person with two records, and his spouse
    frozenset({"C3"}),  # the son shares only a three-person address: weak
    frozenset({"C4"}),  # flatmates: an address alone is weak
    frozenset({"C5"}),
    frozenset({"C6", "C7"}),  # a private tablet
    frozenset({"C8", "C9"}),  # three transfers
    frozenset({"C10", "C11"}),  # two officers of one enterprise
}


@IMPLEMENTATIONS
def test_networks_of_the_tiny_bank(tiny: Projection, labeller: Labeller) -> None:
    assert groups_of(tiny, labeller(tiny, NETWORK_PARAMS)) == EXPECTED


def test_the_kiosk_is_suppressed_and_listed(tiny: Projection) -> None:
    links = person_links(tiny, NETWORK_PARAMS)
    suppressed = links.suppressed.to_dict("records")
    assert {"kind": "device", "id": "K1", "persons": 5} in [
        {k: r[k] for k in ("kind", "id", "persons")} for r in suppressed
    ]


def test_link_strengths_and_evidence(tiny: Projection) -> None:
    networks = hidden_networks(tiny, NETWORK_PARAMS)
    frames = network_frames(tiny, networks)
    customers = tiny.nodes["CustomerRecord"]
    pid = dict(zip(customers.id_of(range(len(customers))), customers.attrs["person"], strict=True))

    def person(index: int) -> str:
        return str(tiny.nodes["Person"].id_of([index])[0])

    def evidence(a: str, b: str) -> list[tuple[str, str, float, int]]:
        pa_, pb_ = sorted([person(pid[a]), person(pid[b])])
        ev = frames["network_evidence"]
        rows = ev[(ev.person_a == pa_) & (ev.person_b == pb_)]
        return sorted((r.kind, r.ref, round(r.weight, 3), r["count"]) for _, r in rows.iterrows())

    assert evidence("C6", "C7") == [("address", "3 oak avenue", 0.4, 2), ("device", "TAB6", 1.0, 2)]
    assert evidence("C8", "C9") == [("transfer", f"T{i}", 0.6, 3) for i in (1, 2, 3)]
    assert evidence("C1", "C2") == [
        ("address", "1 rose road", round(0.4 / np.log2(3), 3), 3),
        ("family", "spouse", 1.0, 1),
    ]
    assert evidence("C10", "C11") == [("enterprise", "E1", 0.6, 2)]
    assert evidence("C4", "C5") == [("address", "9 pine street apartment 2", 0.4, 2)]
    links = frames["network_links"]
    # Weak links across networks are kept: the flatmates', Wang Xiao's two, one transfer's.
    assert links.network_id.isna().sum() == 4
    assert evidence("C1", "C9") == [("transfer", "T9", 0.2, 1)]
    strength = dict(
        zip(zip(links.person_a, links.person_b, strict=True), links.strength, strict=True)
    )
    c6, c7 = sorted([person(pid["C6"]), person(pid["C7"])])
    assert strength[(c6, c7)] == pytest.approx(1.0)


@IMPLEMENTATIONS
def test_an_oversized_component_is_split_into_communities(
    tmp_path: Path, labeller: Labeller
) -> None:
    # Two cliques of 30 (shared phones in rings) joined by one strong tie: 60 > 50.
    customers: Rows = []
    family: Rows = []
    for clique in (0, 1):
        for i in range(30):
            cid = f"C{clique}_{i:02d}"
            customers.append({"customer_id": cid, "source_system": "core", "name": f"P {cid}",
                              "id_number": cid, "phone": f"1390000{clique}{i:03d}"})  # fmt: skip
            for j in range(i + 1, 30):
                family.append(
                    {"customer_id": cid, "relative_id": f"C{clique}_{j:02d}", "relation": "other"}
                )
    family.append({"customer_id": "C0_00", "relative_id": "C1_00", "relation": "sibling"})
    bank = {"customers": customers, "enterprises": [{"enterprise_id": "E", "name": "E"}],
            "accounts": [{"account_id": "A", "holder_id": "E", "holder_kind": "enterprise", "product": "loan"}],
            "family": family}  # fmt: skip
    projection = project(write_bank(tmp_path / "bank", bank), tmp_path / "data")
    label = labeller(projection, NetworkParams())
    groups = groups_of(projection, label)
    assert sorted(len(g) for g in groups) == [30, 30]
    assert {frozenset(c[:2] for c in g) for g in groups} == {frozenset({"C0"}), frozenset({"C1"})}
    again = labeller(projection, NetworkParams())
    assert np.array_equal(label, again)


def test_shared_pairs_counts_every_pair_once() -> None:
    person = np.array([0, 1, 2, 3, 1, 2, 0])
    node = np.array([5, 5, 5, 5, 6, 6, 5])  # (0, 5) twice
    sp = shared_pairs(person, node, 4)
    rows = sorted(
        zip(sp.a.tolist(), sp.b.tolist(), sp.node.tolist(), sp.sharers.tolist(), strict=True)
    )
    assert rows == [(0, 1, 5, 4), (0, 2, 5, 4), (0, 3, 5, 4), (1, 2, 5, 4), (1, 2, 6, 2),
                    (1, 3, 5, 4), (2, 3, 5, 4)]  # fmt: skip
    assert shared_pairs(person, node, 3).suppressed.tolist() == [5]


@pytest.fixture(scope="module")
def small_bank_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # generate(2_000, 11), loaded once for this module and test_layering's.
    return loaded_synthetic(tmp_path_factory, 2_000, 11)[0]


@pytest.fixture(scope="module")
def small_bank(tmp_path_factory: pytest.TempPathFactory) -> Projection:
    return projection_of(loaded_synthetic(tmp_path_factory, 2_000, 11)[1])


def test_vectorised_equals_networkx_on_a_synthetic_bank(small_bank: Projection) -> None:
    params = NetworkParams(max_network_size=3)  # forces community splits too
    networks = hidden_networks(small_bank, params)
    assert np.array_equal(networks.label, reference.network_labels(small_bank, params))
    expected = reference.link_strengths(small_bank, params)
    links = networks.links
    got = dict(
        zip(
            zip(links.a.tolist(), links.b.tolist(), strict=True),
            links.strength.tolist(),
            strict=True,
        )
    )
    assert got.keys() == expected.keys()
    assert all(got[k] == pytest.approx(v, abs=1e-12) for k, v in expected.items())
    assert networks.split.any()


def test_network_ids_are_stable(small_bank: Projection) -> None:
    first = hidden_networks(small_bank)
    second = hidden_networks(small_bank)
    assert np.array_equal(first.ids, second.ids)
    assert all(str(i).startswith("N") for i in first.ids)


def test_one_bank_in_two_stores_has_the_same_networks(
    small_bank: Projection, small_bank_files: Path, tmp_path: Path
) -> None:
    # Each store keys its person ids by a secret of its own, so persons sort in another
    # order in each: the communities Leiden splits must not follow that order.
    other = project(small_bank_files, tmp_path / "data")
    mine, theirs = (p.nodes["Person"].id_of(np.arange(3)).tolist() for p in (small_bank, other))
    assert mine != theirs
    params = NetworkParams(max_network_size=3)  # forces community splits
    split = hidden_networks(small_bank, params)
    assert split.split.any()
    assert groups_of(small_bank, split.label) == groups_of(
        other, hidden_networks(other, params).label
    )


@IMPLEMENTATIONS
def test_a_landlord_paid_by_many_tenants_links_none_of_them(
    tmp_path: Path, labeller: Labeller
) -> None:
    # A private landlord (L, a person's account) collects rent three times from each of 60
    # tenants: every tenant's pair with L had transfer evidence of 0.6, a strong link, so
    # all 61 were one component, which the community split then cut across L's own
    # family (his wife W, a declared tie). A payee of more than max_transfer_partners (50)
    # is a hub: its money ties no one. Two tenants who pay each other three times (T00,
    # T01: not through the hub) stay linked.
    n = 60
    tenants = [f"T{i:02d}" for i in range(n)]
    customers = people("L", "W", *tenants)
    accounts = [{"account_id": f"A{c}", "holder_id": c, "holder_kind": "customer",
                 "product": "deposit"} for c in ("L", "W", *tenants)]  # fmt: skip
    start = datetime(2026, 6, 1, 9)
    transfers = [
        transfer(f"X{m}{t}", f"A{t}", "AL", 2500.0, start + timedelta(days=30 * m, minutes=i))
        for m in range(3)
        for i, t in enumerate(tenants)
    ] + [transfer(f"Y{m}", "AT00", "AT01", 100.0, start + timedelta(days=m)) for m in range(3)]
    family = [{"customer_id": "L", "relative_id": "W", "relation": "spouse"}]
    bank = {"customers": customers, "accounts": accounts, "transfers": transfers, "family": family}
    projection = project(write_bank(tmp_path / "bank", bank), tmp_path / "data")
    groups = {frozenset(g) for g in groups_of(projection, labeller(projection, NetworkParams()))}
    assert frozenset({"L", "W"}) in groups
    assert frozenset({"T00", "T01"}) in groups
    assert all(len(g) == 1 for g in groups - {frozenset({"L", "W"}), frozenset({"T00", "T01"})})
