"""A customer record quarantined for any reason keeps its marketing refusal (PIPL).

The refusal stands for every person with a loaded record of the same customer (the same
``source_system`` and ``customer_id``, or the same valid id number), so their consent in
``persons`` is false and contact lists leave them out as ``NO_CONSENT``; never by an id
number that fails its check, a phone or a name. The report counts the refusals, the
persons they reach and, by line, those that reach nobody.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from relgraph.analytics.audience import Criteria, campaign_audience
from relgraph.graph import build_projection
from relgraph.ingest import format_report, load_directory
from relgraph.ingest.report import QuarantinedRefusals
from relgraph.jobs.analyze import analyze
from relgraph.jobs.audience import audience_source
from relgraph.store.embedded import EmbeddedStore
from tests.banks import Rows, read_quarantine, resident_id, write_bank

from .conftest import load

WANG_ID = resident_id("11010519700101001")  # 王伟, born 1970-01-01, a man (17th digit odd)
LI_ID = resident_id("11010519850215002")  # 李娜, born 1985-02-15, a woman
HOME = "北京市朝阳区玫瑰路1号"


def _record(cid: str, system: str, name: str, consent: str, **more: Any) -> dict[str, Any]:
    return {"customer_id": cid, "source_system": system, "name": name,
            "consent_marketing": consent, **more}  # fmt: skip


def _persons(data_dir: Path) -> dict[str, bool | None]:
    """Customer id → its person's marketing consent, as stored in ``persons``."""
    with EmbeddedStore(data_dir, read_only=True) as store:
        records = store.read_frame("customers", ["customer_id", "person_id"])
        consent = store.read_frame("persons", ["person_id", "consent_marketing"])
    of_person = dict(zip(consent["person_id"], consent["consent_marketing"], strict=True))
    return {
        c: of_person[p] for c, p in zip(records["customer_id"], records["person_id"], strict=True)
    }


def _dry_run(source: Path, tmp_path: Path) -> QuarantinedRefusals | None:
    return load_directory(source, None, tmp_path / "dry", dry_run=True).quarantined_refusals


@pytest.mark.parametrize("refusal", ["否", "拒绝"])
def test_a_refusal_quarantined_for_its_birth_date_keeps_the_person_off_contact_lists(
    tmp_path: Path, refusal: str
) -> None:
    # 李娜's core record says 否 but its birth date (1985-02-30) does not exist: quarantined.
    # Her card record, same valid id number, says 是. She refused; she must not be called.
    bank: dict[str, Rows] = {
        "customers": [
            _record("W-CORE", "core", "王伟", "是", id_number=WANG_ID, birth_date="1970-01-01",
                    gender="M", address=HOME, aum="300000"),
            _record("L-CORE", "core", "李娜", refusal, id_number=LI_ID, birth_date="1985-02-30",
                    gender="F", address=HOME, aum="200000"),
            _record("L-CARD", "card", "李娜", "是", id_number=LI_ID, address=HOME,
                    products="card"),
        ],
        "family": [{"customer_id": "W-CORE", "relative_id": "L-CARD", "relation": "spouse"}],
    }  # fmt: skip
    source = write_bank(tmp_path / "bank", bank)
    data_dir = tmp_path / "data"
    with EmbeddedStore(data_dir) as store:
        report = load_directory(source, store, data_dir)
        analyze(store, build_projection(store))
        audience = audience_source(store)
        person_of = dict(store.read_frame("customers", ["customer_id", "person_id"]).values)
    assert [r["reason"].split(":")[0] for r in read_quarantine(data_dir, "customers")] == [
        "bad_date"
    ]
    assert _persons(data_dir) == {"W-CORE": True, "L-CARD": False}
    found = campaign_audience(audience, Criteria("HOUSEHOLD")).frame()
    assert [list(c) for c in found["contacts"]] == [[person_of["W-CORE"]]]
    assert found["excluded_no_consent"].tolist() == [1]
    expected = QuarantinedRefusals(records=1, persons=1, kept_off=1)
    assert report.quarantined_refusals == expected
    assert _dry_run(source, tmp_path) == expected


def test_a_refusal_in_a_duplicate_key_row_stands_for_the_row_that_won(tmp_path: Path) -> None:
    # The core system exported 张伟 twice: the first row (是) loads, the second (否, a later
    # answer) is a duplicate_key. No id number: the record key alone says it is him.
    bank: dict[str, Rows] = {
        "customers": [
            _record("C1", "core", "张伟", "是", phone="13800000001"),
            _record("C1", "core", "张伟", "否", phone="13800000001"),
            _record("C2", "core", "刘洋", "是"),
        ]
    }
    source = write_bank(tmp_path / "bank", bank)
    report = load(source, tmp_path / "data")
    assert read_quarantine(tmp_path / "data", "customers")[0]["reason"].startswith("duplicate_key")
    assert _persons(tmp_path / "data") == {"C1": False, "C2": True}
    expected = QuarantinedRefusals(records=1, persons=1, kept_off=1)
    assert report.quarantined_refusals == expected
    assert _dry_run(source, tmp_path) == expected


