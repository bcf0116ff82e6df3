"""The CLI end to end on a real Neo4j (marker ``neo4j``): ``relgraph load``, ``analyze`` with the
local and the GDS engine, ``audience``, ``serve``, and the README's Cypher, beside the embedded
store on the same synthetic bank.

The bank is the session's 1,000-customer one (``tests/conftest.py``), so that the suite stays
within ``make test``'s budget; ``benchmarks/bench_neo4j_parity.py`` makes the same comparison on
a 20,000-customer bank (benchmarks/RESULTS.md). Networks are capped at 4 persons so that Leiden
splits many of them, and PageRank runs to a tight tolerance so both engines converge.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from typer.testing import CliRunner

from relgraph.api.auth import Role
from relgraph.api.readmodel import ReadModel, build_read_model
from relgraph.cli import app
from relgraph.store.embedded import EmbeddedStore
from tests.api.conftest import run
from tests.neo4j_parity import ANALYSIS_ENV, compare_engines, equal_results, readme_cypher
from tests.neo4j_server import Neo4jLogin

pytestmark = pytest.mark.neo4j

cli = CliRunner()
KEY = "analyst-neo4j-cli-test-key-0123456789"


@dataclass
class Runs:
    embedded: dict[str, pa.Table]
    local: dict[str, pa.Table]
    gds: dict[str, pa.Table]
    env: dict[str, str]
    embedded_dir: Path
    neo4j_dir: Path
    embedded_model: ReadModel
    local_model: ReadModel
    """The API's read models of the embedded store and of Neo4j after the local engine."""


def _invoke(args: list[str], env: dict[str, str]) -> str:
    result = cli.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    return result.output


def _results(store: Any) -> dict[str, pa.Table]:
    return {name: store.read_results(name) for name in store.result_names()}


@pytest.fixture(scope="module")
def runs(
    neo4j_login: Neo4jLogin, synthetic_bank: Path, tmp_path_factory: pytest.TempPathFactory
) -> Runs:
    import neo4j

    from relgraph.config import Settings
    from relgraph.store.neo4j import Neo4jStore

    root = tmp_path_factory.mktemp("neo4j-cli")
    # One id secret for both loads, so that both stores name the same person alike.
    secret = {"RELGRAPH_ID_SECRET": "5e" * 32}
    embedded_env = {**ANALYSIS_ENV, **secret, "RELGRAPH_STORE": "embedded"}
    _invoke(["load", str(synthetic_bank), "--data-dir", str(root / "embedded")], embedded_env)
    _invoke(["analyze", "--data-dir", str(root / "embedded")], embedded_env)
    with EmbeddedStore(root / "embedded", read_only=True) as store:
        embedded = _results(store)
        embedded_model = build_read_model(store)

    env = {
        **ANALYSIS_ENV,
        **secret,
        "RELGRAPH_STORE": "neo4j",
        "NEO4J_URI": neo4j_login.uri,
        "NEO4J_USERNAME": neo4j_login.username,
        "NEO4J_PASSWORD": neo4j_login.password,
    }
    with neo4j.GraphDatabase.driver(
        neo4j_login.uri, auth=(neo4j_login.username, neo4j_login.password)
    ) as driver:
        driver.execute_query("MATCH (n) DETACH DELETE n")
    settings = Settings.from_env(env).neo4j
    _invoke(["load", str(synthetic_bank), "--data-dir", str(root / "neo4j")], env)
    _invoke(["analyze", "--data-dir", str(root / "neo4j")], env)
    with Neo4jStore.connect(settings) as store:
        local = _results(store)
        local_model = build_read_model(store)
    _invoke(
        ["analyze", "--data-dir", str(root / "neo4j")], {**env, "RELGRAPH_ANALYTICS_ENGINE": "gds"}
    )
    with Neo4jStore.connect(settings) as store:
        gds = _results(store)
    return Runs(
        embedded, local, gds, env, root / "embedded", root / "neo4j", embedded_model, local_model
    )


