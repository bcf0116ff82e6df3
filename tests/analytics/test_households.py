"""Households and their value on known-answer banks, over the vectorised and networkx versions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from relgraph.analytics.households import find_households, household_values
from relgraph.analytics.params import HouseholdParams
from relgraph.config import ConfigError
from relgraph.graph import Projection
from relgraph.ingest import load_directory
from relgraph.ingest.persons import SOURCE_PRIORITY
from relgraph.jobs.values import values_of
from relgraph.store.embedded import EmbeddedStore
from tests.banks import Rows, loaded_synthetic, project, projection_of, resident_id, write_bank
from tests.oracles import graph_reference as reference

from .conftest import AS_OF_MS, HOUSEHOLD_PARAMS, groups_of

Labeller = Callable[[Projection, HouseholdParams], np.ndarray]


def _vectorised(projection: Projection, params: HouseholdParams) -> np.ndarray:
    return find_households(projection, params).label


IMPLEMENTATIONS = pytest.mark.parametrize(
    "labeller", [_vectorised, reference.household_labels], ids=["vectorised", "networkx"]
)


def _project_people(tmp_path: Path, customers: Rows, family: Rows | None = None) -> Projection:
    """A bank of ``customers`` (and their ``family`` ties) with one enterprise loan and no
    transfers, loaded and projected: households need persons, not money."""
    bank = {"customers": customers, "enterprises": [{"enterprise_id": "E", "name": "E"}],
            "accounts": [{"account_id": "X", "holder_id": "E", "holder_kind": "enterprise", "product": "loan"}],
            **({"family": family} if family else {})}  # fmt: skip
    source = write_bank(tmp_path / "bank", bank)
    (source / "transfers.csv").write_text("tx_id,from_account,to_account,amount,currency,ts\n")
    return project(source, tmp_path / "data")


EXPECTED = {
    frozenset({"C1", "C1B", "C2", "C3"}),  # declared spouse; the son by surname and address
    frozenset({"C4"}),  # flatmates are not a household
    frozenset({"C5"}),
    frozenset({"C6", "C7"}),  # address and a shared tablet
    frozenset({"C8"}),  # money alone does not make a household
    frozenset({"C9"}),
    frozenset({"C10"}),
    frozenset({"C11"}),
}


@IMPLEMENTATIONS
def test_households_of_the_tiny_bank(tiny: Projection, labeller: Labeller) -> None:
    assert groups_of(tiny, labeller(tiny, HOUSEHOLD_PARAMS)) == EXPECTED


def test_household_value_and_head(tiny: Projection) -> None:
    households = find_households(tiny, HOUSEHOLD_PARAMS)
    values = household_values(
        tiny, households, AS_OF_MS, values_of(tiny, None, SOURCE_PRIORITY), HOUSEHOLD_PARAMS
    )
    records = tiny.nodes["CustomerRecord"]
    c1 = int(records.attrs["person"].iloc[records.index("C1")])
    c2 = int(records.attrs["person"].iloc[records.index("C2")])
    wang = values.iloc[households.label[c1]]
    assert wang["size"] == 3  # persons, not records
    # Wang Wei's core record (100) describes him, not core + card (150): never summed.
    assert wang["total_aum"] == pytest.approx(900.0)  # 100 + 300 + 500
    assert wang["deposits"] == pytest.approx(20.0)
    # Wang Xiao has the most AUM but is 14: the head is the richest adult, Li Na.
    assert wang["head_id"] == tiny.nodes["Person"].id_of([c2])[0]
    assert wang["products"] == "deposit;card;wealth"
    assert wang["missing_products"] == "loan"
    assert wang["family_ties"] == 1
    assert wang["coresidence_ties"] == 1  # Wang Xiao–Wang Wei; Li Na keeps her surname
    members = np.flatnonzero(households.label == households.label[c1])
    smallest = min(str(i) for i in tiny.nodes["Person"].id_of(members))
    assert wang["household_id"] == "H" + smallest[1:]
    basis = set(households.tie_basis.tolist())
    assert basis == {"family:spouse", "coresidence:address+surname", "coresidence:address+device"}


def test_head_ties_go_to_deposits_then_age(tmp_path: Path) -> None:
    customers: Rows = [
        {"customer_id": c, "source_system": "core", "name": f"Ma {c}", "id_number": c,
         "birth_date": birth, "address": "5 Lake Rd", "aum": "100", "deposits": dep}
        for c, birth, dep in (("A", "1980-01-01", "10"), ("B", "1970-01-01", "10"), ("C", "1990-01-01", "5"))
    ]  # fmt: skip
    projection = _project_people(tmp_path, customers)
    households = find_households(projection)
    values = household_values(
        projection, households, AS_OF_MS, values_of(projection, None, SOURCE_PRIORITY)
    )
    assert len(values) == 1
    records = projection.nodes["CustomerRecord"]
    b = int(records.attrs["person"].iloc[records.index("B")])
    assert values.iloc[0]["head_id"] == projection.nodes["Person"].id_of([b])[0]  # older of A, B


@IMPLEMENTATIONS
def test_oversized_households_are_cut_back(tmp_path: Path, labeller: Labeller) -> None:
    # Three homes of 4 chained by declared family ties: 12 persons > max_size 10.
    customers: Rows = []
    family: Rows = []
    for home in range(3):
        for i in range(4):
            customers.append({"customer_id": f"H{home}M{i}", "source_system": "core",
                              "name": f"Surname{home} X{i}", "id_number": f"{home}-{i}",
                              "address": f"{home} Hill Rd"})  # fmt: skip
        if home:
            family.append(
                {
                    "customer_id": f"H{home - 1}M0",
                    "relative_id": f"H{home}M0",
                    "relation": "sibling",
                }
            )
    projection = _project_people(tmp_path, customers, family)
    groups = groups_of(projection, labeller(projection, HouseholdParams()))
    assert groups == {frozenset(f"H{h}M{i}" for i in range(4)) for h in range(3)}
    # With a bound of 3 even one home is too big: everyone stands alone.
    alone = groups_of(projection, labeller(projection, HouseholdParams(max_size=3)))
    assert all(len(g) == 1 for g in alone)


GAO_ID = resident_id("11010519850707123")
"""Gao's one valid id number (linkage ignores invalid ones), so his two records are one person."""


