"""``relgraph audience --format contacts``: one row per contact as a campaign system imports
it, unmasked and audited; ``--bom``; the sidecar with the contact guard's warnings."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from relgraph.cli import app
from relgraph.graph import build_projection
from relgraph.jobs.analyze import analyze
from relgraph.store.embedded import EmbeddedStore
from tests import valuebank
from tests.banks import load, write_bank

runner = CliRunner()


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("contacts")
    load(valuebank.write(folder / "bank"), folder / "data")
    with EmbeddedStore(folder / "data") as store:
        analyze(store, build_projection(store))
        records = store.read_frame("customers", ["customer_id", "person_id"])
    return {
        "data": folder / "data",
        "person_of": dict(zip(records["customer_id"], records["person_id"], strict=True)),
    }


def _export(data: Path, criteria: dict[str, Any], out: Path, *extra: str) -> Any:
    spec = out.parent / "criteria.json"
    spec.write_text(json.dumps(criteria), encoding="utf-8")
    return runner.invoke(
        app,
        ["audience", "--criteria", str(spec), "--out", str(out), "--data-dir", str(data), *extra],
    )


def test_contacts_csv_has_one_row_per_contact_unmasked_and_audited(
    analysed: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "contacts.csv"
    # Unit names are case-insensitive in a criteria file written by hand.
    result = _export(analysed["data"], {"unit": "household", "minSize": 2}, out,
                     "--format", "contacts", "--bom")  # fmt: skip
    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel set to Chinese reads UTF-8 with the mark
    with out.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    person_of = analysed["person_of"]
    by_party = {r["party_id"]: r for r in rows}
    assert sorted(by_party) == sorted({person_of["W-CORE"], person_of["L-CORE"]})
    wang = by_party[person_of["W-CORE"]]
    assert wang["customer_ids"] == "core:W-CORE;loan:W-LOAN"
    assert (wang["phone"], wang["channel"], wang["last_contact"]) == (
        "13800000001",
        "sms",
        "2026-05-01",
    )
    assert (wang["unit"], wang["party_kind"], wang["consent_marketing"]) == (
        "HOUSEHOLD",
        "person",
        "true",
    )
    li = by_party[person_of["L-CORE"]]
    assert (li["customer_ids"], li["email"], li["channel"]) == (
        "core:L-CORE;card:L-CARD",
        "li.na@example.cn",
        "",
    )
    assert wang["unit_id"] == li["unit_id"]
    # The operator's tool writes details unmasked, so the trail says so and names every id.
    line = json.loads((analysed["data"] / "audit.log").read_text().splitlines()[-1])
    assert (line["operation"], line["format"], line["contact_details"]) == (
        "audience export",
        "contacts",
        "unmasked",
    )
    # Two persons and their household; four records.
    assert (line["ids_count"], line["customer_ids"]) == (3, 4)
    about = json.loads((tmp_path / "contacts.csv.json").read_text(encoding="utf-8"))
    assert (about["format"], about["rows"], about["entries"], about["csv_bom"]) == (
        "contacts",
        2,
        1,
        True,
    )


def test_parquet_keeps_customer_ids_as_lists(analysed: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "contacts.parquet"
    result = _export(analysed["data"], {"unit": "HOUSEHOLD", "minSize": 2}, out,
                     "--format", "contacts")  # fmt: skip
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out)
    wang = frame[frame["party_id"] == analysed["person_of"]["W-CORE"]].iloc[0]
    assert list(wang["customer_ids"]) == ["core:W-CORE", "loan:W-LOAN"]


def test_a_stale_contact_guard_warns_on_the_console_and_in_the_sidecar(
    analysed: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "audience.csv"
    criteria = {"unit": "HOUSEHOLD", "notContactedWithinDays": 90, "asOf": "2026-11-30"}
    result = _export(analysed["data"], criteria, out)
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "warning: notContactedWithinDays 90: the newest contact on record (2026-05-01)" in flat
    about = json.loads((tmp_path / "audience.csv.json").read_text(encoding="utf-8"))
    (warning,) = about["warnings"]
    assert "older than the window checked (from 2026-09-02)" in warning
    assert about["format"] == "households"


def test_an_unknown_format_is_a_one_line_error(analysed: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "audience.csv"
    result = _export(analysed["data"], {"unit": "HOUSEHOLD"}, out, "--format", "xlsx")
    assert result.exit_code == 2
    assert "--format must be one of households, contacts, not 'xlsx'." in result.stderr
    assert not out.exists()


def test_contacts_csv_quotes_a_signed_formula_and_keeps_a_signed_phone(tmp_path: Path) -> None:
    # A source system wrote an e-mail a spreadsheet runs (OWASP's ``-2+3+cmd|…``) and a phone
    # with its country code: the first is shown as text, the second kept as written.
    hostile = "-2+3+cmd|' /C calc'!A0"
    bank = dict(valuebank.BANK)
    bank["customers"] = [
        {**row, "email": hostile, "phone": "+86 138 0000 0002"}
        if row["customer_id"] == "L-CORE"
        else row
        for row in valuebank.CUSTOMERS
    ]
    load(write_bank(tmp_path / "bank", bank), tmp_path / "data")
    with EmbeddedStore(tmp_path / "data") as store:
        analyze(store, build_projection(store))
    out = tmp_path / "contacts.csv"
    result = _export(tmp_path / "data", {"unit": "HOUSEHOLD", "minSize": 2}, out,
                     "--format", "contacts")  # fmt: skip
    assert result.exit_code == 0, result.output
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    li = next(r for r in rows if r["customer_ids"] == "core:L-CORE;card:L-CARD")
    assert (li["email"], li["phone"]) == ("'" + hostile, "+86 138 0000 0002")
