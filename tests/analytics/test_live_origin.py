"""Real time cuts 30-day periods where the batch does: from the bank's first transfer.

Bipartite blocks (and established relationships) are found per 30-day period counted from
the scan's first transfer. A verdict scans a neighbourhood of a month, whose first transfer
is not the bank's: before the context carried the bank's ``origin``, a block that the
batch's periods cut in two was whole in the verdict's, and real time held a payment the
batch never reports (independent-1, March 2025: 15 such blocks).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from relgraph.analytics.layering import LayeringParams, alert_frames, scan
from relgraph.analytics.layering.live import LiveIndex
from relgraph.config import moment_ms, source_zone
from tests.banks import holder_each, live_with_last, project, transfer, write_bank

START = datetime(2026, 1, 1, 10)


def _at(day: float, tx_id: str, src: str, dst: str, amount: float) -> dict[str, Any]:
    return transfer(tx_id, src, dst, amount, START + timedelta(days=day))


def _bank(days: tuple[float, float, float, float]) -> list[dict[str, Any]]:
    """Two friends (A, B) each paying the same two accounts (X, Y): a 2 × 2 block when its
    four payments fall in one period. The bank's first transfer (Z1 → Z2) is on day 0, so
    the batch's periods are cut at days 30, 60, 90 (and 15, 45, 75 in the shifted tiling);
    Z1 → Z2 repeats monthly so that every account has a transfer before the block."""
    a_x, b_x, a_y, b_y = days
    return [
        *(_at(30.0 * k, f"Z{k}", "Z1", "Z2", 700.0) for k in range(3)),
        _at(a_x, "AX", "A", "X", 3_150.0),
        _at(b_x, "BX", "B", "X", 4_420.0),
        _at(a_y, "AY", "A", "Y", 2_860.0),
        _at(b_y, "BY", "B", "Y", 3_975.0),
    ]


def _verdict_typologies(
    tmp_path: Path, days: tuple[float, float, float, float], params: LayeringParams
) -> tuple[set[str], dict[str, tuple[str, float]], LiveIndex, int, list[str]]:
    """Batch typologies holding BY; the batch's bipartite id and score; the live index as
    of before BY with BY added, and its row."""
    rows = _bank(days)
    graph = project(write_bank(tmp_path / "full", holder_each(rows)), tmp_path / "d1")
    frames = alert_frames(graph, scan(graph, params))
    hops, chains = frames["risk_chain_hops"], frames["risk_chains"].set_index("chain_id")
    held = hops.loc[hops.tx_id == "BY", "chain_id"].tolist()
    batch = {str(chains.loc[c, "typology"]): (c, float(chains.loc[c, "score"])) for c in held}

    ids = graph.nodes["Account"].ids.tolist()
    live, row = live_with_last(tmp_path, rows, params, ids)
    return set(batch), batch, live, row, ids


def test_a_block_the_batch_cuts_at_a_period_is_no_block_live(tmp_path: Path) -> None:
    params = LayeringParams(score_threshold=0.0)
    # Days 40, 41, 50, 61: the 60-day cut parts BY from the rest, the 45-day cut AX and BX
    # from AY and BY. The batch has no block.
    batch, _, live, row, _ = _verdict_typologies(tmp_path, (40, 41, 50, 61), params)
    assert "bipartite" not in batch
    assert live._ctx.origin == moment_ms("2026-01-01T10:00:00", source_zone())
    assert "bipartite" not in {a.typology for a in live.verdict(row).alerts}
    # In a request of two, side by side (:mod:`.union`): the same.
    other = live.add("Z9", live.account("Z1") or 0, live.account("Z2") or 0, 700.0,
                     int(live._ts[row]) + 60_000)  # fmt: skip
    together = live.verdicts_known([row, other], [live.prepare(row), live.prepare(other)], set())
    assert "bipartite" not in {a.typology for a in together[0].alerts}

    # Counted from the neighbourhood's own first transfer (day 40), the four payments fall
    # in one period: the block real time used to report.
    live._ctx = replace(live._ctx, origin=None)
    assert "bipartite" in {a.typology for a in live.verdict(row).alerts}


def test_a_block_inside_one_period_is_the_batchs_live(tmp_path: Path) -> None:
    params = LayeringParams(score_threshold=0.0)
    # Days 31, 32, 45, 55: inside the period [30, 60). A and B received nothing, so no
    # chain, fan, structuring or round trip can hold BY: the verdict runs because BY may
    # be a block transfer (``LiveIndex._may_hold`` once skipped it).
    batch, found, live, row, _ = _verdict_typologies(tmp_path, (31, 32, 45, 55), params)
    assert "bipartite" in batch
    (alert,) = [a for a in live.verdict(row).alerts if a.typology == "bipartite"]
    assert (alert.chain_id, alert.score) == found["bipartite"]
