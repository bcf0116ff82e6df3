"""``relgraph consume``: score the transfers of a Kafka topic on a running server."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Annotated

import typer

from relgraph.cli.common import app, console, fail, note


@app.command()
def consume(
    bootstrap: Annotated[
        str, typer.Option("--bootstrap", help="Kafka bootstrap servers, HOST:PORT[,HOST:PORT].")
    ],
    topic: Annotated[str, typer.Option("--topic", help="The topic transfers arrive on.")],
    url: Annotated[
        str, typer.Option("--url", help="The running server that scores them.")
    ] = "http://127.0.0.1:8000",
    group: Annotated[
        str, typer.Option("--group", help="Consumer group (members share the partitions).")
    ] = "relgraph-scoring",
    dead_letters: Annotated[
        str | None,
        typer.Option(
            "--dead-letters", help="Topic for rejected messages (default: TOPIC.rejected)."
        ),
    ] = None,
    batch: Annotated[int, typer.Option("--batch", help="Transfers per batch (1-1000).")] = 100,
    idle: Annotated[
        float | None,
        typer.Option(
            "--idle",
            help="Stop after this many seconds without a message once partitions are "
            "assigned (default: run on).",
        ),
    ] = None,
    kafka_config: Annotated[
        Path | None,
        typer.Option(
            "--kafka-config",
            help="A file of librdkafka settings, key=value a line (security.protocol, "
            "sasl.*, ssl.*, client.id, timeouts).",
        ),
    ] = None,
    assign_wait: Annotated[
        float,
        typer.Option(
            "--assign-wait",
            help="With --idle: fail when no partition is assigned within this many seconds.",
        ),
    ] = 90.0,
) -> None:
    """Consume transfers from Kafka and score them on a server (key: RELGRAPH_INGEST_KEY).

    Offsets are committed after the server acknowledged a batch (journalled, scored): a
    consumer stopped in between gets the batch again and the server drops the repeats.
    """
    from relgraph.jobs.sources import consume as run
    from relgraph.jobs.sources.http import http_apply, server_url
    from relgraph.jobs.sources.kafka import KafkaSource, read_properties

    key = os.environ.get("RELGRAPH_INGEST_KEY", "")
    if not key:
        fail("Set RELGRAPH_INGEST_KEY to an ingest (or admin) key of the server.")
    if not 1 <= batch <= 1_000:
        fail(f"--batch must be between 1 and 1000, not {batch}")
    try:
        server_url(url)
    except ValueError as exc:
        fail(str(exc))
    if idle is not None and idle <= 0:
        fail(f"--idle must be more than 0 seconds, not {idle}")
    try:
        settings = read_properties(kafka_config) if kafka_config is not None else {}
    except ValueError as exc:
        fail(str(exc))
    # Anything unforeseen ends in one line saying what to do, never a traceback: nothing
    # uncommitted is lost, as the group's offset moves only after an answer.
    again = (
        f"start relgraph consume again (nothing uncommitted is lost); if this repeats, check "
        f"the broker at {bootstrap} and the server at {url}"
    )
    try:
        source = KafkaSource(
            bootstrap,
            topic,
            group=group,
            dead_letter_topic=dead_letters,
            idle_timeout=idle,
            assign_timeout=assign_wait,
            config=settings,
        )
    except Exception as exc:
        fail(f"cannot start the Kafka consumer: {exc}")
    try:
        # A broker down or a misspelt topic is said now, not waited on for ever.
        source.check()
    except RuntimeError as exc:
        source.close()
        fail(str(exc))
    # SIGTERM (a deploy, systemd, Kubernetes) stops as Ctrl-C does: the consumer leaves its
    # group in close(), so its partitions move at once, not after the session timeout.
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        report = run(source, http_apply(url, key), batch_size=batch, on_rejected=source.reject)
    except KeyboardInterrupt:
        console.print("stopped; the batch in flight (if any) is redelivered on the next start")
        return
    except RuntimeError as exc:
        fail(str(exc))
    except Exception as exc:
        fail(f"consume stopped on {type(exc).__name__}: {exc}; {again}")
    finally:
        signal.signal(signal.SIGTERM, previous)
        try:
            source.close()
        except Exception as exc:
            # The group then reassigns this member's partitions after the session timeout.
            note(f"the consumer did not leave its group cleanly: {exc}")
    console.print(
        f"consumed {report.delivered:,} transfers in {report.batches:,} batches: "
        f"{report.accepted:,} accepted, {report.duplicate:,} duplicate, "
        f"{report.rejected:,} rejected, {len(source.quarantined):,} quarantined "
        f"(not transfers; on {source.dead_letter_topic}); {report.alerts:,} alerts"
        + (
            f"; {source.rebalanced:,} batch(es) redelivered after a rebalance"
            if source.rebalanced
            else ""
        )
    )
