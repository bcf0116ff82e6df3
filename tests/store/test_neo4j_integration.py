"""Against a real Neo4j 5.26 + GDS (marker ``neo4j``): the graph users see, GDS.

The server is the session's test server (``tests/conftest.py``) or ``NEO4J_URI``. These
tests empty the database they are pointed at: use a scratch one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy.stats import spearmanr
from typer.testing import CliRunner

from relgraph.analytics.networks import hidden_networks
from relgraph.analytics.params import NetworkParams
from relgraph.cli import app
from relgraph.config import Settings
from relgraph.graph import build_projection
from relgraph.jobs.analyze import analyze
from relgraph.store.base import StoreError
from relgraph.store.embedded import EmbeddedStore
from tests.graph.conftest import BANK, canonical_tables
from tests.neo4j_parity import adjusted_rand_index

pytestmark = pytest.mark.neo4j

TABLES = canonical_tables(BANK)


def _count(driver: Any, settings: Settings, cypher: str) -> int:
    records, _, _ = driver.execute_query(cypher, database_=settings.neo4j.database)
    return int(records[0][0])


def test_the_bank_is_a_graph_and_results_are_written_back(
    driver: Any, settings: Settings, tmp_path: Path
) -> None:
    from relgraph.store.neo4j import Neo4jStore

    with Neo4jStore.connect(settings.neo4j) as store:
        store.replace_tables(TABLES, {"fingerprint": "bank"})
        analyze(store, build_projection(store))
        households = store.read_results("person_households").to_pandas()
    assert _count(driver, settings, "MATCH (c:CustomerRecord) RETURN count(c)") == 6
    assert (
        _count(driver, settings, "MATCH (:CustomerRecord)-[r:RECORD_OF]->(:Person) RETURN count(r)")
        == 6
    )
    alice = households.set_index("person_id")["household_id"]
    records, _, _ = driver.execute_query(
        "MATCH (p:Person {person_id: $id}) RETURN p.householdId AS h, p.networkId AS n",
        id="P1",
        database_=settings.neo4j.database,
    )
    assert records[0]["h"] == alice["P1"]
    assert records[0]["n"] is not None
    assert _count(
        driver, settings, "MATCH (:Person)-[r:MEMBER_OF]->(:Household) RETURN count(r)"
    ) == len(households)
    # Person.aum is the person's value (what GraphQL serves), not the load's record summary:
    # Alice's persons row says 500, her one deposit account holds 10.
    with Neo4jStore.connect(settings.neo4j) as store:
        values = store.read_results("party_values").to_pandas()
    values = values[values["party_kind"] == "person"].set_index("party_id")
    records, _, _ = driver.execute_query(
        "MATCH (p:Person) RETURN p.person_id AS id, p.aum AS aum, p.loans AS loans,"
        " p.valueSource AS source",
        database_=settings.neo4j.database,
    )
    on_nodes = {r["id"]: (r["aum"], r["loans"], r["source"]) for r in records}
    assert on_nodes["P1"][0] == 10.0
    assert on_nodes == {
        pid: tuple(None if pd.isna(v) else v for v in row)
        for pid, row in values[["aum", "loans", "value_source"]].iterrows()
    }
    with EmbeddedStore(tmp_path) as reference:
        reference.replace_tables(TABLES, {})
        analyze(reference, build_projection(reference))
        for name in reference.result_names():
            with Neo4jStore.connect(settings.neo4j) as store:
                got, want = store.read_results(name), reference.read_results(name)
            if name == "analysis_settings":  # two runs, two clocks: the rest must agree
                got, want = got.drop_columns("analysed_at"), want.drop_columns("analysed_at")
            assert got.equals(want), name
    # An enterprise keeps its loaded row (Acme's says deposits 1,000,000) and gets its value
    # beside it (its one deposit account holds 60).
    records, _, _ = driver.execute_query(
        "MATCH (e:Enterprise) RETURN e.enterprise_id AS id, e.deposits AS loaded,"
        " e.valueDeposits AS deposits, e.valueLoans AS loans, e.valueSource AS source",
        database_=settings.neo4j.database,
    )
    firms = {r["id"]: (r["loaded"], r["deposits"], r["loans"], r["source"]) for r in records}
    assert firms["E1"] == (1e6, 60.0, 0.0, "accounts")
    assert firms["E2"][2] == 70.0


class _StopsAt:
    """A driver runner whose ``statement`` fails, as one stopped by a full disk or a restart."""

    def __init__(self, inner: Any, statement: str) -> None:
        self.inner, self.statement = inner, statement

    def run(
        self, statement: str, params: Any = None, *, operation: str, write: bool = False
    ) -> Any:
        if statement == self.statement:
            raise StoreError(f"{operation}: the server went away")
        return self.inner.run(statement, params, operation=operation, write=write)

    def hold(self, statement: str, params: Any = None, *, operation: str) -> Any:
        return self.inner.hold(statement, params, operation=operation)

    def close(self) -> None:
        self.inner.close()


def test_a_write_back_stopped_part_way_is_named_until_one_finishes(
    driver: Any, settings: Settings, tmp_path: Path
) -> None:
    from relgraph.store.neo4j import Neo4jStore
    from relgraph.store.runner import DriverRunner

    with Neo4jStore.connect(settings.neo4j) as store:
        store.replace_tables(TABLES, {"fingerprint": "bank"})
        analyze(store, build_projection(store))
        assert store.notices() == []
    # The persons' networks are written back, then the households' write-back stops.
    stopping = Neo4jStore(
        _StopsAt(DriverRunner.connect(settings.neo4j), "writeback_households"), settings.neo4j
    )
    with stopping, pytest.raises(StoreError, match="results saved"):
        analyze(stopping, build_projection(stopping))
    with Neo4jStore.connect(settings.neo4j) as store:
        (notice,) = store.notices()
        run = store.state().results["households"]
    assert f"writing run {run} back onto the graph stopped" in notice
    records, _, _ = driver.execute_query(
        "MATCH (s:RelgraphState) RETURN s.graphPending AS pending, s.graphRun AS whole",
        database_=settings.neo4j.database,
    )
    assert records[0]["pending"] == run
    assert records[0]["whole"] not in (None, run)
    # What the operator reads: `stats` (and `serve` at its start) names the mix.
    env = {
        "RELGRAPH_STORE": "neo4j",
        "NEO4J_URI": settings.neo4j.uri,
        "NEO4J_USERNAME": settings.neo4j.username,
        "NEO4J_PASSWORD": settings.neo4j.password,
        "COLUMNS": "400",
    }
    result = CliRunner().invoke(app, ["stats", "--data-dir", str(tmp_path)], env=env)
    assert result.exit_code == 0, result.output
    assert f"writing run {run} back onto the graph stopped" in " ".join(result.output.split())
    with Neo4jStore.connect(settings.neo4j) as store:
        analyze(store, build_projection(store))
        assert store.notices() == []
        run = store.state().results["households"]
    records, _, _ = driver.execute_query(
        "MATCH (s:RelgraphState) RETURN s.graphPending AS pending, s.graphRun AS whole",
        database_=settings.neo4j.database,
    )
    assert (records[0]["pending"], records[0]["whole"]) == (None, run)


def test_loading_twice_leaves_the_same_graph(driver: Any, settings: Settings) -> None:
    from relgraph.store.neo4j import Neo4jStore

    count = "MATCH (n) OPTIONAL MATCH (n)-[r]->() RETURN count(DISTINCT n) + count(r)"
    with Neo4jStore.connect(settings.neo4j) as store:
        store.replace_tables(TABLES, {"loaded_at": "1"})
        before = _count(driver, settings, count)
        store.replace_tables(TABLES, {"loaded_at": "2"})
        assert _count(driver, settings, count) == before


def test_a_load_stopped_after_its_commit_leaves_the_replaced_graph_for_the_next_load(
    driver: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from relgraph.store.neo4j import Neo4jStore, generation_id

    fewer = {**TABLES, "transfers": TABLES["transfers"].slice(1)}
    with Neo4jStore.connect(settings.neo4j) as store:
        store.replace_tables(TABLES, {"fingerprint": "first"})
        real_run = store.runner.run

        def stopped_at_the_deletes(
            statement: str, params: Any = None, *, operation: str, write: bool = False
        ) -> pd.DataFrame:
            # Ctrl-C (or a kill) the moment the new generation is live.
            if operation == "delete old generation":
                raise KeyboardInterrupt
            return real_run(statement, params, operation=operation, write=write)

        monkeypatch.setattr(store.runner, "run", stopped_at_the_deletes)
        with pytest.raises(KeyboardInterrupt):
            store.replace_tables(fewer, {"fingerprint": "stopped"})
        monkeypatch.undo()
        assert store.meta() == {"fingerprint": "stopped"}
        assert store.state().pending == (generation_id(TABLES),)
        assert store.read_table("transfers").equals(fewer["transfers"])
        assert _other_generations(driver, settings, generation_id(fewer)) > 0
        # The next load (of anything) deletes the generation the stopped one replaced.
        store.replace_tables(TABLES, {"fingerprint": "next"})
        assert store.state().pending == ()
    assert _other_generations(driver, settings, generation_id(TABLES)) == 0


def test_a_load_deletes_a_generation_an_earlier_release_left_unnamed(
    driver: Any, settings: Settings
) -> None:
    from relgraph.store.neo4j import Neo4jStore, generation_id

    with Neo4jStore.connect(settings.neo4j) as store:
        store.replace_tables(TABLES, {"fingerprint": "first"})
        # What a release before this one left when stopped between its commit and deletes.
        driver.execute_query(
            "CREATE (:CustomerRecord {gen: 'unnamed', customer_id: 'C-OLD'})"
            "-[:RECORD_OF]->(:Person {gen: 'unnamed', person_id: 'P-OLD'})",
            database_=settings.neo4j.database,
        )
        store.replace_tables(TABLES, {"fingerprint": "again"})
        assert store.state().pending == ()
    assert _other_generations(driver, settings, generation_id(TABLES)) == 0


def _other_generations(driver: Any, settings: Settings, live: str) -> int:
    """Elements of generations other than ``live`` left in the database."""
    records, _, _ = driver.execute_query(
        "MATCH (n) WHERE n.gen IS NOT NULL AND n.gen <> $gen RETURN count(n)",
        gen=live,
        database_=settings.neo4j.database,
    )
    return int(records[0][0])


def test_a_load_with_a_dangling_row_keeps_the_last_good_graph(
    driver: Any, settings: Settings
) -> None:
    from relgraph.store.neo4j import Neo4jStore

    transfers = TABLES["transfers"]
    dangling = pa.concat_tables(
        [transfers, pa.table({c: [transfers.column(c)[0].as_py()] for c in transfers.column_names})
         .set_column(transfers.column_names.index("to_account"), "to_account", pa.array(["NOPE"]))
         .set_column(transfers.column_names.index("tx_id"), "tx_id", pa.array(["T-NEW"]))
         .cast(transfers.schema)]
    )  # fmt: skip
    with Neo4jStore.connect(settings.neo4j) as store:
        store.replace_tables(TABLES, {"fingerprint": "good"})
        with pytest.raises(StoreError, match="found no node to attach to"):
            store.replace_tables({**TABLES, "transfers": dangling}, {"fingerprint": "bad"})
        assert store.meta() == {"fingerprint": "good"}
        assert store.read_table("transfers").equals(transfers)


def test_gds_networks_match_the_local_engine(driver: Any, settings: Settings) -> None:
    from relgraph.engines.gds import GdsEngine
    from relgraph.store.neo4j import Neo4jStore

    try:
        driver.execute_query("RETURN gds.version()", database_=settings.neo4j.database)
    except Exception:
        pytest.skip("the GDS plugin is not installed on this Neo4j")
    with Neo4jStore.connect(settings.neo4j) as store:
        store.replace_tables(TABLES, {})
        projection = build_projection(store)
        engine = GdsEngine.connect(settings.neo4j, store.generation)
        local = hidden_networks(projection, NetworkParams())
        remote = hidden_networks(projection, NetworkParams(), engine=engine)
    assert remote.label.tolist() == local.label.tolist()
    assert _count(driver, settings, "CALL gds.graph.list() YIELD graphName RETURN count(*)") == 0


def test_gds_leiden_splits_large_networks_as_the_local_engine_does(
    driver: Any, settings: Settings, synthetic_tables: dict[str, pa.Table]
) -> None:
    from relgraph.engines.gds import GdsEngine
    from relgraph.store.neo4j import Neo4jStore

    tables = synthetic_tables
    # Small enough that many networks are split, in several rounds.
    params = NetworkParams(max_network_size=4)
    with Neo4jStore.connect(settings.neo4j) as store:
        store.replace_tables(tables, {})
        projection = build_projection(store)
        local = hidden_networks(projection, params)
        engine = GdsEngine.connect(settings.neo4j, store.generation)
        remote = hidden_networks(projection, params, engine=engine)
    assert local.split.sum() > 50
    # GDS's Leiden is not igraph's: the same split up to the optimiser's choices.
    assert adjusted_rand_index(local.label, remote.label) >= 0.9


def test_gds_pagerank_runs_to_convergence_or_says_it_did_not(
    driver: Any, settings: Settings, synthetic_tables: dict[str, pa.Table]
) -> None:
    from relgraph.analytics.influence import PageRankConvergenceError, influence
    from relgraph.analytics.params import InfluenceParams
    from relgraph.engines.gds import GdsEngine
    from relgraph.store.neo4j import Neo4jStore

    with Neo4jStore.connect(settings.neo4j) as store:
        store.replace_tables(synthetic_tables, {})
        projection = build_projection(store)
        engine = GdsEngine.connect(settings.neo4j, store.generation)
        tight = InfluenceParams(tolerance=1e-12, max_iterations=1000)
        local = influence(projection, tight)
        remote = influence(projection, tight, engine=engine)
        # Converged, GDS ranks the persons with referrals as the local engine does (the
        # parity rules of tests/neo4j_parity.py).
        referrers = local.direct_referrals > 0
        assert referrers.sum() > 20
        a, b = local.pagerank[referrers], remote.pagerank[referrers]
        assert spearmanr(a, b).statistic >= 0.999
        assert set(np.argsort(-a)[:20]) == set(np.argsort(-b)[:20])
        with pytest.raises(PageRankConvergenceError, match="did not converge in 2 iterations"):
            influence(projection, InfluenceParams(tolerance=1e-12, max_iterations=2), engine=engine)
        engine.close()
    assert _count(driver, settings, "CALL gds.graph.list() YIELD graphName RETURN count(*)") == 0


def test_reading_a_property_nobody_wrote_prints_no_server_warning(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """The first load's state read asks for properties a fresh database has never held."""
    from relgraph.store.runner import DriverRunner

    runner = DriverRunner.connect(settings.neo4j)
    try:
        with caplog.at_level("INFO", logger="neo4j.notifications"):
            runner.driver.execute_query(
                "MATCH (s:RelgraphState) RETURN s.relgraph_never_written AS x",
                database_=settings.neo4j.database,
            )
    finally:
        runner.driver.close()
    assert [r for r in caplog.records if r.name.startswith("neo4j.notifications")] == []


