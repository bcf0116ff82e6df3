"""The driver runner: managed transactions with timeout and metadata, retry-safe, clear errors."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import replace
from typing import Any

import neo4j
import pytest
from neo4j.exceptions import ClientError, ServiceUnavailable, TransientError

from relgraph.config import Neo4jSettings
from relgraph.store.base import StoreError
from relgraph.store.cypher import query
from relgraph.store.runner import DriverRunner, LockLostError


class FakeResult:
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows

    def data(self) -> list[dict[str, Any]]:
        return self.rows

    def single(self) -> dict[str, Any] | None:
        return self.rows[0] if self.rows else None

    def consume(self) -> None:
        pass


class FakeTx:
    def __init__(self, log: list[tuple[str, dict[str, Any]]], failure: Exception | None) -> None:
        self.log, self.failure = log, failure

    def run(self, text: str, params: dict[str, Any]) -> FakeResult:
        self.log.append((text, params))
        if self.failure is not None:
            raise self.failure
        return FakeResult([{"written": len(params.get("rows", []))}])


class FakeOpenTx(FakeTx):
    """An explicit transaction: the driver logs its rollback."""

    def __init__(self, driver: FakeDriver, failure: Exception | None) -> None:
        super().__init__(driver.sent, failure)
        self.driver = driver

    def run(self, text: str, params: dict[str, Any]) -> FakeResult:
        if text != query("store_lock_check"):
            return super().run(text, params)
        self.log.append((text, params))
        if self.driver.lock_ended is not None:
            raise self.driver.lock_ended
        return FakeResult([{"held": "store"}])

    def rollback(self) -> None:
        self.driver.functions.append(("rollback", None))


class FakeSession:
    """Retries a transaction function on TransientError, as the driver's managed calls do."""

    def __init__(self, driver: FakeDriver) -> None:
        self.driver = driver

    def __enter__(self) -> FakeSession:
        return self

    def __exit__(self, *_: object) -> None:
        pass

    def _execute(self, kind: str, work: Any) -> Any:
        self.driver.functions.append((kind, work))
        while True:
            failure = self.driver.failures.pop(0) if self.driver.failures else None
            try:
                done = work(FakeTx(self.driver.sent, failure))
            except TransientError:
                continue
            self.driver.commits += 1  # the driver commits when the function returns
            return done

    def execute_write(self, work: Any) -> Any:
        return self._execute("write", work)

    def begin_transaction(self, metadata: dict[str, Any], timeout: float | None) -> FakeOpenTx:
        self.driver.functions.append(("open", (metadata, timeout)))
        failure = self.driver.failures.pop(0) if self.driver.failures else None
        return FakeOpenTx(self.driver, failure)

    def execute_read(self, work: Any) -> Any:
        return self._execute("read", work)


class FakeDriver:
    def __init__(self, failures: list[Exception] | None = None) -> None:
        self.failures = failures or []
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.functions: list[tuple[str, Any]] = []
        self.databases: list[str] = []
        self.commits = 0
        self.lock_ended: Exception | None = None
        """What the store lock's transaction fails with once an operator ended it."""

    def session(self, database: str) -> FakeSession:
        self.databases.append(database)
        return FakeSession(self)


SETTINGS = Neo4jSettings(database="bank", tx_timeout=42.0)


def test_writes_run_in_a_managed_write_transaction_with_timeout_and_metadata() -> None:
    driver = FakeDriver()
    runner = DriverRunner(driver, SETTINGS)
    frame = runner.run(
        "persons_create",
        {"rows": [{"person_id": "P1"}], "gen": "g"},
        operation="load persons",
        write=True,
    )
    assert frame["written"].tolist() == [1]
    kind, work = driver.functions[0]
    assert kind == "write"
    assert driver.databases == ["bank"]
    assert work.timeout == 42.0
    assert work.metadata == {
        "app": "relgraph",
        "operation": "load persons",
        "statement": "persons_create",
    }
    assert driver.sent == [(query("persons_create"), {"rows": [{"person_id": "P1"}], "gen": "g"})]


def test_reads_run_in_a_read_transaction() -> None:
    driver = FakeDriver()
    DriverRunner(driver, SETTINGS).run("state_read", operation="read state")
    assert driver.functions[0][0] == "read"


