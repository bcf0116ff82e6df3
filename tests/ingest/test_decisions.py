"""Reviewers' SAME / DIFFERENT decisions: the next load obeys them, later loads keep obeying,
and every record a decision touched says so in its evidence."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from relgraph.ingest.decisions import decided_pairs
from relgraph.ingest.linkage import resolve
from relgraph.ingest.report import REPORT_FILE, format_report
from relgraph.journal.decisions import DIFFERENT, SAME, DecisionBook
from relgraph.store.embedded import EmbeddedStore
from tests.banks import Rows, load, write_bank

from .test_linkage import resident_id

ZHANG = resident_id("11010519800101123")
TWIN_A = resident_id("44030319950505101")
TWIN_B = resident_id("44030319950505103")
SHARED = resident_id("32010219600303202")
"""A mother's id number, also typed on her son's loan record (which has no birth date or sex
to contradict it, so the id is evidence there too)."""


def _record(cid: str, system: str, name: str, **extra: str) -> dict[str, str]:
    return {"customer_id": cid, "source_system": system, "name": name, **extra}


RECORDS: Rows = [
    # 张伟 in core, and on a card without an id number: the model merges them.
    _record("C1", "core", "张伟", id_number=ZHANG, birth_date="1980-01-01", gender="M",
            phone="13800001111", address="北京市朝阳区建国路1号"),
    _record("K1", "card", "张伟", birth_date="1980-01-01", gender="M", phone="+86 138 0000 1111"),
    # Twins: one flat, one name, one birthday, two valid id numbers: never merged by the model.
    _record("T1", "core", "赵磊", id_number=TWIN_A, birth_date="1995-05-05", gender="M",
            phone="13900002222", address="广东省深圳市南山区科技园路8号"),
    _record("T2", "core", "赵磊", id_number=TWIN_B, birth_date="1995-05-05", gender="M",
            phone="13900002222", address="广东省深圳市南山区科技园路8号"),
    # One id number on two people (the mother's, typed on her son's loan): merged by rule.
    _record("S1", "core", "王芳", id_number=SHARED, birth_date="1960-03-03", gender="F"),
    _record("S2", "loan", "陈小明", id_number=SHARED),
    # Three records of 李娜 without an id number that all agree: one person.
    _record("A", "core", "李娜", birth_date="1985-08-08", gender="F", phone="13700003333",
            address="上海市浦东新区世纪大道100号"),
    _record("B", "card", "李娜", birth_date="1985-08-08", gender="F", phone="13700003333",
            address="上海市浦东新区世纪大道100号"),
    _record("C", "loan", "李娜", birth_date="1985-08-08", gender="F", phone="13700003333",
            address="上海市浦东新区世纪大道100号"),
]  # fmt: skip


def _decision(evidence: object) -> str | None:
    """The decision leading a record's evidence (a JSON waterfall), if any."""
    items = json.loads(str(evidence)) if isinstance(evidence, str) else []
    return items[0]["level"] if items and items[0]["comparison"] == "decision" else None


def _bank(folder: Path, records: Rows) -> Path:
    return write_bank(
        folder, {"customers": records, "enterprises": [{"enterprise_id": "E", "name": "E"}]}
    )


def _customers(data: Path) -> pd.DataFrame:
    with EmbeddedStore(data, read_only=True) as store:
        return store.read_frame("customers").set_index("customer_id")


def _band(data: Path) -> set[tuple[str, str]]:
    with EmbeddedStore(data, read_only=True) as store:
        band = store.read_frame("possible_duplicates")
    pairs = zip(band["customer_a"], band["customer_b"], strict=True)
    return {(min(a, b), max(a, b)) for a, b in pairs}


@pytest.fixture
def loaded(tmp_path: Path) -> tuple[Path, Path]:
    bank, data = _bank(tmp_path / "bank", RECORDS), tmp_path / "data"
    load(bank, data)
    before = _customers(data)["person_id"]
    # What the decisions below overturn is what the model decided on its own.
    assert before["C1"] == before["K1"]
    assert before["T1"] != before["T2"]
    assert before["S1"] == before["S2"]
    assert before["A"] == before["B"] == before["C"]
    return bank, data


def test_a_different_decision_splits_and_survives_reloads(loaded: tuple[Path, Path]) -> None:
    bank, data = loaded
    DecisionBook(data).record("Dx", "K1", "C1", DIFFERENT, "卡户不是本人", by="k_analyst")
    report = load(bank, data)
    assert not report.unchanged, "a new decision is a new load, with the files unchanged"
    customers = _customers(data)
    assert customers.loc["C1", "person_id"] != customers.loc["K1", "person_id"]
    for cid in ("C1", "K1"):
        assert _decision(customers.loc[cid, "match_evidence"]) == "different"
    assert ("C1", "K1") not in _band(data), "a decided pair is not offered for review again"
    # A later load of changed files (one more customer) still keeps them apart.
    more = [*RECORDS, _record("N1", "core", "孙梅", birth_date="1990-02-02", gender="F")]
    report = load(_bank(bank.parent / "bank2", more), data)
    assert not report.unchanged
    customers = _customers(data)
    assert customers.loc["C1", "person_id"] != customers.loc["K1", "person_id"]
    assert load(bank.parent / "bank2", data).unchanged
    assert _customers(data).loc["K1", "person_id"] == customers.loc["K1", "person_id"]


