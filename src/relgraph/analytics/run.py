"""``analyze``: run every analytic on the store's projection and write the results back."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
import pyarrow as pa

from relgraph.analytics.groups import group_frames
from relgraph.analytics.households import find_households, household_values
from relgraph.analytics.influence import influence, influence_frame
from relgraph.analytics.networks import hidden_networks, network_frames
from relgraph.analytics.params import GroupParams, HouseholdParams, InfluenceParams, NetworkParams
from relgraph.graph import Projection
from relgraph.store.base import Store

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class AnalysisReport:
    """What ``analyze`` wrote: rows per result table and seconds per analytic."""

    tables: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def as_of_ms(projection: Projection) -> int:
    """The date the data describes: the load time, so re-runs on one load agree."""
    loaded = projection.meta.get("loaded_at")
    moment = datetime.fromisoformat(loaded) if loaded else datetime.now().astimezone()
    return int(moment.timestamp() * 1000)


def household_frames(projection: Projection, params: HouseholdParams) -> dict[str, pd.DataFrame]:
    """``households`` (value and head), ``person_households`` and ``household_ties``."""
    households = find_households(projection, params)
    persons = projection.nodes["Person"]
    person_ids = persons.id_of(range(len(persons)))
    return {
        "households": household_values(projection, households, as_of_ms(projection), params),
        "person_households": pd.DataFrame(
            {"person_id": person_ids, "household_id": households.ids[households.label]}
        ),
        "household_ties": pd.DataFrame(
            {
                "person_a": persons.id_of(households.tie_a),
                "person_b": persons.id_of(households.tie_b),
                "basis": households.tie_basis,
            }
        ),
    }


def analyze(
    store: Store,
    projection: Projection,
    network_params: NetworkParams | None = None,
    household_params: HouseholdParams | None = None,
    progress: Progress | None = None,
) -> AnalysisReport:
    """Run the analytics on ``projection`` and write their result tables to ``store``.

    Parameters
    ----------
    store : Store
        Opened for writing; every result table is replaced.
    projection : Projection
        Built from ``store``.
    network_params, household_params : optional
        Thresholds; from the environment (``RELGRAPH_NETWORK_*``, ``RELGRAPH_HOUSEHOLD_*``)
        when omitted. Group and influence settings always come from the environment
        (``RELGRAPH_GROUP_*``, ``RELGRAPH_INFLUENCE_*``).
    progress : callable, optional
        ``progress(stage, done, total)``.

    Returns
    -------
    AnalysisReport
    """
    network_params = network_params or NetworkParams.from_env()
    household_params = household_params or HouseholdParams.from_env()
    group_params = GroupParams.from_env()
    influence_params = InfluenceParams.from_env()
    steps: list[tuple[str, Callable[[], dict[str, pd.DataFrame]]]] = [
        (
            "hidden networks",
            lambda: network_frames(projection, hidden_networks(projection, network_params)),
        ),
        ("households", lambda: household_frames(projection, household_params)),
        ("corporate groups", lambda: group_frames(projection, group_params)),
        (
            "referral influence",
            lambda: {
                "influence": influence_frame(projection, influence(projection, influence_params))
            },
        ),
    ]
    report = AnalysisReport()
    results: dict[str, pa.Table] = {}
    for i, (name, step) in enumerate(steps):
        if progress is not None:
            progress(name, i, len(steps) + 1)
        started = time.perf_counter()
        for table, frame in step().items():
            results[table] = pa.Table.from_pandas(frame, preserve_index=False)
            report.tables[table] = len(frame)
        report.seconds[name] = time.perf_counter() - started
    if progress is not None:
        progress("writing results", len(steps), len(steps) + 1)
    started = time.perf_counter()
    # One transaction: a crash leaves the previous results, never a mix of two runs.
    store.replace_results(results)
    report.seconds["writing results"] = time.perf_counter() - started
    return report
