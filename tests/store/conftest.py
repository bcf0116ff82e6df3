"""Fixtures of the Neo4j store's tests: on the real server (marker ``neo4j``) its settings and
a driver to an emptied database (each test starts from nothing); without one, a recording
runner and a store over it. A module may define its own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from relgraph.config import Neo4jSettings, Settings
from relgraph.store.neo4j import Neo4jStore
from tests.store.recording import RecordingRunner


@pytest.fixture
def settings() -> Settings:
    return Settings.from_env()


@pytest.fixture
def driver(settings: Settings) -> Iterator[Any]:
    import neo4j

    with neo4j.GraphDatabase.driver(
        settings.neo4j.uri, auth=(settings.neo4j.username, settings.neo4j.password)
    ) as driver:
        driver.execute_query("MATCH (n) DETACH DELETE n", database_=settings.neo4j.database)
        yield driver


@pytest.fixture
def runner() -> RecordingRunner:
    return RecordingRunner()


@pytest.fixture
def store(runner: RecordingRunner) -> Neo4jStore:
    # One writer: the calls are recorded in the order the rows go (the parallel path has its
    # own tests, and the contract suite's emulated store runs it).
    return Neo4jStore(runner, Neo4jSettings(batch_size=2, writers=1))
