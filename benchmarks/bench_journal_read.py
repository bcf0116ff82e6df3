"""Benchmark the whole reads of the journal: what every load and every server start pays.

A load checks the journal against the store (``journal.behind``: the entries the last load
merged are all there) and takes its head (last ``seq`` and digest, part of the load's
fingerprint); a server start checks it too and its live index replays it
(``journal.read``). Each is a read of every entry since the first, so it grows with
everything streamed. This writes a journal of N transfer entries (as ``POST /v1/transfers``
journals them: batches of 50, hanzi in a field) and times, median of ``--runs``: a whole
read, the digest, a load's two checks (``behind_and_head`` in one read where the code
has it, else ``behind`` then ``head``, as loads did until 2026-12-06), and a read of a kind
the journal holds none of (a load's reads of the accounts and the decisions it merges, in a
journal of transfers; lines of other kinds are checked, not parsed, since 2026-12-07). And a
server's readers: a follower of the chain reviews (a start, each refresh), and a new live
index's replay after a load merged all but the last 1% (lines the store holds are checked,
not parsed, since 2026-12-07; before, both parsed every line). Run it on another checkout
with ``PYTHONPATH=<checkout>/src`` for a reference.

    .venv/bin/python benchmarks/bench_journal_read.py --entries 10000 100000
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from relgraph import journal
from relgraph.journal import ACCOUNT, CHAIN_REVIEW, TRANSFER, Journal
from relgraph.journal.follow import Follower


def _batch(start: int, n: int) -> list[dict[str, object]]:
    return [
        {"tx_id": f"RT-{start + i:09d}", "from_account": f"A{(start + i) * 7 % 99_991:08d}",
         "to_account": f"A{(start + i) * 13 % 99_989:08d}", "amount": 1_234.5 + i,
         "currency": "CNY", "ts": "2026-12-06T10:00:00+08:00", "memo": "房租 十二月"}
        for i in range(n)
    ]  # fmt: skip


def _load_checks(data: Path, meta: dict[str, str]) -> object:
    both = getattr(journal, "behind_and_head", None)
    if both is not None:
        return both(data, meta)
    return journal.behind(data, meta), journal.head(data)


def _replay(data: Path, merged: int) -> int:
    """What a new live index reads of the journal after a load that merged up to ``merged``."""
    try:
        follower = Follower(data, (ACCOUNT, TRANSFER), merged=(TRANSFER,), upto=merged)
    except TypeError:  # a checkout before 2026-12-07: every line is read
        follower = Follower(data, (ACCOUNT, TRANSFER))
    return sum(1 for _ in follower.entries())


def measure(entries: int, runs: int) -> dict[str, float]:
    """Microseconds an entry, median of ``runs``, per read (the table's figures)."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        writer = Journal(data)
        for start in range(0, entries, 50):
            writer.append(TRANSFER, _batch(start, min(50, entries - start)), by="key-1")
        # The store merged all but the last 1%: what a load after some streaming finds.
        merged = entries - entries // 100
        meta = {journal.META_SEQ: str(merged), journal.META_DIGEST: journal.digest(data, merged)}
        reads: dict[str, Callable[[], object]] = {
            "read": lambda: sum(1 for _ in journal.read(data)),
            "digest": lambda: journal.digest(data),
            "load_checks": lambda: _load_checks(data, meta),
            "other_kind": lambda: sum(1 for _ in journal.read(data, [journal.ACCOUNT])),
            "reviews": lambda: sum(1 for _ in Follower(data, [CHAIN_REVIEW]).entries()),
            "replay": lambda: _replay(data, merged),
        }
        times: dict[str, list[float]] = {name: [] for name in reads}
        for _ in range(runs):
            for name, run in reads.items():
                started = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - started)
    return {name: statistics.median(t) / entries * 1e6 for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print("| entries | whole read | digest | a load's checks | a read of accounts "
          "| a follower of reviews | a live index's replay after a load |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for entries in args.entries:
        m = measure(entries, args.runs)
        print(f"| {entries:,} | {m['read']:.1f} | {m['digest']:.1f} | {m['load_checks']:.1f} "
              f"| {m['other_kind']:.1f} | {m['reviews']:.1f} | {m['replay']:.1f} |")  # fmt: skip


if __name__ == "__main__":
    main()
