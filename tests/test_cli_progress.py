"""Progress where stderr is a log file or a pipe: a plain line per step, and a line while a
step runs long; no carriage returns or colour codes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from relgraph.cli.progress_lines import LineProgress
from tests.banks import copy_data, loaded_synthetic
from tests.waits import until

ANALYZE_STEPS = [
    "party values (step 1 of 7)",
    "hidden networks (step 2 of 7)",
    "households (step 3 of 7)",
    "corporate groups (step 4 of 7)",
    "referral influence (step 5 of 7)",
    "layered transactions (step 6 of 7)",
    "writing results (step 7 of 7)",
]


def test_analyze_into_a_log_file_writes_a_line_per_step(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    # Was: nothing at all until the results table (rich draws no bar off a terminal): a
    # million-customer analyze was 80 s without a word in the log, a load 150 s.
    _, loaded = loaded_synthetic(tmp_path_factory, 300, 7)
    data = copy_data(loaded, tmp_path / "data")
    log = tmp_path / "analyze.log"
    with log.open("wb") as err:
        done = subprocess.run(
            [sys.executable, "-m", "relgraph.cli", "analyze", "--data-dir", str(data)],
            stdout=subprocess.DEVNULL, stderr=err, timeout=300, env=os.environ,
        )  # fmt: skip
    text = log.read_text("utf-8")
    assert done.returncode == 0, text
    assert "\r" not in text
    assert "\x1b" not in text
    lines = text.splitlines()
    stamped = [re.fullmatch(r"\[ *(\d+\.\d) s\] (.+)", line) for line in lines]
    assert all(stamped), lines
    steps = [m.group(2) for m in stamped if m and not m.group(2).startswith("projecting: ")]
    assert steps == ANALYZE_STEPS
    assert next(m.group(2) for m in stamped if m) == "projecting: persons"
    seconds = [float(m.group(1)) for m in stamped if m]
    assert seconds == sorted(seconds)


def test_a_step_that_runs_long_says_so_each_period() -> None:
    said: list[str] = []
    began = time.monotonic()
    lines = LineProgress(said.append, every=0.3)
    try:
        lines("resolving persons", 11, 13)
        lines("resolving persons", 11, 13)  # the same step again: no second line
        # Three beats, however late either thread runs: a fixed 1.1 s pause saw five when
        # this thread woke late (a loaded machine), and one when the heartbeat's did.
        until(lambda: len(said) >= 4, "three heartbeats")
        lines("writing the store", 12, 13)
        ran = time.monotonic() - began
        lines("writing the store", 13, 13)  # completed: nothing more
    finally:
        lines.close()
    bodies = [line.split("] ", 1)[1] for line in said]
    assert bodies[0] == "resolving persons (step 12 of 13)"
    switched = bodies.index("writing the store (step 13 of 13)")
    beats = bodies[1:switched]
    # One a period (a beat k periods in at the earliest), not one a look: six a period.
    assert 3 <= len(beats) <= ran / 0.3, (bodies, ran)
    assert all(re.fullmatch(r"resolving persons: still running, \d+ s so far", b) for b in beats), (
        beats
    )
    # Only the new step's own beats may follow, had this thread been late to close.
    later = bodies[switched + 1 :]
    assert all(re.fullmatch(r"writing the store: still running, \d+ s so far", b) for b in later)
