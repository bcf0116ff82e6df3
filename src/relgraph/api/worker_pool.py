"""A pool of worker threads that the event loop hands synchronous calls to.

Each GraphQL operation crosses from the loop to a worker and back. Through
``anyio.to_thread`` that crossing cost ~50 µs of interpreter time (capacity limiter,
cancel scopes, run-time variables), a few percent of a lookup's whole cost; here it is a
queue put, and one ``call_soon_threadsafe`` back. Threads start as calls arrive, up to
``size``, and end after ``idle_seconds`` without work, so an app that is not serving holds
none.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

IDLE_SECONDS = 10.0

_Job = tuple[
    asyncio.AbstractEventLoop, "asyncio.Future[Any]", contextvars.Context, Callable[[], Any]
]


class WorkerPool:
    """At most ``size`` threads; calls beyond that wait their turn, first come first served."""

    def __init__(
        self, size: int, name: str = "relgraph-worker", idle_seconds: float = IDLE_SECONDS
    ) -> None:
        if size < 1:
            raise ValueError("a worker pool needs at least one thread")
        self.size = size
        self._name = name
        self._idle_seconds = idle_seconds
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0
        """Threads waiting for a call (or about to): each takes the next one queued."""
        self._queued = 0
        """Calls queued and not yet taken by a thread."""

    async def run(self, call: Callable[[], T]) -> T:
        """``call()`` in a worker, in a copy of the caller's context; its result or exception.

        A cancelled caller does not stop the call once started (nothing can stop a thread):
        it runs to its end and its result is dropped.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._lock:
            self._queued += 1
            # A thread more only when the idle ones cannot take every call queued: so a
            # light query never waits behind heavy ones while the pool has room.
            if self._queued > self._idle and self._threads < self.size:
                self._threads += 1
                threading.Thread(target=self._work, name=self._name, daemon=True).start()
        self._jobs.put((loop, future, contextvars.copy_context(), call))
        return await future

    @property
    def threads(self) -> int:
        """Threads alive now (busy or idle)."""
        return self._threads

    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            try:
                loop, future, context, call = self._jobs.get(timeout=self._idle_seconds)
            except queue.Empty:
                with self._lock:
                    self._idle -= 1
                    if self._queued == 0:  # nothing queued counts on this thread
                        self._threads -= 1
                        return
                continue
            with self._lock:
                self._idle -= 1
                self._queued -= 1
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
