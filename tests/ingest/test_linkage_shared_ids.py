"""Records carrying one id number that a record contradicts: never merged, offered for review."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from relgraph.ingest.linkage import Resolution, resolve
from relgraph.ingest.linkage_unblocked import shared_id_pairs
from relgraph.store.embedded import EmbeddedStore
from tests.banks import load, write_bank
from tests.ingest.test_linkage import ZHANG, _bank, _record, resident_id

LUNAR = pd.Timestamp("1985-02-03").value // 10**6  # 1985-03-15 by the lunar calendar
SOLAR = pd.Timestamp("1985-03-15").value // 10**6


def _records(rows: list[tuple[str, str, str | None, int | None, str | None]]) -> pd.DataFrame:
    """customer_id, name_norm, id_number_norm, birth_date (epoch ms), gender."""
    frame = pd.DataFrame(
        rows, columns=["customer_id", "name_norm", "id_number_norm", "birth_date", "gender"]
    )
    return frame.assign(phone_norm=None, email_norm=None, address_norm=None)


def _band(result: Resolution) -> list[tuple[str, str, str]]:
    possible = result.possible
    return sorted(
        (min(a, b), max(a, b), r)
        for a, b, r in zip(
            possible["customer_a"], possible["customer_b"], possible["reason"], strict=True
        )
    )


def test_a_birth_date_contradicting_a_shared_id_is_offered_for_review_not_merged() -> None:
    # The same man, his lunar birthday typed on his card record: the id is no evidence on
    # that record, so the model alone scores the pair (a name, two birth dates) — below the
    # band — and the shared number is why a reviewer sees it.
    records = _records(
        [("Z1", "zhang wei", ZHANG, SOLAR, "M"), ("Z2", "zhang wei", ZHANG, LUNAR, "M")]
    )
    result = resolve(records)
    assert result.person_id[0] != result.person_id[1]
    assert result.id_problems.tolist() == [None, "birth_date_mismatch"]
    assert _band(result) == [("Z1", "Z2", "shared_id_number")]
    score = float(result.possible["score"].iloc[0])
    assert 0 < score < 0.5
    assert '"comparison": "name"' in result.possible["evidence"].iloc[0]


def test_a_reviewers_different_or_a_hard_rule_keeps_the_pair_out() -> None:
    records = _records(
        [("Z1", "zhang wei", ZHANG, SOLAR, "M"), ("Z2", "zhang wei", ZHANG, LUNAR, "M")]
    )
    assert resolve(records, different=frozenset({("Z2", "Z1")})).possible.empty
    # A father's id on his daughter's record: names and birth dates both clearly differ.
    child = _records(
        [("Z1", "zhang wei", ZHANG, SOLAR, "M"), ("Z3", "li xiaomei", ZHANG, 1262304000000, "F")]
    )
    result = resolve(child)
    assert result.id_problems.tolist() == [None, "birth_date_mismatch"]
    assert result.possible.empty
    assert result.person_id[0] != result.person_id[1]


def test_one_question_per_record_and_person() -> None:
    # Two records of one person (one valid id) and a third carrying the id with the sex
    # digit's other sex: one pair for the reviewer, not one per record of the person.
    records = _records(
        [
            ("Z1", "zhang wei", ZHANG, SOLAR, "M"),
            ("Z2", "zhang wei", ZHANG, None, None),
            ("Z3", "zhang wei", ZHANG, SOLAR, "F"),
        ]
    )
    result = resolve(records)
    assert result.person_id[0] == result.person_id[1] != result.person_id[2]
    [(a, b, reason)] = _band(result)
    assert reason == "shared_id_number"
    assert "Z3" in (a, b)


def test_shared_id_pairs_skips_valid_pairs_other_problems_and_popular_numbers() -> None:
    other = resident_id("44030319950505101")
    ids = pd.Series([ZHANG, ZHANG, other, other, "1.10105E+17", "1.10105E+17", ZHANG])
    why = pd.Series(
        [None, "sex_mismatch", None, None, "scientific_notation", "scientific_notation", None]
    )
    pairs = shared_id_pairs(ids, why, 50)
    # 0–6 both agree with the number (one person by the hard rule): not a question.
    assert sorted(zip(pairs["i_l"], pairs["i_r"], strict=True)) == [(0, 1), (1, 6)]
    assert shared_id_pairs(ids, why, 2).empty  # three records carry ZHANG: no identifier
    legacy = pd.Series(["110105491231002", "11010519491231002X"])
    assert len(shared_id_pairs(legacy, pd.Series([None, "birth_date_mismatch"]), 50)) == 1


def test_the_load_stores_the_reason_and_reports_the_count(tmp_path: Path) -> None:
    records = [
        _record("C1", "core", "张伟", id_number=ZHANG, birth_date="1985-03-15", gender="M"),
        _record("K1", "card", "张伟", id_number=ZHANG, birth_date="1985-02-03", gender="M"),
        _record("C2", "core", "李娜", birth_date="1990-01-01", gender="F", phone="13800001111"),
    ]
    report = load(write_bank(tmp_path / "bank", _bank(records)), tmp_path / "data")
    assert report.identity is not None
    assert report.identity.possible_duplicates == 1
    assert report.identity.possible_shared_id == 1
    with EmbeddedStore(tmp_path / "data", read_only=True) as store:
        band = store.read_table("possible_duplicates").to_pylist()
    assert [(r["customer_a"], r["customer_b"], r["reason"]) for r in band] in (
        [("C1", "K1", "shared_id_number")],
        [("K1", "C1", "shared_id_number")],
    )
    assert band[0]["duplicate_id"].startswith("D")


def test_review_band_asks_once_per_pair_of_clusters() -> None:
    from relgraph.ingest.linkage_unblocked import review_band

    # Records 0 and 1 are one cluster; 2 carries their id number, contradicted; 3 and 4 are
    # another cluster that 2 is in the band with already (pair 2–3 by its score).
    a = np.array([0, 1, 2, 2, 0], np.int64)
    b = np.array([2, 2, 3, 4, 1], np.int64)
    banded = np.array([False, False, True, False, False])
    offered = np.array([True, True, False, True, False])
    p = np.array([0.01, 0.2, 0.6, 0.3, 0.999])
    label = np.array([0, 0, 1, 2, 2], np.int64)
    review, reason = review_band(a, b, banded, offered, p, label)
    assert review.tolist() == [False, True, True, False, False]
    assert reason[review].tolist() == ["shared_id_number", "score"]


def test_two_check_valid_numbers_a_record_contradicts_are_two_people() -> None:
    # Two 张伟 born the same day, on one phone and address (a family business), with two
    # numbers whose check characters are right; the card system keyed both as M while both
    # numbers are a woman's. The contradiction made each number no evidence, and name, birth
    # date, phone and address merged them; with the sex right they stayed two. The check
    # character says the numbers were typed right: two numbers, two people.
    first, second = resident_id("11010519850315248"), resident_id("11010519850315438")
    records = _records(
        [("Z1", "张伟", first, SOLAR, "M"), ("Z2", "张伟", second, SOLAR, "M")]
    ).assign(phone_norm="13900000001", address_norm="上海市浦东新区世纪大道100号")
    result = resolve(records)
    assert result.id_problems.tolist() == ["sex_mismatch", "sex_mismatch"]
    assert result.person_id[0] != result.person_id[1]
    assert result.possible.empty
    # A reviewer who knows better still decides.
    same = resolve(records, same=frozenset({("Z1", "Z2")}))
    assert same.person_id[0] == same.person_id[1]
