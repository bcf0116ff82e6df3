"""Why a pair is in the review band, over the API: a pair offered for a shared id number is
listed whatever its score, and says so; a store loaded before reasons existed still serves."""

from __future__ import annotations

import pytest

from relgraph.api.auth import Role
from relgraph.api.readmodel import ReadModel, build_read_model
from relgraph.store.embedded import EmbeddedStore
from tests.api.conftest import run
from tests.banks import load, write_bank
from tests.ingest.test_linkage import ZHANG, _bank, _record

BAND = """query Band($min: Float!) { possibleDuplicates(minScore: $min) {
  totalCount edges { node { customerA customerB score reason } } } }"""


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> ReadModel:
    root = tmp_path_factory.mktemp("reasons")
    records = [
        _record("C1", "core", "张伟", id_number=ZHANG, birth_date="1985-03-15", gender="M"),
        _record("K1", "card", "张伟", id_number=ZHANG, birth_date="1985-02-03", gender="M"),
    ]
    load(write_bank(root / "bank", _bank(records)), root / "data")
    with EmbeddedStore(root / "data", read_only=True) as store:
        return build_read_model(store)


def test_a_shared_id_pair_is_listed_whatever_the_minimum_score(model: ReadModel) -> None:
    for minimum in (0.0, 0.5, 0.99):
        result = run(BAND, model, Role.RISK, min=minimum)
        assert result.errors is None
        band = result.data["possibleDuplicates"]
        assert band["totalCount"] == 1
        [node] = [edge["node"] for edge in band["edges"]]
        assert {node["customerA"], node["customerB"]} == {"C1", "K1"}
        assert node["reason"] == "SHARED_ID_NUMBER"
        assert node["score"] < 0.5


def test_a_band_stored_without_reasons_reads_as_scored(model: ReadModel) -> None:
    band = model.results.possible_duplicates
    assert band is not None
    old = band.drop(columns=["reason"]).assign(score=0.7)
    model.results.possible_duplicates = old
    try:
        low = run(BAND, model, Role.RISK, min=0.8)
        high = run(BAND, model, Role.RISK, min=0.5)
    finally:
        model.results.possible_duplicates = band
    assert low.data["possibleDuplicates"]["totalCount"] == 0
    [edge] = high.data["possibleDuplicates"]["edges"]
    assert edge["node"]["reason"] == "SCORE"
