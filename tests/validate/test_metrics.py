"""The metric definitions on known answers (and their doctests, which are part of the definition)."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

from relgraph.validate import metrics
from relgraph.validate.metrics import (
    alert_precision,
    average_precision,
    background_fpr,
    clusters_found_whole,
    groups_all_correct,
    merged_clusters,
    pair_count,
    pairwise,
    patterns_found,
    pr_curve,
    precision_at_k,
    recall_by_typology,
    reliability_table,
    split_clusters,
    true_alerts,
)


def test_the_doctests_hold() -> None:
    failed, attempted = doctest.testmod(metrics, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert attempted > 15
    assert failed == 0


def test_pairwise_counts_a_missing_item_as_missed_pairs() -> None:
    # One person of four rows, one row not loaded: 6 true pairs, 3 found.
    scores = pairwise(["p", "p", "p", "p"], ["x", "x", "x", None])
    assert (scores.truth_pairs, scores.found_pairs, scores.both) == (6, 3, 3)
    assert (scores.precision, scores.recall) == (1.0, 0.5)
    assert scores.f1 == pytest.approx(2 / 3)


def test_pairwise_has_no_ratio_without_pairs() -> None:
    scores = pairwise(["a", "b"], ["x", "y"])
    assert (scores.precision, scores.recall, scores.f1) == (None, None, None)


def test_pairwise_all_wrong_is_zero_not_undefined() -> None:
    scores = pairwise(["a", "a", "b", "b"], ["x", "y", "x", "y"])
    assert (scores.precision, scores.recall, scores.f1) == (0.0, 0.0, 0.0)


def test_pair_count_ignores_missing_labels() -> None:
    assert pair_count([None, None, np.nan, "a"]) == 0


def test_split_and_merged_clusters_on_a_known_clustering() -> None:
    truth = ["a", "a", "a", "b", "b", "c"]
    found = ["x", "x", "y", "y", "y", "z"]
    split = split_clusters(truth, found)
    assert split.to_dict("records") == [{"truth": "a", "size": 3, "pieces": 2, "missing": 0}]
    merged = merged_clusters(truth, found)
    assert merged.to_dict("records") == [{"found": "y", "size": 3, "truth_clusters": 2}]


def test_a_singleton_missing_from_the_store_is_not_a_split() -> None:
    assert split_clusters(["a", "b"], ["x", None]).empty


def test_clusters_found_whole_needs_every_member_in_one_found_cluster() -> None:
    assert clusters_found_whole(["c", "c", "c"], ["x", "x", "y"]) == 0.0
    assert clusters_found_whole(["c", "c"], ["x", "x"]) == 1.0
    assert clusters_found_whole([], []) is None


def test_groups_all_correct_needs_every_member() -> None:
    assert groups_all_correct(["g", "g", "h", "h"], [True, True, True, False]) == 0.5


def test_average_precision_of_a_perfect_ranking_is_one() -> None:
    assert average_precision([0.9, 0.8, 0.1, 0.0], [True, True, False, False]) == 1.0


def test_average_precision_ties_are_pessimistic_whatever_the_input_order() -> None:
    # All tied: the two positives rank last among four, at 3 and 4.
    expected = (1 / 3 + 2 / 4) / 2
    for labels in ([True, True, False, False], [False, False, True, True]):
        assert average_precision([0.5] * 4, labels) == pytest.approx(expected)


def test_average_precision_without_positives_is_undefined() -> None:
    assert average_precision([0.3, 0.2], [False, False]) is None


def test_precision_at_k_counts_ties_against_the_ranking() -> None:
    assert precision_at_k([0.9, 0.5, 0.5], [True, True, False], 2) == 0.5
    assert precision_at_k([0.9], [True], 0) is None


def test_pr_curve_recall_counts_missing_positives() -> None:
    curve = pr_curve([0.9, 0.1], [True, False], missing=1)
    assert curve["recall"].tolist() == [0.5, 0.5]
    assert curve["precision"].tolist() == [1.0, 0.5]


def test_patterns_found_adds_up_several_alerts_at_or_above_the_threshold() -> None:
    planted = pd.DataFrame({"pattern": ["p"] * 4, "tx_id": ["t1", "t2", "t3", "t4"]})
    alerts = pd.DataFrame({"alert": ["A", "B", "C"], "tx_id": ["t1", "t2", "t3"]})
    scores = pd.Series({"A": 0.5, "B": 0.6, "C": 0.1})
    # A and B (≥ 0.5) cover two of four transfers: exactly half is found.
    assert patterns_found(planted, alerts, scores, 0.5).to_dict() == {"p": True}
    assert patterns_found(planted, alerts, scores, 0.55).to_dict() == {"p": False}


def test_true_alerts_need_half_their_transfers_planted() -> None:
    alerts = pd.DataFrame(
        {"alert": ["A", "A", "B", "B", "B"], "tx_id": ["t1", "x", "t2", "y", "z"]}
    )
    assert true_alerts(alerts, {"t1", "t2"}).to_dict() == {"A": True, "B": False}


def test_recall_by_typology_counts_unfound_patterns() -> None:
    table = recall_by_typology(pd.Series({"p": "cycle", "q": "fan_in"}), pd.Series({"p": True}))
    assert table.set_index("typology")["recall"].to_dict() == {"cycle": 1.0, "fan_in": 0.0}


def test_alert_precision_without_alerts_is_undefined() -> None:
    assert alert_precision(pd.Series([True]), pd.Series([0.1]), 0.5) is None


def test_reliability_table_bands() -> None:
    table = reliability_table([0.12, 0.18, 0.99], [False, True, True])
    assert table[["low", "alerts"]].values.tolist() == [[0.1, 2], [0.9, 1]]
    assert table["precision"].tolist() == [0.5, 1.0]


def test_background_fpr_ignores_planted_transfers() -> None:
    assert background_fpr(pd.Series(["t1", "b1"]), {"t1"}, {"t1"}) == 0.0
    assert background_fpr(pd.Series(["t1"]), {"t1"}, set()) is None
