"""Waiting for the store lock on a real Neo4j (marker ``neo4j``): a run that waits says who
holds the lock at once, gives up after ``RELGRAPH_NEO4J_LOCK_WAIT`` by ending its own waiting
transaction, and leaves the holder to finish; a process killed while waiting leaves no lock.

Before, the second run blocked inside the server with no timeout and printed nothing: these
tests then fail on their own time limits (the waiter still running), not by hanging.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from relgraph.config import Settings
from relgraph.store.base import StoreError
from relgraph.store.neo4j import Neo4jStore, generation_id
from relgraph.store.runner import DriverRunner
from tests.graph.conftest import BANK, canonical_tables
from tests.store.pausing import PausedRunner

pytestmark = pytest.mark.neo4j

TABLES = canonical_tables(BANK)
OTHER = {**TABLES, "transfers": TABLES["transfers"].slice(1)}


def _lock_transactions(driver: Any, settings: Settings) -> list[dict[str, Any]]:
    """relgraph's transactions on the store lock: id, operation and status."""
    records, _, _ = driver.execute_query(
        "SHOW TRANSACTIONS YIELD transactionId, metaData, status "
        "WHERE metaData.statement = 'store_lock' "
        "RETURN transactionId AS id, metaData.operation AS operation, status",
        database_=settings.neo4j.database,
    )
    return [dict(r) for r in records]


def _said(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the runs said while they waited (by default to the log, from the watcher)."""
    return [r.getMessage() for r in caplog.records if "Neo4j store lock" in r.getMessage()]


def test_a_waiting_load_names_the_holder_gives_up_and_the_holder_finishes(
    driver: Any,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with Neo4jStore.connect(settings.neo4j) as store:
        store.replace_tables(TABLES, {"fingerprint": "live"})
    holder_runner = PausedRunner(DriverRunner.connect(settings.neo4j), "state_commit_load")
    holder_failures: list[BaseException] = []

    def hold_while_loading() -> None:
        try:
            with Neo4jStore(holder_runner, settings.neo4j) as store:
                store.replace_tables(OTHER, {"fingerprint": "holder"})
        except BaseException as exc:  # the test asserts there was none
            holder_failures.append(exc)

    holder = threading.Thread(target=hold_while_loading)
    holder.start()
    caught: list[BaseException] = []
    try:
        assert holder_runner.reached.wait(60), "the holder never reached its commit"
        monkeypatch.setenv("RELGRAPH_NEO4J_LOCK_WAIT", "3")
        waiting = Settings.from_env().neo4j

        def load_again() -> None:
            try:
                with Neo4jStore.connect(waiting) as store:
                    store.replace_tables(TABLES, {"fingerprint": "waiter"})
            except BaseException as exc:
                caught.append(exc)

        waiter = threading.Thread(target=load_again, daemon=True)
        began = time.monotonic()
        waiter.start()
        waiter.join(30)
        waited = time.monotonic() - began
        assert not waiter.is_alive(), "the waiting load never gave up"
        # The holder's transaction is untouched, and the waiter's is gone.
        left = _lock_transactions(driver, settings)
    finally:
        holder_runner.resume.set()
        holder.join(120)
    generation = generation_id(OTHER)
    holding = f"load (generation {generation})"
    assert [t["operation"] for t in left] == [holding]
    assert 3 <= waited < 25  # connecting and the schema statements come before the lock
    told = _said(caplog)
    assert told, "the wait was never said"
    assert told[0].startswith(
        f"load (generation {generation_id(TABLES)}): waiting for the Neo4j store lock held by "
        f"{holding}, 127.0.0.1:"
    )
    [error] = caught
    assert isinstance(error, StoreError)
    message = str(error)
    assert "gave up waiting for the Neo4j store lock after 3 s" in message
    assert f"it is held by {holding}, 127.0.0.1:" in message
    assert f"TERMINATE TRANSACTION '{left[0]['id']}'" in message
    # The holder finished its load, unaffected; the waiter wrote nothing.
    assert holder_failures == []
    with Neo4jStore.connect(settings.neo4j) as store:
        assert store.meta() == {"fingerprint": "holder"}
        assert store.state().pending == ()
        assert store.read_table("transfers").equals(OTHER["transfers"])
    # Free again: a run that will not wait at all takes it at once, saying nothing.
    caplog.clear()
    monkeypatch.setenv("RELGRAPH_NEO4J_LOCK_WAIT", "0")
    with Neo4jStore.connect(Settings.from_env().neo4j) as store:
        store.replace_tables(TABLES, {"fingerprint": "after"})
        assert store.meta() == {"fingerprint": "after"}
    assert _said(caplog) == []


def _cli(args: list[str], lock_wait: float, stderr: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RELGRAPH_STORE": "neo4j", "RELGRAPH_NEO4J_LOCK_WAIT": str(lock_wait)}
    with stderr.open("wb") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "relgraph", *args],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
        )


def _until(check: Any, seconds: float, what: str) -> float:
    began = time.monotonic()
    while not check():
        assert time.monotonic() - began < seconds, what
        time.sleep(0.2)
    return time.monotonic() - began


def test_the_cli_says_it_waits_exits_2_and_a_killed_waiter_leaves_no_lock(
    driver: Any,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with Neo4jStore.connect(settings.neo4j) as store:
        store.replace_tables(TABLES, {"fingerprint": "live"})
    args = ["analyze", "--data-dir", str(tmp_path)]
    with (
        closing(DriverRunner.connect(settings.neo4j)) as runner,
        runner.hold("store_lock", operation="load (generation held-by-test)"),
    ):
        gives_up = _cli(args, 2, tmp_path / "gives-up.err")
        try:
            code = gives_up.wait(90)  # start-up and the analytics come before the lock
        finally:
            gives_up.kill()
        text = (tmp_path / "gives-up.err").read_text()
        assert code == 2, text
        assert "waiting for the Neo4j store lock held by load (generation held-by-test)" in text
        assert "error: analyze stopped: write results (run " in text
        assert "gave up waiting for the Neo4j store lock after 2 s" in text

        # A waiter killed while it waits: its transaction goes with its connection.
        killed = _cli(args, 600, tmp_path / "killed.err")
        try:
            _until(
                lambda: "waiting for the Neo4j store lock" in (tmp_path / "killed.err").read_text(),
                120,
                "the waiter never said it waits",
            )
            [blocked] = [
                t
                for t in _lock_transactions(driver, settings)
                if t["operation"].startswith("write results")
            ]
            assert blocked["status"].startswith("Blocked by:")
        finally:
            os.kill(killed.pid, signal.SIGKILL)
            killed.wait()
        _until(
            lambda: blocked["id"] not in {t["id"] for t in _lock_transactions(driver, settings)},
            30,
            "the killed waiter's transaction is still on the server",
        )
        # The holder is still there, untouched by both waiters.
        assert [t["operation"] for t in _lock_transactions(driver, settings)] == [
            "load (generation held-by-test)"
        ]
    # No lock is left behind: a run that will not wait takes it at once.
    caplog.clear()
    monkeypatch.setenv("RELGRAPH_NEO4J_LOCK_WAIT", "0")
    with (
        closing(DriverRunner.connect(Settings.from_env().neo4j)) as runner,
        runner.hold("store_lock", operation="after"),
    ):
        pass
    assert _said(caplog) == []
    with Neo4jStore.connect(settings.neo4j) as store:
        assert store.meta() == {"fingerprint": "live"}
        assert store.result_names() == []
