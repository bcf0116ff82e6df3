"""Client-side cost of a Neo4j load: building the UNWIND batches for a whole bank.

No Neo4j runs on this machine, so the server side is not measured: a runner that
only counts what it is sent stands in for it. Reported: seconds to turn every
canonical table into parameter batches (median of --repeats), the number of
transactions, and the same tables written to the embedded store for scale.

    python benchmarks/bench_neo4j_batches.py benchmarks/data/store-100000-42
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from relgraph.config import Neo4jSettings
from relgraph.store.embedded import EmbeddedStore
from relgraph.store.neo4j import Neo4jStore


class CountingRunner:
    def __init__(self) -> None:
        self.transactions = 0
        self.rows = 0
        self.state: dict[str, Any] | None = None

    def run(
        self,
        statement: str,
        params: Mapping[str, Any] | None = None,
        *,
        operation: str,
        write: bool = False,
    ) -> pd.DataFrame:
        self.transactions += 1
        p = dict(params or {})
        if "rows" in p:
            self.rows += len(p["rows"])
            return pd.DataFrame({"written": [len(p["rows"])]})
        if "batch" in p:
            return pd.DataFrame({"deleted": [0]})
        return pd.DataFrame()

    def close(self) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("store", type=Path, help="an embedded store directory (loaded bank)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=5000)
    args = parser.parse_args()
    with EmbeddedStore(args.store, read_only=True) as source:
        tables = {name: source.read_table(name) for name in source.table_names()}
    rows = sum(t.num_rows for t in tables.values())
    neo, embedded = [], []
    counted = CountingRunner()
    for _ in range(args.repeats):
        counted = CountingRunner()
        store = Neo4jStore(counted, Neo4jSettings(batch_size=args.batch_size))
        started = time.perf_counter()
        store.replace_tables(tables, {"fingerprint": "bench"})
        neo.append(time.perf_counter() - started)
        with tempfile.TemporaryDirectory() as tmp, EmbeddedStore(Path(tmp)) as target:
            started = time.perf_counter()
            target.replace_tables(tables, {"fingerprint": "bench"})
            embedded.append(time.perf_counter() - started)
    print(f"rows: {rows:,} in {len(tables)} tables; batch size {args.batch_size}")
    print(f"neo4j batches (client side): median {statistics.median(neo):.2f} s  runs {neo}")
    print(f"transactions: {counted.transactions:,}; rows sent: {counted.rows:,}")
    print(f"embedded replace_tables: median {statistics.median(embedded):.2f} s  runs {embedded}")


if __name__ == "__main__":
    main()
