"""A decision checked against the journal is checked and written under the writers' lock
(``Journal.held``): two processes sending the same decision at once write it once.

Each writer here has its own ``Journal``, ``DecisionBook`` or ``ReviewLog``, as two servers of
one graph have: ``flock`` excludes two open files even within one process, so threads stand
in for processes. The check is slowed so that, without the lock, both would pass it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from relgraph.api import chain_reviews
from relgraph.api.chain_reviews import ReviewLog, review_record
from relgraph.journal import decisions
from relgraph.journal.decisions import DUPLICATE_DECISION, SAME, DecisionBook
from relgraph.journal.log import Journal, read
from relgraph.journal.resends import resent

CHAIN = {"typology": "cycle", "score": 0.7, "reasons": [], "hops": []}


def _slowed(monkeypatch: pytest.MonkeyPatch, module: Any) -> None:
    """The resend check takes 0.2 s, as a busy machine may make it."""

    def slow(*args: Any, **kwargs: Any) -> Any:
        found = resent(*args, **kwargs)
        time.sleep(0.2)
        return found

    monkeypatch.setattr(module, "resent", slow)


def _at_once(*sends: Callable[[], Any]) -> list[Any]:
    out: list[Any] = [None] * len(sends)
    start = threading.Barrier(len(sends))

    def run(i: int) -> None:
        start.wait()
        out[i] = sends[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(sends))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_one_decision_resent_to_two_servers_at_once_is_written_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client retries on the other server while the first still answers."""
    _slowed(monkeypatch, decisions)
    books = [DecisionBook(tmp_path), DecisionBook(tmp_path)]
    answers = _at_once(
        *(
            lambda b=book: b.record_once(
                "D1", ("CB1", "CB2"), SAME, "同一人", by="k_1", request_id="r-1"
            )
            for book in books
        )
    )
    written = list(read(tmp_path, [DUPLICATE_DECISION]))
    assert len(written) == 1
    assert sorted(new for _, new in answers) == [False, True]
    assert {made.seq for made, _ in answers} == {written[0].seq}


def test_one_review_resent_to_two_servers_at_once_is_written_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _slowed(monkeypatch, chain_reviews)
    logs = [ReviewLog(tmp_path), ReviewLog(tmp_path)]
    record = review_record("C1", "DISMISSED", "家庭转账", CHAIN, request_id="r-1")
    answers = _at_once(*(lambda log=log: log.append(record, "k_1") for log in logs))
    written = list(read(tmp_path, [chain_reviews.CHAIN_REVIEW]))
    assert len(written) == 1
    assert sorted(new for _, new in answers) == [False, True]


def test_a_review_checks_what_another_server_wrote_before_it(tmp_path: Path) -> None:
    """A check that reads the history sees the decision another process wrote, not only the
    ones this log had read."""
    first, second = ReviewLog(tmp_path), ReviewLog(tmp_path)
    first.append(review_record("C1", "ESCALATED", None, CHAIN), "k_1")
    seen: list[str] = []
    second.append(
        review_record("C1", "DISMISSED", None, CHAIN),
        "k_2",
        check=lambda history: seen.extend(r.status for r in history),
    )
    assert seen == ["ESCALATED"]


def test_a_journal_held_by_one_writer_waits_for_it(tmp_path: Path) -> None:
    held_for = 0.3
    inside = threading.Event()

    def hold() -> None:
        with Journal(tmp_path).held() as append:
            inside.set()
            time.sleep(held_for)
            append("chain_review", [{"n": 1}], "k_1")

    holder = threading.Thread(target=hold)
    holder.start()
    inside.wait()
    started = time.monotonic()
    (entry,) = Journal(tmp_path).append("chain_review", [{"n": 2}], by="k_2")
    waited = time.monotonic() - started
    holder.join()
    assert waited >= held_for * 0.8
    assert entry.seq == 2  # after the holder's entry, never beside it
