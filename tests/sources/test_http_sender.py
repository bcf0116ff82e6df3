"""The HTTP sender of ``relgraph consume`` and ``relgraph stream`` against a stand-in server
reached through httpx's in-process transport: what it does with each kind of answer."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from relgraph.jobs.sources import Record, consume
from relgraph.jobs.sources.http import MAX_RETRY_AFTER, RETRY_PAUSE, http_apply, retry_after
from relgraph.jobs.stream import replay

LIMIT = 2_000
"""The stand-in's body limit (the server's is 1,000,000 bytes)."""
URL = "http://scorer.test"


class Scorer:
    """``POST /v1/transfers``: 413 over the body limit, else every record accepted."""

    def __init__(self) -> None:
        self.journal: list[str] = []
        self.bodies: list[int] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        self.bodies.append(len(body))
        if len(body) > LIMIT:
            return httpx.Response(413, json={"error": "the body is over the limit"})
        records = json.loads(body)
        self.journal += [r["tx_id"] for r in records]
        results = [{"tx_id": r["tx_id"], "status": "accepted", "reasons": []} for r in records]
        return httpx.Response(
            200, json={"accepted": len(records), "duplicate": 0, "rejected": 0, "results": results}
        )


class Listed:
    """Records as given, in batches; counts the commits."""

    def __init__(self, records: list[Record]) -> None:
        self.records, self.commits, self.committed = records, 0, 0

    def batches(self, size: int) -> Iterator[list[Record]]:
        for lo in range(0, len(self.records), size):
            yield self.records[lo : lo + size]

    def commit(self) -> None:
        self.commits += 1


def _transfers(n: int) -> list[Record]:
    one = {"from_account": "A1", "to_account": "A2", "amount": "5.00", "currency": "CNY"}
    return [{"tx_id": f"T{i}", **one, "ts": "2026-10-01T10:00:00"} for i in range(n)]


def test_consume_sends_an_oversized_batch_in_halves_and_dead_letters_a_record_too_large() -> None:
    scorer = Scorer()
    records = _transfers(12)
    records[5]["memo"] = "x" * (LIMIT + 10)
    client = httpx.Client(transport=httpx.MockTransport(scorer))
    source = Listed(records)
    dead: list[tuple[Record, str]] = []

    report = consume(
        source,
        http_apply(URL, "k", client=client),
        batch_size=12,
        on_rejected=lambda record, reason: dead.append((record, reason)),
    )

    assert (report.accepted, report.rejected, source.commits) == (11, 1, 1)
    assert scorer.journal == [r["tx_id"] for r in records if r is not records[5]]
    assert [record for record, _ in dead] == [records[5]]
    assert "larger than the server takes in one request (HTTP 413" in dead[0][1]


def test_stream_sends_a_batch_over_the_body_limit_in_halves_and_goes_on() -> None:
    scorer = Scorer()
    records = _transfers(40)
    records[30]["memo"] = "x" * (LIMIT + 10)
    client = httpx.Client(transport=httpx.MockTransport(scorer))

    report = replay(Listed(records), URL, "k", rate=0, batch=20, client=client)

    assert (report.sent, report.accepted, report.rejected) == (40, 39, 1)
    assert len(scorer.journal) == 39
    assert report.rejections[0].startswith("T30: the transfer alone is larger")


NOW = datetime(2026, 10, 21, 7, 28, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, RETRY_PAUSE),
        ("", RETRY_PAUSE),
        ("5", 5.0),
        (" 2 ", 2.0),
        ("0", 0.0),
        ("86400", MAX_RETRY_AFTER),  # a day: capped
        ("Wed, 21 Oct 2026 07:28:07 GMT", 7.0),  # IMF-fixdate
        ("Wed, 21 Oct 2026 07:27:00 GMT", 0.0),  # already past
        ("Thu, 22 Oct 2026 07:28:00 GMT", MAX_RETRY_AFTER),
        ("soon", RETRY_PAUSE),
        ("-3", RETRY_PAUSE),
        ("nan", RETRY_PAUSE),
    ],
)
def test_retry_after_reads_delta_seconds_and_http_dates(header: str | None, seconds: float) -> None:
    assert retry_after(header, now=NOW) == pytest.approx(seconds)


@pytest.mark.parametrize("path", ["consume", "stream"])
def test_a_503_with_an_http_date_is_waited_out_and_the_batch_resent(path: str) -> None:
    scorer, calls = Scorer(), []
    past = format_datetime(datetime.now(UTC) - timedelta(minutes=1), usegmt=True)

    def gateway(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:  # a gateway during a deploy
            return httpx.Response(503, headers={"Retry-After": past})
        return scorer(request)

    client = httpx.Client(transport=httpx.MockTransport(gateway))
    if path == "consume":
        answer = http_apply(URL, "k", client=client)(_transfers(2))
        assert answer["accepted"] == 2
    else:
        report = replay(Listed(_transfers(2)), URL, "k", rate=0, client=client)
        assert (report.accepted, report.retries) == (2, 1)
    assert scorer.journal == ["T0", "T1"]


def _gone(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def _refused(request: httpx.Request) -> httpx.Response:
    return httpx.Response(400, json={"errors": [{"message": "The body is not JSON"}]})


def _interrupted(request: httpx.Request) -> httpx.Response:
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    ("then", "stopped"),
    [
        (_gone, "no answer from http://scorer.test (ConnectError: connection refused); gave up"),
        (_refused, "the server refused a batch (HTTP 400)"),
        (_interrupted, "interrupted"),
    ],
)
def test_a_stream_that_stops_reports_what_was_acknowledged_and_where_to_resume(
    then: Callable[[httpx.Request], httpx.Response], stopped: str
) -> None:
    records = _transfers(25)
    calls: list[int] = []

    def server(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return scorer(request) if len(calls) <= 2 else then(request)

    scorer = Scorer()
    waits: list[str] = []
    client = httpx.Client(transport=httpx.MockTransport(server))

    report = replay(Listed(records), URL, "k", rate=0, batch=10, patience=1.2,
                    on_wait=waits.append, client=client)  # fmt: skip

    assert report.stopped is not None
    assert report.stopped.startswith(stopped)
    assert (report.sent, report.accepted) == (20, 20)
    assert report.unacknowledged == records[20]
    if then is _gone:  # each wait said, and given up within the patience
        assert waits[0].endswith("sending again in 0.5 s (0 s of 1 waited)")
        assert report.retries == len(waits) >= 1
