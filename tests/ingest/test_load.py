"""Loads are idempotent, atomic, account for every row, and resolve persons by id number."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest

from relgraph.ingest import load_directory, read_report
from relgraph.journal import CHAIN_REVIEW, Journal
from relgraph.store.embedded import EmbeddedStore
from relgraph.synth import generate
from tests.banks import resident_id

from .conftest import bank_tables, load, write_bank


def _snapshot(data_dir: Path) -> dict[str, pa.Table]:
    with EmbeddedStore(data_dir, read_only=True) as store:
        return {name: store.read_table(name) for name in store.table_names()}


def test_loaded_values_are_typed_and_normalised(tmp_path: Path, bank_dir: Path) -> None:
    load(bank_dir, tmp_path / "data")
    tables = _snapshot(tmp_path / "data")
    c1 = tables["customers"].to_pylist()[0]
    assert c1["birth_date"] == 76_982_400_000  # 1972-06-10 in epoch ms
    assert c1["aum"] == 1000.5
    assert c1["consent_marketing"] is True
    assert c1["name_norm"] == "li wei"
    assert c1["phone_norm"] == "13800138000"
    assert c1["email_norm"] == "li.wei@example.cn"
    assert c1["address_norm"] == "apartment 3 12 lianhua road futian district"
    assert c1["id_number_norm"] == "11010519720610333X"
    t2 = tables["transfers"].to_pylist()[1]
    assert t2["ts"] == 1_780_277_400_000  # 09:30 at +08:00 is 01:30 UTC
    assert tables["accounts"].column("balance").to_pylist() == [100.0, -5.0, None]


def test_identity_v1_merges_records_with_the_same_id_number(tmp_path: Path, bank_dir: Path) -> None:
    load(bank_dir, tmp_path / "data")
    tables = _snapshot(tmp_path / "data")
    person_of = dict(
        zip(
            tables["customers"].column("customer_id").to_pylist(),
            tables["customers"].column("person_id").to_pylist(),
            strict=True,
        )
    )
    # C1 and C2 write the same id number differently; C3 has none and stays alone.
    assert person_of["C1"] == person_of["C2"] != person_of["C3"]
    persons = {p["person_id"]: p for p in tables["persons"].to_pylist()}
    assert len(persons) == 2
    li = persons[person_of["C1"]]
    assert li["name"] == "Li  Wei"  # from the core record
    assert li["n_records"] == 2
    assert li["segment"] == "affluent"
    assert li["risk_rating"] == "medium"  # the worst of low and medium
    assert li["aum"] == 1000.5
    assert li["card_spend_12m"] == 50.25
    assert li["products"] == "card;deposit;wealth"
    assert li["consent_marketing"] is False  # the card record refuses marketing
    assert persons[person_of["C3"]]["products"] is None


def test_a_persons_amounts_are_one_systems_figure_never_a_sum(tmp_path: Path) -> None:
    # One customer in the core and the wealth system, both reporting the same 100,000 of AUM,
    # and a loan the core and the loan system both report (the loan system's is stale).
    tables = bank_tables()
    same = {"name": "Zhang San", "id_number": resident_id("11010519800101001")}
    tables["customers"] += [
        {"customer_id": "Z1", "source_system": "wealth", **same, "aum": "100000"},
        {"customer_id": "Z2", "source_system": "core", **same, "aum": "100000",
         "deposits": "40000", "loans": "300000", "card_spend_12m": "700"},
        {"customer_id": "Z3", "source_system": "loan", **same, "loans": "290000"},
        {"customer_id": "Z4", "source_system": "card", **same, "card_spend_12m": "900"},
    ]  # fmt: skip
    load(write_bank(tmp_path / "bank", tables), tmp_path / "data")
    stored = _snapshot(tmp_path / "data")
    records = stored["customers"].select(["customer_id", "person_id"]).to_pylist()
    person = {r["customer_id"]: r["person_id"] for r in records}
    assert len({person[c] for c in ("Z1", "Z2", "Z3", "Z4")}) == 1
    (zhang,) = [p for p in stored["persons"].to_pylist() if p["person_id"] == person["Z1"]]
    # Core's figures by precedence (not 200,000 and 590,000); card spend is the card system's.
    assert (zhang["aum"], zhang["deposits"], zhang["loans"]) == (100_000.0, 40_000.0, 300_000.0)
    assert zhang["card_spend_12m"] == 900.0


def test_person_ids_are_stable_when_records_are_added(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two data directories: one deployment secret, as when a deployment is moved.
    monkeypatch.setenv("RELGRAPH_ID_SECRET", "s" * 40)
    tables = bank_tables()
    load(write_bank(tmp_path / "a", tables), tmp_path / "data-a")
    tables["customers"].insert(0, {"customer_id": "C0", "source_system": "wealth", "name": "New"})
    load(write_bank(tmp_path / "b", tables), tmp_path / "data-b")
    before, after = (
        dict(zip(*(_snapshot(tmp_path / d)["customers"].select(["customer_id", "person_id"]).columns), strict=True))
        for d in ("data-a", "data-b")
    )  # fmt: skip
    assert {k: after[k] for k in before} == before


def test_reloading_the_same_files_changes_nothing(tmp_path: Path, bank_dir: Path) -> None:
    data = tmp_path / "data"
    first = load(bank_dir, data)
    before = _snapshot(data)
    report_bytes = (data / "load-report.json").read_bytes()
    second = load(bank_dir, data)
    assert second.unchanged
    assert not first.unchanged
    assert second.fingerprint == first.fingerprint
    after = _snapshot(data)
    assert before.keys() == after.keys()
    assert all(before[name].equals(after[name]) for name in before)
    assert (data / "load-report.json").read_bytes() == report_bytes


def test_a_forced_reload_writes_identical_tables(tmp_path: Path, bank_dir: Path) -> None:
    data = tmp_path / "data"
    load(bank_dir, data)
    before = _snapshot(data)
    (data / "load-report.json").unlink()  # no report: the fingerprint check cannot skip
    assert not load(bank_dir, data).unchanged
    after = _snapshot(data)
    assert all(before[name].equals(after[name]) for name in before)


def test_changed_input_replaces_the_previous_load(tmp_path: Path) -> None:
    tables = bank_tables()
    load(write_bank(tmp_path / "bank", tables), tmp_path / "data")
    del tables["family"]
    (tmp_path / "bank" / "family.csv").unlink()
    tables["transfers"].pop()
    report = load(write_bank(tmp_path / "bank", tables), tmp_path / "data")
    after = _snapshot(tmp_path / "data")
    assert after["family"].num_rows == 0
    assert after["transfers"].num_rows == 1
    assert next(t for t in report.tables if t.table == "family").file is None


class _BoomError(RuntimeError):
    pass


def test_a_failure_while_writing_leaves_the_last_good_state(
    tmp_path: Path, bank_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    load(bank_dir, data)
    before = _snapshot(data)
    report_before = (data / "load-report.json").read_bytes()

    tables = bank_tables()
    tables["customers"].append(
        {"customer_id": "C9", "source_system": "core", "name": "x", "aum": "-1"}
    )
    tables["transfers"] = tables["transfers"][:1]
    changed = write_bank(tmp_path / "changed", tables)

    # Fail after some tables were written inside the transaction (a disk error, say).
    real_register = __import__("duckdb").DuckDBPyConnection.register
    calls = Counter[str]()

    def failing_register(self: object, name: str, obj: object) -> object:
        calls[name] += 1
        if name == "_incoming" and calls[name] == 4:
            raise _BoomError("disk full")
        return real_register(self, name, obj)

    monkeypatch.setattr("duckdb.DuckDBPyConnection.register", failing_register)
    with EmbeddedStore(data) as store, pytest.raises(_BoomError):
        load_directory(changed, store, data)
    monkeypatch.undo()

    after = _snapshot(data)
    assert all(before[name].equals(after[name]) for name in before)
    assert (data / "load-report.json").read_bytes() == report_before
    assert list((data / "quarantine").iterdir()) == []  # the first load refused nothing
    assert not list(data.glob(".quarantine-*"))


_KILL_ME = """
import os, sys, time
from pathlib import Path
import duckdb
from relgraph.ingest import load_directory
from relgraph.store.embedded import EmbeddedStore

