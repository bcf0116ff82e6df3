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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.banks import project

from relgraph.analytics.households import find_households
from relgraph.analytics.layering import Alerts, LayeringIndex, LayeringParams, alert_frames, scan
from relgraph.analytics.layering.frames import batch_order, chain_ids
from relgraph.analytics.layering.live import LiveIndex
from relgraph.analytics.layering.verdicts import LiveAlert
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
    ap.add_argument("--explain", type=Path,
                    help="compare each fan-in with the live one, fact by fact (JSON), by cause")  # fmt: skip
    a = ap.parse_args()
    seen: dict[str, _Seen] = {}
    if a.explain is not None:
        _watch(seen)
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
    alerts = scan(graph, params, households_label=households, networks_label=networks)
    frames = alert_frames(graph, alerts)
    chains, hops = frames["risk_chains"], frames["risk_chain_hops"]
    if a.explain is not None:
        span = (moment_ms(a.start, zone), moment_ms(a.end, zone))
        explain(graph, alerts, hops, found, seen, span, a.explain, ids)
    report(
        chains,
        hops,
        found,
        moment_ms(a.start, zone),
        moment_ms(a.end, zone),
        params.score_threshold,
        a.holds,
    )


@dataclass
class _Seen:
    """A live fan-in as its verdict scored it: facts, transfers (batch order), hub index."""

    facts: dict[str, object]
    tx: list[str]
    score: float
    hub: int


_LOCAL: Final = frozenset({"origin", "funded"})
"""Facts that are not comparable: ``origin`` is an account index (the verdict's compact
one), ``funded`` is NaN for fans on both sides."""


def _watch(seen: dict[str, _Seen]) -> None:
    """Keep every live fan-in's facts and transfers by chain id (the verdict drops them
    below the threshold): what ``--explain`` compares with the batch's. Wraps the live
    index's alert builder, in this process only."""
    original = LiveIndex._alert

    def _alert(self: LiveIndex, alerts: Any, i: int, where: Any, row: int, known: Any,
               added: set[str]) -> LiveAlert:  # fmt: skip
        out = original(self, alerts, i, where, row, known, added)
        if out.typology == "fan_in":
            rows = batch_order(
                where[alerts.transfers(i)], self._ts, self._src, self.account_id, self._tx
            )
            facts = {k: _plain(v[i]) for k, v in alerts.facts.items()}
            seen[out.chain_id] = _Seen(facts, [self._tx[r] for r in rows.tolist()], out.score,
                                       out.hub)  # fmt: skip
        return out

    LiveIndex._alert = _alert  # type: ignore[method-assign]


def _plain(v: Any) -> object:
    return v.item() if hasattr(v, "item") else v


def _differ(live: dict[str, object], batch: dict[str, object]) -> dict[str, list[object]]:
    """The facts whose values differ (floats to 1e-9), by name: [live, batch]."""
    out = {}
    for k, b in batch.items():
        v = live.get(k)
        if k in _LOCAL or v == b:
            continue
        if isinstance(v, float) and isinstance(b, float) and abs(v - b) < 1e-9:
            continue
        out[k] = [v, b]
    return out


def _cause(row: dict[str, Any]) -> str:
    if row["match"] == "none":
        return "no live fan-in at the hub"
    if abs(row["live_score"] - row["batch_score"]) < 1e-9 and row["match"] == "same id":
        return "same id and score"
    if row["only_live"] or row["only_batch"]:
        return "other transfers (live fan reaches back further)"
    if {"unrelated_persons", "routine"} & set(row["differ"]):
        return "payers' ties (strangers live, kin in the batch)"
    return "same transfers, other facts: " + ", ".join(sorted(row["differ"]))


def explain(graph: Projection, alerts: Alerts, hops: pd.DataFrame,
            found: dict[str, list[tuple[str, float, str]]], seen: dict[str, _Seen],
            window: tuple[int, int], out: Path, accounts: list[str]) -> None:  # fmt: skip
    """Each fan-in batch alert wholly in the stream against the live fan-in at its last
    transfer (the same id, else one at the same hub): transfers, score, facts; written to
    ``out`` and counted by cause."""
    ids = chain_ids(graph, alerts)
    at = {x: i for i, x in enumerate(accounts)}
    t = hops.ts.map(_ms)
    first, last = t.groupby(hops.chain_id).min(), t.groupby(hops.chain_id).max()
    rows: list[dict[str, Any]] = []
    for i, chain in enumerate(ids):
        if alerts.typology[i] != "fan_in" or chain not in first.index:
            continue
        if not (first[chain] >= window[0] and last[chain] <= window[1]):
            continue
        mine = hops[hops.chain_id == chain]
        txs = set(mine.tx_id)
        hub = str(mine.to_account.iloc[0])
        end = mine[t[mine.index] == last[chain]].tx_id.tolist()
        held = [c for x in end for c, _, typ in found.get(x, []) if typ == "fan_in" and c in seen]
        pick = chain if chain in held else next(
            (c for c in held if seen[c].hub == at.get(hub, -2)), None)  # fmt: skip
        row: dict[str, Any] = {
            "chain_id": chain, "hub": hub, "batch_score": float(alerts.score[i]),
            "batch_n": len(txs),
            "match": "none" if pick is None else ("same id" if pick == chain else "same hub"),
        }  # fmt: skip
        if pick is not None:
            lv = seen[pick]
            batch = {str(k): _plain(v) for k, v in alerts.facts.iloc[i].items()}
            row.update(live_score=lv.score, live_n=len(lv.tx),
                       only_batch=sorted(txs - set(lv.tx)), only_live=sorted(set(lv.tx) - txs),
                       differ=_differ(lv.facts, batch))  # fmt: skip
        row["cause"] = _cause(row)
        rows.append(row)
    out.write_text(json.dumps(rows, indent=1, default=str))
    print(f"\nfan_in batch alerts wholly in the stream, by cause ({len(rows)}; {out}):")
    for cause, n in Counter(r["cause"] for r in rows).most_common():
        print(f"  {n:4d}  {cause}")


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
