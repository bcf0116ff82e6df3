"""Benchmark ``search``: latency at a steady offered load on the 100,000-customer Chinese bank.

The server runs as its own process (one uvicorn worker) on the zh-locale bank (hanzi names,
each source system's own phone and id spellings; loaded and analysed on first use); this
process sends ``search`` queries on a fixed schedule (an open loop at ``--rate`` requests/s
for ``--seconds``), latency measured from the scheduled send time, so queueing counts.
The texts rotate what an investigator types: a whole hanzi name, a given name, a name in
pinyin, a phone as a source system wrote it, an id number, a customer id, an account id.
The index's own time per look-up (in this process, no HTTP) is printed too, with the time
to build it.

The server's rate limit is lifted (``RELGRAPH_SEARCH_RATE``) for the benchmark's one key.

    .venv/bin/python benchmarks/bench_search.py --customers 100000 --rate 50 --seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
from pypinyin import lazy_pinyin

from bench_api import ACCOUNT, RISK_KEY, _free_port, open_loop, start_server
from relgraph.api.readmodel import build_read_model
from relgraph.api.search_index import KINDS, SearchIndex
from relgraph.graph import build_projection
from relgraph.ingest import load_directory
from relgraph.jobs.analyze import analyze
from relgraph.store.embedded import EmbeddedStore
from relgraph.synth import generate

DATA = Path(__file__).parent / "data"
SEARCH = """query search($text: String!) { search(text: $text, first: 20) {
  totalCount edges { node { matchedOn person { id name } enterprise { id name }
  account { id } } } } }"""


def prepare(customers: int, seed: int) -> tuple[Path, Path]:
    bank = DATA / f"bank-{customers}-{seed}-csv-0-zh"
    store_dir = DATA / f"store-{customers}-{seed}-zh"
    if not (bank / "transfers.csv").exists():
        generate(customers, seed, bank, "csv", locale="zh")
    with EmbeddedStore(store_dir) as store:
        load_directory(bank, store, store_dir)
        if "households" not in store.result_names():
            analyze(store, build_projection(store))
    return bank, store_dir


class Texts:
    """What an investigator types, drawn from the bank's own rows, in rotation."""

    def __init__(self, bank: Path, seed: int) -> None:
        customers = pd.read_csv(bank / "customers.csv", dtype=str, keep_default_na=False)
        accounts = pd.read_csv(bank / "accounts.csv", dtype=str, usecols=["account_id"])
        self.rng = random.Random(seed)
        hanzi = customers[~customers["name"].map(str.isascii).astype(bool)]
        names = hanzi["name"].tolist()
        self.kinds: dict[str, list[str]] = {
            "name": names,
            "given_name": [n[1:] for n in names if len(n) > 2],
            "pinyin": ["".join(lazy_pinyin(n)) for n in self.rng.sample(names, 2_000)],
            "phone": [p for p in customers["phone"].tolist() if p],
            "id_number": [i for i in customers["id_number"].tolist() if i],
            "customer_id": customers["customer_id"].tolist(),
            "account_id": accounts["account_id"].tolist(),
        }
        self.turn = 0

    def next(self) -> tuple[str, dict[str, object]]:
        names = list(self.kinds)
        kind = names[self.turn % len(names)]
        self.turn += 1
        return kind, {"query": SEARCH, "variables": {"text": self.rng.choice(self.kinds[kind])}}

    def sample(self, n: int) -> Iterator[tuple[str, str]]:
        for _ in range(n):
            kind, body = self.next()
            variables = body["variables"]
            assert isinstance(variables, dict)
            yield kind, str(variables["text"])


class Lookups:
    """The baseline: ``account(id)`` lookups (with holder), the API's cheapest read."""

    def __init__(self, bank: Path, seed: int) -> None:
        accounts = pd.read_csv(bank / "accounts.csv", dtype=str, usecols=["account_id"])
        self.accounts = accounts["account_id"].tolist()
        self.rng = random.Random(seed)

    def next(self) -> tuple[str, dict[str, object]]:
        account = self.rng.choice(self.accounts)
        return "account (baseline)", {"query": ACCOUNT, "variables": {"id": account}}


def _table(title: str, lat: dict[str, list[float]]) -> None:
    print(f"### {title}\n")
    print("| text | requests | p50 (ms) | p95 (ms) | p99 (ms) |\n|---|---:|---:|---:|---:|")
    everything: list[float] = []
    for name in sorted(k for k in lat if not k.startswith("_")):
        values = np.array(lat[name]) * 1000
        everything += values.tolist()
        p50, p95, p99 = np.percentile(values, [50, 95, 99])
        print(f"| {name} | {len(values):,} | {p50:.1f} | {p95:.1f} | {p99:.1f} |")
    p50, p95, p99 = np.percentile(np.array(everything), [50, 95, 99])
    print(f"| **all** | {len(everything):,} | **{p50:.1f}** | {p95:.1f} | **{p99:.1f}** |")
    print(f"\nfailed requests: {lat['_failures'][0]:.0f}; load average after: "
          f"{os.getloadavg()[0]:.1f}\n")  # fmt: skip


def in_process(store_dir: Path, texts: Texts, n: int) -> None:
    with EmbeddedStore(store_dir, read_only=True) as store:
        model = build_read_model(store)
    started = time.perf_counter()
    index = SearchIndex(model)
    built = time.perf_counter() - started
    times: dict[str, list[float]] = {}
    for kind, text in texts.sample(n):
        t = time.perf_counter()
        index.find(text, KINDS)
        times.setdefault(kind, []).append(time.perf_counter() - t)
    print(f"### The index alone (this process): built in {built:.1f} s, {len(index.names):,} "
          f"name keys\n")  # fmt: skip
    print("| text | look-ups | p50 (ms) | p99 (ms) | max (ms) |\n|---|---:|---:|---:|---:|")
    for kind, values in times.items():
        ms = np.array(values) * 1000
        p50, p99 = np.percentile(ms, [50, 99])
        print(f"| {kind} | {len(ms):,} | {p50:.2f} | {p99:.2f} | {ms.max():.2f} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=2, help="search/baseline alternations")
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    bank, store_dir = prepare(args.customers, args.seed)
    print(f"## search: {args.customers:,} customers (zh), one uvicorn worker\n")
    print(f"load average before: {os.getloadavg()[0]:.1f}\n")
    in_process(store_dir, Texts(bank, 1), 5_000)
    os.environ["RELGRAPH_SEARCH_RATE"] = str(10**9)
    port = _free_port()
    server = start_server(store_dir, port, keys=f"risk:{RISK_KEY}")
    seconds = args.seconds / args.rounds
    try:
        asyncio.run(open_loop(port, Texts(bank, 2), args.rate, 5, RISK_KEY))  # warm-up
        # Search and the baseline alternate, so both see the same (shared) machine.
        for turn in range(args.rounds):
            lat = asyncio.run(open_loop(port, Texts(bank, 3 + turn), args.rate, seconds, RISK_KEY))
            _table(
                f"Round {turn + 1}: search, open loop at {args.rate:.0f}/s for {seconds:.0f} s", lat
            )
            base = asyncio.run(open_loop(port, Lookups(bank, turn), args.rate, seconds, RISK_KEY))
            _table(f"Round {turn + 1}: baseline account lookups, same rate", base)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
