"""``relgraph stream``: the replay of a transfers file against a running server.

The file is a :class:`~relgraph.jobs.sources.file.FileSource`, one of the transfer sources
of :mod:`relgraph.jobs.sources` (the seam: HTTP, file, Kafka). :func:`replay` sends its
batches to ``POST /v1/transfers``, paced on a fixed schedule (open loop: a slow answer does
not slow the offered rate, so latency under load is measured honestly), resends a batch whose
answer did not arrive, until it does, and commits the source after each answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from relgraph.jobs.sources import Record, TransferSource
from relgraph.jobs.sources.file import FileSource

if TYPE_CHECKING:
    import httpx

__all__ = ["FileSource", "ReplayReport", "replay"]

PATIENCE: Final = 60.0
"""Seconds without an answer to a batch before the replay gives up (and says where it was)."""


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
    stopped: str | None = None
    """Why the replay ended before the source did (None: it sent everything): "interrupted"
    (Ctrl-C), or the refusal or the giving up, in a sentence."""
    unacknowledged: Record | None = None
    """The first record sent but not acknowledged when it stopped (where to resume)."""

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
    patience: float = PATIENCE,
    on_batch: Callable[[ReplayReport], None] | None = None,
    on_wait: Callable[[str], None] | None = None,
    client: httpx.Client | None = None,
) -> ReplayReport:
    """Send ``source`` to ``url``'s ``/v1/transfers`` at ``rate`` transfers per second
    (0: as fast as answers come) in batches of ``batch``; resend what got no answer, each
    wait told to ``on_wait``, for up to ``patience`` seconds per batch.

    Ctrl-C, a refusal or giving up ends the replay with the report so far, the reason in
    ``stopped`` and the first record not acknowledged in ``unacknowledged``: every record
    before it was acknowledged (``sent``), so a rerun resumes there.
    ``client``: the HTTP client to send with (a test's transport); closed at the end."""
    import httpx

    from relgraph.jobs.sources.http import BatchPoster

    report = ReplayReport()
    started = time.perf_counter()
    due = started
    with client or httpx.Client(timeout=timeout) as http:
        # Bounded by time, not by a count: a server that is gone is given up on (and said
        # so) after ``patience``; a batch over the body limit goes in halves, a transfer
        # alone too large is answered as rejected (see BatchPoster).
        poster = BatchPoster(url, key, http, retries=None, patience=patience, on_wait=on_wait)
        in_flight: list[Record] = []
        try:
            for records in source.batches(batch):
                in_flight = records
                if rate > 0:
                    pause = due - time.perf_counter()
                    if pause > 0:
                        time.sleep(pause)
                    due += len(records) / rate
                sent_at = time.perf_counter()
                answer = poster.answer(records)
                report.latencies.append(time.perf_counter() - sent_at)
                source.commit()
                in_flight = []
                _count(report, len(records), answer)
                if on_batch is not None:
                    on_batch(report)
        except KeyboardInterrupt:
            report.stopped = "interrupted"
        except RuntimeError as exc:  # a refusal, or no answer within the patience
            report.stopped = str(exc)
        finally:
            report.retries = poster.resent
        report.unacknowledged = in_flight[0] if in_flight else None
    report.seconds = time.perf_counter() - started
    return report


def _count(report: ReplayReport, sent: int, answer: Mapping[str, Any]) -> None:
    report.sent += sent
    report.accepted += answer["accepted"]
    report.duplicate += answer["duplicate"]
    report.rejected += answer["rejected"]
    for result in answer["results"]:
        if result["status"] == "rejected" and len(report.rejections) < 20:
            report.rejections.append(f"{result['tx_id']}: {result['reasons'][0]}")
        verdict = result.get("verdict") or {}
        report.alerts += sum(1 for a in verdict.get("alerts", []) if a["above_threshold"])
