"""Accounts sent to a live server (``POST /v1/accounts``): validated, journalled, then
registered in the live index (:mod:`.live`'s :class:`~.live.LiveScoring` holds this half)."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any, Literal

from relgraph import model as tables
from relgraph.analytics.layering.live import LiveIndex
from relgraph.api.audit_commit import Commit, GroupCommitter
from relgraph.api.live_records import (
    EARLIEST_OPENING_MS,
    FUTURE_TOLERANCE_MS,
    SECONDS_SENT_AS_MS,
    account_content,
    await_commits,
    batch_records,
    iso,
    summary,
    text_of,
)
from relgraph.api.readmodel import ReadModel
from relgraph.journal import ACCOUNT, JournalError
from relgraph.record_rules import check_record, shown


class IndexDroppedError(JournalError):
    """A batch reached a live index dropped (a journal write, a batch's scoring or an
    eviction failed) or replaced by a refresh: nothing of it was scored; what it wrote is
    in the journal, which the rebuilt index replays (a resend is answered ``duplicate``)."""


class AccountIntake:
    """The accounts half of :class:`.live.LiveScoring` (its state, declared here)."""

    model: ReadModel
    index: LiveIndex
    _lock: threading.Lock
    _committer: GroupCommitter
    _opening: dict[str, tuple[str, Commit | None]]
    """Accounts accepted and not yet registered (journal write pending): their content
    and the write."""
    _account_content: dict[str, str]
    """Content of every account sent to this server (journal included)."""

    broken: bool
    """The live index holds transfers whose journal write failed: it is dropped, and
    rebuilt from the store and the journal on next use (:meth:`.live.LiveScoring.apply`)."""
    dropped_why: str
    """What dropped it (the log says so: an operator must not look at the disk when an
    eviction failed)."""
    retired: bool
    """A refresh replaced this live scoring (:meth:`.live.LiveScoring.retire`)."""

    def _usable(self) -> None:
        """Under the lock: raise :class:`IndexDroppedError` once the live index is dropped."""
        if self.broken:
            raise IndexDroppedError(
                f"the live index was dropped after {self.dropped_why} and is being rebuilt "
                "from the store and the journal"
            )

    def _taking(self) -> None:
        """Under the lock, before a batch's write is queued: raise
        :class:`IndexDroppedError` once dropped or retired. A retired one's journal was
        read by its successor, which would never hold what this one wrote now."""
        self._usable()
        if self.retired:
            raise IndexDroppedError(
                "the live index is being rebuilt over the refreshed graph from the store and "
                "the journal"
            )

    def _add_account(self, values: Mapping[str, Any]) -> int:
        person, enterprise = self._holder_key(values)
        return self.index.add_account(
            str(values["account_id"]), values.get("opened_at"), person, enterprise
        )

    def record_accounts(self, body: Any, by: str) -> dict[str, Any]:
        """Validate, journal and register new accounts; the answer per record."""
        records = batch_records(body)
        results: list[dict[str, Any]] = []
        fresh: list[dict[str, Any]] = []
        waits: list[Commit] = []
        commit: Commit | None = None
        with self._lock:
            self._taking()  # its journal is drained before the rebuild reads it
            try:
                for raw in records:
                    wait = self._check_account(raw, results, fresh)
                    if wait is not None:
                        waits.append(wait)
                if fresh:
                    # Queued under the lock, as a transfer batch's: a resend that finds an
                    # id reserved finds the write to wait for too.
                    commit = self._committer.submit({"kind": ACCOUNT, "by": by, "records": fresh})
                    for values in fresh:
                        account_id = str(values["account_id"])
                        self._opening[account_id] = (self._opening[account_id][0], commit)
            except BaseException:
                self._end_accounts(fresh, ok=False)
                raise
        if commit is not None:
            try:
                commit.wait()
            except BaseException:
                with self._lock:
                    self._end_accounts(fresh, ok=False)
                raise
            with self._lock:
                for values in fresh:
                    self._add_account(values)
                self._end_accounts(fresh, ok=True)
        await_commits(waits)  # a resend's "duplicate" means recorded
        return summary(results)

    def _check_account(
        self,
        raw: Mapping[str, Any],
        results: list[dict[str, Any]],
        fresh: list[dict[str, Any]],
    ) -> Commit | None:
        """One account record under the lock: its answer appended to ``results``, a new
        one to ``fresh`` (its id reserved); the write a duplicate must wait for, if any."""
        checked = check_record(tables.ACCOUNTS, raw, self.index.zone)
        values, reasons = checked.values, list(checked.reasons)
        account_id = text_of(values.get("account_id") or raw.get("account_id") or "")
        holder = values.get("holder_id")
        kind = values.get("holder_kind")
        known = (
            self.model.find_person(str(holder)) is not None
            if kind == "customer"
            else str(holder) in self.model.enterprise_index
        )
        if holder is not None and kind is not None and not known:
            reasons.append(f"unknown_foreign_key: holder_id {holder!r}")
        opened = values.get("opened_at")
        latest = int(time.time() * 1000) + FUTURE_TOLERANCE_MS
        sent = raw.get("opened_at")
        if isinstance(opened, int) and not EARLIEST_OPENING_MS <= opened <= latest:
            reasons.append(f"out_of_range: opened_at {iso(opened)} is not between "
                           "1900 and tomorrow (send epoch milliseconds or ISO-8601)")  # fmt: skip
        elif (
            isinstance(sent, int)
            and not isinstance(sent, bool)
            and SECONDS_SENT_AS_MS[0] <= sent <= SECONDS_SENT_AS_MS[1]
        ):
            reasons.append(f"out_of_range: opened_at {sent} read as epoch milliseconds is "
                           f"{iso(sent)}; send epoch milliseconds, not seconds, or ISO-8601")  # fmt: skip
        given = ""
        if not reasons:
            given = account_content(values)
            pending = self._opening.get(account_id)
            same = self._same_account(account_id, given, pending)
            if same == "loaded":
                # Never compared: a match would confirm a guessed holder and opening date
                # (a thousand guesses a request), and any answer that differs with the
                # record's details tells the same.
                reasons.append(f"duplicate_key: account_id {shown(account_id)} is in the "
                               "loaded bank already, which keeps its details (send a new "
                               "account_id for a new account)")  # fmt: skip
            elif same is False:
                # Which field differs is not said: the answer would tell a payment
                # system who holds an account it does not know.
                reasons.append(f"duplicate_key: account_id {shown(account_id)} is held "
                               "already, with other details (send a new account_id for a "
                               "new account)")  # fmt: skip
            elif same:
                results.append({"account_id": account_id, "status": "duplicate"})
                # Sent twice in this batch (no write yet): answered with it.
                return None if pending is None else pending[1]
        if reasons:
            results.append({"account_id": account_id, "status": "rejected", "reasons": reasons})
            return None
        results.append({"account_id": account_id, "status": "accepted"})
        # Reserved under the lock: a concurrent send of the id is judged against this
        # one, and waits for its write before it is answered "duplicate".
        self._opening[account_id] = (given, None)
        fresh.append(values)
        return None

    def _same_account(
        self, account_id: str, given: str, pending: tuple[str, Commit | None] | None
    ) -> bool | Literal["loaded"] | None:
        """Whether an account sent to this server before is this one, compared in every
        field; ``"loaded"`` for one of the loaded bank (not compared); None: neither."""
        if pending is not None:
            return pending[0] == given
        if (sent := self._account_content.get(account_id)) is not None:
            return sent == given
        return None if self.index.account(account_id) is None else "loaded"

    def _end_accounts(self, fresh: list[dict[str, Any]], ok: bool) -> None:
        """Under the lock: the reservations of ``fresh`` end (kept as sent when ``ok``)."""
        for values in fresh:
            account_id = str(values["account_id"])
            reserved = self._opening.pop(account_id, None)
            if ok and reserved is not None:
                self._account_content[account_id] = reserved[0]

    def _holder_key(self, values: Mapping[str, Any]) -> tuple[int, int]:
        """The person and enterprise index (−1 when none) an account record names."""
        m, holder = self.model, str(values["holder_id"])
        person = m.find_person(holder) if values["holder_kind"] == "customer" else None
        enterprise = m.enterprise_index.get(holder) if person is None else None
        return (-1 if person is None else person, -1 if enterprise is None else enterprise)
