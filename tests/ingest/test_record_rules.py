"""The server's record rules and the loader's SQL rules decide alike on the same records."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from relgraph import model
from relgraph.ingest.moments import timestamp_sql
from relgraph.ingest.sql import connect, literal
from relgraph.record_rules import check_record, currency, timestamp_ms
from relgraph.store.embedded import EmbeddedStore
from tests import docbank
from tests.banks import load, read_quarantine, write_bank

TEXT_VALUES = [
    ("ok", {}),
    ("grouped", {"amount": "1,234,567.89"}),
    ("fullwidth", {"amount": "１，２３４"}),
    # Excel's currency format in a CSV, and 元 after the amount: the number is read.
    ("yuan-sign", {"amount": "￥1,200.50"}),
    ("yuan-word", {"amount": "1,200.50 元"}),
    ("yuan-both", {"amount": "¥1,200元"}),
    ("yuan-alone", {"amount": "¥"}),
    ("dollar-sign", {"amount": "$1,200.50"}),
    ("zero", {"amount": "0"}),
    ("negative", {"amount": "-12.5"}),
    ("letters", {"amount": "12abc"}),
    ("badgroups", {"amount": "1,23,4"}),
    ("nan", {"amount": "NaN"}),
    ("self", {"to_account": "A1"}),
    ("currency-name", {"currency": "人民币"}),
    ("currency-bad", {"currency": "yuanbao"}),
    ("ts-offset", {"ts": "2026-06-10T09:00:00+08:00"}),
    ("ts-space", {"ts": "2026-06-10 09:00"}),
    ("ts-bad", {"ts": "yesterday"}),
    ("ts-missing", {"ts": ""}),
    # Forms the server once read otherwise than the loader (both ways).
    ("ts-slashes", {"ts": "2026/06/12 10:00:00"}),
    ("ts-hanzi", {"ts": "2026年6月12日 10:00"}),
    ("ts-short", {"ts": "2026-6-1 9:00"}),
    ("ts-digits", {"ts": "20260612 101500"}),
    ("ts-midnight24", {"ts": "2026-06-12T24:00:00"}),
    ("ts-fraction", {"ts": "2026-06-12 10:00:00.9999999+08:00"}),
    ("ts-week", {"ts": "2026-W24-5"}),
    ("ts-offset20", {"ts": "2026-06-12T10:00:00+20:00"}),
    ("ts-offset1430", {"ts": "2026-06-12T10:00:00+14:30"}),
    ("ts-offset-1445", {"ts": "2026-06-12T10:00:00-1445"}),
    ("ts-offset14", {"ts": "2026-06-12T10:00:00+14:00"}),
    ("ts-offset0545", {"ts": "2026-06-12T10:00:00+05:45"}),
    ("ts-hour-only", {"ts": "2026-06-12T10"}),
    ("ts-compact-time", {"ts": "2026-06-12T1000"}),
    ("ts-comma-fraction", {"ts": "2026-06-12T10:00:00,5"}),
    ("ts-feb30", {"ts": "2026-02-30 10:00:00"}),
    ("ts-fullwidth", {"ts": "２０２６－０６－１２ １０：００"}),
    ("=formula", {}),
    ("@at", {}),
    ("6.222E+15", {}),
    ("6E+15", {}),
    ("6.222e15", {}),  # not how Excel writes it: an id like any other
    ("ts-year0", {"ts": "0000-06-12 10:00:00"}),
    # A card number in the amount column, the largest amount and an id past 64 characters.
    ("card-number-amount", {"amount": "6222000000000001"}),
    ("largest", {"amount": "10000000000000"}),
    ("T" * 64, {}),
    ("T" * 65, {}),
]


def _row(tx_id: str, change: dict[str, str]) -> dict[str, str]:
    base = {"tx_id": tx_id, "from_account": "A1", "to_account": "A2", "amount": "100.00",
            "currency": "CNY", "ts": "2026-06-10T08:00:00"}  # fmt: skip
    return {**base, **change}


def test_the_server_refuses_exactly_the_transfers_the_loader_quarantines(
    tmp_path: Path,
) -> None:
    rows = [_row(tx_id, change) for tx_id, change in TEXT_VALUES]
    bank = write_bank(
        tmp_path / "bank",
        {"customers": docbank.CUSTOMERS, "accounts": docbank.ACCOUNTS, "transfers": rows},
    )
    load(bank, tmp_path / "data")
    quarantined = {
        # A value a spreadsheet would run is shown with a leading ' in quarantine files.
        r["tx_id"].removeprefix("'"): {
            reason.split(":", 1)[0] for reason in r["reason"].split("; ")
        }
        for r in read_quarantine(tmp_path / "data", "transfers")
    }
    with EmbeddedStore(tmp_path / "data", read_only=True) as store:
        stored = {r["tx_id"]: r["ts"] for r in store.read_table("transfers").to_pylist()}
    for row in rows:
        checked = check_record(model.TRANSFERS, row)
        codes = {reason.split(":", 1)[0] for reason in checked.reasons}
        assert codes == quarantined.get(row["tx_id"], set()), row["tx_id"]
        if not codes:  # and the same moment
            assert checked.values["ts"] == stored[row["tx_id"]], row["tx_id"]


@pytest.mark.parametrize(
    ("zone", "wall"),
    [
        ("Asia/Shanghai", "1988-09-11 01:30:00"),  # Beijing kept summer time 1986-1991
        ("Asia/Shanghai", "1988-04-10 02:30:00"),  # a time the clocks skipped
        ("America/New_York", "2025-11-02 01:30:00"),
        ("America/New_York", "2025/3/9 2:30"),
        ("Europe/London", "2025-10-26 01:30:00"),
        ("Australia/Lord_Howe", "2025-04-06 01:45:00"),  # half an hour, twice
        ("Asia/Shanghai", "2025-03-01 00:30:00"),
    ],
)
def test_a_wall_time_a_clock_change_makes_twice_is_the_loaders_instant(
    zone: str, wall: str
) -> None:
    # The server once took the first of the two (summer time), DuckDB the second: an hour.
    con = connect()
    (loaded,) = con.execute(f"SELECT {timestamp_sql(literal(wall), ZoneInfo(zone))}").fetchone()
    assert timestamp_ms(wall, ZoneInfo(zone)) == loaded


def test_currency_names_map_as_the_loader_maps_them() -> None:
    assert [currency(c) for c in ("人民币", "rmb", " usd ", "港币", "元宝")] == [
        "CNY", "CNY", "USD", "HKD", None,
    ]  # fmt: skip
