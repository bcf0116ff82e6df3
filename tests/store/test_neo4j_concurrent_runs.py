"""Two writers into one real Neo4j at once (marker ``neo4j``): two ``relgraph analyze`` on
the same live generation, two loads of the same data.

Each run wrote its chunks side by side with the other's, then pruned every chunk not its
own: the run that committed last pointed the state at chunks the other had deleted, and
every result table read back as incomplete, though both runs said they had finished. The
second of two loads of the same data CREATEd the generation the first had just written and
stopped on the uniqueness constraints.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from relgraph.config import Settings
from relgraph.graph import build_projection
from relgraph.jobs.analyze import analyze
from relgraph.store.neo4j import Neo4jStore
from relgraph.store.runner import DriverRunner
from tests.graph.conftest import BANK, canonical_tables
from tests.store.pausing import PausingRunner

pytestmark = pytest.mark.neo4j

TABLES = canonical_tables(BANK)


def _one(driver: Any, settings: Settings, cypher: str, **params: Any) -> Any:
    records, _, _ = driver.execute_query(cypher, params, database_=settings.neo4j.database)
    return records[0][0]


def test_two_runs_writing_results_at_once_both_finish_and_leave_one_complete_set(
    driver: Any, settings: Settings
) -> None:
    with Neo4jStore.connect(settings.neo4j) as store:
        store.replace_tables(TABLES, {})
        analyze(store, build_projection(store))
        results = {name: store.read_results(name) for name in store.result_names()}
        gen = store.generation
    assert results["risk_chain_hops"].num_rows > 0
    # The alerts and their hops go, so that both runs' write-backs create them, not find them.
    driver.execute_query("MATCH (a:Alert) DETACH DELETE a", database_=settings.neo4j.database)
    # The first run commits only once the second has written a chunk: the order in which
    # the second's chunks were pruned. With one run at a time the second writes nothing until
    # the first is done, so the first goes on after `wait` seconds.
    second_wrote, began = threading.Event(), threading.Barrier(2)
    first = PausingRunner(
        DriverRunner.connect(settings.neo4j),
        pause_before="state_commit_results",
        resume=second_wrote,
        wait=3.0,
    )
    second = PausingRunner(
        DriverRunner.connect(settings.neo4j), signal_at="result_chunk_merge", reached=second_wrote
    )
    failures: list[BaseException] = []

    def write(runner: PausingRunner) -> None:
        try:
            with Neo4jStore(runner, settings.neo4j) as store:
                began.wait()
                store.replace_results(results)
        except BaseException as exc:  # the test asserts there was none
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(r,)) for r in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failures == []
    with Neo4jStore.connect(settings.neo4j) as store:
        for name, table in results.items():
            assert store.read_results(name).equals(table), name
        live = set(store.state().results.values())
    assert len(live) == 1
    assert _one(driver, settings, "MATCH (c:ResultChunk) RETURN collect(DISTINCT c.run)") == list(
        live
    )
    hops = results["risk_chain_hops"].num_rows
    counted = _one(
        driver,
        settings,
        "MATCH (:Alert {gen: $gen})-[r:INVOLVES]->() "
        "RETURN [count(r), count(DISTINCT [r.chainId, r.hop])]",
        gen=gen,
    )
    assert counted == [hops, hops]
    alerts = _one(driver, settings, "MATCH (a:Alert {gen: $gen}) RETURN count(a)", gen=gen)
    assert alerts == results["risk_chains"].num_rows
    # The lock is never committed: nothing of it is left in the graph.
    assert _one(driver, settings, "MATCH (l:RelgraphLock) RETURN count(l)") == 0


def test_two_loads_of_the_same_data_at_once_both_finish_with_one_generation(
    driver: Any, settings: Settings
) -> None:
    # The first commits only once the second has begun creating nodes: with one load at a
    # time the second creates nothing (it finds the data live), so the first goes on after
    # `wait` seconds.
    second_created, began = threading.Event(), threading.Barrier(2)
    first = PausingRunner(
        DriverRunner.connect(settings.neo4j),
        pause_before="state_commit_load",
        resume=second_created,
        wait=3.0,
    )
    second = PausingRunner(
        DriverRunner.connect(settings.neo4j), signal_at="phone_create", reached=second_created
    )
    failures: list[BaseException] = []

    def load(runner: PausingRunner) -> None:
        try:
            with Neo4jStore(runner, settings.neo4j) as store:
                began.wait()
                store.replace_tables(TABLES, {})
        except BaseException as exc:  # the test asserts there was none
            failures.append(exc)

    threads = [threading.Thread(target=load, args=(r,)) for r in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failures == []
    with Neo4jStore.connect(settings.neo4j) as store:
        for name, table in TABLES.items():
            assert store.read_table(name).equals(table), name
        state = store.state()
    assert state.pending == ()
    customers = TABLES["customers"].num_rows
    assert _one(
        driver,
        settings,
        "MATCH (c:CustomerRecord) RETURN [count(c), count(DISTINCT [c.customer_id, c.gen])]",
    ) == [customers, customers]