def test_a_transient_failure_is_retried_with_the_same_statement() -> None:
    driver = FakeDriver([TransientError("deadlock")])
    runner = DriverRunner(driver, SETTINGS)
    frame = runner.run("persons_create", {"rows": [{}], "gen": "g"}, operation="load", write=True)
    assert frame["written"].tolist() == [1]
    assert len(driver.sent) == 2
    assert driver.sent[0] == driver.sent[1]


def test_a_client_error_is_not_retried_and_names_the_statement() -> None:
    error = ClientError("Node(1) already exists with label `Person`")
    driver = FakeDriver([error])
    runner = DriverRunner(driver, SETTINGS)
    with pytest.raises(StoreError, match=r"load persons: statement 'persons_create' failed"):
        runner.run("persons_create", {"rows": [], "gen": "g"}, operation="load persons", write=True)
    assert len(driver.sent) == 1


def test_a_held_statement_stays_open_without_timeout_then_is_rolled_back() -> None:
    driver = FakeDriver()
    runner = DriverRunner(driver, SETTINGS)
    opened = []

    def guarded() -> None:
        with runner.hold("store_lock", operation="write results"):
            opened.extend(kind for kind, _ in driver.functions)
            raise RuntimeError("the guarded work failed")

    with pytest.raises(RuntimeError):
        guarded()
    assert opened == ["open"]
    (_, (metadata, timeout)), (kind, _) = driver.functions
    # Holding the lock while this run writes is unbounded; the wait for it is bounded apart.
    assert (timeout, kind) == (0, "rollback")
    assert metadata["statement"] == "store_lock"
    assert driver.sent == [(query("store_lock"), {})]


def test_a_held_statement_that_fails_is_a_store_error() -> None:
    driver = FakeDriver([ClientError("no such constraint")])
    runner = DriverRunner(driver, SETTINGS)
    with (
        pytest.raises(StoreError, match=r"write results: statement 'store_lock' failed"),
        runner.hold("store_lock", operation="write results"),
    ):
        pass


def test_a_lost_connection_is_a_store_error_worded_for_a_read_or_a_write() -> None:
    driver = FakeDriver([ServiceUnavailable("gone"), ServiceUnavailable("gone")])
    runner = DriverRunner(driver, SETTINGS)
    with pytest.raises(StoreError, match=r"lost Neo4j at neo4j://127\.0\.0\.1:7687") as read:
        runner.run("state_read", operation="read state")
    assert str(read.value).endswith("it changed nothing: run it again once Neo4j answers")
    with pytest.raises(StoreError) as written:
        runner.run("persons_create", {"rows": [], "gen": "g"}, operation="load persons", write=True)
    assert str(written.value).endswith("nothing after the last committed batch was kept")


@pytest.mark.parametrize(
    ("code", "message"),
    [
        # What a real 5.26 server answered when its disk filled during a load (RESULTS.md,
        # 2026-12-05): the batch being committed, the one beside it, every later statement.
        ("Neo.DatabaseError.Transaction.TransactionCommitFailed",
         "Could not apply the transaction: Transaction #410 to the store after written to log."),
        ("Neo.DatabaseError.Transaction.TransactionLogError",
         "Could not append transaction: Transaction #0 to log."),
        ("Neo.DatabaseError.Transaction.TransactionStartFailed",
         "The database has encountered a critical error, and needs to be restarted. Please see "
         "database logs for more details."),
        # A disk that filled during analyze's write-back, met by the page cache first (no
        # panic in debug.log): that statement and every later read of an evicted page.
        ("Neo.DatabaseError.Statement.ExecutionFailed",
         "java.io.IOException: Exception in the page eviction thread"),
    ],
)  # fmt: skip
def test_a_database_panic_says_to_make_room_and_restart_the_server(code: str, message: str) -> None:
    # The driver's own constructor for a server's FAILURE message.
    panic = neo4j.exceptions.Neo4jError._hydrate_neo4j(code=code, message=message)
    runner = DriverRunner(FakeDriver([panic]), SETTINGS)
    with pytest.raises(StoreError) as failed:
        runner.run("state_read", operation="read state")
    text = str(failed.value)
    assert text.startswith(f"read state: statement 'state_read' failed on {SETTINGS.uri}: {code}")
    assert "most often a full disk" in text
    assert "restart it" in text
    assert "the store holds its last good state" in text


