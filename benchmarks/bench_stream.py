"""Benchmark real-time transfer scoring: the cost of one verdict, latency at a steady offered
rate, and throughput at saturation.

The bank is synthesised with a held-back tomorrow (``relgraph synth --tomorrow 1``: the last
day of transfers and the completing transfer of every planted pattern), loaded and analysed
without it, and cached in ``--work``. Then:

1. **Breakdown** (in process, no HTTP): per transfer, the time to validate, journal
   (append + fsync, one per batch of ``--batch``), update the live index and run the
   verdict's checks; JSON parsing of a batch body is timed apart.
2. **Open loop** (``relgraph serve`` as its own process): batches of 1–50 transfers
   (uniform) leave on a fixed schedule that offers ``--rate`` (200) transfers/s for
   ``--seconds``; latency per batch is from its scheduled send to its answer (queueing
   counts), i.e. the verdict latency a payment flow sees. Beside it, the server's own
   part from its ``/metrics`` (``relgraph_ingest_seconds``): the share of answers within
   5 and 20 ms, and bucket-interpolated p50 / p99 (the client shares this machine's
   cores, so the difference is the client and the HTTP hop).
3. **Saturation**: one closed-loop client per core sending batches of 100 as fast as
   answers come; transfers/s acknowledged (each durable before the answer). With
   ``--fresh-saturation``, all of tomorrow against a fresh server (the open loops leave
   too few transfers on a small bank; its first transfer, which pays first-use costs,
   is sent before the clock starts), with the server's CPU time per transfer and, for
   comparison, the CPU time per transfer of the same transfers in process (no HTTP). Both
   count the scoring workers' CPU (a large request's other groups are scored there);
   ``*_own_cpu_ms`` is the server's or the scoring process's alone.

    .venv/bin/python benchmarks/bench_stream.py --customers 100000 --seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from relgraph.api.live import LiveScoring
from relgraph.api.readmodel import build_read_model
from relgraph.api.scoring_pool import scoring_processes
from relgraph.graph import build_projection
from relgraph.ingest import load_directory
from relgraph.jobs.analyze import analyze
from relgraph.jobs.sources.file import FileSource
from relgraph.store.embedded import EmbeddedStore
from relgraph.synth import generate
from relgraph.synth.tomorrow import hold_back, tomorrow_dir

KEY = "ingest-bench-key-0123456789"
SCRAPE = "metrics-bench-key-0123456789"


def prepare(work: Path, customers: int) -> tuple[Path, Path]:
    """The analysed bank without tomorrow (cached) and tomorrow's transfers file."""
    bank, data = work / "bank", work / "data"
    if not (data / "relgraph.duckdb").exists() or not tomorrow_dir(bank).exists():
        # Only what this script made: ``--work`` may be a directory holding other things.
        for made in (bank, tomorrow_dir(bank), data):
            shutil.rmtree(made, ignore_errors=True)
        started = time.perf_counter()
        generate(customers, 7, bank, "csv", locale="zh", export_style="plain")
        print("tomorrow:", hold_back(bank, 1.0), flush=True)
        with EmbeddedStore(data) as store:
            load_directory(bank, store, data)
            analyze(store, build_projection(store))
        print(f"prepared in {time.perf_counter() - started:.0f} s", flush=True)
    return data, tomorrow_dir(bank) / "transfers.csv"


def fresh_copy(data: Path, into: Path) -> Path:
    """The store without any journal or audit left by an earlier run."""
    shutil.rmtree(into, ignore_errors=True)
    shutil.copytree(data, into, ignore=shutil.ignore_patterns("journal", "audit*", "*.lock"))
    return into


def breakdown(
    data: Path, tomorrow: Path, batch: int, limit: int, warm: int = 0
) -> dict[str, float]:
    """The in-process figures over tomorrow's first ``limit`` transfers, the first ``warm``
    of them recorded before the clock starts (as the server's warm-up), measured in a child
    process: at a million customers the live scoring holds ~14 GB, which must be given back
    before a server builds its own."""
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        return pool.submit(_breakdown, data, tomorrow, batch, limit, warm).result()


