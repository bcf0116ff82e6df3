"""The Apache Kafka test broker of ``tools/kafka-server``: build, start, stop.

One Kafka 4.1 node in KRaft mode (broker and controller in one JVM, see ``tools/kafka-server``);
``make kafka`` builds it from Maven Central jars. :func:`start` runs one with a fresh log
directory and returns once it prints its bootstrap address. ``tests/conftest.py`` starts one per
test session for the kafka-marked tests. It reuses :mod:`tests.neo4j_server`'s Java checks and
process handling: both launchers are the same kind of JVM child.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.neo4j_server import REPO, die_with_parent, java_major, make_target, stop_process

SERVER = REPO / "tools" / "kafka-server"
# What the broker prints, then its bootstrap address, once it answers admin requests.
READY = "relgraph-kafka ready "
# Set (to 1) in CI: a missing Java, Maven or broker fails the kafka-marked tests, never skips.
REQUIRE_ENV = "RELGRAPH_REQUIRE_KAFKA"
# Kafka 4 brokers need Java 17 or later.
JAVA_MIN = 17


@dataclass
class RunningBroker:
    bootstrap: str
    log_dir: Path
    process: subprocess.Popen[bytes]
    started_in: float


def required() -> bool:
    return os.environ.get(REQUIRE_ENV, "") not in ("", "0")


def _built() -> bool:
    return (SERVER / "target" / ".built").exists()


def unavailable_reason() -> str | None:
    """Why no test broker can run here (one sentence), or None when one can."""
    major = java_major()
    if major is None:
        return "there is no java on PATH (Kafka 4 needs Java 17 or later)"
    if major < JAVA_MIN:
        return f"java on PATH is Java {major}; Kafka 4 needs Java 17 or later"
    if shutil.which("mvn") is None and not _built():
        return "there is no mvn on PATH to build tools/kafka-server (run `make kafka` with Maven)"
    return None


def build() -> None:
    """``make kafka``: Maven fetches the jars into ~/.m2 the first time (a minute or two)."""
    make_target("kafka")


def start(log_dir: Path, timeout: float = 180.0, *, port: int = 0) -> RunningBroker:
    """Starts a broker with its data under ``log_dir`` (reopened if it held one before) on
    ``port`` (0: a free one); returns when it serves clients."""
    log_dir.mkdir(parents=True, exist_ok=True)
    out_path = log_dir / "broker.out"
    began = time.monotonic()
    # Output goes to files (not pipes) so that nobody has to drain them while tests run.
    with out_path.open("wb") as out, (log_dir / "broker.err").open("wb") as err:
        process = subprocess.Popen(
            [str(SERVER / "run"), "--log-dir", str(log_dir), "--port", str(port)],
            stdout=out,
            stderr=err,
            preexec_fn=die_with_parent(),
        )
    while True:
        text = out_path.read_text(errors="replace")
        if READY in text:
            bootstrap = text.split(READY, 1)[1].split()[0]
            return RunningBroker(bootstrap, log_dir, process, time.monotonic() - began)
        if process.poll() is not None or time.monotonic() - began > timeout:
            stop_process(process)
            raise RuntimeError(
                f"the Kafka test broker did not start (exit {process.returncode}); its output:\n"
                f"{_tail(out_path)}\n{_tail(log_dir / 'broker.err')}\n"
                f"{_tail(log_dir / 'format.out')}"
            )
        time.sleep(0.2)


def stop(broker: RunningBroker) -> None:
    """SIGTERM: the broker flushes its logs and writes its clean-shutdown marker."""
    stop_process(broker.process)


def _tail(path: Path, lines: int = 20) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
