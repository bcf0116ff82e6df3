"""What a live batch is made of: its records, what makes two sends of one id the same,
and the reservation of a new id until its journal write ends (:mod:`relgraph.api.live`)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Any, Final

from relgraph import model as tables
from relgraph.analytics.layering.verdicts import LiveAlert
from relgraph.api.audit_commit import Commit
from relgraph.config import format_moment
from relgraph.journal import JournalError
from relgraph.record_rules import stored_day

MAX_BATCH: Final = 1_000
"""Records one request may send."""


class BatchError(ValueError):
    """A request that is not a list of at most :data:`MAX_BATCH` JSON objects."""


@dataclass(frozen=True)
class FoundAlert:
    """A live alert and when the server found it."""

    alert: LiveAlert
    found_at: str
    """ISO 8601, UTC, to the millisecond."""
    found_ms: int


@dataclass
class Timings:
    """Seconds spent per step since start (the cost breakdown of a verdict)."""

    validate: float = 0.0
    journal: float = 0.0
    apply: float = 0.0
    verdict: float = 0.0
    transfers: int = 0

    def as_dict(self) -> dict[str, float]:
        n = max(self.transfers, 1)
        return {
            "transfers": self.transfers,
            "validate_ms": 1e3 * self.validate / n,
            "journal_ms": 1e3 * self.journal / n,
            "apply_ms": 1e3 * self.apply / n,
            "verdict_ms": 1e3 * self.verdict / n,
        }


def content(values: Mapping[str, Any], currency: bool = True) -> str:
    """What makes two sends of one ``tx_id`` the same transfer: the amount exactly (100.001
    is not 100.004), and the currency unless ``currency`` is False — the graph keeps no
    currency for loaded transfers, so a resend of one is judged without it."""
    parts = [values["from_account"], values["to_account"], repr(float(values["amount"])),
             str(int(values["ts"]))]  # fmt: skip
    if currency:
        parts.insert(3, values["currency"])
    return "|".join(parts)


def account_content(values: Mapping[str, Any]) -> str:
    """What makes two sends of one ``account_id`` the same account: every column."""
    return "|".join(str(values.get(c)) for c in tables.ACCOUNTS.column_names)


FUTURE_TOLERANCE_MS: Final = 86_400_000
"""How far past the server's clock (and the newest transfer) a transfer's time may be."""
EARLIEST_OPENING_MS: Final = -2_208_988_800_000
"""1900-01-01 UTC: no account still held was opened before it."""
SECONDS_SENT_AS_MS: Final = (631_152_000, 4_102_444_800)
"""1990 to 2100 in epoch *seconds*: as milliseconds these are January 1970, when no account
sent today was opened — a number in this range is seconds sent for milliseconds."""


def held_opening(values: Mapping[str, Any]) -> Mapping[str, Any]:
    """A journalled account as the live index can hold it: without an ``opened_at`` outside
    1900 to tomorrow. Releases before 2026-12-04 accepted and journalled such dates (2**70,
    the year 10000); replayed into the index, one failed every later verdict through it."""
    opened = values.get("opened_at")
    latest = int(time.time() * 1000) + FUTURE_TOLERANCE_MS
    if isinstance(opened, int) and not EARLIEST_OPENING_MS <= opened <= latest:
        return {**values, "opened_at": None}
    return values


def opening_day(values: Mapping[str, Any], zone: tzinfo) -> Mapping[str, Any]:
    """A journalled account with its ``opened_at`` as a day in ``zone`` (the store's), as the
    server now reads one sent in epoch ms: releases before 2026-12-05 kept the instant
    (Beijing's 00:30 on the 1st was 16:30 UTC on the day before, which the load then read as
    that day)."""
    opened = values.get("opened_at")
    if isinstance(opened, int) and not isinstance(opened, bool):
        return {**values, "opened_at": stored_day(opened, zone)}
    return values


def text_of(value: Any) -> str:
    """``value`` as text UTF-8 can hold: a lone surrogate (which JSON allows and no id may
    have, ``record_rules``) as its escape, so the answer that rejects it can be sent."""
    text = str(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def iso(ms: int) -> str:
    """Epoch ms as ISO-8601 UTC, or the number itself when no calendar holds it."""
    try:
        return format_moment(ms, UTC)
    except (OverflowError, ValueError, OSError):
        return str(ms)


def batch_records(body: Any) -> list[Mapping[str, Any]]:
    if not isinstance(body, list):
        raise BatchError("Send a JSON array of records.")
    if len(body) > MAX_BATCH:
        raise BatchError(f"Send at most {MAX_BATCH:,} records per request, not {len(body):,}.")
    if not all(isinstance(r, dict) for r in body):
        raise BatchError("Every element of the array must be a JSON object (one record).")
    return body


def await_commits(commits: Sequence[Commit]) -> None:
    """Block until every write in ``commits`` (other requests' journal commits) ended;
    raise :class:`JournalError` when one failed: the resend it answered is not recorded."""
    for commit in commits:
        try:
            commit.wait()
        except Exception as exc:
            raise JournalError(f"an earlier send of a transfer was not recorded: {exc}") from exc


@dataclass
class Pending:
    values: dict[str, Any]
    result: dict[str, Any]


@dataclass
class Validated:
    """A transfer batch after :meth:`LiveScoring.validate_transfers`."""

    fresh: list[Pending]
    """The new transfers, their ids reserved until their journal write ends."""
    results: list[dict[str, Any]]
    """The answer per record (filled in for rejected and duplicate ones)."""
    waits: list[Commit]
    """Journal writes of other requests that this batch's duplicates wait for."""
    commit: Commit | None = None
    """The journal write of ``fresh``, queued under the validation's lock."""


def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
    for r in results:
        counts[r["status"]] += 1
    return {**counts, "results": results}


def out_of_window(origin: int | None, newest_loaded: int, ts: Any) -> list[str]:
    """Why a transfer's time cannot be scored live, if it cannot: before the bank's first
    transfer (``origin``: its 30-day periods count from there; a wrong unit, epoch seconds,
    lands in 1970), or more than :data:`FUTURE_TOLERANCE_MS` ahead of both the server's
    clock and the loaded bank's newest transfer (one such time would move the live clock
    and evict every live transfer)."""
    if not isinstance(ts, int):
        return []
    if origin is not None and ts < origin:
        return [f"out_of_range: ts {iso(ts)} is before the bank's first transfer "
                f"({iso(origin)}); load older transfers with `relgraph load` (and send "
                "epoch milliseconds, not seconds)"]  # fmt: skip
    # Not the live clock: the times accepted move it, and a day at a time they would
    # walk it anywhere.
    latest = max(int(time.time() * 1000), newest_loaded) + FUTURE_TOLERANCE_MS
    if ts > latest:
        return [f"out_of_range: ts {iso(ts)} is more than a day after the server's "
                "clock and the loaded bank's newest transfer; check its time zone and "
                "unit (epoch milliseconds)"]  # fmt: skip
    return []
