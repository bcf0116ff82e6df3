"""The test server is the real thing: Neo4j 5.26 Community with GDS 2.13, over Bolt 5.

What relgraph's Neo4j store and GDS engine rely on from a server, checked on the session's
test server (``tests/conftest.py``, built from ``tools/neo4j-server``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from relgraph.config import Settings
from relgraph.store.base import StoreError
from tests.neo4j_server import Neo4jLogin, pom_version

pytestmark = pytest.mark.neo4j

# The GDS procedures relgraph's GDS engine calls (cypher/gds_*.cypher).
RELGRAPH_PROCEDURES = [
    f"gds.{name}{suffix}"
    for name in ("graph.project", "wcc.write", "leiden.write", "pageRank.write")
    for suffix in ("", ".estimate")
] + ["gds.graph.drop"]


@pytest.fixture
def own_server(neo4j_login: Neo4jLogin) -> Neo4jLogin:
    if not neo4j_login.ours:
        pytest.skip("NEO4J_URI points at another server: these tests check the test server")
    return neo4j_login


@pytest.fixture
def driver(own_server: Neo4jLogin) -> Iterator[Any]:
    import neo4j

    with neo4j.GraphDatabase.driver(
        own_server.uri, auth=(own_server.username, own_server.password)
    ) as driver:
        yield driver


def test_it_is_neo4j_5_26_community_over_bolt_5(driver: Any) -> None:
    records, _, _ = driver.execute_query("CALL dbms.components() YIELD name, versions, edition")
    (kernel,) = [r for r in records if r["name"] == "Neo4j Kernel"]
    assert kernel["versions"][0].startswith("5.26.")
    # Exactly the pom's version, which tests/test_deploy.py holds docker-compose.yml to.
    assert kernel["versions"][0] == pom_version("neo4j.version")
    assert kernel["edition"] == "community"
    assert driver.get_server_info().protocol_version[0] == 5


def test_gds_2_13_has_the_procedures_relgraph_calls(driver: Any) -> None:
    records, _, _ = driver.execute_query("RETURN gds.version() AS version")
    assert records[0]["version"].startswith("2.13.")
    assert records[0]["version"] == pom_version("gds.version")
    records, _, _ = driver.execute_query("CALL gds.list() YIELD name RETURN name")
    listed = {r["name"] for r in records}
    assert set(RELGRAPH_PROCEDURES) <= listed
    # The whole open-source library, not a hand-picked few (GDS's smoke test counts ~430).
    assert len(listed) > 400
    records, _, _ = driver.execute_query(
        "SHOW PROCEDURES YIELD name WHERE name STARTS WITH 'gds.' RETURN collect(name) AS names"
    )
    assert set(RELGRAPH_PROCEDURES) <= set(records[0]["names"])


def test_gds_runs_an_algorithm_and_writes_back(driver: Any) -> None:
    driver.execute_query("MATCH (n) DETACH DELETE n")
    driver.execute_query("UNWIND range(0, 5) AS i CREATE (:Dot {i: i})-[:TO]->(:Dot {i: i + 100})")
    records, _, _ = driver.execute_query(
        "MATCH (a:Dot)-[:TO]->(b:Dot) WITH gds.graph.project('dots', a, b) AS g "
        "RETURN g.nodeCount AS nodes, g.relationshipCount AS rels"
    )
    assert (records[0]["nodes"], records[0]["rels"]) == (12, 6)
    records, _, _ = driver.execute_query(
        "CALL gds.wcc.write('dots', {writeProperty: 'component'}) YIELD componentCount"
    )
    assert records[0]["componentCount"] == 6
    records, _, _ = driver.execute_query(
        "MATCH (a:Dot)-[:TO]->(b:Dot) RETURN count(*) AS n, "
        "count(DISTINCT a.component) AS distinct, sum(toInteger(a.component = b.component)) AS same"
    )
    assert (records[0]["n"], records[0]["distinct"], records[0]["same"]) == (6, 6, 6)
    driver.execute_query("CALL gds.graph.drop('dots')")
    driver.execute_query("MATCH (n) DETACH DELETE n")


def test_the_graphdatascience_client_connects(own_server: Neo4jLogin) -> None:
    from graphdatascience import GraphDataScience

    # Its constructor asks gds.debug.arrow (enterprise-only); the test server answers as a
    # server with Arrow off does, so the client falls back to Cypher.
    gds = GraphDataScience(own_server.uri, auth=(own_server.username, own_server.password))
    try:
        assert str(gds.server_version()).startswith("2.13.")
        arrow = gds.run_cypher("CALL gds.debug.arrow() YIELD enabled, running RETURN *")
        assert not arrow["enabled"][0]
        assert not arrow["running"][0]
        assert gds.run_cypher("RETURN 1 + 1 AS two")["two"][0] == 2
    finally:
        gds.close()


def test_a_wrong_password_is_one_clear_line(own_server: Neo4jLogin) -> None:
    from relgraph.store.neo4j import Neo4jStore

    settings = Settings.from_env().neo4j
    wrong = dataclasses.replace(settings, password=own_server.password + "x")
    with pytest.raises(StoreError) as caught:
        Neo4jStore.connect(wrong)
    message = str(caught.value)
    assert "\n" not in message
    assert "NEO4J_PASSWORD" in message
    assert own_server.password not in message
