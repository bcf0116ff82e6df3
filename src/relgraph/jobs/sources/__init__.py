"""Transfer sources: where real-time scoring gets its transfers, and the loop that feeds them.

**The seam.** A :class:`TransferSource` yields batches of raw transfer records (dicts with
the transfers table's columns: ``tx_id``, ``from_account``, ``to_account``, ``amount``,
``currency``, ``ts``) in order, and :meth:`TransferSource.commit` acknowledges the batch it
yielded last. :func:`consume` hands each batch to an ``apply`` callable and commits only after
``apply`` returned, so the source's position never runs ahead of what is durable downstream:
delivery is at-least-once, and the scorer drops a resent ``tx_id`` with the same content as a
``duplicate``.

Sources: Kafka (:class:`relgraph.jobs.sources.kafka.KafkaSource`), a transfers file
(:class:`relgraph.jobs.sources.file.FileSource`, replayed over HTTP by ``relgraph stream``)
and HTTP itself (``POST /v1/transfers``, where the client's resend plays the part of the
redelivery).

**The integration point** is ``apply(batch) -> answer``: it must return only once the batch's
transfers are journalled (fsynced) and their verdicts computed, and answer in the shape of
``POST /v1/transfers``: ``{"accepted": n, "duplicate": n, "rejected": n, "results": [{"tx_id",
"status", "reasons", "verdict"}]}``. In the server that is ``LiveScoring.record_transfers``;
``relgraph consume`` uses :func:`relgraph.jobs.sources.http.http_apply`, which posts the batch
to a running server with an ingest key, so a consumer can run on another machine.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger("relgraph.sources")

Record = dict[str, Any]
"""One transfer as the transfers table's columns (values as JSON gives them)."""
Apply = Callable[[list[Record]], Mapping[str, Any]]
"""Scores a batch; returns once its verdicts are durable (the answer of POST /v1/transfers)."""
Rejected = Callable[[Record, str], None]
"""Told of each record the scorer rejected, with the reason (a dead-letter topic, a log)."""


class TransferSource(Protocol):
    """Batches of transfers in order, and an acknowledgement per batch."""

    def batches(self, size: int) -> Iterator[list[Record]]:
        """Up to ``size`` records per batch, in the source's order (per partition for Kafka)."""
        ...

    def commit(self) -> None:
        """The last batch is durable downstream: a source with offsets moves them now."""
        ...


@dataclass
class ConsumeReport:
    """What one :func:`consume` run delivered and what the scorer answered."""

    batches: int = 0
    delivered: int = 0
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    alerts: int = 0


def consume(
    source: TransferSource,
    apply: Apply,
    *,
    batch_size: int = 100,
    max_batches: int | None = None,
    on_rejected: Rejected | None = None,
) -> ConsumeReport:
    """Feeds ``source`` to ``apply`` batch by batch, committing each after ``apply`` returned.

    An exception from ``apply`` (the server down, a crash) leaves the batch uncommitted and
    propagates: a restarted consumer gets it again. A record the scorer rejects is not an
    error: it goes to ``on_rejected`` (or the log) and the stream goes on.
    """
    report = ConsumeReport()
    for batch in source.batches(batch_size):
        answer = apply(batch)
        for record, result in _answered(batch, answer):
            if result.get("status") == "rejected":
                reason = "; ".join(result.get("reasons") or ["rejected"])
                if on_rejected is not None:
                    on_rejected(record, reason)
                else:
                    log.warning("transfer %s rejected: %s", result.get("tx_id"), reason)
            verdict = result.get("verdict") or {}
            report.alerts += sum(1 for a in verdict.get("alerts", []) if a.get("above_threshold"))
        # Only now: the verdicts are durable, so moving the position loses nothing.
        source.commit()
        report.batches += 1
        report.delivered += len(batch)
        for key in ("accepted", "duplicate", "rejected"):
            setattr(report, key, getattr(report, key) + int(answer.get(key, 0)))
        if max_batches is not None and report.batches >= max_batches:
            break
    return report


def _answered(
    batch: list[Record], answer: Mapping[str, Any]
) -> list[tuple[Record, Mapping[str, Any]]]:
    """Each record with its result. The server answers one result per record, in the order
    sent; matching by position, not by ``tx_id``, keeps the record as it arrived: the
    server answers the id it read (``" Q1 "`` as ``Q1``, ``7.0`` as ``7``), and one id may be
    in a batch twice. An answer without results (counts only) matches nothing."""
    results: list[Mapping[str, Any]] = list(answer.get("results") or [])
    if results and len(results) != len(batch):
        # Which record a result belongs to is unknowable: committing could dead-letter
        # the wrong one, so the batch stays uncommitted (and is sent again).
        raise RuntimeError(
            f"the server answered {len(results)} results for a batch of {len(batch)} "
            "transfers; the batch stays uncommitted"
        )
    return list(zip(batch, results, strict=False))
