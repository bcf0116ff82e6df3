"""Half of a bank's transfers arrive by stream: the next load merges them from the journal,
and the batch analyze finds the chains the real-time path found, with the same ids and
scores."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from relgraph.api.live import LiveScoring
from relgraph.api.readmodel import build_read_model
from relgraph.graph import build_projection
from relgraph.ingest import LoadReport, load_directory
from relgraph.jobs.analyze import analyze
from relgraph.store.embedded import EmbeddedStore
from tests.banks import held_back_synthetic

BATCH = 50


@pytest.fixture(scope="module")
def split_bank(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """A synthetic bank whose later half of transfers (by time) is held back: the folder
    holding its files (``bank``) and the held-back half."""
    bank, _, late = held_back_synthetic(tmp_path_factory, 1_500, 21)
    return bank.parent, late


@pytest.fixture(scope="module")
def analysed(split_bank: tuple[Path, pd.DataFrame]) -> tuple[Path, LoadReport]:
    """``split_bank`` loaded and analysed (once for the run: test_layering_parallel streams
    it too): its data folder, which the tests only read or copy, and the load's report."""
    data = split_bank[0] / "data"
    report = json.loads((data / "load-report.json").read_text(encoding="utf-8"))
    return data, LoadReport.from_dict(report)


def test_batch_analyze_after_the_merge_finds_the_chains_found_in_real_time(
    split_bank: tuple[Path, pd.DataFrame], analysed: tuple[Path, LoadReport], tmp_path: Path
) -> None:
    root, late = split_bank
    data = tmp_path / "data"
    shutil.copytree(analysed[0], data)  # the stream and the merge write to it
    first = analysed[1]
    with EmbeddedStore(data, read_only=True) as store:
        model = build_read_model(store)
    live = LiveScoring(model, data)
    records = [
        {"tx_id": r.tx_id, "from_account": r.from_account, "to_account": r.to_account,
         "amount": r.amount, "currency": r.currency, "ts": int(r._7)}
        for r in late.itertuples()
    ]  # fmt: skip
    for lo in range(0, len(records), BATCH):
        answer = live.record_transfers(records[lo : lo + BATCH], by="test")
        assert answer["rejected"] == 0, answer["results"]
    threshold = model.alert_threshold
    realtime = {k: f.alert for k, f in live.alerts.items() if f.alert.score >= threshold}

    with EmbeddedStore(data) as store:
        report = load_directory(root / "bank", store, data)  # merges the journal
        assert not report.unchanged  # same files, new journal entries: a new load
        before, after = (
            next(t for t in r.tables if t.table == "transfers") for r in (first, report)
        )
        assert after.rows_in == before.rows_in + len(records)
        assert after.quarantined == before.quarantined  # every streamed transfer loads
        analyze(store, build_projection(store))
        chains = store.read_results("risk_chains").to_pandas()
        hops = store.read_results("risk_chain_hops").to_pandas()
    streamed = set(late["tx_id"])
    alerted = chains[chains["score"] >= threshold].set_index("chain_id")
    with_streamed = set(hops.loc[hops["tx_id"].isin(streamed), "chain_id"]) & set(alerted.index)
    # Every alert was found in real time, round trips through accounts outside the
    # transfer's own two too (analytics/layering/loopctx.py).
    expected = with_streamed
    assert {alerted.loc[c, "typology"] for c in expected} >= {"cycle", "layering_chain"}
    # One alert per pattern (layering/merge.py): the batch merges every overlapping chain of
    # the bank, the real-time verdict those in a new transfer's neighbourhood (a fan's
    # burst may gain or lose an edge transfer there), so a pattern is the same alert when
    # the two share at least half of the batch alert's transfers — the rule by which an
    # analyst's decision follows its chain; ids and scores agree when the pattern lies in
    # the neighbourhood.
    batch_tx = hops.groupby("chain_id")["tx_id"].agg(frozenset)
    live_tx = {k: frozenset(h.tx_id for h in a.hops) for k, a in realtime.items()}

    typology = chains.set_index("chain_id")["typology"]

    def same_pattern(live: str, batch: str) -> bool:
        shared = len(live_tx[live] & batch_tx[batch])
        return realtime[live].typology == typology[batch] and 2 * shared >= min(
            len(batch_tx[batch]), len(live_tx[live])
        )

    for chain in expected:
        assert any(same_pattern(k, chain) for k in realtime), f"{chain}: not found in real time"
        if chain in realtime:
            assert realtime[chain].score == pytest.approx(float(alerted.loc[chain, "score"]))
    # Both ways for chains, scatter-gathers and fans: real time reports nothing the batch
    # does not. (A round trip through a routine flow older than the live horizon is not
    # recognised as routine in real time: the documented gap, left to the batch.)
    # (Against every batch alert: near the threshold a fan's burst that gained an edge
    # transfer in real time may score on either side of it.)
    kept = list(batch_tx.index)
    extra = {a.typology for k, a in realtime.items() if not any(same_pattern(k, c) for c in kept)}
    assert extra <= {"cycle"}


def test_a_request_of_many_transfers_gets_the_verdicts_of_one_request_each(
    split_bank: tuple[Path, pd.DataFrame], analysed: tuple[Path, LoadReport], tmp_path: Path
) -> None:
    # A request's transfers are scored together (analytics/layering/union.py); each
    # verdict must still be the one it gets alone, on the index as its transfer found it
    # (the request's earlier transfers in it, its later ones not).
    _, late = split_bank
    data = analysed[0]
    with EmbeddedStore(data, read_only=True) as store:
        model = build_read_model(store)
    records = [
        {"tx_id": r.tx_id, "from_account": r.from_account, "to_account": r.to_account,
         "amount": r.amount, "currency": r.currency, "ts": int(r._7)}
        for r in late.iloc[:1_500].itertuples()
    ]  # fmt: skip
    answers = {}
    for batch in (1, 200):
        where = tmp_path / f"batch-{batch}"
        shutil.copytree(data, where, ignore=shutil.ignore_patterns("journal", "audit*", "*.lock"))
        live = LiveScoring(model, where)
        results = []
        for lo in range(0, len(records), batch):
            results += live.record_transfers(records[lo : lo + batch], by="test")["results"]
        answers[batch] = (results, sorted(live.alerts))
    one, many = answers[1], answers[200]
    assert many == one
    held = [r for r in one[0] if r["verdict"]["alerts"]]
    assert len(held) > 100  # many verdicts hold alerts (fans, chains, trips), not just empty ones
    assert any(a["extends"] for r in held for a in r["verdict"]["alerts"])  # grown in a request
