"""Failures on a real Neo4j (marker ``neo4j``): a server killed mid-load, a transaction timeout,
a wrong password, and a Neo4j without Graph Data Science when the GDS engine is asked for.

The kill and no-GDS tests run on a server of their own (``tools/neo4j-server --no-gds``), not
the session's: killing that one would fail every test after. The others use the session's.
"""

from __future__ import annotations

import dataclasses
import os
import signal
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from relgraph.cli import app
from relgraph.config import Neo4jSettings, Settings
from relgraph.store.base import StoreError
from tests import neo4j_server
from tests.graph.conftest import BANK, canonical_tables
from tests.neo4j_server import Neo4jLogin

pytestmark = pytest.mark.neo4j

TABLES = canonical_tables(BANK)
cli = CliRunner()


class BareServer:
    """A server without GDS that a test may kill, and start again on the same data."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.running = neo4j_server.start(home, gds=False)

    def restart(self) -> Neo4jLogin:
        """Starts it again on the same data (after a kill): Neo4j's recovery runs."""
        neo4j_server.stop(self.running)
        self.running = neo4j_server.start(self.home, gds=False)
        return self.running.login


@pytest.fixture(scope="module")
def bare_server(
    neo4j_login: Neo4jLogin, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BareServer]:
    reason = neo4j_server.unavailable_reason()
    if reason is not None:  # NEO4J_URI points elsewhere and no server can run here
        if neo4j_server.required():
            pytest.fail(f"{neo4j_server.REQUIRE_ENV} is set but {reason}.", pytrace=False)
        pytest.skip(f"no second Neo4j test server: {reason}")
    server = BareServer(tmp_path_factory.mktemp("neo4j-bare"))
    yield server
    neo4j_server.stop(server.running)


def _settings(login: Neo4jLogin, **changes: Any) -> Neo4jSettings:
    base = Neo4jSettings(uri=login.uri, username=login.username, password=login.password)
    return dataclasses.replace(base, **changes)


def _empty(settings: Neo4jSettings) -> None:
    import neo4j

    with neo4j.GraphDatabase.driver(
        settings.uri, auth=(settings.username, settings.password)
    ) as driver:
        driver.execute_query("MATCH (n) DETACH DELETE n", database_=settings.database)


def _one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


def test_a_server_killed_mid_load_recovers_with_the_live_generation_intact(
    bare_server: BareServer, synthetic_tables: dict[str, pa.Table]
) -> None:
    from relgraph.store.neo4j import Neo4jStore, generation_id

    # No retries: the driver would otherwise try the dead server for 30 s.
    settings = _settings(bare_server.running.login, batch_size=1000, max_retry_time=0)
    _empty(settings)
    with closing(Neo4jStore.connect(settings)) as store:
        store.replace_tables(TABLES, {"fingerprint": "good"})
        good = store.generation
        process = bare_server.running.process
        killed: list[int] = []

        def kill_midway(operation: str, done: int, total: int) -> None:
            # Mid-way through the largest table, after some of its batches committed.
            if operation == "load transfers" and done >= total // 3 and not killed:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
                killed.append(done)

        store.progress = kill_midway
        with pytest.raises(StoreError) as caught:
            store.replace_tables(synthetic_tables, {"fingerprint": "killed"})
    assert killed, "the load finished before the kill"
    assert "load transfers" in _one_line(str(caught.value))
    assert "nothing after the last committed batch was kept" in str(caught.value)

    settings = _settings(bare_server.restart(), batch_size=1000, max_retry_time=0)
    with closing(Neo4jStore.connect(settings)) as store:
        state = store.state()
        assert (state.gen, store.meta()) == (good, {"fingerprint": "good"})
        assert generation_id(synthetic_tables) in state.pending
        for name, table in TABLES.items():
            assert store.read_table(name).equals(table), name
        # The next load recovers: it lands whole and the dead generation's part is gone.
        store.replace_tables(synthetic_tables, {"fingerprint": "next"})
        assert store.meta() == {"fingerprint": "next"}
        assert store.state().pending == ()
        assert store.read_table("transfers").equals(synthetic_tables["transfers"])
        left = store.runner.run("state_read", operation="check")  # a round trip that works
        assert len(left) == 1
    import neo4j

    with neo4j.GraphDatabase.driver(
        settings.uri, auth=(settings.username, settings.password)
    ) as driver:
        records, _, _ = driver.execute_query(
            "MATCH (n) WHERE n.gen IS NOT NULL AND n.gen <> $gen RETURN count(n) AS stale",
            gen=generation_id(synthetic_tables),
        )
    assert records[0]["stale"] == 0