def test_a_same_decision_merges_two_valid_id_numbers_with_the_decision_as_evidence(
    loaded: tuple[Path, Path],
) -> None:
    bank, data = loaded
    DecisionBook(data).record("Dt", "T1", "T2", SAME, "同一客户，证件号录错", by="cli:reviewer")
    load(bank, data)
    customers = _customers(data)
    assert customers.loc["T1", "person_id"] == customers.loc["T2", "person_id"]
    for cid in ("T1", "T2"):
        assert customers.loc[cid, "match_score"] == 1.0
        assert _decision(customers.loc[cid, "match_evidence"]) == "same"
    # The merged person is keyed by one of its id numbers, as any person with one is.
    with EmbeddedStore(data, read_only=True) as store:
        assert store.read_table("persons").num_rows == 4  # 张伟, 赵磊, 王芳 + 陈小明 as one, 李娜


def test_a_different_decision_splits_records_that_share_one_id_number(
    loaded: tuple[Path, Path],
) -> None:
    bank, data = loaded
    DecisionBook(data).record("Ds", "S1", "S2", DIFFERENT, "母子", by="k_risk")
    load(bank, data)
    customers = _customers(data)
    assert customers.loc["S1", "person_id"] != customers.loc["S2", "person_id"]
    with EmbeddedStore(data, read_only=True) as store:
        persons = store.read_frame("persons").set_index("person_id")
    assert persons.loc[customers.loc["S1", "person_id"], "name"] == "王芳"
    assert persons.loc[customers.loc["S2", "person_id"], "name"] == "陈小明"


def test_a_different_decision_holds_through_a_third_record(loaded: tuple[Path, Path]) -> None:
    bank, data = loaded
    DecisionBook(data).record("Da", "A", "C", DIFFERENT, "", by="k_analyst")
    load(bank, data)
    person = _customers(data)["person_id"]
    assert person["A"] != person["C"], "B agrees with both, but must not chain them"
    assert person["B"] in (person["A"], person["C"])


def test_the_latest_decision_on_a_pair_wins(loaded: tuple[Path, Path]) -> None:
    bank, data = loaded
    book = DecisionBook(data)
    book.record("Dt", "T1", "T2", SAME, "", by="k_analyst")
    book.record("Dt", "T2", "T1", DIFFERENT, "双胞胎", by="k_risk")
    assert decided_pairs(data).different == {("T1", "T2")}
    load(bank, data)
    person = _customers(data)["person_id"]
    assert person["T1"] != person["T2"]


def test_a_same_decision_joins_records_no_blocking_key_paired() -> None:
    # Nothing in common: blocking never compares them, the reviewer's word is enough.
    records = pd.DataFrame(
        {
            "customer_id": ["X", "Y", "Z"],
            "name_norm": ["周杰", "zhou jie", "吴芳"],
            "id_number_norm": [None, None, None],
            "birth_date": [0, None, 100],
            "gender": ["M", None, "F"],
            "phone_norm": ["13500001111", "13600002222", None],
            "email_norm": [None, None, None],
            "address_norm": [None, None, None],
        }
    )
    result = resolve(records, same=frozenset({("X", "Y")}))
    assert result.person_id[0] == result.person_id[1] != result.person_id[2]
    assert _decision(result.match_evidence[0]) == _decision(result.match_evidence[1]) == "same"
    # A decision naming a record this load does not hold changes nothing.
    alone = resolve(records, different=frozenset({("X", "gone")}))
    assert len(set(alone.person_id)) == 3


def test_two_persons_never_share_the_id_one_person_had_before() -> None:
    # The last load made A and B one person; now they disagree (B's phone and birth date
    # changed), and both still carry that person's id from the store.
    records = pd.DataFrame(
        {
            "customer_id": ["A", "B"],
            "name_norm": ["郑洁", "郑洁"],
            "id_number_norm": [None, None],
            "birth_date": [0, 10**11],
            "gender": ["F", "F"],
            "phone_norm": ["13300001111", "13300009999"],
            "email_norm": [None, None],
            "address_norm": [None, None],
        }
    )
    previous = pd.Series({"A": "P0123456789abcdef", "B": "P0123456789abcdef"})
    result = resolve(records, previous=previous)
    assert result.person_id[0] != result.person_id[1]
    assert "P0123456789abcdef" in set(result.person_id), "one of them keeps it"


def test_a_same_decision_the_load_cannot_follow_is_reported_with_why(
    loaded: tuple[Path, Path],
) -> None:
    bank, data = loaded
    book = DecisionBook(data)
    # T1 = T2 and T2 = S1 would make T1 and S1 one person, which a reviewer said they are not.
    book.record("D1", "T1", "T2", SAME, "", by="k_analyst")
    book.record("D2", "T2", "S1", SAME, "", by="k_analyst")
    book.record("D3", "T1", "S1", DIFFERENT, "", by="k_risk")
    # A record the exports no longer hold.
    book.record("D4", "A", "GONE9", SAME, "", by="k_analyst")
    report = load(bank, data)
    person = _customers(data)["person_id"]
    assert person["T1"] != person["S1"]
    assert report.identity is not None
    unapplied = report.identity.unapplied_same
    assert {(u["customer_a"], u["customer_b"]) for u in unapplied} == {
        ("A", "GONE9"),
        ("S1", "T2") if person["T1"] == person["T2"] else ("T1", "T2"),
    }
    why = {u["customer_b"]: u["reason"] for u in unapplied}
    assert "not in this load" in why["GONE9"]
    assert "DIFFERENT" in why["T2"]
    # Followed decisions are not listed, and the report file and printout carry them.
    saved = json.loads((data / REPORT_FILE).read_text())
    assert saved["identity"]["unapplied_same"] == unapplied
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(format_report(report))
    printed = console.export_text()
    assert "SAME decisions not followed" in printed
    assert "GONE9" in printed
