"""Benchmark `relgraph serve`: throughput at saturation and latency at a steady offered load.

The server runs as its own process (one uvicorn worker) on the 100,000-customer bank
(loaded and analysed on first use); this process is the load generator (asyncio +
httpx, keep-alive connections). The mix rotates ``customer`` (a person with records,
accounts, household), ``account`` (with holder) and ``households`` (a filtered page of 10).

1. Saturation: ``--clients`` (32) concurrent clients in a closed loop for ``--seconds`` (60).
2. Latency: an open loop at ``--rate`` (100) requests/s — requests leave on a fixed
   schedule, whether or not earlier answers came back — for ``--seconds``; latency is
   measured from the scheduled send time, so queueing counts.

    .venv/bin/python benchmarks/bench_api.py --customers 100000 --seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import httpx
import numpy as np

from relgraph.graph import build_projection
from relgraph.ingest import load_directory
from relgraph.jobs.analyze import analyze
from relgraph.store.embedded import EmbeddedStore
from relgraph.synth import generate

DATA = Path(__file__).parent / "data"
KEY = "bench-analyst-key-0123456789"
RISK_KEY = "bench-risk-key-0123456789"

CUSTOMER = """query customer($id: ID!) { customer(id: $id) { id name segment aum products
  records { customerId sourceSystem } accounts(first: 5) { totalCount edges { node { id product balance } } }
  household { id } } }"""
ACCOUNT = """query account($id: ID!) { account(id: $id) { id product balance status
  holder { id name } } }"""
LINKED = """query linkedAccounts($id: ID!) { linkedAccounts(accountId: $id, maxHops: 3, first: 20) {
  totalCount edges { node { account { id } hops strength path { strength evidence { kind ref } } } } } }"""
CHECK = """query layeringCheck($id: ID!) { layeringCheck(accountId: $id) { score truncated
  chains { id typology score hops { txId amount timestamp } } reasons { reason weight } } }"""
HOUSEHOLDS = """query households($min: Int!) { households(filter: {minSize: $min}, first: 10) {
  totalCount edges { node { id size totalAum products missingProducts } } } }"""


def prepare(customers: int, seed: int) -> tuple[Path, list[str], list[str]]:
    bank = DATA / f"bank-{customers}-{seed}-csv-0"
    store_dir = DATA / f"store-{customers}-{seed}"
    if not (bank / "transfers.csv").exists():
        generate(customers, seed, bank, "csv")
    with EmbeddedStore(store_dir) as store:
        load_directory(bank, store, store_dir)
        if "households" not in store.result_names():
            analyze(store, build_projection(store))
        persons = store.read_table("persons", ["person_id"]).column(0).to_pylist()
        accounts = store.read_table("accounts", ["account_id"]).column(0).to_pylist()
    return store_dir, persons, accounts


def start_server(
    store_dir: Path, port: int, keys: str | None = None, src: str | None = None
) -> subprocess.Popen[str]:
    """``relgraph serve`` on 127.0.0.1 with ``keys`` (``role:key,…``), from ``src`` if given
    (another checkout's sources, for before/after runs); returns once ``/readyz`` says ready."""
    env = {
        **os.environ,
        "RELGRAPH_API_KEYS": keys or f"analyst:{KEY},risk:{RISK_KEY}",
        "RELGRAPH_DATA_DIR": str(store_dir),
    }
    if src:
        env["PYTHONPATH"] = src
    server = subprocess.Popen(
        [sys.executable, "-m", "relgraph.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    server.kill()
    raise SystemExit("server never became ready")


class AmlMix:
    """linkedAccounts (3 hops) and layeringCheck, alternately, on random accounts."""

    def __init__(self, accounts: list[str], seed: int = 11) -> None:
        self.accounts = accounts
        self.rng = random.Random(seed)
        self.turn = 0

    def next(self) -> tuple[str, dict[str, object]]:
        self.turn += 1
        query = LINKED if self.turn % 2 else CHECK
        name = "linkedAccounts" if self.turn % 2 else "layeringCheck"
        return name, {"query": query, "variables": {"id": self.rng.choice(self.accounts)}}


class Mix:
    def __init__(self, persons: list[str], accounts: list[str], seed: int = 7) -> None:
        self.persons, self.accounts = persons, accounts
        self.rng = random.Random(seed)
        self.turn = 0

    def next(self) -> tuple[str, dict[str, object]]:
        self.turn += 1
        kind = self.turn % 3
        if kind == 0:
            return "customer", {
                "query": CUSTOMER,
                "variables": {"id": self.rng.choice(self.persons)},
            }
        if kind == 1:
            return "account", {
                "query": ACCOUNT,
                "variables": {"id": self.rng.choice(self.accounts)},
            }
        return "households", {"query": HOUSEHOLDS, "variables": {"min": self.rng.randint(1, 4)}}


class Connection:
    """One keep-alive HTTP/1.1 connection speaking just enough HTTP for this benchmark.

    A hand-rolled client costs the load generator tens of microseconds a request, where a
    general one (httpx) costs hundreds: on two cores the generator must not be what limits.
    """

    def __init__(self, host: str, port: int, key: str = KEY) -> None:
        self.host, self.port, self.key = host, port, key
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: dict[str, object], retry: bool = True) -> bool:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        payload = json.dumps(body).encode()
        head = (
            f"POST /graphql HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {self.key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        ).encode()
        self.writer.write(head + payload)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line and retry:
            # The server closed an idle keep-alive connection: reconnect once.
            self.writer.close()
            self.writer = None
            return await self.post(body, retry=False)
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        data = await self.reader.readexactly(length)
        return status_line.split(b" ")[1] == b"200" and b'"errors"' not in data

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def closed_loop(port: int, mix: Mix, clients: int, seconds: float) -> dict[str, object]:
    done: dict[str, int] = defaultdict(int)
    errors: dict[str, int] = defaultdict(int)
    stop = time.monotonic() + seconds

    async def worker() -> None:
        connection = Connection("127.0.0.1", port)
        while time.monotonic() < stop:
            name, body = mix.next()
            try:
                ok = await connection.post(body)
            except (OSError, asyncio.IncompleteReadError):
                ok = False
                connection = Connection("127.0.0.1", port)
            done[name] += 1
            if not ok:
                errors[name] += 1
        await connection.close()

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return {"elapsed": time.monotonic() - started, "done": dict(done), "errors": dict(errors)}


async def open_loop(
    port: int, mix: Mix | AmlMix, rate: float, seconds: float, key: str = KEY
) -> dict[str, list[float]]:
    """Requests on a fixed schedule; a free connection from a pool sends each, a new one
    is opened when all are busy, so a slow answer never delays the next send."""
    latencies: dict[str, list[float]] = defaultdict(list)
    failures = 0
    idle: list[Connection] = []
    start = time.monotonic() + 0.5

    async def one(at: float, name: str, body: dict[str, object]) -> None:
        nonlocal failures
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        connection = idle.pop() if idle else Connection("127.0.0.1", port, key)
        try:
            ok = await connection.post(body)
            idle.append(connection)
        except (OSError, asyncio.IncompleteReadError):
            ok = False
        latencies[name].append(time.monotonic() - at)
        if not ok:
            failures += 1

    tasks = []
    for i in range(int(rate * seconds)):
        name, body = mix.next()
        tasks.append(asyncio.create_task(one(start + i / rate, name, body)))
    await asyncio.gather(*tasks)
    for connection in idle:
        await connection.close()
    latencies["_failures"] = [float(failures)]
    return latencies


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    store_dir, persons, accounts = prepare(args.customers, args.seed)
    port = _free_port()
    server = start_server(store_dir, port)
    try:
        asyncio.run(closed_loop(port, Mix(persons, accounts, 1), 8, 5))  # warm-up
        sat = asyncio.run(closed_loop(port, Mix(persons, accounts, 2), args.clients, args.seconds))
        lat = asyncio.run(open_loop(port, Mix(persons, accounts, 3), args.rate, args.seconds))
        aml = asyncio.run(open_loop(port, AmlMix(accounts), args.rate, args.seconds, RISK_KEY))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)

    done: dict[str, int] = sat["done"]
    errors: dict[str, int] = sat["errors"]
    elapsed = float(sat["elapsed"])
    total = sum(done.values())
    print(
        f"## API: {args.customers:,} customers, one uvicorn worker, load generator in another process\n"
    )
    print(f"### Saturation: {args.clients} clients, closed loop, {elapsed:.0f} s\n")
    print("| operation | requests | requests/s | errors |\n|---|---:|---:|---:|")
    for name in sorted(done):
        print(f"| {name} | {done[name]:,} | {done[name] / elapsed:.0f} | {errors.get(name, 0)} |")
    print(f"| **all** | {total:,} | **{total / elapsed:.0f}** | {sum(errors.values())} |\n")
    print(f"### Latency: open loop at {args.rate:.0f} requests/s for {args.seconds:.0f} s\n")
    print("| operation | requests | p50 (ms) | p95 (ms) | p99 (ms) |\n|---|---:|---:|---:|---:|")
    everything: list[float] = []
    for name in sorted(k for k in lat if not k.startswith("_")):
        values = np.array(lat[name]) * 1000
        everything += values.tolist()
        p50, p95, p99 = np.percentile(values, [50, 95, 99])
        print(f"| {name} | {len(values):,} | {p50:.1f} | {p95:.1f} | {p99:.1f} |")
    values = np.array(everything)
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    print(f"| **all** | {len(values):,} | **{p50:.1f}** | {p95:.1f} | **{p99:.1f}** |")
    print(
        f"\nfailed requests in the open loop: {lat['_failures'][0]:.0f}; median {statistics.median(everything):.1f} ms"
    )
    print(
        f"\n### Risk tools: open loop at {args.rate:.0f} requests/s for {args.seconds:.0f} s (risk key)\n"
    )
    print("| operation | requests | p50 (ms) | p95 (ms) | p99 (ms) |\n|---|---:|---:|---:|---:|")
    for name in sorted(k for k in aml if not k.startswith("_")):
        values = np.array(aml[name]) * 1000
        p50, p95, p99 = np.percentile(values, [50, 95, 99])
        print(f"| {name} | {len(values):,} | {p50:.1f} | {p95:.1f} | {p99:.1f} |")
    print(f"\nfailed requests: {aml['_failures'][0]:.0f}")


if __name__ == "__main__":
    main()
