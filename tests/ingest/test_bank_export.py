"""A Chinese bank's own export (tests/fixtures/bank-export-zh) loads through its mapping file.

The fixture is shaped like a core-banking + card + ECIF extract: Chinese file names and
headers, a GB18030 file, an Excel file with a byte-order mark, the bank's codes (男/女,
是/否, 正常, 配偶, 法定代表人, 60%), compact Beijing-time timestamps, full-width digits and
thousands separators. Every expected value below is worked out by hand from the files.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from relgraph.ingest import LoadReport
from relgraph.ingest.load import META_SOURCE_SYSTEMS
from relgraph.store.embedded import EmbeddedStore

from .conftest import load

FIXTURE = Path(__file__).parents[1] / "fixtures" / "bank-export-zh"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[LoadReport, Path]:
    source = tmp_path_factory.mktemp("export") / "bank-export-zh"
    shutil.copytree(FIXTURE, source)
    data_dir = tmp_path_factory.mktemp("data")
    return load(source, data_dir), data_dir


def _rows(data_dir: Path, table: str, key: str) -> dict[str, dict[str, Any]]:
    with EmbeddedStore(data_dir, read_only=True) as store:
        rows = store.read_table(table).to_pylist()
    return {str(row[key]): row for row in rows}


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).astimezone(UTC).timestamp() * 1000)


def test_the_gbk_customer_file_loads_with_the_banks_codes(loaded: tuple[LoadReport, Path]) -> None:
    _, data_dir = loaded
    customers = _rows(data_dir, "customers", "customer_id")
    zhang = customers["K001"]
    assert (zhang["name"], zhang["gender"], zhang["consent_marketing"]) == ("张伟", "M", True)
    assert zhang["birth_date"] == _ms("1985-03-15T00:00:00+00:00")
    assert (zhang["segment"], zhang["risk_rating"], zhang["source_system"]) == (
        "affluent",
        "low",
        "core",
    )
    assert zhang["address"] == "北京市朝阳区建国路88号"
    card = customers["K002"]
    assert (card["name"], card["source_system"], card["consent_marketing"]) == (
        "ZHANG WEI",
        "card",
        False,
    )
    assert customers["K003"]["source_system"] == "ecif"
    assert customers["K005"]["gender"] == "F"
    assert customers["K007"]["risk_rating"] == "high"


def test_the_banks_source_systems_and_precedence_are_used(
    loaded: tuple[LoadReport, Path],
) -> None:
    _, data_dir = loaded
    customers = _rows(data_dir, "customers", "customer_id")
    # K003 (ECIF, 李娜) and K004 (core, 李 娜) share an id number: one person, named
    # from the ECIF record because the bank ranks ECIF above core.
    assert customers["K003"]["person_id"] == customers["K004"]["person_id"]
    persons = _rows(data_dir, "persons", "person_id")
    assert persons[customers["K003"]["person_id"]]["name"] == "李娜"
    assert persons[customers["K001"]["person_id"]]["name"] == "张伟"
    with EmbeddedStore(data_dir, read_only=True) as store:
        systems = json.loads(store.meta()[META_SOURCE_SYSTEMS])
    assert systems == ["ecif", "core", "card", "loan", "wealth"]


def test_constants_value_maps_and_formats_reach_the_store(
    loaded: tuple[LoadReport, Path],
) -> None:
    _, data_dir = loaded
    accounts = _rows(data_dir, "accounts", "account_id")
    first = accounts["6222000000000001"]
    assert (first["holder_kind"], first["product"], first["status"]) == (
        "customer",
        "deposit",
        "active",
    )
    assert first["opened_at"] == _ms("2015-03-01T00:00:00+00:00")
    assert accounts["6222000000000002"]["status"] == "dormant"
    assert accounts["6225880000000003"]["product"] == "card"
    with EmbeddedStore(data_dir, read_only=True) as store:
        holdings = store.read_table("shareholdings").to_pylist()
        positions = store.read_table("positions").to_pylist()
        family = store.read_table("family").to_pylist()
    shares = {(r["holder_id"], r["enterprise_id"]): r["share"] for r in holdings}
    assert shares == {("K001", "E001"): 0.6, ("E001", "E002"): 0.355, ("K004", "E002"): 0.4}
    assert {(r["customer_id"], r["role"]) for r in positions} == {
        ("K001", "legal_rep"),
        ("K003", "director"),
    }
    assert {r["relation"] for r in family} == {"spouse"}
    enterprises = _rows(data_dir, "enterprises", "enterprise_id")
    assert enterprises["E001"]["name"] == "北京华夏贸易有限公司"  # BOM file: first column found


def test_beijing_time_is_stored_as_utc(loaded: tuple[LoadReport, Path]) -> None:
    _, data_dir = loaded
    transfers = _rows(data_dir, "transfers", "tx_id")
    # 2024-01-06 10:15:00 in Beijing (UTC+8) is 02:15:00 UTC.
    assert transfers["T0001"]["ts"] == _ms("2024-01-06T02:15:00+00:00")
    assert transfers["T0002"]["ts"] == _ms("2024-01-07T15:59:59+00:00")
    assert transfers["T0001"]["currency"] == "CNY"


def test_no_row_is_lost(loaded: tuple[LoadReport, Path]) -> None:
    report, _ = loaded
    assert report.quarantined == 0
    assert report.rows_in == 7 + 2 + 5 + 3 + 3 + 2 + 2


def test_thousands_separators_load_as_numbers(loaded: tuple[LoadReport, Path]) -> None:
    _, data_dir = loaded
    assert _rows(data_dir, "customers", "customer_id")["K006"]["deposits"] == 1234567.89
    assert _rows(data_dir, "transfers", "tx_id")["T0003"]["amount"] == 1234.5


def test_full_width_digits_are_normalised(loaded: tuple[LoadReport, Path]) -> None:
    _, data_dir = loaded
    customers = _rows(data_dir, "customers", "customer_id")
    assert customers["K005"]["id_number_norm"] == "110101199001012344"
    assert customers["K003"]["phone_norm"] == customers["K004"]["phone_norm"]
    assert customers["K003"]["phone_norm"] is not None
