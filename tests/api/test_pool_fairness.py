"""Pooled operations wait their turn by key: one key's backlog delays only that key, and a
key alone still gets every worker.

Before, the pool was first come, first served: a key with 64 cheap pooled queries in flight
(each within its cost budget) queued ahead of every other key, whose 9 ms query then took
0.4-2.3 s. The tests hold the order, not a latency, so a loaded machine cannot flake them:
the order is the pool's, noted as a thread takes a call under the pool's lock. (Noted when a
call started, it was the threads' order instead: on a loaded 2-core CI machine the thread that
took the other key's call was descheduled while the three others ran six of the flood's.)
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import httpx
import pytest

from relgraph.api.app import ServiceState, create_app
from relgraph.api.auth import Role
from relgraph.api.readmodel import ReadModel
from relgraph.api.worker_pool import FairQueue, WorkerPool

from .conftest import KEYS

T = TypeVar("T")

WORKERS = 4
FLOOD = 40
# Priced over the inline bound (routing.INLINE_COST) and under the heavy lane: a cheap
# query that runs in the pool.
POOLED = """query Pooled($id: ID!) { customer(id: $id) { id
  accounts(first: 50) { edges { node { id product balance } } } } }"""


class Gate:
    """Customer lookups wait at a gate (as CPU work holds a worker); the pool's calls are
    counted as queued and their keys noted in the order the pool hands them to threads."""

    def __init__(self, model: ReadModel, monkeypatch: pytest.MonkeyPatch) -> None:
        self.open = threading.Event()
        self.taken: list[Hashable] = []
        """Whose call each take served, in the pool's order (appended under its lock)."""
        self.running = 0
        self.most = 0
        self.queued = 0
        """Calls handed to the pool so far (each is queued before ``run`` first awaits)."""
        self._lock = threading.Lock()
        find = type(model).find_person
        pool_run = WorkerPool.run
        put, take = FairQueue.put, FairQueue.take
        owner: dict[int, Hashable] = {}

        def gated(model: ReadModel, any_id: str) -> int | None:
            with self._lock:
                self.running += 1
                self.most = max(self.most, self.running)
            self.open.wait(30)
            with self._lock:
                self.running -= 1
            return find(model, any_id)

        async def counted(pool: WorkerPool, call: Callable[[], T], key: Hashable = None) -> T:
            self.queued += 1
            return await pool_run(pool, call, key)

        def noted_put(queue: FairQueue[Any], key: Hashable, job: Any) -> None:
            owner[id(job)] = key
            put(queue, key, job)

        def noted_take(queue: FairQueue[Any]) -> Any:
            job = take(queue)
            self.taken.append(owner.pop(id(job)))
            return job

        monkeypatch.setattr(type(model), "find_person", gated)
        monkeypatch.setattr(WorkerPool, "run", counted)
        monkeypatch.setattr(FairQueue, "put", noted_put)
        monkeypatch.setattr(FairQueue, "take", noted_take)

    async def until(self, condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 30
        while not condition():
            assert time.monotonic() < deadline, "the requests never got there"
            await asyncio.sleep(0.01)


def _post(client: httpx.AsyncClient, role: Role, person: str) -> Any:
    return client.post(
        "/graphql",
        json={"query": POOLED, "variables": {"id": person}},
        headers={"Authorization": f"Bearer {KEYS[role]}"},
    )


def _client(state: ServiceState) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(state))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def test_another_keys_query_does_not_wait_behind_one_keys_backlog(
    state: ServiceState, model: ReadModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    state.workers = WORKERS
    state.deadline_seconds = 60.0  # the backlog waits; this test is about its order
    gate = Gate(model, monkeypatch)
    flooded, other = model.person_ids[0], model.person_ids[1]

    async def go() -> list[httpx.Response]:
        async with _client(state) as client:
            flood = [
                asyncio.create_task(_post(client, Role.ANALYST, flooded)) for _ in range(FLOOD)
            ]
            # Every worker holds one of the flood and the rest of it waits in the pool.
            await gate.until(lambda: gate.queued == FLOOD and gate.running == WORKERS)
            late = asyncio.create_task(_post(client, Role.RISK, other))
            await gate.until(lambda: gate.queued == FLOOD + 1)
            gate.open.set()
            return await asyncio.gather(*flood, late)

    answers = asyncio.run(go())
    for answer in answers:
        assert answer.status_code == 200
        assert "errors" not in answer.json(), answer.json()
    assert len(gate.taken) == FLOOD + 1
    flooding = gate.taken[0]
    ahead = next(i for i, key in enumerate(gate.taken) if key != flooding)
    # First come, first served handed out the whole flood first (40). Served in turn, the
    # other key waits for one of the flood's queued calls: after the 4 that held the workers.
    assert ahead == WORKERS + 1, f"{ahead} of the flooding key's queries were served first"


def test_a_key_alone_still_gets_every_worker(
    state: ServiceState, model: ReadModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    state.workers = WORKERS
    state.deadline_seconds = 60.0
    gate = Gate(model, monkeypatch)

    async def go() -> list[httpx.Response]:
        async with _client(state) as client:
            calls = [
                asyncio.create_task(_post(client, Role.ANALYST, model.person_ids[i]))
                for i in range(3 * WORKERS)
            ]
            await gate.until(lambda: gate.queued == 3 * WORKERS and gate.running == WORKERS)
            gate.open.set()
            return await asyncio.gather(*calls)

    answers = asyncio.run(go())
    assert all(a.status_code == 200 and "errors" not in a.json() for a in answers)
    assert gate.most == WORKERS  # no cap per key: one key's queries fill the pool
