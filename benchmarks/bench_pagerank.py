"""PageRank on a referral-shaped graph: relgraph's power iteration against igraph's PRPACK.

Why it exists: the redesign asked for igraph's PageRank unless the hand-written one is
measured faster. A random directed graph of ``--persons`` nodes and ``--referrals``
edges (a referral graph is sparse: most persons refer nobody), median of ``--repeats``
runs each, and the largest difference between the two vectors.

    .venv/bin/python benchmarks/bench_pagerank.py --persons 1000000 --referrals 150000
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import igraph
import numpy as np
import numpy.typing as npt

from relgraph.analytics.influence import pagerank
from relgraph.analytics.params import InfluenceParams

Vector = npt.NDArray[np.float64]


def _median_seconds(run: Callable[[], Vector], repeats: int) -> tuple[float, Vector]:
    times, result = [], np.zeros(0)
    for _ in range(repeats):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--referrals", type=int, default=150_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    src = rng.integers(0, args.persons, args.referrals)
    dst = rng.integers(0, args.persons, args.referrals)
    keep = src != dst
    src, dst = src[keep], dst[keep]
    params = InfluenceParams()

    def ours() -> Vector:
        return pagerank(src, dst, args.persons, params)

    def prpack() -> Vector:
        graph = igraph.Graph(n=args.persons, edges=np.column_stack([src, dst]), directed=True)
        graph.simplify(multiple=True, loops=False)  # relgraph counts a repeated referral once
        return np.asarray(
            graph.pagerank(damping=params.damping, directed=True, implementation="prpack")
        )

    mine, a = _median_seconds(ours, args.repeats)
    theirs, b = _median_seconds(prpack, args.repeats)
    print("| persons | referrals | relgraph (s) | igraph PRPACK (s) | ratio | max abs diff |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {args.persons:,} | {len(src):,} | {mine:.3f} | {theirs:.3f} | "
        f"{theirs / mine:.2f}× | {np.abs(a - b).max():.1e} |"
    )


if __name__ == "__main__":
    main()
