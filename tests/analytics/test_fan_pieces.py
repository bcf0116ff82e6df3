"""A fan cut into pieces is judged against the hub's history, not against itself.

``SPL``, an old account that pays its mother 2,000 on the 1st of every month, pays sixteen
strangers ``SPR0``–``SPR15`` 20,000 each, one every 3.5 days (no 72-hour window holds
five: a slow fan only). Sixteen payees over 53 days span two 30-day windows, so the fan is
stored as two pieces (nine and seven); the 40 ``BG`` customers each pay another every month (what
an ordinary customer does: the peers). Each piece of ``SPL``'s fan must be unusual for it:
the other piece is the same fan, not ``SPL``'s usual.

``FN``, an old account that never received a transfer, is paid by sixteen strangers
``FNS0``–``FNS15`` 8,000–9,500 each, one every 7.5 hours: a 72-hour fan cut into two pieces
(ten, then six). It has no history that way but this fan, so its first piece is judged against its peers,
not against the rest of the fan (a shop's busy week, whose neighbouring windows are its
usual, has a history).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from relgraph.analytics.layering import Alerts, scan
from relgraph.graph import Projection
from tests.banks import Rows, holder_each, project, transfer, write_bank

# A year before this test was written: a load refuses transfers after the day after it.
START = datetime(2025, 1, 1, 10, 0)
FAN_DAY = START + timedelta(days=150)


MOTHER = [transfer(f"SPM{m}", "SPL", "SPMUM", 2_000, datetime(2025, m, 1, 9)) for m in range(1, 13)]
FAN = [
    transfer(f"SPF{k}", "SPL", f"SPR{k}", 20_000 + 100 * k, FAN_DAY + timedelta(hours=84 * k))
    for k in range(16)
]
PEERS = [
    transfer(f"BG{i}_{m}", f"BG{i}", f"BG{(i + 1) % 40}", 300 + 7 * i, datetime(2025, m, 3 + i % 20, 12))
    for i in range(40) for m in range(1, 13)
]  # fmt: skip
FIRST = [
    transfer(f"FNS{k}", f"FNS{k}", "FN", 8_000 + 100 * k, FAN_DAY + timedelta(hours=7.5 * k))
    for k in range(16)
]
TRANSFERS: Rows = [*MOTHER, *FAN, *PEERS, *FIRST]
BANK = holder_each(TRANSFERS)


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Projection:
    root: Path = tmp_path_factory.mktemp("slowfan")
    return project(write_bank(root / "bank", BANK), root / "data")


@pytest.fixture(scope="module")
def alerts(bank: Projection) -> Alerts:
    return scan(bank)


@pytest.fixture(scope="module")
def pieces(bank: Projection) -> Alerts:
    """One alert per piece (not merged)."""
    return scan(bank, merge=False)


def _fan_pieces(bank: Projection, alerts: Alerts) -> list[int]:
    ids = bank.edge("Account", "TRANSFER", "Account").attrs["tx_id"].to_numpy(object)
    return [
        i for i in range(len(alerts))
        if alerts.typology[i] == "fan_out"
        and any(str(t).startswith("SPF") for t in ids[alerts.transfers(i)])
    ]  # fmt: skip


def test_each_piece_of_a_slow_fan_is_unusual_for_its_hub(bank: Projection, alerts: Alerts) -> None:
    pieces = _fan_pieces(bank, alerts)
    ids = bank.edge("Account", "TRANSFER", "Account").attrs["tx_id"].to_numpy(object)
    held = [{str(t) for t in ids[alerts.transfers(i)]} for i in pieces]
    assert len(pieces) == 2  # two 30-day windows: two pieces, together the whole fan
    assert set().union(*held) == {f"SPF{k}" for k in range(16)}
    for i in pieces:
        reasons = {str(r["reason"]): r for r in alerts.reasons(i)}
        assert alerts.facts["slow_fan"].iloc[i]
        # Seven or nine strangers in a month against two or three for itself and its peers
        # (each piece judged against the other would be under 1.3: no excess at all).
        assert alerts.facts["fan_excess"].iloc[i] >= 2.5
        assert reasons["fan_excess"]["weight"] > 0


def test_a_hub_paying_the_same_every_month_has_no_fan(bank: Projection, alerts: Alerts) -> None:
    ids = bank.edge("Account", "TRANSFER", "Account").attrs["tx_id"].to_numpy(object)
    touched = {
        str(alerts.typology[i]) for i in range(len(alerts))
        if any(str(t).startswith(("SPM", "BG")) for t in ids[alerts.transfers(i)])
        and alerts.typology[i] in ("fan_in", "fan_out")
    }  # fmt: skip
    assert touched == set()


def test_a_fast_fan_at_a_hub_without_history_is_not_its_own_usual(
    bank: Projection, alerts: Alerts, pieces: Alerts
) -> None:
    ids = bank.edge("Account", "TRANSFER", "Account").attrs["tx_id"].to_numpy(object)

    def holding(found: Alerts) -> list[int]:
        return [
            i for i in range(len(found))
            if found.typology[i] == "fan_in"
            and any(str(t).startswith("FNS") for t in ids[found.transfers(i)])
        ]  # fmt: skip

    fast = [i for i in holding(pieces) if not pieces.facts["slow_fan"].iloc[i]]
    assert len(fast) == 2  # two 72-hour tiles, ten payers then six
    # The first piece had nothing before it but is judged against its peers (a payer or
    # two per 72 hours), not against the other piece (six: under 2 times, no excess).
    first = min(fast, key=lambda i: int(pieces.facts["first_ts"].iloc[i]))
    assert pieces.facts["fan_excess"].iloc[first] >= 4
    # One pattern, one alert: FN's sixteen payers, unusual for it, at the threshold.
    (fan,) = holding(alerts)
    assert {str(t) for t in ids[alerts.transfers(fan)]} == {f"FNS{k}" for k in range(16)}
    assert {str(r["reason"]): r for r in alerts.reasons(fan)}["fan_excess"]["weight"] > 0
    assert alerts.score[fan] >= alerts.params.score_threshold
