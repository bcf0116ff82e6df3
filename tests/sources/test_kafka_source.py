"""The Kafka transfer source against a real broker (tools/kafka-server, KRaft, one node).

What a payment pipeline relies on: every transfer produced reaches the scorer, in order per
source account; the consumer group's offset moves only after the scorer returned (its
verdicts durable); a consumer killed between the two gets the batch again, and deduplication
by ``tx_id`` makes the result the same as an uninterrupted run; a message that is not a
transfer is quarantined with its reason and does not stop the stream.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from relgraph.jobs.sources import Record, consume
from relgraph.jobs.sources.kafka import KafkaSource, decode, publish

REPO = Path(__file__).resolve().parents[2]
# The broker's minimum: a killed member's partitions go to the survivor after 6 s, not 45 s.
FAST_GROUP = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000}
ACCOUNTS = [f"62220200{n:08d}" for n in range(12)]


def transfers(n: int, prefix: str) -> list[Record]:
    """``n`` transfers among a dozen accounts, minute by minute, amounts in 元 with fen."""
    return [
        {
            "tx_id": f"{prefix}-{i:05d}",
            "from_account": ACCOUNTS[i % len(ACCOUNTS)],
            "to_account": ACCOUNTS[(i * 5 + 1) % len(ACCOUNTS)],
            "amount": f"{1000 + 37 * i}.{i % 100:02d}",
            "currency": "CNY",
            "ts": f"2026-11-30T{8 + i // 60 % 12:02d}:{i % 60:02d}:00+08:00",
        }
        for i in range(n)
    ]


def new_topic(bootstrap: str, partitions: int) -> str:
    topic = f"transfers-{uuid.uuid4().hex[:10]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, partitions, 1)]).values():
        future.result(60)
    return topic


def committed_total(bootstrap: str, group: str, topic: str, partitions: int) -> int:
    """Offsets the group has committed on ``topic``, summed (what a restart would skip)."""
    probe = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        done = probe.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=30)
    finally:
        probe.close()
    return sum(max(tp.offset, 0) for tp in done)


@pytest.mark.kafka
def test_every_transfer_arrives_in_order_per_account_and_offsets_follow_apply(
    kafka_bootstrap: str,
) -> None:
    topic, group, n = new_topic(kafka_bootstrap, 3), f"g-{uuid.uuid4().hex[:8]}", 300
    sent = transfers(n, "T")
    assert publish(kafka_bootstrap, topic, sent) == n
    applied: list[list[Record]] = []
    seen_at_apply: list[tuple[int, int]] = []

    def apply(batch: list[Record]) -> Mapping[str, Any]:
        # What the group has committed while this batch is being scored: only earlier ones.
        before = sum(len(b) for b in applied)
        seen_at_apply.append((committed_total(kafka_bootstrap, group, topic, 3), before))
        applied.append(batch)
        return {"accepted": len(batch), "duplicate": 0, "rejected": 0, "results": []}

    with KafkaSource(
        kafka_bootstrap, topic, group=group, idle_timeout=5.0, config=FAST_GROUP
    ) as source:
        report = consume(source, apply, batch_size=40)

    delivered = [r for batch in applied for r in batch]
    assert sorted(r["tx_id"] for r in delivered) == sorted(r["tx_id"] for r in sent)
    assert report.delivered == report.accepted == n
    assert report.batches == len(applied) > 1
    assert all(len(batch) <= 40 for batch in applied)
    # Keyed by from_account, so each account's transfers stay in one partition, in order.
    by_account: dict[str, list[str]] = defaultdict(list)
    for record in delivered:
        by_account[record["from_account"]].append(record["tx_id"])
    for account, ids in by_account.items():
        assert ids == [r["tx_id"] for r in sent if r["from_account"] == account]
    assert delivered[0] == sent[[r["tx_id"] for r in sent].index(delivered[0]["tx_id"])]
    # Never committed ahead of the scorer: at each apply, exactly the earlier batches.
    assert all(committed == before for committed, before in seen_at_apply)
    assert committed_total(kafka_bootstrap, group, topic, 3) == n


CRASHING_CONSUMER = """
import json, os, signal, sys
from relgraph.jobs.sources import consume
from relgraph.jobs.sources.kafka import KafkaSource

