"""Alert ids: one per alert, the same in the batch, in real time and on every run.

Ids hash an alert's transfer ids. Two typologies can hold the very same transfers — a payer
sending 48,000–48,500 a week to six strangers is a slow fan-out and a structuring run — and
both were stored under one id: its hops twice, two ``riskChains`` nodes with one id, a
review of "it" ambiguous, and real time keeping one of the two.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from relgraph.analytics.layering import LayeringParams, alert_frames, scan
from relgraph.analytics.layering.frames import distinct_ids
from tests.banks import holder_each, live_with_last, project, transfer, write_bank

START = datetime(2026, 9, 15, 10)


def _at(day: float, tx_id: str, src: str, dst: str, amount: float) -> dict[str, Any]:
    return transfer(tx_id, src, dst, amount, START + timedelta(days=day))


ROWS = [
    # Months of ordinary life first: everyone pays the shop.
    *(_at(-100 + 3 * k, f"BG{k}", f"R{k % 6}" if k % 7 else "P", "SHOP", 80.0 + k) for k in range(30)),
    *(_at(7 * i, f"W{i}", "P", f"R{i}", 48_000.0 + 100 * i) for i in range(6)),
]  # fmt: skip


def test_two_typologies_over_the_same_transfers_get_two_ids(tmp_path: Path) -> None:
    params = LayeringParams(score_threshold=0.0)
    graph = project(write_bank(tmp_path / "bank", holder_each(ROWS)), tmp_path / "data")
    frames = alert_frames(graph, scan(graph, params))
    chains, hops = frames["risk_chains"], frames["risk_chain_hops"]
    weekly = {f"W{i}" for i in range(6)}
    by_typology = {
        str(t): c for c, t in zip(chains.chain_id, chains.typology, strict=True)
        if set(hops.loc[hops.chain_id == c, "tx_id"]) == weekly
    }  # fmt: skip
    assert {"fan_out", "structuring"} <= set(by_typology)
    assert chains.chain_id.is_unique
    assert not hops.duplicated(["chain_id", "tx_id"]).any()
    # The fan keeps the transfers' hash (ids stored before are kept); the run's hashes
    # its typology too, whether or not a fan holds its transfers.
    plain = by_typology["fan_out"]
    assert distinct_ids([plain], ["fan_out"]) == [plain]
    assert distinct_ids([plain], ["structuring"]) == [by_typology["structuring"]]

    # The last payment's verdict names the run as the batch does (it does not find the
    # slow fan: real time judges a hub's month on the month it holds, README).
    ids = graph.nodes["Account"].ids.tolist()
    live, row = live_with_last(tmp_path, ROWS, params, ids)
    named = {a.typology: a.chain_id for a in live.verdict(row).alerts}
    assert named["structuring"] == by_typology["structuring"]


def test_ids_of_distinct_transfer_sets_are_left_alone() -> None:
    ids = ["Ra", "Rb", "Ra", "Rc"]
    named = distinct_ids(ids, ["stack", "cycle", "bipartite", "cycle"])
    assert named[1:] == ["Rb", "Ra", "Rc"]  # the block sorts first: it keeps the hash
    assert named[0] not in ids
    assert len(set(named)) == 4
    assert distinct_ids(["Ra", "Rb"], ["cycle", "cycle"]) == ["Ra", "Rb"]
