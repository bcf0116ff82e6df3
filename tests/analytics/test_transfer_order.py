"""Transfers of one account at one instant come in the order of their ids, not the file's.

Alerts name their hops in the projection's transfer order and hash them in that order for
their id. With ties in time kept in the store's row order, one bank exported in another row
order got other chain ids and hop numbers for the same alerts (7 of 604 on a 5,000-customer
synthetic bank: fans out of one account, two payments in one second), so a review decision
named by chain id no longer found its chain.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from relgraph.analytics.layering import LayeringParams, alert_frames, scan
from tests.banks import holder_each, project, transfer, write_bank

START = datetime(2026, 9, 15, 10)


def _at(day: float, tx_id: str, src: str, dst: str, amount: float) -> dict[str, Any]:
    return transfer(tx_id, src, dst, amount, START + timedelta(days=day))


ROWS = [
    *(_at(-100 + 3 * k, f"BG{k}", f"R{k % 6}" if k % 7 else "P", "SHOP", 80.0 + k) for k in range(30)),
    # A weekly fan to six strangers, two payments of each week in one second.
    *(_at(7 * (i // 2), f"W{i}", "P", f"R{i}", 48_000.0 + 100 * i) for i in range(6)),
]  # fmt: skip


def _alerts(root: Path, rows: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    graph = project(write_bank(root / "bank", holder_each(rows)), root / "data")
    frames = alert_frames(graph, scan(graph, LayeringParams(score_threshold=0.0)))
    chains = frames["risk_chains"].sort_values("chain_id", ignore_index=True)
    hops = frames["risk_chain_hops"].sort_values(["chain_id", "hop"], ignore_index=True)
    return chains, hops


def test_alerts_over_payments_at_one_instant_do_not_follow_the_files_row_order(
    tmp_path: Path,
) -> None:
    chains, hops = _alerts(tmp_path / "listed", ROWS)
    fans = set(hops.loc[hops.tx_id.str.startswith("W"), "chain_id"])
    assert fans  # the fan is found, with the same-second payments in it
    for chain in fans:  # the same-second pair in the order of their ids
        hop = dict(hops.loc[hops.chain_id == chain, ["tx_id", "hop"]].itertuples(index=False))
        assert hop["W0"] < hop["W1"]
    again, again_hops = _alerts(tmp_path / "reversed", ROWS[::-1])
    pd.testing.assert_frame_equal(again, chains)
    pd.testing.assert_frame_equal(again_hops, hops)


def test_only_ties_are_reordered_and_by_id() -> None:
    # Sorting only the tied rows' ids equals sorting every transfer by (account, time, id).
    import numpy as np
    import pyarrow as pa

    from relgraph.graph.build import _ties_by_id
    from relgraph.graph.grouping import order_by_source_then

    rng = np.random.default_rng(3)
    n = 20_000
    src, ts = rng.integers(0, 300, n), rng.integers(0, 2_000, n)  # many ties in time
    ids = np.array([f"T{i:06d}" for i in rng.permutation(n)], dtype=object)
    order = _ties_by_id(order_by_source_then(src, ts), src, ts, pa.chunked_array([ids]))
    expected = np.lexsort((ids.astype(str), ts, src))
    assert np.array_equal(order, expected)


def test_a_live_alerts_ties_take_the_projections_order() -> None:
    # A live alert's transfers in time order, ties in arrival order, reordered as the
    # projection orders them: by payer's account id, then transfer id (build.py).
    import numpy as np

    from relgraph.analytics.layering.frames import batch_order

    rng = np.random.default_rng(4)
    n = 5_000
    ts, src = rng.integers(0, 300, n), rng.integers(0, 40, n)  # many ties in time
    ids = [f"T{i:05d}" for i in rng.permutation(n)]
    names = [f"A{a:02d}" for a in rng.permutation(40)]  # account ids not in index order
    arrived = np.lexsort((np.arange(n), ts))  # time order, ties as they came
    got = batch_order(arrived, ts, src, names.__getitem__, ids)
    payer = np.array(names)[src]
    assert np.array_equal(got, np.lexsort((np.array(ids), payer, ts)))
    untied = np.argsort(np.arange(n) * 2)
    assert batch_order(untied, np.arange(n), src, names.__getitem__, ids) is untied
