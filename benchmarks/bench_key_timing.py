"""Benchmark the cross-key timing attack: can a campaign key time what an analyst searched?

The server runs as its own process on the zh-locale bank (``bench_search.prepare``). Each
round, the analyst key searches a phone written into the query text; then the campaign key
sends that same text and a text nobody sent, in random order, each timed from send to answer.
If a cache shared by the keys answers the sent text sooner, the campaign key learns what the
analyst searched; the script prints both medians and how often one request, classed by
the midpoint of the medians, is classed right (0.5: the time says nothing).

``--src`` runs another checkout's sources (a before/after run). The server's search rate
limit is lifted (``RELGRAPH_SEARCH_RATE``): at the default 60 a minute the attack is slower,
not stopped (one request suffices).

    .venv/bin/python benchmarks/bench_key_timing.py --customers 800 --rounds 300
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import time

import httpx

from bench_api import _free_port, start_server
from bench_search import prepare

ANALYST = "bench-analyst-key-0123456789"
CAMPAIGN = "bench-campaign-key-0123456789"
SEARCH = """{ search(text: "%s", first: 5) { totalCount edges { node { matchedOn
  person { id name birthYear accounts(first: 3) { edges { node { id } } } }
  household { id size } } } } }"""


def attack(port: int, rounds: int, seed: int) -> tuple[list[float], list[float]]:
    """Times of the campaign key's requests: (texts the analyst sent, texts nobody sent)."""
    rng = random.Random(seed)
    sent: list[float] = []
    unsent: list[float] = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:

        def post(key: str, text: str) -> float:
            started = time.perf_counter()
            answer = client.post(
                "/graphql", json={"query": text}, headers={"Authorization": f"Bearer {key}"}
            )
            elapsed = time.perf_counter() - started
            if answer.status_code != 200 or "errors" in answer.json():
                raise SystemExit(f"unexpected answer: {answer.text[:300]}")
            return elapsed

        for _ in range(rounds):
            phone, other = (f"13{rng.randrange(10**9):09d}" for _ in range(2))
            post(ANALYST, SEARCH % phone)
            pair = [(phone, sent), (other, unsent)]
            rng.shuffle(pair)
            for text, times in pair:
                times.append(post(CAMPAIGN, SEARCH % text))
    return sent, unsent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=800)
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--src", help="another checkout's src/ to serve from")
    args = parser.parse_args()
    _, store_dir = prepare(args.customers, args.seed)
    os.environ["RELGRAPH_SEARCH_RATE"] = "1000000"
    port = _free_port()
    keys = f"analyst:{ANALYST},campaign:{CAMPAIGN}"
    server = start_server(store_dir, port, keys, args.src)
    try:
        sent, unsent = attack(port, args.rounds, args.seed)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
    hit, miss = statistics.median(sent), statistics.median(unsent)
    middle = (hit + miss) / 2
    right = sum(t < middle for t in sent) + sum(t >= middle for t in unsent)
    print(f"{args.customers:,} customers, {args.rounds} rounds, src {args.src or 'this checkout'}")
    print(f"campaign key, text the analyst sent: median {hit * 1e3:.2f} ms")
    print(f"campaign key, text nobody sent:      median {miss * 1e3:.2f} ms")
    print(f"one request classed right: {right / (len(sent) + len(unsent)):.3f} (0.5 = no signal)")


if __name__ == "__main__":
    main()
