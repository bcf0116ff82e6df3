"""Scanning a batch's neighbourhoods side by side gives each exactly what scanning it alone
gives (analytics/layering/union.py): the same alerts — transfers, typology, score,
reasons — in the same order.

The neighbourhoods are overlapping slices of one random bank built to hold every typology
(tests/analytics/test_layering_focus.py): the same merchants, persons, households,
networks and devices in many of them, starting at different times, so any link across
the union or any measure taken over the whole scan would show.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from relgraph.analytics.layering.batch import find_patterns, score_pattern_columns
from relgraph.analytics.layering.gate import needs_all
from relgraph.analytics.layering.hops import _eligible, _Tx
from relgraph.analytics.layering.params import LayeringParams
from relgraph.analytics.layering.roundtrip import _candidates
from relgraph.analytics.layering.scoring import ScoredColumns, _Context
from relgraph.analytics.layering.union import scan_union
from tests.analytics.test_layering_focus import _neighbourhood

DAY = 24 * 3_600_000


def _with_devices(ctx: _Context, rng: np.random.Generator) -> _Context:
    """Some persons share a private device (a link of its own between accounts)."""
    n_person = len(ctx.device_ptr) - 1
    users = rng.integers(0, n_person, (12, 2))
    src = users.ravel()
    dev = np.repeat(np.arange(12, dtype=np.int64), 2)
    order = np.argsort(src, kind="stable")
    src, dev = src[order], dev[order]
    ptr = np.zeros(n_person + 1, np.int64)
    np.cumsum(np.bincount(src, minlength=n_person), out=ptr[1:])
    return _Context(ctx.opened, ctx.person, ctx.enterprise, ctx.household, ctx.network,
                    np.sort(src * 12 + dev), ptr, dev, 12, ctx.fan_peaks, ctx.origin)  # fmt: skip


def _context_of(ctx: _Context, accounts: Any) -> _Context:
    """``ctx`` for some accounts only (compact), as the live index builds it."""
    return _Context(ctx.opened[accounts], ctx.person[accounts], ctx.enterprise[accounts],
                    ctx.household, ctx.network, ctx.device_keys, ctx.device_ptr,
                    ctx.device_of, ctx.n_devices, None, ctx.origin)  # fmt: skip


def _alone(bank: _Tx, ctx: _Context, rows: Any, params: LayeringParams) -> list[dict[str, Any]]:
    """Every alert of the slice ``rows`` scanned alone, its transfers as bank rows."""
    accounts, local = np.unique(np.concatenate([bank.src[rows], bank.dst[rows]]),
                                return_inverse=True)  # fmt: skip
    n = len(rows)
    tx = _eligible(bank.amount[rows], bank.ts[rows], local[:n], local[n:], params.min_amount)
    sub = _context_of(ctx, accounts)
    return _listed(score_pattern_columns(tx, find_patterns(tx, sub, params), sub, params), rows)


def _listed(alerts: ScoredColumns, rows: Any, which: Any = None) -> list[dict[str, Any]]:
    picked = range(len(alerts)) if which is None else which
    return [{"transfers": rows[alerts.transfers(i)].tolist(), "typology": str(alerts.typology[i]),
             "score": float(alerts.score[i]), "reasons": alerts.reasons(i)}
            for i in picked]  # fmt: skip


def _slices(bank: _Tx, rng: np.random.Generator, count: int) -> list[Any]:
    """Overlapping neighbourhoods: a few accounts' transfers each, some cut in time."""
    accounts = np.unique(np.concatenate([bank.src, bank.dst]))
    out = []
    for _ in range(count):
        chosen = rng.choice(accounts, int(rng.integers(1, 6)), replace=False)
        rows = np.flatnonzero(np.isin(bank.src, chosen) | np.isin(bank.dst, chosen))
        if rng.random() < 0.4:  # later transfers not arrived yet
            cut = int(np.quantile(bank.ts[rows], rng.uniform(0.3, 1.0)))
            rows = rows[bank.ts[rows] <= cut]
        if len(rows):
            out.append(np.sort(rows).astype(np.int64))
    return out


def _with_origin(ctx: _Context, bank: _Tx, origin: bool) -> _Context:
    """With ``origin``: periods counted from a moment before the bank's first transfer,
    not a multiple of 30 days before it, as the live index counts them from the bank's
    first (the union then keeps each part's own times)."""
    return replace(ctx, origin=int(bank.ts.min()) - 17 * DAY if origin else None)


@pytest.mark.parametrize("origin", [False, True])
@pytest.mark.parametrize("seed", range(8))
def test_each_neighbourhood_gets_the_alerts_of_a_scan_of_it_alone(seed: int, origin: bool) -> None:
    rng = np.random.default_rng(100 + seed)
    bank, ctx = _neighbourhood(seed)
    ctx = _with_origin(_with_devices(ctx, rng), bank, origin)
    params = LayeringParams(score_threshold=0.0)
    parts = _slices(bank, rng, 12)
    arrays = (bank.amount, bank.ts, bank.src, bank.dst)
    union = scan_union(parts, arrays, lambda a: _context_of(ctx, a), params)
    whole = np.concatenate(parts)
    alerts_seen = 0
    for k, rows in enumerate(parts):
        mine = np.flatnonzero(union.segment_of == k)
        got = _listed(union.alerts, whole, mine)
        expected = _alone(bank, ctx, rows, params)
        assert got == expected, f"seed {seed}, neighbourhood {k}"
        alerts_seen += len(expected)
    assert alerts_seen > 0


