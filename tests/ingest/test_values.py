"""Value typing: what a bank writes, what loads, what is refused and why; time zones;
currencies; data-quality flags in the store and the report."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from relgraph.config import ConfigError, format_moment, moment_ms, source_zone
from relgraph.store.embedded import EmbeddedStore

from .conftest import bank_tables, load, read_quarantine, write_bank

CUSTOMER = {"customer_id": "C9", "source_system": "core", "name": "X"}
TRANSFER = {"tx_id": "T9", "from_account": "A1", "to_account": "A2", "currency": "CNY"}
DEVICE = {"device_id": "D9", "customer_id": "C1"}


def _load_with(tmp_path: Path, table: str, rows: list[dict[str, Any]]) -> Path:
    tables = bank_tables()
    if table == "device_links":
        tables[table] = []
    tables[table] += rows
    data = tmp_path / "data"
    load(write_bank(tmp_path / "bank", tables), data)
    return data


def _stored(data: Path, table: str, columns: list[str]) -> pa.Table:
    with EmbeddedStore(data, read_only=True) as store:
        return store.read_table(table, columns)


REFUSED = [
    ("device_links", {**DEVICE, "logins": "1.5"}, "bad_number: logins '1.5' is not a whole number"),
    ("device_links", {**DEVICE, "logins": "2.5"}, "bad_number: logins '2.5' is not a whole number"),
    ("device_links", {**DEVICE, "logins": "1e2"}, "bad_number: logins '1e2' is not a whole number"),
    ("device_links", {**DEVICE, "logins": "1_000"}, "bad_number: logins '1_000' is not a whole number"),
    ("device_links", {**DEVICE, "logins": "1,00"}, "bad_number: logins '1,00' is not a whole number"),
    ("customers", {**CUSTOMER, "aum": "1_000"}, "bad_number: aum '1_000' is not a number"),
    ("customers", {**CUSTOMER, "aum": "1,2345.5"}, "bad_number: aum '1,2345.5' is not a number"),
    ("customers", {**CUSTOMER, "aum": "inf"}, "bad_number: aum 'inf' is not a number"),
    ("customers", {**CUSTOMER, "aum": "1e999"}, "bad_number: aum '1e999' is not a number"),
    ("customers", {**CUSTOMER, "birth_date": "1980-01-06 10:15:00"},
     "bad_date: birth_date '1980-01-06 10:15:00' has a time part; a date is YYYY-MM-DD"),
    ("customers", {**CUSTOMER, "birth_date": "1980-01-06T00:00:00"},
     "bad_date: birth_date '1980-01-06T00:00:00' has a time part; a date is YYYY-MM-DD"),
    ("customers", {**CUSTOMER, "birth_date": "1980-02-30"},
     "bad_date: birth_date '1980-02-30' is not a date (YYYY-MM-DD)"),
    ("customers", {**CUSTOMER, "birth_date": "06/01/1980"},
     "bad_date: birth_date '06/01/1980' is not a date (YYYY-MM-DD)"),
    ("customers", {**CUSTOMER, "birth_date": "2999-01-01"},
     "out_of_range: birth_date '2999-01-01' is after the load date {today}"),
    # DuckDB reads year 0000 as 1 BC; nothing that reads the store can.
    ("customers", {**CUSTOMER, "birth_date": "0000-01-01"},
     "bad_date: birth_date '0000-01-01' is before the year 1"),
    ("customers", {**CUSTOMER, "birth_date": "00000101"},
     "bad_date: birth_date '00000101' is before the year 1"),
    # One such time would move the live index's clock there and leave every verdict empty.
    ("transfers", {**TRANSFER, "amount": "5", "ts": "2999-01-01 10:00:00"},
     "out_of_range: ts '2999-01-01 10:00:00' is after the day after the load date {today}"),
    ("transfers", {**TRANSFER, "amount": "5", "ts": "0000-06-01 10:00:00"},
     "bad_timestamp: ts '0000-06-01 10:00:00' is before the year 1"),
    ("transfers", {**TRANSFER, "amount": "5", "ts": "2024-01-06 25:00:00"},
     "bad_timestamp: ts '2024-01-06 25:00:00' is not an ISO-8601 timestamp"),
    ("transfers", {**TRANSFER, "amount": "5", "ts": "2024-01-06T10:15:00+15:00"},
     "bad_timestamp: ts '2024-01-06T10:15:00+15:00' is not an ISO-8601 timestamp"),
    ("transfers", {**TRANSFER, "amount": "5", "ts": "2024-01-06T10:15:00+14:30"},
     "bad_timestamp: ts '2024-01-06T10:15:00+14:30' is not an ISO-8601 timestamp"),
    ("transfers", {**TRANSFER, "amount": "5", "ts": "06.01.2024 10:15"},
     "bad_timestamp: ts '06.01.2024 10:15' is not an ISO-8601 timestamp"),
    # What a spreadsheet or a program wrote instead of a time: said, so the export is fixed.
    ("transfers", {**TRANSFER, "amount": "5", "ts": "45717.0208333"},
     "bad_timestamp: ts '45717.0208333' is not an ISO-8601 timestamp (a spreadsheet serial "
     "date? format the column as yyyy-mm-dd hh:mm:ss before exporting)"),
    ("transfers", {**TRANSFER, "amount": "5", "ts": "1740760200000"},
     "bad_timestamp: ts '1740760200000' is not an ISO-8601 timestamp (epoch milliseconds? "
     "write it as yyyy-mm-dd hh:mm:ss)"),
    ("customers", {**CUSTOMER, "birth_date": "３２８７４"},
     "bad_date: birth_date '３２８７４' is not a date (YYYY-MM-DD) (a spreadsheet serial date? "
     "format the column as yyyy-mm-dd hh:mm:ss before exporting)"),
    ("transfers", {**TRANSFER, "amount": "5", "currency": "dollars", "ts": "2024-01-06"},
     "bad_enum: currency 'dollars' is not an ISO 4217 code or a currency name relgraph knows "
     "(人民币, 美元, 港币, 欧元 …)"),
]  # fmt: skip


_KEYS = {"customers": "customer_id", "transfers": "tx_id", "device_links": "device_id"}


def _case_id(table: str, row: dict[str, Any], case: int) -> dict[str, Any]:
    """``row`` under an id of its own (``K<case>``), so many cases load side by side."""
    return {**row, _KEYS[table]: f"K{case}"}


def _load_cases(root: Path, cases: list[tuple[str, dict[str, Any]]]) -> Path:
    """One load of the valid bank with every case's row added under its own id.

    Typing reads each row alone (one SQL expression per value), so a row's outcome is the
    same beside the other cases as alone; one load per case made this file the unit run's
    slowest (~2 s of load, most of it linkage, for each of some 60 values)."""
    tables = bank_tables()
    tables["device_links"] = []
    for case, (table, row) in enumerate(cases):
        tables[table].append(_case_id(table, row, case))
    data = root / "data"
    load(write_bank(root / "bank", tables), data)
    return data


@pytest.fixture(scope="module")
def refused_cases(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, list[dict[str, str]]], set[date]]:
    """Every REFUSED row loaded once (one good device link beside them, as a table whose
    every row is refused refuses the whole load): each table's quarantine, and the load
    dates the load may have seen (it may cross midnight in Beijing, 16:00 UTC)."""
    before = datetime.now(source_zone()).date()
    good = ("device_links", {"device_id": "D8", "customer_id": "C1"})
    data = _load_cases(tmp_path_factory.mktemp("refused"), [(t, r) for t, r, _ in REFUSED] + [good])
    after = datetime.now(source_zone()).date()
    return {t: read_quarantine(data, t) for t in _KEYS}, {before, after}


@pytest.mark.parametrize(("table", "row", "reason"), REFUSED)
def test_a_bad_value_is_refused_with_its_reason(
    refused_cases: tuple[dict[str, list[dict[str, str]]], set[date]],
    table: str,
    row: dict[str, Any],
    reason: str,
) -> None:
    quarantine, days = refused_cases
    case = REFUSED.index((table, row, reason))
    key = _KEYS[table]
    # This row is refused once, and no row but REFUSED ones is (the good rows load).
    (refused,) = [r["reason"] for r in quarantine[table] if r[key] == f"K{case}"]
    cases = {f"K{i}" for i, c in enumerate(REFUSED) if c[0] == table}
    assert {r[key] for r in quarantine[table]} <= cases
    assert refused in {reason.format(today=day) for day in days}


def test_a_transfer_of_tomorrow_evening_beijing_time_loads(tmp_path: Path) -> None:
    # A source's clock may run ahead of ours (or its zone differ): a day's grace.
    tomorrow = datetime.now(source_zone()).date() + timedelta(days=1)
    data = _load_with(tmp_path, "transfers", [{**TRANSFER, "amount": "5",
                                               "ts": f"{tomorrow} 23:30:00"}])  # fmt: skip
    stored = _stored(data, "transfers", ["tx_id"]).to_pylist()
    assert {"tx_id": "T9"} in stored


def test_the_day_after_the_load_date_ends_at_midnight_beijing_time(tmp_path: Path) -> None:
    # 00:30 two days on, Beijing time, is 16:30 UTC the day before: after the day after
    # the load date in the bank's zone, though before that day's UTC midnight (it loaded).
    today = datetime.now(source_zone()).date()
    late = today + timedelta(days=2)
    rows = [
        {**TRANSFER, "tx_id": "T8", "amount": "5", "ts": f"{late} 00:30:00"},
        {**TRANSFER, "tx_id": "T7", "amount": "5", "ts": f"{late - timedelta(days=1)}T15:59:59Z"},
    ]
    data = _load_with(tmp_path, "transfers", rows)
    if datetime.now(source_zone()).date() != today:
        pytest.skip("the load crossed midnight in Beijing")
    refused = {r["tx_id"]: r["reason"] for r in read_quarantine(data, "transfers")}
    assert refused == {
        "T8": f"out_of_range: ts '{late} 00:30:00' is after the day after the load date {today}"
    }
    assert {"tx_id": "T7"} in _stored(data, "transfers", ["tx_id"]).to_pylist()


def test_numbers_with_thousands_separators_and_whole_floats_load(tmp_path: Path) -> None:
    rows = [
        {**CUSTOMER, "customer_id": "N1", "aum": "1,234,567.89", "deposits": "１，２３４．５"},
        {**CUSTOMER, "customer_id": "N2", "aum": "-0", "deposits": "1e6", "loans": ".5"},
    ]
    data = _load_with(tmp_path, "customers", rows)
    stored = _stored(data, "customers", ["customer_id", "aum", "deposits", "loans"])
    by_id = {r["customer_id"]: r for r in stored.to_pylist()}
    assert by_id["N1"]["aum"] == 1_234_567.89
    assert by_id["N1"]["deposits"] == 1_234.5
    assert (by_id["N2"]["deposits"], by_id["N2"]["loans"]) == (1e6, 0.5)
    devices = [
        {**DEVICE, "device_id": "D1", "logins": "1,000"},
        {**DEVICE, "device_id": "D2", "logins": "3.0"},
        {**DEVICE, "device_id": "D3", "logins": "+7"},
    ]
    data = _load_with(tmp_path / "devices", "device_links", devices)
    logins = _stored(data, "device_links", ["device_id", "logins"]).to_pylist()
    assert {r["device_id"]: r["logins"] for r in logins} == {"D1": 1000, "D2": 3, "D3": 7}


BOOLEANS = [("Yes", True), ("ｔｒｕｅ", True), ("是", True), ("同意", True), ("Ｎ", False),
            ("否", False), ("不同意", False), ("拒绝", False), ("未授权", False), ("已授权", True)]  # fmt: skip
GENDERS = [("男", "M"), ("女", "F"), ("女性", "F"), ("未知", "U"), ("Female", "F"), ("m", "M")]
DATES = ["2024-01-06", "2024/01/06", "2024/1/6", "2024.01.06", "20240106", "2024年1月6日",
         "２０２４－０１－０６"]  # fmt: skip
# Each written value as the one customer row that carries it (case numbers: their order).
CUSTOMER_CASES: list[tuple[str, dict[str, Any]]] = [
    *(("customers", {**CUSTOMER, "consent_marketing": w}) for w, _ in BOOLEANS),
    *(("customers", {**CUSTOMER, "gender": w}) for w, _ in GENDERS),
    *(("customers", {**CUSTOMER, "birth_date": w}) for w in DATES),
]


@pytest.fixture(scope="module")
def customer_cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Every written boolean, gender and date loaded once: the stored customers by id."""
    data = _load_cases(tmp_path_factory.mktemp("customers"), CUSTOMER_CASES)
    columns = ["customer_id", "consent_marketing", "gender", "birth_date"]
    return {r["customer_id"]: r for r in _stored(data, "customers", columns).to_pylist()}