def test_a_server_error_that_is_no_panic_gets_no_restart_advice() -> None:
    other = neo4j.exceptions.Neo4jError._hydrate_neo4j(
        code="Neo.DatabaseError.Statement.ExecutionFailed", message="boom"
    )
    runner = DriverRunner(FakeDriver([other]), SETTINGS)
    with pytest.raises(StoreError) as failed:
        runner.run("state_read", operation="read state")
    assert "restart" not in str(failed.value)


def test_an_unreachable_server_fails_fast_with_its_address() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Neo4jSettings(uri=f"bolt://127.0.0.1:{port}", password="x", max_retry_time=0)
    started = time.perf_counter()
    with pytest.raises(StoreError, match=rf"cannot reach Neo4j at bolt://127\.0\.0\.1:{port}"):
        DriverRunner.connect(settings)
    assert time.perf_counter() - started < 10


def test_the_driver_marks_the_metadata_decorator_we_rely_on() -> None:
    @neo4j.unit_of_work(timeout=1.5, metadata={"a": 1})
    def work(tx: object) -> None:
        return None

    assert (work.timeout, work.metadata) == (1.5, {"a": 1})


class LockServer:
    """A driver whose store lock is held by another run: the lock statement blocks until its
    transaction is ended (then fails, as the server's blocked MERGE does) or until
    ``granted`` is set (then returns: the lock came). Looks and ends go through the runner's
    managed transactions, answered here by statement."""

    def __init__(self, *, fail_when_ended: bool = True) -> None:
        self.fail_when_ended = fail_when_ended
        self.ended = threading.Event()
        self.granted = threading.Event()
        self.token = ""
        self.ends: list[list[str]] = []
        self.rolled_back = 0

    def session(self, database: str) -> LockServer:
        return self

    def __enter__(self) -> LockServer:
        return self

    def __exit__(self, *_: object) -> None:
        pass

    def begin_transaction(self, metadata: dict[str, Any], timeout: float | None) -> LockServer:
        self.token = metadata["waiter"]
        return self

    def run(self, text: str, params: dict[str, Any]) -> LockServer:
        if text == query("store_lock"):
            # Before the lock wait, nothing ended this: the other run finished after 10 s.
            self.ended.wait(10)
            if self.ended.is_set() and self.fail_when_ended:
                raise TransientError("LockClientStopped")
        return self

    def consume(self) -> None:
        pass

    def rollback(self) -> None:
        self.rolled_back += 1

    def execute_read(self, work: Any) -> Any:
        return work(self.Managed(self))

    execute_write = execute_read

    class Managed:
        def __init__(self, server: LockServer) -> None:
            self.server = server

        def run(self, text: str, params: dict[str, Any]) -> FakeResult:
            if text == query("store_lock_give_up"):
                self.server.ends.append(params["ids"])
                self.server.ended.set()
                return FakeResult([])
            assert text == query("store_lock_transactions")
            meta = {"app": "relgraph", "statement": "store_lock"}
            return FakeResult(
                [
                    {"transactionId": "neo4j-transaction-4", "clientAddress": "10.0.0.5:5000",
                     "metaData": {**meta, "operation": "load (generation g1)"},
                     "elapsedTime": 600, "status": "Running"},
                    {"transactionId": "neo4j-transaction-5", "clientAddress": "10.0.0.6:5001",
                     "metaData": {**meta, "operation": "write results",
                                  "waiter": self.server.token},
                     "elapsedTime": 1, "status": "Blocked by: [neo4j-transaction-4]"},
                ]
            )  # fmt: skip


def test_a_hold_that_waits_past_the_lock_wait_says_so_and_gives_up() -> None:
    server, told = LockServer(), []
    # Past the first look (half a second), which says that it waits, and for whom.
    runner = DriverRunner(server, replace(SETTINGS, lock_wait=1.0), on_wait=told.append)
    guarded = []
    with (
        pytest.raises(StoreError) as caught,
        runner.hold("store_lock", operation="write results"),
    ):
        guarded.append("written")
    assert guarded == []
    assert told[0].startswith(
        "write results: waiting for the Neo4j store lock held by load (generation g1), "
        "10.0.0.5:5000, running for 10 min 0 s (transaction neo4j-transaction-4)"
    )
    # Only its own waiting transaction is ended.
    assert server.ends == [["neo4j-transaction-5"]]
    message = str(caught.value)
    assert message.startswith("write results: gave up waiting for the Neo4j store lock after ")
    assert "TERMINATE TRANSACTION 'neo4j-transaction-4'" in message


