"""Cost of a Neo4j load: the client side always, a real server when ``--server`` is given.

Client side: a runner that only counts what it is sent stands in for Neo4j, so the
seconds are relgraph's own (hashing the tables, building the UNWIND batches);
reported with the number of transactions, beside the embedded store writing the
same tables. With ``--server`` (and ``NEO4J_URI``/``NEO4J_PASSWORD``/… set) the
same tables are also loaded into that Neo4j and read back, each timed — this
empties nothing, but replaces relgraph's graph there: use a scratch database.

    python benchmarks/bench_neo4j_batches.py benchmarks/data/store-100000-42
    NEO4J_URI=neo4j://127.0.0.1:7687 NEO4J_PASSWORD=... \
        python benchmarks/bench_neo4j_batches.py benchmarks/data/store-100000-42 --server
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
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

    def hold(
        self, statement: str, params: Mapping[str, Any] | None = None, *, operation: str
    ) -> AbstractContextManager[None]:
        self.transactions += 1
        return nullcontext()

    def close(self) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("store", type=Path, help="an embedded store directory (loaded bank)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--server", action="store_true", help="also load into NEO4J_URI")
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
    if args.server:
        _server(tables, args.batch_size)


def _server(tables: dict[str, Any], batch_size: int) -> None:
    from dataclasses import replace

    from relgraph.config import Settings

    settings = replace(Settings.from_env().neo4j, batch_size=batch_size)
    with Neo4jStore.connect(settings) as store:
        started = time.perf_counter()
        store.replace_tables(tables, {"fingerprint": "bench"})
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        for name in tables:
            store.read_table(name)
        read = time.perf_counter() - started
    rows = sum(t.num_rows for t in tables.values())
    print(
        f"server {settings.uri}: load {loaded:.1f} s ({rows / loaded:,.0f} rows/s), read back {read:.1f} s"
    )


if __name__ == "__main__":
    main()
