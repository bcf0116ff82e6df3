"""Against a real Neo4j (marker ``neo4j``): a refused load leaves the live generation as it was.

These tests empty the database they are pointed at: use a scratch one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from relgraph.config import Settings
from relgraph.ingest import load_directory
from relgraph.ingest.refusal import LoadRefusedError
from relgraph.store.neo4j import Neo4jStore

from .conftest import bank_tables, write_bank

pytestmark = pytest.mark.neo4j


@pytest.fixture
def store() -> Iterator[Neo4jStore]:
    import neo4j

    settings = Settings.from_env().neo4j
    with neo4j.GraphDatabase.driver(
        settings.uri, auth=(settings.username, settings.password)
    ) as driver:
        driver.execute_query("MATCH (n) DETACH DELETE n", database_=settings.database)
    with Neo4jStore.connect(settings) as opened:
        yield opened


def test_a_refused_load_leaves_the_live_generation(store: Neo4jStore, tmp_path: Path) -> None:
    data = tmp_path / "data"
    load_directory(write_bank(tmp_path / "good", bank_tables()), store, data, id_secret="s" * 32)
    state = store.state()
    customers = store.read_table("customers")

    tables = bank_tables()
    for row in tables["customers"]:
        row["source_system"] = "mainframe"  # not one of the bank's systems: every row refused
    with pytest.raises(LoadRefusedError, match="every row of customers"):
        load_directory(write_bank(tmp_path / "bad", tables), store, data, id_secret="s" * 32)

    after = store.state()
    assert after.gen == state.gen
    assert after.meta == state.meta
    assert after.tables == state.tables
    assert after.pending == state.pending
    assert store.read_table("customers").equals(customers)
    assert (data / "load-report.rejected.json").exists()