real = duckdb.DuckDBPyConnection.register
def register(self, name, obj):
    if name == "_incoming" and getattr(obj, "num_rows", 0) and "tx_id" in obj.column_names:
        print("writing", flush=True)
        time.sleep(60)  # killed here, mid-transaction
    return real(self, name, obj)
duckdb.DuckDBPyConnection.register = register
source, data = Path(sys.argv[1]), Path(sys.argv[2])
with EmbeddedStore(data) as store:
    load_directory(source, store, data)
"""


def _kill_when(script: str, said: str, source: Path, data: Path) -> None:
    """Run a load ``script`` in a child and SIGKILL it once it prints ``said``."""
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(source), str(data)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == said
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)


def test_a_load_killed_midway_leaves_the_last_good_state(tmp_path: Path, bank_dir: Path) -> None:
    data = tmp_path / "data"
    load(bank_dir, data)
    before = _snapshot(data)
    tables = bank_tables()
    tables["accounts"].pop()  # A3 gone: T2 will be refused
    changed = write_bank(tmp_path / "changed", tables)

    _kill_when(_KILL_ME, "writing", changed, data)

    after = _snapshot(data)  # DuckDB recovers the last committed state from its WAL
    assert all(before[name].equals(after[name]) for name in before)
    report = read_report(data)
    assert report is not None
    assert report.quarantined == 0
    # The next load goes through, and discards what the killed one staged.
    assert load(changed, data).quarantined == 1
    assert not list(data.glob(".quarantine-*"))
    assert not list(data.glob(".load-pending-*"))


_KILL_AFTER_COMMIT = """
import sys, time
from pathlib import Path
from relgraph.ingest import load_directory, quarantine
from relgraph.store.embedded import EmbeddedStore

