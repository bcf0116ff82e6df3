"""A busy hub's fan tiles count from where its burst began, not from its first row still
held by the live index (:mod:`.origins`): the verdict is the batch's whenever the eviction
runs."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from relgraph.analytics.layering import LayeringIndex, LayeringParams, alert_frames, scan
from relgraph.analytics.layering.detectors import _fan_bursts
from relgraph.analytics.layering.hops import _Tx
from relgraph.analytics.layering.live import LiveIndex
from relgraph.analytics.layering.origins import fold_starts, no_starts
from relgraph.config import moment_ms, source_zone
from tests.banks import holder_each, project, transfer, write_bank

HOUR_MS = 3_600_000
START = datetime(2026, 1, 1, 1, 7)


def _takings(hours: range) -> list[dict[str, Any]]:
    """A shop (M) paid every four hours, by twenty customers in turn, each always the same
    amount: never idle a window, so one burst from its first day (72-hour tiles of
    eighteen payers), and each customer's payments a regular flow (routine: no slow fan)."""
    return [
        transfer(
            f"P{h}", f"C{h % 20:02d}", "M", 500 + 10 * (h % 20), START + timedelta(hours=4 * h)
        )
        for h in hours
    ]


# Forty-one days of takings; the index is built after the first 240 (forty days), so its
# cut (33 days before the newest) falls on day 7, in the middle of the batch's third tile,
# and a payment a day later moves the cut again when an eviction runs.
HISTORY = _takings(range(240))
LAST = _takings(range(246, 247))[0]


def test_a_busy_shops_fan_in_is_the_batchs_whether_the_eviction_runs_before_or_after(
    tmp_path: Path,
) -> None:
    params = LayeringParams(score_threshold=0.0)
    graph = project(write_bank(tmp_path / "full", holder_each([*HISTORY, LAST])), tmp_path / "d1")
    frames = alert_frames(graph, scan(graph, params))
    hops = frames["risk_chain_hops"]
    (held,) = hops.loc[hops.tx_id == LAST["tx_id"], "chain_id"]
    batch = sorted(hops.loc[hops.chain_id == held, "tx_id"])
    assert frames["risk_chains"].set_index("chain_id").loc[held].typology == "fan_in"

    ids = graph.nodes["Account"].ids.tolist()
    before = project(write_bank(tmp_path / "part", holder_each(HISTORY)), tmp_path / "d2")
    assert before.nodes["Account"].ids.tolist() == ids
    at = moment_ms(LAST["ts"], source_zone())
    members = []
    for evict in (False, True):
        live = LiveIndex.from_index(
            LayeringIndex.build(before, params), ids, {a: i for i, a in enumerate(ids)}
        )
        row = live.add(LAST["tx_id"], ids.index(LAST["from_account"]), ids.index("M"),
                       float(LAST["amount"]), at)  # fmt: skip
        if evict:
            assert live.evict() > 0  # the shop's first held rows leave: its first row moves
        (alert,) = [a for a in live.verdict(row).alerts if a.typology == "fan_in"]
        members.append(sorted(h.tx_id for h in alert.hops))
        assert alert.chain_id == held
    assert members == [batch, batch]


def test_starts_fold_across_cuts_as_over_the_whole_history() -> None:
    """The kept start is the batch's burst start, whichever cuts it was folded at; a burst
    that ended a window before the next dense window is not carried on."""
    hour = HOUR_MS
    n = 60
    ts = np.concatenate([np.arange(n) * 4 * hour, 400 * hour + np.arange(n) * 4 * hour])
    hub = np.zeros(len(ts), np.int64)
    payer = 1 + np.arange(len(ts)) % 20
    tx = _Tx(np.arange(len(ts)), payer, hub, np.full(len(ts), 500.0), ts)
    whole = _fan_bursts(tx, LayeringParams(), True)
    for cuts in ([100 * hour], [30 * hour, 100 * hour], [30 * hour, 70 * hour, 100 * hour]):
        starts, lo = no_starts(0), 0
        for cut in cuts:
            rows = np.flatnonzero((ts >= lo) & (ts < cut + 72 * hour))
            starts = fold_starts(starts, tx.take(rows), LayeringParams(), cut)
            lo = cut
        assert starts[0, 1].tolist() == [0, 96 * hour]
        held = np.flatnonzero(ts >= lo)
        part = _fan_bursts(tx.take(held), LayeringParams(), True, starts[:, 1])
        # Pieces wholly after the cut's tile and the next: the batch's.
        late = [m for m in whole.members if ts[m].min() >= lo + 144 * hour]
        assert [held[m].tolist() for m in part.members if ts[held[m]].min() >= lo + 144 * hour] == [
            m.tolist() for m in late
        ]
