"""`load` and `analyze` stopped by Ctrl-C (SIGINT), SIGTERM or SIGHUP: one line saying what the store
holds, exit 128 + the signal, nothing staged left behind, and the next command works.

The signal is sent by the process to itself from inside a step, so it lands where the test
says; the handler is the one the command installs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from relgraph.cli import app
from relgraph.ingest import load as load_module
from relgraph.ingest.interrupted import Pending
from relgraph.jobs import analyze as analyze_module
from relgraph.store.embedded import EmbeddedStore
from tests.banks import copy_data, loaded_synthetic
from tests.cli_lines import said

runner = CliRunner()
SIGNALS = pytest.mark.parametrize(("signum", "code", "name"), [
    (signal.SIGINT, 130, "Ctrl-C (SIGINT)"), (signal.SIGTERM, 143, "SIGTERM"),
    (signal.SIGHUP, 129, "SIGHUP (its terminal closed)"),
])  # fmt: skip
"""Each stopping signal, the exit status it gives and how the stop line names it."""
KEPT_LOAD = "nothing was written: the store keeps its last good load"


@pytest.fixture(autouse=True)
def as_in_a_terminal() -> Any:
    """SIGHUP and SIGINT as a terminal session has them: the test runner may have been
    started under ``nohup`` (SIGHUP ignored) or in the background of a script (SIGINT
    ignored), and the commands respect an ignored signal."""
    previous = {
        signal.SIGHUP: signal.signal(signal.SIGHUP, signal.SIG_DFL),
        signal.SIGINT: signal.signal(signal.SIGINT, signal.default_int_handler),
    }
    yield
    for signum, handler in previous.items():
        signal.signal(signum, handler)


@pytest.fixture
def bank_and_data(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> tuple[Path, Path]:
    """A loaded copy, and the bank with one customer fewer: a load that is not unchanged."""
    bank, loaded = loaded_synthetic(tmp_path_factory, 300, 7)
    changed = shutil.copytree(bank, tmp_path / "bank")
    customers = changed / "customers.csv"
    customers.write_text("".join(customers.read_text("utf-8").splitlines(True)[:-1]), "utf-8")
    return changed, copy_data(loaded, tmp_path / "data")


def _signal_in(monkeypatch: pytest.MonkeyPatch, module: Any, name: str, signum: int) -> None:
    """Make ``module.name`` send ``signum`` to this process, then run as before."""
    original: Callable[..., Any] = getattr(module, name)

    def signalled(*args: Any, **kwargs: Any) -> Any:
        # Without the command's own handler the signal would end (or interrupt) pytest.
        handler = signal.getsignal(signum)
        assert handler not in (signal.SIG_DFL, signal.default_int_handler), "no handler"
        os.kill(os.getpid(), signum)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, signalled)


def _state(data: Path) -> tuple[str, bytes, list[str]]:
    with EmbeddedStore(data, read_only=True) as store:
        fingerprint = store.meta()[load_module.META_FINGERPRINT]
    return fingerprint, (data / "load-report.json").read_bytes(), sorted(os.listdir(data))


def _last_line(output: str) -> str:
    return " ".join(output.split("\n")[-2].split()) if output.endswith("\n") else output


@SIGNALS
def test_a_load_stopped_before_its_commit_keeps_the_last_good_load(
    bank_and_data: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    signum: int,
    code: int,
    name: str,
) -> None:
    # Was: SIGTERM killed it silently (exit -15) leaving .quarantine-<pid>/ behind; Ctrl-C
    # exited 130 saying nothing, or printed a "RuntimeError: Query interrupted" traceback.
    bank, data = bank_and_data
    before = _state(data)
    _signal_in(monkeypatch, load_module, "check_keys", signum)
    result = runner.invoke(app, ["load", str(bank), "--data-dir", str(data)])
    monkeypatch.undo()
    assert result.exit_code == code, result.output
    assert _last_line(result.output) == f"stopped: load stopped by {name}: {KEPT_LOAD}"
    assert "Traceback" not in result.output
    assert _state(data) == before  # no staging folder, no pending record, the same store
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    assert runner.invoke(app, ["stats", "--data-dir", str(data)]).exit_code == 0


def test_ctrl_c_inside_a_duckdb_query_of_a_load_is_a_stop_not_an_error(
    bank_and_data: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # DuckDB turns the interrupt into its own InterruptException ("Query interrupted"),
    # which the load reported as an input it could not process.
    bank, data = bank_and_data
    before = _state(data)
    from relgraph.ingest.validate import check_keys as original

    def slow(con: duckdb.DuckDBPyConnection, table: Any) -> None:
        assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler, "no handler"
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
        con.execute("SELECT count(*) FROM range(100000000000)").fetchall()
        original(con, table)

    monkeypatch.setattr(load_module, "check_keys", slow)
    result = runner.invoke(app, ["load", str(bank), "--data-dir", str(data)])
    monkeypatch.undo()
    assert result.exit_code == 130, result.output
    assert said(result.output) == [f"stopped: load stopped by Ctrl-C (SIGINT): {KEPT_LOAD}"]
    assert _state(data) == before


def test_a_first_load_stopped_leaves_no_store(
    bank_and_data: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bank, _ = bank_and_data
    _signal_in(monkeypatch, load_module, "check_keys", signal.SIGTERM)
    result = runner.invoke(app, ["load", str(bank), "--data-dir", str(tmp_path / "new")])
    monkeypatch.undo()
    assert result.exit_code == 143, result.output
    assert _last_line(result.output) == (
        "stopped: load stopped by SIGTERM: nothing was written (no store was created)"
    )
    assert sorted(os.listdir(tmp_path / "new")) == ["id-secret"]


def test_a_load_stopped_after_its_commit_says_so_and_the_next_load_finishes_it(
    bank_and_data: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bank, data = bank_and_data
    _signal_in(monkeypatch, Pending, "finish", signal.SIGINT)
    result = runner.invoke(app, ["load", str(bank), "--data-dir", str(data)])
    monkeypatch.undo()
    assert result.exit_code == 130, result.output
    assert _last_line(result.output) == (
        "stopped: load stopped by Ctrl-C (SIGINT): the store had committed this load; its "
        "quarantine and report were not written: the next `relgraph load` finishes them "
        "(without loading again)"
    )
    # The stopped command's process exits: its record is now a dead process's.
    ended = subprocess.Popen(["true"])
    ended.wait()
    Pending.path(data).rename(data / f".load-pending-{ended.pid}.json")
    again = runner.invoke(app, ["load", str(bank), "--data-dir", str(data)])
    assert again.exit_code == 0, again.output
    assert "finished the load of" in caplog.text
    assert "unchanged since the last load" in " ".join(again.output.split())
    assert not list(data.glob(".load-pending-*"))
    assert json.loads((data / "load-report.json").read_text("utf-8"))["source"] == str(bank)


@SIGNALS
def test_an_analyze_stopped_keeps_the_results_the_store_had(
    bank_and_data: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    signum: int,
    code: int,
    name: str,
) -> None:
    _, data = bank_and_data
    assert runner.invoke(app, ["analyze", "--data-dir", str(data)]).exit_code == 0
    with EmbeddedStore(data, read_only=True) as store:
        before = {n: store.read_results(n) for n in store.result_names()}
    _signal_in(monkeypatch, analyze_module, "scan", signum)
    result = runner.invoke(app, ["analyze", "--data-dir", str(data)])
    monkeypatch.undo()
    assert result.exit_code == code, result.output
    assert _last_line(result.output) == (
        f"stopped: analyze stopped by {name}: nothing of this run was written: the store "
        "keeps the results it had"
    )
    with EmbeddedStore(data, read_only=True) as store:
        assert {n: store.read_results(n) for n in store.result_names()} == before
    assert runner.invoke(app, ["stats", "--data-dir", str(data)]).exit_code == 0


@pytest.mark.parametrize(("signum", "code", "name"), [
    (signal.SIGTERM, 143, "SIGTERM"), (signal.SIGHUP, 129, "SIGHUP (its terminal closed)"),
])  # fmt: skip
def test_a_signal_to_a_running_load_process_stops_it_cleanly(
    bank_and_data: tuple[Path, Path], signum: int, code: int, name: str
) -> None:
    # A real process, signalled as a scheduler or `kill` does (SIGTERM) or as a closed SSH
    # session does (SIGHUP), once its log says it reads the transfers; it used to die at
    # once (-15, -1) with no word and its staging folder left.
    bank, data = bank_and_data
    before = _state(data)
    child = subprocess.Popen(
        [sys.executable, "-m", "relgraph.cli", "load", str(bank), "--data-dir", str(data)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert child.stderr is not None
    seen = []
    for line in child.stderr:
        seen.append(line)
        if "loading transfers" in line:
            child.send_signal(signum)
            break
    rest = child.stderr.read()
    assert child.wait(timeout=60) == code, "".join(seen) + rest
    assert said(rest) == [f"stopped: load stopped by {name}: {KEPT_LOAD}"]
    assert _state(data) == before


def test_a_load_started_under_nohup_outlives_its_terminal(
    bank_and_data: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `nohup relgraph load …` asks for the load to go on when the session closes.
    bank, data = bank_and_data
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    original = load_module.check_keys

    def hung_up(*args: Any, **kwargs: Any) -> Any:
        os.kill(os.getpid(), signal.SIGHUP)
        return original(*args, **kwargs)

    monkeypatch.setattr(load_module, "check_keys", hung_up)
    result = runner.invoke(app, ["load", str(bank), "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    assert "stopped" not in result.output
    assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN


def test_an_analyze_stopped_on_neo4j_does_not_claim_nothing_was_written(
    bank_and_data: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Neo4j switches a run's result tables in at once and writes them back onto the graph
    # after: a run stopped in its write-back has published its results. (The store here is
    # the embedded copy behind the Neo4j setting: only the line differs.)
    from relgraph.cli import analysis

    _, data = bank_and_data
    monkeypatch.setenv("RELGRAPH_STORE", "neo4j")
    monkeypatch.setattr(
        analysis, "open_store", lambda _s, read_only=False: EmbeddedStore(data, read_only=read_only)
    )
    _signal_in(monkeypatch, analyze_module, "scan", signal.SIGTERM)
    result = runner.invoke(app, ["analyze", "--data-dir", str(data)])
    monkeypatch.undo()
    assert result.exit_code == 143, result.output
    assert _last_line(result.output) == (
        "stopped: analyze stopped by SIGTERM: the store serves the results it had, or this "
        "run's if it was writing them back onto the graph (the next run rewrites the nodes' "
        "properties)"
    )


def test_an_audience_export_stopped_leaves_no_partial_file(
    bank_and_data: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Was: SIGTERM killed it mid-write, leaving `.<file>.<random>.partial` - the members'
    # names and phones - beside where the export was to go, and no word.
    from relgraph.jobs import audience as audience_module

    _, data = bank_and_data
    assert runner.invoke(app, ["analyze", "--data-dir", str(data)]).exit_code == 0
    folder = tmp_path / "exports"
    folder.mkdir()
    criteria = tmp_path / "criteria.json"
    criteria.write_text('{"unit": "HOUSEHOLD"}', "utf-8")
    out = folder / "audience.csv"
    args = ["audience", "--criteria", str(criteria), "--out", str(out), "--data-dir", str(data)]
    _signal_in(monkeypatch, audience_module, "_write_csv", signal.SIGTERM)
    result = runner.invoke(app, args)
    monkeypatch.undo()
    assert result.exit_code == 143, result.output
    assert _last_line(result.output) == (
        f"stopped: audience stopped by SIGTERM: no {out} was written"
    )
    assert list(folder.iterdir()) == []
    assert runner.invoke(app, args).exit_code == 0
    assert sorted(p.name for p in folder.iterdir()) == ["audience.csv", "audience.csv.json"]
