"""A pool of worker threads that the event loop hands synchronous calls to.

Each GraphQL operation crosses from the loop to a worker and back. Through
``anyio.to_thread`` that crossing cost ~50 µs of interpreter time (capacity limiter,
cancel scopes, run-time variables), a few percent of a lookup's whole cost; here it is an
append under a lock and a queue put, and one ``call_soon_threadsafe`` back. Threads start as calls arrive,
up to ``size``, and end after ``idle_seconds`` without work, so an app that is not serving
holds none.

Calls wait their turn fairly across keys (:class:`FairQueue`): first come, first served let
one key with 64 cheap queries in flight, each within its cost budget, put all of them ahead
of every other key's next query (another key's 9 ms query took 0.4-2.3 s). A cap on one
key's calls would not do: a bank puts many analysts or a campaign tool behind one key.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import queue
import threading
from collections import deque
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

T = TypeVar("T")
J = TypeVar("J")

IDLE_SECONDS = 10.0

_Job = tuple[
    asyncio.AbstractEventLoop, "asyncio.Future[Any]", contextvars.Context, Callable[[], Any]
]


class FairQueue(Generic[J]):
    """Waiting jobs served round-robin by key: each key its own FIFO, and each take serves
    the next key in turn that has a job. Not thread-safe: the pool holds its lock.

    A key with a backlog delays only itself: another key's job waits for at most one job of
    each key ahead of it in the turn, however many they have queued. A lone key gets every
    take, in its order.

    >>> queue: FairQueue[str] = FairQueue()
    >>> for job in ("a1", "a2", "a3"):
    ...     queue.put("a", job)
    >>> queue.put("b", "b1")
    >>> [queue.take() for _ in range(len(queue))]
    ['a1', 'b1', 'a2', 'a3']
    """

    def __init__(self) -> None:
        self._waiting: dict[Hashable, deque[J]] = {}
        """Each key's jobs, oldest first; a key is here only while it has one."""
        self._turns: deque[Hashable] = deque()
        """The keys with a job, in the order they are served next (each key once)."""
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def put(self, key: Hashable, job: J) -> None:
        jobs = self._waiting.get(key)
        if jobs is None:
            # A key with nothing waiting joins the end of the turn: it does not jump keys
            # that have waited longer, and waits for at most one job of each.
            jobs = self._waiting[key] = deque()
            self._turns.append(key)
        jobs.append(job)
        self._count += 1

    def take(self) -> J:
        """The next key's oldest job; that key goes to the end of the turn if it has more."""
        key = self._turns.popleft()
        jobs = self._waiting[key]
        job = jobs.popleft()
        if jobs:
            self._turns.append(key)
        else:
            del self._waiting[key]
        self._count -= 1
        return job


class WorkerPool:
    """At most ``size`` threads; calls beyond that wait their turn, round-robin by key."""

    def __init__(
        self, size: int, name: str = "relgraph-worker", idle_seconds: float = IDLE_SECONDS
    ) -> None:
        if size < 1:
            raise ValueError("a worker pool needs at least one thread")
        self.size = size
        self._name = name
        self._idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._jobs: FairQueue[_Job] = FairQueue()
        """Calls queued and not yet taken by a thread (under ``_lock``)."""
        self._tokens: queue.SimpleQueue[None] = queue.SimpleQueue()
        """One per call queued, put after it: a thread that gets one takes the next call. A
        C-level queue to block on costs ~5 µs less a call than a ``threading.Condition``
        (32 callers, 16 threads)."""
        self._threads = 0
        self._idle = 0
        """Threads waiting for a call (or woken for one): each takes the next one queued."""

    async def run(self, call: Callable[[], T], key: Hashable = None) -> T:
        """``call()`` in a worker, in a copy of the caller's context; its result or exception.

        ``key`` is whose call it is (the API key's id): calls wait in turn by key, so one
        key's backlog does not hold up another's calls. Calls of one key run in order.

        A cancelled caller does not stop the call once started (nothing can stop a thread):
        it runs to its end and its result is dropped.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        job: _Job = (loop, future, contextvars.copy_context(), call)
        with self._lock:
            self._jobs.put(key, job)
            # A thread more only when the idle ones cannot take every call queued: so a
            # light query never waits behind heavy ones while the pool has room.
            if len(self._jobs) > self._idle and self._threads < self.size:
                self._threads += 1
                threading.Thread(target=self._work, name=self._name, daemon=True).start()
        self._tokens.put(None)
        return await future

    @property
    def threads(self) -> int:
        """Threads alive now (busy or idle)."""
        return self._threads

    @property
    def waiting(self) -> int:
        """Calls queued and not yet taken by a thread."""
        return len(self._jobs)

    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            try:
                self._tokens.get(timeout=self._idle_seconds)
            except queue.Empty:
                with self._lock:
                    self._idle -= 1
                    if not self._jobs:  # nothing queued counts on this thread
                        self._threads -= 1
                        return
                continue
            with self._lock:
                self._idle -= 1
                # Not necessarily the call whose token this was: the next in turn by key.
                loop, future, context, call = self._jobs.take()
            try:
                result, error = context.run(call), None
            except BaseException as exc:  # handed to the caller, whatever it is
                result, error = None, exc
            # A closed loop has nobody left to answer.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, future, result, error)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # the caller was cancelled
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
