"""``relgraph stream``: the replay of a transfers file against a running server.

The file is a :class:`~relgraph.jobs.sources.file.FileSource`, one of the transfer sources
of :mod:`relgraph.jobs.sources` (the seam: HTTP, file, Kafka). :func:`replay` sends its
batches to ``POST /v1/transfers``, paced on a fixed schedule (open loop: a slow answer does
not slow the offered rate, so latency under load is measured honestly), resends a batch whose
answer did not arrive, until it does, and commits the source after each answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from relgraph.jobs.sources import TransferSource
from relgraph.jobs.sources.file import FileSource

if TYPE_CHECKING:
    import httpx

__all__ = ["FileSource", "ReplayReport", "replay"]


@dataclass
class ReplayReport:
    """What a replay sent and how long the answers took (seconds per batch)."""

    sent: int = 0
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    alerts: int = 0
    retries: int = 0
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    rejections: list[str] = field(default_factory=list)

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def replay(
    source: TransferSource,
    url: str,
    key: str,
    rate: float,
    batch: int = 50,
    *,
    timeout: float = 10.0,
    on_batch: Callable[[ReplayReport], None] | None = None,
    client: httpx.Client | None = None,
) -> ReplayReport:
    """Send ``source`` to ``url``'s ``/v1/transfers`` at ``rate`` transfers per second
    (0: as fast as answers come) in batches of ``batch``; resend what got no answer.
    ``client``: the HTTP client to send with (a test's transport); closed at the end."""
    import httpx

    from relgraph.jobs.sources.http import BatchPoster

    report = ReplayReport()
    started = time.perf_counter()
    due = started
    with client or httpx.Client(timeout=timeout) as http:
        # Resent until answered (None): the replay measures the server, and a batch it
        # skipped would leave a hole in the stream. A batch over the body limit goes in
        # halves, a transfer alone too large is answered as rejected (see BatchPoster).
        poster = BatchPoster(url, key, http, retries=None)
        for records in source.batches(batch):
            if rate > 0:
                pause = due - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                due += len(records) / rate
            sent_at = time.perf_counter()
            answer = poster.answer(records)
            report.retries = poster.resent
            report.latencies.append(time.perf_counter() - sent_at)
            source.commit()
            report.sent += len(records)
            report.accepted += answer["accepted"]
            report.duplicate += answer["duplicate"]
            report.rejected += answer["rejected"]
            for result in answer["results"]:
                if result["status"] == "rejected" and len(report.rejections) < 20:
                    report.rejections.append(f"{result['tx_id']}: {result['reasons'][0]}")
                verdict = result.get("verdict") or {}
                report.alerts += sum(1 for a in verdict.get("alerts", []) if a["above_threshold"])
            if on_batch is not None:
                on_batch(report)
    report.seconds = time.perf_counter() - started
    return report
