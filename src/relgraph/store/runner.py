"""The seam to Neo4j: run a named Cypher statement, get a DataFrame (tests swap in a recorder)."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from relgraph.store.base import StoreError, StoreUnreachableError
from relgraph.store.cypher import query
from relgraph.store.lock_wait import WAITER_KEY, LockWait, Transaction, transactions

if TYPE_CHECKING:
    import neo4j

    from relgraph.config import Neo4jSettings

APP_NAME = "relgraph"

CONNECT_SECONDS = 15.0
"""Seconds to open a connection and have the server's Bolt handshake. A server that answers
at all does in milliseconds; the driver's default (a 60 s connection acquisition deadline)
kept a command on one that took the connection and never answered (a stopped JVM, a port
of another service) for 62 s before its error."""

log = logging.getLogger(__name__)


class LockLostError(StoreError):
    """The store lock a run held was taken from it (its transaction ended) while it wrote:
    the write that found out was rolled back, and the run must stop without publishing."""


class ServerStorageError(StoreError):
    """The server could not write its database (most often a full disk): this statement, and
    maybe every later one, fails until it has room and is restarted. ``failure`` says what
    failed, without the advice the message ends with."""

    def __init__(self, failure: str) -> None:
        super().__init__(f"{failure.rstrip('.')}. {PANIC_HINT}")
        self.failure = failure
        self.cause = PANIC_CAUSE
        """What the server did, as a sentence (no advice)."""


class QueryRunner(Protocol):
    """Runs one statement of ``relgraph/cypher/`` in its own transaction."""

    def run(
        self,
        statement: str,
        params: Mapping[str, Any] | None = None,
        *,
        operation: str,
        write: bool = False,
    ) -> pd.DataFrame:
        """Run ``cypher/<statement>.cypher`` with ``params``; rows as a DataFrame.

        ``operation`` names the relgraph operation (``load customers``); it travels as
        transaction metadata, so a DBA sees in ``SHOW TRANSACTIONS`` and the query log
        what relgraph was doing.
        """
        ...

    def hold(
        self, statement: str, params: Mapping[str, Any] | None = None, *, operation: str
    ) -> AbstractContextManager[None]:
        """Run ``cypher/<statement>.cypher`` in a write transaction kept open for the ``with``
        block, then rolled back: the locks it took are held until then.

        A lock across many transactions that the server gives up by itself when the process
        dies (its connection closes, its transaction is rolled back), so a crashed run never
        leaves it taken. While another run holds it, the wait is said at once and every half
        minute, and given up (:class:`StoreError`, nothing held) after
        ``RELGRAPH_NEO4J_LOCK_WAIT`` seconds.

        Every write run in the block first checks, just before it commits, that the lock is
        still held; when an operator ended the lock's transaction meanwhile (a holder that
        was only paused), the write is rolled back and :class:`LockLostError` raised.
        """
        ...

    def close(self) -> None: ...


class DriverRunner:
    """A :class:`QueryRunner` over the official driver: managed transactions, retried.

    ``execute_write``/``execute_read`` retry transient failures (leader switch,
    deadlock, lost connection) for up to ``max_retry_time`` seconds, which is safe
    because every write statement is an idempotent ``MERGE``; each transaction has
    the configured timeout and metadata naming the operation and the statement.
    """

    def __init__(
        self,
        driver: neo4j.Driver,
        settings: Neo4jSettings,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        self.driver = driver
        self.settings = settings
        self.on_wait = on_wait or log.warning
        """Told, in a sentence, that a :meth:`hold` waits for another run and for whom."""
        self._held: _Held | None = None
        """The store lock this runner holds now (writes check it before they commit)."""

    @classmethod
    def connect(
        cls, settings: Neo4jSettings, on_wait: Callable[[str], None] | None = None
    ) -> DriverRunner:
        """Open a driver to ``settings.uri`` and check the server answers."""
        import neo4j  # only the Neo4j store loads the driver

        try:
            driver = neo4j.GraphDatabase.driver(
                settings.uri,
                auth=(settings.username, settings.password),
                max_transaction_retry_time=settings.max_retry_time,
                user_agent=APP_NAME,
                connection_timeout=CONNECT_SECONDS,
                # Also how long a statement waits for a pooled connection; relgraph keeps
                # RELGRAPH_NEO4J_WRITERS + 2 at most, far under the pool's 100.
                connection_acquisition_timeout=CONNECT_SECONDS,
                # The state read on a database that has never held a load asks for properties
                # nobody has written yet; the server's "property key does not exist" warnings
                # reached the user's terminal as driver log lines on the first load. The
                # statements are checked by Neo4j's parser (cypher lint) and the real-server
                # tests instead.
                notifications_disabled_classifications=[
                    neo4j.NotificationDisabledClassification.UNRECOGNIZED
                ],
            )
            driver.verify_connectivity()
        except neo4j.exceptions.AuthError as exc:
            # The driver's own text names a security code, not the setting to fix.
            raise StoreError(
                f"Neo4j at {settings.uri} refused user {settings.username!r}: "
                "check NEO4J_USERNAME and NEO4J_PASSWORD."
            ) from exc
        except (neo4j.exceptions.ServiceUnavailable, neo4j.exceptions.SessionExpired) as exc:
            # Down, restarting, or no Bolt server at that address: one line (the driver's text
            # spans two), and one that may pass (a server's refresh tries again).
            raise StoreUnreachableError(
                f"cannot reach Neo4j at {settings.uri}: {one_line(exc)}; is it running, and "
                "is NEO4J_URI its Bolt address?"
            ) from exc
        except (neo4j.exceptions.DriverError, neo4j.exceptions.Neo4jError, ValueError) as exc:
            raise StoreError(f"cannot reach Neo4j at {settings.uri}: {one_line(exc)}") from exc
        return cls(driver, settings, on_wait)

    def run(
        self,
        statement: str,
        params: Mapping[str, Any] | None = None,
        *,
        operation: str,
        write: bool = False,
    ) -> pd.DataFrame:
        import neo4j  # only the Neo4j store loads the driver

        text = query(statement)
        values = dict(params or {})
        held = self._held if write else None

        @neo4j.unit_of_work(
            timeout=self.settings.tx_timeout,
            metadata={"app": APP_NAME, "operation": operation, "statement": statement},
        )
        def work(tx: neo4j.ManagedTransaction) -> list[dict[str, Any]]:
            rows = tx.run(text, values).data()
            if held is not None:
                # After the write, before its commit: a lock lost meanwhile rolls it back
                # (LockLostError is no driver error: the managed call neither retries it nor
                # commits). Only the instant between this check and the commit is left.
                held.check(statement)
            return rows

        try:
            with self.driver.session(database=self.settings.database) as session:
                rows = session.execute_write(work) if write else session.execute_read(work)
        except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError) as exc:
            raise self._failed(exc, statement, operation, write=write) from exc
        return pd.DataFrame.from_records(rows)

    @contextmanager
    def hold(
        self, statement: str, params: Mapping[str, Any] | None = None, *, operation: str
    ) -> Iterator[None]:
        import neo4j  # only the Neo4j store loads the driver

        token = uuid.uuid4().hex
        metadata = {"app": APP_NAME, "operation": operation, "statement": statement}
        wait = LockWait(
            token=token,
            operation=operation,
            limit=self.settings.lock_wait,
            look=lambda: self._transactions(operation),
            end=lambda transaction: self._end(transaction, operation),
            tell=self.on_wait,
        )
        with self.driver.session(database=self.settings.database) as session:
            try:
                # No timeout (0): the transaction holds the lock for as long as this run
                # writes (a whole load). The wait for it is bounded by `wait` instead, which
                # ends this transaction, never the holder's. Not a managed transaction: those
                # commit when their function returns.
                tx = session.begin_transaction(metadata={**metadata, WAITER_KEY: token}, timeout=0)
                with wait:
                    tx.run(query(statement), dict(params or {})).consume()
            except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError) as exc:
                if wait.failure is not None:
                    raise StoreError(wait.failure) from exc
                raise self._failed(exc, statement, operation) from exc
            if wait.failure is not None:
                # Ended just as the lock was granted: it is not held, so nothing may be written.
                self._release(tx, statement, operation)
                raise StoreError(wait.failure)
            held = _Held(tx, operation)
            self._held = held
            try:
                yield
            finally:
                self._held = None
                if held.lost is None:
                    self._release(tx, statement, operation)
                # else: the server already ended it; the driver refuses a rollback of it.

    def _release(self, tx: neo4j.Transaction, statement: str, operation: str) -> None:
        import neo4j  # only the Neo4j store loads the driver

        try:
            tx.rollback()
        except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError) as exc:
            # The work it guarded is done (or failed with its own error); the server
            # rolls back a transaction whose connection is gone.
            log.warning("%s: releasing %s failed: %s", operation, statement, one_line(exc))

    def _transactions(self, operation: str) -> list[Transaction]:
        """The database's transactions this user may see, for a :meth:`hold` that waits."""
        # A write transaction, as the hold's: in a cluster SHOW TRANSACTIONS (and TERMINATE)
        # see the server they run on, and the lock is on the database's writer.
        frame = self.run(
            "store_lock_transactions",
            {"database": self.settings.database},
            operation=f"{operation}: see who holds the store lock",
            write=True,
        )
        return transactions(frame.to_dict("records"))

    def _end(self, transaction: str, operation: str) -> None:
        """End this process's own waiting transaction (the lock wait gave up)."""
        self.run(
            "store_lock_give_up",
            {"ids": [transaction]},
            operation=f"{operation}: stop waiting for the store lock",
            write=True,
        )

    def _failed(
        self, exc: Exception, statement: str, operation: str, *, write: bool = True
    ) -> StoreError:
        """The :class:`StoreError` a driver or server error of ``statement`` becomes."""
        import neo4j  # only the Neo4j store loads the driver

        if isinstance(exc, neo4j.exceptions.Neo4jError):
            if (exc.code or "").endswith(".DatabaseNotFound"):
                # Any statement's, the first one a command runs: the setting, not the statement.
                return StoreError(
                    f"Neo4j at {self.settings.uri} has no database {self.settings.database!r} "
                    "(NEO4J_DATABASE): set it to one the server has (SHOW DATABASES lists "
                    "them; Community edition has one, 'neo4j')"
                )
            stopped = _stopped(exc.code or "")
            if stopped is not None:
                # The server's text ("terminated ... retry") does not say which knob to turn.
                return StoreError(
                    f"{operation}: statement {statement!r} {stopped} on {self.settings.uri} and "
                    f"was rolled back (RELGRAPH_NEO4J_TX_TIMEOUT is "
                    f"{self.settings.tx_timeout:g} s): raise RELGRAPH_NEO4J_TX_TIMEOUT, lower "
                    "RELGRAPH_NEO4J_BATCH_SIZE, or look for a transaction holding locks "
                    "(SHOW TRANSACTIONS)"
                )
            failed = (
                f"{operation}: statement {statement!r} failed on {self.settings.uri}: "
                f"{exc.code}: {one_line(exc.message or '')}"
            )
            if _panicked(exc.code or "", exc.message or ""):
                return ServerStorageError(failed)
            return StoreError(failed)
        lost = (
            StoreUnreachableError
            if isinstance(
                exc, (neo4j.exceptions.ServiceUnavailable, neo4j.exceptions.SessionExpired)
            )
            else StoreError
        )
        # A read changed nothing: a writer's wording ("batch … kept") sent a reader looking
        # for damage that is not there.
        outcome = (
            "nothing after the last committed batch was kept"
            if write
            else "it changed nothing: run it again once Neo4j answers"
        )
        return lost(f"{operation}: lost Neo4j at {self.settings.uri} ({one_line(exc)}); {outcome}")

    def close(self) -> None:
        self.driver.close()