def swap_in(*args, **kwargs):
    print("committed", flush=True)
    time.sleep(60)  # killed here: the store holds the load, the report does not yet
quarantine.swap_in = swap_in
source, data = Path(sys.argv[1]), Path(sys.argv[2])
with EmbeddedStore(data) as store:
    load_directory(source, store, data)
"""


def test_a_load_killed_after_its_commit_is_finished_by_the_next(
    tmp_path: Path, bank_dir: Path
) -> None:
    """The store committed, the report and quarantine not yet: the next load makes them
    match the store from what the killed one staged, without loading again."""
    data = tmp_path / "data"
    load(bank_dir, data)
    tables = bank_tables()
    tables["accounts"].pop()  # A3 gone: T2 will be refused
    changed = write_bank(tmp_path / "changed", tables)
    _kill_when(_KILL_AFTER_COMMIT, "committed", changed, data)
    stale = read_report(data)
    assert stale is not None
    assert stale.quarantined == 0, "the report still describes the first load"
    assert list(data.glob(".load-pending-*.json"))

    again = load(changed, data)
    assert again.unchanged, "finished from the staged report, not loaded again"
    assert again.quarantined == 1
    finished = read_report(data)
    assert finished is not None
    assert finished.quarantined == 1
    assert [p.name for p in (data / "quarantine").iterdir()] == ["transfers.csv"]
    assert not list(data.glob(".quarantine-*"))
    assert not list(data.glob(".load-pending-*"))


def test_a_load_killed_after_its_commit_is_finished_from_a_snapshot_restored_elsewhere(
    tmp_path: Path, bank_dir: Path
) -> None:
    """A disk snapshot taken between the commit and the report, restored after a reboot or
    on another machine, where the record's pid is some other live process. Before, the
    record was taken for a running load and skipped for as long as that process lived: the
    next load loaded again, the staged person-id map was never published (C3's new id
    without its map here) and the record stayed for good."""
    data = tmp_path / "data"
    load(bank_dir, data)
    tables = bank_tables()
    tables["customers"][2]["id_number"] = resident_id("44030419800131002")  # C3's id changes
    tables["accounts"].pop()
    changed = write_bank(tmp_path / "changed", tables)
    _kill_when(_KILL_AFTER_COMMIT, "committed", changed, data)
    (record,) = data.glob(".load-pending-*.json")
    record.rename(data / f".load-pending-{os.getppid()}.json")  # a live process, not a load
    again = load(changed, data)
    assert again.unchanged, "finished from the staged report, not loaded again"
    assert again.quarantined == 1
    (id_map,) = data.glob("person-id-map-*.csv")
    assert len(id_map.read_text().splitlines()) == 2  # the header and C3's old -> new id
    assert not list(data.glob(".load-pending-*"))
    assert not list(data.glob(".quarantine-*"))


@pytest.fixture(scope="module")
def dirty_bank(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("dirty")
    generate(3_000, 7, root / "bank", "csv", dirty=0.02)
    started = time.perf_counter()
    load(root / "bank", root / "data")
    assert time.perf_counter() - started < 60
    return root / "bank", root / "data"


def test_quarantine_holds_exactly_the_planted_bad_rows(dirty_bank: tuple[Path, Path]) -> None:
    bank, data = dirty_bank
    with (bank / "truth" / "dirty.csv").open(newline="") as handle:
        planted = {(r["table"], int(r["line"])): r["defect"] for r in csv.DictReader(handle)}
    found: dict[tuple[str, int], str] = {}
    for path in (data / "quarantine").glob("*.csv"):
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):
                found[(path.stem, int(row["source_line"]))] = row["reason"]
    assert planted, "the synthetic bank planted no bad rows"
    assert found.keys() == planted.keys()
    expected_code = {
        "bad_date": ("bad_date", "bad_timestamp"),
        "negative_number": ("out_of_range",),
        "non_numeric": ("bad_number",),
        "unknown_foreign_key": ("unknown_foreign_key",),
        "duplicate_key": ("duplicate_key",),
        "missing_required": ("missing_required",),
        "bad_enum": ("bad_enum",),
        "self_reference": ("self_reference",),
    }
    for key, defect in planted.items():
        assert found[key].split(":")[0] in expected_code[defect], (key, defect, found[key])


def test_every_row_is_loaded_or_quarantined(dirty_bank: tuple[Path, Path]) -> None:
    bank, data = dirty_bank
    report = read_report(data)
    assert report is not None
    with EmbeddedStore(data, read_only=True) as store:
        for t in report.tables:
            assert t.rows_in == t.loaded + t.quarantined
            with (bank / f"{t.table}.csv").open(newline="") as handle:
                assert t.rows_in == sum(1 for _ in csv.reader(handle)) - 1
            assert store.read_table(t.table).num_rows == t.loaded
            quarantined = data / "quarantine" / f"{t.table}.csv"
            if t.quarantined:
                with quarantined.open(newline="") as handle:
                    assert sum(1 for _ in csv.DictReader(handle)) == t.quarantined
            else:
                assert not quarantined.exists()


def test_a_new_journal_entry_makes_an_unchanged_reload_a_new_load(
    tmp_path: Path, bank_dir: Path
) -> None:
    data = tmp_path / "data"
    first = load(bank_dir, data)
    assert load(bank_dir, data).unchanged
    Journal(data).append(CHAIN_REVIEW, [{"chain": "c1", "status": "REPORTED"}], by="k")
    again = load(bank_dir, data)
    assert not again.unchanged
    assert again.fingerprint != first.fingerprint
