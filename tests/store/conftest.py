"""Fixtures of the tests on the real Neo4j server (marker ``neo4j``): its settings, and a
driver to an emptied database (each test starts from nothing). A module may define its own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from relgraph.config import Settings


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
