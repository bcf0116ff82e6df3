"""``relgraph consume``: a Kafka topic scored on a server over ``POST /v1/transfers``.

The server here is a stand-in that keeps the endpoint's contract (ingest key, per-record
``accepted`` / ``duplicate`` / ``rejected`` with reasons, ``tx_id`` deduplication); the real
scorer's verdicts are the same function behind the same endpoint.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from typer.testing import CliRunner

from relgraph.cli import app
from relgraph.jobs.sources import kafka as kafka_module
from relgraph.jobs.sources.kafka import KafkaSource, publish
from tests.served import in_thread
from tests.sources.test_kafka_source import committed_total, new_topic, transfers

REPO = Path(__file__).resolve().parents[2]
KEY = "ingest-" + uuid.uuid4().hex
KNOWN = {f"62220200{n:08d}" for n in range(12)}


class StandIn:
    """The endpoint's contract, in memory: what the server journalled, by tx_id."""

    def __init__(self) -> None:
        self.journal: dict[str, dict[str, Any]] = {}
        self.requests = 0

    async def transfers(self, request: Request) -> JSONResponse:
        if request.headers.get("authorization") != f"Bearer {KEY}":
            return JSONResponse({"error": "an ingest key is required"}, status_code=401)
        self.requests += 1
        results = []
        for record in await request.json():
            tx_id = record["tx_id"]
            if record["to_account"] not in KNOWN:
                results.append(
                    {
                        "tx_id": tx_id,
                        "status": "rejected",
                        "reasons": [f"to_account {record['to_account']} is unknown"],
                    }
                )
            elif tx_id in self.journal:
                results.append({"tx_id": tx_id, "status": "duplicate", "reasons": []})
            else:
                self.journal[tx_id] = record
                results.append(
                    {
                        "tx_id": tx_id,
                        "status": "accepted",
                        "reasons": [],
                        "verdict": {"alerts": [{"above_threshold": tx_id.endswith("7")}]},
                    }
                )
        counts = {
            s: sum(r["status"] == s for r in results) for s in ("accepted", "duplicate", "rejected")
        }
        return JSONResponse({**counts, "results": results})  # fmt: skip


@pytest.fixture
def server() -> Iterator[tuple[str, StandIn]]:
    standin = StandIn()
    app = Starlette(routes=[Route("/v1/transfers", standin.transfers, methods=["POST"])])
    with in_thread(app) as url:
        yield url, standin


def run_cli(*args: str, key: str | None = KEY) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "COLUMNS": "200"}
    env.pop("RELGRAPH_INGEST_KEY", None)
    if key is not None:
        env["RELGRAPH_INGEST_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "relgraph.cli", "consume", *args],
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


@pytest.mark.kafka
def test_consume_scores_a_topic_on_the_server_and_commits_what_it_answered(
    kafka_bootstrap: str, server: tuple[str, StandIn]
) -> None:
    url, standin = server
    topic, group = new_topic(kafka_bootstrap, 2), f"g-{uuid.uuid4().hex[:8]}"
    sent = transfers(60, "C")
    sent[10]["to_account"] = "6222029999999999"  # an account the server does not know
    publish(kafka_bootstrap, topic, sent)
    publish(kafka_bootstrap, topic, sent[:5])  # a producer's resend

    done = run_cli("--bootstrap", kafka_bootstrap, "--topic", topic, "--url", url,
                   "--group", group, "--batch", "20", "--idle", "10")  # fmt: skip

    assert done.returncode == 0, done.stderr
    summary = " ".join(done.stdout.split())
    assert "consumed 65 transfers" in summary
    assert "59 accepted, 5 duplicate, 1 rejected, 0 quarantined" in summary
    assert "6 alerts" in summary
    assert sorted(standin.journal) == sorted(r["tx_id"] for r in sent if r is not sent[10])
    assert committed_total(kafka_bootstrap, group, topic, 2) == 65
    reader = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": f"r-{uuid.uuid4().hex}",
                       "auto.offset.reset": "earliest"})  # fmt: skip
    reader.subscribe([f"{topic}.rejected"])
    deadline, letter = time.monotonic() + 30, None
    while letter is None and time.monotonic() < deadline:
        message = reader.poll(1.0)
        if message is not None and message.error() is None:
            letter = message
    reader.close()
    assert letter is not None
    assert json.loads(letter.value() or b"")["tx_id"] == sent[10]["tx_id"]
    assert dict(letter.headers() or [])["reason"] == b"to_account 6222029999999999 is unknown"