def _homes_bank(tmp_path: Path) -> Projection:
    """Family homes with one, two and an ambiguous other resident."""

    def resident(cid: str, name: str, address: str, id_number: str = "") -> dict[str, str]:
        return {"customer_id": cid, "source_system": "core", "name": name,
                "id_number": id_number or cid, "address": address}  # fmt: skip

    customers: Rows = [
        # Father and son tied by surname; the mother kept her own and shares nothing else.
        resident("CHEN1", "Chen Gang", "2 Birch Rd"),
        resident("CHEN2", "Chen Yu", "2 Birch Rd"),
        resident("LIU", "Liu Fang", "2 Birch Rd"),
        # A family home with two more residents, each otherwise alone: both join it.
        resident("ZHANG1", "Zhang Hua", "4 Birch Rd"),
        resident("ZHANG2", "Zhang Min", "4 Birch Rd"),
        resident("MA", "Ma Lin", "4 Birch Rd"),
        resident("HU", "Hu Jun", "4 Birch Rd"),
        # Gao's two records give two addresses, each a family home: he fits both, joins neither.
        resident("FU1", "Fu Qiang", "8 Birch Rd"),
        resident("FU2", "Fu Lan", "8 Birch Rd"),
        resident("PAN1", "Pan Tao", "10 Birch Rd"),
        resident("PAN2", "Pan Jing", "10 Birch Rd"),
        resident("GAO", "Gao Feng", "8 Birch Rd", GAO_ID),
        {**resident("GAO-CARD", "Gao Feng", "10 Birch Rd", GAO_ID), "source_system": "card"},
        # Flatmates: no family at the address, nobody joins anybody.
        resident("TAO", "Tao Ran", "6 Birch Rd"),
        resident("XU", "Xu Ke", "6 Birch Rd"),
    ]
    return _project_people(tmp_path, customers)


@IMPLEMENTATIONS
def test_the_other_residents_of_a_family_home_join_it(tmp_path: Path, labeller: Labeller) -> None:
    projection = _homes_bank(tmp_path)
    alone = {frozenset({c}) for c in ("TAO", "XU")}
    assert groups_of(projection, labeller(projection, HouseholdParams())) == {
        frozenset({"CHEN1", "CHEN2", "LIU"}),
        frozenset({"ZHANG1", "ZHANG2", "MA", "HU"}),
        frozenset({"FU1", "FU2"}),
        frozenset({"PAN1", "PAN2"}),
        frozenset({"GAO", "GAO-CARD"}),
        *alone,
    }
    # The bound holds: a family of 2 may not grow to 3 under max_size 2.
    for params in (HouseholdParams(join_sole_other_resident=0), HouseholdParams(max_size=2)):
        groups = groups_of(projection, labeller(projection, params))
        assert frozenset({"LIU"}) in groups
        assert frozenset({"CHEN1", "CHEN2"}) in groups


