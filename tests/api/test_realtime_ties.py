"""Real-time alerts over transfers that tie in time name their hops as the next batch does.

The batch orders an alert's transfers by time, ties by their place in the projection (by
payer's account id, then transfer id: graph/build.py), and numbers and hashes its hops in
that order. The live index held ties in the order they arrived, so two payments of one
second streamed in the other order (or one streamed beside a loaded one of the same second)
got another chain id and other hop numbers in real time than the next load + analyze gave
the same alert: the queue listed the alert under an id the batch then dropped.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from relgraph.api.live import LiveScoring
from relgraph.api.readmodel import build_read_model
from relgraph.config import moment_ms, source_zone
from relgraph.graph import build_projection
from relgraph.ingest import load_directory
from relgraph.jobs.analyze import analyze
from relgraph.store.embedded import EmbeddedStore
from tests.banks import Rows, holder_each, transfer, write_bank

START = datetime(2026, 9, 15, 10)


def _at(hours: float, tx_id: str, src: str, dst: str, amount: float) -> dict[str, Any]:
    return transfer(tx_id, src, dst, amount, START + timedelta(hours=hours))


# A month of small payments to a shop, and P's pay: the bank's history, no alert.
HISTORY = [
    *(_at(-24 * (40 - k), f"BG{k:02d}", f"Q{k % 5}", "SHOP", 80.0 + k) for k in range(30)),
    *(_at(-24 * (40 - 7 * k), f"PAY{k}", "EMP", "P", 9_000.0) for k in range(5)),
]
# A layering chain from two payments of one second: A pays B twice (X0, X1), B passes on
# to C, C to D, D to E. (Indices into CHAIN are the ids' numbers.)
CHAIN = [
    _at(0, "X0", "A", "B", 49_000.0),
    _at(0, "X1", "A", "B", 49_500.0),
    _at(2, "X2", "B", "C", 48_000.0),
    _at(4, "X3", "C", "D", 47_000.0),
    _at(6, "X4", "D", "E", 46_000.0),
]
# Six payers pay one account in one second: a fan-in whose ties are of different payers
# (the batch puts them in the order of the payers' account ids).
FAN_IN = [_at(1, f"V{i}", f"S{i}", "H", 48_000.0 + 100 * i) for i in range(6)]


def _stream_then_batch(
    root: Path,
    loaded: Rows,
    streamed: Rows,
    batches: list[list[int]],
    opened_by_stream: tuple[str, ...] = (),
) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """``loaded`` loaded and analysed; ``streamed`` sent to the in-process live scoring in
    ``batches`` (indices into it; accounts in ``opened_by_stream`` sent to it first, not
    loaded); then the next load (merging the journal) and analyze. Returns the live alerts
    at or above the threshold by chain id, and the batch's alerts and hops at or above it."""
    tables = holder_each(loaded + streamed)
    opened = [a for a in tables["accounts"] if a["account_id"] in opened_by_stream]
    tables["accounts"] = [a for a in tables["accounts"] if a not in opened]
    bank = write_bank(root / "bank", {**tables, "transfers": loaded})
    data = root / "data"
    with EmbeddedStore(data) as store:
        load_directory(bank, store, data)
        analyze(store, build_projection(store))
    with EmbeddedStore(data, read_only=True) as store:
        model = build_read_model(store)
    live = LiveScoring(model, data)
    if opened:
        answer = live.record_accounts(opened, by="test")
        assert [r["status"] for r in answer["results"]] == ["accepted"] * len(opened)
    records = [{**r, "ts": moment_ms(r["ts"], source_zone())} for r in streamed]
    for batch in batches:
        answer = live.record_transfers([records[i] for i in batch], by="test")
        assert {r["status"] for r in answer["results"]} <= {"accepted", "duplicate"}
    threshold = model.alert_threshold
    realtime = {k: f.alert for k, f in live.alerts.items() if f.alert.score >= threshold}
    with EmbeddedStore(data) as store:
        load_directory(bank, store, data)
        analyze(store, build_projection(store))
        chains = store.read_results("risk_chains").to_pandas()
        hops = store.read_results("risk_chain_hops").to_pandas()
    chains = chains[chains["score"] >= threshold].set_index("chain_id")
    return realtime, chains, hops[hops["chain_id"].isin(chains.index)]


def _assert_same_alerts(realtime: dict[str, Any], chains: pd.DataFrame, hops: pd.DataFrame) -> None:
    """Every live alert is a batch alert of the same id, typology, score, reasons and hops
    (in the same order), and the batch has no other alert over the streamed transfers."""
    assert realtime  # the pattern was found in real time
    assert sorted(realtime) == sorted(chains.index)
    for chain_id, alert in realtime.items():
        assert alert.typology == chains.at[chain_id, "typology"]
        assert alert.score == pytest.approx(chains["score"].to_dict()[chain_id])
        stored = hops[hops["chain_id"] == chain_id].sort_values("hop")
        assert stored["hop"].tolist() == list(range(len(stored)))
        assert [h.tx_id for h in alert.hops] == stored["tx_id"].tolist()
        assert [(h.from_account, h.to_account, h.ts) for h in alert.hops] == list(
            stored[["from_account", "to_account", "ts"]].itertuples(index=False, name=None)
        )


@pytest.mark.parametrize(
    "batches",
    [
        pytest.param([[1, 0, 2, 3, 4]], id="one-request"),
        pytest.param([[1], [0], [2], [3], [4]], id="one-request-each"),
        pytest.param([[4, 3, 2], [1, 0]], id="latest-first-then-the-older-ones"),
        pytest.param([[1, 2], [1, 0, 3], [0, 4]], id="resent-duplicates"),
    ],
)
def test_payments_of_one_second_streamed_out_of_id_order_get_the_batch_chain_and_hops(
    tmp_path: Path, batches: list[list[int]]
) -> None:
    realtime, chains, hops = _stream_then_batch(tmp_path, HISTORY, CHAIN, batches)
    assert {a.typology for a in realtime.values()} == {"layering_chain"}
    for alert in realtime.values():  # the second's pair in the order of their ids
        assert [h.tx_id for h in alert.hops] == ["X0", "X1", "X2", "X3", "X4"]
    _assert_same_alerts(realtime, chains, hops)


def test_a_streamed_payment_in_the_second_of_a_loaded_one_takes_its_place_by_id(
    tmp_path: Path,
) -> None:
    # X1 is loaded; X0, of the same payer and second, arrives by stream after it.
    loaded = [*HISTORY, CHAIN[1]]
    streamed = [CHAIN[0], *CHAIN[2:]]
    realtime, chains, hops = _stream_then_batch(tmp_path, loaded, streamed, [[0, 1, 2, 3]])
    for alert in realtime.values():
        assert [h.tx_id for h in alert.hops] == ["X0", "X1", "X2", "X3", "X4"]
    _assert_same_alerts(realtime, chains, hops)


def test_payers_of_one_second_come_in_the_order_of_their_accounts_opened_by_stream_too(
    tmp_path: Path,
) -> None:
    # Six payers at one instant, sent newest account first; S1 and S4 opened by stream
    # (numbered after the loaded accounts in real time, among them by id in the batch).
    realtime, chains, hops = _stream_then_batch(
        tmp_path, HISTORY, FAN_IN, [[5, 4, 3, 2, 1, 0]], opened_by_stream=("S1", "S4")
    )
    assert {a.typology for a in realtime.values()} == {"fan_in"}
    for alert in realtime.values():
        assert [h.from_account for h in alert.hops] == [f"S{i}" for i in range(6)]
    _assert_same_alerts(realtime, chains, hops)
