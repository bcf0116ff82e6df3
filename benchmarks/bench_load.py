"""Benchmark ``relgraph load`` + graph projection on a synthetic bank: wall time and peak RSS.

The bank is synthesised once into ``benchmarks/data/bank-<customers>-<seed>-<format>``
(reused on later runs). Each repeat runs, in one fresh child process, a load into an
empty data directory followed by ``build_projection`` from the store it wrote, so the
peak resident set size is that of one load + projection (read as the parent reaps the
child). A second load of the same files then measures the unchanged-input path.
Prints a markdown table; the summary row is the median of the repeats.

    .venv/bin/python benchmarks/bench_load.py --customers 1000000 --repeats 3
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

DATA = Path(__file__).parent / "data"

_CHILD = """
import json, sys, time
from pathlib import Path
from relgraph.graph import build_projection, graph_stats
from relgraph.ingest import load_directory
from relgraph.store.embedded import EmbeddedStore
source, data_dir = Path(sys.argv[1]), Path(sys.argv[2])
started = time.perf_counter()
with EmbeddedStore(data_dir) as store:
    report = load_directory(source, store, data_dir)
loaded = time.perf_counter()
with EmbeddedStore(data_dir, read_only=True) as store:
    projection = build_projection(store)
projected = time.perf_counter()
with EmbeddedStore(data_dir) as store:
    again = load_directory(source, store, data_dir)
reloaded = time.perf_counter()
stats = graph_stats(projection)
print(json.dumps({
    "load_s": loaded - started,
    "projection_s": projected - loaded,
    "reload_s": reloaded - projected,
    "unchanged": again.unchanged,
    "rows_in": report.rows_in,
    "quarantined": report.quarantined,
    "persons": report.persons,
    "nodes": sum(stats["nodes"].values()),
    "edges": sum(stats["edges"].values()),
}))
"""


@dataclass(frozen=True)
class Run:
    load_s: float
    projection_s: float
    reload_s: float
    peak_rss_mb: float
    store_mb: float
    detail: dict[str, object]

    def figures(self) -> tuple[float, ...]:
        return (
            self.load_s,
            self.projection_s,
            self.load_s + self.projection_s,
            self.reload_s,
            self.peak_rss_mb,
            self.store_mb,
        )


def bank(
    customers: int,
    seed: int,
    fmt: str,
    dirty: float,
    locale: str = "en",
    export_style: str = "plain",
) -> Path:
    """The benchmark bank, synthesised on first use (the en bank keeps its old folder name)."""
    suffix = "" if locale == "en" else f"-{locale}"
    suffix += "" if export_style == "plain" else f"-{export_style}"
    out = DATA / f"bank-{customers}-{seed}-{fmt}-{dirty:g}{suffix}"
    if not (out / "truth").exists():
        from relgraph.synth import generate

        print(f"synthesising {customers:,} customers into {out} …", file=sys.stderr)
        generate(customers, seed, out, fmt, dirty, locale=locale, export_style=export_style)
    return out


def run_once(source: Path) -> Run:
    with tempfile.TemporaryDirectory(prefix="bench-load-", dir=DATA) as tmp:
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(source), tmp], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None
        output = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit("load failed")
        store_mb = (Path(tmp) / "relgraph.duckdb").stat().st_size / 2**20
    result = json.loads(output.strip().splitlines()[-1])
    return Run(
        load_s=float(result.pop("load_s")),
        projection_s=float(result.pop("projection_s")),
        reload_s=float(result.pop("reload_s")),
        peak_rss_mb=usage.ru_maxrss / 1024,  # kilobytes on Linux
        store_mb=store_mb,
        detail=result,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--dirty", type=float, default=0.0)
    parser.add_argument("--locale", choices=("en", "zh"), default="en")
    parser.add_argument(
        "--export-style",
        choices=("plain", "bank"),
        default="plain",
        help="bank: the zh bank as `relgraph synth` writes it by default (GB 18030, mapping.yaml)",
    )
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    source = bank(
        args.customers, args.seed, args.format, args.dirty, args.locale, args.export_style
    )

    runs: list[Run] = []
    for i in range(args.repeats):
        started = time.perf_counter()
        run = run_once(source)
        runs.append(run)
        print(
            f"repeat {i + 1}: load {run.load_s:.1f} s + projection {run.projection_s:.1f} s, "
            f"peak RSS {run.peak_rss_mb:.0f} MB ({time.perf_counter() - started:.0f} s)",
            file=sys.stderr,
        )
    print(
        f"## relgraph load + projection: {args.customers:,} customers, {args.format}, "
        f"dirty {args.dirty:g}, seed {args.seed}, locale {args.locale}\n"
    )
    print(
        "| run | load (s) | projection (s) | load + projection (s) | unchanged reload (s) "
        "| peak RSS (MB) | store file (MB) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for i, run in enumerate(runs, start=1):
        print(f"| {i} | " + " | ".join(f"{x:.1f}" for x in run.figures()) + " |")
    medians = [statistics.median(r.figures()[k] for r in runs) for k in range(6)]
    print("| **median** | " + " | ".join(f"{x:.1f}" for x in medians) + " |\n")
    print("```\n" + json.dumps(runs[0].detail, indent=1) + "\n```")


if __name__ == "__main__":
    main()