bootstrap, topic, group, store = sys.argv[1:5]
calls = 0

def apply(batch):
    global calls
    calls += 1
    # The verdicts are durable (written and fsynced) before apply returns ...
    with open(store, "a", encoding="utf-8") as out:
        for record in batch:
            out.write(json.dumps(record, ensure_ascii=False) + "\\n")
        out.flush()
        os.fsync(out.fileno())
    if calls == 2:
        # ... and the process dies before the source commits the batch.
        os.kill(os.getpid(), signal.SIGKILL)
    return {"accepted": len(batch), "results": []}

source = KafkaSource(bootstrap, topic, group=group, idle_timeout=30.0,
                     config={"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000})
consume(source, apply, batch_size=25)
"""


@pytest.mark.kafka
def test_a_consumer_killed_before_commit_gets_the_batch_again_and_dedup_keeps_the_result(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    topic, group, n = new_topic(kafka_bootstrap, 1), f"g-{uuid.uuid4().hex[:8]}", 120
    sent = transfers(n, "K")
    publish(kafka_bootstrap, topic, sent)
    store = tmp_path / "verdicts.jsonl"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_CONSUMER, kafka_bootstrap, topic, group, str(store)],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr.decode()[-2000:]
    before_restart = [json.loads(line) for line in store.read_text("utf-8").splitlines()]
    committed = committed_total(kafka_bootstrap, group, topic, 1)
    # Two batches scored, only the first committed: the second is the one in doubt.
    assert 0 < committed < len(before_restart) < n

    scored: dict[str, Record] = {r["tx_id"]: r for r in before_restart}
    redelivered: list[str] = []

    def apply(batch: list[Record]) -> Mapping[str, Any]:
        # The scorer's deduplication: a tx_id it holds with the same content is a duplicate.
        results = []
        for record in batch:
            if record["tx_id"] in scored:
                assert scored[record["tx_id"]] == record
                redelivered.append(record["tx_id"])
                results.append({"tx_id": record["tx_id"], "status": "duplicate"})
            else:
                scored[record["tx_id"]] = record
                results.append({"tx_id": record["tx_id"], "status": "accepted"})
        dup = sum(r["status"] == "duplicate" for r in results)
        return {"accepted": len(batch) - dup, "duplicate": dup, "results": results}

    with KafkaSource(
        kafka_bootstrap, topic, group=group, idle_timeout=4.0, config=FAST_GROUP
    ) as source:
        # The first poll waits out the dead member's session (6 s) before the partition moves.
        deadline, duplicates = time.monotonic() + 60, 0
        while len(scored) < n and time.monotonic() < deadline:
            duplicates += consume(source, apply, batch_size=25).duplicate
    assert duplicates == len(redelivered) > 0
    # Exactly the uncommitted tail of what was scored came again, nothing committed did.
    assert redelivered == [r["tx_id"] for r in before_restart[committed:]]
    assert sorted(scored) == sorted(r["tx_id"] for r in sent)
    assert scored == {r["tx_id"]: r for r in sent}
    assert committed_total(kafka_bootstrap, group, topic, 1) == n


@pytest.mark.kafka
def test_a_message_that_is_not_a_transfer_is_quarantined_and_the_stream_goes_on(
    kafka_bootstrap: str,
) -> None:
    topic, group = new_topic(kafka_bootstrap, 1), f"g-{uuid.uuid4().hex[:8]}"
    good = transfers(6, "Q")
    good[4] |= {"amount": "-5.00", "memo": "房租"}  # a transfer the scorer itself rejects
    raw = [
        json.dumps(good[0]).encode(),
        b"\xff\xfe not text",
        json.dumps(good[1]).encode(),
        b'{"tx_id": "Q-bad", "amount": "10.00"',
        b"[1, 2, 3]",
        json.dumps({"tx_id": "Q-half", "amount": "10.00", "ts": "2026-11-30T09:00:00"}).encode(),
        *(json.dumps(r).encode() for r in good[2:]),
    ]
    # Idempotent, so a retried batch cannot land after the next one (the order is asserted).
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "enable.idempotence": True})
    for n, value in enumerate(raw):
        # A producer's own header (a trace id) stays on the dead letter.
        producer.produce(topic, value=value, key=b"k%d" % n, headers=[("trace", b"t%d" % n)])
    assert producer.flush(30) == 0
    applied: list[str] = []

    def apply(batch: list[Record]) -> Mapping[str, Any]:
        results = []
        for record in batch:
            applied.append(record["tx_id"])
            bad = float(record["amount"]) <= 0
            results.append(
                {
                    "tx_id": record["tx_id"],
                    "status": "rejected" if bad else "accepted",
                    "reasons": ["amount must be positive"] if bad else [],
                }
            )
        rejected = sum(r["status"] == "rejected" for r in results)
        return {"accepted": len(batch) - rejected, "rejected": rejected, "results": results}

    with KafkaSource(
        kafka_bootstrap, topic, group=group, idle_timeout=4.0, config=FAST_GROUP
    ) as source:
        report = consume(source, apply, batch_size=3, on_rejected=source.reject)
        quarantined = source.quarantined
        dead_topic = source.dead_letter_topic

    # Every real transfer after the bad messages was still scored, in order.
    assert applied == [r["tx_id"] for r in good]
    assert (report.accepted, report.rejected) == (5, 1)
    assert [(q.offset, q.reason) for q in quarantined] == [
        (1, "the message is not UTF-8 (or UTF-16/32) text (a transfer is one JSON object)"),
        (3, "the message is not JSON (Expecting ',' delimiter at character 36)"),
        (4, "the message is a JSON list, not an object with a transfer"),
        (5, "the transfer lacks from_account, to_account"),
    ]
    assert committed_total(kafka_bootstrap, group, topic, 1) == len(raw)

    # The dead-letter topic holds each one with its reason: what an operator reviews.
    reader = Consumer(
        {
            "bootstrap.servers": kafka_bootstrap,
            "group.id": f"review-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
        }
    )
    reader.subscribe([dead_topic])
    letters: list[tuple[bytes | None, dict[str, bytes]]] = []
    deadline = time.monotonic() + 30
    while len(letters) < 5 and time.monotonic() < deadline:
        message = reader.poll(1.0)
        if message is not None and message.error() is None:
            letters.append((message.value(), dict(message.headers() or [])))
    reader.close()
    assert [h["reason"].decode() for _, h in letters] == [
        *(q.reason for q in quarantined),
        "amount must be positive",
    ]
    assert letters[0][0] == raw[1]
    assert [(h["source"], h["rejected_by"], h["trace"]) for _, h in letters[:4]] == [
        (f"{topic}[0]@{n}".encode(), b"consumer", b"t%d" % n) for n in (1, 3, 4, 5)
    ]
    # The transfer the scorer rejected is there as it arrived, and where it came from:
    # before, it was written again from the record (ensure_ascii, re-spaced, its key the
    # from_account) with "scorer" for a source.
    assert letters[4][0] == raw[8]
    assert letters[4][1]["source"] == f"{topic}[0]@8".encode()
    assert letters[4][1]["rejected_by"] == b"scorer"
    assert letters[4][1]["trace"] == b"t8"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "the message has no value (a transfer is one JSON object)"),
        (b"\x80", "the message is not UTF-8 (or UTF-16/32) text (a transfer is one JSON object)"),
        (
            b"[" * 100_000 + b"]" * 100_000,
            "the message is JSON nested too deeply (a transfer is one flat JSON object)",
        ),
        (b"", "the message is not JSON (Expecting value at character 0)"),
        (b'"tx"', "the message is a JSON str, not an object with a transfer"),
        (
            b'{"tx_id": "", "from_account": "a", "to_account": "b", "amount": 1, "ts": "t"}',
            "the transfer lacks tx_id",
        ),
    ],
)
def test_decode_names_what_is_wrong_with_a_message(value: bytes | None, reason: str) -> None:
    assert decode(value) == reason


def test_decode_keeps_a_transfer_as_sent() -> None:
    record = transfers(1, "D")[0] | {"memo": "房租"}
    assert decode(json.dumps(record, ensure_ascii=False).encode("utf-8")) == record


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-32"])
def test_decode_reads_a_message_as_the_transfers_endpoint_reads_a_body(encoding: str) -> None:
    record = transfers(1, "E")[0] | {"memo": "房租"}
    assert decode(json.dumps(record, ensure_ascii=False).encode(encoding)) == record