def _case(column: str, written: str) -> str:
    return f"K{CUSTOMER_CASES.index(('customers', {**CUSTOMER, column: written}))}"


@pytest.mark.parametrize(("written", "expected"), BOOLEANS)
def test_booleans_as_chinese_exports_write_them(
    customer_cases: dict[str, dict[str, Any]], written: str, expected: bool
) -> None:
    assert customer_cases[_case("consent_marketing", written)]["consent_marketing"] is expected


@pytest.mark.parametrize(("written", "expected"), GENDERS)
def test_genders_as_chinese_exports_write_them(
    customer_cases: dict[str, dict[str, Any]], written: str, expected: str
) -> None:
    assert customer_cases[_case("gender", written)]["gender"] == expected


def test_a_value_that_is_no_boolean_is_quarantined_saying_what_is(tmp_path: Path) -> None:
    data = _load_with(tmp_path, "customers", [{**CUSTOMER, "consent_marketing": "可能"}])
    refused = read_quarantine(data, "customers")
    assert [r["reason"] for r in refused if r["customer_id"] == "C9"] == [
        "bad_bool: consent_marketing '可能' is not true/false, yes/no, 1/0 or 是/否"
    ]


@pytest.mark.parametrize("written", DATES)
def test_common_date_formats_load(customer_cases: dict[str, dict[str, Any]], written: str) -> None:
    row = customer_cases[_case("birth_date", written)]
    # A date is its UTC midnight, whatever the zones.
    assert row["birth_date"] == int(datetime(2024, 1, 6, tzinfo=UTC).timestamp() * 1000)


