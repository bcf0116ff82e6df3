"""Slow scatter-gathers (analytics/layering/detectors.py, ``_slow_scatter_gather``): money
split over three middles that pay it on to one account days or weeks later, past the
72-hour window, within the 30-day round-trip horizon. Every account is its own customer's,
opened in 2015.

* ``S`` splits 90,000 over ``M1``–``M3`` on 2, 6 and 10 March; each keeps a cut and pays
  ``G`` 60–65 % seven to ten days later;
* ``FS`` does the same through ``FM1``–``FM3``, but each pays ``FG`` 35–40 days later;
* ``E`` pays ``W1``–``W3`` a salary of 10,000 on the first of each month from January to
  April, and each pays the landlord ``L`` 6,000 rent on the fifth: routine.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from relgraph.analytics.layering import Alerts, LayeringIndex, LayeringParams, alert_frames, scan
from relgraph.analytics.layering.detectors import may_gather_slowly
from relgraph.analytics.layering.hops import _Tx
from relgraph.analytics.layering.live import LiveIndex
from relgraph.config import moment_ms, source_zone
from relgraph.graph import Projection
from tests.banks import Rows, holder_each, project, transfer, write_bank

DAY = timedelta(days=1)
MARCH = datetime(2026, 3, 2, 9, 0)


def _split(name: str, s: str, g: str, wait: timedelta) -> Rows:
    """``s`` pays three middles 29,000–31,000 four days apart; each pays ``g`` 60–65 % of
    it ``wait`` (plus a day per middle) later."""
    out = [(30_000, 19_500), (31_000, 18_600), (29_000, 17_400)]
    rows = []
    for i, (sent, passed) in enumerate(out):
        middle, when = f"{name}M{i + 1}", MARCH + 4 * i * DAY
        rows.append(transfer(f"{name}sg-in{i + 1}", s, middle, sent, when))
        rows.append(transfer(f"{name}sg-out{i + 1}", middle, g, passed, when + wait + i * DAY))
    return sorted(rows, key=lambda t: t["ts"])


def _payroll() -> Rows:
    rows = []
    for month in (1, 2, 3, 4):
        for w in ("W1", "W2", "W3"):
            rows.append(transfer(f"pay-{month}-{w}", "E", w, 10_000, datetime(2026, month, 1, 9)))
            rows.append(transfer(f"rent-{month}-{w}", w, "L", 6_000, datetime(2026, month, 5, 9)))
    return rows


SLOW = _split("", "S", "G", 7 * DAY)
FAR = _split("F", "FS", "FG", 35 * DAY)
TRANSFERS: Rows = sorted([*SLOW, *FAR, *_payroll()], key=lambda t: (t["ts"], t["tx_id"]))


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Projection:
    root: Path = tmp_path_factory.mktemp("slowsg")
    return project(write_bank(root / "bank", holder_each(TRANSFERS)), root / "data")


@pytest.fixture(scope="module")
def alerts(bank: Projection) -> Alerts:
    return scan(bank)


def _scatter_gathers(bank: Projection, alerts: Alerts) -> list[set[str]]:
    hops = alert_frames(bank, alerts)["risk_chain_hops"]
    chains = alert_frames(bank, alerts)["risk_chains"]
    ids = chains[chains.typology == "scatter_gather"].chain_id
    return [set(hops[hops.chain_id == c].tx_id) for c in ids]


def test_spokes_days_apart_are_a_slow_scatter_gather(bank: Projection, alerts: Alerts) -> None:
    assert {t["tx_id"] for t in SLOW} in _scatter_gathers(bank, alerts)


def test_spokes_further_apart_than_the_horizon_are_not(bank: Projection, alerts: Alerts) -> None:
    found = _scatter_gathers(bank, alerts)
    assert not any(s & {t["tx_id"] for t in FAR} for s in found)
    # A 45-day horizon takes them in.
    wider = scan(bank, LayeringParams(cycle_horizon_days=45))
    assert {t["tx_id"] for t in FAR} in _scatter_gathers(bank, wider)


def test_salaries_paid_on_as_rent_are_routine_not_a_scatter_gather(
    bank: Projection, alerts: Alerts
) -> None:
    # Three employees of one employer renting from one landlord: every month three slow
    # spokes E → W → L, each a regular flow.
    assert not any(
        any(t.startswith(("pay-", "rent-")) for t in s) for s in _scatter_gathers(bank, alerts)
    )


def _live(tmp_path: Path, held_back: int) -> tuple[LiveIndex, list[str]]:
    """A live index over ``SLOW`` without its last ``held_back`` transfers (the index keeps
    the last 33 days: the other patterns run into April)."""
    rows = SLOW[:-held_back]
    partial = project(write_bank(tmp_path / "bank", holder_each(rows)), tmp_path / "data")
    ids = partial.nodes["Account"].ids.tolist()
    # Every threshold at 0: each alert lists its hops.
    index = LayeringIndex.build(partial, LayeringParams(score_threshold=0.0))
    return LiveIndex.from_index(index, ids, {a: i for i, a in enumerate(ids)}), ids


def _add(live: LiveIndex, ids: list[str], t: dict[str, str]) -> int:
    at = moment_ms(t["ts"], source_zone())
    return live.add(t["tx_id"], ids.index(t["from_account"]), ids.index(t["to_account"]),
                    float(t["amount"]), at)  # fmt: skip


def test_the_last_slow_spoke_arriving_live_gets_the_batch_alert(
    tmp_path: Path, bank: Projection, alerts: Alerts
) -> None:
    chains = alert_frames(bank, alerts)["risk_chains"]
    (batch,) = chains[chains.origin_account == "S"].itertuples()
    # The last two second legs arrive in one request: the two verdicts are scanned side by
    # side (analytics/layering/union.py), the last alone gets the pattern.
    live, ids = _live(tmp_path, 2)
    first, last = SLOW[-2:]
    r1 = _add(live, ids, first)
    p1 = live.prepare(r1)
    r2 = _add(live, ids, last)
    p2 = live.prepare(r2)
    before, after = live.verdicts_known([r1, r2], [p1, p2], frozenset())
    assert [a.typology for a in before.alerts] == []
    (alert,) = [a for a in after.alerts if a.typology == "scatter_gather"]
    assert alert.chain_id == batch.chain_id
    assert alert.score == batch.score
    assert {h.tx_id for h in alert.hops} == {t["tx_id"] for t in SLOW}
    # One by one (analytics/layering/focus.py), the same.
    (again,) = [a for a in live.verdict(r2).alerts if a.typology == "scatter_gather"]
    assert (again.chain_id, again.score) == (alert.chain_id, alert.score)


def test_only_a_possible_slow_spoke_brings_its_splitter_and_gatherer(tmp_path: Path) -> None:
    live, ids = _live(tmp_path, 1)
    # M1 pays M2 most of what S sent it: a slow spoke S → M1 → M2, but no other account S
    # paid has paid M2.
    shop = _add(live, ids, transfer("shop", "M1", "M2", 16_000, MARCH + 20 * DAY))
    assert live._slow_rows(shop) == (set(), [])
    last = _add(live, ids, SLOW[-1])
    accounts, spokes = live._slow_rows(last)
    assert accounts == {ids.index("S"), ids.index("G")}
    legs = {live._tx[r] for r in np.concatenate(spokes).tolist()}
    assert {"sg-out1", "sg-out2", "sg-out3", "shop"} <= legs


def _tx(rows: list[tuple[int, int, float, int]]) -> _Tx:
    """(source, target, amount, day) rows as eligible transfers in (source, time) order."""
    rows = sorted(rows, key=lambda r: (r[0], r[3]))
    src, dst, amount, day = (np.array(c) for c in zip(*rows, strict=True))
    day_ms = 86_400_000
    return _Tx(np.arange(len(rows)), src, dst, amount.astype(float), day.astype(np.int64) * day_ms)


def test_the_necessary_condition_on_known_answers() -> None:
    params = LayeringParams()
    # 0 splits to 1, 2, 3 on days 0–2; each pays 4 on day 8. The last leg (3 → 4) and the
    # first (0 → 1) may be in a slow scatter-gather; with only two middles, neither.
    three = _tx([(0, 1, 100, 0), (0, 2, 100, 1), (0, 3, 100, 2),
                 (1, 4, 60, 8), (2, 4, 60, 8), (3, 4, 60, 8)])  # fmt: skip
    last = int(np.flatnonzero((three.src == 3) & (three.dst == 4))[0])
    first = int(np.flatnonzero((three.src == 0) & (three.dst == 1))[0])
    one = np.zeros(len(three), np.int64)
    assert may_gather_slowly(three, params, one, np.array([last])).tolist() == [True]
    assert may_gather_slowly(three, params, one, np.array([first])).tolist() == [True]
    two = three.take(np.flatnonzero((three.src != 3) & (three.dst != 3)))
    at = int(np.flatnonzero((two.src == 2) & (two.dst == 4))[0])
    assert not may_gather_slowly(two, params, np.zeros(len(two), np.int64), np.array([at]))[0]
    # Passing on 40 % is no spoke; 31 days later is past the horizon.
    for amount, day in ((40, 8), (60, 33)):
        late = _tx([(0, 1, 100, 0), (0, 2, 100, 1), (0, 3, 100, 2),
                    (1, 4, 60, 8), (2, 4, 60, 8), (3, 4, amount, day)])  # fmt: skip
        at = int(np.flatnonzero((late.src == 3) & (late.dst == 4))[0])
        assert not may_gather_slowly(late, params, one, np.array([at]))[0], (amount, day)
