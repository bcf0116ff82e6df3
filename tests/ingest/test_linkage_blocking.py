"""Blocks over the cap pair none of their records, in every blocking rule."""

from __future__ import annotations

import logging

import duckdb
import pandas as pd
import pytest

from relgraph.ingest.linkage import LinkageParams, resolve
from relgraph.ingest.linkage_blocking import cap_blocks


def _pairs(frame: pd.DataFrame, rule: str) -> set[tuple[int, int]]:
    """The pairs a blocking rule generates (``l`` before ``r``), as Splink joins them."""
    con = duckdb.connect()
    con.register("records", frame)
    rows = con.execute(
        f"SELECT l.unique_id, r.unique_id FROM records l JOIN records r ON {rule} "
        "WHERE l.unique_id < r.unique_id"
    ).fetchall()
    return {(int(a), int(b)) for a, b in rows}


def test_a_surname_street_block_over_the_cap_pairs_nobody_and_a_small_one_is_kept() -> None:
    # Six Wangs on 人民路 (over a cap of 5) and two Lis on it; a Wang elsewhere.
    frame = pd.DataFrame(
        {
            "unique_id": range(9),
            "name_last": ["wang"] * 6 + ["li", "li", "wang"],
            "street": ["人民路"] * 8 + ["中山路"],
        }
    )
    rule = {"blocking_rule": "l.name_last = r.name_last AND l.street = r.street"}
    capped, rules, _ = cap_blocks(frame, [rule], cap=5)
    assert _pairs(frame, rule["blocking_rule"]) >= {(0, 1), (6, 7)}  # as written: 15 + 1 pairs
    assert _pairs(capped, rules[0]["blocking_rule"]) == {(6, 7)}
    # Within the cap the rule is left exactly as written.
    same, kept, _ = cap_blocks(frame, [rule], cap=6)
    assert kept == [rule]
    assert list(same.columns) == list(frame.columns)


def test_a_rule_crossing_given_name_and_surname_counts_both_sides_of_its_block() -> None:
    # ``l.name_first = r.name_last``: a record whose given name is "wei" pairs with records
    # whose surname is "wei" on its street. Block "wei" on 人民路: 1 + 3 records.
    frame = pd.DataFrame(
        {
            "unique_id": range(6),
            "name_first": ["wei", "x1", "x2", "x3", "min", "y"],
            "name_last": ["zhang", "wei", "wei", "wei", "zhao", "min"],
            "street": ["人民路"] * 6,
        }
    )
    rule = {"blocking_rule": "l.name_first = r.name_last AND l.street = r.street"}
    assert _pairs(frame, rule["blocking_rule"]) == {(0, 1), (0, 2), (0, 3), (4, 5)}
    capped, rules, _ = cap_blocks(frame, [rule], cap=3)
    assert rules[0]["blocking_rule"] == "l.block_key_0_left = r.block_key_0_right"
    assert _pairs(capped, rules[0]["blocking_rule"]) == {(4, 5)}


def test_a_rule_of_another_shape_is_kept_and_said_to_be_uncapped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    frame = pd.DataFrame({"unique_id": range(3), "name": ["a", "a", "a"]})
    rule = {"blocking_rule": "levenshtein(l.name, r.name) <= 1"}
    with caplog.at_level(logging.WARNING):
        same, rules, _ = cap_blocks(frame, [rule], cap=1)
    assert rules == [rule]
    assert same is frame
    assert "not capped" in caplog.text


def _records(n_wang: int) -> pd.DataFrame:
    """``n_wang`` different Wangs in different flats of one building on 人民路, and two
    records of one Li Lei there (no id number) that share a phone and a birth date."""
    names = [f"王{chr(0x4E00 + 500 + i)}" for i in range(n_wang)] + ["李雷", "李雷"]
    n = len(names)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:03d}" for i in range(n)],
            "name_norm": names,
            "id_number_norm": [None] * n,
            "birth_date": [(3650 + 37 * i) * 86_400_000 for i in range(n_wang)]
            + [5000 * 86_400_000] * 2,
            "gender": ["M"] * n,
            "phone_norm": [f"1380000{i:04d}" for i in range(n_wang)] + ["13912345678"] * 2,
            "email_norm": [None] * n,
            "address_norm": [f"上海市黄浦区人民路100号1栋{101 + i}室" for i in range(n)],
        }
    )


def test_resolve_with_an_oversized_block_still_finds_the_person_other_rules_pair(
    caplog: pytest.LogCaptureFixture,
) -> None:
    records = _records(12)
    with caplog.at_level(logging.INFO):
        result = resolve(records, LinkageParams(block_cap=4))
    # The surname-and-street rules were capped (12 Wangs on 人民路), Splink took the rewritten
    # rules without complaint, and the phone and birth date still made Li Lei one person.
    assert "blocks over 4 records skipped" in caplog.text
    assert "Missing column" not in caplog.text
    assert result.person_id[-1] == result.person_id[-2]
    assert len(set(result.person_id[:-2])) == 12


def test_records_that_share_no_key_are_resolved_without_building_a_linker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Building Splink's linker to predict no pair was 0.4–0.6 s of every small load."""
    import relgraph.ingest.linkage as linkage
    from relgraph.ingest.linkage_pairs import no_pairs, predict_pairs
    from relgraph.ingest.linkage_training import _linker, _without_frequencies, settings

    records = _strangers()
    prepared = _linkage_frame(records)
    rules = settings()["blocking_rules_to_generate_predictions"]
    assert not cap_blocks(prepared, rules, 10).pairs
    assert cap_blocks(_linkage_frame(_records(0)), rules, 10).pairs  # Li Lei twice
    # What the prediction would have been: Splink's own columns and types, no row, with
    # term-frequency adjustment and without it (a small bank's shipped model).
    for model in (settings(), _without_frequencies(settings())):
        splink = predict_pairs(_linker(prepared, model))
        assert splink.empty
        assert list(no_pairs(model).dtypes.items()) == list(splink.dtypes.items())

    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("a linker was built")

    monkeypatch.setattr(linkage, "_linker", refused)
    result = resolve(records)
    assert len(set(result.person_id)) == 3
    assert result.possible.empty


def _strangers() -> pd.DataFrame:
    """Three records that share no blocking key: other names, days, phones and towns."""
    return pd.DataFrame(
        {
            "customer_id": ["C000", "C001", "C002"],
            "name_norm": ["张伟", "李娜", "陈静"],
            "id_number_norm": [None] * 3,
            "birth_date": [d * 86_400_000 for d in (3650, 5000, 7000)],
            "gender": ["M", "F", "F"],
            "phone_norm": ["13800000001", "13900000002", "13700000003"],
            "email_norm": [None] * 3,
            "address_norm": [
                "上海市黄浦区人民路100号1栋101室",
                "北京市海淀区中关村大街5号",
                "广州市天河区体育西路8号2栋3室",
            ],
        }
    )


def _linkage_frame(records: pd.DataFrame) -> pd.DataFrame:
    import relgraph.ingest.linkage as linkage

    return linkage._prepare(records, LinkageParams())[0]


def test_a_same_decision_between_records_that_share_no_key_is_still_scored_and_followed() -> None:
    result = resolve(_strangers(), same=frozenset({("C000", "C001")}))
    assert result.person_id[0] == result.person_id[1] != result.person_id[2]
    assert result.unapplied == []
