"""``relgraph consume`` at start: the cluster's settings an operator gives, and a broker
down or a topic missing said at once, in one line, instead of a consumer waiting for ever."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from relgraph.cli import app
from relgraph.jobs.sources import kafka as kafka_module
from relgraph.jobs.sources.kafka import KafkaSource

REPO = Path(__file__).resolve().parents[2]
KEY = "ingest-" + uuid.uuid4().hex


def _consume(*args: str) -> Any:
    return CliRunner().invoke(
        app, ["consume", "--bootstrap", "127.0.0.1:1", "--topic", "t", *args],
        env={"RELGRAPH_INGEST_KEY": KEY},
    )  # fmt: skip


def test_kafka_config_gives_the_cluster_settings_to_the_consumer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before, consume had no way to give SASL/TLS settings: a bank's secured cluster was
    # out of its reach.
    made: list[dict[str, Any]] = []

    class Recorded:
        def __init__(self, *_: Any, config: dict[str, Any], **__: Any) -> None:
            made.append(config)

        def check(self) -> int:
            raise RuntimeError("checked")

        def close(self) -> None: ...

    monkeypatch.setattr(kafka_module, "KafkaSource", Recorded)
    settings = tmp_path / "client.properties"
    settings.write_text(
        "# the bank's cluster\nsecurity.protocol=SASL_SSL\nsasl.mechanism = SCRAM-SHA-512\n"
        "sasl.username=relgraph\nsasl.password=p=w\n\n! java style comment\n",
        encoding="utf-8",
    )
    done = _consume("--kafka-config", str(settings))
    assert made == [
        {
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": "relgraph",
            "sasl.password": "p=w",
        }
    ]
    assert done.exit_code == 2
    assert "error: checked" in done.output


def test_kafka_config_refuses_settings_that_would_commit_before_the_server_answered(
    tmp_path: Path,
) -> None:
    settings = tmp_path / "consumer.properties"
    settings.write_text("enable.auto.commit=true\ngroup.id=other\n", encoding="utf-8")
    done = _consume("--kafka-config", str(settings))
    assert done.exit_code == 2
    assert " ".join(done.output.split()) == (
        "error: cannot start the Kafka consumer: enable.auto.commit, group.id cannot be set "
        "here: offsets are committed only after the server answered; give the consumer group "
        "with --group"
    )


def test_kafka_config_names_the_line_it_cannot_read_without_showing_it(tmp_path: Path) -> None:
    settings = tmp_path / "client.properties"
    settings.write_text("security.protocol=SSL\nsasl.password hunter2\n", encoding="utf-8")
    done = _consume("--kafka-config", str(settings))
    assert done.exit_code == 2
    assert f"error: {settings} line 2 is not key=value" in " ".join(done.output.split())
    assert "hunter2" not in done.output


def test_a_broker_that_does_not_answer_is_said_at_start() -> None:
    source = KafkaSource("127.0.0.1:1", "t")
    try:
        began = time.monotonic()
        with pytest.raises(RuntimeError) as down:
            source.check(timeout=1.0)
        assert time.monotonic() - began < 10
    finally:
        source.close()
    assert str(down.value) == (
        "Kafka at 127.0.0.1:1 did not answer within 1 s (Failed to get metadata: Local: "
        "Broker transport failure): check --bootstrap, that the brokers run and this machine "
        "reaches them, and the security settings (--kafka-config)"
    )


@pytest.mark.kafka
def test_consume_of_a_topic_that_does_not_exist_says_so_at_once(kafka_bootstrap: str) -> None:
    # Before, it logged "Subscribed topic not available" once and waited for ever.
    topic = f"transfers-{uuid.uuid4().hex[:10]}"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "RELGRAPH_INGEST_KEY": KEY}
    done = subprocess.run(
        [sys.executable, "-m", "relgraph.cli", "consume", "--bootstrap", kafka_bootstrap,
         "--topic", topic, "--url", "http://127.0.0.1:9"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert " ".join(done.stderr.split()).endswith(
        f"error: there is no topic {topic} on Kafka at {kafka_bootstrap}: check --topic, or "
        "create it (keyed by from_account, as many partitions as consumers to come)"
    )
