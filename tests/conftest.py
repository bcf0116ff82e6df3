"""A real Neo4j 5.26 + GDS 2.13 for every neo4j-marked test: one server per test session.

With ``NEO4J_URI`` set, the tests use that server instead (they empty its database: use a
scratch one). Otherwise, where Java 17 and Maven are present, the session builds
``tools/neo4j-server`` (``make neo4j``) and starts it; where they are not, the neo4j-marked tests
are skipped, or fail when ``RELGRAPH_REQUIRE_NEO4J=1`` (CI).

Likewise one Apache Kafka broker (``tools/kafka-server``, KRaft, one node) for the kafka-marked
tests, or ``KAFKA_BOOTSTRAP`` when set; ``RELGRAPH_REQUIRE_KAFKA=1`` makes a missing one a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from tests import kafka_server, neo4j_server
from tests.neo4j_server import Neo4jLogin


@pytest.fixture(scope="session")
def neo4j_login(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Neo4jLogin]:
    """Where the neo4j-marked tests find Neo4j, and how they log in."""
    if uri := os.environ.get("NEO4J_URI"):
        yield Neo4jLogin(
            uri=uri,
            username=os.environ.get("NEO4J_USERNAME", "neo4j"),
            password=os.environ.get("NEO4J_PASSWORD", ""),
            ours=False,
        )
        return
    reason = neo4j_server.unavailable_reason()
    if reason is not None:
        if neo4j_server.required():
            pytest.fail(f"{neo4j_server.REQUIRE_ENV} is set but {reason}.", pytrace=False)
        pytest.skip(f"no Neo4j test server: {reason}")
    try:
        neo4j_server.build()
        server = neo4j_server.start(tmp_path_factory.mktemp("neo4j-server"))
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    try:
        yield server.login
    finally:
        neo4j_server.stop(server)


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The bootstrap address (``127.0.0.1:PORT``) of the kafka-marked tests' broker."""
    if bootstrap := os.environ.get("KAFKA_BOOTSTRAP"):
        yield bootstrap
        return
    reason = kafka_server.unavailable_reason()
    if reason is not None:
        if kafka_server.required():
            pytest.fail(f"{kafka_server.REQUIRE_ENV} is set but {reason}.", pytrace=False)
        pytest.skip(f"no Kafka test broker: {reason}")
    try:
        kafka_server.build()
        broker = kafka_server.start(tmp_path_factory.mktemp("kafka-broker"))
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    try:
        yield broker.bootstrap
    finally:
        kafka_server.stop(broker)


@pytest.fixture(autouse=True)
def _neo4j_env(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Points neo4j-marked tests (and the Settings.from_env() they call) at the server."""
    if request.node.get_closest_marker("neo4j") is None:
        return
    login: Neo4jLogin = request.getfixturevalue("neo4j_login")
    monkeypatch.setenv("NEO4J_URI", login.uri)
    monkeypatch.setenv("NEO4J_USERNAME", login.username)
    monkeypatch.setenv("NEO4J_PASSWORD", login.password)


@pytest.fixture(scope="session")
def synthetic_bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1,000-customer synthetic bank (CSV files) for the neo4j-marked tests to load."""
    from relgraph.synth import generate

    bank = tmp_path_factory.mktemp("synthetic-bank") / "bank"
    generate(1_000, 7, bank, "csv")
    return bank


@pytest.fixture(scope="session")
def synthetic_tables(
    synthetic_bank: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, pa.Table]:
    """``synthetic_bank``'s canonical tables, as the embedded store's load made them."""
    from relgraph.ingest import load_directory
    from relgraph.store.embedded import EmbeddedStore

    data = tmp_path_factory.mktemp("synthetic-embedded")
    with EmbeddedStore(data) as store:
        load_directory(synthetic_bank, store, data)
        return {name: store.read_table(name) for name in store.table_names()}
