"""A follower reads what the journal gained since its last read, and only that
(``journal/follow.py``): a refresh's catch-up costs what was appended meanwhile."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from relgraph.journal import ACCOUNT, CHAIN_REVIEW, TRANSFER, Journal, JournalError, log, read
from relgraph.journal.follow import Follower
from relgraph.journal.log import journal_dir


def _ids(follower: Follower) -> list[str]:
    return [str(e.data["tx_id"]) for e in follower.entries()]


def test_each_read_returns_what_was_appended_since_across_segments(tmp_path: Path) -> None:
    journal = Journal(tmp_path, segment_bytes=400)  # a new segment every few entries
    follower = Follower(tmp_path, (TRANSFER, ACCOUNT))
    assert _ids(follower) == []  # no journal yet
    journal.append(TRANSFER, [{"tx_id": f"T{n}", "note": "转账"} for n in range(5)], by="k")
    assert _ids(follower) == [f"T{n}" for n in range(5)]
    assert _ids(follower) == []
    for n in range(5, 12):
        journal.append(CHAIN_REVIEW, [{"chain": f"c{n}"}], by="k")  # not read back
        journal.append(TRANSFER, [{"tx_id": f"T{n}"}], by="k")
    assert len(list(journal_dir(tmp_path).glob("*.jsonl"))) > 3
    assert _ids(follower) == [f"T{n}" for n in range(5, 12)]
    assert _ids(follower) == []
    # The same entries as a whole read, in seq order.
    assert [e.data["tx_id"] for e in read(tmp_path, [TRANSFER])] == [f"T{n}" for n in range(12)]


def test_what_was_read_is_not_read_again(tmp_path: Path) -> None:
    # Damage in the part already read would fail a whole read: the follower never reads
    # that part again, so a round's cost is what the journal gained.
    journal = Journal(tmp_path)
    follower = Follower(tmp_path)
    journal.append(TRANSFER, [{"tx_id": "T0"}, {"tx_id": "T1"}], by="k")
    assert _ids(follower) == ["T0", "T1"]
    segment = next(journal_dir(tmp_path).glob("*.jsonl"))
    raw = segment.read_bytes()
    segment.write_bytes(raw.replace(b'"T0"', b'"X0"', 1))  # same length: only the CRC fails
    with pytest.raises(JournalError, match="line 1 is damaged"):
        list(read(tmp_path))
    journal.append(TRANSFER, [{"tx_id": "T2"}], by="k")
    assert _ids(follower) == ["T2"]


def _t0_then_t1(tmp_path: Path) -> tuple[Journal, Follower, Path, bytes, bytes]:
    """A journal of T0 and T1, a follower that has read neither, the segment, its bytes up
    to T0's line and T1's line."""
    journal, follower = Journal(tmp_path), Follower(tmp_path)
    journal.append(TRANSFER, [{"tx_id": "T0"}], by="k")
    segment = next(journal_dir(tmp_path).glob("*.jsonl"))
    first = segment.read_bytes()
    journal.append(TRANSFER, [{"tx_id": "T1"}], by="k")
    return journal, follower, segment, first, segment.read_bytes()[len(first) :]


def test_a_write_under_way_is_read_once_it_is_whole(tmp_path: Path) -> None:
    _, follower, segment, whole, line = _t0_then_t1(tmp_path)
    segment.write_bytes(whole + line[:20])  # half of T1's line written so far
    assert _ids(follower) == ["T0"]
    segment.write_bytes(whole + line)
    assert _ids(follower) == ["T1"]


def test_an_entry_cut_off_after_it_was_read_is_refused(tmp_path: Path) -> None:
    # A write that then failed is cut off the journal (never acknowledged); a reader that
    # applied it must start again from the journal, not read on as if it were there.
    journal, follower, segment, kept, _ = _t0_then_t1(tmp_path)
    assert _ids(follower) == ["T0", "T1"]
    segment.write_bytes(kept)  # T1 cut off
    time.sleep(0.001)  # the next entry's `at` differs from the cut one's
    journal.append(TRANSFER, [{"tx_id": "T2"}], by="k")  # takes T1's seq
    with pytest.raises(JournalError, match="entry 2, read before, is gone"):
        _ids(follower)
    assert _ids(Follower(tmp_path)) == ["T0", "T2"]  # read again from the start


def test_lines_it_does_not_read_are_checked_not_parsed_and_their_cut_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A server's reader of chain reviews went through every streamed transfer's JSON.
    journal = Journal(tmp_path)
    follower = Follower(tmp_path, [CHAIN_REVIEW])
    journal.append(TRANSFER, [{"tx_id": f"T{n}", "note": "房租"} for n in range(20)], by="k")
    journal.append(CHAIN_REVIEW, [{"chain": "c1"}], by="k")
    journal.append(TRANSFER, [{"tx_id": "T20"}], by="k")
    parsed: list[bytes] = []
    checked = log._checked
    monkeypatch.setattr(log, "_checked", lambda line: parsed.append(line) or checked(line))
    assert [e.data["chain"] for e in follower.entries()] == ["c1"]
    assert len(parsed) == 1
    monkeypatch.undo()
    # The last line read was a transfer passed over; cut off and its seq taken again.
    segment = next(journal_dir(tmp_path).glob("*.jsonl"))
    raw = segment.read_bytes()
    segment.write_bytes(raw[: raw.rstrip(b"\n").rfind(b"\n") + 1])
    time.sleep(0.001)
    journal.append(TRANSFER, [{"tx_id": "T20-again"}], by="k")
    with pytest.raises(JournalError, match="entry 22, read before, is gone"):
        list(follower.entries())
    # Damage in a line passed over is damage, as for a whole read.
    segment.write_bytes(raw.replace(b'"T3"', b'"X3"', 1))
    with pytest.raises(JournalError, match="line 4 is damaged"):
        list(Follower(tmp_path, [CHAIN_REVIEW]).entries())


def test_entries_the_store_merged_are_passed_over_up_to_its_seq(tmp_path: Path) -> None:
    # A new live index reads accounts and transfers; the store holds the transfers its
    # load merged (seq ≤ 3 here), not the accounts' content a resend is judged by.
    journal = Journal(tmp_path)
    journal.append(TRANSFER, [{"tx_id": "T0"}, {"tx_id": "T1"}], by="k")
    journal.append(ACCOUNT, [{"account_id": "A0"}], by="k")
    journal.append(TRANSFER, [{"tx_id": "T2"}], by="k")
    journal.append(CHAIN_REVIEW, [{"chain": "c1"}], by="k")
    follower = Follower(tmp_path, (ACCOUNT, TRANSFER), merged=(TRANSFER,), upto=3)
    assert [e.seq for e in follower.entries()] == [3, 4]
    journal.append(TRANSFER, [{"tx_id": "T3"}], by="k")
    assert [e.seq for e in follower.entries()] == [6]
    assert [e.seq for e in Follower(tmp_path, (ACCOUNT, TRANSFER)).entries()] == [1, 2, 3, 4, 6]
