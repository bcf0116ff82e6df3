"""A broker restarted under a running consumer, on a real broker of the test's own: the
consumer carries on from where it was, and says once that the cluster is gone and once that
it is back, instead of about 20 connection failures a second."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from pathlib import Path

import pytest

from relgraph.jobs.sources import Record
from relgraph.jobs.sources.client_log import RepeatFilter
from relgraph.jobs.sources.kafka import KafkaSource, publish
from tests import kafka_server
from tests.sources.test_kafka_broker import _free_port
from tests.sources.test_kafka_source import FAST_GROUP, new_topic, transfers


@pytest.mark.kafka
def test_a_consumer_rides_out_a_broker_restart_and_says_when_it_is_gone_and_back(
    kafka_bootstrap: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # kafka_bootstrap: the session broker exists, so the launcher is built and Java is here.
    port, log_dir = _free_port(), tmp_path / "broker"
    broker = kafka_server.start(log_dir, port=port)
    topic = new_topic(broker.bootstrap, 1)
    sent = transfers(10, "R")
    publish(broker.bootstrap, topic, sent[:5])
    source = KafkaSource(broker.bootstrap, topic, group=f"g-{uuid.uuid4().hex[:8]}",
                         config=FAST_GROUP)  # fmt: skip
    batches = source.batches(10)
    got: list[Record] = []
    restarted: list[kafka_server.RunningBroker] = []
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
            restarted.append(kafka_server.start(log_dir, port=port))
            publish(restarted[0].bootstrap, topic, sent[5:])
            polling.join(90)
            got += second[0]
            source.commit()
    finally:
        source.close()
        for running in (broker, *restarted):
            kafka_server.stop(running)

    assert [r["tx_id"] for r in got] == [r["tx_id"] for r in sent]
    said = [r.getMessage() for r in caplog.records if r.name == "relgraph.sources.kafka"]
    assert [m for m in said if "does not answer" in m] == [
        f"Kafka at {broker.bootstrap} does not answer; retrying (nothing uncommitted is lost)"
    ]
    assert len([m for m in said if m.startswith(f"Kafka at {broker.bootstrap} answers again")]) == 1
    failures = [r for r in caplog.records if r.name == "relgraph.sources.kafka.client"]
    # Before: about 20 a second for as long as the broker was away (4 s and its start).
    assert len(failures) <= 6, [r.getMessage() for r in failures]


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
