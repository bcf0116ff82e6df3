"""Write the independent evaluation bank: relgraph's input tables and the planted truth.

    python benchmarks/independent/generate.py --customers 100000 --seed 1 --out /tmp/indbank

Standalone (numpy, pandas, pyarrow); see README.md beside this file for every choice.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from indbank import fingerprint
from indbank.bank import MIN_CUSTOMERS, generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--customers", type=int, help=f"customer rows, exactly (>= {MIN_CUSTOMERS})"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--out", type=Path, help="output directory")
    parser.add_argument(
        "--print-hash", action="store_true", help="print the generator's source hash and exit"
    )
    parser.add_argument("--quiet", action="store_true", help="print only the row counts")
    args = parser.parse_args(argv)
    if args.print_hash:
        print(fingerprint())
        return 0
    if args.customers is None or args.out is None:
        parser.error("--customers and --out are required")
    if args.customers < MIN_CUSTOMERS:
        parser.error(f"--customers must be at least {MIN_CUSTOMERS}")
    started = time.perf_counter()
    log = None if args.quiet else (lambda line: print(line, file=sys.stderr))
    counts = generate(args.customers, args.seed, args.out, log)
    for name, rows in counts.items():
        print(f"{name:14s} {rows:>10,d}")
    print(f"{'seconds':14s} {time.perf_counter() - started:10.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
