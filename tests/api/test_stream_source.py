"""The source seam: a transfers file drained into the live scoring, resent without harm."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from relgraph.api.live import LiveScoring
from relgraph.api.readmodel import ReadModel
from relgraph.jobs.sources import consume
from relgraph.jobs.sources.file import FileSource


def test_a_file_source_drains_once_and_a_redelivery_is_deduplicated(
    model: ReadModel, tmp_path: Path
) -> None:
    ids = model.account_ids
    path = tmp_path / "tomorrow.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["tx_id", "from_account", "to_account", "amount", "currency", "ts"])
        for i in range(7):
            writer.writerow([f"F{i}", ids[i], ids[i + 1], f"{1000 + i}.00", "人民币",
                             f"2026-10-0{i + 1}T10:00:00"])  # fmt: skip
        writer.writerow(["F-bad", ids[0], "NO-SUCH", "5.00", "CNY", "2026-10-01T10:00:00"])
    live = LiveScoring(model, tmp_path / "data")
    source = FileSource(path)
    rejected: list[tuple[str, str]] = []
    report = consume(
        source,
        lambda batch: live.record_transfers(batch, by="file"),
        batch_size=3,
        on_rejected=lambda record, reason: rejected.append((record["tx_id"], reason)),
    )
    assert (report.accepted, report.duplicate, report.rejected) == (7, 0, 1)
    assert [tx for tx, _ in rejected] == ["F-bad"]
    assert "NO-SUCH" in rejected[0][1]
    assert source.committed == 8
    # A consumer that crashed before committing gets the same records again.
    again = FileSource(path)
    redelivered = consume(again, lambda batch: live.record_transfers(batch, by="file"))
    assert (redelivered.duplicate, redelivered.accepted) == (7, 0)


def test_a_file_without_the_transfer_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("tx_id,amount\nT1,5\n", encoding="utf-8")
    with pytest.raises(ValueError, match="lacks the column"):
        FileSource(path).records()
