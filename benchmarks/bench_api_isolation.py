"""Benchmark: heavy queries must not stall light ones or the health probe.

`relgraph serve` runs as its own process on 127.0.0.1 over a 5,000-customer bank (built,
loaded and analysed on first use, as bench_api.py does). For ``--seconds`` (20):

- 4 heavy clients, each with its own risk key, send the heaviest query allowed in a closed
  loop (``--heavy``, default ``riskChains``: see HEAVY; ``--probe`` times every
  candidate once and prints its cost, to choose it);
- 8 light clients, one analyst key, send ``customer`` queries, each ``--light-rate`` (10)
  a second (0: back to back, a closed loop that saturates the server by itself);
- one prober sends ``GET /healthz`` every 50 ms.

Pass: every ``customer`` answer is HTTP 200 without errors, its p99 ≤ 100 ms, ``/healthz``
p99 ≤ 50 ms, and each heavy client completes ≥ 1 query/s. ``--src`` runs the server from
another checkout (e.g. ``/work/main/src``) for the before figures.

    .venv/bin/python benchmarks/bench_api_isolation.py --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import bench_api
from bench_api import CUSTOMER, DATA, _free_port, prepare

ANALYST_KEY = "bench-analyst-key-0123456789"
HEAVY_KEYS = [f"bench-risk-key-{i}-0123456789" for i in range(4)]

# The candidates for "the most expensive allowed query": each is within the cost limit.
CANDIDATES = {
    "linkedAccounts": """query linkedAccounts($id: ID!) { linkedAccounts(accountId: $id,
      maxHops: 4, first: 100) { totalCount edges { node { account { id } hops strength
      path { strength evidence { kind ref } } } } } }""",
    "layeringCheck": """query layeringCheck($id: ID!) { layeringCheck(accountId: $id,
      maxHops: 8) { score truncated reasons { reason weight }
      chains { id typology score hops { txId amount timestamp } } } }""",
    "riskChains": """query riskChains { riskChains(filter: {minScore: 0}, first: 15) {
      totalCount edges { node { id typology score reasons { reason weight }
      hops { txId amount from { id } to { id } } } } } }""",
    "households": """query households { households(first: 30) { totalCount
      edges { node { id size totalAum members { id name accounts(first: 10) {
      edges { node { id balance } } } } } } } }""",
    "campaignAudience": """query campaignAudience {
      campaignAudience(criteria: {unit: HOUSEHOLD}, first: 100) { totalCount
      edges { node { unitId size totalAum deposits products productGap contacts
      excluded { reason count } qualifiedBecause } } } }""",
}
HEAVY = "households"
"""The heaviest in server time of the candidates on this bank (``--probe``)."""


class Client:
    """One keep-alive HTTP/1.1 connection: a few tens of µs a request (httpx costs more)."""

    def __init__(self, port: int, key: str | None = None) -> None:
        self.port, self.key = port, key
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: object = None) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        payload = b"" if body is None else json.dumps(body).encode()
        auth = f"Authorization: Bearer {self.key}\r\n" if self.key else ""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        self.writer.write(head.encode() + payload)
        await self.writer.drain()
        status_line = await self.reader.readline()
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        data = await self.reader.readexactly(length)
        return int(status_line.split(b" ")[1]), data

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def start_server(store_dir: Path, port: int, src: str | None) -> subprocess.Popen[str]:
    keys = [f"analyst:{ANALYST_KEY}", *(f"risk:{k}" for k in HEAVY_KEYS)]
    return bench_api.start_server(store_dir, port, ",".join(keys), src)


def _body(name: str, account: str) -> dict[str, object]:
    query = CANDIDATES[name]
    return {"query": query, "variables": {"id": account} if "$id" in query else {}}


def _ok(status: int, data: bytes) -> bool:
    return status == 200 and b'"errors"' not in data


async def probe(port: int, accounts: list[str]) -> None:
    """Each candidate once per account of a sample (warm), with its median time."""
    client = Client(port, HEAVY_KEYS[0])
    sample = random.Random(5).sample(accounts, 10)
    for name in CANDIDATES:
        times, failures = [], 0
        for account in sample:
            started = time.perf_counter()
            status, data = await client.request("POST", "/graphql", _body(name, account))
            times.append(time.perf_counter() - started)
            failures += not _ok(status, data)
            if not _ok(status, data) and failures == 1:
                print(name, status, data[:300])
        print(f"{name}: median {statistics.median(times) * 1000:.0f} ms, failures {failures}")
    await client.close()


async def run_once(
    port: int,
    persons: list[str],
    accounts: list[str],
    seconds: float,
    heavy: str,
    light_rate: float,
) -> dict[str, object]:
    stop = time.monotonic() + seconds
    customer_ms: list[float] = []
    customer_bad: dict[str, int] = {}
    health_ms: list[float] = []
    heavy_done = [0] * len(HEAVY_KEYS)
    heavy_refused = [0] * len(HEAVY_KEYS)

    async def light(seed: int) -> None:
        rng, client = random.Random(seed), Client(port, ANALYST_KEY)
        next_send = time.monotonic() + rng.random() / max(light_rate, 1)
        while time.monotonic() < stop:
            if light_rate:
                await asyncio.sleep(max(0.0, next_send - time.monotonic()))
                next_send += 1 / light_rate
            body = {"query": CUSTOMER, "variables": {"id": rng.choice(persons)}}
            started = time.perf_counter()
            status, data = await client.request("POST", "/graphql", body)
            customer_ms.append((time.perf_counter() - started) * 1000)
            if not _ok(status, data):
                customer_bad[str(status)] = customer_bad.get(str(status), 0) + 1
        await client.close()

    async def heavy_client(i: int) -> None:
        rng, client = random.Random(100 + i), Client(port, HEAVY_KEYS[i])
        while time.monotonic() < stop:
            body = _body(heavy, rng.choice(accounts))
            status, data = await client.request("POST", "/graphql", body)
            if _ok(status, data):
                heavy_done[i] += 1
            elif status == 429:
                heavy_refused[i] += 1
        await client.close()

    async def health() -> None:
        client = Client(port)
        while time.monotonic() < stop:
            started = time.perf_counter()
            status, _ = await client.request("GET", "/healthz")
            health_ms.append((time.perf_counter() - started) * 1000)
            assert status == 200
            await asyncio.sleep(0.05)
        await client.close()

    started = time.monotonic()
    await asyncio.gather(
        *(light(i) for i in range(8)), *(heavy_client(i) for i in range(4)), health()
    )
    elapsed = time.monotonic() - started
    return {
        "customer_queries": len(customer_ms),
        "customer_not_ok": customer_bad,
        "customer_p50_ms": float(np.percentile(customer_ms, 50)),
        "customer_p99_ms": float(np.percentile(customer_ms, 99)),
        "healthz_p50_ms": float(np.percentile(health_ms, 50)),
        "healthz_p99_ms": float(np.percentile(health_ms, 99)),
        "heavy_per_client_per_s": [round(d / elapsed, 2) for d in heavy_done],
        "heavy_429": heavy_refused,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--light-rate", type=float, default=10.0, help="per light client")
    parser.add_argument("--heavy", choices=sorted(CANDIDATES), default=HEAVY)
    parser.add_argument("--src", help="PYTHONPATH of the server (another checkout's src)")
    parser.add_argument("--probe", action="store_true", help="time each heavy candidate")
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    store_dir, persons, accounts = prepare(args.customers, args.seed)
    port = _free_port()
    server = start_server(store_dir, port, args.src)
    try:
        if args.probe:
            asyncio.run(probe(port, accounts))
            return
        asyncio.run(run_once(port, persons, accounts, 3, args.heavy, args.light_rate))  # warm-up
        runs = [
            asyncio.run(
                run_once(port, persons, accounts, args.seconds, args.heavy, args.light_rate)
            )
            for _ in range(args.runs)
        ]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    for run in runs:
        print(json.dumps(run))
    median = {
        key: statistics.median(float(r[key]) for r in runs)  # type: ignore[arg-type]
        for key in ("customer_p50_ms", "customer_p99_ms", "healthz_p50_ms", "healthz_p99_ms")
    }
    slowest = statistics.median(min(r["heavy_per_client_per_s"]) for r in runs)  # type: ignore[type-var]
    print(
        json.dumps(
            {"heavy": args.heavy, "median": median, "slowest_heavy_per_s": slowest,
             "customer_not_ok": [r["customer_not_ok"] for r in runs]}
        )
    )  # fmt: skip


if __name__ == "__main__":
    main()
