"""Benchmark identity resolution v2: accuracy against truth/persons.csv, and speed at scale.

Accuracy on the ``--accuracy-customers`` bank (default 100,000): pairwise precision and
recall over pairs of customer rows of one real person, overall and for pairs where a
record has no id number; the size of the review band; the same figures for v1 (id
number only) beside them. Speed: ``resolve`` on the ``--customers`` bank's canonical
customers (default 1,000,000), median of ``--repeats``.

    .venv/bin/python benchmarks/bench_identity.py --customers 1000000 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

from relgraph.ingest import load_directory
from relgraph.ingest.linkage import LinkageParams, resolve
from relgraph.store.embedded import EmbeddedStore
from relgraph.synth import generate
from relgraph.validate.metrics import pair_count, pairwise

DATA = Path(__file__).parent / "data"
COLUMNS = ["customer_id", "name_norm", "id_number_norm", "birth_date", "gender", "phone_norm",
           "email_norm", "address_norm"]  # fmt: skip


def customers(n: int, seed: int) -> tuple[Path, pd.DataFrame]:
    bank = DATA / f"bank-{n}-{seed}-csv-0"
    store_dir = DATA / f"store-{n}-{seed}"
    if not (bank / "transfers.csv").exists():
        print(f"synthesising {n:,} customers …", file=sys.stderr)
        generate(n, seed, bank, "csv")
    with EmbeddedStore(store_dir) as store:
        load_directory(bank, store, store_dir)
        return bank, store.read_table("customers", COLUMNS).to_pandas()


def scores(frame: pd.DataFrame, found: str) -> dict[str, float]:
    pairs = pairwise(frame["person_key"], frame[found])
    out = {"precision": pairs.precision or 0.0, "recall": pairs.recall or 0.0}
    # Pairs with a record lacking an id number: the ones v1 cannot see.
    no_id = frame["id_number_norm"].isna()
    keys = frame.loc[no_id, "person_key"].unique()
    sub = frame[frame["person_key"].isin(keys)]
    with_id = sub[~sub["id_number_norm"].isna()]
    # All pairs inside those persons minus the pairs among their records with id numbers.
    truth_pairs = pair_count(sub["person_key"]) - pair_count(with_id["person_key"])
    found_pairs = pair_count(sub[found] + "|" + sub["person_key"]) - pair_count(
        with_id[found] + "|" + with_id["person_key"]
    )
    out["recall_no_id"] = found_pairs / max(truth_pairs, 1)
    out["pairs_no_id"] = float(truth_pairs)
    out["pairs"] = float(pair_count(frame["person_key"]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--accuracy-customers", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    bank, small = customers(args.accuracy_customers, args.seed)
    result = resolve(small, LinkageParams())
    truth = pd.read_csv(bank / "truth" / "persons.csv")
    frame = small.assign(v2=result.person_id, v1=resolve(small, LinkageParams(enabled=0)).person_id)
    frame = frame.merge(truth, on="customer_id")
    v2, v1 = scores(frame, "v2"), scores(frame, "v1")
    print(f"## Identity resolution accuracy: {args.accuracy_customers:,} customers\n")
    print(
        f"{v2['pairs']:,.0f} pairs of rows of one person; {v2['pairs_no_id']:,.0f} of them involve a row with no id number.\n"
    )
    print("| measure | v2 (linkage) | v1 (id number only) | target (v2) |\n|---|---:|---:|---:|")
    print(f"| pairwise precision | {v2['precision']:.4f} | {v1['precision']:.4f} | ≥ 0.99 |")
    print(f"| pairwise recall | {v2['recall']:.4f} | {v1['recall']:.4f} | ≥ 0.95 |")
    print(
        f"| recall on pairs with a row lacking an id number | {v2['recall_no_id']:.4f} | {v1['recall_no_id']:.4f} | |"
    )
    print(f"| review band (possible duplicates) | {len(result.possible):,} pairs | — | |\n")

    _, big = customers(args.customers, args.seed)
    times = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        resolve(big, LinkageParams())
        times.append(time.perf_counter() - started)
    print(f"## Identity resolution speed: {args.customers:,} customer rows\n")
    print("| run | seconds |\n|---|---:|")
    for i, t in enumerate(times, 1):
        print(f"| {i} | {t:.1f} |")
    print(f"| **median** | {statistics.median(times):.1f} |")


if __name__ == "__main__":
    main()