BEIJING_10_15 = int(datetime(2024, 1, 6, 2, 15, tzinfo=UTC).timestamp() * 1000)


TIMESTAMPS = [
    ("2024-01-06 10:15:00", BEIJING_10_15),
    ("2024-01-06T10:15:00", BEIJING_10_15),
    ("2024/01/06 10:15:00", BEIJING_10_15),
    ("2024/1/6 10:15", BEIJING_10_15),
    ("20240106 101500", BEIJING_10_15),
    ("2024-01-06T10:15:00.250", BEIJING_10_15 + 250),
    ("2024-01-06T10:15:00+08:00", BEIJING_10_15),
    ("2024-01-06T02:15:00Z", BEIJING_10_15),
    ("2024-01-06T04:15:00+0200", BEIJING_10_15),
    ("2024-01-05T21:15:00-05:00", BEIJING_10_15),
    ("2024-01-06", BEIJING_10_15 - (10 * 60 + 15) * 60_000),  # midnight in Beijing
]


@pytest.fixture(scope="module")
def timestamp_cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    """Every written time of TIMESTAMPS loaded once: the stored ts by transfer id."""
    rows = [("transfers", {**TRANSFER, "amount": "5", "ts": w}) for w, _ in TIMESTAMPS]
    data = _load_cases(tmp_path_factory.mktemp("timestamps"), rows)
    return {r["tx_id"]: r["ts"] for r in _stored(data, "transfers", ["tx_id", "ts"]).to_pylist()}