def test_gds_asked_of_a_neo4j_without_it_is_one_clear_line(
    bare_server: BareServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from relgraph.engines.gds import GdsEngine
    from relgraph.store.neo4j import Neo4jStore

    login = bare_server.running.login
    settings = _settings(login)
    with pytest.raises(StoreError) as caught:
        GdsEngine.connect(settings, "any")
    message = _one_line(str(caught.value))
    assert "no Graph Data Science plugin" in message
    assert "RELGRAPH_ANALYTICS_ENGINE=local" in message
    # And what a user of the CLI sees: one line, exit 2, before any work.
    _empty(settings)
    with closing(Neo4jStore.connect(settings)) as store:
        store.replace_tables(TABLES, {})
    for name, value in {
        "RELGRAPH_STORE": "neo4j",
        "RELGRAPH_ANALYTICS_ENGINE": "gds",
        "NEO4J_URI": login.uri,
        "NEO4J_PASSWORD": login.password,
    }.items():
        monkeypatch.setenv(name, value)
    result = cli.invoke(app, ["analyze", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "no Graph Data Science plugin" in _one_line(result.output)
    with closing(Neo4jStore.connect(settings)) as store:
        assert store.result_names() == []


def test_a_statement_past_the_transaction_timeout_is_a_clear_error() -> None:
    from relgraph.store.neo4j import Neo4jStore
    from relgraph.store.neo4j_load import write_rows

    settings = dataclasses.replace(Settings.from_env().neo4j, tx_timeout=0.05, max_retry_time=0)
    rows = 400_000
    persons = pa.table({"person_id": [f"P{i}" for i in range(rows)], "name": ["王伟"] * rows})
    with closing(Neo4jStore.connect(settings)) as store, pytest.raises(StoreError) as caught:
        # One 400,000-row CREATE runs for seconds, past the server's transaction monitor,
        # which looks every 2 s (a 50,000-row one could end between two looks on a quick
        # machine); the server stops it.
        write_rows(store.runner, "persons_create", persons, {"gen": "timeout-test"},
                   operation="load persons", batch_size=rows)  # fmt: skip
    message = _one_line(str(caught.value))
    # Which the server reports depends on where the statement was at 50 ms: running, or
    # waiting for a unique-index entry lock (LockClientStopped); both name the setting.
    assert message.startswith("load persons: statement 'persons_create' ")
    assert "ran longer than its transaction timeout" in message or (
        "was stopped while it waited for a lock" in message
    )
    assert "RELGRAPH_NEO4J_TX_TIMEOUT is 0.05 s" in message
    # Checked with the default timeout: a cold read can take more than 50 ms itself.
    with closing(Neo4jStore.connect(Settings.from_env().neo4j)) as store:
        page = store.runner.run("persons_read", {"gen": "timeout-test", "from": 0, "to": 9,
                                "columns": ["person_id"]}, operation="check")  # fmt: skip
        assert list(page["rows"].iloc[0]) == []


def test_a_load_blocked_past_the_timeout_keeps_the_live_data() -> None:
    import neo4j

    from relgraph.store.neo4j import Neo4jStore

    _empty(Settings.from_env().neo4j)
    with Neo4jStore.connect(Settings.from_env().neo4j) as store:
        store.replace_tables(TABLES, {"fingerprint": "live"})
    settings = dataclasses.replace(Settings.from_env().neo4j, tx_timeout=2, max_retry_time=0)
    other = {**TABLES, "transfers": TABLES["transfers"].slice(1)}
    with (
        neo4j.GraphDatabase.driver(
            settings.uri, auth=(settings.username, settings.password)
        ) as driver,
        driver.session(database=settings.database) as session,
    ):
        # Another client holds the state node's write lock and does not let go.
        holder = session.begin_transaction()
        holder.run("MATCH (s:RelgraphState) SET s.heldBy = 'another client'").consume()
        try:
            with (
                closing(Neo4jStore.connect(settings)) as store,
                pytest.raises(StoreError) as caught,
            ):
                store.replace_tables(other, {"fingerprint": "blocked"})
        finally:
            holder.rollback()
    message = _one_line(str(caught.value))
    assert message.startswith("begin load: statement 'state_begin_load' was stopped while it")
    assert "RELGRAPH_NEO4J_TX_TIMEOUT is 2 s" in message
    with closing(Neo4jStore.connect(settings)) as store:
        assert store.meta() == {"fingerprint": "live"}
        assert store.read_table("transfers").equals(TABLES["transfers"])


def test_a_wrong_password_is_one_line_for_the_cli_and_the_gds_engine(
    neo4j_login: Neo4jLogin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from relgraph.engines.gds import GdsEngine

    wrong = neo4j_login.password + "-wrong"
    with pytest.raises(StoreError) as caught:
        GdsEngine.connect(_settings(neo4j_login, password=wrong), "any")
    message = _one_line(str(caught.value))
    assert "check NEO4J_USERNAME and NEO4J_PASSWORD" in message
    assert wrong not in message
    monkeypatch.setenv("RELGRAPH_STORE", "neo4j")
    monkeypatch.setenv("NEO4J_PASSWORD", wrong)
    monkeypatch.setenv("RELGRAPH_NEO4J_RETRY_TIME", "0")
    result = cli.invoke(app, ["stats", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    line = _one_line(result.output)
    assert f"Neo4j at {neo4j_login.uri} refused user 'neo4j'" in line
    assert wrong not in result.output


def test_a_server_whose_shutdown_overruns_its_stop_timeout_halts(
    bare_server: BareServer, tmp_path: Path
) -> None:
    """A database that panicked on a full disk never finishes shutting down (RESULTS.md: over
    120 s at a whole core after SIGTERM); the server halts itself after ``--stop-timeout``
    seconds. With 0 every shutdown overruns it."""
    home = tmp_path / "halting"
    server = neo4j_server.start(home, gds=False, stop_timeout=0)
    try:
        server.process.terminate()
        assert server.process.wait(timeout=30) == 3
    finally:
        neo4j_server.stop(server)
    assert "not stopped after 0 s" in (home / "server.out").read_text()


def test_a_database_the_server_has_not_is_one_line_naming_the_setting(
    neo4j_login: Neo4jLogin, synthetic_bank: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Was: "read state: statement 'state_read' failed on bolt://…: Neo.ClientError.Database.
    # DatabaseNotFound: Graph not found: bank" (load: "create schema: statement
    # 'schema_…'…"), naming no setting.
    monkeypatch.setenv("RELGRAPH_STORE", "neo4j")
    monkeypatch.setenv("NEO4J_DATABASE", "bank")
    monkeypatch.setenv("RELGRAPH_API_KEYS", "admin:admin-key-0123456789abcdef0123")
    data = tmp_path / "data"
    for command in (["stats"], ["analyze"], ["load", str(synthetic_bank)], ["serve"]):
        result = cli.invoke(app, [*command, "--data-dir", str(data)])
        assert result.exit_code == 2, result.output
        assert _one_line(result.output) == (
            f"error: Neo4j at {neo4j_login.uri} has no database 'bank' (NEO4J_DATABASE): set "
            "it to one the server has (SHOW DATABASES lists them; Community edition has one, "
            "'neo4j')"
        )
        assert neo4j_login.password not in result.output
    assert not (data / "load-report.json").exists()