class _Held:
    """The open transaction of a :meth:`DriverRunner.hold`, checked by the writes under it.

    The writes may run in several threads (``RELGRAPH_NEO4J_WRITERS``); one transaction takes
    one statement at a time, so the checks take turns.
    """

    def __init__(self, tx: neo4j.Transaction, operation: str) -> None:
        self.tx, self.operation = tx, operation
        self.lost: str | None = None
        """Why the lock is known to be lost (the check's error), once it is."""
        self._turn = threading.Lock()

    def check(self, statement: str) -> None:
        """Return if the lock is still held; else :class:`LockLostError`."""
        import neo4j  # only the Neo4j store loads the driver

        with self._turn:
            if self.lost is None:
                try:
                    record = self.tx.run(query("store_lock_check"), {}).single()
                    if record is None:
                        self.lost = "its lock node is gone"
                except neo4j.exceptions.Neo4jError as exc:
                    if _panicked(exc.code or "", exc.message or ""):
                        # Not a lost lock: the server stopped the database (a full disk).
                        raise ServerStorageError(
                            f"{self.operation}: checking the store lock before {statement!r} "
                            f"failed: {exc.code}: {one_line(exc.message or '')}"
                        ) from exc
                    # The code says it (…Transaction.Terminated); the server's text adds "retry".
                    self.lost = exc.code or one_line(exc)
                except neo4j.exceptions.DriverError as exc:
                    self.lost = one_line(exc)
            if self.lost is not None:
                raise LockLostError(
                    f"{self.operation}: the Neo4j store lock was taken from this run while it "
                    f"wrote (its lock transaction was ended: {self.lost}); another run may hold "
                    f"it and write now, so {statement!r} was rolled back and this run stopped"
                )


