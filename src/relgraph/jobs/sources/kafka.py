"""Transfers from a Kafka topic: the consumer side of real-time scoring beyond one machine.

One JSON object per message (a transfer, the transfers table's columns), keyed by
``from_account`` so that an account's outgoing transfers stay in one partition and in order
(:func:`publish` writes them so). :class:`KafkaSource` is a
:class:`~relgraph.jobs.sources.TransferSource`:

* offsets are committed by :meth:`KafkaSource.commit` only, never automatically, and
  :func:`~relgraph.jobs.sources.consume` calls it only after the scorer returned, i.e. once the
  batch's verdicts are durable: a consumer killed in between gets the batch again from its
  group's committed offset (at-least-once), and the scorer answers a resent ``tx_id`` with the
  same content as a ``duplicate`` (no second journal entry, no second alert);
* a message that is not a transfer (not JSON as ``POST /v1/transfers`` reads it: UTF-8 with
  or without a BOM, UTF-16 or UTF-32; nested too deeply; not an object; a required field
  missing) is quarantined with its reason on the dead-letter topic (``<topic>.rejected`` by default)
  and in the log, and the stream goes on; so is a transfer the scorer rejected. A dead letter is
  the message as it arrived (value, key, headers) with the headers ``reason``, ``source`` (its
  position, ``<topic>[<partition>]@<offset>``) and ``rejected_by`` (``consumer``: not a
  transfer; ``scorer``: the server refused it). Its offset is committed with its batch, after the
  broker acknowledged the letter (:mod:`relgraph.jobs.sources.dead_letters`).

How several consumers share the work and still find chains that cross partitions is in
docs/ARCHITECTURE.md (real-time scoring beyond one machine).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from confluent_kafka import (
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)

from relgraph.jobs.sources import Record
from relgraph.jobs.sources.client_log import client_log
from relgraph.jobs.sources.dead_letters import DeadLetters, Header
from relgraph.record_rules import NestingError, json_of

log = logging.getLogger("relgraph.sources.kafka")

REQUIRED: Final = ("tx_id", "from_account", "to_account", "amount", "ts")
"""Fields without which a message cannot even be sent to the scorer for a per-record verdict."""
DEFAULT_GROUP: Final = "relgraph-scoring"
ASSIGN_TIMEOUT: Final = 90.0
"""Seconds an idle-bounded member waits for partitions: longer than the broker's default
session timeout (45 s) of a killed member whose partitions it waits for, plus a rebalance."""
PINNED: Final = {
    "bootstrap.servers": "give the brokers with --bootstrap",
    "group.id": "give the consumer group with --group",
    "enable.auto.commit": "offsets are committed only after the server answered",
    "enable.auto.offset.store": "offsets are committed only after the server answered",
    "isolation.level": "transfers of aborted producer transactions are never scored",
}
"""librdkafka settings a source keeps as it sets them, and why: an operator's usual consumer
properties often say ``enable.auto.commit=true``, which would commit transfers the server
never journalled."""
STARTUP_TIMEOUT: Final = 15.0
"""Seconds :meth:`KafkaSource.check` waits for the cluster to describe the topic."""
REBALANCED: Final = frozenset(
    {
        KafkaError.UNKNOWN_MEMBER_ID,
        KafkaError.ILLEGAL_GENERATION,
        KafkaError.REBALANCE_IN_PROGRESS,
        KafkaError.FENCED_INSTANCE_ID,
        KafkaError._ASSIGNMENT_LOST,
    }
)
"""Commit errors meaning the member lost its partitions (evicted after max.poll.interval.ms,
a rebalance under way): the batch is another member's now, or this one's after it rejoins."""
UNREACHABLE: Final = frozenset(
    {
        KafkaError._WAIT_COORD,
        KafkaError._TRANSPORT,
        KafkaError._TIMED_OUT,
        KafkaError._ALL_BROKERS_DOWN,
        KafkaError.COORDINATOR_NOT_AVAILABLE,
        KafkaError.NOT_COORDINATOR,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError.REQUEST_TIMED_OUT,
        KafkaError.NETWORK_EXCEPTION,
    }
)
"""Commit errors meaning the cluster (its group coordinator) could not be reached: the
offsets are kept and committed later, as the batch was scored all the same."""
COMMIT_RETRY_SECONDS: Final = 10.0
"""While idle, how long after a commit the cluster did not take it is tried again (a
commit to an absent coordinator waits about 7 s before it fails)."""


@dataclass(frozen=True)
class Quarantined:
    """A message that was not a transfer, and why (what went to the dead-letter topic)."""

    partition: int
    offset: int
    reason: str


def decode(value: bytes | None) -> Record | str:
    """The transfer in a message's value, or the reason (one sentence) it is not one."""
    if value is None:
        return "the message has no value (a transfer is one JSON object)"
    try:
        # Read as POST /v1/transfers reads a body: a producer's BOM or UTF-16 is no reason
        # to refuse here what the endpoint takes.
        parsed = json_of(value)
    except UnicodeDecodeError:
        return "the message is not UTF-8 (or UTF-16/32) text (a transfer is one JSON object)"
    except NestingError:
        return "the message is JSON nested too deeply (a transfer is one flat JSON object)"
    except json.JSONDecodeError as error:
        return f"the message is not JSON ({error.msg} at character {error.pos})"
    if not isinstance(parsed, dict):
        return f"the message is a JSON {type(parsed).__name__}, not an object with a transfer"
    missing = [f for f in REQUIRED if parsed.get(f) in (None, "")]
    if missing:
        return f"the transfer lacks {', '.join(missing)}"
    return {str(k): v for k, v in parsed.items()}


