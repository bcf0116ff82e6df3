"""Waiting for the store lock: who holds it, said at once and every half minute, and an end.

The lock (``cypher/store_lock.cypher``) is a ``MERGE`` that blocks in the server while another
run's open transaction holds it. That transaction has no timeout, because it holds the lock for
the whole load; the server therefore bounds neither the hold nor a wait for it, and a second
run used to hang without a word. :class:`LockWait` watches the wait from a thread of its own:
it looks at ``SHOW TRANSACTIONS`` (every user sees their own transactions, on Community edition
too), finds the waiting transaction by a token in its metadata and what blocks it, says so, and
at the deadline ends its *own* transaction (``TERMINATE TRANSACTION``), which fails the blocked
``MERGE``. The holder is never touched: only the wait is bounded.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final

from relgraph.store.base import StoreError

log = logging.getLogger(__name__)

LOCK_WAIT_ENV: Final = "RELGRAPH_NEO4J_LOCK_WAIT"
WAITER_KEY: Final = "waiter"
"""The metadata key of a waiting transaction's token: how the watcher finds its own."""
FIRST_LOOK: Final = 0.5
"""Seconds before the first look: the lock is free nearly always, and then taken in
milliseconds; a wait longer than this is said at once."""
EVERY: Final = 30.0
"""Seconds between the progress lines of a long wait."""
UNSEEN_GRACE: Final = 5.0
"""Seconds a wait goes unannounced while the server does not (yet) show it blocked."""

_TRANSACTION_ID = re.compile(r"[\w.-]+-transaction-\d+")


@dataclass(frozen=True)
class Transaction:
    """One row of ``SHOW TRANSACTIONS``, as far as the lock wait needs it."""

    id: str
    operation: str
    """What relgraph was doing (its metadata), or "" for a transaction not relgraph's."""
    statement: str
    client: str
    seconds: float
    blocked_by: tuple[str, ...]
    """Transactions it waits for (its status "Blocked by: [...]")."""
    token: str


def seconds_of(value: Any) -> float:
    """A driver ``Duration`` (or a number of seconds) in seconds.

    >>> seconds_of(90)
    90.0
    """
    if isinstance(value, int | float):
        return float(value)
    days = getattr(value, "days", 0) + 30 * getattr(value, "months", 0)
    nanoseconds = getattr(value, "nanoseconds", 0)
    return float(days * 86_400 + getattr(value, "seconds", 0) + nanoseconds / 1e9)


def transactions(rows: Sequence[Mapping[Any, Any]]) -> list[Transaction]:
    """The transactions in the rows of ``store_lock_transactions``."""
    found = []
    for row in rows:
        given = row.get("metaData")
        meta: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
        status = row.get("status")
        ours = meta.get("app") == "relgraph"
        found.append(
            Transaction(
                id=str(row.get("transactionId") or ""),
                operation=str(meta.get("operation") or "") if ours else "",
                statement=str(meta.get("statement") or "") if ours else "",
                client=str(row.get("clientAddress") or ""),
                seconds=seconds_of(row.get("elapsedTime") or 0),
                blocked_by=tuple(_TRANSACTION_ID.findall(status))
                if isinstance(status, str) and status.startswith("Blocked")
                else (),
                token=str(meta.get(WAITER_KEY) or "") if ours else "",
            )
        )
    return found


def find_wait(
    seen: Sequence[Transaction], token: str
) -> tuple[Transaction | None, Transaction | None]:
    """The waiting transaction of ``token`` and the transaction that holds what it waits for.

    The holder is the first of those its status says it waits for; when the status names none
    (not yet blocked) or none of them can be seen, another relgraph transaction on the same
    statement that is not waiting itself (the lock's holder carries its metadata).
    """
    own = next((t for t in seen if token and t.token == token), None)
    if own is None:
        return None, None
    by_id = {t.id: t for t in seen}
    named = [by_id[i] for i in own.blocked_by if i in by_id and i != own.id]
    if named:
        return own, named[0]
    alike = [
        t
        for t in seen
        if t.id != own.id and t.statement == own.statement and t.statement and not t.blocked_by
    ]
    return own, (max(alike, key=lambda t: t.seconds) if alike else None)


def duration(seconds: float) -> str:
    """Seconds as a person reads them.

    >>> duration(7.4), duration(252), duration(3 * 3600 + 125)
    ('7 s', '4 min 12 s', '3 h 02 min')
    """
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def holder_text(holder: Transaction | None) -> str:
    """Who holds the lock: its operation, client address, how long it has run, and its id.

    >>> holder_text(Transaction("neo4j-transaction-7", "load (generation 7)", "store_lock",
    ...                         "10.1.2.3:51234", 312.0, (), ""))
    'load (generation 7), 10.1.2.3:51234, running for 5 min 12 s (transaction neo4j-transaction-7)'
    >>> holder_text(None)
    'another transaction'
    """
    if holder is None:
        # Another user's transaction on an Enterprise server without SHOW TRANSACTION rights.
        return "another transaction"
    what = holder.operation or "a transaction not started by relgraph"
    where = holder.client or "client address unknown"
    return f"{what}, {where}, running for {duration(holder.seconds)} (transaction {holder.id})"