def test_a_joined_resident_is_recorded_as_such(tmp_path: Path) -> None:
    projection = _homes_bank(tmp_path)
    households = find_households(projection)
    persons = projection.nodes["Person"]
    joined = households.tie_basis == "coresidence:address+sole-other-resident"
    ids = set(persons.id_of(households.tie_a[joined])) | set(
        persons.id_of(households.tie_b[joined])
    )
    records = projection.nodes["CustomerRecord"]
    liu = persons.id_of([int(records.attrs["person"].iloc[records.index("LIU")])])[0]
    assert joined.sum() == 3  # Liu, and Ma and Hu in the Zhangs' home
    assert liu in ids


def test_a_joined_resident_is_tied_to_the_same_member_in_every_store(tmp_path: Path) -> None:
    # Liu joins the Chens' home through one of them. That was the Chen with the smaller
    # person index, the order of the person ids each store keys with its own secret: under
    # one secret Liu's tie named Chen Gang, under another Chen Yu (61 of 2,864 household
    # ties on a 5,000-customer synthetic bank). It follows the bank's own keys now.
    _homes_bank(tmp_path / "homes")
    found = []
    for secret in ("a" * 40, "c" * 40):
        data = tmp_path / secret[0]
        with EmbeddedStore(data) as store:
            load_directory(tmp_path / "homes" / "bank", store, data, id_secret=secret)
        projection = projection_of(data)
        records = projection.nodes["CustomerRecord"]
        person = records.attrs["person"].to_numpy()
        ids = records.id_of(np.arange(len(person)))
        customer = {int(p): str(c) for p, c in zip(person, ids, strict=True)}
        households = find_households(projection)
        joined = households.tie_basis == "coresidence:address+sole-other-resident"
        ties = {frozenset({customer[int(a)], customer[int(b)]})
                for a, b in zip(households.tie_a[joined], households.tie_b[joined], strict=True)}  # fmt: skip
        chens = [customer[i] for i in sorted(customer) if customer[i].startswith("CHEN")]
        found.append((chens, ties))
    assert [chens for chens, _ in found] == [["CHEN1", "CHEN2"], ["CHEN2", "CHEN1"]]
    assert [ties for _, ties in found] == [
        {frozenset({"LIU", "CHEN1"}), frozenset({"MA", "ZHANG1"}), frozenset({"HU", "ZHANG1"})}
    ] * 2


@IMPLEMENTATIONS
def test_a_parent_and_child_make_a_household_only_under_one_roof(
    tmp_path: Path, labeller: Labeller
) -> None:
    # Declared parent/child ties with different surnames and nothing else shared.
    customers: Rows = [
        {"customer_id": cid, "source_system": "core", "name": name, "id_number": cid,
         **({"address": address} if address else {})}
        for cid, name, address in (
            ("MOVED-P", "Qian Hong", "1 Elm Rd"), ("MOVED-C", "Sun Li", "9 Oak Rd"),  # apart
            ("HOME-P", "Zhou Ping", "3 Elm Rd"), ("HOME-C", "Wu Jie", "3 Elm Rd"),  # one roof
            ("NONE-P", "Zheng Yi", "5 Elm Rd"), ("NONE-C", "Feng Bo", ""),  # cannot tell
            ("WED-A", "He Rui", "7 Elm Rd"), ("WED-B", "Lu Yan", "8 Oak Rd"),  # spouses apart
        )
    ]  # fmt: skip
    family: Rows = [
        {"customer_id": "MOVED-P", "relative_id": "MOVED-C", "relation": "child"},
        {"customer_id": "HOME-C", "relative_id": "HOME-P", "relation": "parent"},
        {"customer_id": "NONE-P", "relative_id": "NONE-C", "relation": "child"},
        {"customer_id": "WED-A", "relative_id": "WED-B", "relation": "spouse"},
    ]
    projection = _project_people(tmp_path, customers, family)
    assert groups_of(projection, labeller(projection, HouseholdParams())) == {
        frozenset({"MOVED-P"}),
        frozenset({"MOVED-C"}),
        frozenset({"HOME-P", "HOME-C"}),
        frozenset({"NONE-P", "NONE-C"}),
        frozenset({"WED-A", "WED-B"}),
    }


