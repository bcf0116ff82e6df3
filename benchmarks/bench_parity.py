"""Real time against the batch on a bank nobody here wrote: does the verdict on a transfer
give the alert the next batch ``analyze`` reports?

The bank (``--bank``: a source folder, e.g. independent-1 as ``benchmarks/eval/run.py``
writes it under its ``--work``) is loaded with its transfers before ``--start``; the live
index is built from it and the transfers from ``--start`` to ``--end`` are streamed through
it in requests of ``--batch`` (``prepare`` after each, ``verdicts_known`` per request,
eviction every 2,000), as the server does. Then the batch scan runs on every transfer up
to ``--end`` (the next load merging the journal, then ``analyze``) and the two are
compared, default settings everywhere:

* **batch alerts wholly in the stream**: does the verdict on the alert's last transfer
  hold it (same id) with the same score? Per typology, and for those at the threshold.
* **live alerts at the threshold** that the batch does not report at the threshold, by
  what the batch says of the verdict's transfer: in an alert at the threshold (the live
  alert is the same pattern seen earlier, a version the batch grew past — the payment
  would be held either way), in one under it, or in none. The last two are real-time
  holds the batch would not make.

The batch knows what came after each verdict (a hub's later transfers are part of its
history), so full agreement is not expected; what differs is the measure of what the live
index cannot see.

    .venv/bin/python benchmarks/bench_parity.py --bank WORK/independent-1/bank \\
        --start 2025-03-01 --end 2025-03-12T23:59:59 --work /tmp/parity
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.banks import project

from relgraph.analytics.households import find_households
from relgraph.analytics.layering import LayeringIndex, LayeringParams, alert_frames, scan
from relgraph.analytics.layering.live import LiveIndex
from relgraph.analytics.networks import hidden_networks
from relgraph.analytics.settings import AnalysisSettings
from relgraph.config import moment_ms, source_zone
from relgraph.graph import Projection


def _bank_until(source: Path, folder: Path, keep: pd.Series) -> None:
    """``source``'s tables, its transfers only where ``keep``."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for f in source.iterdir():
        if f.is_file() and f.name != "transfers.csv":
            (folder / f.name).symlink_to(f.resolve())
    transfers = pd.read_csv(source / "transfers.csv", dtype=str)
    transfers[keep(transfers)].to_csv(folder / "transfers.csv", index=False)


def _labels(graph: Projection) -> tuple[object, object]:
    s = AnalysisSettings.from_env()
    return find_households(graph, s.households).label, hidden_networks(graph, s.networks).label


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--bank", type=Path, required=True)
    ap.add_argument("--start", required=True, help="first streamed time (source time zone)")
    ap.add_argument("--end", required=True, help="last streamed time")
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--holds", type=Path, help="write the holds the batch would not make (JSON)")
    a = ap.parse_args()
    zone, params = source_zone(), LayeringParams()
    transfers = pd.read_csv(a.bank / "transfers.csv", dtype=str)
    stream = transfers[(transfers.ts >= a.start) & (transfers.ts <= a.end)].sort_values(
        ["ts", "tx_id"]
    )

    t0 = time.perf_counter()
    _bank_until(a.bank, a.work / "before", lambda t: t.ts < a.start)
    graph = project(a.work / "before", a.work / "before-data")
    households, networks = _labels(graph)
    index = LayeringIndex.build(graph, params, households_label=households, networks_label=networks)
    ids = graph.nodes["Account"].ids.tolist()
    at = {x: i for i, x in enumerate(ids)}
    live = LiveIndex.from_index(index, ids, at)
    print(f"loaded {int((transfers.ts < a.start).sum()):,} transfers before {a.start} in {time.perf_counter() - t0:.0f} s;"
          f" streaming {len(stream):,}", flush=True)  # fmt: skip

    found: dict[str, list[tuple[str, float, str]]] = {}
    known: set[str] = set()
    rows: list[int] = []
    prepared = []
    names: list[str] = []
    t0 = time.perf_counter()
    records = list(stream.itertuples(index=False))
    for k, r in enumerate(records):
        if r.from_account in at and r.to_account in at:
            row = live.add(
                r.tx_id,
                at[r.from_account],
                at[r.to_account],
                float(r.amount),
                moment_ms(r.ts, zone),
            )
            rows.append(row)
            prepared.append(live.prepare(row))
            names.append(r.tx_id)
        if len(rows) == a.batch or (k == len(records) - 1 and rows):
            for tx, v in zip(names, live.verdicts_known(rows, prepared, known), strict=True):
                known.update(x.chain_id for x in v.alerts)
                if v.alerts:
                    found[tx] = [(x.chain_id, x.score, x.typology) for x in v.alerts]
            rows, prepared, names = [], [], []
        if k % 2000 == 0:
            live.evict()
    streamed = time.perf_counter() - t0
    print(f"streamed in {streamed:.0f} s ({len(records) / streamed:.0f} transfers/s)", flush=True)

    _bank_until(a.bank, a.work / "after", lambda t: t.ts <= a.end)
    graph = project(a.work / "after", a.work / "after-data")
    households, networks = _labels(graph)
    frames = alert_frames(
        graph, scan(graph, params, households_label=households, networks_label=networks)
    )
    chains, hops = frames["risk_chains"], frames["risk_chain_hops"]
    report(
        chains,
        hops,
        found,
        moment_ms(a.start, zone),
        moment_ms(a.end, zone),
        params.score_threshold,
        a.holds,
    )


