"""The journal's readers that list decisions read on from where they stopped (Follower).

Every streamed transfer grows the journal: a listing of duplicate decisions re-read it whole
whenever its files changed, ~2 s a listing after 100,000 transfers, and the server's review
log did the same at every refresh. Now each reads what was appended since its last read, and
reads again from the start when an entry it read was cut off (a write that then failed).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from relgraph.api.chain_reviews import ReviewLog, review_record
from relgraph.journal import CHAIN_REVIEW, TRANSFER, Journal, JournalError, journal_dir
from relgraph.journal.decisions import DIFFERENT, SAME, DecisionBook


def _stream(journal: Journal, n: int) -> None:
    for start in range(0, n, 50):
        journal.append(TRANSFER, [{"tx_id": f"T{start + i}"} for i in range(50)], by="ingest")


def test_a_listing_reads_only_what_was_appended_since_the_last(
    tmp_path: Path, lines_read: list[bytes]
) -> None:
    book, journal = DecisionBook(tmp_path), Journal(tmp_path)
    book.record("D1", "CB1", "CB2", SAME, "同一人", by="analyst")
    _stream(journal, 200)
    assert [d.duplicate_id for d in book.all()] == ["D1"]
    _stream(journal, 50)
    DecisionBook(tmp_path).record("D2", "CB3", "CB4", DIFFERENT, "", by="cli:root")  # the CLI
    lines_read.clear()
    listed = book.all()
    assert len(lines_read) <= 51 + 1  # what was appended (and the last line read, checked)
    assert [(d.duplicate_id, d.by) for d in listed] == [("D1", "analyst"), ("D2", "cli:root")]
    assert book.find("D2") == listed[1]
    assert book.find("D3") is None


def test_a_decision_cut_off_after_it_was_listed_is_listed_no_more(tmp_path: Path) -> None:
    book = DecisionBook(tmp_path)
    book.record("D1", "CB1", "CB2", SAME, "", by="analyst")
    book.record("D2", "CB3", "CB4", SAME, "", by="analyst")
    assert [d.seq for d in book.all()] == [1, 2]
    segment = next(journal_dir(tmp_path).glob("*.jsonl"))
    first = segment.read_bytes().split(b"\n")[0] + b"\n"
    segment.write_bytes(first)  # the second write failed and was cut off after it was read
    DecisionBook(tmp_path).record("D3", "CB5", "CB6", DIFFERENT, "", by="analyst")
    assert [(d.seq, d.duplicate_id) for d in book.all()] == [(1, "D1"), (2, "D3")]


def test_the_review_log_reloads_only_what_was_appended(
    tmp_path: Path, lines_read: list[bytes]
) -> None:
    journal = Journal(tmp_path)
    journal.append(CHAIN_REVIEW, [review_record("C1", "ESCALATED", "查", {})], by="risk-1")
    _stream(journal, 200)
    reviews = ReviewLog(tmp_path)
    assert [(r.chain_id, r.status) for r in reviews.snapshot()] == [("C1", "ESCALATED")]
    lines_read.clear()
    _stream(journal, 50)
    journal.append(CHAIN_REVIEW, [review_record("C1", "DISMISSED", None, {})], by="risk-2")
    reviews.reload()
    assert [(r.status, r.by) for r in reviews.snapshot()] == [
        ("ESCALATED", "risk-1"),
        ("DISMISSED", "risk-2"),
    ]
    assert len(lines_read) <= 51 + 1
    reviews.reload()
    assert len(reviews.snapshot()) == 2  # nothing new, nothing twice


def test_a_malformed_decision_is_reported_at_every_listing_not_once(tmp_path: Path) -> None:
    book = DecisionBook(tmp_path)
    book.record("D1", "CB1", "CB2", SAME, "", by="analyst")
    Journal(tmp_path).append("duplicate_decision", [{"duplicate_id": "D2"}], by="cli:x")
    for _ in range(2):  # read past once, it must not vanish from the next listing's view
        with pytest.raises(JournalError, match="duplicate decision without 'customer_a'"):
            book.all()


def test_a_malformed_review_fails_every_reload_not_once(tmp_path: Path) -> None:
    reviews = ReviewLog(tmp_path)
    Journal(tmp_path).append(CHAIN_REVIEW, [{"status": "ESCALATED"}], by="risk-1")
    for _ in range(2):
        with pytest.raises(KeyError, match="chain_id"):
            reviews.reload()