@pytest.mark.parametrize(("written", "expected"), TIMESTAMPS)
def test_timestamps_naive_in_the_source_zone_offsets_honoured(
    timestamp_cases: dict[str, int], written: str, expected: int
) -> None:
    assert timestamp_cases[f"K{TIMESTAMPS.index((written, expected))}"] == expected


def test_the_source_zone_is_a_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELGRAPH_SOURCE_TZ", "UTC")
    row = {**TRANSFER, "amount": "5", "ts": "2024-01-06 10:15:00"}
    data = _load_with(tmp_path, "transfers", [row])
    stored = {r["tx_id"]: r["ts"] for r in _stored(data, "transfers", ["tx_id", "ts"]).to_pylist()}
    assert stored["T9"] == BEIJING_10_15 + 8 * 3_600_000
    monkeypatch.setenv("RELGRAPH_SOURCE_TZ", "Mars/Olympus")
    with pytest.raises(ConfigError, match="RELGRAPH_SOURCE_TZ must be an IANA time zone"):
        source_zone()


def test_moments_are_shown_and_read_in_the_display_zone() -> None:
    beijing = source_zone({})
    assert format_moment(BEIJING_10_15, beijing) == "2024-01-06T10:15:00+08:00"
    assert moment_ms("2024-01-06T10:15:00", beijing) == BEIJING_10_15
    assert moment_ms("2024-01-06T02:15:00+00:00", beijing) == BEIJING_10_15


