"""How two analyses of one bank are compared: stores (exactly) and engines (local vs GDS).

Used by ``tests/store/test_neo4j_cli.py`` and ``benchmarks/bench_neo4j_parity.py``. The GDS engine
moves three algorithms into Neo4j (components, Leiden, PageRank); everything else relgraph
computes itself, so every table the algorithms do not touch must be equal, exactly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.stats import spearmanr

# Small networks (many Leiden splits) and PageRank to convergence, for both stores and engines.
ANALYSIS_ENV = {
    "RELGRAPH_NETWORK_MAX_NETWORK_SIZE": "4",
    "RELGRAPH_INFLUENCE_TOLERANCE": "1e-12",
    "RELGRAPH_INFLUENCE_MAX_ITERATIONS": "1000",
}
REPO = Path(__file__).resolve().parents[1]

# Tables whose values come (partly) from the engine's algorithms.
ENGINE_TABLES = frozenset(
    {"networks", "person_networks", "network_links", "influence", "analysis_settings"}
)


def _without_clock(name: str, table: pa.Table) -> pa.Table:
    # Two runs, two clocks: when they ran is the one thing that must differ.
    return table.drop_columns("analysed_at") if name == "analysis_settings" else table


def equal_results(got: Mapping[str, pa.Table], want: Mapping[str, pa.Table]) -> list[str]:
    """Names of the result tables that are not exactly equal (missing on either side too)."""
    unequal = sorted(set(got) ^ set(want))
    for name in sorted(set(got) & set(want)):
        if not _without_clock(name, got[name]).equals(_without_clock(name, want[name])):
            unequal.append(name)
    return unequal


@dataclass
class EngineComparison:
    unequal_tables: list[str] = field(default_factory=list)
    split_networks: int = 0
    components_identical: bool = False
    leiden_ari: float = float("nan")
    pagerank_spearman: float = float("nan")
    top20_same: bool = False
    persons_with_referrals: int = 0


def compare_engines(local: Mapping[str, pa.Table], gds: Mapping[str, pa.Table]) -> EngineComparison:
    """The GDS run against the local one, by the rules of issue 20."""
    report = EngineComparison()
    plain = {n: t for n, t in local.items() if n not in ENGINE_TABLES}
    report.unequal_tables = equal_results(
        {n: t for n, t in gds.items() if n not in ENGINE_TABLES}, plain
    )
    # The links are relgraph's (evidence and strength): the same, whichever engine labelled them.
    link_cols = ["person_a", "person_b", "strength"]
    if not gds["network_links"].select(link_cols).equals(local["network_links"].select(link_cols)):
        report.unequal_tables.append("network_links (links)")
    strong = json.loads(local["analysis_settings"]["networks"][0].as_py())["strong_link"]
    labels = {}
    for name, results in (("local", local), ("gds", gds)):
        people = results["person_networks"].to_pandas().sort_values("person_id")
        split = results["networks"].to_pandas().set_index("network_id")["split"]
        people["split"] = people["network_id"].map(split).astype(bool)
        labels[name] = people.reset_index(drop=True)
    ours, theirs = labels["local"], labels["gds"]
    assert ours["person_id"].tolist() == theirs["person_id"].tolist()
    report.split_networks = int(local["networks"]["split"].to_numpy().sum())
    component = _strong_components(ours["person_id"], local["network_links"].to_pandas(), strong)
    report.components_identical = bool(
        # Networks no larger than the cap are the components themselves: the same sets.
        _partition(ours[~ours["split"]]) == _partition(theirs[~theirs["split"]])
        and ours["split"].equals(theirs["split"])
        # Split ones each lie inside one component.
        and all(
            pd.Series(component).groupby(run["network_id"].to_numpy()).nunique().max() == 1
            for run in (ours, theirs)
        )
    )
    in_split = ours["split"].to_numpy()
    report.leiden_ari = adjusted_rand_index(
        ours["network_id"].to_numpy()[in_split], theirs["network_id"].to_numpy()[in_split]
    )
    a = local["influence"].to_pandas().set_index("person_id")["pagerank"]
    b = gds["influence"].to_pandas().set_index("person_id")["pagerank"].reindex(a.index)
    report.persons_with_referrals = len(a)
    report.pagerank_spearman = float(spearmanr(a.to_numpy(), b.to_numpy()).statistic)
    report.top20_same = set(a.nlargest(20).index) == set(b.nlargest(20).index)
    return report


def _partition(frame: pd.DataFrame) -> set[frozenset[str]]:
    return {frozenset(members) for members in frame.groupby("network_id")["person_id"].agg(list)}


def _strong_components(
    persons: pd.Series, links: pd.DataFrame, strong: float
) -> np.ndarray[Any, Any]:
    index = pd.Index(persons)
    kept = links[links["strength"] >= strong]
    a, b = index.get_indexer(kept["person_a"]), index.get_indexer(kept["person_b"])
    graph = sp.coo_array((np.ones(len(a)), (a, b)), shape=(len(index), len(index)))
    _, label = connected_components(graph, directed=False)
    return np.asarray(label)


def adjusted_rand_index(x: np.ndarray[Any, Any], y: np.ndarray[Any, Any]) -> float:
    """Hubert and Arabie's adjusted Rand index of two labelings (1: the same partition)."""

    def pairs(counts: np.ndarray[Any, Any]) -> float:
        return float((counts * (counts - 1) / 2).sum())

    _, xi = np.unique(x, return_inverse=True)
    _, yi = np.unique(y, return_inverse=True)
    _, both = np.unique(xi * (int(yi.max()) + 1) + yi, return_counts=True)
    together, in_x, in_y = pairs(both), pairs(np.bincount(xi)), pairs(np.bincount(yi))
    expected = in_x * in_y / pairs(np.array([len(x)]))
    return (together - expected) / ((in_x + in_y) / 2 - expected)


def readme_cypher() -> dict[str, str]:
    """The README's example queries, by the first words of their comment."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Neo4j and Graph Data Science", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```cypher\n(.*?)```", section, flags=re.S)
    found = {}
    for query in block.strip().split("\n\n"):
        comment = query.splitlines()[0]
        assert comment.startswith("// "), query
        found[comment[3:].split(":")[0]] = query
    return found
