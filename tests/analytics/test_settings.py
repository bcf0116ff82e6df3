"""The settings an analysis ran with are stored beside its results and read back exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from relgraph.analytics.params import HouseholdParams, NetworkParams
from relgraph.analytics.settings import TABLE, AnalysisSettings
from relgraph.graph import build_projection
from relgraph.ingest import load_directory
from relgraph.jobs.analyze import analyze
from relgraph.store.embedded import EmbeddedStore
from relgraph.synth import generate


def test_settings_round_trip_through_their_table() -> None:
    settings = AnalysisSettings(
        networks=NetworkParams(strong_link=0.7, max_network_size=30),
        households=HouseholdParams(max_size=6, join_sole_other_resident=0),
        engine="gds",
    )
    back = AnalysisSettings.from_frame(settings.to_frame())
    assert back == settings
    assert back.stored


def test_an_older_store_without_settings_gets_the_defaults_and_says_so() -> None:
    back = AnalysisSettings.from_frame(None)
    assert back.networks == NetworkParams()
    assert not back.stored


def test_unknown_stored_fields_are_ignored_and_new_ones_default() -> None:
    frame = AnalysisSettings().to_frame()
    frame.loc[0, "networks"] = '{"strong_link": 0.6, "retired_setting": 3}'
    back = AnalysisSettings.from_frame(frame)
    assert back.networks.strong_link == 0.6
    assert back.networks.max_network_size == NetworkParams().max_network_size


def test_analyze_stores_the_settings_it_ran_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELGRAPH_NETWORK_STRONG_LINK", "0.8")
    monkeypatch.setenv("RELGRAPH_HOUSEHOLD_MAX_SIZE", "4")
    generate(300, 5, tmp_path / "bank", "csv")
    with EmbeddedStore(tmp_path / "data") as store:
        load_directory(tmp_path / "bank", store, tmp_path / "data")
        report = analyze(store, build_projection(store))
        stored = AnalysisSettings.from_frame(store.results_frame(TABLE))
    assert report.tables[TABLE] == 1
    assert stored.stored
    assert stored.networks.strong_link == 0.8
    assert stored.households.max_size == 4
    assert stored.engine == "local"
