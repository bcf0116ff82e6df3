"""A request's neighbourhoods scored in groups, some in worker processes
(analytics/layering/parallel.py), get exactly the alerts of one union scan: the same
transfers, typologies, scores, reasons and order — and a worker that dies costs nothing
but time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from relgraph.analytics.layering import parallel
from relgraph.analytics.layering.live import LiveIndex
from relgraph.analytics.layering.parallel import (
    Held,
    Job,
    ScoringPool,
    compact_context,
    held_alerts,
    make_job,
    scan_groups,
)
from relgraph.analytics.layering.params import LayeringParams
from relgraph.api.readmodel import ReadModel, build_read_model
from relgraph.store.embedded import EmbeddedStore
from tests.analytics.test_layering_focus import _neighbourhood
from tests.analytics.test_layering_union import _context_of, _listed, _slices, _with_devices
from tests.banks import held_back_synthetic


@pytest.fixture(scope="module")
def pool() -> Any:
    workers = ScoringPool(1)
    yield workers
    workers.reset()


def _per_part(groups: list[tuple[int, int, Held, Any]], bank_rows: Any) -> list[Any]:
    out: list[Any] = []
    for _, _, (alerts, held), whole in groups:
        out.extend(_listed(alerts, whole, mine) for mine in held)
    return [[{**a, "transfers": bank_rows[a["transfers"]].tolist()} for a in p] for p in out]


@pytest.mark.parametrize("seed", range(4))
def test_groups_in_workers_give_each_verdict_the_alerts_of_one_scan(
    seed: int, pool: ScoringPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(300 + seed)
    bank, ctx = _neighbourhood(seed)
    ctx = _with_devices(ctx, rng)
    params = LayeringParams(score_threshold=0.0)
    arrays = (bank.amount, bank.ts, bank.src, bank.dst)
    highs = (np.where(rng.random(len(bank)) < 0.5, np.nan, rng.uniform(1e3, 1e5, len(bank))),
             np.where(rng.random(len(bank)) < 0.5, np.nan, rng.uniform(1e3, 1e5, len(bank))))  # fmt: skip
    parts = _slices(bank, rng, 12)
    eligible = bank.amount >= params.min_amount
    at = np.array([int(rng.choice(np.flatnonzero(eligible[p]))) for p in parts])
    rows = np.arange(len(bank))

    def context_of(a: Any) -> Any:
        return _context_of(ctx, a)

    one = scan_groups(parts, arrays, highs, context_of, params, at, None)
    assert len(one) == 1
    monkeypatch.setattr(parallel, "MIN_ROWS", 0)
    split = scan_groups(parts, arrays, highs, context_of, params, at, pool)
    assert len(split) == 2  # one group here, one in the worker
    assert _per_part(split, rows) == _per_part(one, rows)
    assert any(_per_part(one, rows)), "no verdict's transfer is held by an alert"
    # The job's own path (compacted context, renumbered rows) here: the same again.
    job = make_job(parts, arrays, highs, context_of, params, at)
    assert _per_part([(0, len(parts), held_alerts(job), np.concatenate(parts))], rows) == (
        _per_part(one, rows)
    )


def test_a_jobs_context_holds_only_its_persons_in_their_order() -> None:
    bank, ctx = _neighbourhood(1)
    ctx = _with_devices(ctx, np.random.default_rng(1))
    accounts = np.unique(np.concatenate([bank.src[:40], bank.dst[:40]]))
    small = compact_context(_context_of(ctx, accounts))
    persons = ctx.person[accounts]
    has = persons >= 0
    # Dense numbers, the same order and equalities as the bank's.
    assert sorted(set(small.person[has].tolist())) == list(range(len(set(persons[has]))))
    assert (np.argsort(small.person[has], kind="stable") ==
            np.argsort(persons[has], kind="stable")).all()  # fmt: skip
    assert ctx.household is not None
    assert small.household is not None
    assert small.household[small.person[has]].tolist() == ctx.household[persons[has]].tolist()
    for local, person in zip(small.person[has].tolist(), persons[has].tolist(), strict=True):
        mine = small.device_of[small.device_ptr[local] : small.device_ptr[local + 1]]
        theirs = ctx.device_of[ctx.device_ptr[person] : ctx.device_ptr[person + 1]]
        assert mine.tolist() == theirs.tolist()


class _DeadPool(ScoringPool):
    """A pool whose worker died: every job's future fails as a broken pool does."""

    def __init__(self) -> None:
        super().__init__(1)
        self.resets = 0

    def submit(self, job: Job) -> Future[Held]:
        future: Future[Held] = Future()
        future.set_exception(BrokenProcessPool("a worker died"))
        return future

    def reset(self) -> None:
        self.resets += 1


