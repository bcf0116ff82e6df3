"""Transfer sources and the replay of a transfers file against a running server.

**The source seam.** Real-time scoring takes transfers from one of three sources, all
delivering batches of raw records (dicts with the transfers table's columns) to one sink,
the server's ``LiveScoring.record_transfers``:

* **HTTP** — ``POST /v1/transfers`` (push; the client resends what was not acknowledged);
* **file** — :class:`FileSource` over a CSV or Parquet transfers file, sent over HTTP by
  ``relgraph stream`` (:func:`replay`) or, in process, by :func:`drain`;
* **Kafka** — a consumer would be one more :class:`Source`: its ``batches`` polls the
  topic, and ``commit`` moves the consumer offset only after the sink returned (the
  journal is durable by then), so a crash redelivers and ``tx_id`` deduplication makes
  the redelivery harmless. Not built yet (docs/ARCHITECTURE.md, real-time scoring).

:func:`replay` paces batches on a fixed schedule (open loop: a slow answer does not
slow the offered rate, so latency under load is measured honestly) and resends a batch
whose answer did not arrive, until it does.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

Record = dict[str, Any]
Sink = Callable[[list[Record]], Mapping[str, Any]]


class Source(Protocol):
    """Where transfers come from: batches in order, and an acknowledgement per batch."""

    def batches(self, size: int) -> Iterator[list[Record]]: ...

    def commit(self) -> None:
        """The last batch is durable downstream: a source with offsets moves them now."""


@dataclass
class FileSource:
    """A transfers file (CSV or Parquet) with the transfers table's columns, in file order."""

    path: Path
    committed: int = 0
    _sent: int = field(default=0, repr=False)

    def records(self) -> list[Record]:
        if self.path.suffix.lower() == ".parquet":
            frame = pd.read_parquet(self.path)
        else:
            frame = pd.read_csv(self.path, dtype=str, keep_default_na=False)
        missing = {"tx_id", "from_account", "to_account", "amount", "ts"} - set(frame.columns)
        if missing:
            raise ValueError(
                f"{self.path} lacks the column(s) {', '.join(sorted(missing))}: a transfers "
                "file has tx_id, from_account, to_account, amount, currency and ts"
            )
        if "currency" not in frame.columns:
            frame["currency"] = "CNY"
        rows: list[Record] = [
            {str(k): v for k, v in r.items()} for r in frame.astype(object).to_dict("records")
        ]
        return rows

    def batches(self, size: int) -> Iterator[list[Record]]:
        rows = self.records()
        for lo in range(self.committed, len(rows), size):
            batch = rows[lo : lo + size]
            self._sent = lo + len(batch)
            yield batch

    def commit(self) -> None:
        self.committed = self._sent


def drain(source: Source, sink: Sink, size: int = 100) -> dict[str, int]:
    """Feed every batch of ``source`` to ``sink`` in process; counts of the answers."""
    totals = {"accepted": 0, "duplicate": 0, "rejected": 0}
    for batch in source.batches(size):
        answer = sink(batch)
        source.commit()
        for k in totals:
            totals[k] += int(answer.get(k, 0))
    return totals


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
    source: FileSource,
    url: str,
    key: str,
    rate: float,
    batch: int = 50,
    *,
    timeout: float = 10.0,
    on_batch: Callable[[ReplayReport], None] | None = None,
) -> ReplayReport:
    """Send ``source`` to ``url``'s ``/v1/transfers`` at ``rate`` transfers per second
    (0: as fast as answers come) in batches of ``batch``; resend what got no answer."""
    import httpx

    report = ReplayReport()
    endpoint = url.rstrip("/") + "/v1/transfers"
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    started = time.perf_counter()
    due = started
    with httpx.Client(timeout=timeout) as client:
        for records in source.batches(batch):
            if rate > 0:
                pause = due - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                due += len(records) / rate
            body = json.dumps(records, ensure_ascii=False, default=str)
            while True:
                sent_at = time.perf_counter()
                try:
                    response = client.post(endpoint, content=body, headers=headers)
                except httpx.TransportError:
                    report.retries += 1
                    time.sleep(0.5)
                    continue
                if response.status_code in (502, 503, 504):
                    report.retries += 1
                    time.sleep(float(response.headers.get("Retry-After", "0.5")))
                    continue
                break
            if response.status_code != 200:
                raise RuntimeError(
                    f"the server refused a batch (HTTP {response.status_code}): "
                    f"{response.text[:300]}"
                )
            report.latencies.append(time.perf_counter() - sent_at)
            answer = response.json()
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