def test_the_local_engine_on_neo4j_gives_the_embedded_stores_results_exactly(runs: Runs) -> None:
    assert equal_results(runs.local, runs.embedded) == []


PERSON = "id name aum deposits loans products riskFlags household { id } network { id }"
PAGES = [
    f"""{{ households(first: 20) {{ totalCount edges {{ node {{ id size totalAum head {{ id }}
      members {{ {PERSON} }} }} }} }}
      bySize: households(first: 50, orderBy: SIZE_DESC) {{ edges {{ node {{ id }} }} }} }}""",
    """{ corporateGroups(first: 20) { totalCount edges { node { id exposure deposits
      controller { ... on Person { id } ... on Enterprise { id } }
      members { share enterprise { id integratedOwners { share
        holder { ... on Person { id } ... on Enterprise { id } } } } } } } } }""",
    """{ influencers(first: 50) { totalCount edges { node { id influence { rank pagerank } } } }
      possibleDuplicates(first: 50) { edges { node { id customerA customerB score } } }
      graphStats { nodes { kind count } edges { kind count } } }""",
    """{ riskChains(first: 20) { totalCount edges { node { id score reasons { reason weight }
      hops { txId } } } } }""",
]
PERSON_QUERY = f"""query($id: ID!) {{
  customer(id: $id) {{ {PERSON} }}
  hiddenNetwork(customerId: $id) {{ size members {{ id }} links {{ a {{ id }} b {{ id }} strength }} }}
}}"""


def _without_cursors(value: Any) -> Any:
    # A cursor carries its read model's random build token: the one thing that must differ.
    if isinstance(value, dict):
        return {k: _without_cursors(v) for k, v in value.items() if k != "endCursor"}
    if isinstance(value, list):
        return [_without_cursors(v) for v in value]
    return value


def test_the_api_over_neo4j_answers_as_over_the_embedded_store(runs: Runs) -> None:
    """What a user sees, not only the tables: pages in their order, member lists, values and
    networks, read from each store's own tables by the same read model."""
    answers = []
    for model in (runs.embedded_model, runs.local_model):
        pages = []
        for query in PAGES:
            result = run(query, model, Role.ADMIN)
            assert result.errors is None, result.errors
            pages.append(result.data)
        people = []
        for person in model.person_ids[::7]:
            found = run(PERSON_QUERY, model, Role.ADMIN, id=person)
            assert found.errors is None, found.errors
            people.append(found.data)
        answers.append(_without_cursors([pages, people]))
    assert answers[0] == answers[1]
    pages, people = answers[0]
    assert pages[0]["households"]["totalCount"] > 100
    assert len(people) > 100


def test_the_gds_engine_agrees_with_the_local_engine(runs: Runs) -> None:
    report = compare_engines(runs.local, runs.gds)
    assert report.unequal_tables == []
    assert report.split_networks > 20  # Leiden really ran, on many networks
    assert report.components_identical
    assert report.leiden_ari >= 0.9
    assert report.pagerank_spearman >= 0.999
    assert report.top20_same
    assert runs.gds["analysis_settings"]["engine"].to_pylist() == ["gds"]


def test_an_audience_from_neo4j_is_the_embedded_stores(runs: Runs, tmp_path: Path) -> None:
    spec = tmp_path / "criteria.json"
    spec.write_text('{"unit": "HOUSEHOLD", "minSize": 2}', encoding="utf-8")
    outs = []
    for name, env, data in (
        ("neo4j", runs.env, runs.neo4j_dir),
        ("embedded", {"RELGRAPH_STORE": "embedded"}, runs.embedded_dir),
    ):
        out = tmp_path / f"{name}.csv"
        _invoke(
            ["audience", "--criteria", str(spec), "--out", str(out), "--data-dir", str(data)], env
        )
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert outs[0].count(b"\n") > 10