# (relationship pattern, the condition every one must meet, the table whose rows it is, the
# column that must be set for a row to have one): the endpoints sent by element id are the
# nodes the row's keys name. (The test bank has no contacts.)
LINKS = [
    ("(c:CustomerRecord)-[r:RECORD_OF]->(n:Person)", "n.person_id = c.person_id", "customers", "person_id"),
    ("(c:CustomerRecord)-[r:HAS_PHONE]->(n:Phone)", "n.value = c.phone_norm", "customers", "phone_norm"),
    ("(c:CustomerRecord)-[r:HAS_EMAIL]->(n:Email)", "n.value = c.email_norm", "customers", "email_norm"),
    ("(c:CustomerRecord)-[r:LIVES_AT]->(n:Address)", "n.value = c.address_norm", "customers", "address_norm"),
    ("(c:CustomerRecord)-[r:HAS_ID_DOCUMENT]->(n:IdDocument)", "n.value = c.id_number_norm", "customers", "id_number_norm"),
    ("(c:Enterprise)-[r:HAS_PHONE]->(n:Phone)", "n.value = c.phone_norm", "enterprises", "phone_norm"),
    ("(c:Enterprise)-[r:LIVES_AT]->(n:Address)", "n.value = c.address_norm", "enterprises", "address_norm"),
    ("(h)-[r:HOLDS]->(a:Account)", "coalesce(h.customer_id, h.enterprise_id) = a.holder_id AND ((h:CustomerRecord AND a.holder_kind = 'customer') OR (h:Enterprise AND a.holder_kind = 'enterprise'))", "accounts", "holder_id"),
    ("(a:CustomerRecord)-[r:USES_DEVICE]->(b:Device)", "a.customer_id = r.customer_id AND b.device_id = r.device_id", "device_links", None),
    ("(a:CustomerRecord)-[r:FAMILY]->(b:CustomerRecord)", "a.customer_id = r.customer_id AND b.customer_id = r.relative_id", "family", None),
    ("(a:CustomerRecord)-[r:REFERRED]->(b:CustomerRecord)", "a.customer_id = r.referrer_id AND b.customer_id = r.referred_id", "referrals", None),
    ("(a:CustomerRecord)-[r:POSITION_AT]->(b:Enterprise)", "a.customer_id = r.customer_id AND b.enterprise_id = r.enterprise_id", "positions", None),
    ("(a)-[r:SHAREHOLDER_OF]->(b:Enterprise)", "coalesce(a.customer_id, a.enterprise_id) = r.holder_id AND b.enterprise_id = r.enterprise_id", "shareholdings", None),
    ("(a)-[r:GUARANTEES]->(b)", "coalesce(a.customer_id, a.enterprise_id) = r.guarantor_id AND coalesce(b.customer_id, b.enterprise_id) = r.borrower_id", "guarantees", None),
    ("(a:Account)-[r:TRANSFER]->(b:Account)", "a.account_id = r.from_account AND b.account_id = r.to_account", "transfers", None),
]  # fmt: skip


def test_every_relationship_joins_the_nodes_its_row_names(driver: Any, settings: Settings) -> None:
    import dataclasses

    from relgraph.store.neo4j import Neo4jStore

    # Batches of 2 from two writers: the element ids come back batch by batch, out of order.
    small = dataclasses.replace(settings.neo4j, batch_size=2, writers=2)
    with Neo4jStore.connect(small) as store:
        store.replace_tables(TABLES, {"fingerprint": "bank"})
    for pattern, condition, table, column in LINKS:
        records, _, _ = driver.execute_query(
            f"MATCH {pattern} RETURN count(r) AS n, count(CASE WHEN {condition} THEN 1 END) AS ok",
            database_=settings.neo4j.database,
        )
        rows = TABLES[table]
        expected = (
            rows.num_rows if column is None else rows.num_rows - rows.column(column).null_count
        )
        assert (records[0]["n"], records[0]["ok"]) == (expected, expected), pattern
        assert expected > 0, pattern