def _ms(value: object) -> int:
    return int(value) if not isinstance(value, str) else moment_ms(value, source_zone())


def report(chains: pd.DataFrame, hops: pd.DataFrame, found: dict[str, list[tuple[str, float, str]]],
           lo: int, hi: int, threshold: float, holds: Path | None = None) -> None:  # fmt: skip
    t = hops.ts.map(_ms)
    first, last = t.groupby(hops.chain_id).min(), t.groupby(hops.chain_id).max()
    inside = first.index[(first >= lo) & (last <= hi)]
    last_tx = hops[hops.chain_id.isin(inside) & (t == hops.chain_id.map(last))]
    by_chain = last_tx.groupby("chain_id").tx_id.apply(list).to_dict()
    table = chains[chains.chain_id.isin(inside)][["chain_id", "typology", "score"]].copy()

    def live_score(chain: str) -> float | None:
        got = [s for x in by_chain.get(chain, []) for c, s, _ in found.get(x, []) if c == chain]
        return got[0] if got else None

    table["live"] = table.chain_id.map(live_score)
    table["same"] = (table.live - table.score).abs() < 1e-9
    strong = table[table.score >= threshold]
    print(f"\nbatch alerts wholly in the stream: {len(table):,}; the verdict on the last transfer holds"
          f" it with the same score: {int(table.same.sum()):,}")  # fmt: skip
    print(table.groupby("typology").agg(alerts=("same", "size"), same=("same", "sum"),
                                        held_live=("live", lambda s: int(s.notna().sum()))).to_string())  # fmt: skip
    print(f"at the threshold in batch: {len(strong)}; same id and score live: {int(strong.same.sum())};"
          f" live at the threshold: {int((strong.live >= threshold).sum())}")  # fmt: skip

    score = chains.set_index("chain_id").score.to_dict()
    best = hops.assign(score=hops.chain_id.map(score)).groupby("tx_id").score.max().to_dict()
    live: dict[str, tuple[float, str, str]] = {}
    for tx, alerts in found.items():
        for chain, s, typology in alerts:
            if s >= threshold:
                live.setdefault(chain, (s, typology, tx))
    kinds: Counter[tuple[str, str]] = Counter()
    listed = []
    for chain, (s, typology, tx) in live.items():
        if score.get(chain, 0.0) >= threshold:
            continue
        b = best.get(tx)
        kind = (
            "at the threshold"
            if b is not None and b >= threshold
            else ("under it" if b is not None else "in none")
        )
        kinds[(typology, kind)] += 1
        if kind != "at the threshold":
            listed.append({"chain_id": chain, "typology": typology, "live": s, "tx_id": tx,
                           "batch_best": b})  # fmt: skip
    batch_own = sum(1 for c in live if score.get(c, 0.0) >= threshold)
    print(
        f"\nlive alert ids at the threshold: {len(live):,}, of which the batch's own: {batch_own:,};"
        " the others, by the batch's best alert holding the verdict's transfer:"
    )
    for (typology, kind), n in sorted(kinds.items()):
        print(f"  {typology:15s} {kind:17s} {n:5d}")
    held = sum(n for (_, kind), n in kinds.items() if kind != "at the threshold")
    if holds is not None:
        holds.write_text(json.dumps(sorted(listed, key=lambda h: h["tx_id"]), indent=1))
    print(f"real-time holds the batch would not make: {held:,}")
    print(json.dumps({"batch_in_stream": len(table), "same": int(table.same.sum()),
                      "live_ids_at_threshold": len(live), "holds_batch_would_not_make": held}))  # fmt: skip


if __name__ == "__main__":
    main()
