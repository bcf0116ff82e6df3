"""A journal restored from a backup older than the store's (journal/log.py ``behind``): the
store's last load merged entries the journal no longer holds. Before, the next load dropped
every acknowledged transfer after the backup without a word (12,474 → 12,051 transfers on a
2,000-customer bank with 493 streamed, 70 of them in the backup) and the server started,
giving new entries the numbers of the lost ones. Now both refuse, saying what to restore."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
import typer

from relgraph.cli.serving import check_servable
from relgraph.config import Settings, moment_ms, source_zone
from relgraph.ingest import IngestError
from relgraph.journal import TRANSFER, Journal, journal_dir
from relgraph.store.embedded import EmbeddedStore
from tests.banks import holder_each, load, transfer, write_bank

WHEN = datetime(2026, 3, 2, 10, 0)


def _streamed(tx_id: str) -> dict[str, object]:
    ms = moment_ms(WHEN.isoformat(), source_zone())
    return {"tx_id": tx_id, "from_account": "A1", "to_account": "A2", "amount": 10.0,
            "currency": "CNY", "ts": ms}  # fmt: skip


def _loaded_ids(data: Path) -> list[str]:
    with EmbeddedStore(data, read_only=True) as store:
        return sorted(store.read_table("transfers", ["tx_id"])["tx_id"].to_pylist())


@pytest.fixture
def streamed(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A bank, a data directory whose store merged TJ-1..TJ-3, and a backup of its journal
    taken when it held TJ-1 alone."""
    bank = write_bank(tmp_path / "bank", holder_each([transfer("TW-1", "A1", "A2", 5.0, WHEN)]))
    data = tmp_path / "data"
    journal = Journal(data)
    journal.append(TRANSFER, [_streamed("TJ-1")], by="k")
    backup = tmp_path / "backup-journal"
    shutil.copytree(journal_dir(data), backup)
    journal.append(TRANSFER, [_streamed("TJ-2"), _streamed("TJ-3")], by="k")
    load(bank, data)
    assert _loaded_ids(data) == ["TJ-1", "TJ-2", "TJ-3", "TW-1"]
    return bank, data, backup


def _restore(backup: Path, data: Path) -> None:
    shutil.rmtree(journal_dir(data))
    shutil.copytree(backup, journal_dir(data))


def test_a_load_refuses_a_journal_older_than_the_store(
    streamed: tuple[Path, Path, Path],
) -> None:
    bank, data, backup = streamed
    _restore(backup, data)
    with pytest.raises(IngestError, match=r"entries up to seq 1 only.*merged 3.*Restore the"):
        load(bank, data)
    assert _loaded_ids(data) == ["TJ-1", "TJ-2", "TJ-3", "TW-1"]  # nothing dropped
    # New entries after the restore reuse seq 2 and 3 for other transfers: still refused.
    Journal(data).append(TRANSFER, [_streamed("TJ-9"), _streamed("TJ-8")], by="k")
    with pytest.raises(IngestError, match="other entries than those up to seq 3"):
        load(bank, data)
    shutil.rmtree(journal_dir(data))  # a data directory moved without its journal
    with pytest.raises(IngestError, match="holds no entries"):
        load(bank, data)


def test_serve_refuses_a_journal_older_than_the_store(
    streamed: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, data, backup = streamed
    settings = Settings.from_env().with_overrides(data_dir=data)
    check_servable(settings)  # the journal it was loaded from: serves
    _restore(backup, data)
    with pytest.raises(typer.Exit) as stopped:
        check_servable(settings)
    assert stopped.value.exit_code == 2
    assert "restored from a backup older than the store's" in capsys.readouterr().err


def test_a_journal_ahead_of_the_store_loads_every_entry_once(
    streamed: tuple[Path, Path, Path],
) -> None:
    bank, data, _ = streamed
    Journal(data).append(TRANSFER, [_streamed("TJ-4")], by="k")  # a store restored older
    report = load(bank, data)
    assert not report.unchanged
    assert _loaded_ids(data) == ["TJ-1", "TJ-2", "TJ-3", "TJ-4", "TW-1"]
    assert load(bank, data).unchanged
