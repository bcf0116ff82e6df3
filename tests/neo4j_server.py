"""The Neo4j + GDS test server of ``tools/neo4j-server``: find Java, build, start, stop.

Neo4j Community 5.26 runs embedded in a JVM with the open-source Graph Data Science library
registered (see ``tools/neo4j-server``); ``make neo4j`` builds it from Maven Central jars.
:func:`start` runs one with a fresh home directory and a random password and returns once it
prints its Bolt URI. ``tests/conftest.py`` starts one per test session for the neo4j-marked
tests.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SERVER = REPO / "tools" / "neo4j-server"
# What the server prints, then its Bolt URI, once procedures are registered and the login set.
READY = "relgraph-neo4j ready "
# Set (to 1) in CI: a missing Java, Maven or server fails the neo4j-marked tests, never skips.
REQUIRE_ENV = "RELGRAPH_REQUIRE_NEO4J"
# Neo4j 5.26 and GDS 2.13 run on these Java versions only.
JAVA_VERSIONS = (17, 21)
STOP_GRACE = 30.0
"""Seconds a server has to stop after SIGTERM before it is killed. A clean stop took 7 s (a
2,000-customer bank); a server whose database panicked on a full disk never stops: its
shutdown spins on the pages it cannot flush (over 120 s at a whole core, until SIGKILL)."""


@dataclass(frozen=True)
class Neo4jLogin:
    uri: str
    username: str
    password: str
    ours: bool = True
    """Whether this is the session's own test server (not one ``NEO4J_URI`` points at)."""


@dataclass
class RunningServer:
    login: Neo4jLogin
    home: Path
    process: subprocess.Popen[bytes]
    started_in: float


def pom_version(name: str) -> str:
    """A version property of the server's ``pom.xml`` (``neo4j.version``, ``gds.version``):
    what the neo4j-marked tests run against, and what docker-compose.yml must pin."""
    import xml.etree.ElementTree as ET

    pom = ET.parse(SERVER / "pom.xml").getroot()
    found = pom.find(f"{{http://maven.apache.org/POM/4.0.0}}properties/{{*}}{name}")
    if found is None or not found.text:
        raise LookupError(f"tools/neo4j-server/pom.xml has no property {name}")
    return found.text


def required() -> bool:
    return os.environ.get(REQUIRE_ENV, "") not in ("", "0")


def _built() -> bool:
    return (SERVER / "target" / ".built").exists()


def java_major() -> int | None:
    """The major version of the ``java`` on PATH, or None when there is none."""
    if shutil.which("java") is None:
        return None
    out = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
    found = re.search(r'version "(\d+)', out.stderr + out.stdout)
    return int(found.group(1)) if found else None


def unavailable_reason() -> str | None:
    """Why no test server can run here (one sentence), or None when one can."""
    major = java_major()
    if major is None:
        return "there is no java on PATH (Neo4j 5.26 needs Java 17 or 21)"
    if major not in JAVA_VERSIONS:
        return f"java on PATH is Java {major}; Neo4j 5.26 needs Java 17 or 21"
    if shutil.which("mvn") is None and not _built():
        return "there is no mvn on PATH to build tools/neo4j-server (run `make neo4j` with Maven)"
    return None


def build() -> None:
    """``make neo4j``: Maven fetches the jars into ~/.m2 the first time (a few minutes)."""
    make_target("neo4j")


def make_target(target: str) -> None:
    """``make <target>`` for a test server's jar; its last lines in the error when it fails.
    Without Maven the jar is already built (``unavailable_reason`` checked): nothing to do."""
    if shutil.which("mvn") is None:
        return
    done = subprocess.run(
        ["make", "--no-print-directory", target],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
        raise RuntimeError(f"`make {target}` failed (exit {done.returncode}):\n{tail}")


def start(
    home: Path,
    timeout: float = 300.0,
    *,
    gds: bool = True,
    page_cache: str | None = None,
    stop_timeout: int | None = None,
    port: int | None = None,
    password: str | None = None,
) -> RunningServer:
    """Starts a server with its data under ``home``; returns when it accepts Bolt logins.

    ``gds=False`` starts it without the GDS procedures and functions (as a Neo4j without the
    plugin); ``page_cache`` (``4g``) overrides the server's default of 512 MB; ``stop_timeout``
    the seconds after SIGTERM at which it halts when its shutdown has not finished (default 25).
    A ``home`` a server ran in before is reopened with its data (and a new password, unless
    ``password`` is given); ``port`` (default: a free one) and ``password`` restart a server
    where its clients left it (a restart under a running ``relgraph serve``).
    """
    home.mkdir(parents=True, exist_ok=True)
    # The server is started with the password wanted, so no client ever meets another.
    login_password = secrets.token_urlsafe(18) if password is None else password
    env = {**os.environ, "NEO4J_USERNAME": "neo4j", "NEO4J_PASSWORD": login_password}
    out_path = home / "server.out"
    began = time.monotonic()
    # Output goes to files (not pipes) so that nobody has to drain them while tests run.
    with out_path.open("wb") as out, (home / "server.err").open("wb") as err:
        process = subprocess.Popen(
            [
                str(SERVER / "run"),
                *("--home", str(home)),
                *([] if gds else ["--no-gds"]),
                *([] if page_cache is None else ["--page-cache", page_cache]),
                *([] if stop_timeout is None else ["--stop-timeout", str(stop_timeout)]),
                *([] if port is None else ["--port", str(port)]),
            ],
            stdout=out,
            stderr=err,
            env=env,
            preexec_fn=die_with_parent(),
        )
    try:
        while True:
            text = out_path.read_text(errors="replace")
            if READY in text:
                uri = text.split(READY, 1)[1].split()[0]
                login = Neo4jLogin(uri=uri, username="neo4j", password=login_password)
                return RunningServer(login, home, process, time.monotonic() - began)
            if process.poll() is not None or time.monotonic() - began > timeout:
                raise RuntimeError(
                    f"the Neo4j test server did not start (exit {process.poll()}); "
                    f"its output:\n{_tail(out_path)}\n{_tail(home / 'server.err')}\n"
                    f"{_tail(home / 'logs' / 'debug.log')}"
                )
            time.sleep(0.2)
    except BaseException:
        # Not started, timed out, or interrupted (Ctrl-C): no JVM outlives the attempt.
        stop_process(process)
        raise


def stop(server: RunningServer) -> None:
    stop_process(server.process)


def stop_process(process: subprocess.Popen[bytes], grace: float | None = None) -> bool:
    """SIGTERM (the server checkpoints and closes its stores), then SIGKILL if it has not
    exited after ``grace`` seconds (:data:`STOP_GRACE`), or if the wait is interrupted;
    returns once it is gone. True when it had to be killed (said on stderr, with its pid)."""
    if process.poll() is not None:
        return False
    grace = STOP_GRACE if grace is None else grace
    killed = False
    try:
        process.terminate()
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        killed = True
        print(
            f"test server {process.pid} did not stop {grace:g} s after SIGTERM: killed",
            file=sys.stderr,
        )
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()  # SIGKILL cannot be refused: the kernel reaps it at once
    return killed


def die_with_parent() -> Callable[[], None] | None:
    """For ``Popen(preexec_fn=...)``: on Linux the child is sent SIGKILL when the process that
    started it dies, so a test run killed before its teardown (a CI timeout, SIGKILL) leaves
    no server behind. None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    parent = os.getpid()

    def arm() -> None:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, int(signal.SIGKILL))
        if os.getppid() != parent:  # it died before the signal was armed
            os._exit(1)

    return arm


def _tail(path: Path, lines: int = 20) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
