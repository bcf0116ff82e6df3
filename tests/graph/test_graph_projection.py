"""build_projection on the tiny bank: known node and edge counts, neighbours, attributes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from relgraph import model
from relgraph.graph import Projection, ProjectionError, build_projection, graph_stats

from .conftest import BANK, OPTIONAL, StoreFactory

NODE_COUNTS = {
    "Person": 5,
    "CustomerRecord": 6,
    "Account": 8,
    "Device": 4,  # D1 D2 D3 K1
    "Enterprise": 2,
    "Phone": 5,  # four persons' phones and E1's; E2 shares Dan's
    "Email": 4,
    "Address": 3,
    "IdDocument": 4,  # Dan has none
}

EDGE_COUNTS = {
    "CustomerRecord-RECORD_OF->Person": 6,
    "Person-HOLDS->Account": 6,
    "Enterprise-HOLDS->Account": 2,
    "Person-USES_DEVICE->Device": 7,  # C1 and C2 on D1 are one edge
    "Person-HAS_PHONE->Phone": 4,
    "Enterprise-HAS_PHONE->Phone": 2,
    "Person-HAS_EMAIL->Email": 4,
    "Person-LIVES_AT->Address": 4,
    "Enterprise-LIVES_AT->Address": 2,
    "Person-HAS_ID_DOCUMENT->IdDocument": 4,
    "Person-FAMILY->Person": 3,
    "Person-SHAREHOLDER_OF->Enterprise": 2,
    "Enterprise-SHAREHOLDER_OF->Enterprise": 1,
    "Person-POSITION_AT->Enterprise": 3,
    "Person-GUARANTEES->Person": 1,
    "Person-GUARANTEES->Enterprise": 1,
    "Enterprise-GUARANTEES->Person": 1,
    "Enterprise-GUARANTEES->Enterprise": 1,
    "Person-REFERRED->Person": 2,
    "Account-TRANSFER->Account": 6,  # a multigraph: T1 and T2 both A1 → A3
}


def out_ids(p: Projection, edge: str, node_id: str) -> list[str]:
    """Ids of the targets of ``node_id``'s out-edges in ``edge``, in CSR order."""
    es = p.edges[edge]
    i = p.nodes[es.kind.source].index(node_id)
    return list(p.nodes[es.kind.target].id_of(es.neighbors(i)))


def in_ids(p: Projection, edge: str, node_id: str) -> list[str]:
    es = p.edges[edge]
    j = p.nodes[es.kind.target].index(node_id)
    return list(p.nodes[es.kind.source].id_of(es.in_neighbors(j)))


def test_node_and_edge_counts(projection: Projection) -> None:
    stats = graph_stats(projection)
    assert stats == {"nodes": NODE_COUNTS, "edges": EDGE_COUNTS}
    assert list(stats["nodes"]) == list(model.NODE_KINDS)
    assert list(stats["edges"]) == [k.name for k in model.EDGE_KINDS]


def test_ids_are_sorted_whatever_the_row_order(projection: Projection) -> None:
    assert list(projection.nodes["Person"].ids) == ["P1", "P2", "P3", "P4", "P5"]
    assert list(projection.nodes["Device"].ids) == ["D1", "D2", "D3", "K1"]
    assert list(projection.nodes["Address"].ids) == ["1 river rd", "100 industry ave", "9 hill st"]


def test_records_map_to_their_person(projection: Projection) -> None:
    assert out_ids(projection, "CustomerRecord-RECORD_OF->Person", "C2") == ["P1"]
    assert in_ids(projection, "CustomerRecord-RECORD_OF->Person", "P1") == ["C1", "C2"]
    records = projection.nodes["CustomerRecord"]
    persons = projection.nodes["Person"]
    # The `person` attribute column and the RECORD_OF edges say the same thing.
    assert list(persons.id_of(records.attrs["person"])) == ["P1", "P1", "P2", "P3", "P4", "P5"]
    assert records.attrs.loc[records.index("C2"), "source_system"] == "card"


