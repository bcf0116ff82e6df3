"""Dead letters the broker refuses, against a real broker: never a lost message, never a
partition stalled for good.

A quarantined message's offset is committed with its batch, so its dead letter must be in
Kafka first. A letter too large for the dead-letter topic is written without its value (the
message stays in the source topic, at the position the letter names); any other refusal
leaves the batch uncommitted with the reason.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from relgraph.jobs.sources import Record, consume, dead_letters
from relgraph.jobs.sources.kafka import KafkaSource
from tests.sources.test_kafka_source import FAST_GROUP, committed_total, transfers


def _topics(bootstrap: str, **dead_letter_config: str) -> str:
    """A source topic that takes messages up to 3 MB, and its dead-letter topic so configured."""
    topic = f"transfers-{uuid.uuid4().hex[:10]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    created = admin.create_topics(
        [
            NewTopic(topic, 1, 1, config={"max.message.bytes": "3000000"}),
            NewTopic(f"{topic}.rejected", 1, 1, config=dead_letter_config),
        ]
    )
    for future in created.values():
        future.result(60)
    return topic


def _produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    # Idempotence keeps the order: without it a retried first batch (the topic's leader not
    # yet known) landed after the next one, and the offsets the letters name moved (CI, once).
    producer = Producer({"bootstrap.servers": bootstrap, "message.max.bytes": 4_000_000,
                         "enable.idempotence": True})  # fmt: skip
    for value in values:
        producer.produce(topic, value=value)
    assert producer.flush(30) == 0


def _accept(applied: list[str]) -> Any:
    def apply(batch: list[Record]) -> Mapping[str, Any]:
        applied.extend(r["tx_id"] for r in batch)
        return {"accepted": len(batch), "results": []}

    return apply


def _letters(bootstrap: str, topic: str, count: int) -> list[Any]:
    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": f"r-{uuid.uuid4().hex[:8]}",
                       "auto.offset.reset": "earliest"})  # fmt: skip
    reader.subscribe([topic])
    letters: list[Any] = []
    deadline = time.monotonic() + 30
    while len(letters) < count and time.monotonic() < deadline:
        message = reader.poll(1.0)
        if message is not None and message.error() is None:
            letters.append(message)
    reader.close()
    return letters


@pytest.mark.kafka
def test_a_message_too_large_for_the_dead_letter_topic_is_lettered_without_its_value(
    kafka_bootstrap: str,
) -> None:
    # The dead-letter topic takes 2,000 bytes a message: a 5 KB message is refused by the
    # broker, a 1.5 MB one (over the producer's 1 MB) by the client. Before, the first was
    # dropped and its offset committed; the second stopped consume, and again on every start.
    topic = _topics(kafka_bootstrap, **{"max.message.bytes": "2000"})
    good = transfers(2, "L")
    _produce(kafka_bootstrap, topic,
             [json.dumps(good[0]).encode(), b"x" * 1_500_000, b"y" * 5_000,
              json.dumps(good[1]).encode()])  # fmt: skip
    applied: list[str] = []
    group = f"g-{uuid.uuid4().hex[:8]}"

    with KafkaSource(kafka_bootstrap, topic, group=group, idle_timeout=3.0,
                     config=FAST_GROUP) as source:  # fmt: skip
        consume(source, _accept(applied), batch_size=10, on_rejected=source.reject)

    assert applied == [r["tx_id"] for r in good]
    assert committed_total(kafka_bootstrap, group, topic, 1) == 4
    letters = _letters(kafka_bootstrap, f"{topic}.rejected", 2)
    assert [m.value() for m in letters] == [None, None]
    headers = [dict(m.headers() or []) for m in letters]
    assert [h["source"] for h in headers] == [f"{topic}[0]@1".encode(), f"{topic}[0]@2".encode()]
    assert [h["value_bytes"] for h in headers] == [b"1500000", b"5000"]
    assert headers[0]["reason"] == b"the message is not JSON (Expecting value at character 0)"
    assert headers[1]["value_dropped"].decode() == (
        f"the message (5,000 bytes) is larger than {topic}.rejected takes; it is in the "
        f"source topic at {topic}[0]@2"
    )


@pytest.mark.kafka
def test_a_dead_letter_the_broker_refuses_leaves_the_batch_uncommitted_with_the_reason(
    kafka_bootstrap: str,
) -> None:
    # A compacted dead-letter topic refuses a letter without a key (a producer's message
    # without one): before, the letter was dropped and the message's offset committed.
    topic = _topics(kafka_bootstrap, **{"cleanup.policy": "compact"})
    good = transfers(1, "M")[0]
    _produce(kafka_bootstrap, topic, [b"not a transfer", json.dumps(good).encode()])
    applied: list[str] = []
    group = f"g-{uuid.uuid4().hex[:8]}"

    with (
        KafkaSource(kafka_bootstrap, topic, group=group, idle_timeout=3.0,
                    config=FAST_GROUP) as source,
        pytest.raises(RuntimeError) as refused,
    ):  # fmt: skip
        consume(source, _accept(applied), batch_size=10, on_rejected=source.reject)

    assert str(refused.value).startswith(f"Kafka refused 1 dead letter(s) for {topic}.rejected (")
    assert str(refused.value).endswith(
        "); the batch stays uncommitted and is redelivered: check that "
        f"{topic}.rejected exists (or may be created), that this consumer may write it, "
        "and that it takes messages without a key"
    )
    assert committed_total(kafka_bootstrap, group, topic, 1) == 0


def test_the_dead_letter_producer_reaches_the_cluster_as_the_consumer_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Before, the producer had only the bootstrap address: on a SASL/TLS cluster the
    # consumer read, and every dead letter timed out unwritten.
    made: list[dict[str, Any]] = []

    class Recorded:
        def __init__(self, settings: dict[str, Any], **_: Any) -> None:
            made.append(settings)

        def flush(self, *_: Any) -> int:
            return 0

    monkeypatch.setattr(dead_letters, "Producer", Recorded)
    secure = {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "relgraph",
        "sasl.password": "secret",
        "ssl.endpoint.identification.algorithm": "https",
        "client.id": "relgraph-consume",
    }
    source = KafkaSource("127.0.0.1:1", "t", config={**secure, "session.timeout.ms": 6000})
    source.close()
    assert made == [
        {"bootstrap.servers": "127.0.0.1:1", **secure, "enable.idempotence": True, "acks": "all"}
    ]
