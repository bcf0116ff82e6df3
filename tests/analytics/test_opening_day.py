"""An account opened on a day is new from that day's first moment in the bank's zone
(analytics/layering/opening.py): Beijing's day begins at 16:00 UTC the day before, and an
opening date is stored as its UTC midnight."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from relgraph.analytics.layering import scan
from tests.banks import holder_each, project, transfer, write_bank

MULES = ("M1", "M2", "M3")


def _chain_reasons(root: Path, start: datetime) -> dict[str, Any]:
    """Reasons of the chain M0 → M1 → M2 → M3 (three hops an hour apart from ``start``,
    Beijing time), through accounts opened on 14 May, in a bank with some history."""
    rows, amount = [], 200_000.0
    for hop in range(3):
        at = start + timedelta(hours=hop)
        rows.append(transfer(f"X{hop}", f"M{hop}", f"M{hop + 1}", round(amount, 2), at))
        amount *= 0.95
    rows += [
        transfer(f"B{i}", f"P{i % 7}", f"P{(i + 1) % 7}", 100 + i,
                 datetime(2026, 4, 1) + timedelta(hours=7 * i))
        for i in range(120)
    ]  # fmt: skip
    tables = holder_each(rows)
    for account in tables["accounts"]:
        if account["account_id"] in MULES:
            account["opened_at"] = "2026-05-14"
    bank = project(write_bank(root / "bank", tables), root / "data")
    alerts = scan(bank)
    (chain,) = [i for i in range(len(alerts)) if alerts.typology[i] == "layering_chain"]
    return {str(r["reason"]): r["value"] for r in alerts.reasons(chain)}


@pytest.mark.parametrize("hour", [1, 7, 10, 23])
def test_mules_used_in_the_small_hours_of_their_first_day_are_new_accounts(
    tmp_path: Path, hour: int
) -> None:
    # 01:00 Beijing on 14 May is 17:00 UTC on the 13th: before the stored 14 May 00:00 UTC,
    # so the chain lost its new_accounts reason (0.56 instead of 0.76: under the threshold).
    reasons = _chain_reasons(tmp_path, datetime(2026, 5, 14, hour, 0))
    assert reasons.get("new_accounts") == 3