def test_person_and_enterprise_attributes_are_aligned(projection: Projection) -> None:
    persons = projection.nodes["Person"]
    attrs = persons.attrs
    assert list(attrs["person_id"]) == list(persons.ids)
    assert list(attrs.columns) == list(model.PERSON_COLUMNS)
    assert attrs.loc[persons.index("P1"), "name"] == "Alice"
    assert attrs.loc[persons.index("P1"), "aum"] == 500.0
    assert attrs.loc[persons.index("P4"), "birth_date"] == 86_400_000
    assert attrs["birth_date"].dtype == "Int64"  # nullable, even though mostly null
    assert attrs["consent_marketing"].dtype == "boolean"
    enterprises = projection.nodes["Enterprise"]
    assert enterprises.attrs.loc[enterprises.index("E2"), "credit_limit"] == 2e6


def test_accounts_carry_their_holder(projection: Projection) -> None:
    accounts = projection.nodes["Account"]
    attrs = accounts.attrs
    a2, a7 = accounts.index("A2"), accounts.index("A7")
    assert (attrs.loc[a2, "product"], attrs.loc[a2, "balance"]) == ("card", -5.0)
    assert attrs.loc[a2, "person"] == projection.nodes["Person"].index("P1")
    assert attrs.loc[a2, "enterprise"] == -1
    assert attrs.loc[a7, "enterprise"] == projection.nodes["Enterprise"].index("E2")
    assert attrs.loc[a7, "person"] == -1
    assert list(attrs["opened_at"]) == [1000, 2000, 3000, 4000, 5000, 6000, 7000, 0]


def test_holds(projection: Projection) -> None:
    assert out_ids(projection, "Person-HOLDS->Account", "P1") == ["A1", "A2"]
    assert out_ids(projection, "Person-HOLDS->Account", "P4") == ["A8"]
    assert out_ids(projection, "Enterprise-HOLDS->Account", "E1") == ["A6"]
    assert in_ids(projection, "Person-HOLDS->Account", "A7") == []


def test_device_links_collapse_per_person(projection: Projection) -> None:
    edge = "Person-USES_DEVICE->Device"
    assert in_ids(projection, edge, "D1") == ["P1"]
    assert in_ids(projection, edge, "K1") == ["P2", "P3", "P4", "P5"]
    assert out_ids(projection, edge, "P3") == ["D3", "K1"]
    frame = projection.edges[edge].to_frame()
    alice = frame.iloc[0]
    assert (alice.logins, alice.first_seen, alice.last_seen) == (15, 500, 6000)
    # D3 was seen with no logins and no times: nulls stay null, not zero.
    p3_d3 = frame[(frame.source == 2) & (frame.target == 2)].iloc[0]
    assert pd.isna(p3_d3.logins)
    assert pd.isna(p3_d3.first_seen)


def test_device_kind_comes_from_the_links(projection: Projection) -> None:
    devices = projection.nodes["Device"]
    kinds = devices.attrs["device_kind"]
    assert list(kinds[:2]) == ["mobile", "mobile"]
    assert pd.isna(kinds[devices.index("D3")])
    assert kinds[devices.index("K1")] == "kiosk"


def test_identifiers_are_shared_nodes(projection: Projection) -> None:
    assert out_ids(projection, "Person-HAS_PHONE->Phone", "P1") == ["+8613800000001"]
    assert out_ids(projection, "Person-HAS_EMAIL->Email", "P1") == ["alice@card.cn", "alice@x.cn"]
    assert in_ids(projection, "Person-LIVES_AT->Address", "1 river rd") == ["P1", "P2"]
    assert in_ids(projection, "Enterprise-LIVES_AT->Address", "100 industry ave") == ["E1", "E2"]
    # Dan's phone is also E2's: the hidden link the identifier nodes exist to show.
    assert in_ids(projection, "Person-HAS_PHONE->Phone", "+8613800000004") == ["P4"]
    assert in_ids(projection, "Enterprise-HAS_PHONE->Phone", "+8613800000004") == ["E2"]
    assert in_ids(projection, "Person-HAS_ID_DOCUMENT->IdDocument", "ID-A") == ["P1"]
    assert out_ids(projection, "Person-HAS_ID_DOCUMENT->IdDocument", "P4") == []