def one_line(text: object) -> str:
    """An error's text on one line: the driver's and GDS client's messages span lines."""
    return " ".join(str(text).split())


PANIC_CAUSE = (
    "The Neo4j server could not write its database (most often a full disk; its "
    "logs/debug.log says) and fails every statement that needs to, or stopped the database "
    "(a database panic)"
)
PANIC_HINT = (
    f"{PANIC_CAUSE}. Give it room, restart it, and run the command again: after the restart "
    "the store holds its last good state"
)
"""What to do after a database panic or a page the server could not flush (measured on a
real server whose disk filled during a load and during analyze's results write: later
statements failed until a restart, which recovered the last good state)."""


def _panicked(code: str, message: str) -> bool:
    """Whether the server's error says it could not write its database: a failed append to
    the transaction log or apply to the store (a full disk), any statement after that, or a
    page it could not flush to its store files (a full disk that the page cache met first:
    every statement touching pages fails so, without a panic in the log)."""
    return (
        code.endswith((".TransactionLogError", ".TransactionCommitFailed"))
        or "needs to be restarted" in message
        or "page eviction thread" in message
        or "No space left on device" in message
    )


def _stopped(code: str) -> str | None:
    """What a code that means "the server stopped the transaction" says happened, else None.

    A statement that runs past its timeout fails with ``TransactionTimedOut…``; one that is
    still waiting for a lock at that moment (another transaction holds it) with
    ``LockClientStopped``, which an operator's ``TERMINATE TRANSACTION`` also gives.
    """
    if "TransactionTimedOut" in code:
        return "ran longer than its transaction timeout"
    if "LockClientStopped" in code:
        return "was stopped while it waited for a lock (transaction timeout, or terminated)"
    return None
