"""Files that hold customers' personal data are their owner's alone, whatever the umask.

Before: under the usual umask 0022 a load left ``relgraph.duckdb`` and every
``quarantine/<table>.csv`` (refused rows whole: name, id number, phone, address, raw line)
at 0644 in folders at 0755, for every account on the machine to read.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from relgraph.journal import CHAIN_REVIEW, Journal
from tests.banks import load, write_bank
from tests.ingest.conftest import bank_tables


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The umask most systems run services with: files 0644, folders 0755."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("open_umask")
def test_the_store_and_quarantine_of_a_load_are_readable_by_their_owner_alone(
    tmp_path: Path,
) -> None:
    tables = bank_tables()
    tables["customers"][1]["segment"] = "vip"  # refused: quarantined with its id, name, phone
    data = tmp_path / "data"
    assert load(write_bank(tmp_path / "bank", tables), data).quarantined == 1
    quarantined = data / "quarantine" / "customers.csv"
    assert "110105-19720610-333X" in quarantined.read_text(encoding="utf-8")
    assert {
        "data dir": mode(data),
        "store": mode(data / "relgraph.duckdb"),
        "quarantine dir": mode(data / "quarantine"),
        "quarantine file": mode(quarantined),
    } == {"data dir": 0o700, "store": 0o600, "quarantine dir": 0o700, "quarantine file": 0o600}


@pytest.mark.usefixtures("open_umask")
def test_a_store_and_quarantine_left_open_by_an_earlier_release_are_closed_by_the_next_load(
    tmp_path: Path,
) -> None:
    tables = bank_tables()
    tables["customers"][1]["segment"] = "vip"
    bank, data = write_bank(tmp_path / "bank", tables), tmp_path / "data"
    load(bank, data)
    for path, old in [
        (data / "relgraph.duckdb", 0o644),
        (data / "quarantine", 0o755),
        (data / "quarantine" / "customers.csv", 0o644),
    ]:
        path.chmod(old)
    tables["transfers"][1]["amount"] = "x"  # a changed input: a new load, not "unchanged"
    load(write_bank(bank, tables), data)
    assert mode(data / "relgraph.duckdb") == 0o600
    assert mode(data / "quarantine") == 0o700
    assert mode(data / "quarantine" / "customers.csv") == 0o600


@pytest.mark.usefixtures("open_umask")
def test_the_journal_folder_is_its_owners_alone(tmp_path: Path) -> None:
    Journal(tmp_path).append(CHAIN_REVIEW, [{"chain_id": "X1", "status": "OPEN"}], by="cli:test")
    folder = tmp_path / "journal"
    assert mode(folder) == 0o700
    assert all(mode(p) == 0o600 for p in folder.glob("*.jsonl"))


@pytest.mark.usefixtures("open_umask")
def test_every_file_a_load_leaves_is_its_owners_alone(tmp_path: Path) -> None:
    # The README's move instructions say files are 0600 in 0700 folders: load-report.json
    # and the trained linkage model were written by the umask, 0644.
    data = tmp_path / "data"
    load(write_bank(tmp_path / "bank", bank_tables()), data)
    assert (data / "load-report.json").exists()
    modes = {str(p.relative_to(data)): mode(p) for p in data.rglob("*")}
    assert {p: m for p, m in modes.items() if m not in (0o600, 0o700)} == {}