@IMPLEMENTATIONS
def test_a_grown_child_whose_records_keep_the_parents_flat_has_left_home(
    tmp_path: Path, labeller: Labeller
) -> None:
    # Hanzi names: the surname is the first character. Wang Jianguo (born 1955) lives in
    # flat 1203; his son's core record gives the son's own flat, his card the old family
    # flat. A family that moved together gives both flats on every member and stays one.
    # Two flatmates of one generation who share only a common surname are two households.
    home = "上海市徐汇区建设路102号翠苑4栋4单元1203室"
    own = "上海市浦东新区长江路198号碧水湾10栋2单元2203室"
    old, new = (
        "北京市朝阳区科技路79号御景园4栋1单元2401室",
        "北京市海淀区幸福路123号世纪城24栋3单元1702室",
    )
    flat = "上海市徐汇区东风路76号书香门第20栋1单元1603室"
    rows = [
        ("WJG", "王建国", "1955-03-01", home, "core"), ("WXM", "王小明", "1985-06-01", own, "core"),
        ("WXM-C", "王小明", "1985-06-01", home, "card"),
        ("LDH", "李德华", "1950-01-01", old, "core"), ("LDH2", "李德华", "1950-01-01", new, "loan"),
        ("LJ", "李军", "1980-01-01", old, "core"), ("LJ2", "李军", "1980-01-01", new, "loan"),
        ("ZA", "张伟", "1995-01-01", flat, "core"), ("ZB", "张磊", "1996-05-05", flat, "core"),
    ]  # fmt: skip
    # One valid id number per person (its birth date inside), so its records are one person.
    customers: Rows = [
        {"customer_id": cid, "source_system": system, "name": name, "birth_date": birth,
         "id_number": resident_id("110105" + birth.replace("-", "") + "123"), "address": address}
        for cid, name, birth, address, system in rows
    ]  # fmt: skip
    projection = _project_people(tmp_path, customers)
    assert groups_of(projection, labeller(projection, HouseholdParams())) == {
        frozenset({"WJG"}),
        frozenset({"WXM", "WXM-C"}),
        frozenset({"LDH", "LDH2", "LJ", "LJ2"}),
        frozenset({"ZA"}),
        frozenset({"ZB"}),
    }


@IMPLEMENTATIONS
def test_one_flat_written_by_three_systems_is_one_home(tmp_path: Path, labeller: Labeller) -> None:
    # Liu Jianhua's core record writes the flat in full; his son's card system keeps the
    # short form with dashes (南山区 alone names two districts, so no city is filled in);
    # his wife's loan system leaves the unit out. One home: the son by surname a generation
    # apart, the wife by the phone she shares with him. In building 28 two flats 1501
    # (units 1 and 2) both fit a loan record without a unit: that one stays apart.
    estate = "南山区幸福路1号锦绣华庭"
    rows = [
        ("LJH", "刘建华", "1960-02-01", "广东省深圳市" + estate + "18栋1单元2704室", "core", "13800000001"),
        ("LY", "刘洋", "1990-07-01", estate + "18-1-2704", "card", "13800000002"),
        ("CML", "陈美玲", "1962-09-01", "深圳市" + estate + "18号楼2704室", "loan", "13800000001"),
        ("WQ", "王强", "1970-01-05", "广东省深圳市" + estate + "28栋1单元1501室", "core", ""),
        ("ZM", "赵敏", "1971-03-05", "广东省深圳市" + estate + "28栋2单元1501室", "core", ""),
        ("WL", "王磊", "1998-04-05", "深圳市" + estate + "28号楼1501室", "loan", ""),
    ]  # fmt: skip
    customers: Rows = [
        {"customer_id": cid, "source_system": system, "name": name, "birth_date": birth,
         "id_number": resident_id("440305" + birth.replace("-", "") + "123"), "address": address,
         **({"phone": phone} if phone else {})}
        for cid, name, birth, address, system, phone in rows
    ]  # fmt: skip
    projection = _project_people(tmp_path, customers)
    assert groups_of(projection, labeller(projection, HouseholdParams())) == {
        frozenset({"LJH", "LY", "CML"}),
        frozenset({"WQ"}),
        frozenset({"ZM"}),
        frozenset({"WL"}),
    }


def test_household_params_reject_a_bad_switch() -> None:
    with pytest.raises(
        ConfigError, match="RELGRAPH_HOUSEHOLD_JOIN_SOLE_OTHER_RESIDENT must be 0 or 1"
    ):
        HouseholdParams.from_env({"RELGRAPH_HOUSEHOLD_JOIN_SOLE_OTHER_RESIDENT": "2"})


def test_vectorised_equals_networkx_on_a_synthetic_bank(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # generate(2_000, 11), loaded once for this test and test_networks' and test_layering's.
    projection = projection_of(loaded_synthetic(tmp_path_factory, 2_000, 11)[1])
    for params in (
        HouseholdParams(),
        HouseholdParams(max_size=3),
        HouseholdParams(join_sole_other_resident=0),
    ):
        households = find_households(projection, params)
        assert np.array_equal(households.label, reference.household_labels(projection, params))
    party = values_of(projection, None, SOURCE_PRIORITY)
    values = household_values(projection, find_households(projection), AS_OF_MS, party)
    persons = projection.nodes["Person"].attrs
    assert values["size"].sum() == len(persons)
    assert values["total_aum"].sum() == pytest.approx(np.nansum(party.aum[: len(persons)]))
    assert (values["size"] > 1).sum() > 100
