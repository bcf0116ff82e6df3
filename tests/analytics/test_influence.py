"""Referral influence: cascades, their value, PageRank and the rank, on a hand-made cascade."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from relgraph.analytics.influence import cascade_totals, influence, influence_frame
from relgraph.graph import Projection
from tests.banks import Rows, loaded_synthetic, project, projection_of, write_bank


def _referral(referrer: str, referred: str, day: int) -> dict[str, object]:
    return {
        "referrer_id": referrer,
        "referred_id": referred,
        "referred_at": f"2025-01-{day:02d}T00:00:00",
    }


# A brought B and C; B brought D and E; D brought F. G brought H, and referred B
# again later: B stays in A's cascade. K and L referred each other (a ring).
REFERRALS: Rows = [
    _referral("A", "B", 1), _referral("A", "C", 2), _referral("B", "D", 3), _referral("B", "E", 4),
    _referral("D", "F", 5), _referral("G", "H", 6), _referral("G", "B", 7),
    _referral("K", "L", 8), _referral("L", "K", 9),
]  # fmt: skip
AUM = {"A": 1, "B": 10, "C": 20, "D": 30, "E": 40, "F": 50, "G": 5, "H": 500, "K": 1, "L": 1}


@pytest.fixture(scope="module")
def cascade(tmp_path_factory: pytest.TempPathFactory) -> Projection:
    root = tmp_path_factory.mktemp("influence")
    customers = [
        {"customer_id": c, "source_system": "core", "name": c, "id_number": c, "aum": aum}
        for c, aum in AUM.items()
    ]
    bank = {"customers": customers, "enterprises": [{"enterprise_id": "E", "name": "E"}],
            "referrals": REFERRALS}  # fmt: skip
    return project(write_bank(root / "bank", bank), root / "data")


def _by_customer(projection: Projection, values: np.ndarray) -> dict[str, object]:
    records = projection.nodes["CustomerRecord"]
    person = records.attrs["person"].to_numpy()
    return {
        str(c): values[p].item()
        for c, p in zip(records.id_of(np.arange(len(records))), person, strict=True)
    }


def test_cascades_and_value(cascade: Projection) -> None:
    result = influence(cascade)
    assert _by_customer(cascade, result.direct_referrals) == {
        "A": 2, "B": 2, "C": 0, "D": 1, "E": 0, "F": 0, "G": 2, "H": 0, "K": 1, "L": 1,
    }  # fmt: skip
    assert _by_customer(cascade, result.cascade_size) == {
        "A": 5, "B": 3, "C": 0, "D": 1, "E": 0, "F": 0, "G": 1, "H": 0, "K": 0, "L": 0,
    }  # fmt: skip
    assert _by_customer(cascade, result.cascade_aum)["A"] == pytest.approx(150.0)
    assert _by_customer(cascade, result.cascade_aum)["G"] == pytest.approx(500.0)
    ranks = _by_customer(cascade, result.rank)
    assert [c for c, _ in sorted(ranks.items(), key=lambda kv: kv[1])][:4] == ["A", "B", "G", "D"]
    frame = influence_frame(cascade, result)
    assert frame["rank"].tolist() == list(range(1, 7))
    assert len(frame) == 6  # A, B, D, G, K, L referred someone


def test_pagerank_matches_networkx(cascade: Projection) -> None:
    result = influence(cascade)
    edges = cascade.edge("Person", "REFERRED", "Person")
    graph = nx.DiGraph()
    graph.add_nodes_from(range(len(cascade.nodes["Person"])))
    graph.add_edges_from(zip(edges.dst.tolist(), edges.src.tolist(), strict=True))
    expected = nx.pagerank(graph, alpha=0.85, tol=1e-12)
    np.testing.assert_allclose(
        result.pagerank, [expected[i] for i in range(len(expected))], atol=1e-8
    )


def test_cascade_totals_on_a_deep_chain() -> None:
    n = 1000
    parent = np.arange(-1, n - 1)  # 0 ← 1 ← 2 ← … a chain
    size, total = cascade_totals(parent, np.ones(n))
    assert size[0] == n - 1
    assert size[-1] == 0
    assert total[500] == n - 501


def test_pagerank_that_does_not_converge_is_an_error_not_a_result() -> None:
    from relgraph.analytics.influence import PageRankConvergenceError, pagerank
    from relgraph.analytics.params import InfluenceParams

    chain = np.arange(50)
    params = InfluenceParams(max_iterations=3, tolerance=1e-12)
    with pytest.raises(PageRankConvergenceError, match="did not converge in 3 iterations"):
        pagerank(chain[1:], chain[:-1], 50, params)
    # The same graph with room to iterate converges and sums to one.
    assert pagerank(chain[1:], chain[:-1], 50, InfluenceParams()).sum() == pytest.approx(1.0)


def test_equal_referrers_rank_by_their_first_customer_id(tmp_path: Path) -> None:
    # M and P each brought one customer of the same value: equal in reach, value and
    # PageRank. Person ids are keyed by each store's secret; the bank's own ids decide.
    customers = [
        {"customer_id": c, "source_system": "core", "name": c, "id_number": c, "aum": aum}
        for c, aum in {"M": 1, "N": 7, "P": 1, "Q": 7}.items()
    ]
    bank = write_bank(tmp_path / "bank", {
        "customers": customers, "enterprises": [{"enterprise_id": "E", "name": "E"}],
        "referrals": [_referral("P", "Q", 1), _referral("M", "N", 2)],
    })  # fmt: skip
    for store in ("one", "two", "three"):
        projection = project(bank, tmp_path / store)
        rank = _by_customer(projection, influence(projection).rank)
        assert rank["M"] < rank["P"], store


def test_one_bank_in_two_stores_ranks_alike(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    # generate(3_000, 9), loaded once for this test and test_audience's and test_groups'
    # (the first store), and its files loaded again here (the second).
    bank, loaded = loaded_synthetic(tmp_path_factory, 3_000, 9)
    one, two = projection_of(loaded), project(bank, tmp_path / "two")
    first, second = (_by_customer(p, influence(p).rank) for p in (one, two))
    assert first == second


SECRETS = [c * 40 for c in "abcdef"]


def _in_stores(tmp_path: Path, bank: dict[str, Rows]) -> list[Projection]:
    """``bank`` loaded into one store per secret of :data:`SECRETS` (each numbers its
    persons in the order of the person ids its secret makes)."""
    from relgraph.ingest import load_directory
    from relgraph.store.embedded import EmbeddedStore
    from tests.banks import projection_of

    files = write_bank(tmp_path / "bank", bank)
    for secret in SECRETS:
        with EmbeddedStore(tmp_path / secret[0]) as store:
            load_directory(files, store, tmp_path / secret[0], id_secret=secret)
    return [projection_of(tmp_path / secret[0]) for secret in SECRETS]


def _customers(aum: dict[str, str]) -> Rows:
    return [{"customer_id": c, "source_system": "core", "name": c, "id_number": c, "aum": a}
            for c, a in aum.items()]  # fmt: skip


def test_cascade_aum_is_summed_in_the_same_order_in_every_store(tmp_path: Path) -> None:
    # R brought in X, Y and Z. Their AUM was added up in the order of the person indices,
    # which follow each store's id secret: 0.1 + 0.2 + 0.3 is 0.6000000000000001 in one
    # order and 0.6 in another, and GraphQL's cascadeAum showed both (18 of 281 influencers
    # on a 5,000-customer synthetic bank differed in their last digits).
    bank = {"customers": _customers({"R": "0", "X": "0.1", "Y": "0.2", "Z": "0.3"}),
            "referrals": [_referral("R", c, 1) for c in "XYZ"]}  # fmt: skip
    stores = _in_stores(tmp_path, bank)
    orders = {tuple(sorted("XYZ", key=_by_customer(p, np.arange(4)).__getitem__)) for p in stores}
    assert len(orders) > 1  # the secrets number X, Y and Z in more than one order
    found = {_by_customer(p, influence(p).cascade_aum)["R"] for p in stores}
    assert found == {0.1 + 0.2 + 0.3}  # in the order of the customer ids


def test_a_tie_for_first_referrer_goes_to_the_same_referrer_in_every_store(
    tmp_path: Path,
) -> None:
    # P and Q both referred X on one day. X's cascade was the smaller person index's, the
    # order of each store's keyed person ids; it is the referrer's whose first customer
    # record sorts first (P) in every store.
    bank = {"customers": _customers({"P": "1", "Q": "1", "X": "5"}),
            "referrals": [_referral("Q", "X", 1), _referral("P", "X", 1)]}  # fmt: skip
    stores = _in_stores(tmp_path, bank)
    assert {_by_customer(p, np.arange(3))["P"] < _by_customer(p, np.arange(3))["Q"]
            for p in stores} == {True, False}  # fmt: skip
    sizes = [_by_customer(p, influence(p).cascade_size) for p in stores]
    assert all(size == {"P": 1, "Q": 0, "X": 0} for size in sizes)


def test_cascade_aum_is_the_persons_value_counted_once(tmp_path: Path) -> None:
    from relgraph.graph import build_projection
    from relgraph.jobs.analyze import analyze
    from relgraph.store.embedded import EmbeddedStore
    from tests.banks import load, resident_id

    # R brought in A and B. Each has a core and a wealth record (one id number: one person),
    # both reporting the same 300,000: A also holds a deposit account of 100,000 (her value
    # comes from accounts), B holds none (one summary by precedence, never the two summed).
    # Brought in: 400,000, not the 1,200,000 of every summary added up.
    ids = {"A": resident_id("11010519800101002"), "B": resident_id("11010519810101004")}

    def record(cid: str, system: str, person: str) -> dict[str, object]:
        return {"customer_id": cid, "source_system": system, "name": person,
                "id_number": ids[person], "aum": "300000"}  # fmt: skip

    bank = {
        "customers": [
            {"customer_id": "R", "source_system": "core", "name": "R", "id_number": "R"},
            record("A-CORE", "core", "A"), record("A-WEALTH", "wealth", "A"),
            record("B-CORE", "core", "B"), record("B-WEALTH", "wealth", "B"),
        ],
        "accounts": [{"account_id": "A1", "holder_id": "A-CORE", "holder_kind": "customer",
                      "product": "deposit", "balance": "100000", "status": "active"}],
        "referrals": [_referral("R", "A-CORE", 1), _referral("R", "B-WEALTH", 2)],
    }  # fmt: skip
    load(write_bank(tmp_path / "bank", bank), tmp_path / "data")
    with EmbeddedStore(tmp_path / "data") as store:
        projection = build_projection(store)
        assert len(projection.nodes["Person"]) == 3
        assert _by_customer(projection, influence(projection).cascade_aum)["R"] == 400_000.0
        analyze(store, projection)
        stored = store.results_frame("influence")
    assert stored is not None
    assert stored["cascade_aum"].tolist() == [400_000.0]
