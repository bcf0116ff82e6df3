"""Identity resolution alone: training the Splink model, then resolving with the stored model.

Loads the bank once with linkage off (normalised customer rows, not timed), then times
``linkage.resolve`` twice on those rows: first training (EM, no labels) and storing the
model, then with the stored model — the figure a routine reload pays. Pairwise
precision/recall against ``truth/persons.csv`` is printed for the second run.

    .venv/bin/python benchmarks/bench_linkage.py --customers 1000000 [--locale zh] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from relgraph.ingest import load_directory
from relgraph.ingest.linkage import LinkageParams, resolve
from relgraph.store.embedded import EmbeddedStore

COLUMNS = [
    "customer_id", "source_system", "name_norm", "id_number_norm", "birth_date", "gender",
    "phone_norm", "email_norm", "address_norm",
]  # fmt: skip


def _pairs(labels: pd.Series) -> int:
    counts = labels.value_counts()
    return int((counts * (counts - 1) // 2).sum())


def pairwise(truth: pd.Series, found: pd.Series) -> tuple[float, float]:
    """Pairwise precision and recall of ``found`` against ``truth`` (same index)."""
    both = _pairs(truth.astype(str) + "\0" + found.astype(str))
    return both / max(_pairs(found), 1), both / max(_pairs(truth), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--locale", default="zh", choices=["zh", "en"])
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="relgraph-bench-linkage-"))
    bank, data = work / "bank", work / "data"
    if not bank.exists():
        subprocess.run(
            [sys.executable, "-m", "relgraph.cli", "synth", "--out", str(bank),
             "--customers", str(args.customers), "--locale", args.locale],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    shutil.rmtree(data, ignore_errors=True)
    with EmbeddedStore(data) as store:
        load_directory(bank, store, data, linkage=LinkageParams(enabled=0))
        records = store.read_table("customers", COLUMNS).to_pandas()
    timings: dict[str, float] = {}
    for run in ("train", "stored"):
        started = time.perf_counter()
        result = resolve(records, data_dir=data, retrain=run == "train")
        timings[run] = time.perf_counter() - started
    truth = pd.read_csv(bank / "truth" / "persons.csv").set_index("customer_id")["person_key"]
    found = pd.Series(result.person_id, index=records["customer_id"])
    found = found.reindex(truth.index).fillna("absent:" + truth.index.to_series())
    precision, recall = pairwise(truth, found)
    print(
        json.dumps(
            {
                "customers": len(records),
                "locale": args.locale,
                "train_and_resolve_s": round(timings["train"], 1),
                "resolve_with_stored_model_s": round(timings["stored"], 1),
                "precision": round(precision, 4),
                "recall": round(recall, 4),
            }
        )
    )


if __name__ == "__main__":
    main()
