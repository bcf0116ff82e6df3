"""Benchmark campaign audiences: a whole-bank household audience, the contact guard, the export.

On the ``--customers`` bank (default 1,000,000; synthesised, loaded and analysed under
``benchmarks/data/`` on first use, with the synthetic ``contacts`` table), median of
``--repeats`` runs in this process, after building the audience source once (what the
API does at start-up):

* a household audience over the whole bank, no criteria beyond the unit, and its first
  page of 100 entries (what ``campaignAudience(first: 100)`` computes);
* a campaign's typical ask: households of 2+ with AUM ≥ 100,000 lacking a ``loan``, nobody
  contacted in the 90 days before the synthetic snapshot (2026-09-01);
* the corporate-group audience;
* the full export of the household audience to Parquet (``relgraph audience``).

    .venv/bin/python benchmarks/bench_audience.py --customers 1000000 --repeats 5
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from relgraph.analytics.audience import (
    REASONS,
    Criteria,
    campaign_audience,
    export,
)
from relgraph.graph import build_projection
from relgraph.ingest import load_directory
from relgraph.jobs.analyze import analyze
from relgraph.jobs.audience import audience_source
from relgraph.store.embedded import EmbeddedStore
from relgraph.synth import generate

DATA = Path(__file__).parent / "data"


def analysed_store(customers: int, seed: int) -> Path:
    bank = DATA / f"bank-{customers}-{seed}-csv-0"
    store_dir = DATA / f"store-{customers}-{seed}"
    if not (bank / "contacts.csv").exists():
        print(f"synthesising {customers:,} customers …", file=sys.stderr)
        generate(customers, seed, bank, "csv")
    with EmbeddedStore(store_dir) as store:
        load_directory(bank, store, store_dir)  # unchanged input: returns at once
        if store.results_frame("households") is None:
            print("analysing …", file=sys.stderr)
            analyze(store, build_projection(store))
    return store_dir


def median(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    store_dir = analysed_store(args.customers, args.seed)

    started = time.perf_counter()
    with EmbeddedStore(store_dir, read_only=True) as store:
        source = audience_source(store)
    built = time.perf_counter() - started

    whole = Criteria("HOUSEHOLD")
    typical = Criteria(
        "HOUSEHOLD",
        min_size=2,
        min_total_aum=100_000.0,
        lacks_products=("loan",),
        not_contacted_within_days=90,
        as_of=date(2026, 9, 1),
    )
    groups = Criteria("CORPORATE_GROUP")

    def query(criteria: Criteria) -> Callable[[], Any]:
        def run() -> Any:
            audience = campaign_audience(source, criteria)
            audience.frame(0, 100)
            return audience

        return run

    t_whole, a_whole = median(query(whole), args.repeats)
    t_typical, a_typical = median(query(typical), args.repeats)
    t_groups, a_groups = median(query(groups), args.repeats)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "audience.parquet"
        t_export, written = median(lambda: export(a_whole, out), max(1, args.repeats // 2))
        size_mb = out.stat().st_size / 1e6

    print(f"## Campaign audiences: {args.customers:,} customers, median of {args.repeats}\n")
    print(f"audience source built from the store once: {built:.2f} s\n")
    print("| query | entries | contacts | seconds |\n|---|---:|---:|---:|")
    for name, seconds, audience in (
        ("households, whole bank, first page of 100", t_whole, a_whole),
        ("households 2+, AUM ≥ 100k, lacking loan, 90-day guard", t_typical, a_typical),
        ("corporate groups, first page of 100", t_groups, a_groups),
    ):
        members = int(audience.units.size[audience.rows].sum())
        contacts = members - int(audience.excluded.sum())
        print(f"| {name} | {len(audience):,} | {contacts:,} | {seconds:.3f} |")
    print(
        f"| export of the whole-bank household audience to Parquet ({size_mb:.0f} MB) "
        f"| {len(written):,} | {int(written['contact_count'].sum()):,} | {t_export:.2f} |"
    )
    excluded = a_typical.excluded.sum(axis=0)
    left_out = ", ".join(f"{r} {int(n):,}" for r, n in zip(REASONS, excluded, strict=True))
    print(f"\nmembers left out of the typical ask's entries: {left_out}")
    print(
        f"peak RSS of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB"
    )


if __name__ == "__main__":
    main()
