"""The GDS engine: components, Leiden and PageRank inside Neo4j Graph Data Science.

Each algorithm projects an in-memory graph from the live generation (a Cypher
projection), asks GDS for a memory estimate and refuses to run above the heap
limit, runs in write mode (the result lands on the ``:Person`` nodes), reads the
written property back, and drops the projection whatever happened. Only the
algorithm moves into Neo4j: links, their evidence and strength, thresholds and
values are computed by relgraph, so the result tables are the same contract as
with the local engine.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from relgraph.analytics.influence import PageRankConvergenceError
from relgraph.analytics.networks import split_rounds
from relgraph.engines.base import FloatArray, IdArray, IndexArray
from relgraph.store.base import StoreError
from relgraph.store.cypher import query
from relgraph.store.neo4j_load import drain, write_rows
from relgraph.store.runner import QueryRunner, one_line

if TYPE_CHECKING:
    from graphdatascience import GraphDataScience

    from relgraph.analytics.params import InfluenceParams
    from relgraph.config import Neo4jSettings


class GdsRunner:
    """A :class:`QueryRunner` over the ``graphdatascience`` client's ``run_cypher``."""

    def __init__(self, gds: GraphDataScience) -> None:
        self.gds = gds

    def run(
        self,
        statement: str,
        params: Mapping[str, Any] | None = None,
        *,
        operation: str,
        write: bool = False,
    ) -> pd.DataFrame:
        try:
            # Always a write session (``write`` is not passed on): GDS write procedures
            # need one, and older graphdatascience releases' run_cypher takes no mode.
            frame: pd.DataFrame = self.gds.run_cypher(query(statement), dict(params or {}))
        except Exception as exc:  # the client raises driver and its own errors alike
            raise StoreError(
                f"{operation}: GDS statement {statement!r} failed: {one_line(exc)}"
            ) from exc
        return frame

    def hold(
        self, statement: str, params: Mapping[str, Any] | None = None, *, operation: str
    ) -> AbstractContextManager[None]:
        # run_cypher commits each call; the engine writes no results, so it needs no lock.
        raise StoreError(f"{operation}: the GDS client cannot hold {statement!r} open")

    def close(self) -> None:
        self.gds.close()


