"""Benchmark layered-transaction checks: accuracy, batch speed, on-demand latency, reference.

Four parts, each printed as markdown:

1. accuracy on the ``--customers`` bank (default 100,000) against
   ``truth/laundering.csv``: a planted pattern is found when one alert covers at least
   half of its transfers; recall per planted typology (any alert, and alerts at or above
   the default score threshold), precision per alert typology (share of alerts that
   overlap a planted pattern), the false-positive rate on background transfers, and a
   score-threshold sweep;
2. batch :func:`~relgraph.analytics.layering.scan` time on the ``--scale-customers``
   bank (default 1,000,000), median of ``--repeats`` (the projection and the
   household / network labels are built before timing);
3. :func:`~relgraph.analytics.layering.check_account` p50 / p99 on the accuracy bank,
   direct calls with a prebuilt index, over ``--checks`` random accounts plus every
   account in an alert;
4. the reference (:mod:`relgraph.analytics.layering_reference`) against the vectorised
   chains on a ``--small-customers`` bank.

Stores are opened read-only (``benchmarks/data/store-<customers>-42``).

    .venv/bin/python benchmarks/bench_layering.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # oracles live in tests/

from tests.oracles import layering_reference as reference

from relgraph.analytics.households import find_households
from relgraph.analytics.layering import Alerts, LayeringIndex, LayeringParams, check_account, scan
from relgraph.analytics.networks import hidden_networks
from relgraph.graph import Projection, build_projection
from relgraph.ingest import load_directory
from relgraph.store.embedded import EmbeddedStore
from relgraph.synth import generate

DATA = Path(__file__).parent / "data"


def projection_of(customers: int, seed: int) -> tuple[Path, Projection]:
    bank = DATA / f"bank-{customers}-{seed}-csv-0"
    with EmbeddedStore(DATA / f"store-{customers}-{seed}", read_only=True) as store:
        return bank, build_projection(store)


def coverage(projection: Projection, alerts: Alerts, truth: pd.DataFrame) -> pd.DataFrame:
    """Per (alert, planted pattern) with any shared transfer: the share of the pattern covered."""
    edges = projection.edge("Account", "TRANSFER", "Account")
    position = pd.Index(edges.attrs["tx_id"].to_numpy(object)).get_indexer(truth.tx_id)
    if (position < 0).any():
        raise SystemExit("truth names transfers the store does not hold")
    pattern_of = np.full(len(edges), -1)
    pattern_of[position] = truth["pattern"].to_numpy()
    alert = np.repeat(np.arange(len(alerts)), np.diff(alerts.ptr))
    pattern = pattern_of[alerts.edges]
    hit = pattern >= 0
    pairs = pd.DataFrame({"alert": alert[hit], "pattern": pattern[hit]})
    counts = pairs.groupby(["alert", "pattern"]).size().rename("shared").reset_index()
    size = truth.groupby("pattern").size()
    counts["share"] = counts.shared / size.loc[counts.pattern].to_numpy()
    return counts


def accuracy(
    bank: Path, projection: Projection, households: np.ndarray, networks: np.ndarray
) -> None:
    params = LayeringParams()
    truth = pd.read_csv(bank / "truth" / "laundering.csv")
    truth["pattern"] = truth.pattern_key.astype("category").cat.codes.astype(np.int64)
    started = time.perf_counter()
    alerts = scan(projection, params, households, networks)
    seconds = time.perf_counter() - started
    cov = coverage(projection, alerts, truth)
    planted = truth.groupby("pattern").typology.first()
    above = alerts.score >= params.score_threshold

    def found(selected: np.ndarray) -> pd.Series:
        hit = cov[(cov.share >= 0.5) & selected[cov.alert.to_numpy()]].pattern.unique()
        return pd.Series(planted.index.isin(hit), index=planted.index)

    any_alert, thresholded = found(np.ones(len(alerts), bool)), found(above)
    print(f"\n### Accuracy — {bank.name}, default parameters (scan {seconds:.2f} s)\n")
    print("| planted typology | patterns | found (any alert) | found (score ≥ threshold) |")
    print("|---|---:|---:|---:|")
    for typology, group in planted.groupby(planted):
        n = len(group)
        a, t = int(any_alert[group.index].sum()), int(thresholded[group.index].sum())
        print(f"| {typology} | {n} | {a} ({a / n:.0%}) | {t} ({t / n:.0%}) |")
    core = planted.isin(["layering_chain", "cycle", "scatter_gather"])
    print(
        f"| **chains + cycles + scatter-gather** | {int(core.sum())} | "
        f"{any_alert[core].mean():.1%} | {thresholded[core].mean():.1%} |"
    )

    overlaps = np.zeros(len(alerts), bool)
    overlaps[cov.alert.unique()] = True
    frame = pd.DataFrame(
        {"typology": alerts.typology.astype(str), "overlap": overlaps, "above": above}
    )
    print(
        "\n| alert typology | alerts | overlap planted | ≥ threshold | of which overlap (precision) |"
    )
    print("|---|---:|---:|---:|---:|")
    for typology, group in frame.groupby("typology"):
        g_above = group[group.above]
        precision = f"{g_above.overlap.mean():.1%}" if len(g_above) else "–"
        print(
            f"| {typology} | {len(group)} | {int(group.overlap.sum())} | {len(g_above)} | "
            f"{int(g_above.overlap.sum())} ({precision}) |"
        )
    top = frame[frame.above]
    print(f"| **all** | {len(frame)} | {int(frame.overlap.sum())} | {len(top)} | "
          f"{int(top.overlap.sum())} ({top.overlap.mean():.1%}) |")  # fmt: skip

    edges = projection.edge("Account", "TRANSFER", "Account")
    in_alert = np.zeros(len(edges), bool)
    in_alert[alerts.edges[np.repeat(above, np.diff(alerts.ptr))]] = True
    in_any = np.zeros(len(edges), bool)
    in_any[alerts.edges] = True
    background = np.ones(len(edges), bool)
    background[pd.Index(edges.attrs["tx_id"].to_numpy(object)).get_indexer(truth.tx_id)] = False
    print(
        f"\nFalse-positive rate on background transfers: {in_alert[background].mean():.5%} "
        f"({int(in_alert[background].sum()):,} of {int(background.sum()):,}) in an alert at or "
        f"above the threshold; {in_any[background].mean():.4%} in any alert."
    )
    print("\n| score threshold | alerts ≥ | precision | chains+cycles+SG found |")
    print("|---:|---:|---:|---:|")
    for threshold in (0.3, 0.35, 0.4, 0.45, 0.5, 0.6):
        sel = alerts.score >= threshold
        recall = found(sel)[core].mean()
        print(f"| {threshold:.2f} | {int(sel.sum())} | {overlaps[sel].mean():.1%} | {recall:.1%} |")


def scale(customers: int, repeats: int) -> None:
    _, projection = projection_of(customers, 42)
    households = find_households(projection).label
    networks = hidden_networks(projection).label
    times, n = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        alerts = scan(projection, LayeringParams(), households, networks)
        times.append(time.perf_counter() - started)
        n = len(alerts)
    transfers = len(projection.edge("Account", "TRANSFER", "Account"))
    print(f"\n### Batch scan — {customers:,} customers, {transfers:,} transfers\n")
    print("| run | seconds |\n|---|---:|")
    for i, t in enumerate(times, 1):
        print(f"| {i} | {t:.2f} |")
    print(f"| **median** | {statistics.median(times):.2f} |\n\n{n:,} alerts; target ≤ 60 s.")


def latency(
    projection: Projection, households: np.ndarray, networks: np.ndarray, checks: int
) -> None:
    started = time.perf_counter()
    index = LayeringIndex.build(projection, LayeringParams(), households, networks)
    build = time.perf_counter() - started
    alerts = scan(projection, LayeringParams(), households, networks)
    edges = projection.edge("Account", "TRANSFER", "Account")
    involved = np.unique(np.concatenate([edges.src[alerts.edges], edges.dst[alerts.edges]]))
    rng = np.random.default_rng(7)
    groups = {
        "random accounts": rng.integers(0, len(projection.nodes["Account"]), checks),
        "accounts in any alert": involved,
    }
    print(f"\n### check_account latency (index built in {build:.2f} s, direct calls)\n")
    print("| accounts | calls | p50 (ms) | p99 (ms) | max (ms) | truncated |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, accounts in groups.items():
        times, cut = [], 0
        for a in accounts.tolist():
            t = time.perf_counter()
            result = check_account(projection, int(a), index=index)
            times.append((time.perf_counter() - t) * 1000)
            cut += result.truncated
        ms = np.array(times)
        print(
            f"| {name} | {len(ms):,} | {np.percentile(ms, 50):.2f} | {np.percentile(ms, 99):.2f} | "
            f"{ms.max():.2f} | {cut} |"
        )
    print("\nTarget: p99 ≤ 50 ms.")


def versus_reference(customers: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(customers, 11, root / "bank", "csv")
        with EmbeddedStore(root / "data") as store:
            load_directory(root / "bank", store, root / "data")
        with EmbeddedStore(root / "data", read_only=True) as store:
            projection = build_projection(store)
    print(f"\n### Reference against vectorised — {customers:,} customers\n")
    print("| parameters | chains | identical | reference (s) | vectorised (s) |")
    print("|---|---:|---|---:|---:|")
    for label, params in (
        ("defaults", LayeringParams()),
        ("loose: floor 100, 240 h, ≥ 30 %", LayeringParams(min_amount=100, window_hours=240, min_pass_share=0.3)),
    ):  # fmt: skip
        t = time.perf_counter()
        expected = reference.layering_chains(projection, params)
        t_ref = time.perf_counter() - t
        t = time.perf_counter()
        alerts = scan(projection, params)
        t_vec = time.perf_counter() - t
        chain = np.isin(alerts.typology, ["layering_chain", "cycle"])
        got = {tuple(alerts.transfers(i).tolist()) for i in np.flatnonzero(chain)}
        print(f"| {label} | {len(expected)} | {got == expected} | {t_ref:.2f} | {t_vec:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--scale-customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--checks", type=int, default=2_000)
    parser.add_argument("--small-customers", type=int, default=5_000)
    parser.add_argument("--skip-scale", action="store_true")
    args = parser.parse_args()
    bank, projection = projection_of(args.customers, 42)
    households = find_households(projection).label
    networks = hidden_networks(projection).label
    print("## Layered transactions (issue 6)")
    accuracy(bank, projection, households, networks)
    latency(projection, households, networks, args.checks)
    versus_reference(args.small_customers)
    if not args.skip_scale:
        del projection
        scale(args.scale_customers, args.repeats)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
