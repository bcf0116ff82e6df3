"""Loads that are safe: a load that lost a table, or too much of one, is refused (exit 3) and
the last good load stays byte for byte; ``--dry-run`` writes nothing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from relgraph.cli import app
from relgraph.ingest import load_directory
from relgraph.ingest.refusal import LoadRefusedError
from relgraph.store.embedded import EmbeddedStore
from tests.banks import Rows, companies, people

from .conftest import bank_tables, load, write_bank

runner = CliRunner()
REJECTED = ("load-report.rejected.json", "quarantine.rejected")


def _flat(output: str) -> str:
    return " ".join(output.split())


def _files(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (path relative to it) with the SHA-256 of its bytes."""
    if not folder.exists():
        return {}
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _without_rejected(files: dict[str, str]) -> dict[str, str]:
    return {name: digest for name, digest in files.items() if not name.startswith(REJECTED)}


def _bank(folder: Path, n: int, bad: int, *, value: str = "abc") -> Path:
    """``n`` customers, the first ``bad`` of them with an ``aum`` that is no number."""
    customers: Rows = people(*(f"C{i:04d}" for i in range(n)))
    for row in customers[:bad]:
        row["aum"] = value
    return write_bank(folder, {"customers": customers, "enterprises": companies("E1")})


def _load(source: Path, data: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return runner.invoke(app, ["load", str(source), "--data-dir", str(data), *args], env=env)


@pytest.fixture
def loaded(tmp_path: Path) -> Path:
    """A data folder holding a good load of 200 customers, 3 of them quarantined."""
    data = tmp_path / "data"
    result = _load(_bank(tmp_path / "good", 200, 3), data)
    assert result.exit_code == 0, result.output
    return data


def test_a_load_that_refuses_every_customer_leaves_the_good_load_byte_for_byte(
    tmp_path: Path, loaded: Path
) -> None:
    before = _files(loaded)
    assert "relgraph.duckdb" in before
    assert "quarantine/customers.csv" in before

    result = _load(_bank(tmp_path / "bad", 150, 150), loaded)

    assert result.exit_code == 3, result.output
    said = _flat(result.output)
    assert (
        "load refused, the store keeps its last good load: every row of customers "
        "(150 of 150) was quarantined (bad_number 150)"
    ) in said
    assert f"{loaded / 'load-report.rejected.json'}" in said
    assert f"{loaded / 'quarantine.rejected'}/" in said
    assert "fix the export" in said
    assert "raise the limit" not in said  # no limit lets a table with no rows through
    assert "Traceback" not in result.output
    # The store file, load-report.json and quarantine/ are exactly as the good load left them.
    assert _without_rejected(_files(loaded)) == before
    with EmbeddedStore(loaded, read_only=True) as store:
        assert store.row_count("customers") == 197
    rejected = json.loads((loaded / "load-report.rejected.json").read_text("utf-8"))
    [refusal] = rejected["refusals"]
    assert refusal["table"] == "customers"
    assert refusal["rule"] == "all_refused"
    assert (refusal["rows_in"], refusal["quarantined"], refusal["share"]) == (150, 150, 1.0)
    assert refusal["top_reasons"] == {"bad_number": 150}
    lines = (loaded / "quarantine.rejected" / "customers.csv").read_text("utf-8").splitlines()
    assert len(lines) == 1 + 150
    assert "aum 'abc' is not a number" in lines[1]


def test_a_good_load_after_a_refused_one_removes_what_the_refusal_left(
    tmp_path: Path, loaded: Path
) -> None:
    assert _load(_bank(tmp_path / "bad", 120, 120), loaded).exit_code == 3
    assert (loaded / "quarantine.rejected").is_dir()

    result = _load(_bank(tmp_path / "fixed", 120, 0), loaded)

    assert result.exit_code == 0, result.output
    assert not (loaded / "load-report.rejected.json").exists()
    assert not (loaded / "quarantine.rejected").exists()
    with EmbeddedStore(loaded, read_only=True) as store:
        assert store.row_count("customers") == 120


def test_reloading_the_unchanged_good_input_after_a_refusal_clears_the_refusal(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    good = _bank(tmp_path / "good", 120, 0)
    assert _load(good, data).exit_code == 0
    assert _load(_bank(tmp_path / "bad", 120, 120), data).exit_code == 3
    assert (data / "load-report.rejected.json").exists()

    again = _load(good, data)

    assert again.exit_code == 0, again.output
    assert "unchanged" in again.output
    assert not (data / "load-report.rejected.json").exists()
    assert not (data / "quarantine.rejected").exists()


@pytest.mark.parametrize(
    ("rows", "bad", "refused"),
    [
        (100, 5, False),  # 5.0 %: at the limit
        (100, 6, True),  # 6.0 %: above it
        (1000, 51, True),  # 5.1 %
        (99, 98, False),  # under 100 rows only losing every row refuses
        (3, 3, True),  # ... which it does at any size
    ],
)
def test_the_quarantined_share_of_a_table_decides(
    tmp_path: Path, rows: int, bad: int, refused: bool
) -> None:
    source, data = _bank(tmp_path / "bank", rows, bad), tmp_path / "data"
    if not refused:
        report = load(source, data)
        assert report.tables[0].quarantined == bad
        assert report.refusals == []
        return
    with pytest.raises(LoadRefusedError) as caught:
        load(source, data)
    [refusal] = caught.value.report.refusals
    assert (refusal.table, refusal.rows_in, refusal.quarantined) == ("customers", rows, bad)
    assert refusal.share == pytest.approx(bad / rows)
    assert refusal.rule == ("all_refused" if bad == rows else "share")
    assert not (data / "load-report.json").exists()
    assert not (data / "quarantine").exists()


def test_a_refused_parent_table_is_named_with_the_tables_it_emptied(tmp_path: Path) -> None:
    tables = bank_tables()
    for row in tables["customers"]:
        row["gender"] = "X"  # a bad enum in every customer row
    result = _load(write_bank(tmp_path / "bank", tables), tmp_path / "data")
    assert result.exit_code == 3
    said = _flat(result.output)
    assert "every row of customers (3 of 3) was quarantined (bad_enum 3)" in said
    assert "and accounts, family, transfers too" not in said  # A3 belongs to an enterprise
    assert "and family, transfers too" in said


def test_the_flag_and_the_variable_set_the_limit(tmp_path: Path) -> None:
    source = _bank(tmp_path / "bank", 100, 6)
    data = tmp_path / "data"

    assert _load(source, data, env={"RELGRAPH_MAX_QUARANTINE_SHARE": "0.05"}).exit_code == 3
    refused = _load(source, data, "--max-quarantine-share", "0.05", env={
        "RELGRAPH_MAX_QUARANTINE_SHARE": "0.5"})  # fmt: skip  # the flag beats the variable
    assert refused.exit_code == 3
    said = _flat(refused.output)
    assert "customers had 6 of 100 rows quarantined (6.0%), above the limit of 5.0%" in said
    assert "raise the limit with --max-quarantine-share or RELGRAPH_MAX_QUARANTINE_SHARE" in said
    assert not (data / "load-report.json").exists()

    allowed = _load(source, data, env={"RELGRAPH_MAX_QUARANTINE_SHARE": "0.06"})
    assert allowed.exit_code == 0, allowed.output
    report = json.loads((data / "load-report.json").read_text("utf-8"))
    assert report["tables"][0]["quarantined"] == 6
    assert report["refusals"] == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("lots", "RELGRAPH_MAX_QUARANTINE_SHARE must be a number, not 'lots'"),
        ("1.5", "RELGRAPH_MAX_QUARANTINE_SHARE must be between 0 and 1"),
        ("-0.1", "RELGRAPH_MAX_QUARANTINE_SHARE must be between 0 and 1"),
    ],
)
def test_a_bad_limit_is_named_before_anything_is_read(
    tmp_path: Path, value: str, message: str
) -> None:
    result = _load(
        _bank(tmp_path / "bank", 10, 0),
        tmp_path / "data",
        env={"RELGRAPH_MAX_QUARANTINE_SHARE": value},
    )
    assert result.exit_code == 2
    assert message in _flat(result.output)
    assert not (tmp_path / "data").exists()


