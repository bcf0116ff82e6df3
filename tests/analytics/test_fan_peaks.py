"""A hub's earlier fans that left the live index still count as its usual (:mod:`.peaks`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from relgraph.analytics.layering import LayeringIndex, LayeringParams, alert_frames, scan
from relgraph.analytics.layering.hops import _Tx
from relgraph.analytics.layering.live import LiveIndex
from relgraph.analytics.layering.peaks import fan_peaks, fold_peaks
from relgraph.config import moment_ms, source_zone
from tests.banks import holder_each, project, transfer, write_bank

HOUR_MS = 3_600_000


def _payouts(month: int, workers: range, day: int = 5) -> list[dict[str, Any]]:
    """A labour-service platform (P) paying each of ``workers`` once, a few minutes apart."""
    start = datetime(2026, month, day, 10)
    return [
        transfer(
            f"M{month}W{w}", "P", f"W{w:02d}", 8_000 + 150 * w, start + timedelta(minutes=3 * i)
        )
        for i, w in enumerate(workers)
    ]


# January's payouts to twelve couriers, February's to twelve others, and two days later one
# more payment: the 72-hour piece it completes has thirteen payees, January's had twelve.
# W25, the last payee, pays a colleague twice a week from that evening: every account is in
# both banks of the test, and the verdict's neighbourhood watched the platform (silent)
# for a month before February's payouts.
HISTORY = [
    *_payouts(1, range(1, 13)),
    *(
        transfer(
            f"OWN{k}",
            "W25",
            "W24",
            100 + 37 * k,
            datetime(2026, 1, 5, 20) + timedelta(days=3.5 * k),
        )
        for k in range(9)
    ),
    *_payouts(2, range(13, 25)),
]
LAST = transfer("LATE", "P", "W25", 9_000, datetime(2026, 2, 7, 17))


def test_last_months_payouts_out_of_the_index_keep_this_months_ordinary(tmp_path: Path) -> None:
    params = LayeringParams(score_threshold=0.0)
    rows = [*HISTORY, LAST]
    graph = project(write_bank(tmp_path / "full", holder_each(rows)), tmp_path / "d1")
    frames = alert_frames(graph, scan(graph, params))
    hops = frames["risk_chain_hops"]
    chains = frames["risk_chains"].set_index("chain_id")
    (held,) = hops.loc[hops.tx_id == "LATE", "chain_id"]
    batch = chains.loc[held]
    assert batch.typology == "fan_out"
    # Against January's twelve, February's thirteen are no excess: the batch's score has
    # no fan_excess reason.
    assert "fan_excess" not in str(batch.reasons)

    # Live: the index is built as of February 5th, LAST arrives on the 7th, and January's
    # payouts (33 days before it) leave the index.
    ids = graph.nodes["Account"].ids.tolist()
    before = project(write_bank(tmp_path / "part", holder_each(HISTORY)), tmp_path / "d2")
    assert before.nodes["Account"].ids.tolist() == ids
    live = LiveIndex.from_index(
        LayeringIndex.build(before, params), ids, {a: i for i, a in enumerate(ids)}
    )
    at = moment_ms(LAST["ts"], source_zone())
    row = live.add("LATE", ids.index("P"), ids.index("W25"), 9_000.0, at)
    live.evict()
    january = moment_ms("2026-01-05T10:00:00", source_zone())
    assert live._range(live._out, ids.index("P"), january - HOUR_MS, january + HOUR_MS) == []
    assert live._peaks[ids.index("P")].tolist() == [12.0, 0.0]

    (alert,) = [a for a in live.verdict(row).alerts if a.typology == "fan_out"]
    assert "fan_excess" not in str(alert.reasons)
    assert sorted(h.tx_id for h in alert.hops) == sorted(hops.loc[hops.chain_id == held, "tx_id"])
    assert alert.chain_id == held
    assert alert.score == batch.score
    # A request of several scans their neighbourhoods side by side (:mod:`.union`), each
    # account with its peaks: the same alert.
    prepared = live.prepare(row)
    other = live.add("NEXT", ids.index("W24"), ids.index("W25"), 50.0, at + HOUR_MS)
    together = live.verdicts_known([row, other], [prepared, live.prepare(other)], set())
    (same,) = [a for a in together[0].alerts if a.typology == "fan_out"]
    assert (same.chain_id, same.score) == (held, batch.score)

    # Without the peak the same verdict finds thirteen payees an excess over the platform's
    # usual, as if it had never paid so many: the alert the batch never reports. (Its peers
    # then are the bank's, which in this bank of one payer are its own payouts: here, a
    # bank of a hundred windows of one payee each.)
    live._peaks = np.zeros_like(live._peaks)
    live._peer_counts[False, False] = np.array([0, 100])
    live._peer_figures = None
    (alone,) = [a for a in live.verdict(row).alerts if a.typology == "fan_out"]
    assert "fan_excess" in str(alone.reasons)
    assert alone.score > batch.score


def test_a_piece_across_the_cut_is_found_whole_and_peaks_fold_as_a_maximum() -> None:
    hour = HOUR_MS
    # Hub 0 pays accounts 1..6 an hour apart; the first three leave, the rest stay.
    tx = _Tx(np.arange(6), np.zeros(6, np.int64), np.arange(1, 7), np.full(6, 500.0),
             np.arange(6) * hour)  # fmt: skip
    hub, inbound, intensity = fan_peaks(tx, np.arange(6) < 3, LayeringParams())
    assert (hub.tolist(), inbound.tolist(), intensity.tolist()) == ([0], [False], [6.0])
    # A piece holding nothing that leaves is not folded.
    assert len(fan_peaks(tx, np.zeros(6, bool), LayeringParams())[0]) == 0
    # Fewer payees than min_fan: no piece.
    assert len(fan_peaks(tx.take(np.arange(4)), np.ones(4, bool), LayeringParams())[0]) == 0

    peaks = fold_peaks(np.zeros((0, 2)), hub, inbound, intensity)
    peaks = fold_peaks(peaks, np.array([0, 3]), np.array([False, True]), np.array([4.0, 7.0]))
    assert peaks.tolist() == [[6.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 7.0]]