class KafkaSource:
    """A consumer-group member reading transfers from ``topic``; see the module docstring."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        *,
        group: str = DEFAULT_GROUP,
        dead_letter_topic: str | None = None,
        poll_timeout: float = 1.0,
        idle_timeout: float | None = None,
        assign_timeout: float = ASSIGN_TIMEOUT,
        config: Mapping[str, Any] | None = None,
    ) -> None:
        """``idle_timeout``: stop the batches after that many seconds without a message
        while partitions are assigned (None: run until closed); with it, a member that gets
        no assignment within ``assign_timeout`` seconds stops with a RuntimeError.
        ``config``: more librdkafka settings (security, timeouts, client id); those this
        source's guarantees rest on (:data:`PINNED`) are refused with a ValueError."""
        pinned = sorted(PINNED.keys() & (config or {}).keys())
        if pinned:
            raise ValueError(
                f"{', '.join(pinned)} cannot be set here: "
                + "; ".join(PINNED[key] for key in pinned)
            )
        self.topic = topic
        self.bootstrap = bootstrap
        self.group = group
        self.dead_letter_topic = dead_letter_topic or f"{topic}.rejected"
        self.poll_timeout = poll_timeout
        self.idle_timeout = idle_timeout
        self.assign_timeout = assign_timeout
        # When the group last gave this member its partitions (None: it holds none, e.g.
        # while a killed member's partitions wait for its session to time out).
        self._assigned_at: float | None = None
        self._unassigned_since = time.monotonic()
        self._owned: set[int] = set()
        self.quarantined: list[Quarantined] = []
        self.rebalanced = 0
        """Commits the group refused after a rebalance (those batches are redelivered)."""
        self.commits_deferred = 0
        """Commits the cluster could not take (unreachable): kept and tried again later."""
        self._retry_commit_at: float | None = None
        self._deferred_streak = 0  # deferred commits since one last went through
        # Next offset to commit per partition: the batch handed out but not yet committed.
        self._pending: dict[int, int] = {}
        settings: dict[str, Any] = {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            # The position moves only in commit(), after the batch is durable downstream.
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            # A new group starts at the topic's first transfer, not at the next one produced.
            "auto.offset.reset": "earliest",
            # Transfers of aborted producer transactions are never scored.
            "isolation.level": "read_committed",
            **(config or {}),
        }
        # When the cluster stopped answering (None: it answers), said once each way.
        self._down_since: float | None = None
        self._suspect = False
        self._consumer = Consumer({**settings, "error_cb": self._client_error}, logger=client_log)
        self._consumer.subscribe(
            [topic], on_assign=self._assigned, on_revoke=self._revoked, on_lost=self._revoked
        )
        self._dead_letters = DeadLetters(self.dead_letter_topic, connection(settings))
        # The message each record of the batch in hand came in, by the record's id(): a
        # rejected transfer goes to the dead letters as it arrived, with its position.
        self._arrived: dict[int, Message] = {}

    def check(self, timeout: float | None = None) -> int:
        """The number of partitions of the topic, once the cluster described it; a
        RuntimeError saying what to do when it does not answer within ``timeout`` seconds
        (default :data:`STARTUP_TIMEOUT`) or has no such topic. Without it a consumer of a
        misspelt topic, or of a broker that is down, waits for ever, logging retries."""
        wait = STARTUP_TIMEOUT if timeout is None else timeout
        try:
            metadata = self._consumer.list_topics(self.topic, timeout=wait)
        except KafkaException as exc:
            error = exc.args[0] if exc.args else exc
            problem = error.str() if isinstance(error, KafkaError) else str(error)
            raise RuntimeError(
                f"Kafka at {self.bootstrap} did not answer within {wait:.0f} s ({problem}): "
                "check --bootstrap, that the brokers run and this machine reaches them, and "
                "the security settings (--kafka-config)"
            ) from None
        found = metadata.topics.get(self.topic)
        error = None if found is None else found.error
        if found is None or (
            error is not None and error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART
        ):
            raise RuntimeError(
                f"there is no topic {self.topic} on Kafka at {self.bootstrap}: check --topic, "
                "or create it (keyed by from_account, as many partitions as consumers to come)"
            )
        if error is not None:
            raise RuntimeError(
                f"Kafka at {self.bootstrap} cannot give this consumer topic {self.topic} "
                f"({error.str()}): check that it may read the topic and join group "
                f"{self.group}"
            )
        return len(found.partitions)

    def _client_error(self, error: KafkaError) -> None:
        # Called from consume() in this thread. librdkafka retries on its own; what the
        # operator needs is one line when the cluster is gone and one when it is back.
        # "All brokers down" also comes when a bootstrap connection closes as planned, so
        # it is only a reason to ask (in _watch), not yet to say anything.
        if error.code() == KafkaError._ALL_BROKERS_DOWN:
            self._suspect = True
        elif error.code() not in (KafkaError._TRANSPORT, KafkaError._RESOLVE):
            log.warning("Kafka: %s", error.str())

    def _answers(self) -> bool:
        try:
            self._consumer.list_topics(self.topic, timeout=self.poll_timeout)
        except KafkaException:
            return False
        return True

    def _watch(self, got_messages: bool) -> None:
        """Says once when the cluster stops answering, and once when it answers again."""
        if self._down_since is None:
            if self._suspect and not got_messages and not self._answers():
                self._down_since = time.monotonic()
                log.warning(
                    "Kafka at %s does not answer; retrying (nothing uncommitted is lost)",
                    self.bootstrap,
                )
            self._suspect = False
        elif got_messages or self._answers():
            log.warning(
                "Kafka at %s answers again after %.0f s",
                self.bootstrap,
                time.monotonic() - self._down_since,
            )
            self._down_since = None

    def _revoked(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # A partition taken away before its batch was committed is redelivered to its new
        # owner from the group's committed offset: forget what was handed out here.
        for partition in partitions:
            self._pending.pop(partition.partition, None)
            self._owned.discard(partition.partition)
        if not self._owned:
            self._assigned_at, self._unassigned_since = None, time.monotonic()

    def _assigned(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # An empty assignment counts: the group has more members than partitions, and
        # this one may go idle.
        self._owned |= {p.partition for p in partitions}
        self._assigned_at = time.monotonic()

    def batches(self, size: int) -> Iterator[list[Record]]:
        last_message = 0.0
        while True:
            messages = self._consumer.consume(num_messages=size, timeout=self.poll_timeout)
            self._watch(bool(messages))
            if not messages:
                if self._retry_commit_at is not None and time.monotonic() >= self._retry_commit_at:
                    self.commit()  # a quiet topic still gets the offsets it was scored to
                if self.idle_timeout is not None and self._idle_over(last_message):
                    return
                continue
            last_message = time.monotonic()
            batch = self._take(messages)
            if batch:
                yield batch
            elif self._pending:
                # Only quarantined messages: nothing to score, so their offsets move now.
                self.commit()

    def _idle_over(self, last_message: float) -> bool:
        """Idle long enough to stop; idle time counts only while partitions are assigned,
        as a member without them cannot tell an empty topic from one it was not given."""
        now = time.monotonic()
        if self._assigned_at is None:
            waited = now - self._unassigned_since
            if waited >= self.assign_timeout:
                raise RuntimeError(
                    f"no partition of {self.topic} was assigned to this consumer within "
                    f"{waited:.0f} s, so nothing was consumed: the topic may not exist, or "
                    "the group still holds a stopped member's partitions until its session "
                    "times out; run it again"
                )
            return False
        idle = now - max(self._assigned_at, last_message)
        return self.idle_timeout is not None and idle >= self.idle_timeout

    def _take(self, messages: Iterable[Message]) -> list[Record]:
        batch: list[Record] = []
        self._arrived = {}
        for message in messages:
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    continue
                if error.fatal():
                    raise RuntimeError(f"the Kafka consumer failed: {error.str()}")
                log.warning("Kafka: %s", error.str())
                continue
            partition, offset = message.partition(), message.offset()
            if partition is None or offset is None:
                continue
            decoded = decode(message.value())
            if isinstance(decoded, str):
                self._quarantine(message, partition, offset, decoded)
            else:
                batch.append(decoded)
                self._arrived[id(decoded)] = message
            self._pending[partition] = offset + 1
        return batch

    def _quarantine(self, message: Message, partition: int, offset: int, reason: str) -> None:
        where = f"{self.topic}[{partition}]@{offset}"
        log.warning("quarantined %s: %s", where, reason)
        self.quarantined.append(Quarantined(partition, offset, reason))
        self._dead_letters.send(
            message.value(), message.key(), _letter_headers(message, reason, where, "consumer")
        )

    def reject(self, record: Record, reason: str) -> None:
        """A record the scorer rejected (unknown account, bad amount…): to the dead letters,
        as its message arrived."""
        log.warning("transfer %s rejected: %s", record.get("tx_id"), reason)
        message = self._arrived.get(id(record))
        if message is None:  # not a record of the batch in hand: written as it is now
            value = json.dumps(record, ensure_ascii=False, default=str).encode("utf-8")
            key = str(record.get("from_account", "")).encode("utf-8")
            self._dead_letters.send(
                value, key, [("reason", reason.encode("utf-8")), ("rejected_by", b"scorer")]
            )
            return
        where = f"{self.topic}[{message.partition()}]@{message.offset()}"
        self._dead_letters.send(
            message.value(), message.key(), _letter_headers(message, reason, where, "scorer")
        )

    def commit(self) -> None:
        """Commits the offsets after the last batch (dead letters first: none is lost).

        A commit refused because the group rebalanced meanwhile (this member evicted after
        ``max.poll.interval.ms``: a slow answer) is logged and passed over: the batch is
        redelivered. One the cluster could not take (:data:`UNREACHABLE`: a broker restart,
        a network cut) keeps its offsets for the next commit — after the next batch, or
        within :data:`COMMIT_RETRY_SECONDS` while the topic is quiet — so a short outage
        does not end ``consume``. Any other refusal is a RuntimeError."""
        self._retry_commit_at = None
        if not self._pending:
            return
        self._dead_letters.flush()
        offsets = [TopicPartition(self.topic, p, o) for p, o in sorted(self._pending.items())]
        # Whatever happens, these offsets are no longer this member's to commit.
        pending, self._pending = self._pending, {}
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
            if self._deferred_streak:
                log.warning(
                    "Kafka took the commit after %d attempt(s) it could not take",
                    self._deferred_streak,
                )
            self._deferred_streak = 0
        except KafkaException as exc:
            error = exc.args[0] if exc.args else None
            if isinstance(error, KafkaError) and error.code() in UNREACHABLE:
                self._defer(pending, error)
                return
            self._deferred_streak = 0
            if not isinstance(error, KafkaError) or error.code() not in REBALANCED:
                raise RuntimeError(
                    f"Kafka did not take the commit ({error}); the batch is redelivered "
                    "on the next start"
                ) from None
            # Nothing is lost: the group's offset stayed where it was, so whoever owns the
            # partitions now (this member, once it rejoins) gets the batch again, and the
            # server answers the repeats as duplicates.
            self.rebalanced += 1
            log.warning(
                "the group rebalanced while %d partition(s)' batch was scored (%s): it is "
                "redelivered and its repeats are answered as duplicates",
                len(pending),
                error.str(),
            )

    def _defer(self, pending: dict[int, int], error: KafkaError) -> None:
        # Still this member's to commit, unless a rebalance took the partition meanwhile
        # (then its new owner starts from the group's offset and repeats are duplicates).
        kept = {p: o for p, o in pending.items() if p in self._owned}
        self._pending = {**kept, **self._pending}
        self._retry_commit_at = time.monotonic() + COMMIT_RETRY_SECONDS
        self.commits_deferred += 1
        self._deferred_streak += 1
        if self._deferred_streak == 1:  # said once per outage, and once when it is over
            log.warning(
                "Kafka did not take the commit (%s): the offsets are kept and committed "
                "later (nothing is lost; a batch redelivered meanwhile is answered as "
                "duplicates)",
                error.str(),
            )

    def close(self) -> None:
        """Leaves the group (uncommitted batches are redelivered to the next member)."""
        self._dead_letters.close()
        self._consumer.close()

    def __enter__(self) -> KafkaSource:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


CONNECTION: Final = (
    "bootstrap.servers",
    "client.",
    "security.",
    "sasl.",
    "ssl.",
    "socket.",
    "broker.",
)
"""librdkafka settings that say how to reach and sign in to the cluster: the dead-letter
producer takes these from the consumer's, so it reaches the cluster the consumer reads."""


def connection(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The connection and security settings among a consumer's librdkafka ``settings``.

    >>> connection({"bootstrap.servers": "k:9093", "group.id": "g", "sasl.mechanism": "PLAIN"})
    {'bootstrap.servers': 'k:9093', 'sasl.mechanism': 'PLAIN'}
    """
    return {k: v for k, v in settings.items() if k.startswith(CONNECTION)}


def read_properties(path: Path) -> dict[str, str]:
    """The librdkafka settings of a properties file: ``key=value`` lines, ``#`` or ``!``
    comments, blank lines; a ValueError naming the file and line of anything else."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read the Kafka settings in {path}: {exc}") from None
    settings: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "!")):
            continue
        key, equals, value = stripped.partition("=")
        if not equals or not key.strip():
            # The line itself is not shown: it may be a password written wrong.
            raise ValueError(f"{path} line {number} is not key=value")
        settings[key.strip()] = value.strip()
    return settings


