"""Amounts are compared with the settings (CNY) only in CNY (analytics/layering/hops.py).

A parent's yen account sends a student in Tokyo ¥48,000 (about 2,300 CNY) every two weeks:
48,000 is just under the CNY 50,000 reporting line as a number, and was read as
structuring. The same payments in CNY are structuring.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from relgraph.analytics.layering import scan
from relgraph.graph import Projection
from tests.banks import Rows, holder_each, load, project, transfer, write_bank

START = datetime(2026, 1, 5, 10, 0)


def _allowance(prefix: str, currency: str) -> Rows:
    return [
        {**transfer(f"{prefix}{k}", f"{prefix}P", f"{prefix}S", 48_000, START + timedelta(days=14 * k)),
         "currency": currency}
        for k in range(8)
    ]  # fmt: skip


def _bank(root: Path) -> Path:
    return write_bank(root / "bank", holder_each(_allowance("JP", "JPY") + _allowance("CN", "CNY")))


def _typologies(bank: Projection, prefix: str) -> list[str]:
    found = scan(bank)
    ids = bank.edge("Account", "TRANSFER", "Account").attrs["tx_id"].to_numpy(object)
    return [
        str(found.typology[i])
        for i in range(len(found))
        if found.score[i] >= 0.5 and any(str(t).startswith(prefix) for t in ids[found.transfers(i)])
    ]


def test_amounts_in_another_currency_are_not_judged_against_cny_thresholds(
    tmp_path: Path,
) -> None:
    bank = project(_bank(tmp_path), tmp_path / "data")
    assert _typologies(bank, "CN") == ["structuring"]
    assert _typologies(bank, "JP") == []
    # The graph keeps each transfer's currency, and its amount as sent.
    edges = bank.edge("Account", "TRANSFER", "Account").attrs
    yen = edges[edges["tx_id"].astype(str).str.startswith("JP")]
    assert set(yen["currency"]) == {"JPY"}
    assert set(yen["amount"]) == {48_000.0}


def test_the_load_report_says_which_transfers_the_scan_leaves_out(tmp_path: Path) -> None:
    report = load(_bank(tmp_path), tmp_path / "data")
    (t,) = [t for t in report.tables if t.table == "transfers"]
    assert t.loaded == 16
    assert any(n.startswith("8 transfers in other currencies than CNY") for n in t.notes), t.notes
