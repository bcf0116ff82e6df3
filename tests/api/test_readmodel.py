"""The read model serves what ``analyze`` stored, with the settings it stored — never a
recomputation with other settings (the deployment's environment at serve time included)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from relgraph.analytics.households import find_households
from relgraph.analytics.networks import hidden_networks
from relgraph.api.readmodel import ReadModel, build_read_model
from relgraph.graph import build_projection
from relgraph.ingest import load_directory
from relgraph.jobs.analyze import analyze
from relgraph.store.embedded import EmbeddedStore
from relgraph.synth import generate

# Far from the defaults, so a read model that recomputes with defaults disagrees.
ANALYSED_WITH = {
    "RELGRAPH_HOUSEHOLD_MAX_SIZE": "2",
    "RELGRAPH_HOUSEHOLD_JOIN_SOLE_OTHER_RESIDENT": "0",
    "RELGRAPH_NETWORK_STRONG_LINK": "0.95",
    "RELGRAPH_NETWORK_MAX_NETWORK_SIZE": "4",
    "RELGRAPH_LAYERING_MIN_HOPS": "4",
    "RELGRAPH_LAYERING_WINDOW_HOURS": "24",
    "RELGRAPH_LAYERING_SCORE_THRESHOLD": "0.4",
}


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("readmodel")
    generate(1_500, 8, root / "bank", "csv")
    with pytest.MonkeyPatch.context() as env:
        for name, value in ANALYSED_WITH.items():
            env.setenv(name, value)
        with EmbeddedStore(root / "data") as store:
            load_directory(root / "bank", store, root / "data")
            analyze(store, build_projection(store))
    return root / "data"


@pytest.fixture(scope="module")
def model(analysed: Path) -> ReadModel:
    # Served with the environment unset: the stored settings must win.
    with EmbeddedStore(analysed, read_only=True) as store:
        return build_read_model(store)


def _stored(analysed: Path, table: str) -> pd.DataFrame:
    with EmbeddedStore(analysed, read_only=True) as store:
        frame = store.results_frame(table)
    assert frame is not None
    return frame


def test_the_model_carries_the_stored_settings(model: ReadModel) -> None:
    settings = model.results.settings
    assert settings.stored
    assert settings.households.max_size == 2
    assert settings.networks.strong_link == 0.95
    assert settings.layering.min_hops == 4
    assert settings.layering.window_hours == 24


def test_households_and_networks_are_the_stored_ones(model: ReadModel, analysed: Path) -> None:
    households = _stored(analysed, "person_households")
    networks = _stored(analysed, "person_networks")
    assert model.results.household_of == dict(
        zip(households["person_id"], households["household_id"], strict=True)
    )
    assert model.results.network_of == dict(
        zip(networks["person_id"], networks["network_id"], strict=True)
    )


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    pairs = pd.DataFrame({"a": a, "b": b}).drop_duplicates()
    return bool(pairs["a"].is_unique and pairs["b"].is_unique)


def test_the_layering_index_uses_the_stored_labels_and_settings(
    model: ReadModel, analysed: Path
) -> None:
    index = model.layering_index()
    assert index.params == model.results.settings.layering
    stored = model.stored_label(model.results.household_of)
    assert stored is not None
    assert _same_partition(index.context.household, stored)
    # The defaults would have grouped persons differently: the check can fail.
    defaults = find_households(model.projection).label
    assert not _same_partition(defaults, stored)
    networks = model.stored_label(model.results.network_of)
    assert networks is not None
    assert _same_partition(index.context.network, networks)
    assert not _same_partition(hidden_networks(model.projection).label, networks)


def test_on_demand_checks_agree_with_the_stored_account_risk(
    model: ReadModel, analysed: Path
) -> None:
    from relgraph.analytics.layering import check_account

    risk = _stored(analysed, "account_risk").sort_values("score", ascending=False).head(15)
    assert len(risk) > 0
    index = model.layering_index()
    for account_id, score in zip(risk["account_id"], risk["score"], strict=True):
        found = check_account(
            model.projection, model.account_index[str(account_id)], index.params, index=index
        )
        assert found.score == pytest.approx(float(score))


# -- through the API: what a risk analyst sees is what analyze stored ---------------------------


def _gql(model: ReadModel, query: str, **variables: object) -> dict[str, object]:
    from relgraph.api.auth import Role
    from tests.api.conftest import run

    result = run(query, model, Role.RISK, **variables)
    assert result.errors is None, result.errors
    data: dict[str, object] = result.data
    return data


def test_the_api_serves_the_stored_households_and_networks(
    model: ReadModel, analysed: Path
) -> None:
    households = _stored(analysed, "person_households")
    networks = _stored(analysed, "person_networks")
    household_of = dict(zip(households["person_id"], households["household_id"], strict=True))
    network_of = dict(zip(networks["person_id"], networks["network_id"], strict=True))
    query = "query ($id: ID!) { customer(id: $id) { household { id } network { id } } }"
    for pid in model.person_ids[:200]:
        got = _gql(model, query, id=pid)["customer"]
        assert isinstance(got, dict)
        assert got["household"]["id"] == household_of[pid]
        assert got["network"]["id"] == network_of[pid]


def test_layering_check_without_arguments_is_the_stored_answer(
    model: ReadModel, analysed: Path
) -> None:
    risk = _stored(analysed, "account_risk").sort_values("score", ascending=False).head(10)
    assert len(risk) > 0
    query = """query ($id: ID!, $w: Float) { layeringCheck(accountId: $id, windowHours: $w) {
        score settingsOverridden settings { windowHours maxHops minAmount scoreThreshold } } }"""
    for account_id, score in zip(risk["account_id"], risk["score"], strict=True):
        check = _gql(model, query, id=str(account_id))["layeringCheck"]
        assert isinstance(check, dict)
        assert check["score"] == pytest.approx(float(score))
        assert check["settingsOverridden"] is False
        assert check["settings"]["windowHours"] == 24  # as analysed, not the default 72
        assert check["settings"]["maxHops"] == model.results.settings.layering.max_hops
    wider = _gql(model, query, id=str(risk["account_id"].iloc[0]), w=72.0)["layeringCheck"]
    assert isinstance(wider, dict)
    assert wider["settingsOverridden"] is True
    assert wider["settings"]["windowHours"] == 72


def test_account_risk_and_risk_chains_use_the_stored_threshold(model: ReadModel) -> None:
    threshold = model.alert_threshold
    assert threshold == 0.4  # as analysed; the default is 0.5
    chains = _gql(model, "{ riskChains(first: 100) { totalCount edges { node { score } } } }")
    connection = chains["riskChains"]
    assert isinstance(connection, dict)
    assert all(e["node"]["score"] >= threshold for e in connection["edges"])
    table = model.results.risk_chains
    assert table is not None
    assert connection["totalCount"] == int((table.columns["score"] >= threshold).sum())
