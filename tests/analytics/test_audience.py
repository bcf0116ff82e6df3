"""Campaign audiences on a hand-made bank whose right audiences are written out.

Four families, richest first by household AUM:

* Qian Hao (1,000,000 AUM) lives alone and refused marketing: no one to contact, so
  no entry.
* Wang (900,000): Wang Wei and his declared spouse Li Na consented; their son Wang
  Xiao did not (``NO_CONSENT``). Products deposit, card, wealth; gap: loan.
* Zhao (600,000): Zhao Gang consented; Zhao Mei consented too, but her account R3 is
  the middle of a fast layering chain R1 → … → R5 through new accounts
  (``RISK_FLAGGED``). Products deposit; gap: card, loan, wealth.
* Sun (200,000): Sun Bo consented; Sun Li consented, but shares a private phone with
  Ma Rui, who holds the chain's account R4: same hidden network (``NETWORK_RISK``).
* Zhou (100,000): both consented; Zhou Jie was called on 2026-06-12, Zhou Min on
  2026-01-05 (``RECENTLY_CONTACTED`` for Zhou Jie under a 30-day guard on 2026-06-20).

The chain's other holders are each alone, flagged, and never in an audience.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from relgraph.analytics.audience import (
    AudienceError,
    Criteria,
    campaign_audience,
)
from relgraph.analytics.audience_source import AudienceSource
from relgraph.graph import build_projection
from relgraph.ingest import load_directory
from relgraph.jobs.analyze import analyze
from relgraph.jobs.audience import audience_source, export
from relgraph.store.embedded import EmbeddedStore
from tests.banks import Rows, copy_data, loaded_synthetic, write_bank


def _person(
    cid: str, name: str, address: str, aum: float, consent: str, **extra: Any
) -> dict[str, Any]:
    row = {"customer_id": cid, "source_system": "core", "name": name, "id_number": cid,
           "address": address, "aum": f"{aum:.0f}", "consent_marketing": consent}  # fmt: skip
    row.update(extra)
    return row


CUSTOMERS: Rows = [
    _person("QIAN", "Qian Hao", "1 Lake Rd", 1_000_000, "false", products="wealth"),
    _person("WANG1", "Wang Wei", "2 Lake Rd", 500_000, "true", products="deposit;wealth"),
    _person("LI", "Li Na", "2 Lake Rd", 300_000, "yes", products="card"),
    _person("WANG2", "Wang Xiao", "2 Lake Rd", 100_000, "no"),
    _person("ZHAO1", "Zhao Gang", "3 Lake Rd", 400_000, "true", products="deposit"),
    _person("ZHAO2", "Zhao Mei", "3 Lake Rd", 200_000, "true", products="deposit"),
    _person("SUN1", "Sun Li", "4 Lake Rd", 150_000, "true", phone="13900000044"),
    _person("SUN2", "Sun Bo", "4 Lake Rd", 50_000, "true"),
    _person("ZHOU1", "Zhou Jie", "5 Lake Rd", 80_000, "true"),
    _person("ZHOU2", "Zhou Min", "5 Lake Rd", 20_000, "true"),
    _person("MA", "Ma Rui", "9 Hill Rd", 0, "true", phone="13900000044"),
    *(_person(f"M{i}", f"Mule{i} X", f"{10 + i} Hill Rd", 0, "true") for i in (1, 2, 5)),
]  # fmt: skip

HOLDERS = {"R1": "M1", "R2": "M2", "R3": "ZHAO2", "R4": "MA", "R5": "M5"}
CHAIN_TIMES = ["2026-06-10T08:00:00", "2026-06-10T09:00:00", "2026-06-10T12:00:00",
               "2026-06-10T16:00:00"]  # fmt: skip
AMOUNTS = [100_000.0, 97_000.0, 93_000.0, 90_000.0]

BANK: dict[str, Rows] = {
    "customers": CUSTOMERS,
    "enterprises": [{"enterprise_id": "E1", "name": "Lake Trading"}],
    "accounts": [
        *(
            {
                "account_id": a,
                "holder_id": h,
                "holder_kind": "customer",
                "product": "deposit",
                "opened_at": "2026-05-20",
            }
            for a, h in HOLDERS.items()
        ),
        {"account_id": "EA", "holder_id": "E1", "holder_kind": "enterprise", "product": "loan"},
    ],
    "family": [{"customer_id": "WANG1", "relative_id": "LI", "relation": "spouse"}],
    "transfers": [
        {
            "tx_id": f"T{i}",
            "from_account": f"R{i + 1}",
            "to_account": f"R{i + 2}",
            "amount": f"{AMOUNTS[i]:.2f}",
            "currency": "CNY",
            "ts": CHAIN_TIMES[i],
        }
        for i in range(4)
    ],
    "contacts": [
        {
            "contact_id": "K1",
            "party_id": "ZHOU1",
            "party_kind": "customer",
            "ts": "2026-06-12T10:00:00",
            "channel": "phone",
        },
        {
            "contact_id": "K2",
            "party_id": "ZHOU2",
            "party_kind": "customer",
            "ts": "2026-01-05T10:00:00",
            "channel": "email",
        },
        {
            "contact_id": "K3",
            "party_id": "E1",
            "party_kind": "enterprise",
            "ts": "2026-06-01T10:00:00",
            "channel": "branch",
        },
    ],
}

ON = "2026-06-20"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("audience")
    source = write_bank(folder / "bank", BANK)
    with EmbeddedStore(folder / "data") as store:
        report = load_directory(source, store, folder / "data")
        assert report.quarantined == 0
        analyze(store, build_projection(store))
    return folder / "data"


@pytest.fixture(scope="module")
def source(data_dir: Path) -> AudienceSource:
    with EmbeddedStore(data_dir, read_only=True) as store:
        return audience_source(store)


@pytest.fixture(scope="module")
def person_of(data_dir: Path) -> dict[str, str]:
    """Customer id → person id."""
    with EmbeddedStore(data_dir, read_only=True) as store:
        records = store.read_frame("customers", ["customer_id", "person_id"])
    return dict(zip(records["customer_id"], records["person_id"], strict=True))


def _entries(source: AudienceSource, person_of: dict[str, str], **criteria: Any) -> pd.DataFrame:
    frame = campaign_audience(source, Criteria("HOUSEHOLD", **criteria)).frame()
    customer_of = {p: c for c, p in person_of.items()}
    frame["contacts"] = [sorted(customer_of[p] for p in ids) for ids in frame["contacts"]]
    return frame


def test_the_household_audience_leaves_out_risk_and_refusals(
    source: AudienceSource, person_of: dict[str, str]
) -> None:
    frame = _entries(source, person_of)
    assert frame["contacts"].tolist() == [
        ["LI", "WANG1"],
        ["ZHAO1"],
        ["SUN2"],
        ["ZHOU1", "ZHOU2"],
    ]
    assert frame["total_aum"].tolist() == [900_000, 600_000, 200_000, 100_000]
    excluded = frame[[c for c in frame.columns if c.startswith("excluded_")]]
    assert excluded.to_dict("records") == [
        {"excluded_risk_flagged": 0, "excluded_network_risk": 0, "excluded_no_consent": 1,
         "excluded_recently_contacted": 0},
        {"excluded_risk_flagged": 1, "excluded_network_risk": 0, "excluded_no_consent": 0,
         "excluded_recently_contacted": 0},
        {"excluded_risk_flagged": 0, "excluded_network_risk": 1, "excluded_no_consent": 0,
         "excluded_recently_contacted": 0},
        {"excluded_risk_flagged": 0, "excluded_network_risk": 0, "excluded_no_consent": 0,
         "excluded_recently_contacted": 0},
    ]  # fmt: skip
    wang = frame.iloc[0]
    assert wang["products"] == ["deposit", "card", "wealth"]
    assert wang["product_gap"] == ["loan"]
    assert wang["qualified_because"] == ["2 of 3 members can be contacted"]


def test_value_and_product_gap_criteria(source: AudienceSource, person_of: dict[str, str]) -> None:
    gap = _entries(source, person_of, lacks_products=("loan",), min_total_aum=500_000.0)
    assert gap["contacts"].tolist() == [["LI", "WANG1"], ["ZHAO1"]]
    assert gap.iloc[1]["qualified_because"] == [
        "total AUM 600,000.00 ≥ 500,000.00",
        "no member holds loan",
        "1 of 2 members can be contacted",
    ]
    held = _entries(source, person_of, has_products=("wealth",), min_size=2, max_size=3)
    assert held["contacts"].tolist() == [["LI", "WANG1"]]  # Qian holds wealth, nobody to call
    assert held.iloc[0]["qualified_because"][0] == "size 3 within 2–3"


def test_a_lower_risk_ceiling_and_the_contact_guard(
    source: AudienceSource, person_of: dict[str, str]
) -> None:
    score = source.parties.risk.max()
    assert 0.5 <= score < 1  # the chain is above the layering threshold
    above = _entries(source, person_of, risk_ceiling=min(1.0, score + 0.01))
    assert ["ZHAO1", "ZHAO2"] in above["contacts"].tolist()
    guarded = _entries(
        source, person_of, not_contacted_within_days=30, as_of=pd.Timestamp(ON).date()
    )
    zhou = guarded[guarded["unit_id"] == guarded["unit_id"].iloc[-1]].iloc[0]
    assert zhou["contacts"] == ["ZHOU2"]
    assert zhou["excluded_recently_contacted"] == 1
    # 200 days back reaches Zhou Min's call too: nobody left, no entry.
    longer = _entries(
        source, person_of, not_contacted_within_days=200, as_of=pd.Timestamp(ON).date()
    )
    assert ["ZHOU2"] not in longer["contacts"].tolist()
    assert len(longer) == 3


def test_criteria_errors_say_what_to_change(source: AudienceSource) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({}, "unit is required"),
        ({"unit": "PERSON"}, "unit must be one of HOUSEHOLD, CORPORATE_GROUP"),
        ({"unit": "HOUSEHOLD", "lacksProducts": ["yacht"]}, "unknown product 'yacht'"),
        ({"unit": "HOUSEHOLD", "hasProducts": ["loan"], "lacksProducts": ["loan"]}, "both held and lacked"),
        ({"unit": "HOUSEHOLD", "minTotalAum": -1}, "minTotalAum must be a number ≥ 0"),
        ({"unit": "HOUSEHOLD", "minSize": 3, "maxSize": 2}, "maxSize must be ≥ minSize"),
        ({"unit": "HOUSEHOLD", "riskCeiling": 0}, "riskCeiling must be in (0, 1]"),
        ({"unit": "HOUSEHOLD", "notContactedWithinDays": 0}, "notContactedWithinDays must be 1–3650"),
        ({"unit": "HOUSEHOLD", "asOf": "20th June"}, "asOf must be a date"),
        ({"unit": "HOUSEHOLD", "colour": "red"}, "Unknown criteria colour"),
        ({"unit": "CORPORATE_GROUP", "minTotalAum": 1}, "minTotalAum applies to households"),
    ]  # fmt: skip
    for data, message in cases:
        with pytest.raises(AudienceError, match=message.replace("(", r"\(").replace(")", r"\)")):
            Criteria.from_mapping(data)


def test_the_contact_guard_warns_without_contacts(tmp_path: Path) -> None:
    bank = {k: v for k, v in BANK.items() if k != "contacts"}
    source_dir = write_bank(tmp_path / "bank", bank)
    with EmbeddedStore(tmp_path / "data") as store:
        load_directory(source_dir, store, tmp_path / "data")
        analyze(store, build_projection(store))
        source = audience_source(store)
    guarded = campaign_audience(source, Criteria("HOUSEHOLD", not_contacted_within_days=30))
    assert len(guarded) == 4  # nobody left out as recently contacted: there is nothing to check
    (warning,) = guarded.warnings
    assert "the contacts table is empty" in warning
    assert campaign_audience(source, Criteria("HOUSEHOLD")).warnings == ()


def test_the_contact_guard_warns_when_contacts_are_stale(source: AudienceSource) -> None:
    # The newest contact is 2026-06-12: a 90-day window ending 2026-11-30 checks nothing.
    stale = Criteria("HOUSEHOLD", not_contacted_within_days=90, as_of=date(2026, 11, 30))
    found = campaign_audience(source, stale)
    (warning,) = found.warnings
    assert "newest contact on record (2026-06-12) is older than the window" in warning
    assert found.excluded[:, 3].sum() == 0
    fresh = Criteria("HOUSEHOLD", not_contacted_within_days=30, as_of=date.fromisoformat(ON))
    assert campaign_audience(source, fresh).warnings == ()


def test_the_contact_guard_warns_when_as_of_is_before_the_contacts(
    source: AudienceSource,
) -> None:
    # The oldest contact is 2026-01-05: a 30-day window ending 2025-12-01 checks nothing.
    early = Criteria("HOUSEHOLD", not_contacted_within_days=30, as_of=date(2025, 12, 1))
    found = campaign_audience(source, early)
    (warning,) = found.warnings
    assert "oldest contact on record (2026-01-05) is after the window checked" in warning
    assert "(up to 2025-12-01)" in warning
    assert found.excluded[:, 3].sum() == 0
    reaching = Criteria("HOUSEHOLD", not_contacted_within_days=30, as_of=date(2026, 1, 5))
    assert campaign_audience(source, reaching).warnings == ()
    # A year before 1970 (a typo for 2026) is named as typed, not as "None".
    (warning,) = campaign_audience(
        source, Criteria("HOUSEHOLD", not_contacted_within_days=30, as_of=date(1926, 1, 5))
    ).warnings
    assert "(up to 1926-01-05)" in warning


def test_the_contact_guard_counts_a_contact_in_the_window_before_a_later_one(
    tmp_path: Path,
) -> None:
    # Zhou Jie was called on 2026-01-10 as well as on 2026-06-12: a 30-day guard as of
    # 2026-01-20 leaves him out for the January call (the June one, after asOf, once hid it).
    january = {"contact_id": "K4", "party_id": "ZHOU1", "party_kind": "customer",
               "ts": "2026-01-10T10:00:00", "channel": "phone"}  # fmt: skip
    bank = {**BANK, "contacts": [*BANK["contacts"], january]}
    with EmbeddedStore(tmp_path / "data") as store:
        load_directory(write_bank(tmp_path / "bank", bank), store, tmp_path / "data")
        analyze(store, build_projection(store))
        source = audience_source(store)
        records = store.read_frame("customers", ["customer_id", "person_id"])
    person_of = dict(zip(records["customer_id"], records["person_id"], strict=True))
    guarded = _entries(source, person_of, not_contacted_within_days=30, as_of=date(2026, 1, 20))
    # Zhou Min (2026-01-05) and Zhou Jie are both left out: no one to call, no entry.
    assert ["ZHOU1"] not in guarded["contacts"].tolist()
    assert len(guarded) == 3
    assert guarded["excluded_recently_contacted"].sum() == 0


def test_corporate_group_audience_of_a_synthetic_bank(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # generate(3_000, 9), loaded once for this test and test_groups'; analysed in a copy.
    loaded = loaded_synthetic(tmp_path_factory, 3_000, 9)[1]
    with EmbeddedStore(copy_data(loaded, tmp_path / "data")) as store:
        analyze(store, build_projection(store))
        source = audience_source(store)
        groups = store.results_frame("corporate_groups")
    assert groups is not None
    found = campaign_audience(source, Criteria("CORPORATE_GROUP", min_exposure=1.0)).frame()
    assert len(found) > 0
    assert found["exposure"].is_monotonic_decreasing
    assert (found["exposure"] >= 1.0).all()
    assert found["total_aum"].isna().all()
    assert (
        found["contact_count"] + found.filter(like="excluded_").sum(axis=1) == found["size"]
    ).all()
    assert set(found["unit_id"]) <= set(groups["group_id"])


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_export_writes_the_same_rows(source: AudienceSource, tmp_path: Path, suffix: str) -> None:
    audience = campaign_audience(source, Criteria("HOUSEHOLD"))
    written = export(audience, tmp_path / f"audience{suffix}")
    if suffix == ".parquet":
        back = pd.read_parquet(tmp_path / "audience.parquet")
        assert [list(c) for c in back["contacts"]] == written["contacts"].tolist()
    else:
        back = pd.read_csv(tmp_path / "audience.csv")
        assert back["contacts"].str.split(";").tolist() == written["contacts"].tolist()
    assert back["unit_id"].tolist() == written["unit_id"].tolist()
    assert not list(tmp_path.glob(".*partial"))
    with pytest.raises(AudienceError, match=r"must end in \.csv or \.parquet"):
        export(audience, tmp_path / "audience.xlsx")


def test_a_csv_gives_amounts_as_decimals_to_the_fen(tmp_path: Path) -> None:
    # A group's exposure of 150 billion yuan was written 1.5e+11.
    from relgraph.jobs.audience import _write_csv

    frame = pd.DataFrame(
        {
            "unit_id": ["G1", "H1", "H2"],
            "total_aum": pd.array([None, 1200.5, 0.1 + 0.2], dtype="Float64"),
            "deposits": [123_456_789_012_345.67, 1200.5, -3.0],
            "exposure": [1.5e11, 0.0, 7.0],
        }
    )
    _write_csv(frame, tmp_path / "a.csv")
    lines = (tmp_path / "a.csv").read_text("utf-8").splitlines()
    assert lines[1:] == [
        '"G1",,123456789012345.67,150000000000.00',
        '"H1",1200.50,1200.50,0.00',
        '"H2",0.30,-3.00,7.00',
    ]


def test_the_last_day_a_date_can_hold_is_refused_as_as_of() -> None:
    """``asOf: "9999-12-31"`` counts the whole day, up to a midnight no date can hold: it was
    an internal error (OverflowError) for any key that may ask for an audience."""
    from relgraph.analytics.audience import parse_as_of

    with pytest.raises(AudienceError, match="asOf must be a day before 9999-12-31"):
        parse_as_of("9999-12-31")
    with pytest.raises(AudienceError, match="asOf must be a day before"):
        Criteria.from_mapping({"unit": "HOUSEHOLD", "asOf": "9999-12-31"})
    assert str(parse_as_of("9999-12-30")) == "9999-12-30"


def test_as_of_is_a_day_or_a_moment_in_the_display_zone(
    source: AudienceSource, person_of: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import date, datetime, timedelta, timezone

    from relgraph.analytics.audience import parse_as_of

    beijing = timezone(timedelta(hours=8))
    assert parse_as_of("2026-06-20") == date(2026, 6, 20)
    naive = parse_as_of("2026-06-20T10:00:00")
    assert isinstance(naive, datetime)
    assert naive.utcoffset() == timedelta(hours=8)
    assert parse_as_of("2026-06-20T02:00:00Z") == naive
    assert (
        Criteria.from_mapping({"unit": "HOUSEHOLD", "asOf": "2026-06-20T10:00:00"}).as_of == naive
    )
    # The whole day (in the display zone) and the moment at its end give the same audience.
    day = pd.Timestamp(ON).date()
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), beijing)
    by_day = _entries(source, person_of, not_contacted_within_days=30, as_of=day)
    by_moment = _entries(source, person_of, not_contacted_within_days=30, as_of=end)
    assert by_day["contacts"].tolist() == by_moment["contacts"].tolist()


def test_a_refusal_on_a_record_in_identity_review_keeps_its_person_off_the_list(
    tmp_path: Path,
) -> None:
    # 赵敏's card record (her name, sex and phone) says 否 but is still in identity review
    # with her core record, which consented: it may be her own refusal. Until a reviewer
    # says they are two people, the audience must not export her, with that very phone.
    from tests import valuebank

    bank = {name: [dict(row) for row in rows] for name, rows in valuebank.BANK.items()}
    for row in bank["customers"]:
        if row["customer_id"] == "Z-CARD":
            row["consent_marketing"] = "否"
    with EmbeddedStore(tmp_path / "data") as store:
        load_directory(write_bank(tmp_path / "bank", bank), store, tmp_path / "data")
        analyze(store, build_projection(store))
        source = audience_source(store)
        person_of = dict(store.read_frame("customers", ["customer_id", "person_id"]).values)
    assert person_of["Z-CORE"] != person_of["Z-CARD"]
    found = campaign_audience(source, Criteria("HOUSEHOLD")).frame()
    contacts = {p for members in found["contacts"] for p in members}
    assert person_of["Z-CORE"] not in contacts
    assert person_of["W-CORE"] in contacts  # the others' consent is untouched
