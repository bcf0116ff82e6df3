"""A shop's fan-in is judged against its peers' season (analytics/layering/season.py).

Twenty shops (``SH0``–``SH19``, enterprises' accounts) are each paid by one customer a day
from 1 January 2026 for 60 days, and by three a day in the festival weeks (days 42–55): the
bank's takings triple. Three accounts have the same history — paid 50 CNY every third day
by one regular customer — and then ten new customers pay each of them 200–290 within two
days:

* ``QUIET``, a shop, on days 20–21: an unusual fan-in at any time of year;
* ``FEST``, a shop, on days 42–43: the same fan in the festival, when every shop takes in
  three times its usual;
* ``HOME``, a person's account, on days 42–43: the season is the shops', not a person's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from relgraph.analytics.layering import Alerts, LayeringIndex, LayeringParams, scan
from relgraph.analytics.layering.live import LiveIndex
from relgraph.analytics.layering.season import HourlyTakings, takings, takings_level
from relgraph.config import moment_ms, source_zone
from relgraph.graph import Projection
from tests.banks import Rows, held_by_firms, holder_each, project, transfer, write_bank

START = datetime(2026, 1, 1, 10, 0)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
SHOPS = [f"SH{k}" for k in range(20)]
FIRMS = {*SHOPS, "QUIET", "FEST"}


def _takings() -> Rows:
    rows = []
    for k, shop in enumerate(SHOPS):
        for d in range(60):
            for i in range(3 if 42 <= d < 56 else 1):
                when = START + d * DAY + (k % 8 + 3 * i) * HOUR
                rows.append(transfer(f"T-{shop}-{d}-{i}", f"C-{shop}-{d}-{i}", shop, 120, when))
    return rows


def _fan(hub: str, day: int) -> Rows:
    history = [transfer(f"{hub}-h{d}", f"{hub}-REG", hub, 50, START + d * DAY + 2 * HOUR)
               for d in range(0, 39, 3)]  # fmt: skip
    fan = [transfer(f"{hub}-f{j}", f"{hub}-N{j}", hub, 200 + 10 * j, START + day * DAY + 4 * j * HOUR)
           for j in range(10)]  # fmt: skip
    return history + fan


ROWS: Rows = [*_takings(), *_fan("QUIET", 20), *_fan("FEST", 42), *_fan("HOME", 42)]


def _bank(folder: Path, rows: Rows) -> Path:
    tables = held_by_firms(holder_each(ROWS), FIRMS)  # every account, whichever rows are sent
    tables["transfers"] = rows
    return write_bank(folder, tables)


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Projection:
    root: Path = tmp_path_factory.mktemp("season")
    return project(_bank(root / "bank", ROWS), root / "data")


@pytest.fixture(scope="module")
def alerts(bank: Projection) -> Alerts:
    return scan(bank)


def _fan_in(bank: Projection, alerts: Alerts, hub: str) -> int:
    ids = bank.edge("Account", "TRANSFER", "Account").attrs["tx_id"].to_numpy(object)
    found = [i for i in range(len(alerts)) if alerts.typology[i] == "fan_in"
             and {str(t) for t in ids[alerts.transfers(i)]} >= {f"{hub}-f{j}" for j in range(10)}]  # fmt: skip
    assert len(found) == 1, hub
    return found[0]


def _reasons(alerts: Alerts, i: int) -> dict[str, dict[str, Any]]:
    return {str(r["reason"]): r for r in alerts.reasons(i)}


def test_an_unusual_fan_in_at_a_shop_in_a_quiet_season_alerts(
    bank: Projection, alerts: Alerts
) -> None:
    quiet = _fan_in(bank, alerts, "QUIET")
    assert alerts.score[quiet] >= 0.5
    assert _reasons(alerts, quiet)["fan_excess"]["value"] > 4


def test_the_same_fan_in_when_every_shop_takes_in_three_times_as_much_does_not(
    bank: Projection, alerts: Alerts
) -> None:
    fest, home = (_fan_in(bank, alerts, hub) for hub in ("FEST", "HOME"))
    assert alerts.score[fest] < 0.5
    # The person's fan beside it, with the same history, is judged as in any season.
    assert alerts.score[home] >= 0.5
    # Its excess is divided by the level, which is about the festival's three.
    level = _level(bank, alerts, fest)
    assert 2.5 < level < 4.5
    excess = alerts.facts["fan_excess"]
    assert excess.iloc[home] / excess.iloc[fest] == pytest.approx(level)


def _level(bank: Projection, alerts: Alerts, i: int) -> float:
    """The takings level of alert ``i``'s span, from the bank's transfers without the
    fan's own (season.py): those before its last transfer's hour."""
    edge = bank.edge("Account", "TRANSFER", "Account")
    ts = edge.attrs["ts"].to_numpy(np.int64)
    shops = {bank.nodes["Account"].ids.tolist().index(a) for a in FIRMS}
    t = takings(ts, np.isin(edge.dst, list(shops)))
    span = ts[alerts.transfers(i)]
    own = np.array([np.sum(span // 3_600_000 < span.max() // 3_600_000)])
    return float(takings_level(t, np.array([span.min()]), np.array([span.max()]), own)[0])


def test_the_live_verdict_reads_the_season_the_batch_reads(
    tmp_path: Path, bank: Projection, alerts: Alerts
) -> None:
    # The bank without FEST's last payment, loaded; that payment arrives live.
    last = ROWS.index(next(r for r in ROWS if r["tx_id"] == "FEST-f9"))
    rows = ROWS[:last] + ROWS[last + 1 :]
    before = project(_bank(tmp_path / "bank", rows), tmp_path / "data")
    ids = bank.nodes["Account"].ids.tolist()
    assert before.nodes["Account"].ids.tolist() == ids
    params = LayeringParams()
    live = LiveIndex.from_index(
        LayeringIndex.build(before, params), ids, {a: i for i, a in enumerate(ids)}
    )
    arriving = ROWS[last]
    when = moment_ms(arriving["ts"], source_zone())
    row = live.add(
        arriving["tx_id"], ids.index(arriving["from_account"]), ids.index(arriving["to_account"]),
        float(arriving["amount"]), when,
    )  # fmt: skip
    fan = [a for a in live.verdict(row).alerts if a.typology == "fan_in"]
    assert len(fan) == 1
    # The live index counted the bank's takings and the arrival as the batch counts them…
    first = moment_ms(next(r for r in ROWS if r["tx_id"] == "FEST-f0")["ts"], source_zone())
    span = np.array([first]), np.array([when])
    batch = takings(
        bank.edge("Account", "TRANSFER", "Account").attrs["ts"].to_numpy(np.int64),
        np.isin(bank.edge("Account", "TRANSFER", "Account").dst,
                [ids.index(a) for a in FIRMS]),
    )  # fmt: skip
    assert takings_level(live._takings.current(), *span) == takings_level(batch, *span)
    # …and its verdict is judged in the season: without it the same fan scores higher.
    live._takings = HourlyTakings(None)
    unseasoned = [a for a in live.verdict(row).alerts if a.typology == "fan_in"]
    assert unseasoned[0].score > fan[0].score


def test_the_level_is_at_least_one_and_needs_a_week_of_the_past() -> None:
    hour, day = 3_600_000, 86_400_000
    ts = np.arange(30 * 24) * hour  # one taking an hour for 30 days…
    ts = ts[(ts < 20 * day) | (ts % (4 * hour) == 0)]  # …a quarter of that from day 20
    t = takings(ts, np.ones(len(ts), bool))
    first = np.array([22 * day, 5 * day, 10 * day])
    last = np.array([23 * day, 6 * day, 10 * day + hour])
    # A quiet season makes nothing more unusual; five days of the past are not a baseline;
    # a fan within an hour is read over the day before its last transfer.
    assert takings_level(t, first, last).tolist() == [1.0, 1.0, 1.0]
    assert takings_level(None, first, last).tolist() == [1.0, 1.0, 1.0]


def test_a_fan_in_is_not_its_own_season(tmp_path: Path) -> None:
    """A shell company in a bank of few takings (two shops paid once a day) is paid by
    twelve strangers within a day: its own twelve payments are not a busy season that
    divides its excess away (counted, they left it no excess and a score of 0.33)."""
    shops = [
        transfer(f"S-{k}-{d}", f"SC-{k}-{d}", f"SQ{k}", 300, START + d * DAY + (9 + k) * HOUR)
        for k in range(2)
        for d in range(40)
    ]
    fan = [
        transfer(f"SHELL-f{j}", f"SHELL-P{j}", "SHELL", 60_000 + 2_500 * j,
                 START + 35 * DAY + (9 + j // 2) * HOUR)
        for j in range(12)
    ]  # fmt: skip
    tables = held_by_firms(holder_each(shops + fan), {"SQ0", "SQ1", "SHELL"})
    small = project(write_bank(tmp_path / "bank", tables), tmp_path / "data")
    found = scan(small)
    ids = small.edge("Account", "TRANSFER", "Account").attrs["tx_id"].to_numpy(object)
    (i,) = [i for i in range(len(found)) if found.typology[i] == "fan_in"
            and {str(t) for t in ids[found.transfers(i)]} == {f"SHELL-f{j}" for j in range(12)}]  # fmt: skip
    assert _reasons(found, i)["fan_excess"]["value"] > 2
    assert found.score[i] >= 0.5
