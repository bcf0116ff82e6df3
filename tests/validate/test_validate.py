"""`validate` on tiny hand-made stores and truths whose figures are worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from relgraph.store.embedded import EmbeddedStore
from relgraph.validate.job import Validation, ValidationError, validate
from relgraph.validate.report import write_report
from relgraph.validate.truth import TruthError, read_truth
from tests.validate.conftest import customers, make_store, write_truth


def run(data_dir: Path, truth: Path) -> Validation:
    with EmbeddedStore(data_dir, read_only=True) as store:
        return validate(store, read_truth(truth))


def section(result: Validation, name: str) -> dict[str, object]:
    return next(s for s in result.sections if s.name == name).figures


# -- identity and households --------------------------------------------------------------


def test_a_perfect_result_scores_one_with_nothing_split_or_merged(tmp_path: Path) -> None:
    rows = customers(("c1", "P1"), ("c2", "P1"), ("c3", "P2"), ("c4", "P3"))
    data = make_store(
        tmp_path / "data", rows, person_households={"P1": "H1", "P2": "H1", "P3": "H3"}
    )
    truth = write_truth(
        tmp_path / "truth",
        persons=[
            {"customer_id": c, "person_key": k}
            for c, k in [("c1", "A"), ("c2", "A"), ("c3", "B"), ("c4", "C")]
        ],
        households=[
            {"customer_id": c, "household_key": k}
            for c, k in [("c1", "X"), ("c2", "X"), ("c3", "X"), ("c4", "Y")]
        ],
    )
    result = run(data, truth)
    for name in ("identity", "households"):
        figures = section(result, name)
        assert (figures["precision"], figures["recall"], figures["f1"]) == (1.0, 1.0, 1.0)
        assert figures["split_clusters"] == figures["merged_clusters"] == 0
        assert figures["missing_ids"] == 0


def test_a_split_household_is_counted_and_shown(tmp_path: Path) -> None:
    rows = customers(("c1", "P1"), ("c2", "P2"), ("c3", "P3"))
    data = make_store(
        tmp_path / "data", rows, person_households={"P1": "H1", "P2": "H1", "P3": "H3"}
    )
    truth = write_truth(
        tmp_path / "truth",
        households=[{"customer_id": c, "household_key": "X"} for c in ("c1", "c2", "c3")],
    )
    result = run(data, truth)
    figures = section(result, "households")
    # Three true pairs, one of them found (c1-c2); the one found pair is right.
    assert figures["recall"] == pytest.approx(1 / 3)
    assert figures["precision"] == 1.0
    assert (figures["split_clusters"], figures["merged_clusters"]) == (1, 0)
    households = next(s for s in result.sections if s.name == "households")
    caption, table = households.tables[0]
    assert caption.startswith("Worst split households")
    assert set(table["customer_id"]) == {"c1", "c2", "c3"}
    assert set(table["found_household"]) == {"H1", "H3"}


def test_a_merged_pair_is_counted_with_the_evidence_that_merged_it(tmp_path: Path) -> None:
    rows = customers(("c1", "P1", "phone=same"), ("c2", "P1", "phone=same"), ("c3", "P1"))
    data = make_store(tmp_path / "data", rows)
    truth = write_truth(
        tmp_path / "truth",
        persons=[
            {"customer_id": c, "person_key": k} for c, k in [("c1", "A"), ("c3", "A"), ("c2", "B")]
        ],
    )
    result = run(data, truth)
    figures = section(result, "identity")
    # Found pairs c1-c2, c1-c3, c2-c3; only c1-c3 is one real person.
    assert figures["precision"] == pytest.approx(1 / 3)
    assert figures["recall"] == 1.0
    assert (figures["merged_clusters"], figures["split_clusters"]) == (1, 0)
    identity = next(s for s in result.sections if s.name == "identity")
    merged = next(t for c, t in identity.tables if c.startswith("Worst merged"))
    assert set(merged["customer_id"]) == {"c1", "c2", "c3"}
    assert merged.set_index("customer_id").loc["c2", "match_evidence"] == "phone=same"


def test_truth_ids_not_in_the_store_are_misses_and_listed(tmp_path: Path) -> None:
    rows = customers(("c1", "P1"), ("c2", "P1"))
    data = make_store(
        tmp_path / "data",
        rows,
        accounts=["A1", "A2"],
        transfers=[("t1", "A1", "A2")],
        alerts=[("R1", "cycle", 0.9, ["t1"])],
        account_risk={"A1": 0.9, "A2": 0.9},
    )
    truth = write_truth(
        tmp_path / "truth",
        persons=[{"customer_id": c, "person_key": "A"} for c in ("c1", "c2", "gone")],
        laundering=[
            {"pattern_key": "L1", "typology": "cycle", "tx_id": "t1"},
            {"pattern_key": "L2", "typology": "fan_in", "tx_id": "t-gone-1"},
            {"pattern_key": "L2", "typology": "fan_in", "tx_id": "t-gone-2"},
        ],
        suspicious_accounts=[{"account_id": "A-gone", "label": "1"}],
    )
    result = run(data, truth)
    identity = section(result, "identity")
    # Three rows of one person: three true pairs; the two with "gone" are missed.
    assert identity["recall"] == pytest.approx(1 / 3)
    assert (identity["missing_ids"], identity["missing_ids_listed"]) == (1, ["gone"])
    aml = section(result, "aml")
    assert (aml["patterns"], aml["patterns_found"]) == (2, 1)
    assert aml["recall_by_typology"]["fan_in"]["recall"] == 0.0
    assert aml["missing_transfers_listed"] == ["t-gone-1", "t-gone-2"]
    # A1, A2 (the planted transfer) and the unheld A-gone are suspicious: k = 3.
    assert (aml["suspicious_accounts"], aml["missing_accounts_listed"]) == (3, ["A-gone"])
    assert aml["precision_at_k"] == pytest.approx(2 / 3)
    assert aml["average_precision"] == pytest.approx(2 / 3)


# -- transaction monitoring ---------------------------------------------------------------

ACCOUNTS = [f"A{i}" for i in range(1, 9)]
TRANSFERS = [
    ("t1", "A1", "A2"), ("t2", "A2", "A3"), ("t3", "A3", "A1"),  # planted cycle L1
    ("t4", "A4", "A5"), ("t5", "A6", "A5"),  # planted fan-in L2
    ("b1", "A7", "A8"), ("b2", "A8", "A7"), ("b3", "A7", "A6"), ("b4", "A1", "A8"),
]  # fmt: skip
LAUNDERING = [
    {"pattern_key": "L1", "typology": "cycle", "tx_id": t} for t in ("t1", "t2", "t3")
] + [{"pattern_key": "L2", "typology": "fan_in", "tx_id": t} for t in ("t4", "t5")]


@pytest.fixture
def monitored(tmp_path: Path) -> Validation:
    data = make_store(
        tmp_path / "data",
        customers(("c1", "P1")),
        accounts=ACCOUNTS,
        transfers=TRANSFERS,
        alerts=[
            ("R1", "cycle", 0.9, ["t1", "t2", "t3"]),  # true, above the threshold
            ("R2", "layering_chain", 0.8, ["b1", "b2", "b3"]),  # an alert on background
            ("R3", "fan_in", 0.3, ["t4", "t5"]),  # true, but below the threshold
        ],
        account_risk={
            "A1": 0.9,
            "A2": 0.9,
            "A3": 0.9,
            "A6": 0.8,
            "A7": 0.8,
            "A8": 0.8,
            "A4": 0.3,
            "A5": 0.3,
        },
    )
    return run(data, write_truth(tmp_path / "truth", laundering=LAUNDERING))


def test_an_alert_below_the_threshold_does_not_find_its_pattern(monitored: Validation) -> None:
    aml = section(monitored, "aml")
    assert aml["threshold"] == 0.5
    assert (aml["patterns"], aml["patterns_found"], aml["recall"]) == (2, 1, 0.5)
    assert aml["recall_by_typology"] == {
        "cycle": {"patterns": 1, "found": 1, "recall": 1.0},
        "fan_in": {"patterns": 1, "found": 0, "recall": 0.0},
    }
    # Labelled as another threshold: at 0.3 the fan-in is found too.
    at = {row["threshold"]: row for row in aml["other_thresholds"]}
    assert (at[0.3]["recall"], at[0.3]["precision"]) == (1.0, pytest.approx(2 / 3))
    assert at[0.5]["recall"] == aml["recall"]


def test_an_alert_on_background_lowers_precision_and_is_listed(monitored: Validation) -> None:
    aml = section(monitored, "aml")
    assert (aml["alerts"], aml["alerts_at_threshold"], aml["true_alerts_at_threshold"]) == (3, 2, 1)
    assert aml["alert_precision"] == 0.5
    # b1, b2, b3 of the four background transfers are in an alert at or above 0.5.
    assert (aml["background_transfers"], aml["background_fpr"]) == (4, 0.75)
    section_ = next(s for s in monitored.sections if s.name == "aml")
    false = next(t for c, t in section_.tables if c.startswith("Highest-scoring false"))
    assert false["chain_id"].tolist() == ["R2"]


def test_accounts_are_ranked_with_ties_broken_pessimistically(monitored: Validation) -> None:
    aml = section(monitored, "aml")
    # Suspicious: A1–A6. Ranked: A1 A2 A3 (0.9), then the 0.8 tie with the clean A7, A8
    # first and A6 last, then A4, A5 (0.3).
    assert aml["suspicious_accounts"] == 6
    assert aml["average_precision"] == pytest.approx((3 + 4 / 6 + 5 / 7 + 6 / 8) / 6)
    assert aml["precision_at_k"] == pytest.approx(4 / 6)


def test_a_clean_label_overrides_a_planted_transfer(tmp_path: Path) -> None:
    data = make_store(
        tmp_path / "data",
        customers(("c1", "P1")),
        accounts=ACCOUNTS,
        transfers=TRANSFERS,
        account_risk={"A1": 0.9},
    )
    truth = write_truth(
        tmp_path / "truth",
        suspicious_accounts=[
            {"account_id": "A1", "label": "0"},
            {"account_id": "A7", "label": "1"},
        ],
    )
    result = run(data, truth)
    aml = section(result, "aml")
    assert "recall" not in aml  # alert figures need laundering.csv, and the report says so
    notes = next(s for s in result.sections if s.name == "aml").notes
    assert any("need laundering.csv" in n for n in notes)
    assert aml["suspicious_accounts"] == 1
    # A7 (score 0) ties with the six other clean unalerted accounts and comes after them.
    assert aml["average_precision"] == pytest.approx(1 / 8)


DAY = 86_400_000


def test_recall_is_split_by_whether_a_pattern_fits_the_horizon(tmp_path: Path) -> None:
    # La: a loop over 12 days, found. Lb: a loop whose return comes 40 days after it left
    # (longer than the 30-day horizon of the stored default settings), missed. Lc: a
    # fan-in over one day, missed. Ld: a loop over 45 days that an alert found anyway.
    transfers = [
        ("a1", "A1", "A2", 0), ("a2", "A2", "A1", 12 * DAY),
        ("b1", "A3", "A4", 0), ("b2", "A4", "A3", 40 * DAY),
        ("c1", "A5", "A7", 0), ("c2", "A6", "A7", DAY),
        ("d1", "A8", "A9", 0), ("d2", "A9", "A8", 45 * DAY),
    ]  # fmt: skip
    data = make_store(
        tmp_path / "data",
        customers(("c1", "P1")),
        accounts=[f"A{i}" for i in range(1, 10)],
        transfers=transfers,
        alerts=[("R1", "cycle", 0.9, ["a1", "a2"]), ("R4", "cycle", 0.7, ["d1"])],
        account_risk={"A1": 0.9, "A2": 0.9},
    )
    laundering = [
        {"pattern_key": key, "typology": typology, "tx_id": key.lower()[1] + tx}
        for key, typology in (("La", "cycle"), ("Lb", "cycle"), ("Lc", "fan_in"), ("Ld", "cycle"))
        for tx in ("1", "2")
    ]
    result = run(data, write_truth(tmp_path / "truth", laundering=laundering))
    aml = section(result, "aml")
    assert aml["horizon_days"] == 30.0
    assert aml["recall_by_typology"]["cycle"] == {"patterns": 3, "found": 2, "recall": 2 / 3}
    assert aml["recall_within_horizon"] == {
        "cycle": {"patterns": 1, "found": 1, "recall": 1.0, "longer": 2, "found_longer": 1},
        "fan_in": {"patterns": 1, "found": 0, "recall": 0.0, "longer": 0, "found_longer": 0},
    }
    section_ = next(s for s in result.sections if s.name == "aml")
    assert any("30-day horizon" in caption for caption, _ in section_.tables)


# -- folders, files and stores that cannot be validated -----------------------------------


def test_an_empty_truth_folder_measures_nothing(tmp_path: Path) -> None:
    data = make_store(tmp_path / "data", customers(("c1", "P1")))
    (tmp_path / "truth").mkdir()
    result = run(data, tmp_path / "truth")
    assert result.sections == []
    write_report(result, tmp_path / "report")
    metrics = json.loads((tmp_path / "report" / "metrics.json").read_text(encoding="utf-8"))
    assert list(metrics) == ["about"]
    assert metrics["about"]["truth_files"] == []
    assert "nothing was compared" in (tmp_path / "report" / "report.md").read_text()


def test_an_unanalysed_store_is_refused(tmp_path: Path) -> None:
    data = make_store(tmp_path / "data", customers(("c1", "P1")), analysed=False)
    truth = write_truth(tmp_path / "truth", persons=[{"customer_id": "c1", "person_key": "A"}])
    with pytest.raises(ValidationError, match="run `relgraph analyze` first"):
        run(data, truth)


@pytest.mark.parametrize(
    ("name", "rows", "message"),
    [
        ("persons", [{"customer_id": "c1", "person": "A"}], "lacks the column"),
        ("laundering", [{"pattern_key": "L1", "typology": "smurfing", "tx_id": "t1"}], "smurfing"),
        ("suspicious_accounts", [{"account_id": "A1", "label": "可疑"}], "line 2: label must be"),
        ("persons", [{"customer_id": "c1", "person_key": ""}], "line 2: every one of"),
    ],
)
def test_a_bad_truth_file_names_its_problem(
    tmp_path: Path, name: str, rows: list[dict[str, str]], message: str
) -> None:
    write_truth(tmp_path, **{name: rows})
    with pytest.raises(TruthError, match=message):
        read_truth(tmp_path)


def test_a_missing_truth_folder_says_what_to_give(tmp_path: Path) -> None:
    with pytest.raises(TruthError, match=r"does not exist: give the folder holding persons\.csv"):
        read_truth(tmp_path / "nope")


def test_a_store_without_alerts_finds_nothing_and_has_no_precision(tmp_path: Path) -> None:
    data = make_store(
        tmp_path / "data", customers(("c1", "P1")), accounts=ACCOUNTS, transfers=TRANSFERS
    )
    result = run(data, write_truth(tmp_path / "truth", laundering=LAUNDERING))
    aml = section(result, "aml")
    assert (aml["alerts"], aml["patterns_found"], aml["recall"]) == (0, 0, 0.0)
    assert aml["alert_precision"] is None
    assert aml["background_fpr"] == 0.0
    # Every account scores 0: the six suspicious ones rank after the two clean ones.
    assert aml["average_precision"] == pytest.approx(sum(i / (i + 2) for i in range(1, 7)) / 6)
    write_report(result, tmp_path / "report")
    assert json.loads((tmp_path / "report" / "metrics.json").read_text())["aml"]["alerts"] == 0
