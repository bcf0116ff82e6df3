"""Identity resolution v2 on hand-made record sets whose right answer is written out."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from relgraph.ingest.linkage import LinkageParams, _clusters, resolve, valid_id_numbers
from relgraph.store.embedded import EmbeddedStore
from tests.banks import Rows, load, write_bank

_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])


def resident_id(first17: str) -> str:
    """A resident id number with the right check character."""
    total = int(np.dot([int(c) for c in first17], _WEIGHTS)) % 11
    return first17 + "10X98765432"[total]


LI = resident_id("11010519800101123")
TWIN_A = resident_id("44030319950505101")
TWIN_B = resident_id("44030319950505103")


def _record(cid: str, system: str, name: str, **extra: str) -> dict[str, str]:
    return {"customer_id": cid, "source_system": system, "name": name, **extra}


RECORDS: Rows = [
    # Li Na in core, and on a card with no id number and her phone written differently.
    _record("C1", "core", "Li Na", id_number=LI, birth_date="1980-01-01", gender="F",
            phone="13800001111", address="5 Lake Rd"),
    _record("K1", "card", "LI  NA", birth_date="1980-01-01", gender="F",
            phone="+86 138 0000 1111"),
    # Twins: one flat, one surname, one birthday, two valid id numbers.
    _record("T1", "core", "Zhao Lei", id_number=TWIN_A, birth_date="1995-05-05", gender="M",
            phone="13900002222", address="8 Hill Rd"),
    _record("T2", "core", "Zhao Lei", id_number=TWIN_B, birth_date="1995-05-05", gender="M",
            phone="13900002222", address="8 Hill Rd"),
]  # fmt: skip


def _bank(records: Rows) -> dict[str, Rows]:
    return {"customers": records, "enterprises": [{"enterprise_id": "E", "name": "E"}]}


def _persons(data: Path) -> dict[str, str]:
    with EmbeddedStore(data, read_only=True) as store:
        table = store.read_table("customers", ["customer_id", "person_id"]).to_pydict()
    return dict(zip(table["customer_id"], table["person_id"], strict=True))


def test_valid_id_numbers_check_the_check_character() -> None:
    assert valid_id_numbers(pd.Series([LI, LI[:-1] + "0", "G1234567", None, ""])).tolist() == [
        True, False, True, False, False,
    ]  # fmt: skip


def test_card_record_without_id_merges_and_twins_do_not(tmp_path: Path) -> None:
    load(write_bank(tmp_path / "bank", _bank(RECORDS)), tmp_path / "data")
    person = _persons(tmp_path / "data")
    assert person["C1"] == person["K1"]
    assert person["T1"] != person["T2"]
    with EmbeddedStore(tmp_path / "data", read_only=True) as store:
        customers = store.read_table("customers").to_pandas().set_index("customer_id")
        assert store.read_table("persons").num_rows == 3
    assert customers.loc["K1", "match_score"] >= 0.99
    evidence = _levels(customers.loc["K1", "match_evidence"])
    assert evidence["name"] == "same name"
    assert evidence["phone"] == "same phone"
    assert np.isnan(customers.loc["T1", "match_score"])


def _levels(evidence: str) -> dict[str, str]:
    """comparison → level of a stored waterfall (``match_evidence``)."""
    return {item["comparison"]: item["level"] for item in json.loads(evidence)}


def test_a_record_added_later_keeps_the_person_id(tmp_path: Path) -> None:
    first = [
        _record("K5", "card", "Sun Mei", birth_date="1990-02-02", gender="F", phone="13700003333")
    ]
    load(write_bank(tmp_path / "one", _bank(first)), tmp_path / "data")
    before = _persons(tmp_path / "data")["K5"]
    # A record with a smaller customer_id for the same person arrives, still without id number.
    later = [_record("A1", "loan", "SUN MEI", birth_date="1990-02-02", gender="F",
                     phone="137-0000-3333"), *first]  # fmt: skip
    load(write_bank(tmp_path / "two", _bank(later)), tmp_path / "data")
    after = _persons(tmp_path / "data")
    assert after["K5"] == after["A1"] == before


def test_a_chain_does_not_merge_strangers_through_one_record() -> None:
    # A~B and B~C are matches, A and C were never compared (they share nothing).
    a = np.array([0, 1])
    b = np.array([1, 2])
    p = np.array([0.999, 0.995])
    label = _clusters(3, a, b, p, p >= 0.99, p >= 0.5)
    assert label[0] == label[1] != label[2]  # the stronger match wins, C stays apart


def test_resolve_keeps_a_chain_apart_when_the_guard_scores_its_ends_against() -> None:
    # 张伟 A and B share a phone, B and C an e-mail; A and C share only the name (different
    # birth dates and sexes), so blocking never pairs them: the complete-linkage pass
    # scores A~C and must keep C out. A lower threshold makes this small example's
    # single-contact matches strong enough to chain; the guard is what is tested.
    ms = lambda day: int(pd.Timestamp(day).value // 10**6)  # noqa: E731
    rows = pd.DataFrame({
        "customer_id": ["A", "B", "C"], "name_norm": ["zhang wei"] * 3,
        "id_number_norm": [None] * 3, "birth_date": [ms("1980-01-01"), None, ms("1975-05-05")],
        "gender": ["M", None, "F"], "phone_norm": ["13800001111", "13800001111", None],
        "email_norm": [None, "zw@example.cn", "zw@example.cn"], "address_norm": [None] * 3,
    })  # fmt: skip
    r = resolve(rows, LinkageParams(threshold=0.9))
    assert r.person_id[0] == r.person_id[1] != r.person_id[2]
    # Nobody decided anything: no record's evidence may claim a reviewer's decision.
    for evidence in r.match_evidence:
        assert "decision" not in (evidence or "")


def test_a_chain_closes_when_every_pair_agrees() -> None:
    a = np.array([0, 1, 0])
    b = np.array([1, 2, 2])
    p = np.array([0.999, 0.995, 0.7])  # A~C only in the review band, but compatible
    label = _clusters(3, a, b, p, p >= 0.99, p >= 0.5)
    assert label[0] == label[1] == label[2]


def test_equally_strong_matches_cluster_the_same_in_any_pair_order() -> None:
    # C matches A and B equally; A and B are incompatible. Whichever match joins first
    # takes C: by record position that is A, however the database returned the pairs
    # (FEBRL3 gave rec-401-org to either half on reruns of one load).
    a = np.array([0, 1, 0])
    b = np.array([2, 2, 1])
    p = np.array([0.995, 0.995, 0.1])
    for order in ([0, 1, 2], [1, 0, 2], [2, 1, 0]):
        label = _clusters(3, a[order], b[order], p[order], p[order] >= 0.99, p[order] >= 0.5)
        assert label[0] == label[2] != label[1]


def test_possible_duplicates_are_kept_for_review_not_merged() -> None:
    records = pd.DataFrame(
        {
            "customer_id": ["A", "B"],
            "name_norm": ["wu fang", "wu fang"],
            "id_number_norm": [None, None],
            "birth_date": [100, None],
            "gender": ["F", None],
            "phone_norm": ["13600004444", "13600004444"],
            "email_norm": [None, None],
            "address_norm": [None, None],
        }
    )
    result = resolve(records, LinkageParams())
    assert result.person_id[0] != result.person_id[1]
    assert len(result.possible) == 1
    row = result.possible.iloc[0]
    assert 0.5 <= row["score"] < 0.99
    assert _levels(row["evidence"]) == {
        "prior": "prior", "name": "same name", "phone": "same phone"
    }  # fmt: skip


def test_a_possible_duplicate_names_its_records_in_the_same_order_whatever_the_files_order() -> (
    None
):
    # customerA was the record listed first in the file: the same pair read B, A from a
    # file in another order (27 of 53 pairs of a 10,000-record independent bank shuffled).
    records = pd.DataFrame(
        {
            "customer_id": ["B", "A"],
            "name_norm": ["wu fang", "wu fang"],
            "id_number_norm": [None, None],
            "birth_date": [None, 100],
            "gender": [None, "F"],
            "phone_norm": ["13600004444", "13600004444"],
            "email_norm": [None, None],
            "address_norm": [None, None],
        }
    )
    for rows in (records, records[::-1].reset_index(drop=True)):
        (pair,) = resolve(rows, LinkageParams()).possible[["customer_a", "customer_b"]].values
        assert pair.tolist() == ["A", "B"]


def test_v1_mode_merges_only_on_id_numbers(tmp_path: Path) -> None:
    with EmbeddedStore(tmp_path / "data") as store:
        from relgraph.ingest import load_directory

        load_directory(
            write_bank(tmp_path / "bank", _bank(RECORDS)), store, tmp_path / "data",
            linkage=LinkageParams(enabled=0),
        )  # fmt: skip
    person = _persons(tmp_path / "data")
    assert person["C1"] != person["K1"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0.995x", "RELGRAPH_IDENTITY_THRESHOLD must be a number, not '0.995x'"),
        ("-1", "RELGRAPH_IDENTITY_THRESHOLD must not be negative, not -1.0"),
        (
            "0.3",
            "IDENTITY thresholds need 0 < RELGRAPH_IDENTITY_REVIEW ≤ RELGRAPH_IDENTITY_THRESHOLD < 1",
        ),
    ],
)
def test_bad_settings_are_named(value: str, message: str) -> None:
    from relgraph.config import ConfigError

    with pytest.raises(ConfigError, match=re.escape(message)):
        LinkageParams.from_env({"RELGRAPH_IDENTITY_THRESHOLD": value})


# --- id numbers that are no evidence, names across scripts, shared phones -------------------

ZHANG = resident_id("11010519850315123")  # a man born 1985-03-15 (17th digit 3 is odd)


def _customers(data: Path) -> pd.DataFrame:
    with EmbeddedStore(data, read_only=True) as store:
        return store.read_table("customers").to_pandas().set_index("customer_id")


def test_three_strangers_sharing_an_excel_mangled_id_stay_three(tmp_path: Path) -> None:
    records = [
        _record("X1", "core", "王芳", id_number="1.10105E+17", birth_date="1970-02-03"),
        _record("X2", "core", "刘洋", id_number="1.10105E+17", birth_date="1981-06-07"),
        _record("X3", "loan", "陈静", id_number="1.10105E+17", birth_date="1992-10-11"),
    ]
    report = load(write_bank(tmp_path / "bank", _bank(records)), tmp_path / "data")
    person = _persons(tmp_path / "data")
    assert len({person["X1"], person["X2"], person["X3"]}) == 3
    assert report.identity is not None
    assert report.identity.invalid_id_numbers == {
        "core": {"scientific_notation": 2}, "loan": {"scientific_notation": 1}
    }  # fmt: skip


@pytest.mark.parametrize("missing", ["NULL", "nan", "\\N", "无", "-"])
def test_strangers_whose_export_writes_missing_as_a_word_stay_apart(
    tmp_path: Path, missing: str
) -> None:
    # One common name, two birth dates, and the export's word for "no value" in every
    # contact field: shared placeholders are no evidence, nor a shared Excel-mangled phone.
    records = [
        _record("N1", "card", "刘强", birth_date="1970-01-31", gender="M", email=missing,
                address=missing, phone="1.38E+10"),
        _record("N2", "loan", "刘强", birth_date="1971-05-02", gender="M", email=missing,
                address=missing, phone="1.38E+10"),
    ]  # fmt: skip
    load(write_bank(tmp_path / "bank", _bank(records)), tmp_path / "data")
    customers = _customers(tmp_path / "data")
    assert customers.loc["N1", "person_id"] != customers.loc["N2", "person_id"]
    assert (
        customers.loc[["N1", "N2"], ["email_norm", "address_norm", "phone_norm"]]
        .isna()
        .all(axis=None)
    )
    if missing in ("NULL", "\\N"):  # a database's null marker: no value in any column
        assert pd.isna(customers.loc["N1", "email"])
    else:  # a word: kept as written, no evidence
        assert customers.loc["N1", "email"] == missing


def test_a_wrong_check_character_never_merges(tmp_path: Path) -> None:
    wrong = ZHANG[:-1] + ("0" if ZHANG[-1] != "0" else "1")
    records = [
        _record("W1", "core", "赵敏", id_number=wrong, birth_date="1985-03-15"),
        _record("W2", "card", "孙丽", id_number=wrong, birth_date="1985-03-15"),
    ]
    report = load(write_bank(tmp_path / "bank", _bank(records)), tmp_path / "data")
    person = _persons(tmp_path / "data")
    assert person["W1"] != person["W2"]
    assert report.identity is not None
    assert report.identity.invalid_id_numbers == {
        "card": {"check_character": 1}, "core": {"check_character": 1}
    }  # fmt: skip


def test_hanzi_core_record_and_pinyin_card_record_with_one_phone_merge(tmp_path: Path) -> None:
    records = [
        _record("Z1", "core", "张伟", id_number=ZHANG, birth_date="1985-03-15", gender="M",
                phone="13812345678", address="北京市东城区和平里街道1号"),
        _record("Z2", "card", "ZHANG WEI", birth_date="1985-03-15", phone="+86 138 1234 5678"),
        _record("Z3", "card", "WEI  ZHANG", birth_date="1985-03-15", phone="+86 138 1234 5678"),
    ]  # fmt: skip
    load(write_bank(tmp_path / "bank", _bank(records)), tmp_path / "data")
    customers = _customers(tmp_path / "data")
    assert customers.loc["Z1", "person_id"] == customers.loc["Z2", "person_id"]
    assert customers.loc["Z2", "person_id"] == customers.loc["Z3", "person_id"]
    evidence = _levels(customers.loc["Z2", "match_evidence"])
    assert evidence["name"] == "same name in pinyin"
    assert evidence["phone"] == "same phone"


def test_common_name_strangers_with_one_birth_date_and_nothing_else_stay_apart(
    tmp_path: Path,
) -> None:
    records = [
        _record("S1", "core", "王伟", birth_date="1990-01-01", phone="13900000001",
                address="上海市浦东新区世纪大道100号"),
        _record("S2", "card", "王伟", birth_date="1990-01-01", phone="13600000002",
                address="广东省广州市天河区体育西路5号"),
        _record("S3", "wealth", "王伟", birth_date="1990-01-01"),
    ]  # fmt: skip
    load(write_bank(tmp_path / "bank", _bank(records)), tmp_path / "data")
    person = _persons(tmp_path / "data")
    assert len({person["S1"], person["S2"], person["S3"]}) == 3


def test_parent_and_child_on_one_phone_with_two_valid_ids_stay_apart(tmp_path: Path) -> None:
    parent = resident_id("32010219600101101")
    child = resident_id("32010219900101102")
    records = [
        _record("F1", "core", "李建国", id_number=parent, birth_date="1960-01-01", gender="M",
                phone="13700007777", address="江苏省南京市玄武区北京东路9号"),
        _record("F2", "core", "李建国", id_number=child, birth_date="1990-01-01", gender="F",
                phone="13700007777", address="江苏省南京市玄武区北京东路9号"),
    ]  # fmt: skip
    load(write_bank(tmp_path / "bank", _bank(records)), tmp_path / "data")
    person = _persons(tmp_path / "data")
    assert person["F1"] != person["F2"]


def test_a_shared_phone_alone_never_merges_different_names_and_birth_dates() -> None:
    records = _frame(
        [("P1", "chen hua", None, -315619200000, "13500001111"),
         ("P2", "zhou ming", None, 631152000000, "13500001111")]
    )  # fmt: skip
    result = resolve(records)
    assert result.person_id[0] != result.person_id[1]
    assert result.possible.empty


def test_a_legacy_15_digit_id_is_the_same_id_as_its_18_character_form() -> None:
    records = _frame(
        [("L1", "li na", "110105491231002", None, None),
         ("L2", "li na", "11010519491231002X", None, None)]
    )  # fmt: skip
    result = resolve(records)
    assert result.person_id[0] == result.person_id[1]


def test_id_numbers_contradicting_the_record_are_no_evidence() -> None:
    from relgraph.ingest.id_numbers import id_number_problems

    born_1985 = pd.Series([pd.Timestamp("1985-03-15").value // 10**6] * 2)
    problems = id_number_problems(
        pd.Series([ZHANG, ZHANG]), born_1985.where([False, True], 0), pd.Series(["M", "F"])
    )
    assert problems.tolist() == ["birth_date_mismatch", "sex_mismatch"]
    assert id_number_problems(pd.Series(["111111111111111111", "无", "NULL"])).tolist() == [
        "repeated_digits", "placeholder", "placeholder",
    ]  # fmt: skip


def test_decisions_override_the_model_both_ways() -> None:
    records = _frame(
        [("D1", "zhao lei", TWIN_A, None, "13900002222"),
         ("D2", "zhao lei", TWIN_B, None, "13900002222"),
         ("D3", "sun mei", None, 631152000000, "13700003333"),
         ("D4", "sun mei", None, 631152000000, "13700003333")]
    )  # fmt: skip
    plain = resolve(records)
    assert plain.person_id[0] != plain.person_id[1]
    assert plain.person_id[2] == plain.person_id[3]
    decided = resolve(records, same=frozenset({("D2", "D1")}), different=frozenset({("D3", "D4")}))
    assert decided.person_id[0] == decided.person_id[1]
    assert decided.person_id[2] != decided.person_id[3]
    assert _levels(decided.match_evidence[0])["decision"] == "same"
    assert decided.possible.empty


def test_a_trained_model_is_stored_and_reused_until_retrained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from relgraph.ingest import linkage

    monkeypatch.setattr(linkage, "MIN_TRAINING_RECORDS", 4)
    bank = write_bank(tmp_path / "bank", _bank(RECORDS))
    first = load(bank, tmp_path / "data")
    assert first.identity is not None
    assert first.identity.model == "em"
    assert linkage.model_path(tmp_path / "data").exists()
    more = write_bank(tmp_path / "more", _bank([*RECORDS, _record("N1", "loan", "Qian Yu")]))
    second = load(more, tmp_path / "data")
    assert second.identity is not None
    assert second.identity.model == "stored"
    with EmbeddedStore(tmp_path / "data") as store:
        from relgraph.ingest import load_directory

        third = load_directory(more, store, tmp_path / "data", retrain_linkage=True)
    assert third.identity is not None
    assert third.identity.model == "em"


def test_an_export_without_birth_dates_trains_and_loads(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # EM on a rule joining no pair used to leave its comparison out of the trained model,
    # and the load then failed on the missing birth-date level (KeyError 'gamma_birth_date').
    from relgraph.ingest import linkage

    surnames, given = "王李张刘陈杨赵黄周吴", "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"
    others = [
        _record(f"N{i}", "core", surnames[i % 10] + given[i // 10 % 20] + given[i // 200 % 20],
                id_number=resident_id(f"{310101 + i % 7:06d}{1960 + i % 40}{1 + i % 12:02d}"
                                      f"{1 + i % 28:02d}{i % 1000:03d}"),
                phone=f"139{i:08d}")
        for i in range(linkage.MIN_TRAINING_RECORDS)
    ]  # fmt: skip
    records = [{k: v for k, v in r.items() if k != "birth_date"} for r in [*RECORDS, *others]]
    report = load(write_bank(tmp_path / "bank", _bank(records)), tmp_path / "data")
    assert report.identity is not None
    assert report.identity.model == "em"
    model = json.loads(linkage.model_path(tmp_path / "data").read_text("utf-8"))
    assert "birth_date" in [c["output_column_name"] for c in model["comparisons"]]
    # The levels EM never met keep their shipped m: the report names them, and Splink's
    # "WARNING: Level … not observed in dataset" lines no longer reach the terminal.
    untrained = report.identity.untrained_levels
    assert "birth_date: same birth date" in untrained
    assert "not observed in dataset" not in capfd.readouterr().err
    persons = _persons(tmp_path / "data")
    assert persons["C1"] == persons["K1"]  # one phone, one name: still one person
    assert len({persons[f"N{i}"] for i in range(linkage.MIN_TRAINING_RECORDS)}) == len(others)


def _frame(rows: list[tuple[str, str, str | None, int | None, str | None]]) -> pd.DataFrame:
    """customer_id, name_norm, id_number_norm, birth_date (epoch ms), phone_norm."""
    frame = pd.DataFrame(
        rows, columns=["customer_id", "name_norm", "id_number_norm", "birth_date", "phone_norm"]
    )
    return frame.assign(gender=None, email_norm=None, address_norm=None)


def test_birth_dates_in_epoch_ms_become_days_and_nonsense_becomes_unknown() -> None:
    from relgraph.ingest.id_numbers import as_day

    ms = pd.Series([-1_199_145_600_000.0, 1_220_054_400_000.0 + 3_600_000, np.nan, 1e300, np.inf])
    days = as_day(ms)
    assert [str(d.date()) if not pd.isna(d) else None for d in days] == [
        "1932-01-02",
        "2008-08-30",
        None,
        None,
        None,
    ]
    # The same dates as ISO text (a CSV column typed later) give the same days.
    assert as_day(pd.Series(["1932-01-02", "2008-08-30"])).tolist() == days[:2].tolist()


def test_pinyin_with_tone_marks_is_the_same_name_as_hanzi_and_plain_pinyin(
    tmp_path: Path,
) -> None:
    # Wealth and card systems that write pinyin as the customer signs it: tone marks, and
    # ü for the 吕 that pypinyin (and a card emboss) spells lv.
    records = [
        _record("Z1", "core", "张伟", id_number=ZHANG, birth_date="1985-03-15", gender="M",
                phone="13812345678", address="北京市东城区和平里街道1号"),
        _record("Z2", "wealth", "Zhāng Wěi", birth_date="1985-03-15", gender="M",
                address="北京市东城区和平里街道1号"),
        _record("L1", "core", "吕芳", birth_date="1990-02-02", gender="F", phone="13900001234"),
        _record("L2", "card", "Lǚ Fāng", birth_date="1990-02-02", phone="139 0000 1234"),
        _record("L3", "card", "LÜ FANG", birth_date="1990-02-02", phone="13900001234"),
    ]  # fmt: skip
    load(write_bank(tmp_path / "bank", _bank(records)), tmp_path / "data")
    customers = _customers(tmp_path / "data")
    assert customers.loc["Z1", "person_id"] == customers.loc["Z2", "person_id"]
    assert _levels(customers.loc["Z2", "match_evidence"])["name"] == "same name in pinyin"
    assert customers.loc["L1", "person_id"] == customers.loc["L2", "person_id"]
    assert customers.loc["L1", "person_id"] == customers.loc["L3", "person_id"]


def test_the_trained_model_does_not_follow_the_order_of_the_customer_rows(
    tmp_path: Path,
) -> None:
    # Splink's random sampling (u) and EM's pair sample take rows by position: trained on
    # the rows as the file listed them, the same bank exported in another order got other
    # weights, and 2,185 of a 5,000-customer bank's records another match score and evidence.
    import csv

    from relgraph.ingest import linkage
    from relgraph.synth import generate

    bank = tmp_path / "bank"
    generate(1_000, 7, bank, "csv")
    shuffled = tmp_path / "shuffled"
    shutil.copytree(bank, shuffled)
    with (bank / "customers.csv").open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    assert len(rows) >= linkage.MIN_TRAINING_RECORDS
    with (shuffled / "customers.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows[1::2], *rows[::2][::-1]])
    models, scores = [], []
    for source in (bank, shuffled):
        data = tmp_path / f"data-{source.name}"
        report = load(source, data)
        assert report.identity is not None
        assert report.identity.model == "em"
        model = json.loads(linkage.model_path(data).read_text("utf-8"))
        del model["linker_uid"]  # Splink's random name for the linker, differs every run
        models.append(model)
        with EmbeddedStore(data, read_only=True) as store:
            customers = store.read_table("customers").to_pandas()
        scores.append(customers.set_index("customer_id")[["match_score", "match_evidence"]])
    assert models[0] == models[1]
    pd.testing.assert_frame_equal(scores[0].sort_index(), scores[1].sort_index())


def test_training_twice_on_the_same_records_gives_the_same_model(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    # DuckDB summed EM's expectations over pairs on several threads, in whichever order
    # they finished: two trainings on one bank differed in the last digits of m, u and the
    # chance of a match, so match scores and possible duplicates' scores did (29 of 53
    # pairs between two loads of a 10,000-record independent bank).
    from relgraph.ingest import linkage
    from tests.banks import loaded_synthetic

    with EmbeddedStore(loaded_synthetic(tmp_path_factory, 3_000, 9)[1], read_only=True) as store:
        records = store.read_table("customers").to_pandas()
    models = []
    for run in ("one", "two", "three"):
        resolve(records, data_dir=tmp_path / run)
        model = json.loads(linkage.model_path(tmp_path / run).read_text("utf-8"))
        del model["linker_uid"]  # Splink's random name for the linker, differs every run
        models.append(model)
    assert models[1] == models[0]
    assert models[2] == models[0]
