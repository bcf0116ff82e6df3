"""relgraph on a real Neo4j 5.26 + GDS 2.13 (the test server of ``tools/neo4j-server``).

``parity``: a synthetic bank loaded into the embedded store and into Neo4j, analysed with the
local engine on both and with the GDS engine on Neo4j; the local results must be equal exactly
and GDS's must agree by the rules of ``tests/neo4j_parity.py`` (the neo4j-marked CLI test makes
the same comparison on a 1,000-customer bank).

``load``: the bank's load into Neo4j timed per table (rows/s; wall and the server JVM's CPU
seconds, since the machine is shared), the server's heap and page cache, the client's peak
memory; ``analyze`` with the local and the GDS engine on the loaded store; and a person's
network read with the README's Cypher vs from relgraph's in-memory read model.

Starts its own server (``make neo4j`` first; ``NEO4J_HEAP``, default 2g) unless ``NEO4J_URI``
is set (it empties that database).

``engines``: the bank loaded, then the steps of ``analyze`` that the engine runs (hidden
networks: components and Leiden; referral influence: PageRank) timed with the local engine and
with GDS on the same loaded store, their agreement, and a person's network read with the
README's Cypher (after the networks are written back) vs from the projection. The rest of
``analyze`` (values, households, groups, layering, writing every result) is the same work
whichever engine runs; ``parity`` times it whole.

    python benchmarks/bench_neo4j.py parity --customers 20000
    python benchmarks/bench_neo4j.py load --customers 100000
    python benchmarks/bench_neo4j.py load --customers 1000000 --bank-only --bank-dir DIR
    python benchmarks/bench_neo4j.py load --customers 1000000 --bank-dir DIR --skip-analyze
    python benchmarks/bench_neo4j.py engines --customers 100000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the server and parity rules
from tests import neo4j_server
from tests.neo4j_parity import ANALYSIS_ENV, compare_engines, equal_results, readme_cypher

from relgraph.config import Settings
from relgraph.graph import build_projection
from relgraph.ingest import load_directory
from relgraph.jobs.analyze import analyze
from relgraph.store.embedded import EmbeddedStore
from relgraph.store.neo4j import Neo4jStore
from relgraph.store.runner import DriverRunner
from relgraph.synth import generate

TICK = os.sysconf("SC_CLK_TCK")


def jvm_cpu(pid: int | None) -> float:
    """CPU seconds the server JVM has used (0 when it is not ours)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def jvm_pid(process: subprocess.Popen[bytes]) -> int:
    """The java process under ``tools/neo4j-server/run`` (it ``exec``s, so the same pid)."""
    return process.pid


class TimedRunner:
    """Times every relgraph operation: wall seconds and server CPU seconds from its first
    statement's start to its last statement's end (the load's writers run an operation's
    batches side by side, so per-statement times would count the overlap twice)."""

    def __init__(self, inner: DriverRunner, pid: int | None) -> None:
        self.inner, self.pid = inner, pid
        self.first: dict[str, tuple[float, float]] = {}
        self.last: dict[str, tuple[float, float]] = {}
        self.rows: dict[str, int] = {}

    def run(
        self, statement: str, params: Mapping[str, Any] | None = None, *, operation: str,
        write: bool = False,
    ) -> pd.DataFrame:  # fmt: skip
        self.first.setdefault(operation, (time.perf_counter(), jvm_cpu(self.pid)))
        try:
            return self.inner.run(statement, params, operation=operation, write=write)
        finally:
            self.last[operation] = (time.perf_counter(), jvm_cpu(self.pid))

    def hold(
        self, statement: str, params: Mapping[str, Any] | None = None, *, operation: str
    ) -> AbstractContextManager[None]:
        return self.inner.hold(statement, params, operation=operation)

    def wall(self, operation: str) -> float:
        return self.last[operation][0] - self.first[operation][0]

    def cpu(self, operation: str) -> float:
        return self.last[operation][1] - self.first[operation][1]

    def close(self) -> None:
        self.inner.close()


@contextmanager
def server(heap: str, page_cache: str = "512m") -> Iterator[tuple[Settings, int | None]]:
    if os.environ.get("NEO4J_URI"):
        yield Settings.from_env(), None
        return
    os.environ["NEO4J_HEAP"] = heap
    with tempfile.TemporaryDirectory(prefix="relgraph-neo4j-bench-") as home:
        running = neo4j_server.start(Path(home), page_cache=page_cache)
        print(f"server: started in {running.started_in:.0f} s, heap {heap}, "
              f"page cache {page_cache}")  # fmt: skip
        login = running.login
        os.environ.update(NEO4J_URI=login.uri, NEO4J_USERNAME=login.username,
                          NEO4J_PASSWORD=login.password)  # fmt: skip
        try:
            yield Settings.from_env(), jvm_pid(running.process)
        finally:
            neo4j_server.stop(running)


