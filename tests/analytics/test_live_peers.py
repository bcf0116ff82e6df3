"""The live index's peers' figures are the batch's over every transfer it has seen.

Fans are judged against their peers: the 90th percentile of distinct counterparties per
(account, window) cell over the whole bank (:class:`.routine.HubHistory`). The live index
keeps the figure as counts of cells per number of counterparties (:mod:`.peerctx`), built
from the loaded bank and moved by each arrival; a verdict's neighbourhood, whose few
accounts it used to take the figure from, is not the bank.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from relgraph.analytics.layering import LayeringIndex, LayeringParams
from relgraph.analytics.layering.hops import _eligible
from relgraph.analytics.layering.live import LiveIndex
from relgraph.analytics.layering.routine import HubHistory, slow_params
from relgraph.synth import generate
from tests.banks import hold_back_half, project


def _batch_figures(index: LayeringIndex, params: LayeringParams) -> tuple[float, ...]:
    """The batch's figures over ``index``'s transfers: 72-hour out and in, 30-day out and in."""
    tx = _eligible(index.amount, index.ts, index.src, index.dst, params.min_amount)
    fast, slow = HubHistory(tx, params), HubHistory(tx, slow_params(params), True)
    return fast.peer_out, fast.peer_in, slow.peer_out, slow.peer_in


def test_the_live_peers_are_the_batchs_after_the_load_and_after_each_arrival(
    tmp_path: Path,
) -> None:
    params = LayeringParams()
    generate(300, 5, tmp_path / "bank", "csv")
    shutil.copytree(tmp_path / "bank", tmp_path / "whole")
    later = hold_back_half(tmp_path / "bank")
    first = LayeringIndex.build(project(tmp_path / "bank", tmp_path / "d1"), params)
    whole = LayeringIndex.build(project(tmp_path / "whole", tmp_path / "d2"), params)
    graph_ids = project(tmp_path / "bank", tmp_path / "d3").nodes["Account"].ids.tolist()
    live = LiveIndex.from_index(first, graph_ids, {a: i for i, a in enumerate(graph_ids)})
    assert live.peer_figures() == _batch_figures(first, params)
    seen = {live.peer_figures()}
    rows = zip(later["tx_id"], later["from_account"], later["to_account"], later["amount"],
               later["_ms"], strict=True)  # fmt: skip
    for tx_id, payer, payee, amount, ts in rows:
        src, dst = live.account(str(payer)), live.account(str(payee))
        assert src is not None
        assert dst is not None
        live.add(str(tx_id), src, dst, float(amount), int(ts))
        seen.add(live.peer_figures())
    assert live.peer_figures() == _batch_figures(whole, params)
    assert len(seen) > 1  # the arrivals moved the figures