def test_family_is_directed_without_self_loops_or_duplicates(projection: Projection) -> None:
    frame = projection.edges["Person-FAMILY->Person"].to_frame()
    assert frame.to_dict("list") == {
        "source": [0, 1, 2],
        "target": [1, 0, 4],
        "relation": ["spouse", "spouse", "parent"],
    }


def test_shareholdings_of_one_person_are_summed(projection: Projection) -> None:
    people = projection.edges["Person-SHAREHOLDER_OF->Enterprise"].to_frame()
    assert people.source.tolist() == [0, 3]
    assert people.share.tolist() == pytest.approx([0.3, 0.6])
    firms = projection.edges["Enterprise-SHAREHOLDER_OF->Enterprise"].to_frame()
    assert firms.to_dict("list") == {"source": [0], "target": [1], "share": [0.8]}


def test_positions_keep_distinct_roles(projection: Projection) -> None:
    frame = projection.edges["Person-POSITION_AT->Enterprise"].to_frame()
    assert frame.to_dict("list") == {
        "source": [0, 3, 3],
        "target": [0, 0, 1],
        "role": ["director", "legal_rep", "director"],
    }


@pytest.mark.parametrize(
    ("edge", "guarantor", "borrower", "amount"),
    [
        ("Person-GUARANTEES->Person", "P1", "P3", 2000.0),
        ("Person-GUARANTEES->Enterprise", "P4", "E1", 5e5),
        ("Enterprise-GUARANTEES->Person", "E2", "P2", 1000.0),
        ("Enterprise-GUARANTEES->Enterprise", "E1", "E2", 1e6),
    ],
)
def test_guarantees_in_all_four_party_combinations(
    projection: Projection, edge: str, guarantor: str, borrower: str, amount: float
) -> None:
    assert out_ids(projection, edge, guarantor) == [borrower]
    assert projection.edges[edge].attrs["amount"].tolist() == [amount]


def test_referrals_keep_the_earliest(projection: Projection) -> None:
    frame = projection.edges["Person-REFERRED->Person"].to_frame()
    assert frame.to_dict("list") == {
        "source": [0, 2],
        "target": [2, 4],
        "referred_at": [50, 200],
        "product": ["wealth", "deposit"],
    }


def test_transfers_are_a_multigraph_ordered_by_source_then_time(projection: Projection) -> None:
    es = projection.edges["Account-TRANSFER->Account"]
    assert es.attrs["tx_id"].tolist() == ["T2", "T1", "T3", "T4", "T5", "T6"]
    assert out_ids(projection, "Account-TRANSFER->Account", "A1") == ["A3", "A3"]
    assert in_ids(projection, "Account-TRANSFER->Account", "A1") == ["A8"]
    assert es.attrs["ts"].dtype == np.int64  # required: plain numpy
    assert es.attrs["amount"].tolist()[:2] == [50.0, 100.0]


def test_edge_attributes_follow_the_model(projection: Projection) -> None:
    for kind in model.EDGE_KINDS:
        es = projection.edges[kind.name]
        assert es.kind == kind
        assert tuple(es.attrs.columns) == kind.attributes
        assert len(es.attrs) == len(es)
        assert (es.n_source, es.n_target) == (
            NODE_COUNTS[kind.source],
            NODE_COUNTS[kind.target],
        )
        assert es.src.dtype == np.int32