def test_currencies_become_iso_codes(tmp_path: Path) -> None:
    written = [
        "人民币",
        "RMB",
        "元",
        "cny",
        "美元",
        "USD",
        "港币",
        "港元",
        "HKD",
        "欧元",
        "EUR",
        "jpy",
    ]
    rows = [
        {**TRANSFER, "tx_id": f"T{i}0", "amount": "1", "currency": c, "ts": "2024-01-06"}
        for i, c in enumerate(written)
    ]
    data = _load_with(tmp_path, "transfers", rows)
    stored = {
        r["tx_id"]: r["currency"]
        for r in _stored(data, "transfers", ["tx_id", "currency"]).to_pylist()
    }
    assert [stored[f"T{i}0"] for i in range(len(written))] == [
        "CNY", "CNY", "CNY", "CNY", "USD", "USD", "HKD", "HKD", "HKD", "EUR", "EUR", "JPY",
    ]  # fmt: skip


# 11010519491231002X is a valid resident id: born 1949-12-31, sex digit 2 (a woman).
QUALITY_CUSTOMERS = [
    {**CUSTOMER, "customer_id": "Q1", "id_number": "11010519491231002X",
     "birth_date": "1949-12-31", "gender": "F"},
    {**CUSTOMER, "customer_id": "Q2", "id_number": "110105194912310021",
     "birth_date": "1949-12-31", "gender": "F"},
    {**CUSTOMER, "customer_id": "Q3", "id_number": "11010519491231002X",
     "birth_date": "1950-01-01", "gender": "M"},
    {**CUSTOMER, "customer_id": "Q4", "id_number": "110105491231002", "birth_date": "1949-12-30"},
]  # fmt: skip
QUALITY_ENTERPRISES = [
    {"enterprise_id": "E7", "name": "Good", "credit_code": "91350100m000100y43"},
    {"enterprise_id": "E8", "name": "Bad check", "credit_code": "91350100M000100Y44"},
    {"enterprise_id": "E9", "name": "Full width", "credit_code": "９１１１０１０８５５１３８５０８２Ｑ"},
    {"enterprise_id": "E10", "name": "Short", "credit_code": "9135010"},
]  # fmt: skip


