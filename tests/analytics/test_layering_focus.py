"""The verdict's focused detectors give, for every transfer, exactly the alerts holding it
that every detector run on every transfer gives (analytics/layering/focus.py).

Random neighbourhoods built to hold every typology — merchants' fans, chains of
pass-through hops, money coming home, amounts just under the reporting threshold,
small groups paying each other, households and networks — are scored both ways, and
every transfer's alerts are compared: ids (transfers), typology, score, reasons, order.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from relgraph.analytics.layering.batch import find_patterns, score_pattern_columns
from relgraph.analytics.layering.focus import focused_patterns
from relgraph.analytics.layering.hops import _eligible, _Tx
from relgraph.analytics.layering.params import LayeringParams
from relgraph.analytics.layering.peers import quantile
from relgraph.analytics.layering.routine import HubHistory
from relgraph.analytics.layering.scoring import ScoredColumns, _Context

HOUR = 3_600_000
DAY = 24 * HOUR


def _neighbourhood(seed: int) -> tuple[_Tx, _Context]:
    rng = np.random.default_rng(seed)
    n_acc = 40
    src: list[int] = []
    dst: list[int] = []
    amount: list[float] = []
    ts: list[int] = []

    def add(a: int, b: int, x: float, t: int) -> None:
        src.append(a), dst.append(b), amount.append(round(x, 2)), ts.append(int(t))

    span = 60 * DAY
    for _ in range(120):  # everyday payments, many to two merchants (0 and 1)
        a = int(rng.integers(2, n_acc))
        b = int(rng.choice([0, 1, int(rng.integers(0, n_acc))]))
        if a != b:
            add(a, b, float(rng.lognormal(6, 1)), rng.integers(0, span))
    for _ in range(6):  # chains passing most of the money on, some coming home
        path = rng.choice(np.arange(2, n_acc), int(rng.integers(3, 6)), replace=False).tolist()
        if rng.random() < 0.5:
            path.append(path[0])
        t, x = int(rng.integers(0, span)), float(rng.uniform(20_000, 90_000))
        for a, b in itertools.pairwise(path):
            add(a, b, x, t)
            t, x = t + int(rng.integers(1, 48)) * HOUR, x * float(rng.uniform(0.85, 1.0))
    for _ in range(3):  # structuring: runs just under 50,000
        a, t = int(rng.integers(2, n_acc)), int(rng.integers(0, span))
        for _ in range(int(rng.integers(2, 5))):
            add(a, int(rng.integers(2, n_acc)), float(rng.uniform(45_000, 49_999)), t)
            t += int(rng.integers(1, 10)) * DAY
    for _ in range(2):  # split payments: 3-4 pieces of 30,000-45,000 to one account in days
        a, b, t = (
            int(rng.integers(2, n_acc)),
            int(rng.integers(2, n_acc)),
            int(rng.integers(0, span)),
        )
        for _ in range(int(rng.integers(3, 5))):
            if a != b:
                add(a, b, float(rng.uniform(30_000, 45_000)), t)
            t += int(rng.integers(2, 60)) * HOUR
    for _ in range(2):  # a small group paying a small group (blocks)
        senders = rng.choice(np.arange(2, n_acc), 3, replace=False)
        receivers = rng.choice(np.arange(2, n_acc), 3, replace=False)
        t = int(rng.integers(0, span))
        for a in senders.tolist():
            for b in receivers.tolist():
                if a != b:
                    add(a, b, float(rng.uniform(5_000, 9_000)), t + int(rng.integers(0, 5 * DAY)))
    for _ in range(3):  # a fan-in burst at a fresh account, passed straight on
        hub, t = int(rng.integers(2, n_acc)), int(rng.integers(0, span))
        for a in rng.choice(np.arange(2, n_acc), 7, replace=False).tolist():
            if a != hub:
                add(a, hub, float(rng.uniform(3_000, 8_000)), t + int(rng.integers(0, 60)) * HOUR)
        add(hub, int(rng.integers(2, n_acc)), 30_000.0, t + 70 * HOUR)
    for _ in range(2):  # scatter-gather: split over three middle accounts, gathered again
        s, g, *middle = rng.choice(np.arange(2, n_acc), 5, replace=False).tolist()
        t, x = int(rng.integers(0, span)), float(rng.uniform(10_000, 30_000))
        for m in middle:
            add(s, m, x, t + int(rng.integers(0, 5)) * HOUR)
            add(m, g, 0.95 * x, t + int(rng.integers(6, 30)) * HOUR)
    # Gather-scatter: six payers into a hub, which pays six others most of it a day later.
    hub, t = int(rng.integers(2, n_acc)), int(rng.integers(0, span))
    payers, payees = rng.choice(np.setdiff1d(np.arange(2, n_acc), [hub]), (2, 6), replace=False)
    for a, b in zip(payers.tolist(), payees.tolist(), strict=True):
        add(a, hub, 5_000.0, t + int(rng.integers(0, 20)) * HOUR)
        add(hub, b, 4_500.0, t + int(rng.integers(24, 40)) * HOUR)
    for _ in range(4):  # repeats: monthly rent between two accounts
        a, b, t = int(rng.integers(2, n_acc)), int(rng.integers(2, n_acc)), 0
        for _ in range(3):
            if a != b:
                add(a, b, 3_000.0, t + int(rng.integers(0, 3)) * HOUR)
            t += 28 * DAY
    n_person = n_acc // 2
    person = np.where(np.arange(n_acc) % 5 == 4, -1, np.arange(n_acc) % n_person)
    enterprise = np.where(person < 0, np.arange(n_acc) // 5, -1)
    opened = np.where(rng.random(n_acc) < 0.3, rng.integers(-200 * DAY, span), -1)
    ctx = _Context(
        opened=opened.astype(np.int64),
        person=person.astype(np.int64),
        enterprise=enterprise.astype(np.int64),
        household=(np.arange(n_person) // 3).astype(np.int64),
        network=np.where(np.arange(n_person) % 4 == 0, np.arange(n_person) // 6, 7).astype(
            np.int64
        ),
        device_keys=np.zeros(0, np.int64),
        device_ptr=np.zeros(n_person + 1, np.int64),
        device_of=np.zeros(0, np.int64),
        n_devices=1,
    )
    arrays = (np.array(amount), np.array(ts, np.int64), np.array(src), np.array(dst))
    return _eligible(*arrays, 0.0), ctx


def _holding(alerts: ScoredColumns, edge: int) -> list[dict[str, Any]]:
    """The alerts holding the transfer ``edge`` (alerts list ``tx.edge`` values)."""
    out = []
    for i in range(len(alerts)):
        members = alerts.transfers(i)
        if (members == edge).any():
            out.append({"transfers": members.tolist(), "typology": str(alerts.typology[i]),
                        "score": float(alerts.score[i]), "reasons": alerts.reasons(i)})  # fmt: skip
    return out


@pytest.mark.parametrize("seed", range(6))
def test_every_transfer_gets_the_alerts_of_all_detectors(seed: int) -> None:
    tx, ctx = _neighbourhood(seed)
    params = LayeringParams(score_threshold=0.0)
    every = score_pattern_columns(tx, find_patterns(tx, ctx, params), ctx, params)
    typologies: set[str] = set()
    held = 0
    for p in range(len(tx)):
        edge = int(tx.edge[p])
        expected = _holding(every, edge)
        found = focused_patterns(tx, ctx, params, p)
        scored = None if found is None else score_pattern_columns(tx, found, ctx, params)
        got = [] if scored is None else _holding(scored, edge)
        assert got == expected, f"seed {seed}, transfer {p}"
        held += bool(expected)
        typologies.update(a["typology"] for a in expected)
    assert held > 0
    # The neighbourhoods exercise most definitions (together over the seeds: the test below).
    _SEEN.update(typologies)


_SEEN: set[str] = set()


def test_the_neighbourhoods_hold_most_typologies() -> None:
    if not _SEEN:
        for seed in range(6):
            tx, ctx = _neighbourhood(seed)
            params = LayeringParams(score_threshold=0.0)
            every = score_pattern_columns(tx, find_patterns(tx, ctx, params), ctx, params)
            _SEEN.update(str(t) for t in every.typology)
    assert {
        "layering_chain",
        "cycle",
        "fan_in",
        "fan_out",
        "scatter_gather",
        "gather_scatter",
        "structuring",
        "bipartite",
        "stack",
    } <= _SEEN


@pytest.mark.parametrize("seed", range(3))
def test_a_hubs_own_history_is_every_accounts_history_read_at_the_hub(seed: int) -> None:
    # The verdict reads a hub's steadiness from the hub's own transfers (a few hubs); the
    # batch builds every account's at once. Short horizons and small fans make many hubs
    # steady and many not.
    tx, _ = _neighbourhood(seed)
    hubs = np.unique(np.concatenate([tx.src, tx.dst]))
    steady_seen = 0
    for params in (LayeringParams(), LayeringParams(cycle_horizon_days=6, min_fan=2)):
        for inbound in (True, False):
            every = HubHistory(tx, params)
            _ = every._steady  # every account's, as the batch builds it
            at_once = every.steady(hubs, inbound)
            one_by_one = [HubHistory(tx, params).steady(hubs[i : i + 1], inbound)[0]
                          for i in range(len(hubs))]  # fmt: skip
            assert at_once.tolist() == one_by_one
            steady_seen += int(at_once.sum())
    assert steady_seen > 0


def test_the_peer_quantile_is_numpys_to_the_last_bit() -> None:
    rng = np.random.default_rng(11)
    for n in [*range(1, 60), 97, 1_000, 4_321]:
        for high in (3, 50, 10_000):
            values = rng.integers(0, high, n).astype(np.int64)
            for q in (0.9, 0.5, 0.25, 0.99):
                assert quantile(values, q) == float(np.quantile(values, q)), (n, high, q)