def test_a_dead_worker_costs_a_rescan_here_not_the_verdict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bank, ctx = _neighbourhood(2)
    params = LayeringParams(score_threshold=0.0)
    arrays = (bank.amount, bank.ts, bank.src, bank.dst)
    highs = (np.full(len(bank), np.nan), np.full(len(bank), np.nan))
    parts = _slices(bank, np.random.default_rng(5), 10)
    at = np.zeros(len(parts), np.int64)
    rows = np.arange(len(bank))

    def context_of(a: Any) -> Any:
        return _context_of(ctx, a)

    one = scan_groups(parts, arrays, highs, context_of, params, at, None)
    monkeypatch.setattr(parallel, "MIN_ROWS", 0)
    dead = _DeadPool()
    assert _per_part(scan_groups(parts, arrays, highs, context_of, params, at, dead), rows) == (
        _per_part(one, rows)
    )
    assert dead.resets == 1


def test_a_worker_outlives_ctrl_c_at_the_servers_terminal() -> None:
    # Ctrl-C reaches the terminal's whole process group: each worker printed a
    # KeyboardInterrupt traceback and died, and the server then stopped with them.
    pool = ScoringPool(1)
    try:
        worker = pool._pool().submit(os.getpid).result(timeout=120)
        os.kill(worker, signal.SIGINT)
        time.sleep(0.5)
        assert pool._pool().submit(os.getpid).result(timeout=60) == worker
    finally:
        pool.reset(wait=True)


@pytest.fixture(scope="module")
def streamed(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReadModel, list[dict[str, Any]]]:
    """A synthetic bank loaded and analysed without its later half, which is returned (the
    real-time parity test's, made once for the run)."""
    _, data, late = held_back_synthetic(tmp_path_factory, 1_500, 21)
    with EmbeddedStore(data, read_only=True) as store:
        model = build_read_model(store)
    return model, late.to_dict("records")


def _stream(model: ReadModel, late: list[dict[str, Any]], pool: ScoringPool | None) -> list[Any]:
    live = LiveIndex.from_index(model.layering_index(), model.account_ids, model.account_index)
    live.pool = pool
    known: set[str] = set()
    out = []
    for lo in range(0, len(late), 100):
        rows, prepared = [], []
        for t in late[lo : lo + 100]:
            src, dst = live.account(t["from_account"]), live.account(t["to_account"])
            assert src is not None
            assert dst is not None
            row = live.add(t["tx_id"], src, dst, float(t["amount"]), int(t["_ms"]))
            rows.append(row)
            prepared.append(live.prepare(row))
        for verdict in live.verdicts_known(rows, prepared, known):
            out.append([(a.chain_id, a.typology, a.score, a.extends, a.size, a.reasons)
                        for a in verdict.alerts])  # fmt: skip
            known.update(a.chain_id for a in verdict.alerts)
    return out


def test_a_stream_gets_the_same_verdicts_with_and_without_workers(
    streamed: tuple[ReadModel, list[dict[str, Any]]],
    pool: ScoringPool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model, late = streamed
    alone = _stream(model, late, None)
    monkeypatch.setattr(parallel, "MIN_ROWS", 0)
    assert _stream(model, late, pool) == alone
    assert sum(len(v) for v in alone) > 0


def test_the_workers_leave_when_the_server_is_killed(tmp_path: Path) -> None:
    # A worker reads its jobs from a queue whose write end it holds too: without its
    # watch on the server it would wait for ever after a SIGKILL (crash tests, OOM kills).
    script = tmp_path / "server.py"
    script.write_text(
        "import os, sys, time\n"
        "from relgraph.analytics.layering.parallel import ScoringPool\n"
        "if __name__ == '__main__':\n"
        "    pool = ScoringPool(1)\n"
        "    print(pool._pool().submit(os.getpid).result(), flush=True)\n"
        "    time.sleep(120)\n"
    )
    server = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        worker = int(server.stdout.readline())
        assert Path(f"/proc/{worker}").exists()
    finally:
        server.kill()
        server.wait()
    deadline = time.monotonic() + 15
    while Path(f"/proc/{worker}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not Path(f"/proc/{worker}").exists(), "the worker outlived its server"


def test_a_process_that_is_itself_a_worker_exits_with_its_pool(tmp_path: Path) -> None:
    # multiprocessing joins a child's own children before its interpreter's exit
    # handlers run: a pool left running would hang the child, and whoever waits for it.
    script = tmp_path / "nested.py"
    script.write_text(
        "import os\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "import multiprocessing\n"
        "from relgraph.analytics.layering.parallel import ScoringPool\n"
        "def work():\n"
        "    return ScoringPool(1)._pool().submit(os.getpid).result()\n"
        "if __name__ == '__main__':\n"
        "    spawn = multiprocessing.get_context('spawn')\n"
        "    with ProcessPoolExecutor(1, spawn) as outer:\n"
        "        print(outer.submit(work).result() > 0)\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, check=True)  # fmt: skip
    assert done.stdout.strip() == "True"