def empty(settings: Settings) -> None:
    import neo4j

    s = settings.neo4j
    with (
        neo4j.GraphDatabase.driver(s.uri, auth=(s.username, s.password)) as driver,
        driver.session(database=s.database) as session,
    ):
        # An auto-commit transaction (session.run): the server refuses CALL { } IN
        # TRANSACTIONS in the managed one execute_query opens, and a previous run's data is
        # too much for one transaction.
        session.run(
            "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        ).consume()


def heap_used(settings: Settings) -> str:
    import neo4j

    s = settings.neo4j
    with neo4j.GraphDatabase.driver(s.uri, auth=(s.username, s.password)) as driver:
        records, _, _ = driver.execute_query(
            "CALL dbms.queryJmx('java.lang:type=Memory') YIELD attributes "
            "RETURN attributes.HeapMemoryUsage.value.properties AS heap"
        )
    heap = records[0]["heap"]
    return f"{heap['used'] / 2**20:,.0f} MiB used of {heap['max'] / 2**20:,.0f} MiB"


def make_bank(customers: int, root: Path, kept: Path | None = None) -> tuple[Path, dict[str, Any]]:
    """The bank's canonical tables (seed 42) from an embedded load under ``root``; with
    ``kept``, the embedded store kept there is read if a run made it before (``--bank-dir``:
    a 1M bank's generation and identity resolution need ~9 GB at their peak, so a separate
    run makes it and the load run only reads it)."""
    bank, data = root / "bank", (kept or root) / "embedded"
    began = time.perf_counter()
    if kept is None or not (data / ".complete").exists():
        generate(customers, 42, bank, "parquet")
        with EmbeddedStore(data) as store:
            load_directory(bank, store, data)
        (data / ".complete").write_text(f"{customers}\n")
    elif (data / ".complete").read_text().split() != [str(customers)]:
        raise SystemExit(f"{data} holds another bank; remove it or pick another --bank-dir")
    with EmbeddedStore(data) as store:
        tables = {name: store.read_table(name) for name in store.table_names()}
    print(f"bank: {customers:,} customers, {sum(t.num_rows for t in tables.values()):,} rows "
          f"in {len(tables)} tables (synth + embedded load {time.perf_counter() - began:.0f} s)")  # fmt: skip
    return data, tables


def timed_load(settings: Settings, pid: int | None, tables: dict[str, Any]) -> Neo4jStore:
    runner = TimedRunner(DriverRunner.connect(settings.neo4j), pid)
    store = Neo4jStore(runner, settings.neo4j)
    began, cpu, client = time.perf_counter(), jvm_cpu(pid), time.process_time()

    def finished(operation: str, done: int, total: int) -> None:
        # As each table lands, so that a run stopped part-way still tells its rate.
        runner.rows[operation] = total
        if done == total:
            print(f"  {operation}: {total:,} rows, {runner.wall(operation):.1f} s wall, "
                  f"{runner.cpu(operation):.1f} s server CPU "
                  f"({time.perf_counter() - began:.0f} s into the load)", flush=True)  # fmt: skip

    store.progress = finished
    store.replace_tables(tables, {"bench": "load"})
    wall, total_cpu = time.perf_counter() - began, jvm_cpu(pid) - cpu
    print(f"client CPU during the load: {time.process_time() - client:.1f} s; "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    rows = sum(t.num_rows for t in tables.values())
    print("\n| table | rows | wall s | rows/s (wall) | server CPU s | rows/s (server CPU) |")
    print("|---|---|---|---|---|---|")
    for op in runner.first:
        if not op.startswith("load "):
            continue
        name = op.removeprefix("load ")
        n = tables[name].num_rows if name in tables else runner.rows.get(op, 0)
        w, c = runner.wall(op), runner.cpu(op)
        print(f"| {name} | {n:,} | {w:.1f} | {n / w:,.0f} | {c:.1f} | "
              f"{n / c if c else float('nan'):,.0f} |")  # fmt: skip
    print(f"| **total** (with schema, state, prune) | {rows:,} | {wall:.1f} | {rows / wall:,.0f} "
          f"| {total_cpu:.1f} | {rows / total_cpu if total_cpu else float('nan'):,.0f} |")  # fmt: skip
    return store


def timed_analyze(
    settings: Settings, store: Neo4jStore, engine: str
) -> tuple[float, dict[str, Any]]:
    from relgraph.engines.gds import GdsEngine

    timed = store.runner if isinstance(store.runner, TimedRunner) else None
    if timed is not None:  # this run's write-backs only, not an earlier analyze's
        for times in (timed.first, timed.last):
            for op in [op for op in times if op.startswith("write back")]:
                del times[op]
    began = time.perf_counter()
    runner = GdsEngine.connect(settings.neo4j, store.generation) if engine == "gds" else None
    analyze(store, build_projection(store), engine=runner)
    if runner is not None:
        runner.close()
    seconds = time.perf_counter() - began
    if timed is not None:
        ops = sorted(op for op in timed.last if op.startswith("write back"))
        walls = ", ".join(f"{op.removeprefix('write back ')} {timed.wall(op):.1f}" for op in ops)
        print(f"  {engine} engine, write-back wall seconds: {walls}", flush=True)
    return seconds, {name: store.read_results(name) for name in store.result_names()}


def parity(args: argparse.Namespace) -> None:
    os.environ.update(ANALYSIS_ENV)
    with (
        tempfile.TemporaryDirectory(prefix="relgraph-parity-") as tmp,
        server(args.heap) as (settings, pid),
    ):
        data, tables = make_bank(args.customers, Path(tmp))
        began = time.perf_counter()
        with EmbeddedStore(data) as store:
            analyze(store, build_projection(store))
            embedded = {name: store.read_results(name) for name in store.result_names()}
        print(f"embedded analyze: {time.perf_counter() - began:.0f} s")
        empty(settings)
        began = time.perf_counter()
        store = timed_load(settings, pid, tables)
        print(f"neo4j load: {time.perf_counter() - began:.0f} s")
        local_s, local = timed_analyze(settings, store, "local")
        gds_s, gds = timed_analyze(settings, store, "gds")
        print(f"neo4j analyze: local engine {local_s:.0f} s, gds engine {gds_s:.0f} s")
        print(
            f"local engine on neo4j vs embedded, unequal tables: {equal_results(local, embedded)}"
        )
        report = compare_engines(local, gds)
        print(f"gds vs local: {report}")
        store.close()


def load(args: argparse.Namespace) -> None:
    from relgraph.api.readmodel import build_read_model

    if args.bank_only:
        with tempfile.TemporaryDirectory(prefix="relgraph-load-") as tmp:
            make_bank(args.customers, Path(tmp), args.bank_dir)
        return
    with (
        tempfile.TemporaryDirectory(prefix="relgraph-load-") as tmp,
        server(args.heap, args.page_cache) as (settings, pid),
    ):
        _, tables = make_bank(args.customers, Path(tmp), args.bank_dir)
        empty(settings)
        store = timed_load(settings, pid, tables)
        print(f"\nserver heap after the load: {heap_used(settings)}; page cache {args.page_cache}")
        print(
            f"client peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB"
        )
        if args.read_back:
            began = time.perf_counter()
            build_projection(store)
            print(f"projection from Neo4j: {time.perf_counter() - began:.1f} s")
        if args.skip_analyze:
            return
        local_s, _ = timed_analyze(settings, store, "local")
        gds_s, _ = timed_analyze(settings, store, "gds")
        print(f"analyze on neo4j: local engine {local_s:.0f} s, gds engine {gds_s:.0f} s")
        model = build_read_model(store)
        persons = [p for p, m in model.results.network_of.items()
                   if model.results.network_size.get(m, 0) >= 3][:50]  # fmt: skip
        cypher = readme_cypher()["A person's hidden network"]
        import neo4j

        s = settings.neo4j
        times_db, times_model = [], []
        with neo4j.GraphDatabase.driver(s.uri, auth=(s.username, s.password)) as driver:
            for person in persons:
                began = time.perf_counter()
                records, _, _ = driver.execute_query(cypher, personId=person)
                times_db.append(time.perf_counter() - began)
                began = time.perf_counter()
                members = model.results.network_members[model.results.network_of[person]]
                times_model.append(time.perf_counter() - began)
                assert sorted(r["member"] for r in records) == sorted(members)
        print(f"a person's network, median of {len(persons)}: README Cypher "
              f"{statistics.median(times_db) * 1000:.1f} ms, read model "
              f"{statistics.median(times_model) * 1e6:.1f} µs")  # fmt: skip
        store.close()
    print(json.dumps({"customers": args.customers}))


def engines(args: argparse.Namespace) -> None:
    import neo4j
    import numpy as np
    from scipy.stats import spearmanr
    from tests.neo4j_parity import adjusted_rand_index

    from relgraph.analytics.influence import influence
    from relgraph.analytics.networks import hidden_networks, network_frames
    from relgraph.analytics.settings import AnalysisSettings
    from relgraph.engines.gds import GdsEngine

    os.environ.update(ANALYSIS_ENV)  # PageRank to convergence at a tight tolerance
    with (
        tempfile.TemporaryDirectory(prefix="relgraph-engines-") as tmp,
        server(args.heap, args.page_cache) as (settings, pid),
    ):
        _, tables = make_bank(args.customers, Path(tmp))
        empty(settings)
        store = timed_load(settings, pid, tables)
        print(f"\nserver heap after the load: {heap_used(settings)}; page cache {args.page_cache}")
        began = time.perf_counter()
        projection = build_projection(store)
        print(f"projection from Neo4j: {time.perf_counter() - began:.1f} s")
        params = AnalysisSettings.from_env()
        found: dict[str, Any] = {}
        for name in ("local", "gds"):
            cpu = jvm_cpu(pid)
            began = time.perf_counter()
            engine = GdsEngine.connect(settings.neo4j, store.generation) if name == "gds" else None
            networks = hidden_networks(projection, params.networks, engine=engine)
            middle = time.perf_counter()
            ranks = influence(projection, params.influence, engine)
            ended = time.perf_counter()
            if engine is not None:
                engine.close()
            found[name] = (networks, ranks)
            print(f"{name} engine: hidden networks {middle - began:.1f} s, referral influence "
                  f"{ended - middle:.1f} s, server CPU {jvm_cpu(pid) - cpu:.1f} s; "
                  f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
        (local_n, local_r), (gds_n, gds_r) = found["local"], found["gds"]
        unsplit = ~local_n.split[local_n.label]
        same = adjusted_rand_index(local_n.label[unsplit], gds_n.label[unsplit])
        ari = adjusted_rand_index(local_n.label[~unsplit], gds_n.label[~unsplit])
        referrers = local_r.direct_referrals > 0
        a, b = local_r.pagerank[referrers], gds_r.pagerank[referrers]
        top = set(np.argsort(-a)[:20]) == set(np.argsort(-b)[:20])
        print(f"agreement: unsplit networks ARI {same:.6f} (1 = identical), Leiden ARI {ari:.3f} "
              f"over {int((~unsplit).sum()):,} persons in split networks, PageRank Spearman "
              f"{spearmanr(a, b).statistic:.7f} over {int(referrers.sum()):,} persons with "
              f"referrals, top 20 same: {top}")  # fmt: skip
        began = time.perf_counter()
        frames = network_frames(projection, local_n)
        store.replace_results({name: pa_table(frame) for name, frame in frames.items()})
        print(f"networks written back (local engine's): {time.perf_counter() - began:.1f} s")
        persons = projection.nodes["Person"]
        ids = np.asarray(persons.id_of(np.arange(len(persons))), dtype=object)
        sizes = np.bincount(local_n.label)
        chosen = np.flatnonzero(sizes[local_n.label] >= 3)[:: max(1, len(ids) // 2000)][:50]
        cypher = readme_cypher()["A person's hidden network"]
        s = settings.neo4j
        with neo4j.GraphDatabase.driver(s.uri, auth=(s.username, s.password)) as driver:
            # With the networkId index the store creates, then without it (dropped and made
            # again): what the index saves a network read.
            for indexed in (True, False):
                if not indexed:
                    driver.execute_query("DROP INDEX relgraph_person_network IF EXISTS")
                times_db, times_projection = [], []
                for index in chosen:
                    began = time.perf_counter()
                    records, _, _ = driver.execute_query(cypher, personId=ids[index])
                    times_db.append(time.perf_counter() - began)
                    began = time.perf_counter()
                    members = ids[local_n.label == local_n.label[index]]
                    times_projection.append(time.perf_counter() - began)
                    assert sorted(r["member"] for r in records) == sorted(members)
                print(f"a person's network (>= 3 members), median of {len(chosen)}: README Cypher "
                      f"{statistics.median(times_db) * 1000:.1f} ms "
                      f"({'with' if indexed else 'without'} the networkId index), from the "
                      f"projection {statistics.median(times_projection) * 1000:.2f} ms")  # fmt: skip
            store.ensure_schema()
        store.close()


def pa_table(frame: pd.DataFrame) -> Any:
    import pyarrow as pa

    return pa.Table.from_pandas(frame, preserve_index=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["parity", "load", "engines"])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--heap", default="2g")
    parser.add_argument("--page-cache", default="512m")
    parser.add_argument("--skip-analyze", action="store_true")
    parser.add_argument("--read-back", action="store_true", help="time the projection's build")
    parser.add_argument(
        "--bank-dir", type=Path, help="keep (or reuse) the bank's embedded store here"
    )
    parser.add_argument("--bank-only", action="store_true", help="make the bank (--bank-dir), stop")
    args = parser.parse_args()
    {"parity": parity, "load": load, "engines": engines}[args.mode](args)


if __name__ == "__main__":
    main()
