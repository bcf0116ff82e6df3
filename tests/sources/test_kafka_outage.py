"""A broker restarted under a running consumer, on a real broker of the test's own: the
consumer carries on from where it was, and says once that the cluster is gone and once that
it is back, instead of about 20 connection failures a second."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import TopicPartition

from relgraph.jobs.sources import Record
from relgraph.jobs.sources.client_log import _VARYING, RepeatFilter
from relgraph.jobs.sources.kafka import KafkaSource, publish
from tests import kafka_server
from tests.sources.test_kafka_broker import _free_port
from tests.sources.test_kafka_source import FAST_GROUP, new_topic, transfers


class _Restartable:
    """A broker of the test's own, started and restarted on one port over one log folder
    (its topics and offsets survive a restart); every one started is stopped after."""

    def __init__(self, log_dir: Path) -> None:
        self.port, self.log_dir = _free_port(), log_dir
        self.started: list[kafka_server.RunningBroker] = []

    def start(self) -> kafka_server.RunningBroker:
        self.started.append(kafka_server.start(self.log_dir, port=self.port))
        return self.started[-1]


@pytest.fixture
def restartable(kafka_bootstrap: str, tmp_path: Path) -> Iterator[_Restartable]:
    # kafka_bootstrap: the session broker exists, so the launcher is built and Java is here.
    brokers = _Restartable(tmp_path / "broker")
    yield brokers
    for running in brokers.started:
        kafka_server.stop(running)


def _source(bootstrap: str, topic: str) -> KafkaSource:
    """A member of a group of its own that a stopped broker evicts in 6 s (FAST_GROUP)."""
    return KafkaSource(bootstrap, topic, group=f"g-{uuid.uuid4().hex[:8]}", config=FAST_GROUP)


@pytest.mark.kafka
def test_a_consumer_rides_out_a_broker_restart_and_says_when_it_is_gone_and_back(
    restartable: _Restartable, caplog: pytest.LogCaptureFixture
) -> None:
    broker = restartable.start()
    topic = new_topic(broker.bootstrap, 1)
    sent = transfers(10, "R")
    publish(broker.bootstrap, topic, sent[:5])
    source = _source(broker.bootstrap, topic)
    batches = source.batches(10)
    got: list[Record] = []
    try:
        got += next(batches)
        source.commit()
        kafka_server.stop(broker)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="relgraph.sources.kafka"):
            # The consumer polls in a thread of its own: a broker dies with the thread
            # that started it (die_with_parent), so this one starts it again.
            second: list[list[Record]] = []
            polling = threading.Thread(target=lambda: second.append(next(batches)))
            polling.start()
            time.sleep(3)  # the consumer polls a broker that is gone meanwhile
            publish(restartable.start().bootstrap, topic, sent[5:])
            polling.join(90)
            got += second[0]
            source.commit()
    finally:
        source.close()

    assert [r["tx_id"] for r in got] == [r["tx_id"] for r in sent]
    said = [r.getMessage() for r in caplog.records if r.name == "relgraph.sources.kafka"]
    assert [m for m in said if "does not answer" in m] == [
        f"Kafka at {broker.bootstrap} does not answer; retrying (nothing uncommitted is lost)"
    ]
    assert len([m for m in said if m.startswith(f"Kafka at {broker.bootstrap} answers again")]) == 1
    failures = [r.getMessage() for r in caplog.records if r.name == "relgraph.sources.kafka.client"]
    # Before: about 20 a second for as long as the broker was away (4 s and its start), the
    # same few lines again and again. Now each kind is said once. Which kinds depends on how
    # fast the broker comes back: on a loaded machine the producers also say "Coordinator
    # load in progress" (7 lines with 3 other test runs beside it, 6 alone).
    kinds = Counter(_VARYING.sub("", m) for m in failures)
    assert [k for k, n in kinds.items() if n > 1] == [], failures
    assert len(failures) <= 12, failures


@pytest.mark.kafka
def test_a_commit_due_while_the_broker_restarts_does_not_end_the_consumer(
    restartable: _Restartable, caplog: pytest.LogCaptureFixture
) -> None:
    # Was: the commit failed after about 7 s ("Waiting for coordinator") and ended
    # `consume`. Now its offsets are kept; a broker that comes back without this member's
    # session (FAST_GROUP: 6 s) redelivers the batch, which is scored again (duplicates
    # on the server) and committed then.
    broker = restartable.start()
    topic = new_topic(broker.bootstrap, 1)
    sent = transfers(6, "C")
    publish(broker.bootstrap, topic, sent)
    source = _source(broker.bootstrap, topic)
    batches = source.batches(10)
    try:
        first = next(batches)
        kafka_server.stop(broker)
        with caplog.at_level(logging.WARNING, logger="relgraph.sources.kafka"):
            source.commit()  # the broker is gone: kept, not raised
            assert source.commits_deferred == 1
            restartable.start()
            source.commit()  # the session is gone: passed over, the batch redelivered
            again = next(batches)
            source.commit()
        committed = source._consumer.committed([TopicPartition(topic, 0)], timeout=30)
    finally:
        source.close()
    assert [r["tx_id"] for r in first] == [r["tx_id"] for r in again] == [r["tx_id"] for r in sent]
    assert [(c.partition, c.offset) for c in committed] == [(0, 6)]
    said = [r.getMessage() for r in caplog.records if r.name == "relgraph.sources.kafka"]
    assert said[0].startswith("Kafka did not take the commit (Commit failed: Local: Waiting")


def test_repeated_client_lines_are_held_back_and_counted() -> None:
    now = [0.0]
    repeat = RepeatFilter(window=60, clock=lambda: now[0])

    def line(after_ms: int) -> logging.LogRecord:
        text = f"[thrd:k/bootstrap]: Connect to k:9092 failed (after {after_ms}ms in state CONNECT)"
        return logging.LogRecord("c", logging.ERROR, "", 0, "%s [%s] %s",
                                 ("FAIL", "rdkafka#consumer-1", text), None)  # fmt: skip

    passed = []
    for step in range(130):  # 65 s of failures, two a second
        now[0] = step / 2
        record = line(step % 7)
        if repeat.filter(record):
            passed.append(record.getMessage())
    assert len(passed) == 2
    assert passed[1].endswith(
        "(after 1ms in state CONNECT) (and 119 more like it in the last 60 s)"
    )
    other = logging.LogRecord("c", logging.ERROR, "", 0, "%s [%s] %s",
                              ("REQTMOUT", "rdkafka#consumer-1", "timed out"), None)  # fmt: skip
    assert repeat.filter(other)
