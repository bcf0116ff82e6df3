"""``benchmarks/bench_neo4j.py`` against a real Neo4j (marker ``neo4j``): what it does to the
server before it measures."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from relgraph.config import Settings

pytestmark = pytest.mark.neo4j

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_neo4j.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_neo4j", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def driver(settings: Settings) -> Iterator[Any]:
    import neo4j

    with neo4j.GraphDatabase.driver(
        settings.neo4j.uri, auth=(settings.neo4j.username, settings.neo4j.password)
    ) as driver:
        yield driver


@pytest.fixture
def settings() -> Settings:
    return Settings.from_env()


def test_the_benchmark_empties_a_server_that_holds_a_previous_runs_data(
    driver: Any, settings: Settings
) -> None:
    # More nodes than one of its inner transactions deletes, each with a relationship. It ran
    # CALL { } IN TRANSACTIONS in a managed transaction, which the server refuses.
    driver.execute_query(
        "UNWIND range(1, 25000) AS i CREATE (:Person {person_id: 'P' + i})-[:RECORD_OF]->"
        "(:CustomerRecord {customer_id: 'C' + i})",
        database_=settings.neo4j.database,
    )
    _bench().empty(settings)
    records, _, _ = driver.execute_query(
        "MATCH (n) RETURN count(n) AS n", database_=settings.neo4j.database
    )
    assert records[0]["n"] == 0
