"""The store contract, shared by every store: same inputs, same outputs.

Runs against the embedded store, the Neo4j store over :mod:`tests.store.emulator`
(its Python side: batches of 2, reads of 3 rows a page), and a real Neo4j (marker
``neo4j``: the session's test server of ``tests/conftest.py``, or ``NEO4J_URI``). Those
tests empty the database they are pointed at: use a scratch one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from relgraph.config import META_SOURCE_TZ, Settings, data_zone
from relgraph.graph import build_projection
from relgraph.store.base import Store, TableNotFoundError
from relgraph.store.embedded import EmbeddedStore
from tests.graph.conftest import BANK, canonical_tables

StoreFactory = Callable[[], Store]


def _neo4j_factory() -> Iterator[StoreFactory]:
    import neo4j

    from relgraph.store.neo4j import Neo4jStore

    settings = Settings.from_env().neo4j
    with neo4j.GraphDatabase.driver(
        settings.uri, auth=(settings.username, settings.password)
    ) as driver:
        driver.execute_query("MATCH (n) DETACH DELETE n", database_=settings.database)
    opened: list[Store] = []

    def make() -> Store:
        opened.append(Neo4jStore.connect(settings))
        return opened[-1]

    yield make
    for store in opened:
        store.close()


@pytest.fixture(
    params=[
        "embedded",
        "neo4j-emulated",
        pytest.param("neo4j", marks=pytest.mark.neo4j),
    ]
)
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    if request.param == "embedded":
        opened: list[Store] = []

        def make() -> Store:
            opened.append(EmbeddedStore(tmp_path))
            return opened[-1]

        yield make
        for store in opened:
            store.close()
    elif request.param == "neo4j-emulated":
        from relgraph.config import Neo4jSettings
        from relgraph.store.neo4j import Neo4jStore
        from tests.store.emulator import EmulatedNeo4j

        database = EmulatedNeo4j()
        yield lambda: Neo4jStore(database, Neo4jSettings(batch_size=2), page_rows=3)
    else:
        yield from _neo4j_factory()


TABLES = canonical_tables(BANK)


def test_tables_read_back_exactly_as_written(open_store: StoreFactory) -> None:
    store = open_store()
    store.replace_tables(TABLES, {"fingerprint": "bank"})
    assert store.table_names() == sorted(TABLES)
    for name, table in TABLES.items():
        assert store.read_table(name).equals(table), name
    first = TABLES["customers"].column_names[:2]
    assert store.read_table("customers", first).column_names == first
    assert store.meta() == {"fingerprint": "bank"}


def test_loading_twice_changes_nothing(open_store: StoreFactory) -> None:
    store = open_store()
    store.replace_tables(TABLES, {"fingerprint": "bank"})
    store.replace_tables(TABLES, {"fingerprint": "bank"})
    for name, table in TABLES.items():
        assert store.read_table(name).equals(table), name


def test_a_new_load_replaces_tables_and_drops_results(open_store: StoreFactory) -> None:
    store = open_store()
    store.replace_tables(TABLES, {"fingerprint": "one"})
    store.write_results("suppressed_identifiers", pa.table({"kind": ["device"], "id": ["K1"]}))
    smaller = {k: TABLES[k] for k in ("persons", "customers")}
    store.replace_tables(smaller, {"fingerprint": "two"})
    assert store.table_names() == ["customers", "persons"]
    assert store.result_names() == []
    assert store.meta() == {"fingerprint": "two"}


def test_a_failed_load_leaves_the_last_good_state(open_store: StoreFactory) -> None:
    store = open_store()
    store.replace_tables(TABLES, {"fingerprint": "good"})
    # Not a table: each store fails in its own way (DuckDB part-way, Neo4j up front).
    broken = {**TABLES, "transfers": object()}
    with pytest.raises(Exception):  # noqa: B017, PT011
        store.replace_tables(broken, {"fingerprint": "bad"})
    assert store.meta() == {"fingerprint": "good"}
    assert store.read_table("transfers").equals(TABLES["transfers"])


def test_results_replace_one_at_a_time(open_store: StoreFactory) -> None:
    store = open_store()
    store.replace_tables(TABLES, {})
    households = pa.table({"household_id": ["H1"], "size": [2], "total_aum": [510.0]})
    store.replace_results(
        {
            "households": households,
            "person_households": pa.table({"person_id": ["P1", "P2"], "household_id": ["H1"] * 2}),
        }
    )
    store.write_results("households", households.slice(0, 0))
    assert store.read_results("households").equals(households.slice(0, 0))
    assert store.read_results("person_households").num_rows == 2
    assert store.result_names() == ["households", "person_households"]
    assert store.results_frame("influence") is None


def test_missing_tables_are_clear_errors(open_store: StoreFactory) -> None:
    store = open_store()
    with pytest.raises(TableNotFoundError, match="no canonical table 'customers'"):
        store.read_table("customers")
    with pytest.raises(TableNotFoundError, match="no results table 'x'"):
        store.read_results("x")


def test_the_zone_a_load_read_its_files_in_reaches_the_projection(
    open_store: StoreFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The load records it in the store's metadata; analyze and serve read the data's days
    # in it (config.data_zone) whatever their own RELGRAPH_SOURCE_TZ.
    store = open_store()
    store.replace_tables(TABLES, {"fingerprint": "bank", META_SOURCE_TZ: "Asia/Shanghai"})
    monkeypatch.setenv("RELGRAPH_SOURCE_TZ", "UTC")
    assert data_zone(build_projection(store).meta).key == "Asia/Shanghai"
    assert data_zone(open_store().meta()).key == "Asia/Shanghai"  # another connection


def test_the_projection_is_the_same_from_every_store(
    open_store: StoreFactory, tmp_path: Path
) -> None:
    store = open_store()
    store.replace_tables(TABLES, {})
    reference = EmbeddedStore(tmp_path / "reference")
    reference.replace_tables(TABLES, {})
    got, want = build_projection(store), build_projection(reference)
    reference.close()
    assert {k: len(v) for k, v in got.nodes.items()} == {k: len(v) for k, v in want.nodes.items()}
    assert {k: len(v.src) for k, v in got.edges.items()} == {
        k: len(v.src) for k, v in want.edges.items()
    }


def test_analytics_give_the_same_results_from_every_store(
    open_store: StoreFactory, tmp_path: Path
) -> None:
    from relgraph.jobs.analyze import analyze

    store = open_store()
    store.replace_tables(TABLES, {})
    analyze(store, build_projection(store))
    with EmbeddedStore(tmp_path / "reference") as reference:
        reference.replace_tables(TABLES, {})
        analyze(reference, build_projection(reference))
        assert store.result_names() == reference.result_names()
        for name in reference.result_names():
            got, want = store.read_results(name), reference.read_results(name)
            if name == "analysis_settings":  # two runs, two clocks: the rest must agree
                got, want = got.drop_columns("analysed_at"), want.drop_columns("analysed_at")
            assert got.equals(want), name
