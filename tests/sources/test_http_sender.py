"""The HTTP sender of ``relgraph consume`` and ``relgraph stream`` against a stand-in server
reached through httpx's in-process transport: what it does with each kind of answer."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx

from relgraph.jobs.sources import Record, consume
from relgraph.jobs.sources.http import http_apply
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
