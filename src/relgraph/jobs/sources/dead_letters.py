"""The dead-letter topic of the Kafka source: every letter acknowledged before offsets move.

A message that is not a transfer, or a transfer the scorer rejected, is written here with
its reason, and its offset is committed with its batch. The commit is therefore only safe
once Kafka has taken the letter: :meth:`DeadLetters.flush` returns only then, and raises
otherwise, so a letter the broker refuses (the topic missing where topics are not created
on demand, this client not allowed to write it, a compacted topic and a message without a
key) leaves the batch uncommitted instead of dropping the message with its offset.

One refusal is the message's own doing and would refuse it on every redelivery, stalling
the partition for good: a message larger than the dead-letter topic (or this producer)
takes. Such a letter is written again without its value, with ``value_bytes`` and
``value_dropped`` headers saying so; the message itself is still in the source topic at the
position its ``source`` header names, for as long as that topic keeps it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from relgraph.jobs.sources.client_log import client_log

log = logging.getLogger("relgraph.sources.kafka")

FLUSH_TIMEOUT: Final = 30.0
"""Seconds the commit waits for the broker to acknowledge the batch's dead letters."""
TOO_LARGE: Final = frozenset({KafkaError.MSG_SIZE_TOO_LARGE, KafkaError.RECORD_LIST_TOO_LARGE})

Header = tuple[str, bytes | None]
"""A Kafka header: its name and value (a producer may send one without a value)."""


@dataclass(frozen=True)
class Letter:
    """One dead letter as it is to be written."""

    value: bytes | None
    key: bytes | None
    headers: tuple[Header, ...]


class DeadLetters:
    """A producer writing dead letters to ``topic``; ``settings`` are its librdkafka settings
    (the consumer's connection and security ones, so it reaches the same cluster)."""

    def __init__(self, topic: str, settings: Mapping[str, Any]) -> None:
        self.topic = topic
        self._producer = Producer(
            {**settings, "enable.idempotence": True, "acks": "all"}, logger=client_log
        )
        self._refused: list[tuple[Letter, KafkaError]] = []
        self.shortened = 0
        """Letters written without their value, as too large for the topic."""

    def send(self, value: bytes | None, key: bytes | None, headers: Sequence[Header]) -> None:
        """Queues a letter; :meth:`flush` says whether Kafka took it."""
        self._produce(Letter(value, key, tuple(headers)))

    def _produce(self, letter: Letter) -> None:
        def delivered(error: KafkaError | None, _message: Message) -> None:
            if error is not None:
                self._refused.append((letter, error))

        try:
            self._producer.produce(
                self.topic,
                value=letter.value,
                key=letter.key,
                headers=list(letter.headers),
                on_delivery=delivered,
            )
        except KafkaException as exc:
            # The producer refuses a message over its own message.max.bytes at once.
            error = exc.args[0] if exc.args else None
            if not isinstance(error, KafkaError) or error.code() not in TOO_LARGE:
                raise
            self._refused.append((letter, error))
        self._producer.poll(0)

    def flush(self, timeout: float = FLUSH_TIMEOUT) -> None:
        """Returns once Kafka acknowledged every letter sent; a RuntimeError otherwise."""
        for _ in range(2):  # the second round writes the too-large letters without a value
            left = self._producer.flush(timeout)
            if left:
                raise RuntimeError(
                    f"{left} dead letter(s) not acknowledged by Kafka within {timeout:.0f} s; "
                    "the batch stays uncommitted and is redelivered"
                )
            refused, self._refused = self._refused, []
            if not refused:
                return
            other = [(letter, e) for letter, e in refused if not self._shortenable(letter, e)]
            if other:
                raise RuntimeError(
                    f"Kafka refused {len(other)} dead letter(s) for {self.topic} "
                    f"({other[0][1].str()}); the batch stays uncommitted and is redelivered: "
                    f"check that {self.topic} exists (or may be created), that this consumer "
                    "may write it, and that it takes messages without a key"
                )
            for letter, _error in refused:
                self._shorten(letter)
        raise RuntimeError(f"Kafka refused dead letters for {self.topic} even without values")

    @staticmethod
    def _shortenable(letter: Letter, error: KafkaError) -> bool:
        return error.code() in TOO_LARGE and bool(letter.value)

    def _shorten(self, letter: Letter) -> None:
        size = len(letter.value or b"")
        where = (dict(letter.headers).get("source") or b"").decode("utf-8", "replace")
        log.warning(
            "the dead letter of %s (%d bytes) is larger than %s takes: written without it",
            where,
            size,
            self.topic,
        )
        self.shortened += 1
        note = (
            f"the message ({size:,} bytes) is larger than {self.topic} takes; it is in the "
            f"source topic at {where}"
        )
        self._produce(
            Letter(
                None,
                letter.key,
                (
                    *letter.headers,
                    ("value_bytes", str(size).encode()),
                    ("value_dropped", note.encode("utf-8")),
                ),
            )
        )

    def close(self, timeout: float = 10.0) -> None:
        self._producer.flush(timeout)
