"""The test broker launcher (tools/kafka-server): a given port and log directory, a clean stop."""

from __future__ import annotations

import signal
import socket
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Consumer

from relgraph.jobs.sources.kafka import publish
from tests import kafka_server
from tests.sources.test_kafka_source import transfers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.mark.kafka
def test_the_broker_stops_cleanly_on_sigterm_and_reopens_its_log_directory(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    # kafka_bootstrap: the session broker exists, so the launcher is built and Java is here.
    port, log_dir = _free_port(), tmp_path / "broker"
    broker = kafka_server.start(log_dir, port=port)
    try:
        assert broker.bootstrap == f"127.0.0.1:{port}"
        publish(broker.bootstrap, "kept", transfers(7, "P"))
    finally:
        broker.process.send_signal(signal.SIGTERM)
        broker.process.wait(120)
    out = (log_dir / "broker.out").read_text()
    assert out.rstrip().endswith("relgraph-kafka stopped")
    # A clean shutdown leaves Kafka's marker, so the restart needs no log recovery.
    assert (log_dir / "data" / ".kafka_cleanshutdown").exists()

    again = kafka_server.start(log_dir, port=port)
    try:
        reader = Consumer({"bootstrap.servers": again.bootstrap,
                           "group.id": uuid.uuid4().hex, "auto.offset.reset": "earliest"})  # fmt: skip
        reader.subscribe(["kept"])
        got: list[bytes] = []
        for _ in range(60):
            message = reader.poll(1.0)
            if message is not None and message.error() is None:
                got.append(message.value() or b"")
            if len(got) == 7:
                break
        reader.close()
    finally:
        kafka_server.stop(again)
    assert len(got) == 7
