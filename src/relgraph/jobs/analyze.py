"""``analyze``: run every analytic on the store's projection and write the results back,
with the settings it ran with (``analysis_settings``) in the same transaction."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import pandas as pd
import pyarrow as pa

from relgraph.analytics.groups import group_frames
from relgraph.analytics.households import Households, find_households, household_values
from relgraph.analytics.influence import influence, influence_frame
from relgraph.analytics.layering import alert_frames, scan
from relgraph.analytics.networks import hidden_networks, network_frames
from relgraph.analytics.params import HouseholdParams
from relgraph.analytics.settings import TABLE as SETTINGS_TABLE
from relgraph.analytics.settings import AnalysisSettings
from relgraph.analytics.value import TABLE as VALUES_TABLE
from relgraph.analytics.value import PartyValues
from relgraph.engines.base import GraphEngine
from relgraph.graph import Projection
from relgraph.jobs.values import review_pairs, source_precedence, values_of
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


def household_frames(
    projection: Projection,
    params: HouseholdParams,
    values: PartyValues,
    households: Households | None = None,
) -> dict[str, pd.DataFrame]:
    """``households`` (value and head), ``person_households`` and ``household_ties``."""
    households = households or find_households(projection, params)
    persons = projection.nodes["Person"]
    person_ids = persons.id_of(range(len(persons)))
    return {
        "households": household_values(
            projection, households, as_of_ms(projection), values, params
        ),
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
    settings: AnalysisSettings | None = None,
    progress: Progress | None = None,
    engine: GraphEngine | None = None,
) -> AnalysisReport:
    """Run the analytics on ``projection`` and write their result tables to ``store``.

    Parameters
    ----------
    store : Store
        Opened for writing; every result table is replaced, ``analysis_settings`` too.
    projection : Projection
        Built from ``store``.
    settings : AnalysisSettings, optional
        Every threshold; from the environment (``RELGRAPH_NETWORK_*``,
        ``RELGRAPH_HOUSEHOLD_*``, ``RELGRAPH_GROUP_*``, ``RELGRAPH_INFLUENCE_*``,
        ``RELGRAPH_LAYERING_*``) when omitted.
    progress : callable, optional
        ``progress(stage, done, total)``.
    engine : GraphEngine, optional
        Where components, communities and PageRank run; this process by default.

    Returns
    -------
    AnalysisReport
    """
    engine_name = engine.name if engine is not None else "local"
    settings = settings or AnalysisSettings.from_env(engine=engine_name)
    if settings.engine != engine_name:
        settings = replace(settings, engine=engine_name)
    network_params = settings.networks
    household_params = settings.households
    group_params = settings.groups
    influence_params = settings.influence
    layering_params = settings.layering
    # Layering uses the networks and households found before it.
    found: dict[str, Any] = {}

    def networks_step() -> dict[str, pd.DataFrame]:
        found["networks"] = hidden_networks(projection, network_params, engine=engine)
        return network_frames(projection, found["networks"])

    def values_step() -> dict[str, pd.DataFrame]:
        # One value per party, read by households, groups and audiences alike.
        found["values"] = values_of(projection, review_pairs(store), source_precedence(store))
        return {VALUES_TABLE: found["values"].frame()}

    def households_step() -> dict[str, pd.DataFrame]:
        households = find_households(projection, household_params)
        found["households"] = households
        return household_frames(projection, household_params, found["values"], households)

    def layering_step() -> dict[str, pd.DataFrame]:
        alerts = scan(
            projection,
            layering_params,
            households_label=found["households"].label,
            networks_label=found["networks"].label,
        )
        return alert_frames(projection, alerts)

    steps: list[tuple[str, Callable[[], dict[str, pd.DataFrame]]]] = [
        ("party values", values_step),
        ("hidden networks", networks_step),
        ("households", households_step),
        ("corporate groups", lambda: group_frames(projection, found["values"], group_params)),
        (
            "referral influence",
            lambda: {
                "influence": influence_frame(
                    projection,
                    influence(
                        projection,
                        influence_params,
                        engine,
                        found["values"].aum[: found["values"].n_persons],
                    ),
                )
            },
        ),
        ("layered transactions", layering_step),
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
    results[SETTINGS_TABLE] = pa.Table.from_pandas(settings.to_frame(), preserve_index=False)
    report.tables[SETTINGS_TABLE] = 1
    if progress is not None:
        progress("writing results", len(steps), len(steps) + 1)
    started = time.perf_counter()
    # One transaction: a crash leaves the previous results, never a mix of two runs.
    store.replace_results(results)
    report.seconds["writing results"] = time.perf_counter() - started
    return report
