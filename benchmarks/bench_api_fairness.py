"""Benchmark: one key's backlog of cheap pooled queries must not delay another key.

`relgraph serve` runs as its own process on 127.0.0.1 over a bank already loaded and
analysed (``--data-dir``; the README's synth, load and analyze). Phases, ``--seconds`` each:

1. quiet: one client of a risk key sends ``linkedAccounts`` (3 hops, first 20; priced 641,
   ~9 ms alone: a pooled query under the heavy lane) every 50 ms, on random accounts;
2. flood: the same, from a process of its own, while ``--flood`` (64) clients of another
   risk key send ``--flood-query`` back to back, a closed loop (default
   ``linkedAccounts(maxHops: 4, first: 20)``, priced 141, ~5 ms of interpreter each;
   ``layeringCheck``, the stored alerts, priced 473, ~1.7 ms each, floods the event loop
   rather than the pool; both fit 16 in flight in the key's budget, so none is refused);
3. saturation, one key: ``--clients`` (32) clients of one key in a closed loop on the
   bench_api.py mix (analyst lookups, mostly answered on the event loop), then on
   ``layeringCheck`` (every worker busy: a lone key must still get the whole pool).

``--src`` runs the server from another checkout (e.g. ``/work/main/src``) for the before
figures.

    .venv/bin/python benchmarks/bench_api_fairness.py --data-dir D --port 8300
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_api import CHECK, KEY, LINKED, Connection, Mix, start_server
from relgraph.store.embedded import EmbeddedStore

FLOOD_KEY = "bench-flood-key-0123456789"
OTHER_KEY = "bench-other-key-0123456789"

CUSTOMER_PAGE = """query customerPage($id: ID!) { account(id: $id) { holder { id name
  ... on Person { accounts(first: 50) { edges { node { id product balance } } } } } } }"""
LINKED_4 = """query linkedAccounts4($id: ID!) { linkedAccounts(accountId: $id, maxHops: 4,
  first: 20) { totalCount edges { node { account { id } hops strength } } } }"""
QUERIES = {
    "linkedAccounts": LINKED,
    "linkedAccounts4": LINKED_4,
    "layeringCheck": CHECK,
    "customerPage": CUSTOMER_PAGE,
}

Body = Callable[[], dict[str, object]]


def pooled(query: str, accounts: list[str], seed: int) -> Body:
    rng = random.Random(seed)
    return lambda: {"query": query, "variables": {"id": rng.choice(accounts)}}


async def closed_loop(port: int, key: str, clients: int, body: Body, stop: float) -> list[int]:
    """Back-to-back requests from ``clients`` connections until ``stop``: [answered, failed]."""
    counts = [0, 0]

    async def client() -> None:
        connection = Connection("127.0.0.1", port, key)
        while time.monotonic() < stop:
            ok = await connection.post(body())
            counts[0 if ok else 1] += 1
        await connection.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return counts


async def paced(port: int, key: str, body: Body, every: float, stop: float) -> list[float]:
    """One client, one request every ``every`` seconds (or when the last answer came):
    each answer's latency in ms (a failed request counts as infinite)."""
    connection = Connection("127.0.0.1", port, key)
    latencies: list[float] = []
    while time.monotonic() < stop:
        started = time.monotonic()
        ok = await connection.post(body())
        took = time.monotonic() - started
        latencies.append(took * 1000 if ok else float("inf"))
        await asyncio.sleep(max(0.0, every - took))
    await connection.close()
    return latencies


def _flood(
    port: int, clients: int, query: str, accounts: list[str], stop: float, results: Any
) -> None:
    results.put(
        asyncio.run(closed_loop(port, FLOOD_KEY, clients, pooled(query, accounts, 2), stop))
    )


def _percentiles(values: list[float]) -> str:
    p50, p99 = np.percentile(values, [50, 99])
    return f"n={len(values)} p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(values):.1f} ms"


async def phases(port: int, persons: list[str], accounts: list[str], args: Any) -> None:
    seconds = args.seconds
    stop = time.monotonic() + 2  # warm-up
    other_query, flood_query = QUERIES[args.other_query], QUERIES[args.flood_query]
    await closed_loop(port, OTHER_KEY, 4, pooled(other_query, accounts, 0), stop)
    await closed_loop(port, FLOOD_KEY, 4, pooled(flood_query, accounts, 0), stop + 2)

    stop = time.monotonic() + seconds
    quiet = await paced(port, OTHER_KEY, pooled(other_query, accounts, 1), 0.05, stop)
    print(f"{args.other_query} of one key, {args.flood_query} flood of another")
    print(f"other key alone:           {_percentiles(quiet)}")

    # The flood runs in a process of its own: sharing this one's event loop, its 64 clients'
    # answers would delay the other key's (the generator's latency, not the server's).
    stop = time.monotonic() + seconds
    context = multiprocessing.get_context("fork")
    results = context.SimpleQueue()
    flooder = context.Process(
        target=_flood, args=(port, args.flood, flood_query, accounts, stop, results)
    )
    flooder.start()
    await asyncio.sleep(1.0)  # the flood's connections open and fill the pool
    other = await paced(port, OTHER_KEY, pooled(other_query, accounts, 3), 0.05, stop)
    flood = results.get()
    flooder.join()
    print(f"other key beside a flood:  {_percentiles(other)}")
    print(
        f"flooding key ({args.flood} clients): {flood[0] / seconds:.0f} answered/s, "
        f"{flood[1]} failed"
    )

    if not args.saturation:
        return
    mix = Mix(persons, accounts, 5)
    stop = time.monotonic() + seconds
    sat = await closed_loop(port, KEY, args.clients, lambda: mix.next()[1], stop)
    print(f"saturation, one key, bench_api mix ({args.clients} clients): "
          f"{sat[0] / seconds:.0f} answered/s, {sat[1]} failed")  # fmt: skip
    stop = time.monotonic() + seconds
    sat = await closed_loop(port, FLOOD_KEY, args.clients, pooled(CHECK, accounts, 6), stop)
    print(f"saturation, one key, layeringCheck ({args.clients} clients): "
          f"{sat[0] / seconds:.0f} answered/s, {sat[1]} failed")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, default=8300)
    parser.add_argument("--src", default=None, help="the server's sources (another checkout)")
    parser.add_argument("--flood", type=int, default=64)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--other-query", choices=QUERIES, default="linkedAccounts")
    parser.add_argument("--flood-query", choices=QUERIES, default="linkedAccounts4")
    parser.add_argument("--saturation", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    with EmbeddedStore(args.data_dir, read_only=True) as store:
        persons = store.read_table("persons", ["person_id"]).column(0).to_pylist()
        accounts = store.read_table("accounts", ["account_id"]).column(0).to_pylist()
    keys = f"risk:{FLOOD_KEY},risk:{OTHER_KEY},analyst:{KEY}"
    server = start_server(args.data_dir, args.port, keys, args.src)
    try:
        asyncio.run(phases(args.port, persons, accounts, args))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
