"""Benchmark corporate groups, guarantee circles and referral influence: speed and accuracy.

1. Speed on the ``--customers`` bank (default 1,000,000): integrated ownership,
   controllers, circles, group value and influence, median of ``--repeats``, beside the
   networkx/numpy reference (:mod:`relgraph.analytics.reference`) in the same run.
2. Accuracy on the ``--accuracy-customers`` bank (default 100,000) against
   ``truth/groups.csv`` (the planted controller found for every member of a group),
   ``truth/guarantee_circles.csv`` (every planted circle found whole) and
   ``truth/influencers.csv`` (precision of our top 20 against the planted top referrers).

    .venv/bin/python benchmarks/bench_groups.py --customers 1000000 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # oracles live in tests/

from tests.oracles import graph_reference as reference

from relgraph.analytics.groups import (
    control,
    group_values,
    guarantee_circles,
    integrated_ownership,
    party_ids,
)
from relgraph.analytics.influence import influence
from relgraph.graph import Projection, build_projection
from relgraph.ingest import load_directory
from relgraph.jobs.values import values_of
from relgraph.store.embedded import EmbeddedStore
from relgraph.synth import generate
from relgraph.validate.metrics import clusters_found_whole, groups_all_correct

DATA = Path(__file__).parent / "data"


def bank_and_projection(customers: int, seed: int) -> tuple[Path, Projection]:
    bank = DATA / f"bank-{customers}-{seed}-csv-0"
    store_dir = DATA / f"store-{customers}-{seed}"
    if not (bank / "transfers.csv").exists():
        print(f"synthesising {customers:,} customers …", file=sys.stderr)
        generate(customers, seed, bank, "csv")
    with EmbeddedStore(store_dir) as store:
        load_directory(bank, store, store_dir)
        return bank, build_projection(store)


def ours(projection: Projection) -> None:
    ctrl = control(integrated_ownership(projection))
    group_values(projection, ctrl, guarantee_circles(projection), values_of(projection, None))
    influence(projection)


def theirs(projection: Projection) -> None:
    reference.integrated_ownership_by_component(projection)
    reference.guarantee_circle_members(projection)
    reference.referral_cascades(projection)


def median_seconds(fn: object, projection: Projection, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn(projection)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def accuracy(bank: Path, projection: Projection) -> dict[str, float]:
    ids = party_ids(projection)
    ctrl = control(integrated_ownership(projection))
    circles = guarantee_circles(projection)
    result = influence(projection)
    records = projection.nodes["CustomerRecord"]
    person_of = pd.Series(
        projection.nodes["Person"].id_of(records.attrs["person"].to_numpy()),
        index=records.id_of(np.arange(len(records))),
    )
    groups = pd.read_csv(bank / "truth" / "groups.csv")
    e = projection.nodes["Enterprise"].index_of(groups["enterprise_id"])
    found = np.where(ctrl.group[e] >= 0, ids[np.maximum(ctrl.group[e], 0)], None)
    groups["ok"] = found == groups["controller_id"].map(person_of).to_numpy()
    n_p = len(projection.nodes["Person"])

    def party(x: str) -> int:
        if x in person_of.index:
            return int(projection.nodes["Person"].index(person_of[x]))
        return n_p + int(projection.nodes["Enterprise"].index(x))

    planted = pd.read_csv(bank / "truth" / "guarantee_circles.csv")
    label = circles.label[planted["member_id"].map(party).to_numpy()]
    found_circle = pd.Series(label, dtype=object).where(label >= 0, None)
    top = projection.nodes["Person"].id_of(np.argsort(result.rank)[:20])
    truth_top = set(pd.read_csv(bank / "truth" / "influencers.csv")["customer_id"].map(person_of))
    return {
        "groups": float(groups["group_key"].nunique()),
        "controller_found": groups_all_correct(groups["group_key"], groups["ok"]) or 0.0,
        "circles": float(planted["circle_key"].nunique()),
        "circles_found": clusters_found_whole(planted["circle_key"], found_circle) or 0.0,
        "found_circles_total": float(circles.n_circles),
        "top20_precision": float(np.mean([p in truth_top for p in top])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--accuracy-customers", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)

    _, big = bank_and_projection(args.customers, args.seed)
    fast = median_seconds(ours, big, args.repeats)
    slow = median_seconds(theirs, big, args.repeats)
    print(
        f"## Groups, circles and influence: {args.customers:,} customers, median of {args.repeats}\n"
    )
    print("| implementation | seconds |\n|---|---:|")
    print(f"| vectorised (scipy.sparse, batched numpy inverses) | {fast:.2f} |")
    print(f"| networkx/numpy reference | {slow:.2f} |")
    print(f"\nspeed-up {slow / fast:.1f}×\n")
    del big

    bank, small = bank_and_projection(args.accuracy_customers, args.seed)
    acc = accuracy(bank, small)
    print(f"## Accuracy against planted truth: {args.accuracy_customers:,} customers\n")
    print("| measure | value | target |\n|---|---:|---:|")
    print(
        f"| planted groups whose controller is found for every member | {acc['controller_found']:.2%} of {acc['groups']:.0f} | ≥ 99% |"
    )
    print(
        f"| planted guarantee circles found whole | {acc['circles_found']:.2%} of {acc['circles']:.0f} ({acc['found_circles_total']:.0f} found in all) | 100% |"
    )
    print(
        f"| top-20 influencers among the planted top referrers | {acc['top20_precision']:.2f} | ≥ 0.9 |"
    )


if __name__ == "__main__":
    main()