def test_two_builds_are_identical_whatever_the_row_order(make_store: StoreFactory) -> None:
    with make_store() as first_store, make_store(shuffle_seed=7) as second_store:
        first = build_projection(first_store)
        second = build_projection(second_store)
    for kind in model.NODE_KINDS:
        assert list(first.nodes[kind].ids) == list(second.nodes[kind].ids)
        pd.testing.assert_frame_equal(first.nodes[kind].attrs, second.nodes[kind].attrs)
    for name, es in first.edges.items():
        other = second.edges[name]
        np.testing.assert_array_equal(es.src, other.src)
        np.testing.assert_array_equal(es.dst, other.dst)
        np.testing.assert_array_equal(es.indptr, other.indptr)
        pd.testing.assert_frame_equal(es.attrs, other.attrs)


@pytest.mark.parametrize("absent", [False, True], ids=["empty", "absent"])
def test_optional_tables_may_be_empty_or_absent(make_store: StoreFactory, absent: bool) -> None:
    bank = {name: [] if name in OPTIONAL else rows for name, rows in BANK.items()}
    if absent:
        bank = {name: rows for name, rows in bank.items() if name not in OPTIONAL}
    with make_store(bank=bank) as store:
        stats = graph_stats(build_projection(store))
    assert stats["nodes"] == NODE_COUNTS | {"Device": 0}
    from_optional_tables = {
        "Person-USES_DEVICE->Device",
        "Person-FAMILY->Person",
        "Person-SHAREHOLDER_OF->Enterprise",
        "Enterprise-SHAREHOLDER_OF->Enterprise",
        "Person-POSITION_AT->Enterprise",
        "Person-GUARANTEES->Person",
        "Person-GUARANTEES->Enterprise",
        "Enterprise-GUARANTEES->Person",
        "Enterprise-GUARANTEES->Enterprise",
        "Person-REFERRED->Person",
    }
    assert stats["edges"] == {
        name: 0 if name in from_optional_tables else n for name, n in EDGE_COUNTS.items()
    }


def test_progress_names_each_step_and_meta_is_kept(make_store: StoreFactory) -> None:
    steps: list[str] = []
    with make_store() as store:
        projection = build_projection(store, progress=steps.append)
    assert steps[0] == "persons"
    assert steps[-1] == "transfers"
    assert len(steps) == len(set(steps)) == 12
    assert projection.meta == {"fingerprint": "bank"}


def test_a_dangling_id_is_reported_not_dropped(make_store: StoreFactory) -> None:
    bad = dict(BANK)
    bad["transfers"] = [*BANK["transfers"], {**BANK["transfers"][0], "to_account": "A404"}]
    with make_store(bank=bad) as store, pytest.raises(ProjectionError, match="A404"):
        build_projection(store)


def test_projection_arrays_are_read_only(projection: Projection) -> None:
    es = projection.edges["Account-TRANSFER->Account"]
    with pytest.raises(ValueError, match="read-only"):
        es.src[0] = 3


@pytest.mark.parametrize("junk", ["无", "1.10105E+17", "000000000000000000", "111111111111111111"])
def test_an_id_number_that_names_no_document_links_no_one(
    make_store: StoreFactory, junk: str
) -> None:
    # Carol, Dan and Eve: strangers whose export wrote the same placeholder (or Excel's
    # notation) for their id numbers. Ingest keeps it; the graph must not make it a shared
    # id document, or the three would be one hidden network.
    strangers = {"C4", "C5", "C6"}
    customers = [
        {**row, "id_number_norm": junk} if row["customer_id"] in strangers else row
        for row in BANK["customers"]
    ]
    with make_store(bank={**BANK, "customers": customers}) as store:
        projection = build_projection(store)
    assert list(projection.nodes["IdDocument"].ids) == ["ID-A", "ID-B"]
    for person in ("P3", "P4", "P5"):
        assert out_ids(projection, "Person-HAS_ID_DOCUMENT->IdDocument", person) == []
    assert out_ids(projection, "Person-HAS_ID_DOCUMENT->IdDocument", "P1") == ["ID-A"]