def test_a_header_only_customers_file_loads(tmp_path: Path) -> None:
    report = load(write_bank(tmp_path / "bank", {"enterprises": companies("E1")}), tmp_path / "d")
    assert report.refusals == []
    assert report.persons == 0
    assert report.identity is not None
    assert report.identity.records == 0


# -- dry run ---------------------------------------------------------------------------------


def test_a_dry_run_writes_nothing_and_reports_identity(tmp_path: Path, loaded: Path) -> None:
    source = write_bank(tmp_path / "bank", bank_tables())
    before = _files(loaded)
    listing = sorted(p.name for p in loaded.iterdir())

    # The small bank keeps under half the rows of the loaded one: refused, dry or not.
    shrunk = _load(source, loaded, "--dry-run")
    assert shrunk.exit_code == 3, shrunk.output
    assert "of the last good load" in _flat(shrunk.output)
    assert "--allow-shrink" in _flat(shrunk.output)
    result = _load(source, loaded, "--dry-run", "--allow-shrink")

    assert result.exit_code == 0, result.output
    said = _flat(result.output)
    assert "dry run of" in said
    assert "identity resolution" in said
    assert "persons with several records │ 1 │" in said  # C1 and C2 share an id number
    assert "dry run: nothing was written" in said
    assert _files(loaded) == before
    assert sorted(p.name for p in loaded.iterdir()) == listing


