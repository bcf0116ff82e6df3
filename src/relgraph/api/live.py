"""Real-time transfer scoring in the server: validate, journal, apply, verdict.

One :class:`LiveScoring` per read model. A batch of transfers (``POST /v1/transfers`` or
the ``recordTransfers`` mutation) goes through four steps:

1. **validate** each record with the table's rules (:mod:`relgraph.record_rules`) and its
   keys: both accounts must exist (loaded, or sent to ``POST /v1/accounts``), and a
   ``tx_id`` seen before must carry the same content (then it is a ``duplicate``,
   accepted again without a second journal entry: a client that lost the answer resends);
2. **journal** the new ones (:class:`relgraph.journal.Journal`, group commit: every batch
   that arrives during one fsync shares the next) and wait until they are durable;
3. **apply** them to the live index (:class:`relgraph.analytics.layering.live.LiveIndex`),
   one batch at a time, without rebuilding the projection;
4. **verdict** per transfer: both accounts' scores after it and the alerts it completes or
   extends. New alerts join ``riskChains`` (``foundBy: REALTIME``) at once and are written
   to the audit log.

On start (and after a refresh) the journal's transfers and accounts that the store does
not hold yet are applied again, so what was acknowledged before a crash is served.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from relgraph import model as tables
from relgraph.analytics.layering.live import LiveIndex
from relgraph.analytics.layering.verdicts import LiveAlert, Prepared
from relgraph.api.audit import AuditLog
from relgraph.api.audit_commit import GroupCommitter
from relgraph.api.readmodel import ReadModel
from relgraph.api.scoring_pool import shared_pool
from relgraph.config import format_moment
from relgraph.journal import ACCOUNT, TRANSFER, Journal, read
from relgraph.record_rules import check_record, shown

log = logging.getLogger("relgraph.api")

MAX_BATCH: Final = 1_000
"""Records one request may send."""
EVICT_EVERY: Final = 5_000
"""Transfers applied between two evictions of what fell out of the horizon."""


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


def _content(values: Mapping[str, Any], currency: bool = True) -> str:
    """What makes two sends of one ``tx_id`` the same transfer: the amount exactly (100.001
    is not 100.004), and the currency unless ``currency`` is False — the graph keeps no
    currency for loaded transfers, so a resend of one is judged without it."""
    parts = [values["from_account"], values["to_account"], repr(float(values["amount"])),
             str(int(values["ts"]))]  # fmt: skip
    if currency:
        parts.insert(3, values["currency"])
    return "|".join(parts)


FUTURE_TOLERANCE_MS: Final = 86_400_000
"""How far past the server's clock (and the newest transfer) a transfer's time may be."""
EARLIEST_OPENING_MS: Final = -2_208_988_800_000
"""1900-01-01 UTC: no account still held was opened before it."""


def _text(value: Any) -> str:
    """``value`` as text UTF-8 can hold: a lone surrogate (which JSON allows and no id may
    have, ``record_rules``) as its escape, so the answer that rejects it can be sent."""
    text = str(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _iso(ms: int) -> str:
    """Epoch ms as ISO-8601 UTC, or the number itself when no calendar holds it."""
    try:
        return format_moment(ms, UTC)
    except (OverflowError, ValueError, OSError):
        return str(ms)


def _records(body: Any) -> list[Mapping[str, Any]]:
    if not isinstance(body, list):
        raise BatchError("Send a JSON array of records.")
    if len(body) > MAX_BATCH:
        raise BatchError(f"Send at most {MAX_BATCH:,} records per request, not {len(body):,}.")
    if not all(isinstance(r, dict) for r in body):
        raise BatchError("Every element of the array must be a JSON object (one record).")
    return body


@dataclass
class _Pending:
    values: dict[str, Any]
    result: dict[str, Any]


@dataclass
class LiveScoring:
    """The live index over one read model, the journal, and the alerts found so far."""

    model: ReadModel
    data_dir: Path
    audit: AuditLog | None = None
    on_alert: Callable[[str], None] | None = None
    """Called with the typology of each new alert at or above the threshold (the metrics)."""
    index: LiveIndex = field(init=False)
    alerts: dict[str, FoundAlert] = field(default_factory=dict)
    """Live alerts by chain id, superseded ones (grown into a longer alert) removed."""
    timings: Timings = field(default_factory=Timings)

    def __post_init__(self) -> None:
        m = self.model
        self.index = LiveIndex.from_index(m.layering_index(), m.account_ids, m.account_index)
        self.index.pool = shared_pool()
        self._journal = Journal(self.data_dir)
        self._committer = GroupCommitter(self._write, "relgraph-journal")
        self._lock = threading.Lock()
        """Held while a batch is validated (keys reserved) or applied: one writer."""
        self._seen: dict[str, str] = {}
        """Content of every tx_id sent to this server (journal included)."""
        self._opening: dict[str, tuple[int, int]] = {}
        """Accounts accepted and not yet registered (journal write pending): their holder."""
        self._known: set[str] = set()
        """Ids of every alert found live or stored (``extends`` is judged against it)."""
        self._account_score: dict[int, float] = {}
        self._since_evict = 0
        edges = m.projection.edge("Account", "TRANSFER", "Account")
        self._stored_tx = edges.attrs["tx_id"].to_numpy(object)
        hashes = pd.util.hash_array(self._stored_tx)
        self._stored_order = np.argsort(hashes, kind="stable")
        self._stored_hash = hashes[self._stored_order]
        self._stored_src = edges.src
        self._stored_dst = edges.dst
        self._stored_amount = edges.attrs["amount"].to_numpy(np.float64)
        self._stored_ts = edges.attrs["ts"].to_numpy(np.int64)
        if m.results.risk_chains is not None:
            self._known.update(str(c) for c in m.results.risk_chains.columns["chain_id"])
        self._replay()

    # -- the journal ---------------------------------------------------------------------

    def _write(self, batches: list[dict[str, Any]]) -> None:
        """Group commit: every batch queued during the last fsync, one append per kind."""
        runs: list[tuple[str, str, list[dict[str, Any]]]] = []
        for batch in batches:
            if runs and runs[-1][0] == batch["kind"] and runs[-1][1] == batch["by"]:
                runs[-1][2].extend(batch["records"])
            else:
                runs.append((batch["kind"], batch["by"], list(batch["records"])))
        for kind, by, records in runs:
            self._journal.append(kind, records, by=by)

    def _replay(self) -> None:
        """Apply the journal's accounts and transfers the store does not hold yet."""
        replayed = 0
        for entry in read(self.data_dir, (ACCOUNT, TRANSFER)):
            data = dict(entry.data)
            if entry.kind == ACCOUNT:
                if self.index.account(str(data["account_id"])) is None:
                    self._add_account(data)
                continue
            tx_id = str(data["tx_id"])
            if tx_id in self._seen or self._stored_content(tx_id) is not None:
                continue
            self._seen[tx_id] = _content(data)
            self._apply([data], audit_as=None)
            replayed += 1
        if replayed:
            log.info("replayed %s journalled transfers into the live index", f"{replayed:,}")

    def _stored_span(self, tx_ids: list[str]) -> tuple[list[int], list[int]]:
        """Per id: where its hash lies among the loaded transfers' (an empty range: none of
        them has this id), every id of a batch in one search."""
        # categorize=False: the same hashes as the stored ones' (categorizing only saves
        # work on many repeats), without pandas' per-call set-up of a categorical.
        keys = pd.util.hash_array(np.array(tx_ids, object), categorize=False)
        lo = np.searchsorted(self._stored_hash, keys, "left")
        return lo.tolist(), np.searchsorted(self._stored_hash, keys, "right").tolist()

    def _stored_content(self, tx_id: str, span: tuple[int, int] | None = None) -> str | None:
        """The content of a loaded transfer with this id (``span``: its
        :meth:`_stored_span`, when the caller searched a batch at once), or None."""
        lo, hi = span if span is not None else next(zip(*self._stored_span([tx_id]), strict=True))
        for at in self._stored_order[lo:hi].tolist():
            if self._stored_tx[at] == tx_id:
                ids = self.model.account_ids
                return _content(
                    {
                        "from_account": ids[int(self._stored_src[at])],
                        "to_account": ids[int(self._stored_dst[at])],
                        "amount": self._stored_amount[at],
                        "ts": self._stored_ts[at],
                    },
                    currency=False,
                )
        return None

    # -- accounts ------------------------------------------------------------------------

    def _add_account(self, values: Mapping[str, Any]) -> int:
        person, enterprise = self._holder_key(values)
        return self.index.add_account(
            str(values["account_id"]), values.get("opened_at"), person, enterprise
        )

    def record_accounts(self, body: Any, by: str) -> dict[str, Any]:
        """Validate, journal and register new accounts; the answer per record."""
        records = _records(body)
        results: list[dict[str, Any]] = []
        fresh: list[dict[str, Any]] = []
        with self._lock:
            for raw in records:
                checked = check_record(tables.ACCOUNTS, raw)
                values, reasons = checked.values, list(checked.reasons)
                account_id = _text(values.get("account_id") or raw.get("account_id") or "")
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
                if isinstance(opened, int) and not EARLIEST_OPENING_MS <= opened <= latest:
                    reasons.append(f"out_of_range: opened_at {_iso(opened)} is not between "
                                   "1900 and tomorrow (send epoch milliseconds or ISO-8601)")  # fmt: skip
                status = "accepted"
                if not reasons:
                    mine = self._holder_key(values)
                    found = self.index.account(account_id)
                    before = self._opening.get(account_id) or (
                        None if found is None else self.index.holder(found)
                    )
                    if before is not None and before != mine:
                        reasons.append(f"duplicate_key: account_id {shown(account_id)} was "
                                       "opened before for another holder (send a new "
                                       "account_id for a new account)")  # fmt: skip
                    elif before is not None:
                        status = "duplicate"  # opening it again changes nothing
                if reasons:
                    results.append({"account_id": account_id, "status": "rejected",
                                    "reasons": reasons})  # fmt: skip
                    continue
                results.append({"account_id": account_id, "status": status})
                if status == "accepted":
                    # Reserved under the lock: a concurrent send of the id is judged
                    # against this holder, not accepted a second time.
                    self._opening[account_id] = mine
                    fresh.append(values)
        if fresh:
            try:
                self._committer.submit({"kind": ACCOUNT, "by": by, "records": fresh}).wait()
            except BaseException:
                with self._lock:
                    for values in fresh:
                        self._opening.pop(str(values["account_id"]), None)
                raise
            with self._lock:
                for values in fresh:
                    self._add_account(values)
                    self._opening.pop(str(values["account_id"]), None)
        return _summary(results)

    def _holder_key(self, values: Mapping[str, Any]) -> tuple[int, int]:
        """The person and enterprise index (−1 when none) an account record names."""
        m, holder = self.model, str(values["holder_id"])
        person = m.find_person(holder) if values["holder_kind"] == "customer" else None
        enterprise = m.enterprise_index.get(holder) if person is None else None
        return (-1 if person is None else person, -1 if enterprise is None else enterprise)

    # -- transfers -----------------------------------------------------------------------

    def validate_transfers(self, body: Any) -> tuple[list[_Pending], list[dict[str, Any]]]:
        """Check every record and reserve the new ``tx_id`` values; returns the new ones and
        the answer per record (filled in for rejected and duplicate records)."""
        records = _records(body)
        results: list[dict[str, Any]] = []
        fresh: list[_Pending] = []
        started = time.perf_counter()
        spans = zip(*self._stored_span([_text(r.get("tx_id") or "") for r in records]), strict=True)
        with self._lock:
            for raw, span in zip(records, spans, strict=True):
                checked = check_record(tables.TRANSFERS, raw)
                values, reasons = checked.values, list(checked.reasons)
                tx_id = _text(values.get("tx_id") or raw.get("tx_id") or "")
                result: dict[str, Any] = {"tx_id": tx_id}
                results.append(result)
                if not reasons:
                    reasons += self._out_of_window(values.get("ts"))
                for side in ("from_account", "to_account"):
                    account = values.get(side)
                    if account is not None and self.index.account(str(account)) is None:
                        reasons.append(
                            f"unknown_foreign_key: {side} {shown(account)} is no loaded account "
                            "(send new accounts to /v1/accounts first)"
                        )
                if reasons:
                    result.update(status="rejected", reasons=reasons)
                    continue
                content = _content(values)
                before = self._seen.get(tx_id)
                if before is None and (stored := self._stored_content(tx_id, span)) is not None:
                    before = content if stored == _content(values, currency=False) else stored
                if before is not None and before != content:
                    result.update(
                        status="rejected",
                        reasons=[f"duplicate_key: tx_id {shown(tx_id)} was recorded before with "
                                 "other content (send a new tx_id for a new transfer)"],
                    )  # fmt: skip
                    continue
                if before is not None:
                    result.update(status="duplicate")
                    continue
                self._seen[tx_id] = content  # reserved: a concurrent resend is a duplicate
                result.update(status="accepted")
                fresh.append(_Pending(values, result))
        self.timings.validate += time.perf_counter() - started
        return fresh, results

    def _out_of_window(self, ts: Any) -> list[str]:
        """Why a transfer's time cannot be scored live, if it cannot: before the bank's first
        transfer (its 30-day periods count from there; a wrong unit, epoch seconds, lands
        in 1970), or more than :data:`FUTURE_TOLERANCE_MS` ahead of both the server's clock
        and the newest transfer (one such time would move the live clock and evict every
        live transfer)."""
        if not isinstance(ts, int):
            return []
        origin = self.index.origin
        if origin is not None and ts < origin:
            return [f"out_of_range: ts {_iso(ts)} is before the bank's first transfer "
                    f"({_iso(origin)}); load older transfers with `relgraph load` (and send "
                    "epoch milliseconds, not seconds)"]  # fmt: skip
        latest = max(int(time.time() * 1000), self.index.now) + FUTURE_TOLERANCE_MS
        if ts > latest:
            return [f"out_of_range: ts {_iso(ts)} is more than a day after the server's "
                    "clock and the newest transfer; check its time zone and unit (epoch "
                    "milliseconds)"]  # fmt: skip
        return []

    def journal_records(self, fresh: list[_Pending], by: str) -> Any:
        """Queue the new transfers for the journal; the returned commit says when durable."""
        records = [dict(p.values) for p in fresh]
        return self._committer.submit({"kind": TRANSFER, "by": by, "records": records})

    def release(self, fresh: list[_Pending]) -> None:
        """Forget reserved ids whose journal write failed (the client may send them again)."""
        with self._lock:
            for p in fresh:
                self._seen.pop(str(p.values["tx_id"]), None)

    def apply(self, fresh: list[_Pending], audit_as: dict[str, str] | None) -> None:
        """Apply durable transfers to the live index and fill in their verdicts."""
        verdicts = self._apply([p.values for p in fresh], audit_as)
        for p, verdict in zip(fresh, verdicts, strict=True):
            p.result["verdict"] = verdict

    def _apply(
        self, records: Sequence[Mapping[str, Any]], audit_as: dict[str, str] | None
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        new_alerts: list[FoundAlert] = []
        with self._lock:
            # Each transfer joins the index and its neighbourhood is read at once (its
            # verdict sees the batch's earlier transfers, not its later ones); then the
            # whole batch is scored in one pass (analytics/layering/union.py).
            ends: list[tuple[int, int]] = []
            rows: list[int] = []
            prepared: list[Prepared] = []
            for values in records:
                t0 = time.perf_counter()
                src = self.index.account(str(values["from_account"]))
                dst = self.index.account(str(values["to_account"]))
                assert src is not None
                assert dst is not None
                row = self.index.add(
                    str(values["tx_id"]), src, dst, float(values["amount"]), int(values["ts"])
                )
                t1 = time.perf_counter()
                prepared.append(self.index.prepare(row))
                self.timings.apply += t1 - t0
                self.timings.verdict += time.perf_counter() - t1
                ends.append((src, dst))
                rows.append(row)
            t2 = time.perf_counter()
            verdicts = self.index.verdicts_known(rows, prepared, self._known)
            self.timings.verdict += time.perf_counter() - t2
            self.timings.transfers += len(rows)
            for values, (src, dst), verdict in zip(records, ends, verdicts, strict=True):
                now = datetime.now(UTC)
                found_at = now.isoformat(timespec="milliseconds")
                alerts: list[dict[str, Any]] = []
                for alert in verdict.alerts:
                    fresh = alert.chain_id not in self._known
                    self._known.add(alert.chain_id)
                    if alert.extends is not None:
                        self.alerts.pop(alert.extends, None)  # grown into this one
                    if fresh:
                        found = FoundAlert(alert, found_at, int(now.timestamp() * 1000))
                        self.alerts[alert.chain_id] = found
                        if alert.score >= self.index.params.score_threshold:
                            new_alerts.append(found)
                            if self.on_alert is not None:
                                self.on_alert(alert.typology)
                    # The new transfer is in the alert: both its accounts take its score.
                    for a in (src, dst):
                        self._account_score[a] = max(self._account_score.get(a, 0.0), alert.score)
                    alerts.append(
                        {
                            "chain_id": alert.chain_id,
                            "typology": alert.typology,
                            "score": round(alert.score, 4),
                            "hops": alert.size,
                            "extends": alert.extends,
                            "above_threshold": alert.score >= self.index.params.score_threshold,
                        }
                    )
                out.append(
                    {
                        "from_account": {"id": values["from_account"], "score": self.score(src)},
                        "to_account": {"id": values["to_account"], "score": self.score(dst)},
                        "alerts": alerts,
                        "truncated": verdict.truncated,
                    }
                )
                self._since_evict += 1
            if self._since_evict >= EVICT_EVERY:
                self.index.evict()
                self._since_evict = 0
        if audit_as is not None and self.audit is not None:
            for found in new_alerts:
                alert = found.alert
                self.audit.submit(
                    key_id=audit_as["key_id"],
                    role=audit_as["role"],
                    operation="realtimeAlert",
                    outcome="alert",
                    request_id=audit_as.get("request_id", "-"),
                    ids=sorted(alert.accounts),
                    chain_id=alert.chain_id,
                    typology=alert.typology,
                    score=round(alert.score, 4),
                    trigger=alert.hops[-1].tx_id if alert.hops else "-",
                )
        return out

    def score(self, account: int) -> float:
        """The account's risk now: the stored score, raised by live alerts through it."""
        account_id = self.index.account_id(account)
        stored = self.model.results.account_risk.get(account_id, (0.0, ""))[0]
        return round(max(float(stored), self._account_score.get(account, 0.0)), 4)

    def record_transfers(
        self, body: Any, by: str, audit_as: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """All four steps, blocking (the GraphQL mutation and the CLI use this)."""
        fresh, results = self.validate_transfers(body)
        if fresh:
            started = time.perf_counter()
            try:
                self.journal_records(fresh, by).wait()
            except Exception:
                self.release(fresh)
                raise
            self.timings.journal += time.perf_counter() - started
            self.apply(fresh, audit_as)
        return _summary(results)

    def live_alerts(self) -> list[FoundAlert]:
        return list(self.alerts.values())


def _summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
    for r in results:
        counts[r["status"]] += 1
    return {**counts, "results": results}
