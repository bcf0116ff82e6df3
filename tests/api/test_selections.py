"""List queries remember their selection per filter (``Ranked.select_where``): the answer
is the same as selecting afresh, filters never share an entry, keys never share one (a
filter another key used answers no faster), the memory stays bounded, and a remembered
selection is no way round a permission check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from relgraph.api import ranked
from relgraph.api.auth import Role
from relgraph.api.ranked import Ranked
from relgraph.api.readmodel import ReadModel

from .conftest import run

PAGE = (
    "query($min: Int, $lacks: String) { households(filter: {minSize: $min, lacksProduct: $lacks},"
)
PAGE += " first: 100) { totalCount edges { node { id size missingProducts } } } }"


def test_each_filter_gets_its_own_rows_and_asking_twice_answers_the_same(
    model: ReadModel,
) -> None:
    answers = {}
    for min_size in (1, 2, 3, 2, 1, 3):
        result = run(PAGE, model, min=min_size)
        assert result.errors is None, result.errors
        page = result.data["households"]
        sizes = [edge["node"]["size"] for edge in page["edges"]]
        assert all(size >= min_size for size in sizes)
        answers.setdefault(min_size, page)
        assert page == answers[min_size]  # the remembered selection answers as the first did
    table = model.results.households
    assert table is not None
    for min_size, page in answers.items():
        assert page["totalCount"] == int((table.columns["size"] >= min_size).sum())
    assert answers[1]["totalCount"] > answers[2]["totalCount"] > answers[3]["totalCount"] > 0


def test_a_product_filter_is_not_answered_from_the_size_filter(model: ReadModel) -> None:
    plain = run(PAGE, model, min=1).data["households"]
    lacking = run(PAGE, model, min=1, lacks="loan").data["households"]
    assert lacking["totalCount"] < plain["totalCount"]
    assert all("loan" in edge["node"]["missingProducts"] for edge in lacking["edges"])


def test_remembered_selections_stay_within_their_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = pd.DataFrame({"id": [f"h{i}" for i in range(1_000)], "v": np.arange(1_000)})
    table = Ranked(frame, {"v": (["v"], [False])})
    monkeypatch.setattr(ranked, "SELECTIONS_KEPT", 4)
    monkeypatch.setattr(ranked, "SELECTION_BYTES", 3 * 1_000 * 8)
    values = table.columns["v"]
    for low in range(10):
        rows = table.select_where(low, lambda low=low: values >= low, "v")
        assert rows.tolist() == list(range(999, low - 1, -1))
        assert not rows.flags.writeable  # shared between requests: nobody may change it
    kept = table._selections.of("")
    assert len(kept.kept) <= 3  # the byte bound (3 full selections) is the tighter one
    assert kept.bytes == sum(r.nbytes for r in kept.kept.values())
    assert table.select_where(9, lambda: values >= 0, "v").tolist()[-1] == 9  # kept: the last


def test_a_filter_one_key_used_is_selected_afresh_for_another() -> None:
    """What one key asked leaves no trace in another's time: the second key's request
    computes its selection itself, however often the first asked."""
    frame = pd.DataFrame({"id": [f"h{i}" for i in range(100)], "v": np.arange(100)})
    table = Ranked(frame, {"v": (["v"], [False])})
    values = table.columns["v"]
    computed: list[str] = []

    def select(api_key: str) -> list[int]:
        def mask() -> np.ndarray:
            computed.append(api_key)
            return values >= 90

        return table.select_where(90, mask, "v", api_key).tolist()

    for _ in range(3):
        assert select("k_analyst") == list(range(99, 89, -1))
    assert select("k_campaign") == list(range(99, 89, -1))
    assert select("k_campaign") == list(range(99, 89, -1))
    assert computed == ["k_analyst", "k_campaign"]


def test_a_selection_a_risk_key_made_is_still_refused_to_a_campaign_key(
    model: ReadModel,
) -> None:
    # The risk key's filter is remembered first; the campaign key asking the same must
    # still be refused, not answered (a count would split groups by circle membership).
    query = "{ corporateGroups(filter: {hasGuaranteeCircle: true}) { totalCount } }"
    allowed = run(query, model, Role.RISK)
    assert allowed.errors is None, allowed.errors
    assert allowed.data["corporateGroups"]["totalCount"] > 0
    refused = run(query, model, Role.CAMPAIGN)
    assert refused.errors is not None
    assert refused.errors[0].message == (
        "Permission denied: role 'campaign' may not read corporateGroups."
    )
    assert refused.data is None