def gave_up_text(operation: str, holder: Transaction | None, waited: float, limit: float) -> str:
    """The error of a run that stopped waiting: who holds the lock, the wait, what to do."""
    if holder is None:
        end = "find it with SHOW TRANSACTIONS and end it with TERMINATE TRANSACTION"
    else:
        end = f"end it with TERMINATE TRANSACTION '{holder.id}'"
    return (
        f"{operation}: gave up waiting for the Neo4j store lock after {duration(waited)} "
        f"({LOCK_WAIT_ENV} is {limit:g} s); it is held by {holder_text(holder)}. Nothing was "
        "written. Wait for that run to finish and run again; if its process is gone or hung, "
        f"{end}; or raise {LOCK_WAIT_ENV}"
    )


class LockWait:
    """Watches one lock statement while it waits; ``with`` it around the statement.

    Parameters
    ----------
    token : str
        The ``waiter`` metadata of the waiting transaction.
    operation : str
        What the run is doing, for the lines it says (``load (generation 7)``).
    limit : float
        Seconds to wait before giving up (``RELGRAPH_NEO4J_LOCK_WAIT``; ``inf``: none).
    look : callable
        The server's transactions now (``SHOW TRANSACTIONS``).
    end : callable
        Ends the transaction of the given id (``TERMINATE TRANSACTION``).
    tell : callable
        Where the waiting lines go (the CLI's stderr).
    """

    def __init__(
        self,
        *,
        token: str,
        operation: str,
        limit: float,
        look: Callable[[], list[Transaction]],
        end: Callable[[str], None],
        tell: Callable[[str], None],
        first_look: float = FIRST_LOOK,
        every: float = EVERY,
    ) -> None:
        self.token, self.operation, self.limit = token, operation, limit
        self.look, self.end, self.tell = look, end, tell
        self.first_look, self.every = first_look, every
        self.failure: str | None = None
        """The error to raise once the watcher has given up (set before it ends the wait)."""
        self._finished = threading.Event()
        # Held while giving up, so that the statement's return and the watcher's TERMINATE
        # are ordered: a run never goes on with a transaction the watcher ended.
        self._mutex = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name="relgraph-lock-wait", daemon=True)

    def __enter__(self) -> LockWait:
        self._began = time.monotonic()
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with self._mutex:
            self._finished.set()
        self._thread.join()

    def _watch(self) -> None:
        deadline = self._began + self.limit
        wake = min(self._began + self.first_look, deadline)
        announced = False
        while not self._finished.wait(max(0.0, wake - time.monotonic())):
            now = time.monotonic()
            waited = now - self._began
            try:
                own, holder = find_wait(self.look(), self.token)
            except StoreError as exc:
                # The server is slow to answer or went away (then the statement fails too).
                log.warning("%s: cannot see who holds the store lock: %s", self.operation, exc)
                wake = now + (self.every if announced and now < deadline else self.first_look)
                continue
            if now >= deadline:
                # Only a wait the server shows: at a limit of 0 the first look can come while
                # the statement is still on its way to a free lock. (A wait never shown blocked
                # is ended a little later all the same.)
                shown = own is not None and (own.blocked_by or now >= deadline + UNSEEN_GRACE)
                if own is not None and shown and self._give_up(own, holder, waited):
                    return
                wake = now + self.first_look  # not seen, or not ended yet: look again
                continue
            if announced:
                self.tell(
                    f"{self.operation}: still waiting for the Neo4j store lock after "
                    f"{duration(waited)}, held by {holder_text(holder)}; {self._bound()}"
                )
            elif (
                holder is not None
                or (own is not None and own.blocked_by)
                or (waited >= UNSEEN_GRACE)
            ):
                announced = True
                self.tell(
                    f"{self.operation}: waiting for the Neo4j store lock held by "
                    f"{holder_text(holder)}; {self._bound()}"
                )
            else:
                # Not shown blocked yet (the statement may be about to return): look again.
                wake = min(now + self.first_look, deadline)
                continue
            wake = min(now + self.every, deadline)

    def _bound(self) -> str:
        if math.isinf(self.limit):
            return f"no limit ({LOCK_WAIT_ENV} is inf)"
        return f"giving up after {duration(self.limit)} ({LOCK_WAIT_ENV})"

    def _give_up(self, own: Transaction, holder: Transaction | None, waited: float) -> bool:
        """End the waiting transaction unless the statement returned; True once ended."""
        with self._mutex:
            if self._finished.is_set():
                return True
            self.failure = gave_up_text(self.operation, holder, waited, self.limit)
            try:
                self.end(own.id)
            except StoreError as exc:
                log.warning("%s: ending the wait failed: %s", self.operation, exc)
                return False
            return True