def test_quality_findings_keep_the_row_and_are_counted(tmp_path: Path) -> None:
    tables = bank_tables()
    tables["customers"] += QUALITY_CUSTOMERS
    tables["enterprises"] += QUALITY_ENTERPRISES
    data = tmp_path / "data"
    report = load(write_bank(tmp_path / "bank", tables), data)
    flags = {
        r["customer_id"]: r["quality_flags"]
        for r in _stored(data, "customers", ["customer_id", "quality_flags"]).to_pylist()
    }
    assert flags["Q1"] is None
    assert flags["Q2"] == "id_number_check"
    assert flags["Q3"] == "birth_date_mismatch;gender_mismatch"
    assert flags["Q4"] == "birth_date_mismatch"  # a 15-digit id: 491231 is 1949-12-31
    enterprises = {
        r["enterprise_id"]: (r["credit_code_norm"], r["quality_flags"])
        for r in _stored(
            data, "enterprises", ["enterprise_id", "credit_code_norm", "quality_flags"]
        ).to_pylist()
    }
    assert enterprises["E7"] == ("91350100M000100Y43", None)
    assert enterprises["E8"] == ("91350100M000100Y44", "credit_code_check")
    assert enterprises["E9"] == ("91110108551385082Q", None)
    assert enterprises["E10"] == ("9135010", "credit_code_check")
    by_table = {t.table: t for t in report.tables}
    assert by_table["customers"].quarantined == 0
    # C1 and C2 of the base bank carry 11010519720610333X, whose check character is wrong.
    assert flags["C1"] == flags["C2"] == "id_number_check"
    assert by_table["customers"].quality == {
        "birth_date_mismatch": 2, "gender_mismatch": 1, "id_number_check": 3,
    }  # fmt: skip
    assert by_table["enterprises"].quality == {"credit_code_check": 2}
    assert by_table["transfers"].quality == {}


def test_shares_summing_above_the_whole_are_noted_not_quarantined(tmp_path: Path) -> None:
    # Holders of E2 own 60% + 50% + 20% = 130% of it: some row is wrong, nothing says which,
    # so all three load and the report names E2 and the sum. E1's three thirds are a whole.
    tables = bank_tables()
    tables["enterprises"] += [{"enterprise_id": "E2", "name": "Over Owned"}]
    tables["shareholdings"] = [
        {"holder_id": h, "enterprise_id": e, "holder_kind": k, "share": s}
        for h, e, k, s in [
            ("C1", "E2", "customer", "0.6"), ("C3", "E2", "customer", "0.5"),
            ("E1", "E2", "enterprise", "0.2"), ("C1", "E1", "customer", "0.3333"),
            ("C2", "E1", "customer", "0.3333"), ("C3", "E1", "customer", "0.3334"),
        ]
    ]  # fmt: skip
    data = tmp_path / "data"
    report = load(write_bank(tmp_path / "bank", tables), data)
    stakes = next(t for t in report.tables if t.table == "shareholdings")
    assert (stakes.loaded, stakes.quarantined) == (6, 0)
    (note,) = stakes.notes
    assert note.startswith("1 enterprise whose holders' shares sum above 100%: E2 130%;")
    assert "E1" not in note
    assert _stored(data, "shareholdings", ["share"]).num_rows == 6


def test_a_wealth_account_below_0_is_noted_and_loaded(tmp_path: Path) -> None:
    # A wealth product cannot be owed; the account and its holder are real, so the row loads
    # (counting 0 in value) and the report names it. A deposit below 0 is an overdraft: no note.
    tables = bank_tables()
    tables["accounts"] += [
        {"account_id": "W1", "holder_id": "C1", "holder_kind": "customer", "product": "wealth",
         "opened_at": "2022-01-01", "balance": "-3000", "status": "active"},
        {"account_id": "W2", "holder_id": "C3", "holder_kind": "customer", "product": "wealth",
         "opened_at": "2022-01-01", "balance": "800", "status": "active"},
    ]  # fmt: skip
    data = tmp_path / "data"
    report = load(write_bank(tmp_path / "bank", tables), data)
    accounts = next(t for t in report.tables if t.table == "accounts")
    assert (accounts.loaded, accounts.quarantined) == (5, 0)
    (note,) = accounts.notes
    assert note.startswith("1 wealth account with a balance below 0: W1 -3,000.00;")