class GdsEngine:
    """A :class:`~relgraph.engines.base.GraphEngine` inside Neo4j GDS, over the store's query
    runner seam (:class:`~relgraph.store.runner.QueryRunner`).

    Parameters
    ----------
    runner : QueryRunner
        :meth:`connect` makes one from the ``graphdatascience`` client.
    gen : str
        The store's live generation (the persons the algorithms see).
    batch_size : int
        Rows per transaction when the links are written.
    max_heap_percent : float
        Refuse an algorithm whose estimate exceeds this share of the server's heap.
    """

    name = "gds"

    def __init__(
        self, runner: QueryRunner, gen: str, batch_size: int, max_heap_percent: float = 80.0
    ) -> None:
        self.runner = runner
        self.gen = gen
        self.batch_size = batch_size
        self.max_heap_percent = max_heap_percent
        self.run_id = uuid.uuid4().hex[:16]

    @classmethod
    def connect(cls, settings: Neo4jSettings, gen: str) -> GdsEngine:
        """Connect through ``graphdatascience``; a clear error when GDS is not installed."""
        # Only a GDS run pays for the client's (and the driver's) import.
        import neo4j
        from graphdatascience import GraphDataScience
        from graphdatascience.error.gds_not_installed import GdsNotFound

        try:
            gds = GraphDataScience(
                settings.uri,
                auth=(settings.username, settings.password),
                database=settings.database,
                arrow=False,
                show_progress=False,
            )
        # The client's own texts span lines and name driver codes, not the setting to fix.
        except GdsNotFound as exc:
            raise StoreError(
                f"Neo4j at {settings.uri} has no Graph Data Science plugin (gds.version() is "
                "unknown): install GDS 2.13 or later, or set RELGRAPH_ANALYTICS_ENGINE=local."
            ) from exc
        except neo4j.exceptions.AuthError as exc:
            raise StoreError(
                f"Neo4j at {settings.uri} refused user {settings.username!r}: "
                "check NEO4J_USERNAME and NEO4J_PASSWORD."
            ) from exc
        except Exception as exc:  # unreachable server, or an error of the client's own
            raise StoreError(
                f"cannot use Neo4j Graph Data Science at {settings.uri}: {one_line(exc)}; "
                "check NEO4J_URI, or set RELGRAPH_ANALYTICS_ENGINE=local."
            ) from exc
        runner = GdsRunner(gds)
        runner.run("gds_version", operation="gds: check the plugin")
        return cls(runner, gen, settings.batch_size)

    # -- GraphEngine --------------------------------------------------------------------

    def components(
        self, ids: IdArray, a: IndexArray, b: IndexArray, weight: FloatArray
    ) -> IndexArray:
        links = pa.table(
            {
                "person_a": pa.array(ids[a], pa.string()),
                "person_b": pa.array(ids[b], pa.string()),
                "strength": pa.array(weight, pa.float64()),
                "network_id": pa.nulls(len(a), pa.string()),
            }
        )
        params = {"gen": self.gen, "run": self.run_id}
        write_rows(
            self.runner,
            "writeback_network_links",
            links,
            params,
            operation="gds: write links",
            batch_size=self.batch_size,
        )
        drain(
            self.runner,
            "writeback_prune_network_links",
            params,
            "gds: remove older links",
            self.batch_size,
        )
        values = self._algorithm(
            "wcc",
            project=("gds_project_links", {"gen": self.gen, "run": self.run_id}),
            config={},
            read=("gds_wcc_read", {"gen": self.gen}),
        )
        return _compact(self._align(ids, values, "wcc"))

    def split_large(
        self,
        ids: IdArray,
        label: IndexArray,
        a: IndexArray,
        b: IndexArray,
        weight: FloatArray,
        max_size: int,
        seed: int,
    ) -> tuple[IndexArray, npt.NDArray[np.bool_]]:
        def leiden(
            members: IndexArray, groups: IndexArray, gamma: float, round_: int
        ) -> IndexArray:
            # Mark this round's large networks on their persons, project them together and
            # let GDS's Leiden split each (it never joins nodes of two groups: no edges).
            keyed = pc.binary_join_element_wise(
                f"{self.run_id}:{round_}:", pa.array(groups).cast(pa.string()), ""
            )
            rows = pa.table({"person_id": pa.array(ids[members], pa.string()), "group": keyed})
            write_rows(
                self.runner,
                "gds_group_set",
                rows,
                {"gen": self.gen},
                operation="gds: mark large networks",
                batch_size=self.batch_size,
            )
            keys = sorted(set(keyed.to_pylist()))
            try:
                values = self._algorithm(
                    "leiden",
                    project=(
                        "gds_project_groups",
                        {"gen": self.gen, "run": self.run_id, "groups": keys},
                    ),
                    # The projection scales each group's link strengths to sum to 1, so
                    # modularity over the union of K groups is the sum of each group's own
                    # at resolution gamma / K: gamma × K splits each group as the local
                    # engine does (group by group, at resolution gamma).
                    config={"gamma": gamma * len(keys), "seed": seed},
                    read=("gds_leiden_read", {"gen": self.gen, "groups": keys}),
                )
            except StoreError as exc:
                # GDS 2.13 cannot write a Leiden partition in which no node moved (a
                # NullPointerException on its dendrogram). That partition is every person
                # alone, which is what igraph finds at the same resolution.
                if "NullPointerException" not in str(exc):
                    raise
                return np.arange(len(members), dtype=np.int64)
            return _compact(self._align(ids[members], values, "leiden"))

        return split_rounds(label, max_size, leiden)

    def pagerank(
        self, ids: IdArray, source: IndexArray, target: IndexArray, params: InfluenceParams
    ) -> FloatArray:
        # GDS projects the referrals stored in Neo4j (the same generation the
        # projection was built from), so ``source``/``target`` are not sent again.
        def converged(written: pd.DataFrame) -> None:
            # Scores still moving at maxIterations are not a result (the local engine's rule).
            if not bool(written["didConverge"].iloc[0]):
                ran = int(written["ranIterations"].iloc[0])
                raise PageRankConvergenceError(ran, None, params.tolerance)

        values = self._algorithm(
            "pagerank",
            project=("gds_project_referrals", {"gen": self.gen}),
            config={
                "damping": params.damping,
                "max_iterations": params.max_iterations,
                "tolerance": params.tolerance,
            },
            read=("gds_pagerank_read", {"gen": self.gen}),
            check=converged,
        )
        score = self._align(ids, values, "pagerank").astype(np.float64)
        total = score.sum()
        # GDS leaves scores unnormalised; relgraph's contract is a distribution.
        return score / total if total > 0 else score

    def close(self) -> None:
        self.runner.close()

    # -- helpers ------------------------------------------------------------------------

    def _algorithm(
        self,
        algorithm: str,
        *,
        project: tuple[str, dict[str, Any]],
        config: dict[str, Any],
        read: tuple[str, dict[str, Any]],
        check: Callable[[pd.DataFrame], None] | None = None,
    ) -> pd.DataFrame:
        """Project, estimate, write, ``check`` what the write reported, read; always drop."""
        graph = f"relgraph-{algorithm}-{self.run_id}"
        operation = f"gds: {algorithm}"
        try:
            self.runner.run(project[0], {**project[1], "graph": graph}, operation=operation)
            estimate = self.runner.run(
                f"gds_{algorithm}_estimate", {"graph": graph, **config}, operation=operation
            )
            share = float(estimate["heapPercentageMax"].iloc[0])
            if share > self.max_heap_percent:
                raise StoreError(
                    f"{operation}: GDS estimates {estimate['requiredMemory'].iloc[0]} "
                    f"({share:.0f}% of the heap), above the {self.max_heap_percent:.0f}% "
                    "limit; give Neo4j more heap or use RELGRAPH_ANALYTICS_ENGINE=local"
                )
            written = self.runner.run(
                f"gds_{algorithm}_write",
                {"graph": graph, **config},
                operation=operation,
                write=True,
            )
            if check is not None:
                check(written)
            return self.runner.run(read[0], read[1], operation=operation)
        finally:
            self.runner.run("gds_graph_drop", {"graph": graph}, operation=operation, write=True)

    @staticmethod
    def _align(ids: IdArray, values: pd.DataFrame, algorithm: str) -> npt.NDArray[Any]:
        found = pd.Series(values["value"].to_numpy(), index=values["node"].to_numpy())
        aligned = found.reindex(ids)
        if aligned.isna().any():
            missing = ids[aligned.isna().to_numpy()][:5].tolist()
            raise StoreError(f"gds: {algorithm} wrote no value for persons {missing}")
        result: npt.NDArray[Any] = aligned.to_numpy()
        return result


def _compact(values: npt.NDArray[Any]) -> IndexArray:
    """GDS numbers components and communities by node ids: renumbered 0..k-1."""
    _, inverse = np.unique(values, return_inverse=True)
    return np.asarray(inverse, dtype=np.int64).ravel()