def _breakdown(data: Path, tomorrow: Path, batch: int, limit: int, warm: int) -> dict[str, float]:
    with EmbeddedStore(data, read_only=True) as store:
        model = build_read_model(store)
    started = time.perf_counter()
    live = LiveScoring(model, data)
    build = time.perf_counter() - started
    records = FileSource(tomorrow).records()[:limit]
    if warm:
        live.record_transfers(records[:warm], by="bench")
        records = records[warm:]
    parse = 0.0
    _workers_started(live)
    # CPU time per transfer of the whole process and of its scoring workers, which score a
    # large request's other groups (a server's figure counts its workers too): wall time
    # per verdict swings with the machine's load, CPU time much less.
    cpu, cpu_all = time.process_time(), _cpu_seconds(os.getpid())
    for lo in range(0, len(records), batch):
        body = json.dumps(records[lo : lo + batch], default=str).encode()
        t0 = time.perf_counter()
        chunk = json.loads(body)
        parse += time.perf_counter() - t0
        live.record_transfers(chunk, by="bench")
    out = live.timings.as_dict()
    out["cpu_ms"] = 1e3 * (_cpu_seconds(os.getpid()) - cpu_all) / max(len(records), 1)
    out["own_cpu_ms"] = 1e3 * (time.process_time() - cpu) / max(len(records), 1)
    out["parse_ms"] = 1e3 * parse / max(len(records), 1)
    out["live_transfers"] = len(live.index)
    out["build_live_index_s"] = build
    out["alerts"] = sum(1 for f in live.alerts.values() if f.alert.score >= 0.5)
    return out


def _workers_started(live: LiveScoring) -> None:
    """Wait until the scoring workers have started (spawned at the live index's build, they
    import for a second or two of CPU, which is no transfer's)."""
    pool = live.index.pool
    if pool is not None:
        # One job each that outlasts a start-up: every worker takes one.
        list(pool._pool().map(time.sleep, [1.0] * pool.processes))


