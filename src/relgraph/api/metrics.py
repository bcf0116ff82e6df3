"""Prometheus text metrics: request counts, latencies and errors by operation."""

from __future__ import annotations

import threading
from collections import defaultdict

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    """Counters and latency histograms, keyed by GraphQL operation (or HTTP route)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str], int] = defaultdict(int)
        self.errors: dict[str, int] = defaultdict(int)
        self.buckets: dict[str, list[int]] = defaultdict(lambda: [0] * len(BUCKETS))
        self.sums: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)

    def observe(self, operation: str, seconds: float, outcome: str) -> None:
        with self._lock:
            self.requests[(operation, outcome)] += 1
            if outcome != "ok":
                self.errors[operation] += 1
            row = self.buckets[operation]
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    row[i] += 1
            self.sums[operation] += seconds
            self.counts[operation] += 1

    def render(self) -> str:
        lines = [
            "# HELP relgraph_requests_total GraphQL requests by operation and outcome.",
            "# TYPE relgraph_requests_total counter",
        ]
        with self._lock:
            for (op, outcome), n in sorted(self.requests.items()):
                lines.append(
                    f'relgraph_requests_total{{operation="{_label(op)}",outcome="{outcome}"}} {n}'
                )
            lines += [
                "# HELP relgraph_request_errors_total GraphQL requests that returned errors.",
                "# TYPE relgraph_request_errors_total counter",
            ]
            for op, n in sorted(self.errors.items()):
                lines.append(f'relgraph_request_errors_total{{operation="{_label(op)}"}} {n}')
            lines += [
                "# HELP relgraph_request_seconds GraphQL request latency.",
                "# TYPE relgraph_request_seconds histogram",
            ]
            for op, row in sorted(self.buckets.items()):
                name = _label(op)
                for bound, n in zip(BUCKETS, row, strict=True):
                    lines.append(
                        f'relgraph_request_seconds_bucket{{operation="{name}",le="{bound}"}} {n}'
                    )
                lines.append(
                    f'relgraph_request_seconds_bucket{{operation="{name}",le="+Inf"}} {self.counts[op]}'
                )
                lines.append(
                    f'relgraph_request_seconds_sum{{operation="{name}"}} {self.sums[op]:.6f}'
                )
                lines.append(
                    f'relgraph_request_seconds_count{{operation="{name}"}} {self.counts[op]}'
                )
        return "\n".join(lines) + "\n"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
