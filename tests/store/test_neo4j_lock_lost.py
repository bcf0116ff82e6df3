"""A run whose store lock an operator ended while it was only slow (marker ``neo4j``): the
waiting run's error says to ``TERMINATE TRANSACTION`` the holder when its process is hung, and
a paused process (a GC pause, a suspended VM) does not notice that its lock transaction is
gone, since its writes are transactions of their own.

Before, such a holder went on when it woke, published and said it had finished: a load paused
before its commit pointed the state at its generation, which the second load had just deleted
as one a dead load left (every table then failed to read, "read 0 rows of 5", and the second
load's generation was orphaned); a results write paused before its commit switched the results
to its run, whose chunks the second run had pruned, then pruned the second run's (every result
table read as incomplete). Now it stops unpublished at its next write.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pytest

from relgraph.config import Settings
from relgraph.store.base import StoreError
from relgraph.store.neo4j import Neo4jStore, generation_id
from relgraph.store.runner import DriverRunner
from tests.graph.conftest import BANK, canonical_tables
from tests.store.pausing import PausedRunner

pytestmark = pytest.mark.neo4j

TABLES = canonical_tables(BANK)
HOLDER = {**TABLES, "transfers": TABLES["transfers"].slice(1)}
SECOND = {**TABLES, "transfers": TABLES["transfers"].slice(2)}


def _terminate_lock(driver: Any, settings: Settings) -> None:
    """What the operator does: ``TERMINATE TRANSACTION`` the store lock's holder."""
    records, _, _ = driver.execute_query(
        "SHOW TRANSACTIONS YIELD transactionId, metaData "
        "WHERE metaData.statement = 'store_lock' RETURN transactionId AS id",
        database_=settings.neo4j.database,
    )
    [holder] = [r["id"] for r in records]
    driver.execute_query("TERMINATE TRANSACTION $id", id=holder, database_=settings.neo4j.database)


def _lose_the_lock_while_paused(
    driver: Any,
    settings: Settings,
    pause_at: str,
    holder_work: Callable[[Neo4jStore], None],
    second_work: Callable[[Neo4jStore], None],
) -> list[BaseException]:
    """Pause a holder at ``pause_at``, end its lock, let a second run take the lock and finish,
    then wake the holder; what the holder raised."""
    runner = PausedRunner(DriverRunner.connect(settings.neo4j), pause_at)
    failures: list[BaseException] = []

    def hold() -> None:
        try:
            with Neo4jStore(runner, settings.neo4j) as store:
                holder_work(store)
        except BaseException as exc:  # asserted by the caller
            failures.append(exc)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert runner.reached.wait(60), f"the holder never reached {pause_at}"
        _terminate_lock(driver, settings)
        with Neo4jStore.connect(settings.neo4j) as store:
            second_work(store)  # takes the freed lock at once
    finally:
        runner.resume.set()
        holder.join(120)
    assert not holder.is_alive()
    return failures


def test_a_load_whose_lock_was_ended_does_not_publish(driver: Any, settings: Settings) -> None:
    with Neo4jStore.connect(settings.neo4j) as store:
        store.replace_tables(TABLES, {"fingerprint": "live"})
    failures = _lose_the_lock_while_paused(
        driver,
        settings,
        "state_commit_load",
        lambda store: store.replace_tables(HOLDER, {"fingerprint": "holder"}),
        lambda store: store.replace_tables(SECOND, {"fingerprint": "second"}),
    )
    [error] = failures
    assert isinstance(error, StoreError)
    message = str(error)
    assert f"load (generation {generation_id(HOLDER)})" in message
    assert "the Neo4j store lock was taken from this run" in message
    assert "Nothing of it was published" in message
    assert "the next load deletes what this one wrote. Run `relgraph load` again" in message
    with Neo4jStore.connect(settings.neo4j) as store:
        # The second load is live and whole; the holder's generation is neither live nor kept.
        assert store.meta() == {"fingerprint": "second"}
        assert store.generation == generation_id(SECOND)
        assert store.read_table("transfers").equals(SECOND["transfers"])
        assert store.read_table("persons").equals(TABLES["persons"])
        records, _, _ = driver.execute_query(
            "MATCH (n) WHERE n.gen IS NOT NULL RETURN DISTINCT n.gen AS gen",
            database_=settings.neo4j.database,
        )
        assert {r["gen"] for r in records} == {generation_id(SECOND)}
        # The holder's staged generation was deleted by the second load; a run again works.
        store.replace_tables(HOLDER, {"fingerprint": "again"})
        assert store.read_table("transfers").equals(HOLDER["transfers"])
        assert store.state().pending == ()


def _results(label: str) -> dict[str, pa.Table]:
    return {
        # Tables no write-back reads: only the kept results and their switch are at stake.
        "summary": pa.table({"run": [label], "rows": [2]}),
        "notes": pa.table({"note": [f"by {label}"]}),
    }


def test_results_whose_lock_was_ended_are_not_published(driver: Any, settings: Settings) -> None:
    with Neo4jStore.connect(settings.neo4j) as store:
        store.replace_tables(TABLES, {"fingerprint": "live"})
        store.replace_results(_results("first"))
    failures = _lose_the_lock_while_paused(
        driver,
        settings,
        "state_commit_results",
        lambda store: store.replace_results(_results("holder")),
        lambda store: store.replace_results(_results("second")),
    )
    [error] = failures
    assert isinstance(error, StoreError)
    message = str(error)
    assert "write results (run " in message
    assert "the Neo4j store lock was taken from this run" in message
    assert "Nothing of it was published" in message
    assert "Run `relgraph analyze` again" in message
    with Neo4jStore.connect(settings.neo4j) as store:
        for name, table in _results("second").items():
            assert store.read_results(name).equals(table)
        # The holder's chunks are gone (the second run pruned them), nothing else is kept.
        records, _, _ = driver.execute_query(
            "MATCH (c:ResultChunk) RETURN count(c) AS chunks", database_=settings.neo4j.database
        )
        assert records[0]["chunks"] == 2