def test_consume_without_an_ingest_key_says_how_to_give_one() -> None:
    done = run_cli("--bootstrap", "127.0.0.1:1", "--topic", "t", key=None)
    assert done.returncode == 2
    assert "Set RELGRAPH_INGEST_KEY to an ingest (or admin) key of the server." in done.stderr


def test_consume_refuses_a_batch_the_server_would_refuse() -> None:
    done = run_cli("--bootstrap", "127.0.0.1:1", "--topic", "t", "--batch", "5000")
    assert done.returncode == 2
    assert "--batch must be between 1 and 1000, not 5000" in done.stderr


def test_consume_refuses_a_server_address_without_its_scheme() -> None:
    done = run_cli("--bootstrap", "127.0.0.1:1", "--topic", "t", "--url", "127.0.0.1:8000")
    assert done.returncode == 2
    assert (
        "--url must be the server's address with its scheme, such as http://127.0.0.1:8000, "
        "not '127.0.0.1:8000'" in " ".join(done.stderr.split())
    )


class _Evicted:
    """A consumer whose member was evicted while the server was slow to answer."""

    def __init__(self, code: int) -> None:
        self.code, self.commits = code, 0

    def commit(self, **_: Any) -> None:
        self.commits += 1
        raise KafkaException(KafkaError(self.code))


def test_a_commit_refused_after_a_rebalance_is_passed_over_and_the_batch_redelivered() -> None:
    source = KafkaSource("127.0.0.1:1", "t", config={"socket.connection.setup.timeout.ms": 1000})
    real = source._consumer
    try:
        for code in (KafkaError.UNKNOWN_MEMBER_ID, KafkaError.ILLEGAL_GENERATION):
            evicted = _Evicted(code)
            source._consumer = evicted  # type: ignore[assignment]
            source._pending = {0: 5}
            source.commit()  # logged, not raised: the group's offset stayed where it was
            assert evicted.commits == 1
            assert source._pending == {}
        assert source.rebalanced == 2
        source._consumer = _Evicted(KafkaError.TOPIC_AUTHORIZATION_FAILED)  # type: ignore[assignment]
        source._pending = {0: 5}
        with pytest.raises(RuntimeError, match="the batch is redelivered on the next start"):
            source.commit()
    finally:
        source._consumer = real
        source.close()


class _Unreachable:
    """A consumer whose group coordinator is away for ``failures`` commits, then back."""

    def __init__(self, failures: int) -> None:
        self.failures, self.committed = failures, []

    def commit(self, offsets: list[TopicPartition], **_: Any) -> None:
        if self.failures:
            self.failures -= 1
            raise KafkaException(KafkaError(KafkaError._WAIT_COORD, "Waiting for coordinator"))
        self.committed.append({o.partition: o.offset for o in offsets})


