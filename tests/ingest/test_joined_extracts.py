"""Exports made by joining extracts into one file: each part brings its own header row."""

from __future__ import annotations

from pathlib import Path

import pytest

from relgraph.ingest import IngestError
from relgraph.store.embedded import EmbeddedStore

from .conftest import bank_tables, load, read_quarantine, write_bank

HEADER = "customer_id,source_system,name,gender,aum,deposits"


def _bank(tmp_path: Path, customers: str) -> Path:
    tables = bank_tables()
    del tables["customers"], tables["family"]
    for account in tables["accounts"]:
        account.update(holder_id="E1", holder_kind="enterprise")
    source = write_bank(tmp_path / "bank", tables)
    (source / "customers.csv").write_text(customers, encoding="utf-8")
    return source


def _aum(data: Path) -> dict[str, tuple[float, float]]:
    with EmbeddedStore(data, read_only=True) as store:
        rows = store.read_table("customers", ["customer_id", "aum", "deposits"]).to_pylist()
    return {r["customer_id"]: (r["aum"], r["deposits"]) for r in rows}


def test_a_repeated_header_is_quarantined_as_one_and_the_rows_after_it_load(
    tmp_path: Path,
) -> None:
    text = f"{HEADER}\nC1,core,张伟,M,100,1\n{HEADER}\nC2,card,李娜,F,200,2\n"
    report = load(_bank(tmp_path, text), tmp_path / "data")
    assert _aum(tmp_path / "data") == {"C1": (100.0, 1.0), "C2": (200.0, 2.0)}
    refused = read_quarantine(tmp_path / "data", "customers")
    assert [(r["source_line"], r["reason"], r["raw_line"]) for r in refused] == [
        ("3", "repeated_header: the line repeats the header row", HEADER)
    ]
    customers = next(t for t in report.tables if t.table == "customers")
    assert customers.reasons == {"repeated_header": 1}


def test_a_repeated_header_with_a_bom_of_its_own_is_still_a_header(tmp_path: Path) -> None:
    text = f"{HEADER}\nC1,core,张伟,M,100,1\n\ufeff{HEADER}\nC2,card,李娜,F,200,2\n"
    load(_bank(tmp_path, text), tmp_path / "data")
    assert set(_aum(tmp_path / "data")) == {"C1", "C2"}
    assert [r["reason"][:15] for r in read_quarantine(tmp_path / "data", "customers")] == [
        "repeated_header"
    ]


@pytest.mark.parametrize(
    ("second", "said"),
    [
        ("customer_id,source_system,name,gender,deposits,aum", r"the columns in another order \(aum, deposits moved\)"),
        ("customer_id,source_system,name,gender,aum,loans", r"other columns \(new: loans; gone: deposits\)"),
    ],
)  # fmt: skip
def test_a_second_header_in_another_layout_stops_before_anything_is_written(
    tmp_path: Path, second: str, said: str
) -> None:
    # Read under line 1's header, C2's aum would have loaded as its deposits, silently.
    source = _bank(tmp_path, f"{HEADER}\nC1,core,张伟,M,100,1\n{second}\nC2,card,李娜,F,2,200\n")
    load(_bank(tmp_path / "good", f"{HEADER}\nC1,core,张伟,M,5,5\n"), tmp_path / "data")
    with pytest.raises(
        IngestError, match=rf"customers\.csv line 3 is a second header row with {said}"
    ):
        load(source, tmp_path / "data")
    assert _aum(tmp_path / "data") == {"C1": (5.0, 5.0)}  # the good store is kept


def test_a_record_whose_values_merely_include_a_column_name_is_a_record(tmp_path: Path) -> None:
    text = f"{HEADER}\nname,core,gender,M,100,1\n"
    load(_bank(tmp_path, text), tmp_path / "data")
    assert _aum(tmp_path / "data") == {"name": (100.0, 1.0)}


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
def test_a_second_export_appended_with_its_byte_order_mark_keeps_its_keys(
    tmp_path: Path, ending: str
) -> None:
    # `cat a.csv b.csv` of two Excel exports: b's BOM starts a line in the middle of the file.
    first = f"{HEADER}\nC1,core,张伟,M,100,1\n".replace("\n", ending)
    second = "\ufeffC2,card,李娜,F,200,2" + ending + "\ufeffC3,card,王芳,F,300,3" + ending
    source = _bank(tmp_path, "\ufeff" + first + second)
    (source / "accounts.csv").write_text(
        "account_id,holder_id,holder_kind,product\nA8,C1,customer,deposit\nA9,C2,customer,deposit\n",
        encoding="utf-8",
    )
    (source / "transfers.csv").write_text(
        "tx_id,from_account,to_account,amount,currency,ts\nT1,A8,A9,1,CNY,2026-06-01 10:00:00\n",
        encoding="utf-8",
    )
    load(source, tmp_path / "data")
    assert sorted(_aum(tmp_path / "data")) == ["C1", "C2", "C3"]
    with EmbeddedStore(tmp_path / "data", read_only=True) as store:
        assert store.read_table("accounts", ["holder_id"]).column(0).to_pylist() == ["C1", "C2"]
