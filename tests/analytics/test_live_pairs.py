"""A pair's earlier months that left the live index still make it an established
relationship (:mod:`.pairs`): money coming back over it is no round trip, live or batch."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from relgraph.analytics.layering import LayeringIndex, LayeringParams, alert_frames, scan
from relgraph.analytics.layering.live import LiveIndex
from relgraph.config import moment_ms, source_zone
from tests.banks import holder_each, project, transfer, write_bank

# A pays B every month, irregular days and amounts (no regular flow: an established
# relationship, four 30-day periods from the bank's first transfer on 1 January). On
# 10 April B pays A back most of April's payment.
ORIGIN = transfer("Z0", "Z1", "Z2", 700.0, datetime(2026, 1, 1, 10))
MONTHLY = [
    transfer("AB1", "A", "B", 5_000.0, datetime(2026, 1, 5, 11)),
    transfer("AB2", "A", "B", 7_300.0, datetime(2026, 2, 9, 15)),
    transfer("AB3", "A", "B", 4_100.0, datetime(2026, 3, 14, 9)),
    transfer("AB4", "A", "B", 6_600.0, datetime(2026, 4, 3, 16)),
]
BACK = transfer("BA", "B", "A", 6_100.0, datetime(2026, 4, 10, 12))


def _ms(row: dict[str, Any]) -> int:
    return moment_ms(row["ts"], source_zone())


def test_a_pairs_months_out_of_the_index_keep_it_established(tmp_path: Path) -> None:
    params = LayeringParams(score_threshold=0.0)
    rows = [ORIGIN, *MONTHLY, BACK]
    graph = project(write_bank(tmp_path / "full", holder_each(rows)), tmp_path / "d1")
    frames = alert_frames(graph, scan(graph, params))
    hops, chains = frames["risk_chain_hops"], frames["risk_chains"].set_index("chain_id")
    held = hops.loc[hops.tx_id == "BA", "chain_id"].tolist()
    assert "cycle" not in {chains.loc[c, "typology"] for c in held}

    # Live from 20 February: January's payment folds at start, February's when it leaves
    # the index after April's arrives.
    ids = graph.nodes["Account"].ids.tolist()
    before = project(write_bank(tmp_path / "part", holder_each([ORIGIN, *MONTHLY[:2]])),
                     tmp_path / "d2")  # fmt: skip
    assert before.nodes["Account"].ids.tolist() == ids
    live = LiveIndex.from_index(
        LayeringIndex.build(before, params), ids, {a: i for i, a in enumerate(ids)}
    )
    a, b = ids.index("A"), ids.index("B")
    assert live._pairs.lookup(np.array([a]), np.array([b]))[0].tolist() == [1]
    for row in MONTHLY[2:]:
        live.add(row["tx_id"], a, b, float(row["amount"]), _ms(row))
    live.evict()
    assert [x.tolist() for x in live._pairs.lookup(np.array([a]), np.array([b]))] == [[2], [1]]
    # The live rows of the pair carry it (refreshed at eviction).
    assert live._pair_count[live._out[a].rows_array()].tolist() == [2, 2]

    back = live.add("BA", b, a, 6_100.0, _ms(BACK))
    assert "cycle" not in {x.typology for x in live.verdict(back).alerts}
    other = live.add("Z9", ids.index("Z1"), ids.index("Z2"), 700.0, _ms(BACK) + 60_000)
    together = live.verdicts_known([back, other], [live.prepare(back), live.prepare(other)], set())
    assert "cycle" not in {x.typology for x in together[0].alerts}

    # Without the folded months the pair is two periods old to the verdict: a round trip.
    live._pair_count[:] = 0
    live._pair_last[:] = -1
    assert "cycle" in {x.typology for x in live.verdict(back).alerts}
