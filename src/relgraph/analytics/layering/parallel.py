"""A request's neighbourhoods scored in several processes, with the same alerts.

:func:`.union.scan_union` gives every neighbourhood of a request exactly the alerts a scan
of it alone gives, so the neighbourhoods can be cut into groups and each group scanned on
its own. In the daytime most payments go to merchants and each brings its merchant's month
of takings: a request of 100 transfers is a union of some 30,000 rows, and its scan is
almost all of the request's CPU time (``benchmarks/RESULTS.md``, real-time scoring) — on
one core, whatever the machine has. :func:`scan_groups` cuts a large union into
contiguous groups of about equal rows, scans the first in this process and the others in
a :class:`ScoringPool` of worker processes, and gives each neighbourhood the alerts that
hold its transfer, in the order one union scan gives them.

A worker holds no state: each :class:`Job` carries its rows (amount, time, accounts,
highs), its accounts' context with their holders numbered densely in the same order
(:func:`compact_context`), the settings and the verdict positions — about a megabyte for
a merchant-heavy group. Numbering holders densely changes no alert: the union numbers
every holder, household, network and device per neighbourhood anyway
(:func:`.union.union_context`), keeping their order, and the definitions compare them only
for equality and order. ``tests/analytics/test_layering_parallel.py`` holds the groups to
the single scan.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing.util import Finalize

import numpy as np

from relgraph.analytics.layering.alerts import ScoredColumns
from relgraph.analytics.layering.hops import RowFacts
from relgraph.analytics.layering.params import F64, I64, LayeringParams
from relgraph.analytics.layering.scoring import _Context
from relgraph.analytics.layering.union import UnionScan, devices_of, scan_union, take_context
from relgraph.analytics.sets import unique

MIN_ROWS = 4_000
"""A union this small is scanned here in one piece: below it, shipping the groups to the
workers costs about what splitting saves (a night-time request of 100 transfers is a few
hundred rows and a few milliseconds)."""

Held = tuple[ScoredColumns, list[list[int]]]
"""A group's alerts that hold a verdict's transfer, and per neighbourhood of the group
their indices (in the union's order)."""


@dataclass(frozen=True)
class Job:
    """One group of neighbourhoods, self-contained (a worker needs nothing else)."""

    parts: list[I64]
    """Per neighbourhood: positions into the job's rows, ascending."""
    arrays: tuple[F64, I64, I64, I64]
    """Per row: amount, time, source and target account (the index's numbers)."""
    highs: RowFacts
    accounts: I64
    """The accounts of the rows, ascending: ``context`` is per account in this order."""
    context: _Context
    params: LayeringParams
    at: I64
    """Per neighbourhood: the position in it of the transfer its verdict is on."""


def held_alerts(job: Job) -> Held:
    """The alerts of ``job``'s union scan that hold each neighbourhood's transfer."""

    def context_of(accounts: I64) -> _Context:
        return take_context(job.context, np.searchsorted(job.accounts, accounts))

    return _held(scan_union(job.parts, job.arrays, context_of, job.params, job.highs, job.at),
                 job.at)  # fmt: skip


def _held(union: UnionScan, at: I64) -> Held:
    held = union.holding(at)
    flat = np.fromiter((i for h in held for i in h), np.int64)
    lists, start = [], 0
    for h in held:
        lists.append(list(range(start, start + len(h))))
        start += len(h)
    return union.alerts.take(flat), lists


def make_job(
    parts: Sequence[I64],
    arrays: tuple[F64, I64, I64, I64],
    highs: RowFacts,
    context_of: Callable[[I64], _Context],
    params: LayeringParams,
    at: I64,
) -> Job:
    """The group ``parts`` (row numbers into ``arrays``/``highs``) as a :class:`Job`: its
    rows only, renumbered in the same order."""
    rows = unique(np.concatenate(parts))
    local = [np.searchsorted(rows, part).astype(np.int64) for part in parts]
    amount, ts, src, dst = arrays[0][rows], arrays[1][rows], arrays[2][rows], arrays[3][rows]
    accounts = unique(np.concatenate([src, dst]))
    context = compact_context(context_of(accounts))
    return Job(local, (amount, ts, src, dst), tuple(h[rows] for h in highs), accounts,
               context, params, at)  # fmt: skip


def compact_context(ctx: _Context) -> _Context:
    """``ctx`` (per account of a few) with only their persons' data, persons numbered
    densely in their order: what a job ships instead of the bank's whole person arrays.

    >>> import numpy as np
    >>> ctx = _Context(np.array([5, 6]), np.array([7, -1]), np.array([-1, 0]),
    ...                np.arange(10) * 10, None, np.array([7 * 3 + 2]),
    ...                np.array([0] * 8 + [1, 1, 1]), np.array([2]), 3)
    >>> small = compact_context(ctx)
    >>> small.person.tolist(), small.household.tolist(), small.device_of.tolist()
    ([0, -1], [70], [2])
    """
    has = ctx.person >= 0
    persons, local = np.unique(ctx.person[has], return_inverse=True)
    person = np.full(len(ctx.person), -1, np.int64)
    person[has] = local.ravel()
    # None stays None and empty stays empty (a bank without persons): the definitions
    # tell the two apart (union_context).
    household, network = ctx.household, ctx.network
    if household is not None and len(household):
        household = household[persons]
    if network is not None and len(network):
        network = network[persons]
    keys, ptr, device_of = devices_of(ctx, persons)
    return _Context(ctx.opened, person, ctx.enterprise, household, network, keys, ptr,
                    device_of, ctx.n_devices, ctx.fan_peaks, ctx.origin, ctx.takings,
                    ctx.peers, ctx.fan_starts)  # fmt: skip


def group_count(rows: int, processes: int) -> int:
    """Groups for a union of ``rows`` rows with ``processes`` workers: one per process and
    one for the server, but none under :data:`MIN_ROWS` / 2 rows (a smaller scan is mostly
    its fixed cost, which every group pays again), and one group under :data:`MIN_ROWS`.

    >>> group_count(3_000, 1), group_count(4_000, 1), group_count(30_000, 16)
    (1, 2, 15)
    """
    if rows < MIN_ROWS:
        return 1
    return max(1, min(processes + 1, rows // max(1, MIN_ROWS // 2)))


def groups_of(sizes: I64, n: int) -> list[tuple[int, int]]:
    """``n`` (or fewer) contiguous ranges of neighbourhoods of about equal rows.

    >>> groups_of(np.array([10, 10, 10, 10]), 2)
    [(0, 2), (2, 4)]
    >>> groups_of(np.array([100, 1, 1, 1]), 2)
    [(0, 1), (1, 4)]
    """
    ends = np.cumsum(sizes)
    cuts = np.searchsorted(ends, ends[-1] * np.arange(1, n) / n, side="left") + 1
    bounds = sorted({0, len(sizes), *np.minimum(cuts, len(sizes)).tolist()})
    return list(itertools.pairwise(bounds))


class ScoringPool:
    """Worker processes for :func:`scan_groups` (spawned on first use, or by :meth:`warm`).

    Stateless workers, so one pool serves every model a server loads. A worker that dies
    is replaced and its group scanned here instead: a verdict never fails for it.
    """

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                # spawn: the server runs threads, and a fork would copy their locks held.
                spawn = multiprocessing.get_context("spawn")
                self._executor = executor = ProcessPoolExecutor(
                    self.processes, spawn, initializer=_follow, initargs=(os.getpid(),)
                )
                # Stopped before multiprocessing joins this process's children at exit:
                # a process that is itself a multiprocessing child (a benchmark's, a
                # test's) would otherwise wait for ever on workers waiting for work. Its
                # priority is above the job queue's own finalizer (10), which closes the
                # queue the stop signal is sent through.
                Finalize(executor, executor.shutdown, exitpriority=100)
            return self._executor

    def warm(self) -> None:
        """Start the workers now (a server's first daytime request should not wait for
        their imports)."""
        for _ in range(self.processes):
            self._pool().submit(int)

    def submit(self, job: Job) -> Future[Held]:
        return self._pool().submit(held_alerts, job)

    def reset(self, *, wait: bool = False) -> None:
        """Stop the workers (a broken pool, a server's settings changed); the next job
        starts new ones. ``wait``: until they have exited and the pool's queues are closed
        (a server stopping: their semaphores are released before it exits)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=wait, cancel_futures=True)


def _follow(parent: int) -> None:
    """In a worker: exit when the server is gone. A worker blocks reading its jobs from a
    queue whose write end it holds too, so a server killed with SIGKILL would leave it
    waiting for ever.

    A worker also ignores SIGINT: Ctrl-C at the terminal of ``relgraph serve`` reaches the
    whole process group, and each worker printed a ``KeyboardInterrupt`` traceback from its
    queue read among the server's clean stop. The server stops its workers itself
    (:meth:`ScoringPool.reset`), and a worker whose server is gone exits (above)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="relgraph-follow-server", daemon=True).start()


def scan_groups(
    parts: Sequence[I64],
    arrays: tuple[F64, I64, I64, I64],
    highs: RowFacts,
    context_of: Callable[[I64], _Context],
    params: LayeringParams,
    at: I64,
    pool: ScoringPool | None,
) -> list[tuple[int, int, Held, I64]]:
    """Per group ``(lo, hi)`` of ``parts``: its held alerts and its rows (the alerts'
    transfer positions index them) — one group here when ``pool`` is None or the union is
    smaller than :data:`MIN_ROWS`, else :func:`group_count`."""
    sizes = np.fromiter((len(p) for p in parts), np.int64, len(parts))
    n = 1 if pool is None else group_count(int(sizes.sum()), pool.processes)
    ranges = groups_of(sizes, n)
    jobs = [make_job(parts[lo:hi], arrays, highs, context_of, params, at[lo:hi])
            for lo, hi in ranges[1:]]  # fmt: skip
    futures = [pool.submit(job) for job in jobs] if pool is not None else []
    # The first group here, on the index's own arrays (no job to build), while the
    # workers scan the others.
    lo, hi = ranges[0]
    first = scan_union(parts[lo:hi], arrays, context_of, params, highs, at[lo:hi])
    results = [_held(first, at[lo:hi])]
    for job, future in zip(jobs, futures, strict=True):
        try:
            results.append(future.result())
        except BrokenProcessPool:
            assert pool is not None
            pool.reset()
            results.append(held_alerts(job))
    return [
        (lo, hi, held, np.concatenate(parts[lo:hi]))
        for (lo, hi), held in zip(ranges, results, strict=True)
    ]