def test_the_union_holds_most_typologies() -> None:
    seen: set[str] = set()
    for seed in range(8):
        rng = np.random.default_rng(100 + seed)
        bank, ctx = _neighbourhood(seed)
        parts = _slices(bank, rng, 12)
        arrays = (bank.amount, bank.ts, bank.src, bank.dst)
        union = scan_union(parts, arrays, lambda a, c=ctx: _context_of(c, a),
                           LayeringParams(score_threshold=0.0))  # fmt: skip
        seen.update(str(t) for t in union.alerts.typology)
    assert {"layering_chain", "cycle", "fan_in", "fan_out", "structuring"} <= seen


def test_a_neighbourhood_without_an_eligible_transfer_is_refused() -> None:
    bank, ctx = _neighbourhood(0)
    arrays = (bank.amount, bank.ts, bank.src, bank.dst)
    params = LayeringParams(min_amount=1e12)  # nothing is eligible
    with pytest.raises(ValueError, match="eligible transfer"):
        scan_union([np.arange(5, dtype=np.int64)], arrays, lambda a: _context_of(ctx, a), params)


def test_round_trip_windows_start_at_each_neighbourhoods_first_transfer() -> None:
    # Neighbourhood 0: A→B and back 1.5 horizons later, inside one window from its first
    # transfer; neighbourhood 1 starts earlier, which would cut the pair apart if its
    # windows counted from the union's first transfer.
    h = 30 * DAY
    src, dst = np.array([0, 1, 2]), np.array([1, 0, 3])
    ts = np.array([0, 3 * h // 2, -7 * h // 10], np.int64)
    tx = _Tx(np.arange(3), src, dst, np.full(3, 100.0), ts)
    alone = _candidates(tx.take(np.arange(2)), np.arange(2), np.full(2, -1), h)
    segment = np.array([0, 0, 1, 1], np.int64)
    together = _candidates(tx, np.arange(4), np.full(4, -1), h, segment)
    assert alone.tolist() == [0, 1]
    assert together.tolist() == [0, 1]


def _holding(alerts: ScoredColumns, rows: Any, which: Any, row: int) -> list[dict[str, Any]]:
    """The alerts among ``which`` that hold bank row ``row``, as :func:`_listed` gives them."""
    return [a for a in _listed(alerts, rows, which) if row in a["transfers"]]


@pytest.mark.parametrize("origin", [False, True])
@pytest.mark.parametrize("seed", range(8))
def test_a_verdicts_alerts_are_those_of_its_neighbourhood_alone(seed: int, origin: bool) -> None:
    # With the verdicts' transfers given, a part where only fans can hold its transfer is
    # scanned for fans only (analytics/layering/gate.py): the alerts holding each verdict's
    # transfer must still be exactly those a scan of its part alone finds, in order.
    rng = np.random.default_rng(200 + seed)
    bank, ctx = _neighbourhood(seed)
    ctx = _with_origin(_with_devices(ctx, rng), bank, origin)
    params = LayeringParams(score_threshold=0.0)
    arrays = (bank.amount, bank.ts, bank.src, bank.dst)
    for _ in range(4):
        parts = _slices(bank, rng, 12)
        alone = [_alone(bank, ctx, rows, params) for rows in parts]
        # Mostly a transfer some alert of the part holds (every typology gets its turn),
        # else any.
        picked = [
            int(rng.choice(rng.choice(found)["transfers"]))
            if found and rng.random() < 0.8
            else int(rng.choice(rows))
            for rows, found in zip(parts, alone, strict=True)
        ]
        at = np.array(
            [int(np.searchsorted(part, r)) for part, r in zip(parts, picked, strict=True)]
        )
        union = scan_union(parts, arrays, lambda a: _context_of(ctx, a), params, verdicts=at)
        whole = np.concatenate(parts)
        for k in range(len(parts)):
            got = _holding(union.alerts, whole, np.flatnonzero(union.segment_of == k), picked[k])
            expected = [a for a in alone[k] if picked[k] in a["transfers"]]
            assert got == expected, f"seed {seed}, neighbourhood {k}"


def test_the_gate_sends_some_verdicts_to_fans_only_and_keeps_others_whole() -> None:
    bank, ctx = _neighbourhood(3)
    params = LayeringParams(score_threshold=0.0)
    rows = np.arange(len(bank), dtype=np.int64)
    tx = _eligible(bank.amount, bank.ts, bank.src, bank.dst, params.min_amount)
    segment = np.zeros(int(max(bank.src.max(), bank.dst.max())) + 1, np.int64)
    need = [bool(needs_all(tx, ctx, params, segment, np.array([p]))[0]) for p in rows[: len(tx)]]
    assert any(need)
    assert not all(need)


def test_a_chain_that_only_a_hop_link_announces_is_still_found() -> None:
    # A → B → C → D passing 80,000 on within hours, four strangers: no amount in the
    # band, no small co-funded accounts, no money coming home — only the hop links say
    # a chain may hold the middle hop, and the gate must keep its part whole.
    n = 4
    ctx = _Context(np.full(n, -1, np.int64), np.arange(n, dtype=np.int64),
                   np.full(n, -1, np.int64), np.arange(n, dtype=np.int64),
                   np.arange(n, dtype=np.int64), np.zeros(0, np.int64), np.zeros(n + 1, np.int64),
                   np.zeros(0, np.int64), 1)  # fmt: skip
    hour = 3_600_000
    src, dst = np.array([0, 1, 2]), np.array([1, 2, 3])
    amount = np.array([80_000.0, 78_000.0, 76_500.0])
    ts = np.array([0, 2 * hour, 5 * hour], np.int64)
    arrays = (amount, ts, src, dst)
    params = LayeringParams(score_threshold=0.0)
    parts = [np.arange(3, dtype=np.int64), np.arange(2, dtype=np.int64)]
    union = scan_union(parts, arrays, lambda a: _context_of(ctx, a), params,
                       verdicts=np.array([1, 0]))  # fmt: skip
    whole = np.concatenate(parts)
    got = _holding(union.alerts, whole, np.flatnonzero(union.segment_of == 0), 1)
    assert [a["typology"] for a in got] == ["layering_chain"]
    assert got[0]["transfers"] == [0, 1, 2]


def test_a_fan_only_verdict_keeps_its_regular_flows_beside_a_part_scanned_whole() -> None:
    # Two parts: a chain that needs every detector, and a fan-in at a hub one old payer
    # pays every month — its fourth payment falls inside four strangers' burst (five
    # payers: a fan; four without the routine payment: no slow fan to merge with). Fans
    # are found once over both parts; the fan alert must still count that payment as the
    # regular flow it is (the routine discount), exactly as a scan of its part alone.
    n = 10  # 0-3 the chain, 4 the hub, 5 its monthly payer, 6-9 strangers
    ctx = _Context(np.full(n, -1, np.int64), np.arange(n, dtype=np.int64),
                   np.full(n, -1, np.int64), np.arange(n, dtype=np.int64),
                   np.arange(n, dtype=np.int64), np.zeros(0, np.int64), np.zeros(n + 1, np.int64),
                   np.zeros(0, np.int64), 1)  # fmt: skip
    hour = 3_600_000
    chain_src, chain_dst = [0, 1, 2], [1, 2, 3]
    chain_amount, chain_ts = [80_000.0, 78_000.0, 76_500.0], [0, 2 * hour, 5 * hour]
    monthly = [(5, 4, 12_000.0, d * 30 * DAY) for d in range(4)]
    burst = [(6 + i, 4, 11_000.0 + 500 * i, 90 * DAY + (i + 1) * hour) for i in range(4)]
    fan = monthly + burst
    src = np.array(chain_src + [f[0] for f in fan])
    dst = np.array(chain_dst + [f[1] for f in fan])
    amount = np.array(chain_amount + [f[2] for f in fan])
    ts = np.array(chain_ts + [f[3] for f in fan], np.int64)
    arrays = (amount, ts, src, dst)
    params = LayeringParams(score_threshold=0.0)
    parts = [np.arange(3, dtype=np.int64), np.arange(3, len(src), dtype=np.int64)]
    verdict = 3 + len(monthly) + 2  # a stranger's payment to the hub
    at = np.array([1, int(np.searchsorted(parts[1], verdict))])
    bank = _Tx(np.arange(len(src)), src, dst, amount, ts)
    union = scan_union(parts, arrays, lambda a: _context_of(ctx, a), params, verdicts=at)
    whole = np.concatenate(parts)
    got = _holding(union.alerts, whole, np.flatnonzero(union.segment_of == 1), verdict)
    expected = [a for a in _alone(bank, ctx, parts[1], params) if verdict in a["transfers"]]
    assert got == expected
    fan_in = [a for a in expected if a["typology"] == "fan_in"]
    assert fan_in
    assert 3 + len(monthly) - 1 in fan_in[0]["transfers"]  # the monthly payment
    assert "routine" in [r["reason"] for r in fan_in[0]["reasons"]]
    # The parts went different ways through the gate (the case this test is about).
    tx = _eligible(amount, ts, src, dst, params.min_amount)
    seg = np.array([0] * 4 + [1] * 6, np.int64)
    pos = np.array([int(np.flatnonzero(tx.edge == r)[0]) for r in (1, verdict)])
    assert needs_all(tx, ctx, params, seg, pos).tolist() == [True, False]
