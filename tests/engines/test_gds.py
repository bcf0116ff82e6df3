"""The GDS engine against a recording runner that plays GDS: files, parameters, lifecycle."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from relgraph.analytics.networks import hidden_networks
from relgraph.analytics.params import InfluenceParams, NetworkParams
from relgraph.engines.gds import GdsEngine
from relgraph.graph import build_projection
from relgraph.store.base import StoreError
from relgraph.store.cypher import query
from relgraph.store.embedded import EmbeddedStore
from tests.graph.conftest import BANK, canonical_tables
from tests.store.recording import RecordingRunner

PARAMETER = re.compile(r"\$(\w+)")


class FakeGds(RecordingRunner):
    """Answers GDS statements the way GDS would, from the links relgraph wrote."""

    def __init__(self, persons: list[str], heap_percent: float = 5.0) -> None:
        super().__init__()
        self.persons = persons
        self.links: list[dict[str, Any]] = []
        self.heap_percent = heap_percent
        self.overrides.update(
            {
                "writeback_network_links": self._links,
                "gds_wcc_estimate": self._estimate,
                "gds_leiden_estimate": self._estimate,
                "gds_pagerank_estimate": self._estimate,
                "gds_wcc_read": self._wcc,
                "gds_pagerank_read": lambda p: pd.DataFrame(
                    {"node": self.persons, "value": [2.0] * len(self.persons)}
                ),
                "gds_pagerank_write": lambda p: pd.DataFrame(
                    {
                        "ranIterations": [7],
                        "didConverge": [True],
                        "nodePropertiesWritten": [len(self.persons)],
                    }
                ),
            }
        )

    def _links(self, p: dict[str, Any]) -> pd.DataFrame:
        self.links += [dict(r, run=p["run"]) for r in p["rows"]]
        return pd.DataFrame({"written": [len(p["rows"])]})

    def _estimate(self, p: dict[str, Any]) -> pd.DataFrame:
        return pd.DataFrame(
            {"requiredMemory": ["[1 KiB ... 2 KiB]"], "bytesMax": [2048],
             "heapPercentageMax": [self.heap_percent]}
        )  # fmt: skip

    def _wcc(self, p: dict[str, Any]) -> pd.DataFrame:
        index = {pid: i for i, pid in enumerate(self.persons)}
        a = [index[r["person_a"]] for r in self.links]
        b = [index[r["person_b"]] for r in self.links]
        n = len(self.persons)
        graph = sp.coo_array((np.ones(len(a)), (a, b)), shape=(n, n))
        _, label = connected_components(graph, directed=False)
        # GDS component ids are arbitrary node ids: make them so here too.
        return pd.DataFrame({"node": self.persons, "value": label * 7 + 100})


@pytest.fixture
def projection(tmp_path: Path) -> Any:
    with EmbeddedStore(tmp_path) as store:
        store.replace_tables(canonical_tables(BANK), {})
        return build_projection(store)


def _persons(projection: Any) -> list[str]:
    persons = projection.nodes["Person"]
    return [str(x) for x in persons.id_of(np.arange(len(persons)))]


def test_networks_from_gds_match_the_local_engine(projection: Any) -> None:
    fake = FakeGds(_persons(projection))
    engine = GdsEngine(fake, gen="g1", batch_size=2)
    params = NetworkParams()
    local = hidden_networks(projection, params)
    remote = hidden_networks(projection, params, engine=engine)
    assert remote.ids.tolist() == local.ids.tolist()
    assert remote.label.tolist() == local.label.tolist()
    after_links = [s for s in fake.statements() if not s.startswith("writeback_")]
    assert after_links == [
        "gds_project_links",
        "gds_wcc_estimate",
        "gds_wcc_write",
        "gds_wcc_read",
        "gds_graph_drop",
    ]
    graph = fake.named("gds_project_links")[0].params["graph"]
    assert fake.named("gds_graph_drop")[0].params == {"graph": graph}
    assert fake.named("gds_project_links")[0].params["run"] == engine.run_id
    assert {link["run"] for link in fake.links} == {engine.run_id}
    for call in fake.calls:
        assert set(call.params) == set(PARAMETER.findall(query(call.statement))), call.statement
    engine.close()
    assert fake.closed


def test_an_estimate_above_the_heap_limit_refuses_and_still_drops(projection: Any) -> None:
    fake = FakeGds(_persons(projection), heap_percent=95.0)
    engine = GdsEngine(fake, gen="g1", batch_size=100)
    with pytest.raises(StoreError, match=r"GDS estimates \[1 KiB ... 2 KiB\] \(95% of the heap\)"):
        hidden_networks(projection, NetworkParams(), engine=engine)
    assert "gds_wcc_write" not in fake.statements()
    assert fake.statements()[-1] == "gds_graph_drop"


def test_pagerank_is_a_distribution_over_every_person(projection: Any) -> None:
    persons = _persons(projection)
    engine = GdsEngine(FakeGds(persons), gen="g1", batch_size=100)
    ids = np.asarray(persons, dtype=object)
    empty = np.zeros(0, np.int64)
    score = engine.pagerank(ids, empty, empty, InfluenceParams())
    assert score.tolist() == pytest.approx([1 / len(persons)] * len(persons))


def test_a_person_gds_did_not_score_is_an_error(projection: Any) -> None:
    persons = _persons(projection)
    fake = FakeGds(persons)
    fake.overrides["gds_pagerank_read"] = lambda p: pd.DataFrame(
        {"node": persons[1:], "value": [1.0] * (len(persons) - 1)}
    )
    engine = GdsEngine(fake, gen="g1", batch_size=100)
    ids = np.asarray(persons, dtype=object)
    empty = np.zeros(0, np.int64)
    with pytest.raises(
        StoreError, match=f"pagerank wrote no value for persons \\['{persons[0]}'\\]"
    ):
        engine.pagerank(ids, empty, empty, InfluenceParams())


def test_large_networks_split_round_by_round_at_doubling_resolution() -> None:
    ids = np.asarray([f"P{i}" for i in range(6)], dtype=object)
    fake = FakeGds(list(ids))
    rounds = iter(
        [
            pd.DataFrame({"node": ids, "value": [0, 0, 0, 1, 1, 1]}),  # 3 + 3: still too large
            pd.DataFrame({"node": ids, "value": [0, 0, 1, 2, 2, 3]}),
        ]
    )
    fake.overrides["gds_leiden_read"] = lambda p: next(rounds)
    engine = GdsEngine(fake, gen="g1", batch_size=100)
    label, was_split = engine.split_large(
        ids, np.zeros(6, np.int64), np.arange(5), np.arange(1, 6), np.ones(5), 2, seed=7
    )
    assert np.bincount(label).max() <= 2
    assert was_split.all()
    writes = fake.named("gds_leiden_write")
    # Resolution 1, then 2, times the number of networks split in the round (1, then 2).
    assert [c.params["gamma"] for c in writes] == [1.0, 4.0]
    assert {c.params["seed"] for c in writes} == {7}
    marked = fake.named("gds_group_set")
    assert marked[0].params["rows"][0]["group"] == f"{engine.run_id}:0:0"
    assert fake.named("gds_project_groups")[1].params["groups"][0].startswith(f"{engine.run_id}:1:")


class FakeClient:
    def __init__(self, failure: Exception | None = None) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.failure = failure

    def run_cypher(self, text: str, params: dict[str, Any]) -> pd.DataFrame:
        self.sent.append((text, params))
        if self.failure is not None:
            raise self.failure
        return pd.DataFrame({"version": ["2.13.2"]})

    def close(self) -> None:
        pass


def test_the_gds_runner_sends_the_file_through_the_client() -> None:
    from relgraph.engines.gds import GdsRunner

    client = FakeClient()
    frame = GdsRunner(client).run("gds_version", operation="gds: check")
    assert frame["version"].tolist() == ["2.13.2"]
    assert client.sent == [(query("gds_version"), {})]


def test_a_missing_plugin_is_a_clear_error() -> None:
    from relgraph.engines.gds import GdsRunner

    client = FakeClient(RuntimeError("Unknown function 'gds.version'"))
    with pytest.raises(
        StoreError, match="gds: check: GDS statement 'gds_version' failed: Unknown function"
    ):
        GdsRunner(client).run("gds_version", operation="gds: check")


def test_pagerank_that_gds_did_not_converge_is_the_local_engines_error(projection: Any) -> None:
    from relgraph.analytics.influence import PageRankConvergenceError

    persons = _persons(projection)
    fake = FakeGds(persons)
    fake.overrides["gds_pagerank_write"] = lambda p: pd.DataFrame(
        {"ranIterations": [p["max_iterations"]], "didConverge": [False],
         "nodePropertiesWritten": [len(persons)]}
    )  # fmt: skip
    engine = GdsEngine(fake, gen="g1", batch_size=100)
    ids = np.asarray(persons, dtype=object)
    empty = np.zeros(0, np.int64)
    params = InfluenceParams(max_iterations=3, tolerance=1e-9)
    with pytest.raises(PageRankConvergenceError, match=r"did not converge in 3 iterations"):
        engine.pagerank(ids, empty, empty, params)
    sent = fake.named("gds_pagerank_write")[0].params
    assert (sent["max_iterations"], sent["tolerance"]) == (3, 1e-9)
    assert "gds_pagerank_read" not in fake.statements()
    assert fake.statements()[-1] == "gds_graph_drop"