def test_a_dry_run_reports_what_the_load_then_does(tmp_path: Path) -> None:
    source = write_bank(tmp_path / "bank", bank_tables())
    data = tmp_path / "data"
    dry = load_directory(source, None, data, id_secret="s" * 32, dry_run=True)
    assert not data.exists()
    with EmbeddedStore(data) as store:
        real = load_directory(source, store, data, id_secret="s" * 32)
    assert dry.dry_run
    assert not real.dry_run
    assert dry.identity == real.identity
    assert dry.identity is not None
    assert (dry.identity.records, dry.identity.persons, dry.identity.merged_records) == (3, 2, 1)
    assert dry.tables == real.tables


def test_a_dry_run_before_the_first_load_creates_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = _load(write_bank(tmp_path / "bank", bank_tables()), data, "--dry-run")
    assert result.exit_code == 0, result.output
    assert not data.exists()


def test_a_dry_run_of_a_refused_input_exits_3_and_writes_nothing(
    tmp_path: Path, loaded: Path
) -> None:
    before = _files(loaded)
    result = _load(_bank(tmp_path / "bad", 100, 100), loaded, "--dry-run")
    assert result.exit_code == 3
    said = _flat(result.output)
    assert "dry run: nothing was written" in said
    assert (
        "a load of this input would be refused: every row of customers (100 of 100) was "
        "quarantined (bad_number 100)"
    ) in said
    assert _files(loaded) == before


@pytest.mark.parametrize("kept", [0, 49])
def test_an_export_cut_short_does_not_replace_the_good_load(
    tmp_path: Path, loaded: Path, kept: int
) -> None:
    # The good load kept 197 customers; a header-only file or one cut at 49 rows keeps
    # under half of them: the extract failed, the bank did not shrink overnight.
    before = _files(loaded)
    source = _bank(tmp_path / "cut", kept, 0)
    result = _load(source, loaded)
    assert result.exit_code == 3, result.output
    said = _flat(result.output)
    assert (
        f"load refused, the store keeps its last good load: customers would keep {kept} rows, "
    ) in said
    assert "of the 197 of the last good load" in said
    assert "--allow-shrink" in said
    assert {k: v for k, v in _files(loaded).items() if "rejected" not in k} == before
    forced = _load(source, loaded, "--allow-shrink")
    assert forced.exit_code == 0, forced.output
    with EmbeddedStore(loaded, read_only=True) as store:
        assert store.read_table("customers", ["customer_id"]).num_rows == kept


