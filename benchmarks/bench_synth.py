"""Benchmark ``relgraph.synth.generate``: wall time, peak RSS and rows per table.

Each repeat runs ``generate`` in a fresh child process writing to a temporary directory, so
the peak resident set size is that of one generation (read from the child's resource usage
as the parent reaps it). Prints a markdown table; the summary row is the median of repeats.

    .venv/bin/python benchmarks/bench_synth.py --customers 1000000 --repeats 3 --format csv --locale zh
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

_CHILD = """
import json, sys, time
from pathlib import Path
from relgraph.synth import generate
customers, seed, out, fmt = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
locale = sys.argv[5]
started = time.perf_counter()
counts = generate(customers, seed, out, fmt, locale=locale)
print(json.dumps({"seconds": time.perf_counter() - started, "counts": counts}))
"""


@dataclass(frozen=True)
class Run:
    """One generation: timings, memory, output size and rows per table."""

    generate_s: float
    process_s: float
    peak_rss_mb: float
    output_mb: float
    counts: dict[str, int]

    def figures(self) -> tuple[float, float, float, float]:
        """The numeric columns of the report."""
        return (self.generate_s, self.process_s, self.peak_rss_mb, self.output_mb)


def run_once(customers: int, seed: int, fmt: str, locale: str = "en") -> Run:
    """Generate one bank in a child process; return its timings, peak RSS and row counts."""
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as tmp:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(customers), str(seed), tmp, fmt, locale],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        output = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - started
        if child.returncode != 0:
            raise SystemExit(f"generate failed with exit code {child.returncode}")
        size = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
    result = json.loads(output.strip().splitlines()[-1])
    return Run(
        generate_s=float(result["seconds"]),
        process_s=elapsed,
        # ru_maxrss is in kilobytes on Linux.
        peak_rss_mb=usage.ru_maxrss / 1024,
        output_mb=size / 2**20,
        counts={str(k): int(v) for k, v in result["counts"].items()},
    )


def main() -> None:
    """Parse arguments, run the repeats and print the markdown report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--locale", choices=("en", "zh"), default="en")
    args = parser.parse_args()

    runs: list[Run] = []
    for i in range(args.repeats):
        run = run_once(args.customers, args.seed, args.format, args.locale)
        runs.append(run)
        print(
            f"repeat {i + 1}: generate {run.generate_s:.1f} s, peak RSS {run.peak_rss_mb:.0f} MB",
            file=sys.stderr,
        )

    print(
        f"## relgraph synth: {args.customers:,} customers, {args.format}, seed {args.seed}, "
        f"locale {args.locale}\n"
    )
    print("| run | generate (s) | process (s) | peak RSS (MB) | output (MB) |")
    print("|---|---:|---:|---:|---:|")
    for i, run in enumerate(runs, start=1):
        print(f"| {i} | " + " | ".join(f"{x:.1f}" for x in run.figures()) + " |")
    medians = [statistics.median(r.figures()[k] for r in runs) for k in range(4)]
    print("| **median** | " + " | ".join(f"{x:.1f}" for x in medians) + " |\n")

    print("| table | rows | rows per customer |")
    print("|---|---:|---:|")
    for name, rows in runs[0].counts.items():
        print(f"| {name} | {rows:,} | {rows / args.customers:.2f} |")


if __name__ == "__main__":
    main()
