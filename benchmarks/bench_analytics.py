"""Benchmark hidden networks + households: speed at scale, speed-up over networkx, accuracy.

Three parts, each printed as markdown:

1. speed on the ``--customers`` bank (default 1,000,000): links, networks, households
   and their value, median of ``--repeats`` runs in this process (the projection is
   built once, before timing);
2. the vectorised implementation against the networkx reference
   (:mod:`relgraph.analytics.reference`) on the ``--reference-customers`` bank (default
   100,000), side by side in one run: median seconds and the ratio, and a check that
   both give the same networks and households;
3. accuracy on that bank against ``truth/households.csv``: pairwise precision and recall
   over customer rows, the share of planted households split across found ones, and
   the size of the largest hidden network.

Banks and stores are made on first use under ``benchmarks/data/``.

    .venv/bin/python benchmarks/bench_analytics.py --customers 1000000 --repeats 3
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # oracles live in tests/

from tests.oracles import graph_reference as reference

from relgraph.analytics.households import find_households, household_values
from relgraph.analytics.networks import hidden_networks
from relgraph.analytics.params import HouseholdParams, NetworkParams
from relgraph.analytics.person_links import person_links
from relgraph.graph import Projection, build_projection
from relgraph.ingest import load_directory
from relgraph.ingest.persons import source_priority
from relgraph.jobs.analyze import as_of_ms
from relgraph.jobs.values import values_of
from relgraph.store.embedded import EmbeddedStore
from relgraph.synth import generate
from relgraph.validate.metrics import pairwise, split_clusters

DATA = Path(__file__).parent / "data"


def bank_and_projection(customers: int, seed: int) -> tuple[Path, Projection]:
    bank = DATA / f"bank-{customers}-{seed}-csv-0"
    store_dir = DATA / f"store-{customers}-{seed}"
    if not (bank / "transfers.csv").exists():
        print(f"synthesising {customers:,} customers …", file=sys.stderr)
        generate(customers, seed, bank, "csv")
    with EmbeddedStore(store_dir) as store:
        load_directory(bank, store, store_dir)  # unchanged input: returns at once
        return bank, build_projection(store)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def speed(projection: Projection, repeats: int) -> dict[str, float]:
    net, hh = NetworkParams(), HouseholdParams()
    runs: dict[str, list[float]] = {
        "links": [],
        "networks": [],
        "households": [],
        "value": [],
        "total": [],
    }
    # The party values households sum (timed apart), with the model's source precedence.
    values = values_of(projection, None, source_priority(None))
    for _ in range(repeats):
        t_links, links = timed(lambda: person_links(projection, net))
        t_net, _ = timed(lambda: hidden_networks(projection, net, links))  # noqa: B023
        t_hh, households = timed(lambda: find_households(projection, hh))
        t_val, _ = timed(
            lambda: household_values(projection, households, as_of_ms(projection), values, hh)  # noqa: B023
        )
        for name, t in zip(
            runs, (t_links, t_net, t_hh, t_val, t_links + t_net + t_hh + t_val), strict=True
        ):
            runs[name].append(t)
    return {name: statistics.median(ts) for name, ts in runs.items()}


def accuracy(bank: Path, projection: Projection) -> dict[str, float]:
    """Pairwise scores and split households as ``relgraph validate`` defines them."""
    networks = hidden_networks(projection)
    households = find_households(projection)
    records = projection.nodes["CustomerRecord"]
    person = records.attrs["person"].to_numpy()
    found_of = pd.Series(households.label[person], index=records.id_of(np.arange(len(records))))
    truth = pd.read_csv(bank / "truth" / "households.csv")
    # A truth row the store does not hold has no found household: its pairs are missed.
    found = truth["customer_id"].map(found_of)
    scores = pairwise(truth["household_key"], found)
    split = split_clusters(truth["household_key"], found)
    sizes = truth["household_key"].value_counts()
    return {
        "precision": scores.precision or 0.0,
        "recall": scores.recall or 0.0,
        "split": len(split) / len(sizes),
        "split_multi": len(split) / int((sizes > 1).sum()),
        "planted": float(len(sizes)),
        "largest_network": float(networks.size.max()),
        "networks_over_1": float((networks.size > 1).sum()),
        "suppressed": float(len(networks.links.suppressed)),
        "largest_household": float(np.bincount(households.label).max()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--reference-customers", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)

    _, big = bank_and_projection(args.customers, args.seed)
    fast = speed(big, args.repeats)
    del big
    print(f"## Networks + households: {args.customers:,} customers, median of {args.repeats}\n")
    print("| step | seconds |\n|---|---:|")
    for name, seconds in fast.items():
        print(f"| {name} | {seconds:.2f} |")
    print(
        f"\npeak RSS of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB\n"
    )

    bank, small = bank_and_projection(args.reference_customers, args.seed)
    # The same work on both sides: network and household labels from the projection.
    ours = statistics.median(
        timed(lambda: (hidden_networks(small).label, find_households(small).label))[0]
        for _ in range(args.repeats)
    )
    ref_times = []
    for _ in range(args.repeats):
        t_ref, (ref_net, ref_hh) = timed(
            lambda: (
                reference.network_labels(small, NetworkParams()),
                reference.household_labels(small, HouseholdParams()),
            )
        )
        ref_times.append(t_ref)
    same_networks = np.array_equal(ref_net, hidden_networks(small).label)
    same_households = np.array_equal(ref_hh, find_households(small).label)
    theirs = statistics.median(ref_times)
    print(f"## Against the networkx reference: {args.reference_customers:,} customers\n")
    print("| implementation | seconds (median) |\n|---|---:|")
    print(f"| vectorised (numpy/scipy/igraph) | {ours:.2f} |")
    print(f"| networkx reference | {theirs:.2f} |")
    print(
        f"\nspeed-up {theirs / ours:.1f}×; identical networks: {same_networks}, "
        f"identical households: {same_households}\n"
    )

    acc = accuracy(bank, small)
    print(f"## Accuracy against planted truth: {args.reference_customers:,} customers\n")
    print("| measure | value |\n|---|---:|")
    print(f"| household pairwise precision | {acc['precision']:.4f} |")
    print(f"| household pairwise recall | {acc['recall']:.4f} |")
    print(
        f"| planted households split across found ones | {acc['split']:.2%} (of {acc['planted']:,.0f}; {acc['split_multi']:.2%} of those with 2+ persons) |"
    )
    print(f"| largest found household (persons) | {acc['largest_household']:.0f} |")
    print(f"| largest hidden network (persons) | {acc['largest_network']:.0f} |")
    print(f"| hidden networks with 2+ persons | {acc['networks_over_1']:,.0f} |")
    print(f"| suppressed identifiers | {acc['suppressed']:,.0f} |")


if __name__ == "__main__":
    main()
