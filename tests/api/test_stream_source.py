"""The source seam: a transfers file drained into the live scoring, resent without harm."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from relgraph.api.live import LiveScoring
from relgraph.api.readmodel import ReadModel
from relgraph.jobs.sources import Record, consume
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


class _Listed:
    """Records as given, one batch (a Kafka batch's records, decoded)."""

    def __init__(self, records: list[Record]) -> None:
        self.records, self.commits = records, 0

    def batches(self, size: int) -> Iterator[list[Record]]:
        yield self.records[:size]

    def commit(self) -> None:
        self.commits += 1


def test_a_rejected_record_reaches_on_rejected_whole_even_when_the_server_reads_its_id_otherwise(
    model: ReadModel, tmp_path: Path
) -> None:
    ids = model.account_ids
    padded = {"tx_id": " Q1 ", "from_account": ids[0], "to_account": "NO-SUCH",
              "amount": "5.00", "currency": "CNY", "ts": "2026-10-01T10:00:00", "memo": "ref 889"}  # fmt: skip
    # One id twice: the first is rejected, the second accepted; the right one is named.
    twice_bad = {**padded, "tx_id": "D1", "to_account": "ALSO-NO"}
    twice_good = {**padded, "tx_id": "D1", "to_account": ids[1]}
    live = LiveScoring(model, tmp_path / "data")
    source = _Listed([padded, twice_bad, twice_good])
    rejected: list[tuple[Record, str]] = []
    report = consume(
        source,
        lambda batch: live.record_transfers(batch, by="kafka"),
        on_rejected=lambda record, reason: rejected.append((record, reason)),
    )
    assert (report.accepted, report.rejected, source.commits) == (1, 2, 1)
    assert [record for record, _ in rejected] == [padded, twice_bad]
    assert "NO-SUCH" in rejected[0][1]
    assert "ALSO-NO" in rejected[1][1]


def test_an_answer_with_results_for_other_records_leaves_the_batch_uncommitted() -> None:
    source = _Listed([{"tx_id": "A"}, {"tx_id": "B"}])
    answer = {"accepted": 1, "results": [{"tx_id": "A", "status": "accepted"}]}
    with pytest.raises(RuntimeError, match="2 transfers; the batch stays uncommitted"):
        consume(source, lambda batch: answer)
    assert source.commits == 0