def test_a_commit_the_cluster_could_not_take_is_kept_and_made_later(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Was: a commit due while the broker restarted ended `consume` (a RuntimeError).
    source = KafkaSource("127.0.0.1:1", "t", config={"socket.connection.setup.timeout.ms": 1000})
    real = source._consumer
    try:
        away = _Unreachable(failures=2)
        source._consumer = away  # type: ignore[assignment]
        source._owned = {0, 1}
        with caplog.at_level(logging.WARNING, logger="relgraph.sources.kafka"):
            source._pending = {0: 5, 1: 7}
            source.commit()  # the broker is away: kept
            source._revoked(away, [TopicPartition("t", 1)])  # a rebalance took partition 1
            source._pending[0] = 9  # the next batch was scored meanwhile
            source.commit()  # still away
            assert source._pending == {0: 9}
            source.commit()
        assert away.committed == [{0: 9}]
        assert source._pending == {}
        assert (source.commits_deferred, source.rebalanced) == (2, 0)
        said = [r.getMessage() for r in caplog.records if r.name == "relgraph.sources.kafka"]
        assert said == [
            "Kafka did not take the commit (Waiting for coordinator): the offsets are kept "
            "and committed later (nothing is lost; a batch redelivered meanwhile is answered "
            "as duplicates)",
            "Kafka took the commit after 2 attempt(s) it could not take",
        ]
    finally:
        source._consumer = real
        source.close()


def test_a_quiet_topic_still_gets_its_deferred_commit() -> None:
    # No batch comes after the outage: the offsets kept are committed while idle.
    source = KafkaSource("127.0.0.1:1", "t", poll_timeout=0.05, idle_timeout=0.3,
                         config={"socket.connection.setup.timeout.ms": 1000})  # fmt: skip
    real = source._consumer

    class QuietThenBack(_Quiet, _Unreachable):
        def __init__(self) -> None:
            _Quiet.__init__(self, source, assign_on=1)
            _Unreachable.__init__(self, failures=1)

    back = QuietThenBack()
    try:
        source._consumer = back  # type: ignore[assignment]
        source._owned, source._pending = {0}, {0: 4}
        source.commit()  # deferred
        source._retry_commit_at = time.monotonic()  # due now rather than in 10 s
        assert list(source.batches(10)) == []
        assert back.committed == [{0: 4}]
    finally:
        source._consumer = real
        source.close()


def test_consume_ends_any_unforeseen_failure_in_one_line_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Broken:
        def __init__(self, *_: Any, **__: Any) -> None:
            self.quarantined: list[Any] = []
            self.dead_letter_topic, self.rebalanced = "t.rejected", 0

        def batches(self, size: int) -> Iterator[list[Any]]:
            raise KafkaException(KafkaError(KafkaError._TRANSPORT, "broker gone"))

        def check(self) -> int:
            return 1

        def reject(self, *_: Any) -> None: ...

        def close(self) -> None:
            raise KafkaException(KafkaError(KafkaError._TRANSPORT, "still gone"))

    monkeypatch.setattr(kafka_module, "KafkaSource", Broken)
    monkeypatch.setenv("RELGRAPH_INGEST_KEY", KEY)
    done = CliRunner().invoke(app, ["consume", "--bootstrap", "127.0.0.1:1", "--topic", "t"])
    assert done.exit_code == 2
    assert "Traceback" not in done.output
    assert "consume stopped on KafkaException" in done.output
    assert "start relgraph consume again (nothing uncommitted is lost)" in done.output
    assert "did not leave its group cleanly" in done.output


class _Quiet:
    """A consumer that gets no message; the group assigns it partitions on poll ``assign_on``
    (never when None), as the broker does once a killed member's session timed out."""

    def __init__(self, source: KafkaSource, assign_on: int | None) -> None:
        self.source, self.assign_on, self.polls = source, assign_on, 0

    def consume(self, num_messages: int, timeout: float) -> list[Any]:
        self.polls += 1
        if self.polls == self.assign_on:
            self.source._assigned(self, [TopicPartition("t", 0)])  # type: ignore[arg-type]
        time.sleep(timeout)
        return []

    def list_topics(self, *_: Any, **__: Any) -> None:
        return None  # the cluster answers: it only has nothing for this member


def _quiet_source(assign_on: int | None, idle: float, assign_timeout: float) -> KafkaSource:
    source = KafkaSource("127.0.0.1:1", "t", poll_timeout=0.05, idle_timeout=idle,
                         assign_timeout=assign_timeout)  # fmt: skip
    source.close()  # the real consumer is not needed: its place is taken by _Quiet
    source._consumer = _Quiet(source, assign_on)  # type: ignore[assignment]
    return source


def test_idle_time_counts_only_once_partitions_are_assigned() -> None:
    source = _quiet_source(assign_on=10, idle=0.3, assign_timeout=30)
    started = time.monotonic()
    assert list(source.batches(10)) == []
    polls = source._consumer.polls  # type: ignore[attr-defined]
    # Not idle before the assignment (poll 10): idle only for 0.3 s after it.
    assert polls >= 10 + 0.3 / 0.05 - 1
    assert time.monotonic() - started >= 0.3 + 9 * 0.05


def test_a_member_given_no_partition_stops_with_the_reason_instead_of_reporting_done() -> None:
    # The wait runs from the source's making, so the clock starts before it: started after,
    # a loaded machine saw the source give up "early" (0.49 s of the test's 0.5).
    started = time.monotonic()
    source = _quiet_source(assign_on=None, idle=0.1, assign_timeout=0.5)
    with pytest.raises(RuntimeError, match="no partition of t was assigned to this consumer"):
        list(source.batches(10))
    assert time.monotonic() - started >= 0.5


def test_sigterm_stops_consume_as_ctrl_c_does_leaving_the_group(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    closed: list[bool] = []

    class Terminated:
        def __init__(self, *_: Any, **__: Any) -> None:
            self.quarantined: list[Any] = []
            self.dead_letter_topic, self.rebalanced = "t.rejected", 0

        def batches(self, size: int) -> Iterator[list[Any]]:
            os.kill(os.getpid(), signal.SIGTERM)  # a deploy stops the consumer
            time.sleep(1)
            yield []

        def check(self) -> int:
            return 1

        def reject(self, *_: Any) -> None: ...

        def close(self) -> None:
            closed.append(True)

    monkeypatch.setattr(kafka_module, "KafkaSource", Terminated)
    monkeypatch.setenv("RELGRAPH_INGEST_KEY", KEY)
    # The test's own handler: were SIGTERM not consume's, it would not end the test run.
    before = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        done = CliRunner().invoke(app, ["consume", "--bootstrap", "127.0.0.1:1", "--topic", "t"])
        assert signal.getsignal(signal.SIGTERM) is not signal.default_int_handler
    finally:
        signal.signal(signal.SIGTERM, before)
    assert done.exit_code == 0, done.output
    assert "stopped; the batch in flight (if any) is redelivered" in done.output
    assert closed == [True]


@pytest.mark.kafka
def test_sigterm_leaves_the_group_so_the_partitions_move_at_once(
    kafka_bootstrap: str, server: tuple[str, StandIn]
) -> None:
    url, standin = server
    topic, group = new_topic(kafka_bootstrap, 1), f"g-{uuid.uuid4().hex[:8]}"
    publish(kafka_bootstrap, topic, transfers(30, "S"))
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "RELGRAPH_INGEST_KEY": KEY}
    consumer = subprocess.Popen(
        [sys.executable, "-m", "relgraph.cli", "consume", "--bootstrap", kafka_bootstrap,
         "--topic", topic, "--url", url, "--group", group, "--batch", "5"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while len(standin.journal) < 30 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(standin.journal) == 30
    consumer.send_signal(signal.SIGTERM)  # a deploy
    out, err = consumer.communicate(timeout=60)
    assert consumer.returncode == 0, err
    assert "stopped; the batch in flight (if any) is redelivered" in out
    # A member that left is not waited for: the next one gets the partition well within
    # the session timeout (45 s) a vanished member would hold it for.
    began = time.monotonic()
    successor = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": group})
    successor.subscribe([topic])
    try:
        while not successor.assignment() and time.monotonic() - began < 60:
            successor.poll(0.5)
        assert successor.assignment()
        assert time.monotonic() - began < 20
    finally:
        successor.close()
