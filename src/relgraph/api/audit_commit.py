"""Group commit for the audit log: callers queue lines, one writer thread commits them.

Whoever queues a line gets a :class:`Commit` and waits on it, from a thread
(:meth:`Commit.wait`) or from the event loop (:meth:`Commit.wait_async`), until the batch
holding the line is durable. The waiting holds no worker thread and no interpreter lock,
so a busy server gathers every line that arrives during one commit's fsyncs into the next
commit: batches grow with the load instead of the load queueing behind the disk.

A batch may leave work that need not hold its waiters (the audit anchor's flush): the
writer runs ``settle`` after waking them and before the next batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any

log = logging.getLogger("relgraph.api")

IDLE_SECONDS = 5.0
"""The writer thread ends after this long without lines (the next line starts another)."""


def weak_write(
    method: Callable[[list[dict[str, Any]]], None],
) -> Callable[[list[dict[str, Any]]], None]:
    """``method`` (a bound method) for a :class:`GroupCommitter` its object holds, without the
    committer holding the object: the pair is then no reference cycle, and the object (a
    refresh's old live scoring, its index and read model: ~0.75 million objects at 100,000
    customers) is freed by reference counting once its writer thread ends, with no full
    garbage collection walking the heap while payments wait (:func:`.server.settle_heap`)."""
    ref = weakref.WeakMethod(method)

    def write(records: list[dict[str, Any]]) -> None:
        bound = ref()
        if bound is None:  # no caller waits on a line of a freed object's, but say so
            raise RuntimeError("the committer's owner was freed with lines queued")
        bound(records)

    return write


class Commit:
    """One queued line, until the batch holding it is on disk (or failed)."""

    __slots__ = ("_lock", "_waiters", "done", "error", "record")

    def __init__(self, record: dict[str, Any], lock: threading.Lock) -> None:
        self.record = record
        self.done = False
        self.error: Exception | None = None
        self._lock = lock
        """The committer's lock: guards ``done`` and ``_waiters`` against the writer."""
        self._waiters: list[threading.Event | tuple[asyncio.AbstractEventLoop, Any]] = []

    def wait(self) -> None:
        """Block this thread until the line is durable; raise the writer's error if not."""
        event: threading.Event | None = None
        with self._lock:
            if not self.done:
                event = threading.Event()
                self._waiters.append(event)
        if event is not None:
            event.wait()
        if self.error is not None:
            raise self.error

    async def wait_async(self) -> None:
        """Like :meth:`wait`, awaited on the running loop (no thread is held meanwhile).

        A cancelled waiter does not withdraw the line: it is committed all the same.
        """
        future: asyncio.Future[None] | None = None
        with self._lock:
            if not self.done:
                loop = asyncio.get_running_loop()
                future = loop.create_future()
                self._waiters.append((loop, future))
        if future is not None:
            await future
        if self.error is not None:
            raise self.error


class PartialCommitError(Exception):
    """Raised by a ``write`` that made some of its records durable and not others:
    ``errors[i]`` is record ``i``'s error (None: durable). Each waiter hears its own."""

    def __init__(self, errors: list[Exception | None]) -> None:
        super().__init__(next(e for e in errors if e is not None))
        self.errors = errors


class GroupCommitter:
    """A queue of lines and the thread that commits them, a batch at a time.

    ``write`` gets the records of every line queued since the last batch, in order, and
    makes them durable or raises; the error it raises is what each of those lines' waiters
    gets (a :class:`PartialCommitError` says which lines failed and with what). ``settle``, when given, runs after each batch's waiters are woken and before the
    next batch is taken; what it raises is logged (``write`` must then fail the next batch
    itself if the writer cannot go on). The thread starts with the first line and ends when
    idle.
    """

    def __init__(
        self,
        write: Callable[[list[dict[str, Any]]], None],
        name: str,
        settle: Callable[[], None] | None = None,
    ) -> None:
        self._write = write
        self._settle = settle
        self._name = name
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._queue: list[Commit] = []
        self._writer: threading.Thread | None = None

    def submit(self, record: dict[str, Any]) -> Commit:
        """Queue ``record``; the returned commit says when it is durable."""
        commit = Commit(record, self._lock)
        with self._lock:
            self._queue.append(commit)
            if self._writer is None:
                self._writer = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._writer.start()
            else:
                self._wake.notify()
        return commit

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._wake.wait(IDLE_SECONDS)
                    if not self._queue:
                        self._writer = None
                        return
                batch, self._queue = self._queue, []
            errors: list[Exception | None] = [None] * len(batch)
            try:
                self._write([commit.record for commit in batch])
            except PartialCommitError as exc:
                errors = exc.errors
            except Exception as exc:  # every waiter must hear of it, whatever it is
                errors = [exc] * len(batch)
            self._finish(batch, errors)
            if self._settle is not None:
                try:
                    self._settle()
                except Exception:  # the writer thread must not die of it; write() rechecks
                    log.exception("audit: settling the batch failed")

    def _finish(self, batch: list[Commit], errors: list[Exception | None]) -> None:
        """Wake every waiter of ``batch``: threads directly, each event loop with one call."""
        events: list[threading.Event] = []
        futures: dict[asyncio.AbstractEventLoop, list[Any]] = {}
        with self._lock:
            for commit, error in zip(batch, errors, strict=True):
                commit.error, commit.done = error, True
                for waiter in commit._waiters:
                    if isinstance(waiter, threading.Event):
                        events.append(waiter)
                    else:
                        futures.setdefault(waiter[0], []).append(waiter[1])
                commit._waiters.clear()
        for event in events:
            event.set()
        for loop, waiting in futures.items():
            # A loop that has closed has nobody left to answer.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_resolve, waiting)


def _resolve(futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        if not future.done():  # a waiter cancelled (client gone) needs no answer
            future.set_result(None)
