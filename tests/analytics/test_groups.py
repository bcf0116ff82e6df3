"""Integrated ownership, controllers, groups and guarantee circles on hand-computed graphs."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from relgraph.analytics.groups import (
    Ownership,
    control,
    group_frames,
    group_values,
    guarantee_circles,
    integrated_ownership,
    inverse_block_diagonal,
)
from relgraph.graph import Projection
from relgraph.ingest.load import load_directory
from relgraph.ingest.persons import SOURCE_PRIORITY
from relgraph.jobs.values import values_of
from relgraph.store.embedded import EmbeddedStore
from tests.banks import (
    Rows,
    companies,
    load,
    loaded_synthetic,
    people,
    project,
    projection_of,
    write_bank,
)


def _holding(holder: str, enterprise: str, share: float) -> dict[str, object]:
    kind = "enterprise" if holder.startswith("E") else "customer"
    return {"holder_id": holder, "enterprise_id": enterprise, "holder_kind": kind, "share": share}


def _guarantee(g: str, b: str, amount: float) -> dict[str, object]:
    kind = {True: "enterprise", False: "customer"}
    return {"guarantor_id": g, "borrower_id": b, "guarantor_kind": kind[g.startswith("E")],
            "borrower_kind": kind[b.startswith("E")], "amount": amount}  # fmt: skip


HOLDINGS: Rows = [
    # Chain: P holds 60% of E1, which holds 80% of E2.
    _holding("P", "E1", 0.6), _holding("E1", "E2", 0.8),
    # Cross-holding: E3 ↔ E4 (30% / 20%), Q holds 70% of E3, R 70% of E4.
    _holding("E3", "E4", 0.3), _holding("E4", "E3", 0.2), _holding("Q", "E3", 0.7), _holding("R", "E4", 0.7),
    # Three-company cycle E5 → E6 → E7 → E5 at 40% each; S holds 60% of E5.
    _holding("E5", "E6", 0.4), _holding("E6", "E7", 0.4), _holding("E7", "E5", 0.4), _holding("S", "E5", 0.6),
    # A ring of control with no person: E8 and E9 hold 60% of each other.
    _holding("E8", "E9", 0.6), _holding("E9", "E8", 0.6),
    # Largest holder at ≥ 25%: T 30%, U 20% of E10. E11 is only 10% held: stands alone.
    _holding("T", "E10", 0.3), _holding("U", "E10", 0.2), _holding("U", "E11", 0.1),
]  # fmt: skip

ENTERPRISES: Rows = [
    {"enterprise_id": f"E{i}", "name": f"Company {i}", "deposits": 10 * i, "loans": 100.0,
     "credit_limit": 150.0 if i == 1 else 50.0}
    for i in range(1, 12)
]  # fmt: skip

GUARANTEES: Rows = [
    _guarantee("E1", "E2", 5.0), _guarantee("E2", "E5", 7.0), _guarantee("E5", "E1", 11.0),  # circle
    _guarantee("E3", "E4", 1.0),  # a chain, no circle
    _guarantee("P", "E10", 2.0), _guarantee("E10", "P", 3.0),  # a person and a company
]  # fmt: skip


@pytest.fixture(scope="module")
def owned(tmp_path_factory: pytest.TempPathFactory) -> Projection:
    root = tmp_path_factory.mktemp("groups")
    bank = {
        "customers": people("P", "Q", "R", "S", "T", "U"),
        "enterprises": ENTERPRISES,
        "shareholdings": HOLDINGS,
        "guarantees": GUARANTEES,
    }
    return project(write_bank(root / "bank", bank), root / "data")


def _share(projection: Projection, holder: str, enterprise: str) -> float:
    own = integrated_ownership(projection)
    e = projection.nodes["Enterprise"].index(enterprise)
    if holder.startswith("E"):
        return float(own.enterprises[projection.nodes["Enterprise"].index(holder), e])
    records = projection.nodes["CustomerRecord"]
    person = int(records.attrs["person"].iloc[records.index(holder)])
    return float(own.persons[person, e])


@pytest.mark.parametrize(
    ("holder", "enterprise", "share"),
    [
        ("P", "E1", 0.6), ("P", "E2", 0.48), ("E1", "E2", 0.8),
        ("Q", "E3", 0.7 / 0.94), ("Q", "E4", 0.7 * 0.3 / 0.94), ("E3", "E4", 0.3 / 0.94),
        ("E4", "E3", 0.2 / 0.94), ("R", "E4", 0.7 / 0.94),
        ("S", "E5", 0.6 / 0.936), ("S", "E6", 0.24 / 0.936), ("S", "E7", 0.096 / 0.936),
        ("E5", "E6", 0.4 / 0.936), ("E5", "E7", 0.16 / 0.936),
        ("E8", "E9", 0.6 / 0.64),
    ],
)  # fmt: skip
def test_integrated_shares_match_hand_computation(
    owned: Projection, holder: str, enterprise: str, share: float
) -> None:
    assert _share(owned, holder, enterprise) == pytest.approx(share, rel=1e-9)


def _party(projection: Projection, index: int) -> str | None:
    n_p = len(projection.nodes["Person"])
    if index < 0:
        return None
    if index >= n_p:
        return str(projection.nodes["Enterprise"].id_of([index - n_p])[0])
    records = projection.nodes["CustomerRecord"]
    person = records.attrs["person"].to_numpy()
    return str(records.id_of(np.flatnonzero(person == index))[0])


def test_controllers_and_groups(owned: Projection) -> None:
    ctrl = control(integrated_ownership(owned))
    enterprises = owned.nodes["Enterprise"]
    found = {
        str(e): (_party(owned, int(ctrl.controller[i])), _party(owned, int(ctrl.group[i])))
        for i, e in enumerate(enterprises.id_of(np.arange(len(enterprises))))
    }
    assert found == {
        "E1": ("P", "P"), "E2": ("E1", "P"),  # E2's holder E1 is P's
        "E3": ("Q", "Q"), "E4": ("R", "R"),  # cross-holdings do not merge the two
        "E5": ("S", "S"), "E6": ("E5", "S"), "E7": ("E6", "S"),  # cycle: one group under S
        "E8": ("E9", "E8"), "E9": ("E8", "E8"),  # a ring is controlled by its smallest member
        "E10": ("T", "T"),  # largest at 30%
        "E11": (None, None),  # stands alone
    }  # fmt: skip


def test_guarantee_circles_and_group_value(owned: Projection) -> None:
    circles = guarantee_circles(owned)
    assert circles.n_circles == 2
    members = {
        frozenset(_party(owned, int(p)) for p in np.flatnonzero(circles.label == c))
        for c in range(circles.n_circles)
    }
    assert members == {frozenset({"E1", "E2", "E5"}), frozenset({"P", "E10"})}
    assert sorted(circles.amount.tolist()) == [2.0, 3.0, 5.0, 7.0, 11.0]

    ctrl = control(integrated_ownership(owned))
    values = group_values(owned, ctrl, circles, values_of(owned, None, SOURCE_PRIORITY)).set_index(
        "controller"
    )
    p_group = values.loc[ctrl.group[owned.nodes["Enterprise"].index("E1")]]
    assert p_group["members"] == 2
    assert p_group["deposits"] == pytest.approx(30.0)
    assert p_group["loans"] == pytest.approx(200.0)
    assert p_group["credit_limit"] == pytest.approx(200.0)
    assert p_group["guarantees_given"] == pytest.approx(12.0)  # E1→E2 5, E2→E5 7
    assert p_group["guarantees_received"] == pytest.approx(16.0)  # E1 from E5 11, E2 from E1 5
    # Members' loans 100 + 100, plus the 7 E2 gave outside the group (not the 5 E1 gave E2).
    assert p_group["exposure"] == pytest.approx(207.0)
    assert bool(p_group["has_guarantee_circle"])
    q_group = values.loc[ctrl.group[owned.nodes["Enterprise"].index("E3")]]
    assert not bool(q_group["has_guarantee_circle"])


@st.composite
def share_matrices(draw: st.DrawFn) -> np.ndarray:
    n = draw(st.integers(1, 7))
    a = np.zeros((n, n))
    for j in range(n):
        holders = draw(st.lists(st.integers(0, n - 1), max_size=3, unique=True))
        holders = [h for h in holders if h != j]
        if holders:
            shares = draw(
                st.lists(st.floats(0.01, 1.0), min_size=len(holders), max_size=len(holders))
            )
            total = draw(st.floats(0.05, 0.95))
            a[holders, j] = np.array(shares) / sum(shares) * total
    return a


@settings(max_examples=150, deadline=None)
@given(share_matrices())
def test_block_inverse_equals_dense_inverse(a: np.ndarray) -> None:
    got = inverse_block_diagonal(sp.csr_array(a)).toarray()
    np.testing.assert_allclose(got, np.linalg.inv(np.eye(len(a)) - a), atol=1e-10)


def test_equal_integrated_shares_go_to_the_person_whatever_the_last_bits(tmp_path: Path) -> None:
    # Q holds 40% of E1 directly, E2 40% of it; E1 holds 20% of E2, R 60% of E2. Q's and
    # E2's integrated shares in E1 are both 0.4 / 0.92, computed by two routes whose last
    # bits differ (E2's came out larger): the tie rule, persons first, must decide, not
    # the rounding, or E1 would join R's group.
    bank = {
        "customers": people("Q", "R"),
        "enterprises": companies("E1", "E2"),
        "shareholdings": [
            _holding("Q", "E1", 0.4),
            _holding("E2", "E1", 0.4),
            _holding("E1", "E2", 0.2),
            _holding("R", "E2", 0.6),
        ],
    }
    projection = project(write_bank(tmp_path / "bank", bank), tmp_path / "data")
    ctrl = control(integrated_ownership(projection))
    found = [
        (_party(projection, int(c)), _party(projection, int(g)))
        for c, g in zip(ctrl.controller, ctrl.group, strict=True)
    ]
    assert found == [("Q", "Q"), ("R", "R")]
    assert ctrl.share.tolist() == pytest.approx([0.4 / 0.92, 0.6 / 0.92])


def test_a_closed_ring_keeps_its_direct_shares() -> None:
    # E1 and E2 hold 100% of each other (a subsidiary exported from both sides): no inverse.
    # Beside it, in the same batch of blocks of two, an ordinary cross-holding still inverts.
    ring = np.array([[0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0],
                     [0.0, 0.0, 0.0, 0.5], [0.0, 0.0, 0.5, 0.0]])  # fmt: skip
    got = inverse_block_diagonal(sp.csr_array(ring)).toarray()
    np.testing.assert_allclose(got[:2, :2], [[1.0, 1.0], [1.0, 1.0]])
    np.testing.assert_allclose(got[2:, 2:], [[4 / 3, 2 / 3], [2 / 3, 4 / 3]])


def test_a_closed_ring_is_one_group_and_analyze_finishes(tmp_path: Path) -> None:
    from relgraph.graph import build_projection
    from relgraph.jobs.analyze import analyze
    from relgraph.store.embedded import EmbeddedStore

    bank = {
        "customers": people("P"),
        "enterprises": companies("E1", "E2", "E3"),
        "shareholdings": [
            _holding("E1", "E2", 1.0),
            _holding("E2", "E1", 1.0),
            _holding("E2", "E3", 0.6),
        ],
    }
    data = tmp_path / "data"
    load(write_bank(tmp_path / "bank", bank), data)
    with EmbeddedStore(data) as store:
        analyze(store, build_projection(store))
        control_table = store.results_frame("enterprise_control")
    assert control_table is not None
    found = control_table.set_index("enterprise_id")[["controller_id", "group_id"]]
    assert found.to_dict("index") == {
        "E1": {"controller_id": "E2", "group_id": "GE1"},
        "E2": {"controller_id": "E1", "group_id": "GE1"},
        "E3": {"controller_id": "E2", "group_id": "GE1"},
    }


def test_empty_bank_has_no_groups(tmp_path: Path) -> None:
    projection = project(
        write_bank(tmp_path / "bank", {"customers": people("A"), "enterprises": companies("E1")}),
        tmp_path / "data",
    )
    ctrl = control(integrated_ownership(projection))
    assert ctrl.group.tolist() == [-1]
    assert guarantee_circles(projection).n_circles == 0


def test_vectorised_equals_the_reference_on_a_synthetic_bank(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from tests.oracles import graph_reference as reference

    # generate(3_000, 9), loaded once for this test and test_audience's.
    projection = projection_of(loaded_synthetic(tmp_path_factory, 3_000, 9)[1])
    own = integrated_ownership(projection)
    n_p = len(projection.nodes["Person"])
    got: dict[tuple[int, int], float] = {}
    for matrix, offset in ((own.persons.tocoo(), 0), (own.enterprises.tocoo(), n_p)):
        for r, c, v in zip(
            matrix.row.tolist(), matrix.col.tolist(), matrix.data.tolist(), strict=True
        ):
            if not (offset and r == c):
                got[(r + offset, c)] = v
    expected = reference.integrated_ownership_by_component(projection)
    assert got.keys() == {k for k, v in expected.items() if abs(v) > 1e-12}
    assert all(got[k] == pytest.approx(v, abs=1e-9) for k, v in got.items() for v in [expected[k]])
    circles = guarantee_circles(projection)
    ours = [set(np.flatnonzero(circles.label == c).tolist()) for c in range(circles.n_circles)]
    assert sorted(map(sorted, ours)) == sorted(
        map(sorted, reference.guarantee_circle_members(projection))
    )
    assert circles.n_circles > 0


def test_a_holding_of_thousands_of_subsidiaries_is_inverted_in_bounded_memory() -> None:
    # A state holding owning 100% of 3,000 subsidiaries is one ownership block. Inverted
    # densely it took size² memory per array (72 MB each, several of them) and size³ time;
    # its integrated shares are still exactly its direct ones, found without that cost.
    n = 3001
    a = sp.csr_array((np.ones(n - 1), (np.zeros(n - 1, np.int64), np.arange(1, n))), shape=(n, n))
    tracemalloc.start()
    try:
        inv = inverse_block_diagonal(a)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 40 * 2**20
    assert inv.nnz == 2 * n - 1
    assert inv[0, 1:].toarray().ravel().tolist() == [1.0] * (n - 1)
    assert inv.diagonal().tolist() == [1.0] * n


def test_a_large_block_with_cycles_equals_the_dense_inverse() -> None:
    # 300 enterprises in a ring, each holding 50% of the next, plus cross-holdings; and a
    # closed ring of 300 holding 100% of each other (no inverse: direct shares kept).
    n = 300
    a = np.zeros((2 * n, 2 * n))
    for i in range(n):
        a[i, (i + 1) % n] = 0.5
        a[(i + 7) % n, i] += 0.25
        a[n + i, n + (i + 1) % n] = 1.0
    got = inverse_block_diagonal(sp.csr_array(a)).toarray()
    np.testing.assert_allclose(got[:n, :n], np.linalg.inv(np.eye(n) - a[:n, :n]), atol=1e-10)
    np.testing.assert_allclose(got[n:, n:], np.eye(n) + a[n:, n:])
    assert not got[:n, n:].any()
    assert not got[n:, :n].any()


def test_a_fifty_fifty_firm_has_the_same_controller_in_every_store(tmp_path: Path) -> None:
    # A and B founded E1 half and half. The tie went to the smaller person index, the order
    # of the person ids each store keys with its own secret: under secret "a" A controlled
    # E1 (group G<A>), under "b" B did. It follows the bank's own keys now.
    files = write_bank(tmp_path / "bank", {
        "customers": people("A", "B"),
        "enterprises": companies("E1"),
        "shareholdings": [_holding("A", "E1", 0.5), _holding("B", "E1", 0.5)],
    })  # fmt: skip
    found = []
    for secret in ("a" * 40, "b" * 40):
        data = tmp_path / secret[0]
        with EmbeddedStore(data) as store:
            load_directory(files, store, data, id_secret=secret)
        projection = projection_of(data)
        numbered = [_party(projection, k) for k in range(2)]
        frames = group_frames(projection, values_of(projection, None, SOURCE_PRIORITY))
        (controller,) = frames["enterprise_control"]["controller_id"]
        found.append((numbered, _party(projection, _index_of(projection, controller))))
    assert [numbered for numbered, _ in found] == [["A", "B"], ["B", "A"]]
    assert [controller for _, controller in found] == ["A", "A"]


def _index_of(projection: Projection, person_id: str) -> int:
    persons = projection.nodes["Person"]
    return int(np.flatnonzero(persons.id_of(np.arange(len(persons))) == person_id)[0])


def test_ties_follow_the_rank_given() -> None:
    # Two persons with 50% each of one enterprise: the first in the rank controls it.
    ownership = Ownership(persons=sp.csr_array(np.array([[0.5], [0.5]])),
                          enterprises=sp.csr_array(np.zeros((1, 1))))  # fmt: skip
    assert control(ownership).controller.tolist() == [0]
    assert control(ownership, person_rank=np.array([1, 0])).controller.tolist() == [1]