def test_a_lock_that_came_as_the_wait_was_given_up_is_not_written_under() -> None:
    # The lock is granted in the moment the watcher ends the transaction: the statement
    # returns, but the transaction is ended, so the run must not go on as if it held it.
    server = LockServer(fail_when_ended=False)
    runner = DriverRunner(server, replace(SETTINGS, lock_wait=0.3), on_wait=lambda _: None)
    guarded = []
    with (
        pytest.raises(StoreError, match="gave up waiting for the Neo4j store lock"),
        runner.hold("store_lock", operation="write results"),
    ):
        guarded.append("written")
    assert guarded == []
    assert server.rolled_back == 1


TERMINATED = ClientError("The transaction has been terminated. Explicitly terminated by the user.")


def test_each_write_under_a_hold_checks_the_lock_in_its_transaction_before_it_commits() -> None:
    driver = FakeDriver()
    runner = DriverRunner(driver, SETTINGS)
    batch = {"rows": [{"person_id": "P1"}], "gen": "g"}
    with runner.hold("store_lock", operation="load (generation g)"):
        runner.run("persons_create", batch, operation="load persons", write=True)
        runner.run("state_read", operation="read state")  # reads publish nothing: unchecked
    # The batch ran, then the check in the lock's transaction, then the batch committed.
    assert [text for text, _ in driver.sent] == [
        query("store_lock"),
        query("persons_create"),
        query("store_lock_check"),
        query("state_read"),
    ]
    assert driver.commits == 2
    # Outside a hold nothing is checked.
    runner.run("persons_create", batch, operation="load persons", write=True)
    assert driver.sent[-1][0] == query("persons_create")


def test_a_write_after_the_lock_was_ended_is_rolled_back_and_stops_the_run() -> None:
    driver = FakeDriver()
    runner = DriverRunner(driver, SETTINGS)
    batch = {"rows": [{"person_id": "P1"}], "gen": "g"}
    with runner.hold("store_lock", operation="load (generation g)"):
        runner.run("persons_create", batch, operation="load persons", write=True)
        driver.lock_ended = TERMINATED  # an operator's TERMINATE TRANSACTION, the run paused
        for statement in ("persons_create", "state_commit_load"):
            with pytest.raises(LockLostError) as caught:
                runner.run(statement, {"gen": "g"}, operation="load", write=True)
            assert str(caught.value).startswith(
                "load (generation g): the Neo4j store lock was taken from this run while it "
                "wrote (its lock transaction was ended: "
            )
            assert f"so {statement!r} was rolled back and this run stopped" in str(caught.value)
        # The first lost write was not committed, and the second never asked the server again.
        assert driver.commits == 1
        checks = [text for text, _ in driver.sent if text == query("store_lock_check")]
        assert len(checks) == 2
    # The server ended the lock's transaction itself: no rollback of it is attempted.
    assert ("rollback", None) not in driver.functions
    assert isinstance(caught.value, StoreError)


def test_a_lock_check_on_a_stopped_database_says_restart_not_lost_lock() -> None:
    # A real server whose disk filled answers every statement so, the lock check too.
    driver = FakeDriver()
    runner = DriverRunner(driver, SETTINGS)
    with runner.hold("store_lock", operation="load (generation g)"):
        driver.lock_ended = neo4j.exceptions.Neo4jError._hydrate_neo4j(
            code="Neo.DatabaseError.Transaction.TransactionStartFailed",
            message="The database has encountered a critical error, and needs to be restarted.",
        )
        with pytest.raises(StoreError) as caught:
            runner.run("persons_create", {"gen": "g"}, operation="load", write=True)
    assert not isinstance(caught.value, LockLostError)
    assert "checking the store lock before 'persons_create' failed" in str(caught.value)
    assert "most often a full disk" in str(caught.value)
    assert "was taken from this run" not in str(caught.value)
    assert driver.commits == 0
