"""Every kind of bad row is quarantined with its reason; every row is accounted for."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from relgraph.ingest import IngestError
from relgraph.ingest.refusal import LoadRefusedError
from relgraph.store.embedded import EmbeddedStore

from .conftest import bank_tables, load, read_quarantine, write_bank, write_csv


def _spoil(tmp_path: Path, table: str, row: dict[str, Any]) -> Path:
    """The valid bank with ``row`` appended to ``table``."""
    tables = bank_tables()
    tables[table].append(row)
    return write_bank(tmp_path / "bank", tables)


BAD_ROWS = [
    ("customers", {"customer_id": "C9", "source_system": "core", "name": ""},
     "missing_required: name is empty"),
    ("customers", {"customer_id": "C9", "source_system": "mainframe", "name": "X"},
     "bad_enum: source_system 'mainframe' is not one of core, card, loan, wealth"),
    ("customers", {"customer_id": "C9", "source_system": "core", "name": "X", "birth_date": "1990-13-45"},
     "bad_date: birth_date '1990-13-45' is not a date (YYYY-MM-DD)"),
    ("customers", {"customer_id": "C9", "source_system": "core", "name": "X", "aum": "-3"},
     "out_of_range: aum -3.0 must be ≥ 0 and ≤ 10,000,000,000,000"),
    ("customers", {"customer_id": "C9", "source_system": "core", "name": "X", "deposits": "12,5o"},
     "bad_number: deposits '12,5o' is not a number"),
    ("customers", {"customer_id": "C9", "source_system": "core", "name": "X", "consent_marketing": "maybe"},
     "bad_bool: consent_marketing 'maybe' is not true/false, yes/no, 1/0 or 是/否"),
    ("customers", {"customer_id": "C9", "source_system": "core", "name": "X", "products": "card;mortgage"},
     "bad_enum: products 'card;mortgage' holds a code outside deposit, card, loan, wealth"),
    ("customers", {"customer_id": "C1", "source_system": "loan", "name": "Dup"},
     "duplicate_key: customer_id 'C1' already loaded from line 2"),
    ("accounts", {"account_id": "A9", "holder_id": "C404", "holder_kind": "customer", "product": "card"},
     "unknown_foreign_key: holder_id 'C404' names no loaded customer or enterprise"),
    ("accounts", {"account_id": "A9", "holder_id": "E1", "holder_kind": "customer", "product": "card"},
     "unknown_foreign_key: holder_id 'E1' names no loaded customer or enterprise"),
    ("family", {"customer_id": "C1", "relative_id": "C1", "relation": "spouse"},
     "self_reference: customer_id and relative_id are both 'C1'"),
    ("transfers", {"tx_id": "T9", "from_account": "A1", "to_account": "A2", "amount": "0",
                   "currency": "CNY", "ts": "2026-06-01T08:00:00"},
     "out_of_range: amount 0.0 must be > 0 and ≤ 10,000,000,000,000"),
    ("transfers", {"tx_id": "T9", "from_account": "A1", "to_account": "A2", "amount": "nan",
                   "currency": "CNY", "ts": "2026-06-01T08:00:00"},
     "bad_number: amount 'nan' is not a number"),
    ("transfers", {"tx_id": "T9", "from_account": "A1", "to_account": "A2", "amount": "5",
                   "currency": "CNY", "ts": "yesterday"},
     "bad_timestamp: ts 'yesterday' is not an ISO-8601 timestamp"),
]  # fmt: skip


@pytest.mark.parametrize(("table", "row", "reason"), BAD_ROWS)
def test_bad_row_is_quarantined_with_its_reason(
    tmp_path: Path, table: str, row: dict[str, Any], reason: str
) -> None:
    source = _spoil(tmp_path, table, row)
    report = load(source, tmp_path / "data")
    counts = {t.table: t for t in report.tables}
    assert counts[table].quarantined == 1
    assert counts[table].rows_in == counts[table].loaded + 1
    (refused,) = read_quarantine(tmp_path / "data", table)
    assert refused["reason"] == reason
    assert refused["source_line"] == str(len(bank_tables()[table]) + 2)
    # The original text is kept, not the typed value.
    for column, value in row.items():
        assert refused[column] == value
    assert counts[table].reasons == {reason.split(":")[0]: 1}


def test_a_customer_and_an_enterprise_with_one_id_are_two_holders(tmp_path: Path) -> None:
    # Customer 1001 and enterprise 1001 (two systems' numbering) both hold shares in E1 and
    # guarantee its loans: two stakes and two guarantees, not a duplicate of each other.
    tables = bank_tables()
    tables["customers"].append({"customer_id": "1001", "source_system": "core", "name": "Zhao Lei"})
    tables["enterprises"] += [{"enterprise_id": "1001", "name": "Zhao Holdings"}]
    tables["shareholdings"] = [
        {"holder_id": "1001", "enterprise_id": "E1", "holder_kind": kind, "share": share}
        for kind, share in (("customer", "0.6"), ("enterprise", "0.3"))
    ]
    tables["guarantees"] = [
        {"guarantor_id": "1001", "borrower_id": "E1", "guarantor_kind": kind,
         "borrower_kind": "enterprise", "amount": amount}
        for kind, amount in (("customer", "500"), ("enterprise", "700"))
    ]  # fmt: skip
    report = load(write_bank(tmp_path / "bank", tables), tmp_path / "data")
    counts = {t.table: t for t in report.tables}
    assert (counts["shareholdings"].loaded, counts["shareholdings"].quarantined) == (2, 0)
    assert (counts["guarantees"].loaded, counts["guarantees"].quarantined) == (2, 0)
    # The same holder twice is still one.
    tables["shareholdings"].append(dict(tables["shareholdings"][1], share="0.2"))
    report = load(write_bank(tmp_path / "bank2", tables), tmp_path / "data2")
    counts = {t.table: t for t in report.tables}
    assert counts["shareholdings"].reasons == {"duplicate_key": 1}


def test_customer_1001_holding_enterprise_1001_is_no_self_reference(tmp_path: Path) -> None:
    # One id names one party only within its table: the customer owns and guarantees the
    # enterprise with his number. An enterprise holding itself still is one.
    tables = bank_tables()
    tables["customers"].append({"customer_id": "1001", "source_system": "core", "name": "Zhao Lei"})
    tables["enterprises"] += [{"enterprise_id": "1001", "name": "Zhao Holdings"}]
    tables["shareholdings"] = [
        {"holder_id": "1001", "enterprise_id": "1001", "holder_kind": "customer", "share": "0.6"},
        {"holder_id": "1001", "enterprise_id": "1001", "holder_kind": "enterprise", "share": "0.1"},
    ]
    tables["guarantees"] = [
        {"guarantor_id": "1001", "borrower_id": "1001", "guarantor_kind": "customer",
         "borrower_kind": "enterprise", "amount": "500"},
    ]  # fmt: skip
    report = load(write_bank(tmp_path / "bank", tables), tmp_path / "data")
    counts = {t.table: t for t in report.tables}
    assert (counts["guarantees"].loaded, counts["guarantees"].quarantined) == (1, 0)
    assert counts["shareholdings"].loaded == 1
    (refused,) = read_quarantine(tmp_path / "data", "shareholdings")
    assert refused["holder_kind"] == "enterprise"
    assert refused["reason"] == "self_reference: holder_id and enterprise_id are both '1001'"


def test_several_reasons_on_one_row_are_all_given(tmp_path: Path) -> None:
    source = _spoil(
        tmp_path,
        "accounts",
        {"account_id": "A9", "holder_id": "C1", "holder_kind": "person", "product": "stock",
         "balance": "lots"},
    )  # fmt: skip
    load(source, tmp_path / "data")
    (refused,) = read_quarantine(tmp_path / "data", "accounts")
    assert refused["reason"].split("; ") == [
        "bad_enum: holder_kind 'person' is not one of customer, enterprise",
        "bad_enum: product 'stock' is not one of deposit, card, loan, wealth",
        "bad_number: balance 'lots' is not a number",
    ]


def test_a_refused_parent_takes_its_children_with_it(tmp_path: Path) -> None:
    tables = bank_tables()
    tables["customers"][2]["birth_date"] = "31/01/1980"  # C3 refused …
    # … which empties family and transfers, so the load is refused; its report says why.
    with pytest.raises(LoadRefusedError) as refused:
        load(write_bank(tmp_path / "bank", tables), tmp_path / "data")
    report = refused.value.report
    by_table = {t.table: t for t in report.tables}
    # … so A2 (held by C3), T1/T2 (through A2) and the family tie are refused too, each saying why.
    assert by_table["accounts"].reasons == {"unknown_foreign_key": 1}
    assert by_table["transfers"].quarantined == 2
    assert by_table["family"].quarantined == 1
    assert all(t.rows_in == t.loaded + t.quarantined for t in report.tables)


def test_malformed_csv_lines_are_quarantined_not_fatal(tmp_path: Path, bank_dir: Path) -> None:
    path = bank_dir / "transfers.csv"
    text = path.read_text()
    path.write_text(text + 'T7,A1,A2\nT8,A1,A2,5,CNY,2026-06-02T00:00:00,extra\n"T9,A1\n')
    report = load(bank_dir, tmp_path / "data")
    transfers = next(t for t in report.tables if t.table == "transfers")
    assert transfers.rows_in == 5
    assert transfers.loaded == 2
    assert transfers.reasons == {"malformed_line": 3}
    refused = read_quarantine(tmp_path / "data", "transfers")
    assert [r["source_line"] for r in refused] == ["4", "5", "6"]
    assert refused[0]["raw_line"] == "T7,A1,A2"
    assert all(r["reason"].startswith("malformed_line: ") for r in refused)


def test_parquet_input_loads_like_csv(
    tmp_path: Path, bank_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pandas as pd

    monkeypatch.setenv("RELGRAPH_ID_SECRET", "s" * 40)  # one secret for both data dirs
    parquet_dir = tmp_path / "parquet"
    parquet_dir.mkdir()
    for csv_file in bank_dir.glob("*.csv"):
        frame = pd.read_csv(csv_file, dtype=str, keep_default_na=False)
        frame.to_parquet(parquet_dir / f"{csv_file.stem}.parquet", index=False)
    load(bank_dir, tmp_path / "from-csv")
    load(parquet_dir, tmp_path / "from-parquet")
    with (
        EmbeddedStore(tmp_path / "from-csv", read_only=True) as a,
        EmbeddedStore(tmp_path / "from-parquet", read_only=True) as b,
    ):
        for name in a.table_names():
            assert a.read_table(name).equals(b.read_table(name)), name


def test_missing_required_table_stops_and_writes_nothing(tmp_path: Path, bank_dir: Path) -> None:
    (bank_dir / "accounts.csv").unlink()
    with pytest.raises(IngestError, match=r"required table\(s\) missing .*: accounts"):
        load(bank_dir, tmp_path / "data")
    with EmbeddedStore(tmp_path / "data", read_only=True) as store:
        assert store.table_names() == []
    assert not (tmp_path / "data" / "quarantine").exists()


def test_missing_required_column_names_it(tmp_path: Path) -> None:
    tables = bank_tables()
    source = write_bank(tmp_path / "bank", tables)
    columns = [c for c in tables["transfers"][0] if c != "currency"]
    write_csv(source / "transfers.csv", tables["transfers"], columns)
    with pytest.raises(
        IngestError, match=r"transfers.csv: table 'transfers' lacks required column\(s\) currency"
    ):
        load(source, tmp_path / "data")


def test_table_given_twice_is_refused(tmp_path: Path, bank_dir: Path) -> None:
    (bank_dir / "family.parquet").write_bytes(b"")
    with pytest.raises(IngestError, match="table 'family' is given twice"):
        load(bank_dir, tmp_path / "data")


def test_unknown_columns_are_reported_and_kept_in_quarantine(tmp_path: Path) -> None:
    tables = bank_tables()
    for row in tables["family"]:
        row["note"] = "from branch 12"
    tables["family"].append(
        {"customer_id": "C1", "relative_id": "C404", "relation": "child", "note": "x"}
    )
    report = load(write_bank(tmp_path / "bank", tables), tmp_path / "data")
    family = next(t for t in report.tables if t.table == "family")
    assert family.ignored_columns == ["note"]
    (refused,) = read_quarantine(tmp_path / "data", "family")
    assert refused["note"] == "x"


VALID_ROW: dict[str, dict[str, str]] = {
    "customers": {"customer_id": "C7", "source_system": "core", "name": "Zhou Min"},
    "enterprises": {"enterprise_id": "E7", "name": "Zhou Trading"},
    "accounts": {"account_id": "A7", "holder_id": "C1", "holder_kind": "customer", "product": "card"},
    "device_links": {"device_id": "D7", "customer_id": "C1"},
    "family": {"customer_id": "C3", "relative_id": "C1", "relation": "spouse"},
    "shareholdings": {"holder_id": "C1", "enterprise_id": "E1", "holder_kind": "customer", "share": "0.5"},
    "positions": {"customer_id": "C1", "enterprise_id": "E1", "role": "director"},
    "guarantees": {"guarantor_id": "C1", "borrower_id": "E1", "guarantor_kind": "customer",
                   "borrower_kind": "enterprise", "amount": "100"},
    "referrals": {"referrer_id": "C1", "referred_id": "C3"},
    "transfers": {"tx_id": "T7", "from_account": "A1", "to_account": "A2", "amount": "5",
                  "currency": "CNY", "ts": "2026-06-01T08:00:00"},
    "contacts": {"contact_id": "K7", "party_id": "C1", "party_kind": "customer",
                 "ts": "2026-06-01T08:00:00", "campaign_id": "M1"},
}  # fmt: skip
"""One valid row per table (referring to the valid bank's rows)."""

SPOILERS = ("=1+1", "+C1", "-C1", "@SUM(A1)", "\tC1", "C1\r", "C\n1", "C\x1b1", "C\x7f1",
            "6.222E+15", "6E+15", "账" * 65)  # fmt: skip
"""Formula starts, control characters (tab, CR, newline, escape, delete), account numbers
Excel saved in scientific notation, their digits lost, and an id of 65 characters."""


def test_ids_a_spreadsheet_would_run_are_quarantined_in_every_id_column(tmp_path: Path) -> None:
    from relgraph import model

    assert set(VALID_ROW) == {t.name for t in model.INPUT_TABLES}
    tables = {name: list(rows) for name, rows in bank_tables().items()}
    spoiled: dict[str, list[tuple[str, str]]] = {}
    n = 0
    for table in model.INPUT_TABLES:
        columns = table.id_columns
        assert set(table.key) <= set(columns)
        assert {fk.column for fk in table.foreign_keys} <= set(columns)
        for column in columns:
            value = SPOILERS[n % len(SPOILERS)]
            n += 1
            tables.setdefault(table.name, []).append({**VALID_ROW[table.name], column: value})
            spoiled.setdefault(table.name, []).append((column, value))
        tables[table.name].append(dict(VALID_ROW[table.name]))  # the clean row still loads
    report = load(write_bank(tmp_path / "bank", tables), tmp_path / "data")
    counts = {t.table: t for t in report.tables}
    assert n >= 20  # customer, enterprise, account, device, tx, contact, holder… ids
    for table, cases in spoiled.items():
        assert counts[table].reasons.get("bad_id") == len(cases), table
        assert counts[table].loaded == len(bank_tables().get(table, [])) + 1, table
        refused = read_quarantine(tmp_path / "data", table)
        for (column, value), row in zip(cases, refused, strict=True):
            assert f"bad_id: {column} '" in row["reason"], (table, column)
            # The text as written, inert when a spreadsheet would run it (its bytes are
            # in raw_line).
            inert = value[0] in "=+-@\t"
            assert row[column] == ("'" + value if inert else value), (table, column)


def test_an_id_past_64_characters_or_an_amount_past_ten_trillion_is_another_columns_value(
    tmp_path: Path,
) -> None:
    # A shifted column in an export: an address where the customer id was, a card number where
    # the amount was. Loaded, the card number would be a transfer of 6.2e15 yuan.
    tables = bank_tables()
    longest, too_long = "客户" * 32, "客户" * 32 + "1"
    for customer_id in (longest, too_long):
        tables["customers"].append(
            {"customer_id": customer_id, "source_system": "core", "name": "周敏"}
        )
    tables["transfers"] = [
        {**VALID_ROW["transfers"], "tx_id": "T-largest", "amount": "10,000,000,000,000"},
        {**VALID_ROW["transfers"], "tx_id": "T-card", "amount": "6222000000000001"},
        {**VALID_ROW["transfers"], "tx_id": "T-owed", "amount": "10000000000000.01"},
    ]
    load(write_bank(tmp_path / "bank", tables), tmp_path / "data")
    refused = read_quarantine(tmp_path / "data", "customers")
    assert [r["customer_id"] for r in refused] == [too_long]
    assert refused[0]["reason"].startswith("bad_id: customer_id '客户客户")
    assert "is longer than 64 characters" in refused[0]["reason"]
    moved = {r["tx_id"]: r["reason"] for r in read_quarantine(tmp_path / "data", "transfers")}
    assert set(moved) == {"T-card", "T-owed"}
    assert moved["T-card"].startswith("out_of_range: amount 6222000000000001")
    assert "must be > 0 and ≤ 10,000,000,000,000" in moved["T-card"]
    with EmbeddedStore(tmp_path / "data", read_only=True) as store:
        ids = store.read_table("customers", ["customer_id"]).column(0).to_pylist()
        amounts = store.read_table("transfers", ["tx_id", "amount"]).to_pylist()
    assert longest in ids
    assert amounts == [{"tx_id": "T-largest", "amount": 1e13}]


def test_ids_with_inner_hyphens_hanzi_and_negative_amounts_still_load(tmp_path: Path) -> None:
    tables = bank_tables()
    tables["customers"].append(
        {"customer_id": "客户-0042", "source_system": "core", "name": "周敏"}
    )
    tables["accounts"].append(
        {"account_id": "6222-0001", "holder_id": "客户-0042", "holder_kind": "customer",
         "product": "deposit", "balance": "-12.5"}
    )  # fmt: skip
    report = load(write_bank(tmp_path / "bank", tables), tmp_path / "data")
    assert report.quarantined == 0


def test_quarantine_files_hold_no_formula_a_spreadsheet_would_run(tmp_path: Path) -> None:
    tables = bank_tables()
    link = '=HYPERLINK("http://x","click")'
    tables["customers"] += [
        {"customer_id": "C8", "source_system": "mainframe", "name": link, "aum": "-12.5"},
        {"customer_id": "=1+1", "source_system": "core", "name": "+cmd|' /C calc'!A0"},
    ]
    load(write_bank(tmp_path / "bank", tables), tmp_path / "data")
    by_line = {r["source_line"]: r for r in read_quarantine(tmp_path / "data", "customers")}
    c8, formula = by_line["5"], by_line["6"]
    assert (c8["name"], c8["aum"]) == ("'" + link, "-12.5")  # a signed number is inert
    assert (formula["customer_id"], formula["name"]) == ("'=1+1", "'+cmd|' /C calc'!A0")
    assert formula["raw_line_encoding"] == "base64"  # the line itself starts with =
    assert base64.b64decode(formula["raw_line"]).decode().startswith("=1+1,core,")
    assert c8["raw_line_encoding"] == "utf-8"


def test_each_column_is_typed_once_in_its_table_statement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reasons read a typed value by name: written into each reason that tests it, the
    typing rules made the statement up to four times longer, and DuckDB's parse and plan of
    it were half of a small load's time (RESULTS, 2026-12-07)."""
    import relgraph.ingest.load as load_module
    from relgraph.ingest import validate

    statements: dict[str, str] = {}

    class Recording:
        def __init__(self, con: Any) -> None:
            self._con = con

        def execute(self, sql: str, *args: Any) -> Any:
            statements[sql.split(" AS ", 1)[0].rsplit(" ", 1)[-1]] = sql
            return self._con.execute(sql, *args)

    def recorded(con: Any, raw: Any, **kwargs: Any) -> None:
        validate.type_rows(Recording(con), raw, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(load_module, "type_rows", recorded)
    spoilt = {"tx_id": "T9", "from_account": "A1", "to_account": "A2", "amount": "-5", "ts": "x"}
    load(_spoil(tmp_path, "transfers", spoilt), tmp_path / "data")
    transfers = statements["typed_transfers"]
    amount = validate._float_sql(validate._text("amount", True))
    ts = validate.timestamp_sql(validate._text("ts", True), validate.source_zone())
    assert transfers.count(amount) == 1  # was 4: typed, bad_number, out_of_range twice
    assert transfers.count(ts) == 1  # was 4: typed, year 1, after the load date, bad_timestamp
    # ... and the reasons that read them by name still say what is wrong.
    (refused,) = read_quarantine(tmp_path / "data", "transfers")
    assert refused["reason"] == (
        "out_of_range: amount -5.0 must be > 0 and ≤ 10,000,000,000,000; "
        "missing_required: currency is empty; bad_timestamp: ts 'x' is not an ISO-8601 timestamp"
    )
