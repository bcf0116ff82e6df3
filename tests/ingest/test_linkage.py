"""Identity resolution v2 on hand-made record sets whose right answer is written out."""

from __future__ import annotations

import re
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
TWIN_B = resident_id("44030319950505102")


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
    assert "name=same" in customers.loc["K1", "match_evidence"]
    assert "phone=same" in customers.loc["K1", "match_evidence"]
    assert np.isnan(customers.loc["T1", "match_score"])


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
    label = _clusters(
        3, a, b, p, p >= 0.99, 0.5, np.array([None] * 3, dtype=object), np.zeros(3, bool)
    )
    assert label[0] == label[1] != label[2]  # the stronger match wins, C stays apart


def test_a_chain_closes_when_every_pair_agrees() -> None:
    a = np.array([0, 1, 0])
    b = np.array([1, 2, 2])
    p = np.array([0.999, 0.995, 0.7])  # A~C only in the review band, but compatible
    label = _clusters(
        3, a, b, p, p >= 0.99, 0.5, np.array([None] * 3, dtype=object), np.zeros(3, bool)
    )
    assert label[0] == label[1] == label[2]


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
    assert row["evidence"] == "name=same;phone=same"


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
        ("0.995x", "RELGRAPH_IDENTITY_THRESHOLD must be a float, not '0.995x'"),
        ("-1", "threshold must not be negative, not -1.0"),
        ("0.3", "IDENTITY thresholds need 0 < review ≤ threshold < 1"),
    ],
)
def test_bad_settings_are_named(value: str, message: str) -> None:
    from relgraph.config import ConfigError

    with pytest.raises(ConfigError, match=re.escape(message)):
        LinkageParams.from_env({"RELGRAPH_IDENTITY_THRESHOLD": value})