def test_accounts_in_another_currency_load_with_their_code_and_a_note(tmp_path: Path) -> None:
    # A bank's account extract gives each balance's currency (币种); the code is kept as the
    # transfers' is (美元 is USD), no currency is CNY, and the report counts the foreign ones,
    # whose balances count in no value. An unknown currency cannot be compared: bad_enum.
    tables = bank_tables()
    for row in tables["accounts"]:
        row["currency"] = ""
    tables["accounts"] += [
        {"account_id": f"F{i}", "holder_id": "C1", "holder_kind": "customer", "product": "deposit",
         "opened_at": "2022-01-01", "balance": "1000", "status": "active", "currency": code}
        for i, code in enumerate(["美元", "日元", "人民币", "RMB", "金条"])
    ]  # fmt: skip
    data = tmp_path / "data"
    report = load(write_bank(tmp_path / "bank", tables), data)
    accounts = next(t for t in report.tables if t.table == "accounts")
    assert accounts.quarantined == 1
    assert read_quarantine(data, "accounts")[0]["reason"].startswith("bad_enum: currency '金条'")
    (note,) = accounts.notes
    assert note.startswith("2 accounts in other currencies than CNY: loaded, but their balances")
    stored = _stored(data, "accounts", ["account_id", "currency"]).to_pydict()
    codes = dict(zip(stored["account_id"], stored["currency"], strict=True))
    assert [codes[f"F{i}"] for i in range(4)] == ["USD", "JPY", "CNY", "CNY"]


def test_a_loan_summary_stored_negative_is_owed_not_out_of_range(tmp_path: Path) -> None:
    # A loan system stores the debt as -300000 (as loan accounts may: read either way).
    # Refused as out_of_range, the customer's record went to quarantine and took its
    # accounts with it (unknown_foreign_key): the household's exposure lost the loan.
    tables = bank_tables()
    tables["customers"][0]["loans"] = "-300,000"
    tables["enterprises"][0]["loans"] = "－１０００"
    tables["customers"][1]["aum"] = "-5"  # an asset below 0 is still out of range
    data = tmp_path / "data"
    report = load(write_bank(tmp_path / "bank", tables), data)
    counts = {t.table: (t.loaded, t.quarantined) for t in report.tables}
    assert counts["customers"] == (len(tables["customers"]) - 1, 1)
    assert counts["accounts"][1] == 0
    loans = _stored(data, "customers", ["customer_id", "loans"]).to_pydict()
    assert dict(zip(loans["customer_id"], loans["loans"], strict=True))["C1"] == 300_000.0
    firms = _stored(data, "enterprises", ["enterprise_id", "loans"]).to_pydict()
    assert dict(zip(firms["enterprise_id"], firms["loans"], strict=True))["E1"] == 1000.0


def test_amounts_in_excels_yuan_format_are_read(tmp_path: Path) -> None:
    # Excel saves a currency-formatted cell to CSV as it shows it: ￥1,200.50, -¥500.00.
    # Read as bad_number, each such customer went to quarantine with its accounts.
    tables = bank_tables()
    tables["customers"][0]["aum"] = "￥1,000.50"
    tables["customers"][2]["deposits"] = "10 元"
    tables["accounts"][0]["balance"] = "-¥500.00"
    tables["accounts"].append(  # another currency's sign says nothing of CNY: refused
        {**tables["accounts"][1], "account_id": "A9", "balance": "$20"}
    )
    data = tmp_path / "data"
    report = load(write_bank(tmp_path / "bank", tables), data)
    counts = {t.table: (t.loaded, t.quarantined) for t in report.tables}
    assert counts["customers"] == (len(tables["customers"]), 0)
    assert counts["accounts"] == (len(tables["accounts"]) - 1, 1)
    assert (
        read_quarantine(data, "accounts")[0]["reason"]
        == "bad_number: balance '$20' is not a number"
    )
    stored = _stored(data, "customers", ["customer_id", "aum", "deposits"]).to_pylist()
    by_id = {row["customer_id"]: row for row in stored}
    assert (by_id["C1"]["aum"], by_id["C3"]["deposits"]) == (1000.5, 10.0)
    balance = _stored(data, "accounts", ["account_id", "balance"]).to_pydict()
    assert dict(zip(balance["account_id"], balance["balance"], strict=True))["A1"] == -500.0