def _cpu_seconds(pid: int, children: bool = True) -> float:
    """User + system CPU so far of a process and (``children``) its children, the scoring
    workers, from ``/proc``."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    if not children:
        return own
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):  # the thread ended
            kids += [int(c) for c in (task / "children").read_text().split()]
    return own + sum(_cpu_seconds(c) for c in kids)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    keys = f"ingest:{KEY},metrics:{SCRAPE}"
    env = {**os.environ, "RELGRAPH_API_KEYS": keys, "RELGRAPH_DATA_DIR": str(data)}
    server = subprocess.Popen(
        [sys.executable, "-m", "relgraph.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return server, base
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    server.kill()
    raise SystemExit("the server never became ready")


async def open_loop(
    base: str, records: list[dict[str, Any]], rate: float, seconds: float
) -> dict[str, Any]:
    rng = random.Random(5)
    headers = {"Authorization": f"Bearer {KEY}"}
    latencies: list[float] = []
    sizes: list[int] = []
    errors = 0
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=600) as c:

        async def one(batch: list[dict[str, Any]], due: float) -> None:
            nonlocal errors
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            response = await c.post("/v1/transfers", content=json.dumps(batch, default=str))
            if response.status_code != 200:
                errors += 1
                return
            latencies.append(time.perf_counter() - due)
            sizes.append(len(batch))

        tasks = []
        start = time.perf_counter() + 0.5
        due, at = start, 0
        while due < start + seconds and at < len(records):
            size = rng.randint(1, 50)
            batch = records[at : at + size]
            at += len(batch)
            tasks.append(asyncio.create_task(one(batch, due)))
            due += len(batch) / rate
        await asyncio.gather(*tasks)
    ms = np.asarray(latencies) * 1e3
    return {
        "offered_per_s": rate,
        "transfers": int(sum(sizes)),
        "batches": len(ms),
        "errors": errors,
        "p50_ms": float(np.percentile(ms, 50)),
        "p90_ms": float(np.percentile(ms, 90)),
        "p99_ms": float(np.percentile(ms, 99)),
        "used": at,
    }


def server_buckets(base: str) -> dict[float, float]:
    """The server's own ``/v1/transfers`` answer times so far (``relgraph_ingest_seconds``,
    HTTP 200): cumulative count per bucket bound, from ``/metrics``."""
    text = httpx.get(
        f"{base}/metrics", headers={"Authorization": f"Bearer {SCRAPE}"}, timeout=60
    ).text
    head = 'relgraph_ingest_seconds_bucket{code="200",endpoint="transfers",le="'
    out: dict[float, float] = {}
    for line in text.splitlines():
        if line.startswith(head):
            bound, count = line[len(head) :].split('"} ')
            out[float(bound)] = float(count)
    return out


def server_side(before: dict[float, float], after: dict[float, float]) -> dict[str, float]:
    """Between two scrapes: the share of answers within 5 and 20 ms (bucket bounds, exact)
    and the median and 99th percentile interpolated within their bucket (as Prometheus'
    ``histogram_quantile``): the server's part of the latency, without the client's."""
    bounds = sorted(after)
    counts = np.array([after[b] - before.get(b, 0.0) for b in bounds])
    total = counts[-1]  # the +Inf bucket
    if total <= 0:
        return {}

    def quantile(q: float) -> float:
        rank = q * total
        i = int(np.searchsorted(counts, rank))
        lo, below = (bounds[i - 1], counts[i - 1]) if i else (0.0, 0.0)
        hi = bounds[i] if np.isfinite(bounds[i]) else lo
        inside = counts[i] - below
        return 1e3 * (lo + (hi - lo) * ((rank - below) / inside if inside else 0.0))

    return {
        "server_within_5ms": float(counts[bounds.index(0.005)] / total),
        "server_within_20ms": float(counts[bounds.index(0.02)] / total),
        "server_p50_ms_bucketed": quantile(0.5),
        "server_p99_ms_bucketed": quantile(0.99),
    }


async def saturation(
    base: str, records: list[dict[str, Any]], seconds: float, clients: int
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {KEY}"}
    done = 0
    at = 0
    stop = time.perf_counter() + seconds
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=600) as c:

        async def worker() -> None:
            nonlocal done, at
            while time.perf_counter() < stop and at < len(records):
                batch = records[at : at + 100]
                at += len(batch)
                response = await c.post("/v1/transfers", content=json.dumps(batch, default=str))
                if response.status_code == 200:
                    done += response.json()["accepted"]

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return {"accepted": done, "sent": at, "seconds": elapsed, "per_s": done / elapsed,
            "clients": clients}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--rate", type=float, nargs="+", default=[200.0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--breakdown-transfers", type=int, default=5_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument(
        "--fresh-saturation",
        action="store_true",
        help="saturate a fresh server with all of tomorrow (and report its CPU per transfer)",
    )
    args = parser.parse_args()
    work = args.work or Path(f"/tmp/relgraph-bench-stream-{args.customers}")
    data, tomorrow = prepare(work, args.customers)
    print("load average", os.getloadavg(), flush=True)
    result: dict[str, Any] = {"customers": args.customers,
                              "scoring_processes": scoring_processes()}  # fmt: skip
    result["breakdown"] = breakdown(
        fresh_copy(data, work / "run"), tomorrow, args.batch, args.breakdown_transfers
    )
    print(json.dumps(result["breakdown"], indent=1), flush=True)
    records = FileSource(tomorrow).records()
    run = fresh_copy(data, work / "run")
    server, base = start_server(run)
    try:
        loops = []
        used = 0
        for rate in args.rate:
            before = server_buckets(base)
            loop = asyncio.run(open_loop(base, records[used:], rate, args.seconds))
            loop.update(server_side(before, server_buckets(base)))
            used += loop["used"]
            loops.append(loop)
            print(json.dumps(loop, indent=1), flush=True)
        if not args.fresh_saturation:
            sat = asyncio.run(saturation(base, records[used:], min(args.seconds, 30), args.clients))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    if args.fresh_saturation:
        # All of tomorrow against a fresh server (the open loops would leave too few).
        server, base = start_server(fresh_copy(data, work / "run"))
        try:
            # First-use costs of the first transfer are not part of the rate (the live
            # index itself is built before the server reports ready).
            httpx.post(f"{base}/v1/transfers", json=records[:1], timeout=600,
                       headers={"Authorization": f"Bearer {KEY}"}).raise_for_status()  # fmt: skip
            started, own = _cpu_seconds(server.pid), _cpu_seconds(server.pid, children=False)
            sat = asyncio.run(saturation(base, records[1:], 60, args.clients))
            used_cpu = _cpu_seconds(server.pid) - started
            own = _cpu_seconds(server.pid, children=False) - own
            sat["server_cpu_ms"] = 1e3 * used_cpu / max(sat["accepted"], 1)
            sat["server_own_cpu_ms"] = 1e3 * own / max(sat["accepted"], 1)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
        # The same transfers in process, in the same batches of 100 (the first outside
        # the clock, and no more than the server was sent before its minute ended): the
        # breakdown above covers only the first ``--breakdown-transfers`` in batches of
        # ``--batch``, and later transfers of tomorrow cost more, so only this figure
        # measures the server's own overhead (server_cpu_ms minus it).
        same = breakdown(fresh_copy(data, work / "run"), tomorrow, 100, 1 + sat["sent"], warm=1)
        sat["in_process_cpu_ms"] = same["cpu_ms"]
        sat["in_process_own_cpu_ms"] = same["own_cpu_ms"]
    print(json.dumps(sat, indent=1), flush=True)
    result.update(open_loop=loops, saturation=sat, load_average=os.getloadavg())
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
