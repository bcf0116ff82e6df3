"""The live index: a transfer completing a chain gets the batch's alert; memory stays bounded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from relgraph.analytics.layering import (
    LayeringIndex,
    LayeringParams,
    alert_frames,
    blockctx,
    check_account,
    scan,
)
from relgraph.analytics.layering.live import LiveIndex
from relgraph.analytics.layering.sides import Side as _Side
from relgraph.config import moment_ms, source_zone
from tests import docbank
from tests.banks import project, write_bank

DAY_MS = 86_400_000


def _bank(folder: Path, transfers: list[dict[str, str]]) -> Path:
    return write_bank(
        folder,
        {"customers": docbank.CUSTOMERS, "accounts": docbank.ACCOUNTS, "transfers": transfers},
    )


def test_the_last_hop_arriving_live_completes_the_batch_chain(tmp_path: Path) -> None:
    # The docbank chain scores under the default threshold: a low one lists its hops.
    params = LayeringParams(score_threshold=0.1)
    full = project(_bank(tmp_path / "full", docbank.TRANSFERS), tmp_path / "d1")
    (batch_chain,) = alert_frames(full, scan(full, params))["risk_chains"].itertuples()

    last = next(t for t in docbank.TRANSFERS if t["tx_id"] == "T4")
    before = [t for t in docbank.TRANSFERS if t["tx_id"] != "T4"]
    partial = project(_bank(tmp_path / "part", before), tmp_path / "d2")
    accounts = partial.nodes["Account"]
    ids = accounts.ids.tolist()
    index = LayeringIndex.build(partial, params)
    live = LiveIndex.from_index(index, ids, {a: i for i, a in enumerate(ids)})
    assert live.verdict(live.add("T3x", ids.index("A2"), ids.index("A7"), 10.0, 0)).alerts == []

    row = live.add(
        "T4", ids.index(last["from_account"]), ids.index(last["to_account"]),
        float(last["amount"]), moment_ms(last["ts"], source_zone()),
    )  # fmt: skip
    (alert,) = [a for a in live.verdict(row).alerts if a.typology == "layering_chain"]
    assert alert.chain_id == batch_chain.chain_id
    assert alert.score == batch_chain.score
    assert [h.tx_id for h in alert.hops] == ["T1", "T2", "T3", "T4"]
    assert alert.size == 4


def test_the_index_keeps_only_the_horizon_and_counts_what_left(tmp_path: Path) -> None:
    graph = project(_bank(tmp_path / "b", docbank.TRANSFERS[:1]), tmp_path / "d")
    ids = graph.nodes["Account"].ids.tolist()
    live = LiveIndex.from_index(LayeringIndex.build(graph), ids, {a: i for i, a in enumerate(ids)})
    a1, a2 = ids.index("A1"), ids.index("A2")
    start = live.now
    days = 200
    for day in range(days):
        live.add(f"X{day}", a1, a2, 100.0 + day, start + day * DAY_MS)
        if day % 10 == 0:
            live.evict()
    live.evict()
    horizon_days = live.horizon_ms / DAY_MS
    assert len(live) <= int(np.ceil(horizon_days)) + 1 < days
    history = live.history(a1)
    assert history["live_out"] + history["evicted_out"] == days + 1  # the loaded one too
    assert history["evicted_out_amount"] > 0
    # What is left is still found: the newest transfers are in the index.
    assert live._range(live._out, a1, live.now - DAY_MS, live.now) != []


def test_outsized_payments_are_judged_live_as_in_the_batch(tmp_path: Path) -> None:
    # 王伟's account A1 pays small monthly bills to his wife 李娜 (A2: another holder), then
    # 150,000 to 杨磊 (A7): outsized. 陈静 moving money between her own accounts (A5 → A6)
    # pays nobody: never a payment, never outsized. The live index sees the first month
    # loaded and the rest arriving, with evictions; every transfer gets the batch's highs.
    from relgraph.analytics.layering.amounts import highs, outsized
    from relgraph.analytics.layering.hops import _eligible, _transfer_arrays
    from relgraph.analytics.layering.scoring import _context, _same_holder

    legs = [("A1", "A2", 300.0 + 10 * m, m * 30) for m in range(8)]
    legs += [("A5", "A6", 40_000.0, d) for d in (5, 50, 100, 150)]
    legs += [("A1", "A7", 150_000.0, 240), ("A1", "A2", 320.0, 241), ("A5", "A6", 9e5, 250)]
    start = moment_ms("2026-01-05T10:00:00", source_zone())
    rows = [
        {"tx_id": f"X{i}", "from_account": a, "to_account": b, "amount": f"{amt:.2f}",
         "currency": "CNY", "ts": f"{np.datetime64(start + day * DAY_MS, 'ms')}"}
        for i, (a, b, amt, day) in enumerate(legs)
    ]  # fmt: skip
    full = project(_bank(tmp_path / "full", rows), tmp_path / "d1")
    params = LayeringParams()
    tx = _eligible(*_transfer_arrays(full), params.min_amount)
    own = _same_holder(_context(full, params, None, None), tx.src, tx.dst)
    payer, payee = highs(tx, params, own, np.arange(len(tx)))
    tx_ids = full.edge("Account", "TRANSFER", "Account").attrs["tx_id"].to_numpy(object)
    batch = {t: (a, b) for t, a, b in zip(tx_ids[tx.edge].tolist(), payer, payee, strict=True)}
    big = outsized(tx.amount, payer)
    assert tx_ids[tx.edge][big].tolist() == ["X12"]

    loaded = [r for r, (_, _, _, day) in zip(rows, legs, strict=True) if day < 30]
    partial = project(_bank(tmp_path / "part", loaded), tmp_path / "d2")
    ids = partial.nodes["Account"].ids.tolist()
    live = LiveIndex.from_index(
        LayeringIndex.build(partial, params), ids, {a: i for i, a in enumerate(ids)}
    )
    later = sorted((day, i, a, b, amt) for i, (a, b, amt, day) in enumerate(legs) if day >= 30)
    for day, i, a, b, amt in later:
        row = live.add(f"X{i}", ids.index(a), ids.index(b), amt, start + day * DAY_MS)
        seen = (live._payer_high[row], live._payee_high[row])
        np.testing.assert_equal(seen, batch[f"X{i}"])
        live.evict()
    # The 150,000 against A1's bills more than 30 days before it (its high is 360).
    assert batch["X12"][0] == 360.0
    assert batch["X13"] == (370.0, 370.0)  # a bill a month later: A2 received as much
    assert np.isnan(batch["X14"]).all()  # between 陈静's own accounts: no history, no high


def test_an_accounts_rows_as_an_array_follow_every_change_of_its_list() -> None:
    # The neighbourhood reads a merchant's month as an array kept beside the list; every
    # way the list changes (newest rows, late ones, eviction, compaction) must show in it.
    rng = np.random.default_rng(3)
    side = _Side()
    t, row = 0, 0
    for step in range(3_000):
        op = rng.random()
        if op < 0.8:
            t, row = t + int(rng.integers(0, 5)), row + 1
            side.append(t, row)
        elif op < 0.9 and side.ts:
            at = int(rng.integers(0, len(side.ts) + 1))
            lo = side.ts[at - 1] if at else 0
            side.insert(at, lo, row := row + 1)
        elif op < 0.97 and side.rows:
            side.drop(int(rng.integers(1, len(side.rows) + 1)), 0.0)
        else:
            side.set_rows([r * 2 for r in side.rows])
        if step % 7 == 0 or op >= 0.8:
            assert side.rows_array().tolist() == side.rows
    assert side.rows_array().dtype == np.int64


def test_eviction_reads_only_the_lists_that_lost_rows_and_keeps_the_horizon_exactly(
    tmp_path: Path,
) -> None:
    # Transfers among the docbank's accounts over 120 days, a fifth of them late (up to 40
    # days behind the newest, some already older than the horizon when they arrive),
    # evicted every 37 transfers. After each eviction every list holds exactly its rows
    # within the horizon, in time order, and what left is counted: as when every list of
    # every account was looked at.
    graph = project(_bank(tmp_path / "b", docbank.TRANSFERS[:1]), tmp_path / "d")
    ids = graph.nodes["Account"].ids.tolist()
    live = LiveIndex.from_index(LayeringIndex.build(graph), ids, {a: i for i, a in enumerate(ids)})
    rng = np.random.default_rng(11)
    # Every transfer each list was given (the loaded one included), by direction and account.
    given = {(end, a): list(side.ts) for end, sides in enumerate((live._out, live._in))
             for a, side in sides.items()}  # fmt: skip
    start = live.now
    for i in range(1_500):
        day = i * 120 / 1_500 - (rng.uniform(0, 40) if rng.random() < 0.2 else 0.0)
        a, b = (int(x) for x in rng.choice(len(ids), 2, replace=False))
        ts = start + int(day * DAY_MS)
        live.add(f"Y{i}", a, b, 10.0 + i, ts)
        given.setdefault((0, a), []).append(ts)
        given.setdefault((1, b), []).append(ts)
        if i % 37 == 36:
            live.evict()
            cutoff = live.now - live.horizon_ms
            for end, sides in enumerate((live._out, live._in)):
                for account, side in sides.items():
                    every = given.get((end, account), [])
                    assert side.ts == sorted(t for t in every if t >= cutoff)
                    assert side.evicted == sum(1 for t in every if t < cutoff)
    assert live.live == sum(len(side.rows) for side in live._out.values())


BLOCK = [  # 王伟 (A1) and 张强 (A3) both pay 陈静 (A5) and 杨磊 (A7) within a day: 2 × 2
    ("B1", "A1", "A5", "31000.00", "20T09"),
    ("B2", "A1", "A7", "29500.00", "20T10"),
    ("B3", "A3", "A5", "30500.00", "20T11"),
    ("B4", "A3", "A7", "30200.00", "20T13"),
]


def _june_rows(legs: list[tuple[str, str, str, str, str]]) -> list[dict[str, str]]:
    """Transfers rows in CNY from (id, payer, payee, amount, "DDTHH" in June 2026)."""
    return [
        {"tx_id": t, "from_account": a, "to_account": b, "amount": amount, "currency": "CNY",
         "ts": f"2026-06-{when}:00:00"}
        for t, a, b, amount, when in legs
    ]  # fmt: skip


def _last_leg_live(
    tmp_path: Path, legs: list[tuple[str, str, str, str, str]], typology: str
) -> tuple[Any, Any, LiveIndex, list[str]]:
    """The batch's one ``typology`` alert over docbank plus ``legs`` (June 2026, "DDTHH"),
    and the live index's alert of that typology on the last leg arriving live (with every
    threshold at 0: each alert lists its hops); the index and its account ids too."""
    params = LayeringParams(score_threshold=0.0)
    rows = _june_rows(legs)
    full = project(_bank(tmp_path / "full", docbank.TRANSFERS + rows), tmp_path / "d1")
    frames = alert_frames(full, scan(full, params))
    (batch,) = frames["risk_chains"].query(f"typology == '{typology}'").itertuples()
    partial = project(_bank(tmp_path / "part", docbank.TRANSFERS + rows[:-1]), tmp_path / "d2")
    ids = partial.nodes["Account"].ids.tolist()
    live = LiveIndex.from_index(
        LayeringIndex.build(partial, params), ids, {a: i for i, a in enumerate(ids)}
    )
    tx_id, a, b, amount, when = legs[-1]
    at = moment_ms(f"2026-06-{when}:00:00", source_zone())
    row = live.add(tx_id, ids.index(a), ids.index(b), float(amount), at)
    (alert,) = [x for x in live.verdict(row).alerts if x.typology == typology]
    hops = frames["risk_chain_hops"]
    assert sorted(h.tx_id for h in alert.hops) == sorted(
        hops[hops.chain_id == batch.chain_id].tx_id
    )
    assert alert.chain_id == batch.chain_id
    assert alert.score == batch.score
    return batch, alert, live, ids


def test_the_last_payment_of_a_block_arriving_live_gets_the_batch_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The last payment, A3 → A7, arrives live; its verdict must see A1 → A5, which neither
    # of its accounts made or received: the block context brings the transfers among A7's
    # other payer (A1), A3's other payee (A5) and the rest of the two's counterparties.
    # 陈静 also moves money between her own accounts (A6 → A5) three times that week.
    own = [(f"O{d}", "A6", "A5", "5000.00", f"{d}T08") for d in (17, 18, 19)]
    _, alert, live, ids = _last_leg_live(tmp_path, own + BLOCK, "bipartite")
    assert sorted(h.tx_id for h in alert.hops) == ["B1", "B2", "B3", "B4"]

    a = {name: ids.index(name) for name in ("A1", "A2", "A3", "A4", "A5", "A7")}
    # Every counterparty of the two (the chain's A1 and A4, 李娜's A2) within the limits.
    assert live._block_parties(a["A3"], a["A7"]) == {a["A1"], a["A2"], a["A4"], a["A5"]}
    # 李娜 paying 杨磊 once: no block or layer can hold it, so no context is read.
    assert live._block_parties(a["A2"], a["A7"]) == set()
    # An account busier than the cap is not looked into (a shop's month): A5 has 7 live
    # transfers, A3 and A7 four and three.
    monkeypatch.setattr(blockctx, "BLOCK_CONTEXT_ROWS", 5)
    assert live._block_parties(a["A3"], a["A7"]) == {a["A1"], a["A2"], a["A4"]}


def test_a_stacks_next_layer_arriving_live_gets_the_batch_stack(tmp_path: Path) -> None:
    # The block above, then its two receivers pay most of it on to 刘洋 (A4) the next day:
    # a next layer of one account (no block). The last payment, A7 → A4, arrives live.
    layer = [("L1", "A5", "A4", "58000.00", "21T10"), ("L2", "A7", "A4", "56500.00", "21T15")]
    _, alert, _, _ = _last_leg_live(tmp_path, BLOCK + layer, "stack")
    assert sorted(h.tx_id for h in alert.hops) == ["B1", "B2", "B3", "B4", "L1", "L2"]


MULES = [  # 王伟 (A1) splits 90,000 over three; each keeps a cut and pays 刘洋 (A4) the rest
    ("M1", "A1", "A3", "30000.00", "22T09"),
    ("M2", "A1", "A5", "31000.00", "22T10"),
    ("M3", "A1", "A7", "29000.00", "22T11"),
    ("M4", "A3", "A4", "19500.00", "22T15"),  # 65 %
    ("M5", "A5", "A4", "18600.00", "22T16"),  # 60 %
    ("M6", "A7", "A4", "17400.00", "22T18"),  # 60 %
]


def test_a_scatter_gather_through_mules_keeping_a_cut_is_found_live_as_in_batch(
    tmp_path: Path,
) -> None:
    # The middles pass on 60–65 %: no chain hop (80 %), but spokes (spoke_min_share 50 %).
    # The last spoke, A7 → A4, arrives live; its verdict is the batch's alert.
    _, alert, _, _ = _last_leg_live(tmp_path, MULES, "scatter_gather")
    # A1 → A3 → A4 on the 10th (docbank's chain, 97 % passed on) is a slow spoke of the
    # same two accounts twelve days before: one scatter-gather.
    mules = ["M1", "M2", "M3", "M4", "M5", "M6"]
    assert sorted(h.tx_id for h in alert.hops) == [*mules, "T1", "T2"]


def test_spokes_passing_on_less_than_the_spoke_share_are_no_scatter_gather(
    tmp_path: Path,
) -> None:
    rows = _june_rows(MULES)
    bank = project(_bank(tmp_path / "bank", docbank.TRANSFERS + rows), tmp_path / "data")
    strict = scan(bank, LayeringParams(score_threshold=0.0, spoke_min_share=0.7))
    assert "scatter_gather" not in set(strict.typology.tolist())
    found = scan(bank, LayeringParams(score_threshold=0.0))
    assert "scatter_gather" in set(found.typology.tolist())
    # The on-demand check with other settings (a 48-hour window) finds it from either end.
    ids, index = bank.nodes["Account"].ids.tolist(), LayeringIndex.build(bank)
    for end in ("A1", "A4"):
        checked = check_account(bank, ids.index(end), window_hours=48, index=index)
        assert "scatter_gather" in set(checked.alerts.typology.tolist()), end


def test_eviction_keeps_each_lists_sum_as_nansum_sums_it(tmp_path: Path) -> None:
    # 王伟 (A1) pays 李娜 (A2) every six hours for 60 days, a tenth of it in another currency
    # (no comparable amount: NaN), with evictions every 50 transfers: some lists lose one
    # row, some a dozen. What left is kept per account as np.nansum sums each list's rows
    # (NaN counts 0), to the last bit, and the sums stay finite.
    graph = project(_bank(tmp_path / "b", docbank.TRANSFERS[:1]), tmp_path / "d")
    ids = graph.nodes["Account"].ids.tolist()
    live = LiveIndex.from_index(LayeringIndex.build(graph), ids, {a: i for i, a in enumerate(ids)})
    a1, a2 = ids.index("A1"), ids.index("A2")
    rng = np.random.default_rng(3)
    expected = live._out[a1].evicted_amount
    start = live.now
    for i in range(240):
        amount = float("nan") if i % 10 == 3 else float(rng.uniform(1, 1e6))
        live.add(f"Z{i}", a1, a2, amount, start + i * DAY_MS // 4)
        if i % 50 == 49 or i == 239:
            side = live._out[a1]
            cutoff = live.now - live.horizon_ms
            k = sum(1 for t in side.ts if t < cutoff)
            if k:
                expected += float(np.nansum(live._amount[side.rows[:k]]))
            live.evict()
            assert live._out[a1].evicted_amount == expected
    assert live._out[a1].evicted > 12
    assert np.isfinite(live.history(a1)["evicted_out_amount"])


def test_an_eviction_sums_the_lists_losing_one_or_two_rows_together_as_nansum_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every 5,000 transfers an eviction runs inside the payment request that crosses the
    # count; at a million customers thousands of lists lose a row or two, and summing each
    # one in Python was part of the 263-298 ms it held that request. Here each docbank
    # account pays the next ones once, twice or three times, some in another currency
    # (NaN), and the horizon passes them all: each list's evicted sum is np.nansum of its rows to the last bit, while only
    # the lists losing three rows or more are summed one at a time.
    graph = project(_bank(tmp_path / "b", docbank.TRANSFERS[:1]), tmp_path / "d")
    ids = graph.nodes["Account"].ids.tolist()
    live = LiveIndex.from_index(LayeringIndex.build(graph), ids, {a: i for i, a in enumerate(ids)})
    live.evict()
    rng = np.random.default_rng(5)
    start = live.now + DAY_MS
    legs = [(a, (a + 1 + j) % len(ids)) for a in range(len(ids)) for j in range(a % 3 + 1)]
    for i, (a, b) in enumerate(legs):
        amount = float("nan") if i % 5 == 2 else float(rng.uniform(1, 1e6))
        live.add(f"W{i}", a, b, amount, start + i * 60_000)
    before = {(end, a): (side.evicted, side.evicted_amount, live._amount[side.rows])
              for end, sides in enumerate((live._out, live._in))
              for a, side in sides.items()}  # fmt: skip
    summed: list[int] = []
    left_sum = LiveIndex._left_sum

    def counted(self: LiveIndex, rows: list[int]) -> float:
        summed.append(len(rows))
        return left_sum(self, rows)

    monkeypatch.setattr(LiveIndex, "_left_sum", counted)
    live.now += live.horizon_ms + DAY_MS
    live.evict()
    for end, sides in enumerate((live._out, live._in)):
        for a, side in sides.items():
            count, amount, left = before[(end, a)]
            assert side.rows == []
            assert side.evicted == count + len(left)
            assert side.evicted_amount == amount + float(np.nansum(left))
    lost = [len(left) for _, _, left in before.values()]
    assert {1, 2, 3} <= set(lost)
    assert sorted(summed) == sorted(k for k in lost if k >= 3)


def test_an_eviction_gives_each_live_row_its_pairs_numbers_without_an_array_per_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each docbank account pays the next ones over 60 days; the horizon passes the first
    # half. Every live row then carries its pair's numbers as the pairs now hold them
    # (periods of the rows that left), and the short lists of the payers are read as lists:
    # an array built for each of thousands of them was a fifth of the eviction's time.
    graph = project(_bank(tmp_path / "b", docbank.TRANSFERS[:1]), tmp_path / "d")
    ids = graph.nodes["Account"].ids.tolist()
    live = LiveIndex.from_index(LayeringIndex.build(graph), ids, {a: i for i, a in enumerate(ids)})
    start = live.now + DAY_MS
    for i in range(240):
        a = i % len(ids)
        live.add(f"V{i}", a, (a + 1 + i % 2) % len(ids), 5_000.0 + i, start + i * DAY_MS // 4)
    arrays: list[int] = []
    rows_array = _Side.rows_array

    def counted(self: _Side) -> Any:
        arrays.append(len(self.rows))
        return rows_array(self)

    monkeypatch.setattr(_Side, "rows_array", counted)
    live.now = start + 30 * DAY_MS + live.horizon_ms
    assert live.evict() > 0
    rows = np.array(sorted(r for side in live._out.values() for r in side.rows))
    assert len(rows) == live.live == 120
    count, last = live._pairs.lookup(live._src[rows], live._dst[rows])
    assert count.min() > 0
    assert live._pair_count[rows].tolist() == count.tolist()
    assert live._pair_last[rows].tolist() == last.tolist()
    assert arrays == []
