"""The worker pool operations run in: bounded, fair across keys, never idle-holding."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from relgraph.api.worker_pool import FairQueue, WorkerPool


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
        # Both threads in a call (a thread started late after a fixed pause alone left
        # one: most was 1), then a while more for a third, were the pool unbounded.
        deadline = time.monotonic() + 10
        while most < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
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


def test_the_queue_serves_keys_in_turn_and_each_key_in_order() -> None:
    queue: FairQueue[str] = FairQueue()
    for i in range(10):
        queue.put("flood", f"f{i}")
    queue.put("other", "o0")
    order = [queue.take() for _ in range(len(queue))]
    # The other key's one job is served second at the latest, not eleventh.
    assert order.index("o0") <= 1
    assert [job for job in order if job != "o0"] == [f"f{i}" for i in range(10)]
    assert len(queue) == 0


def test_a_key_that_comes_back_waits_behind_keys_already_waiting() -> None:
    queue: FairQueue[str] = FairQueue()
    queue.put("a", "a0")
    queue.put("b", "b0")
    queue.put("b", "b1")
    assert queue.take() == "a0"  # a has nothing left: it leaves the turn
    queue.put("c", "c0")
    queue.put("a", "a1")  # back at the end of the turn, behind c
    # b's second call waits for one call of each key ahead of it in the turn.
    assert [queue.take() for _ in range(len(queue))] == ["b0", "c0", "a1", "b1"]


def test_a_key_with_a_backlog_in_the_pool_delays_only_itself() -> None:
    """One worker, busy; ten calls of one key wait, then one of another: it runs second."""
    pool = WorkerPool(1)
    gate = threading.Event()
    ran: list[str] = []

    async def go() -> None:
        busy = asyncio.ensure_future(pool.run(lambda: gate.wait(5), key="flood"))
        while pool.waiting or not pool.threads:  # the one thread has taken the gate's call
            await asyncio.sleep(0.01)
        calls = [
            asyncio.ensure_future(pool.run(lambda i=i: ran.append(f"f{i}"), key="flood"))
            for i in range(10)
        ]
        await asyncio.sleep(0)  # every call above is queued before the other key's
        calls.append(asyncio.ensure_future(pool.run(lambda: ran.append("o0"), key="other")))
        await asyncio.sleep(0)
        assert pool.waiting == 11
        gate.set()
        await asyncio.gather(busy, *calls)

    asyncio.run(go())
    assert ran.index("o0") <= 1
    assert [job for job in ran if job != "o0"] == [f"f{i}" for i in range(10)]


def test_a_lone_key_gets_every_worker() -> None:
    """No cap per key: with nobody else waiting, one key's calls fill the pool."""
    pool = WorkerPool(4)
    gate = threading.Event()
    running = 0
    most = 0
    lock = threading.Lock()

    def call() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        gate.wait(5)
        with lock:
            running -= 1

    async def go() -> None:
        calls = [asyncio.ensure_future(pool.run(call, key="one")) for _ in range(12)]
        deadline = time.monotonic() + 5
        while most < 4 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        gate.set()
        await asyncio.gather(*calls)

    asyncio.run(go())
    assert most == 4
