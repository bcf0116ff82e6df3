"""Benchmark a refresh's catch-up read: what the journal gained, after N entries already read.

A refresh's new live index applies what the journal gained during its build in rounds, the
last with payments paused (``api/live_build.swap_live``). This writes a journal of N
transfer entries (as ``POST /v1/transfers`` journals them: batches of 50), reads it, appends
one more batch of ``--new`` entries, and times reading what is new: by a whole read skipping
the seqs already read (``journal.read``, the catch-up until 2026-12-06) and by the follower
that reads on from where it stopped (``journal/follow.py``). Median of ``--runs``.

    .venv/bin/python benchmarks/bench_journal_follow.py --entries 10000 100000
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from relgraph.journal import TRANSFER, Journal, read
from relgraph.journal.follow import Follower


def _batch(start: int, n: int) -> list[dict[str, object]]:
    return [
        {"tx_id": f"RT-{start + i:09d}", "from_account": f"A{(start + i) * 7 % 99_991:08d}",
         "to_account": f"A{(start + i) * 13 % 99_989:08d}", "amount": 1_234.5 + i,
         "currency": "CNY", "ts": "2026-12-06T10:00:00+08:00"}
        for i in range(n)
    ]  # fmt: skip


def measure(entries: int, new: int, runs: int) -> dict[str, float]:
    whole, follow = [], []
    for run in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp)
            journal = Journal(data)
            for start in range(0, entries, 50):
                journal.append(TRANSFER, _batch(start, min(50, entries - start)), by="k")
            follower = Follower(data, [TRANSFER])
            done = sum(1 for _ in follower.entries())
            journal.append(TRANSFER, _batch(entries + run * new, new), by="k")
            started = time.perf_counter()
            gained = [e for e in read(data, [TRANSFER]) if e.seq > done]
            whole.append(time.perf_counter() - started)
            started = time.perf_counter()
            followed = list(follower.entries())
            follow.append(time.perf_counter() - started)
            assert followed == gained
            assert len(gained) == new
    return {"whole_ms": statistics.median(whole) * 1e3,
            "follow_ms": statistics.median(follow) * 1e3}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--new", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print("| entries read before | new | whole read, ms | follower, ms |")
    print("|---|---|---|---|")
    for entries in args.entries:
        m = measure(entries, args.new, args.runs)
        print(f"| {entries:,} | {args.new} | {m['whole_ms']:,.1f} | {m['follow_ms']:,.2f} |")


if __name__ == "__main__":
    main()