@pytest.fixture
def served(runs: Runs, tmp_path: Path) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**runs.env, "RELGRAPH_API_KEYS": f"analyst:{KEY}", "RELGRAPH_DATA_DIR": str(tmp_path)}
    server = subprocess.Popen(
        [sys.executable, "-m", "relgraph.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**dict(__import__("os").environ), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, "relgraph serve exited"
            time.sleep(0.5)
        else:
            pytest.fail("relgraph serve on Neo4j never became ready")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serve_answers_from_neo4j(runs: Runs, served: str) -> None:
    query = "{ households(filter: {minSize: 2}, first: 5) { edges { node { size totalAum } } } }"
    answer = httpx.post(
        f"{served}/graphql", json={"query": query}, headers={"Authorization": f"Bearer {KEY}"},
        timeout=60,
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    got = [e["node"] for e in answer.json()["data"]["households"]["edges"]]
    households = runs.gds["households"].to_pandas()
    best = households[households["size"] >= 2].nlargest(5, "total_aum")
    assert [h["size"] for h in got] == best["size"].tolist()
    assert [h["totalAum"] for h in got] == pytest.approx(best["total_aum"].tolist())


def _operators(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(op for child in plan.get("children", []) for op in _operators(child))]


def test_the_readme_cypher_seeks_by_index_and_scans_no_label(
    runs: Runs, neo4j_login: Neo4jLogin
) -> None:
    """Each README query finds its rows through an index: a label scan of persons (the
    network's members by ``networkId`` had none) costs ~35 ms a read at 100,000 customers."""
    import neo4j

    with neo4j.GraphDatabase.driver(
        neo4j_login.uri, auth=(neo4j_login.username, neo4j_login.password)
    ) as driver:
        for name, query in readme_cypher().items():
            _, summary, _ = driver.execute_query(
                "EXPLAIN " + query, {"personId": "P0", "chainId": "C0"}
            )
            assert summary.plan is not None, name
            steps = _operators(summary.plan)
            kinds = [op["operatorType"].split("@")[0] for op in steps]
            scans = [
                op["args"].get("Details", "")
                for op in steps
                if op["operatorType"].split("@")[0] in ("NodeByLabelScan", "AllNodesScan")
            ]
            # The one (:RelgraphState) node is found by its label; nothing else is.
            assert all(":RelgraphState" in detail for detail in scans), (name, scans)
            assert any("IndexSeek" in kind for kind in kinds), (name, kinds)


def test_the_hop_write_back_seeks_each_hop_and_walks_no_parallel_hops(
    runs: Runs, neo4j_login: Neo4jLogin
) -> None:
    """The longest chain's hops written back again (profiled, rolled back): the alert, the
    account and the hop are each found by a unique index, and nothing is created twice. A
    MERGE found the hop by walking every INVOLVES between the alert and the account
    (``Expand(Into)``): a fan's hub is one account with hundreds of one alert's hops,
    quadratic (10 s of a 10,000-customer analyze)."""
    import neo4j

    from relgraph.store.cypher import query
    from relgraph.store.neo4j import WRITE_BACK

    live = runs.gds  # the last analyze's results are the live ones
    columns = {name: cols for name, cols, _ in WRITE_BACK}["risk_chain_hops"]
    assert columns is not None
    hops = live["risk_chain_hops"]
    longest = (
        hops.group_by("chain_id")
        .aggregate([("hop", "count")])
        .sort_by([("hop_count", "descending")])
    )
    chain = longest.column("chain_id")[0].as_py()
    rows = hops.filter(pc.equal(hops.column("chain_id"), chain)).select(list(columns))
    with neo4j.GraphDatabase.driver(
        neo4j_login.uri, auth=(neo4j_login.username, neo4j_login.password)
    ) as driver:
        records, _, _ = driver.execute_query(
            "MATCH (s:RelgraphState) MATCH (:Alert {chain_id: $chain, gen: s.gen})-[i:INVOLVES]->()"
            " RETURN s.gen AS gen, i.run AS run LIMIT 1",
            chain=chain,
        )
        gen, run = records[0]["gen"], records[0]["run"]
        with driver.session() as session, session.begin_transaction() as tx:
            result = tx.run(
                "PROFILE " + query("writeback_risk_chain_hops"),
                {"rows": rows.to_pylist(), "gen": gen, "run": run},
            )
            written = result.single(strict=True)["written"]
            summary = result.consume()
            tx.rollback()
        assert summary.profile is not None
        steps = _operators(summary.profile)
        kinds = [op["operatorType"].split("@")[0] for op in steps]
        details = " ".join(str(op["args"].get("Details", "")) for op in steps)
        assert written == rows.num_rows > 1
        assert "Expand(Into)" not in kinds, kinds
        assert any(kind.startswith("DirectedRelationshipUniqueIndexSeek") for kind in kinds), kinds
        assert "UNIQUE al:Alert(chain_id, gen)" in details
        assert "UNIQUE a:Account(account_id, gen)" in details
        # Every hop was there already: found, not created again.
        assert summary.counters.relationships_created == 0
        _, summary, _ = driver.execute_query(
            "EXPLAIN " + query("writeback_enterprise_control"), {"rows": [], "gen": gen, "run": run}
        )
        assert summary.plan is not None
        steps = _operators(summary.plan)
        details = " ".join(str(op["args"].get("Details", "")) for op in steps)
        assert "UNIQUE g:CorporateGroup(group_id, gen)" in details
        assert not any("Scan" in op["operatorType"] for op in steps), details


def test_the_readme_cypher_returns_what_the_readme_says(
    runs: Runs, neo4j_login: Neo4jLogin
) -> None:
    import neo4j

    queries = readme_cypher()
    assert set(queries) == {"A person's hidden network", "A person's household", "A layering chain"}
    live = runs.gds  # the last analyze's results are the live ones
    networks = live["person_networks"].to_pandas()
    households = live["person_households"].to_pandas()
    links = live["network_links"].to_pandas().dropna(subset=["network_id"])
    # A person in a network of 3+ and a household of 2+, and the longest chain.
    sizes = networks["network_id"].value_counts()
    person = networks[networks["network_id"].map(sizes) >= 3]["person_id"].iloc[0]
    network = networks[
        networks["network_id"] == networks.set_index("person_id").at[person, "network_id"]
    ]
    chain = live["risk_chains"].to_pandas().sort_values("hops").iloc[-1]
    hops = live["risk_chain_hops"].to_pandas()
    hops = hops[hops["chain_id"] == chain["chain_id"]].sort_values("hop")
    with neo4j.GraphDatabase.driver(
        neo4j_login.uri, auth=(neo4j_login.username, neo4j_login.password)
    ) as driver:

        def run(name: str, **params: Any) -> list[dict[str, Any]]:
            records, _, _ = driver.execute_query(queries[name], params)
            return [r.data() for r in records]

        members = run("A person's hidden network", personId=person)
        assert [m["member"] for m in members] == sorted(network["person_id"])
        for m in members:
            mine = links[(links.person_a == m["member"]) | (links.person_b == m["member"])]
            expected = set(mine.person_a) | set(mine.person_b) - {m["member"]}
            assert set(m["linkedTo"]) == expected - {m["member"]}
        household = run("A person's household", personId=person)
        home = households.set_index("person_id").at[person, "household_id"]
        assert {h["household"] for h in household} == {home}
        assert [h["member"] for h in household] == sorted(
            households[households["household_id"] == home]["person_id"]
        )
        head = live["households"].to_pandas().set_index("household_id").at[home, "head_id"]
        assert {h["head"] for h in household} == {head}
        steps = run("A layering chain", chainId=chain["chain_id"])
        assert [s["hop"] for s in steps] == hops["hop"].tolist()
        assert [s["fromAccount"] for s in steps] == hops["from_account"].tolist()
        assert [s["txId"] for s in steps] == hops["tx_id"].tolist()
        assert {s["typology"] for s in steps} == {chain["typology"]}