def test_a_table_that_grows_or_shrinks_a_little_loads(tmp_path: Path, loaded: Path) -> None:
    assert _load(_bank(tmp_path / "fewer", 120, 0), loaded).exit_code == 0  # 120 of 197


def _with_phones(folder: Path, n: int, column: str, filled: int) -> Path:
    customers = people(*(f"C{i:04d}" for i in range(n)))
    for i, row in enumerate(customers):
        row[column] = f"1380013{i:04d}" if i < filled else ""
    return write_bank(folder, {"customers": customers, "enterprises": companies("E1")})


def test_a_renamed_column_does_not_empty_that_column_of_the_good_load(
    tmp_path: Path,
) -> None:
    # The export renamed phone to mobile: an unknown column, ignored; every row loads, and
    # the store would have lost all 200 phones without a word.
    data = tmp_path / "data"
    assert _load(_with_phones(tmp_path / "good", 200, "phone", 200), data).exit_code == 0
    before = _files(data)
    source = _with_phones(tmp_path / "renamed", 200, "mobile", 200)
    result = _load(source, data)
    assert result.exit_code == 3, result.output
    said = _flat(result.output)
    assert (
        "customers.phone would hold a usable value in 0 of 200 rows, against 200 of 200 in the "
        "last good load (a column the export renamed or dropped is ignored; one Excel "
        "mangled, as 1.38E+10, holds text but no value)"
    ) in said
    assert "map a renamed column in the mapping file" in said
    assert _without_rejected(_files(data)) == before
    assert _load(source, data, "--allow-shrink").exit_code == 0


def test_a_column_that_thins_a_little_or_was_sparse_loads(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert _load(_with_phones(tmp_path / "good", 200, "phone", 200), data).exit_code == 0
    assert _load(_with_phones(tmp_path / "fewer", 200, "phone", 120), data).exit_code == 0
    # 120 then: a column thinning from 120 to 50 of 200 rows is refused, one of 90 is not
    # judged at all (under 100 values).
    assert _load(_with_phones(tmp_path / "thin", 200, "phone", 50), data).exit_code == 3
    sparse = tmp_path / "sparse"
    assert _load(_with_phones(tmp_path / "s1", 200, "phone", 90), sparse).exit_code == 0
    assert _load(_with_phones(tmp_path / "s2", 200, "phone", 0), sparse).exit_code == 0


def test_a_column_excel_mangled_is_a_column_that_lost_its_values(tmp_path: Path) -> None:
    # Text in every row, a usable phone in none: 1.38E+10 names no one.
    data = tmp_path / "data"
    assert _load(_with_phones(tmp_path / "good", 200, "phone", 200), data).exit_code == 0
    mangled = people(*(f"C{i:04d}" for i in range(200)))
    for row in mangled:
        row["phone"] = "1.38E+10"
    source = write_bank(tmp_path / "excel", {"customers": mangled, "enterprises": companies("E1")})
    result = _load(source, data)
    assert result.exit_code == 3, result.output
    assert "customers.phone would hold a usable value in 0 of 200 rows" in _flat(result.output)


@pytest.mark.parametrize("report", ["deleted", "unreadable"])
def test_without_a_report_a_cut_export_is_judged_against_the_store(
    tmp_path: Path, loaded: Path, report: str
) -> None:
    # A store restored from a backup without its report, or a report gone bad, left the
    # guard with nothing to compare: the cut export replaced the store.
    path = loaded / "load-report.json"
    if report == "deleted":
        path.unlink()
    else:
        path.write_text("{", encoding="utf-8")
    result = _load(_bank(tmp_path / "cut", 49, 0), loaded)
    assert result.exit_code == 3, result.output
    assert "customers would keep 49 rows, 24.9% of the 197 of the last good load" in _flat(
        result.output
    )
    with EmbeddedStore(loaded, read_only=True) as store:
        assert store.row_count("customers") == 197