def test_a_refusal_whose_id_number_fails_its_check_reaches_nobody_and_is_reported(
    tmp_path: Path,
) -> None:
    # A card record says 否 with a mistyped id number (wrong check character) and a bad
    # birth date. The loaded core record carries the very same wrong id number, name and
    # phone, but a wrong id is no identity and a name and phone are shared in families:
    # nobody is touched, and the row is reported by its line for the data team.
    good = resident_id("11010519900101003")
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    bank: dict[str, Rows] = {
        "customers": [
            _record("K1", "core", "孙丽", "是", id_number=wrong, phone="13900000009"),
            _record("K9", "core", "周杰", "是"),
            _record("K2", "card", "孙丽", "否", id_number=wrong, phone="13900000009",
                    birth_date="1990-13-01"),
        ]
    }  # fmt: skip
    source = write_bank(tmp_path / "bank", bank)
    report = load(source, tmp_path / "data")
    assert _persons(tmp_path / "data") == {"K1": True, "K9": True}
    expected = QuarantinedRefusals(records=1, unmatched=1, unmatched_lines=[4])
    assert report.quarantined_refusals == expected
    assert _dry_run(source, tmp_path) == expected
    console = Console(record=True, width=400)
    console.print(format_report(report))
    assert "1 matched no loaded record (customers file line(s) 4)" in console.export_text()
    # Unchanged input: the saved report says the same.
    again = load(source, tmp_path / "data")
    assert again.unchanged
    assert again.quarantined_refusals == expected


def test_a_quarantined_row_that_consents_changes_nothing(tmp_path: Path) -> None:
    # Quarantined rows saying 是 (or nothing) give no consent: 王伟's loaded 否 stands and
    # 刘洋's loaded 是 is untouched.
    bank: dict[str, Rows] = {
        "customers": [
            _record("W1", "core", "王伟", "否", id_number=WANG_ID),
            _record("W2", "card", "王伟", "是", id_number=WANG_ID, segment="vip"),
            _record("L1", "core", "刘洋", "是"),
            _record("L1", "core", "刘洋", "是"),
            _record("L2", "core", "刘洋", "", id_number=LI_ID, aum="abc"),
        ]
    }
    source = write_bank(tmp_path / "bank", bank)
    report = load(source, tmp_path / "data")
    assert report.tables[0].quarantined == 3
    assert _persons(tmp_path / "data") == {"W1": False, "L1": True}
    assert report.quarantined_refusals == QuarantinedRefusals()


def test_a_banks_own_word_for_no_refuses_as_its_mapping_reads_it(tmp_path: Path) -> None:
    # The bank writes 拒绝 and maps it to false in the mapping file's values: a quarantined
    # row saying it (an unknown segment) refuses as a loaded one would.
    bank: dict[str, Rows] = {
        "customers": [
            _record("W1", "core", "王伟", "拒绝", id_number=WANG_ID, segment="vip"),
            _record("W2", "card", "王伟", "是", id_number=WANG_ID),
        ]
    }
    source = write_bank(tmp_path / "bank", bank)
    (source / "mapping.yaml").write_text(
        "files:\n  customers.csv:\n    table: customers\n"
        "    values:\n      consent_marketing: {拒绝: 'false'}\n",
        encoding="utf-8",
    )
    report = load(source, tmp_path / "data")
    assert _persons(tmp_path / "data") == {"W2": False}
    assert report.quarantined_refusals == QuarantinedRefusals(records=1, persons=1, kept_off=1)


@pytest.mark.parametrize(
    ("refused", "loaded"), [("110105850215002", LI_ID), (LI_ID, "110105850215002")]
)
def test_a_first_generation_id_number_is_the_same_customer_as_its_18_character_form(
    tmp_path: Path, refused: str, loaded: str
) -> None:
    # 110105850215002 is 李娜's 15-digit id of before 1999: the loader reads it as LI_ID.
    bank: dict[str, Rows] = {
        "customers": [
            _record("L1", "core", "李娜", "否", id_number=refused, birth_date="1985-02-30"),
            _record("L2", "card", "李娜", "是", id_number=loaded),
        ]
    }
    report = load(write_bank(tmp_path / "bank", bank), tmp_path / "data")
    assert _persons(tmp_path / "data") == {"L2": False}
    assert report.quarantined_refusals == QuarantinedRefusals(records=1, persons=1, kept_off=1)
