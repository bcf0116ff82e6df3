"""The worker pool operations run in: bounded, first come first served, never idle-holding."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from relgraph.api.worker_pool import WorkerPool


def test_calls_past_the_pool_size_wait_and_every_call_is_answered() -> None:
    pool = WorkerPool(2)
    gate = threading.Event()
    running = 0
    most = 0
    lock = threading.Lock()

    def call(i: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        gate.wait(5)
        with lock:
            running -= 1
        return i * i

    async def go() -> list[int]:
        calls = [asyncio.ensure_future(pool.run(lambda i=i: call(i))) for i in range(5)]
        await asyncio.sleep(0.2)
        assert not any(c.done() for c in calls)
        gate.set()
        return await asyncio.gather(*calls)

    assert asyncio.run(go()) == [0, 1, 4, 9, 16]
    assert most == 2
    assert pool.threads <= 2


def test_a_call_finds_a_free_thread_while_others_are_blocked() -> None:
    """Heavy queries waiting in their lane must not leave a light one without a thread."""
    pool = WorkerPool(3)
    gate = threading.Event()

    async def go() -> float:
        blocked = [asyncio.ensure_future(pool.run(lambda: gate.wait(5))) for _ in range(2)]
        await asyncio.sleep(0.1)
        started = time.perf_counter()
        assert await asyncio.wait_for(pool.run(lambda: "light"), 2) == "light"
        waited = time.perf_counter() - started
        gate.set()
        await asyncio.gather(*blocked)
        return waited

    assert asyncio.run(go()) < 1


def test_an_exception_in_a_call_reaches_its_caller() -> None:
    pool = WorkerPool(1)

    def fails() -> None:
        raise ValueError("no such customer")

    async def go() -> str:
        with pytest.raises(ValueError, match="no such customer"):
            await pool.run(fails)
        return await pool.run(lambda: "the thread lives on")

    assert asyncio.run(go()) == "the thread lives on"


def test_idle_threads_end_and_new_calls_start_them_again() -> None:
    pool = WorkerPool(4, idle_seconds=0.05)

    async def burst() -> list[int]:
        return await asyncio.gather(*(pool.run(lambda i=i: i) for i in range(8)))

    assert asyncio.run(burst()) == list(range(8))
    deadline = time.monotonic() + 5
    while pool.threads and time.monotonic() < deadline:
        time.sleep(0.02)
    assert pool.threads == 0
    assert asyncio.run(burst()) == list(range(8))


def test_a_pool_needs_a_thread() -> None:
    with pytest.raises(ValueError, match="at least one thread"):
        WorkerPool(0)
