"""The store lock's wait: said at once with the holder, repeated, given up at the limit by
ending the waiting transaction only (relgraph.store.lock_wait), on a stand-in for the server's
``SHOW TRANSACTIONS`` and ``TERMINATE TRANSACTION``."""

from __future__ import annotations

import threading
import time
from typing import Any

from relgraph.store.base import StoreError
from relgraph.store.lock_wait import LockWait, find_wait, transactions
from tests.waits import until

TOKEN = "7f3a"
HOLDER: dict[str, Any] = {
    "transactionId": "neo4j-transaction-7",
    "metaData": {"app": "relgraph", "operation": "load (generation 7)", "statement": "store_lock"},
    "clientAddress": "10.0.0.5:50000",
    "elapsedTime": 75,
    "status": "Running",
}


def waiting(status: str = "Blocked by: [neo4j-transaction-7]") -> dict[str, Any]:
    meta = {"app": "relgraph", "operation": "write results (run r1)", "statement": "store_lock"}
    return {
        "transactionId": "neo4j-transaction-9",
        "metaData": {**meta, "waiter": TOKEN},
        "clientAddress": "10.0.0.6:50001",
        "elapsedTime": 1,
        "status": status,
    }


class Server:
    """Answers each look with the next snapshot (the last one from then on); an ended
    transaction's statement fails at once, as the blocked MERGE does."""

    def __init__(self, *snapshots: list[dict[str, Any]]) -> None:
        self.snapshots = list(snapshots)
        self.looks = 0
        self.ended: list[str] = []
        self.stopped = threading.Event()

    def look(self) -> list[Any]:
        self.looks += 1
        rows = self.snapshots.pop(0) if len(self.snapshots) > 1 else self.snapshots[0]
        return transactions(rows)

    def end(self, transaction: str) -> None:
        self.ended.append(transaction)
        self.stopped.set()


def watch(server: Server, limit: float, told: list[str], every: float = 0.1) -> LockWait:
    return LockWait(
        token=TOKEN,
        operation="write results (run r1)",
        limit=limit,
        look=server.look,
        end=server.end,
        tell=told.append,
        first_look=0.02,
        every=every,
    )


def test_a_wait_is_said_at_once_with_its_holder_repeated_and_given_up_at_the_limit() -> None:
    server, told = Server([HOLDER, waiting()]), []
    began = time.monotonic()
    with watch(server, 0.5, told) as wait:
        assert server.stopped.wait(10)  # the blocked statement, until its transaction is ended
    waited = time.monotonic() - began
    assert 0.5 <= waited < 5
    assert told[0] == (
        "write results (run r1): waiting for the Neo4j store lock held by load (generation 7), "
        "10.0.0.5:50000, running for 1 min 15 s (transaction neo4j-transaction-7); giving up "
        "after 0 s (RELGRAPH_NEO4J_LOCK_WAIT)"
    )
    assert len(told) >= 3
    assert all("still waiting for the Neo4j store lock" in line for line in told[1:])
    assert all("held by load (generation 7)" in line for line in told[1:])
    # Its own transaction is ended, never the holder's.
    assert server.ended == ["neo4j-transaction-9"]
    assert wait.failure is not None
    assert wait.failure.startswith(
        "write results (run r1): gave up waiting for the Neo4j store lock after "
    )
    for part in (
        "(RELGRAPH_NEO4J_LOCK_WAIT is 0.5 s)",
        "it is held by load (generation 7), 10.0.0.5:50000",
        "Nothing was written",
        "TERMINATE TRANSACTION 'neo4j-transaction-7'",
        "or raise RELGRAPH_NEO4J_LOCK_WAIT",
    ):
        assert part in wait.failure


def test_a_free_lock_says_nothing_and_looks_at_nothing() -> None:
    server, told = Server([HOLDER]), []
    with watch(server, 3600, told) as wait:
        pass  # the statement took the lock at once
    assert (told, server.looks, server.ended, wait.failure) == ([], 0, [], None)


def test_a_holder_this_user_cannot_see_is_another_transaction() -> None:
    server, told = Server([waiting("Blocked by: [neo4j-transaction-3]")]), []
    with watch(server, 0.2, told) as wait:
        assert server.stopped.wait(10)
    assert told[0].startswith(
        "write results (run r1): waiting for the Neo4j store lock held by another transaction;"
    )
    assert wait.failure is not None
    assert "it is held by another transaction" in wait.failure
    assert "find it with SHOW TRANSACTIONS and end it with TERMINATE TRANSACTION" in wait.failure


def test_no_wait_ends_only_a_transaction_the_server_shows_blocked() -> None:
    # At a limit of 0 the first look comes at once; the statement is still on its way (the
    # server shows it running): it is not ended until it is shown waiting.
    server, told = Server([HOLDER, waiting("Running")], [HOLDER, waiting()]), []
    with watch(server, 0, told) as wait:
        assert server.stopped.wait(10)
    assert server.looks >= 2
    assert server.ended == ["neo4j-transaction-9"]
    assert wait.failure is not None
    assert "after 0 s (RELGRAPH_NEO4J_LOCK_WAIT is 0 s)" in wait.failure


def test_a_look_that_fails_is_tried_again() -> None:
    failures = [StoreError("lost Neo4j")]
    server, told = Server([HOLDER, waiting()]), []

    def look() -> list[Any]:
        if failures:
            raise failures.pop()
        return server.look()

    wait = LockWait(token=TOKEN, operation="load", limit=0.1, look=look, end=server.end,
                    tell=told.append, first_look=0.02)  # fmt: skip
    with wait:
        assert server.stopped.wait(10)
    assert server.ended == ["neo4j-transaction-9"]


def test_the_holder_is_found_by_the_status_else_by_its_statement() -> None:
    seen = transactions([HOLDER, waiting()])
    own, holder = find_wait(seen, TOKEN)
    assert own is not None
    assert own.blocked_by == ("neo4j-transaction-7",)
    assert holder is not None
    assert holder.operation == "load (generation 7)"
    assert holder.seconds == 75
    # Not (yet) shown blocked: the relgraph transaction on the same statement that is not
    # waiting itself holds it.
    _, holder = find_wait(transactions([HOLDER, waiting("Running")]), TOKEN)
    assert holder is not None
    assert holder.id == "neo4j-transaction-7"
    # Another process's metadata is not relgraph's: no operation is read from it.
    other = {**HOLDER, "metaData": {"operation": "mine"}}
    _, holder = find_wait(transactions([other, waiting()]), TOKEN)
    assert holder is not None
    assert holder.operation == ""
    assert find_wait(seen, "another token") == (None, None)


def test_an_unbounded_wait_says_so_and_never_ends_the_transaction() -> None:
    server, told = Server([HOLDER, waiting()]), []
    with watch(server, float("inf"), told, every=0.05):
        # The statement waits (past the announcement and a repeat of it); then the holder
        # lets go and it returns. A fixed 0.3 s pause saw one line when the watcher ran late.
        until(lambda: len(told) >= 2, "the wait announced and repeated")
    assert server.ended == []
    assert told[0].endswith("; no limit (RELGRAPH_NEO4J_LOCK_WAIT is inf)")
    assert len(told) >= 2