def _letter_headers(message: Message, reason: str, where: str, by: str) -> list[Header]:
    """The message's own headers, then why and where from (read last when names repeat)."""
    return [
        *(message.headers() or []),
        ("reason", reason.encode("utf-8")),
        ("source", where.encode("utf-8")),
        ("rejected_by", by.encode()),
    ]


def publish(bootstrap: str, topic: str, records: Iterable[Mapping[str, Any]]) -> int:
    """Writes transfers to ``topic``, keyed by ``from_account``; returns how many were acked."""
    producer = Producer(
        {"bootstrap.servers": bootstrap, "enable.idempotence": True}, logger=client_log
    )
    acked = 0
    failed: list[str] = []

    def delivered(error: KafkaError | None, _message: Message) -> None:
        nonlocal acked
        if error is None:
            acked += 1
        else:
            failed.append(error.str())

    for record in records:
        producer.produce(
            topic,
            value=json.dumps(dict(record), ensure_ascii=False, default=str).encode("utf-8"),
            key=str(record.get("from_account", "")).encode("utf-8"),
            on_delivery=delivered,
        )
        producer.poll(0)
    left = producer.flush(60.0)
    if left or failed:
        raise RuntimeError(
            f"Kafka did not acknowledge {left + len(failed)} transfer(s)"
            + (f": {failed[0]}" if failed else "")
        )
    return acked
