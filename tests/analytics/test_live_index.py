"""The live index: a transfer completing a chain gets the batch's alert; memory stays bounded."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from relgraph.analytics.layering import LayeringIndex, LayeringParams, alert_frames, scan
from relgraph.analytics.layering.live import LiveIndex
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
