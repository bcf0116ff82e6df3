"""The arrivals' (target, time) order is sorted once per set of transfers and shared: hop
links, payees' highs, fan-ins and hub histories all walk it, and must get what their own
sort gave them."""

from __future__ import annotations

import numpy as np

from relgraph.analytics.layering.hops import _eligible, _links, _Tx, with_facts
from relgraph.analytics.layering.params import LayeringParams
from relgraph.analytics.sets import search

HOUR = 3_600_000


def _random_tx(n: int, accounts: int, seed: int) -> _Tx:
    rng = np.random.default_rng(seed)
    src = rng.integers(0, accounts, n)
    dst = rng.integers(0, accounts, n)
    # Whole hours over two months: many ties in time, so ties by position matter.
    ts = rng.integers(0, 60 * 24, n) * HOUR
    amount = rng.choice([1_000.0, 950.0, 900.0, 20_000.0, 48_000.0], n)
    return _eligible(amount, ts, src, dst, 0.0)


def test_by_target_known_answer() -> None:
    tx = _Tx(
        np.arange(4),
        np.array([0, 0, 1, 3]),
        np.array([2, 1, 2, 1]),
        np.full(4, 100.0),
        np.array([5, 5, 1, 5]),
    )
    # Payee 1 at 5 (rows 1 and 3: ties by position), then payee 2 at 1 and at 5.
    assert tx.by_target.tolist() == [1, 3, 2, 0]


def test_by_target_is_the_stable_payee_time_order_and_carries_with_facts() -> None:
    tx = _random_tx(20_000, 300, 1)
    expected = np.lexsort((np.arange(len(tx)), tx.ts, tx.dst))
    assert np.array_equal(tx.by_target, expected)
    # Facts of the same transfers keep the order already sorted; a subset sorts its own.
    with_highs = with_facts(tx, (np.zeros(len(tx)), np.zeros(len(tx))), np.arange(len(tx)))
    assert with_highs.by_target is tx.by_target
    half = tx.take(np.arange(0, len(tx), 2))
    assert np.array_equal(half.by_target, np.lexsort((np.arange(len(half)), half.ts, half.dst)))


def test_search_with_a_given_order_equals_searchsorted() -> None:
    rng = np.random.default_rng(2)
    keys = np.sort(rng.integers(0, 1_000_000, 50_000))
    queries = rng.integers(0, 1_000_000, 10_000)
    order = np.argsort(queries, kind="stable")
    for side in ("left", "right"):
        expected = np.searchsorted(keys, queries, side)
        assert np.array_equal(search(keys, queries, side, order=order), expected)
        assert np.array_equal(search(keys, queries, side), expected)


def test_hop_links_on_the_shared_order_equal_a_brute_force_join() -> None:
    """20,000 transfers: past ``search``'s small-array shortcut, so the shared order is
    what both bounds of the window join are searched in."""
    params = LayeringParams()
    tx = _random_tx(20_000, 300, 3)
    window = params.window_ms
    links = _links(tx, params, params.loosest_share)
    # Hop-link candidates by brute force: departures of an arrival's payee within the window.
    pairs = set(zip(links.pred.tolist(), links.succ.tolist(), strict=True))
    t0 = int(tx.ts.min())
    span = int(tx.ts.max()) - t0 + window + 1
    departures = tx.src * span + (tx.ts - t0)
    lo = np.searchsorted(departures, tx.dst * span + (tx.ts - t0), "right")
    hi = np.searchsorted(departures, tx.dst * span + (tx.ts + window - t0), "right")
    share = params.loosest_share
    expected = {
        (i, j)
        for i in range(len(tx))
        for j in range(lo[i], hi[i])
        if share * tx.amount[i] <= tx.amount[j] <= params.max_pass_share * tx.amount[i]
    }
    assert pairs == expected
    assert len(pairs) > 1_000


def test_a_stable_sort_by_pair_keeps_each_pairs_time_order() -> None:
    """Regular flows and split payments sort by (source, target) alone: eligible transfers
    are in (source, time) order, so each pair's transfers stay in time order, ties by
    position — the (pair, time) order, without a key that overflows at 1M accounts."""
    tx = _random_tx(20_000, 40, 4)
    pair = tx.src * 40 + tx.dst
    expected = np.lexsort((np.arange(len(tx)), tx.ts, pair))
    assert np.array_equal(np.argsort(pair, kind="stable"), expected)
