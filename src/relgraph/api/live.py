"""Real-time transfer scoring in the server: validate, journal, apply, verdict.

One :class:`LiveScoring` per read model. A batch of transfers (``POST /v1/transfers`` or
the ``recordTransfers`` mutation) goes through four steps:

1. **validate** each record with the table's rules (:mod:`relgraph.record_rules`) and its
   keys: both accounts must exist (loaded, or sent to ``POST /v1/accounts``), and a
   ``tx_id`` seen before must carry the same content (then it is a ``duplicate``,
   accepted again without a second journal entry: a client that lost the answer resends);
2. **journal** the new ones (:class:`relgraph.journal.Journal`, group commit: every batch
   that arrives during one fsync shares the next);
3. **apply** them to the live index (:class:`relgraph.analytics.layering.live.LiveIndex`),
   one batch at a time, without rebuilding the projection, while that write is in flight;
4. **verdict** per transfer: both accounts' scores after it and the alerts it completes or
   extends. The endpoint queues its audit line now, so the two flushes overlap; the batch
   then holds the scorer until its journal write is durable, and only then are its new
   alerts shown (``riskChains``, ``foundBy: REALTIME``), counted and written to the audit
   log. A write that fails drops the live index (:meth:`LiveScoring.apply`).

On start (and after a refresh) the journal's transfers and accounts that the store does
not hold yet are applied again, so what was acknowledged before a crash is served (those
the store's last load merged are passed over unparsed: :class:`.journal.log.Passing`). A
refresh builds the new one beside the old (:mod:`.live_build`), then retires the old
(:meth:`LiveScoring.retire`: its writes end) and applies what the journal gained meanwhile.

Every :data:`EVICT_EVERY` transfers what fell out of the horizon leaves the index: after
the answer of the batch that crossed the count, on a thread of its own
(:meth:`LiveScoring._evict_if_due`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np

from relgraph import model as tables
from relgraph.analytics.layering import standing
from relgraph.analytics.layering.live import LiveIndex
from relgraph.analytics.layering.verdicts import Prepared
from relgraph.api import memory
from relgraph.api.audit import AuditLog
from relgraph.api.audit_commit import Commit, GroupCommitter, PartialCommitError, weak_write
from relgraph.api.live_accounts import AccountIntake
from relgraph.api.live_queue import AlertQueue
from relgraph.api.live_records import (
    FoundAlert,
    Pending,
    Timings,
    Validated,
    account_content,
    await_commits,
    batch_records,
    content,
    held_opening,
    opening_day,
    out_of_window,
    summary,
    text_of,
)
from relgraph.api.readmodel import ReadModel
from relgraph.api.scoring_pool import shared_pool
from relgraph.api.slices import id_hashes
from relgraph.journal import ACCOUNT, META_SEQ, TRANSFER, Journal, JournalError
from relgraph.journal.follow import Follower
from relgraph.model import REPORTING_CURRENCY
from relgraph.record_rules import check_record, shown

log = logging.getLogger("relgraph.api")

EVICT_EVERY: Final = 5_000
"""Transfers applied between two evictions of what fell out of the horizon. The batch that
crosses the count leaves the eviction due (:meth:`LiveScoring._evict_if_due`): its answer
does not wait for it."""


@dataclass
class LiveScoring(AlertQueue, AccountIntake):
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
    broken: bool = field(default=False, init=False)
    dropped_why: str = field(default="a journal write failed", init=False)
    retired: bool = field(default=False, init=False)
    footprint: int = field(default=0, init=False)
    """Bytes the process grew by while this was built (:func:`.live_build.room_for_another`)."""

    def __post_init__(self) -> None:
        before = memory.resident()
        m = self.model
        self.index = LiveIndex.from_index(m.layering_index(), m.account_ids, m.account_index)
        self.index.pool = shared_pool()
        self._journal = Journal(self.data_dir)
        self._committer = GroupCommitter(weak_write(self._write), "relgraph-journal")
        self._lock = threading.Lock()
        """Held while a batch is validated (keys reserved) or applied: one writer."""
        self._seen: dict[str, str] = {}
        """Content of every tx_id sent to this server (journal included)."""
        self._opening: dict[str, tuple[str, Commit | None]] = {}
        """Accounts accepted and not yet registered (journal write pending): their content
        and the write."""
        self._inflight: dict[str, Commit] = {}
        """tx_ids accepted and their journal write, until it is known to have ended."""
        self._account_content: dict[str, str] = {}
        """Content of every account sent to this server (journal included)."""
        self._known: set[str] = set()
        """Ids of every alert found live or stored (``extends`` is judged against it)."""
        self._account_alerts: dict[int, dict[str, float]] = {}
        # catch_up reads on. Merged accounts are read: a resend is judged by their content.
        merged = int(m.projection.meta.get(META_SEQ, "0"))
        self._journal_read = Follower(
            self.data_dir, (ACCOUNT, TRANSFER), merged=(TRANSFER,), upto=merged
        )
        self._replaced: set[str] = set()
        self._by_tx: dict[str, set[str]] = {}
        """Per transfer: the live alerts holding it (:meth:`_supersede` reads it)."""
        self._since_evict = 0
        self._evict_due = False
        """The last batch crossed :data:`EVICT_EVERY`: its eviction runs first (_evict_if_due)."""
        self._upkeeper: threading.Thread | None = None
        """The thread running the due eviction after its batch's answer (:meth:`_upkeep`)."""
        edges = m.projection.edge("Account", "TRANSFER", "Account")
        self._stored_tx = edges.attrs["tx_id"].to_numpy(object)
        hashes = id_hashes(self._stored_tx)
        self._stored_order = np.argsort(hashes, kind="stable")
        self._stored_hash = hashes[self._stored_order]
        self._stored_src = edges.src
        self._stored_dst = edges.dst
        self._stored_amount = edges.attrs["amount"].to_numpy(np.float64)
        self._stored_ts = edges.attrs["ts"].to_numpy(np.int64)
        self._transfer_hub = standing.transfer_hubs(
            edges.src, edges.dst, len(m.account_ids), self.index.params.hub_partners
        )
        """Accounts with more counterparties than ``hub_partners`` in the loaded bank: they
        take no risk from another account's fan (analytics/layering/standing.py)."""
        self._newest_loaded = int(self._stored_ts.max(initial=np.iinfo(np.int64).min))
        """The loaded bank's newest transfer: with the server's clock, what a live one's
        time is judged against (never the live clock, which accepted times move)."""
        if m.results.risk_chains is not None:
            self._known.update(str(c) for c in m.results.risk_chains.columns["chain_id"])
        self._replay()
        self._evict_if_due()  # before any request: nobody waits for it here
        self._shown: tuple[FoundAlert, ...] = tuple(self.alerts.values())
        after = memory.resident()
        self.footprint = 0 if after is None or before is None else after - before

    def catch_up(self) -> int:
        """A refresh built this beside a live scoring that kept taking batches: apply what
        the journal gained since this one read it; how many entries that was."""
        with self._lock:
            gained = self._replay()
            self._evict_if_due()
            self._shown = tuple(self.alerts.values())
            return gained

    def _is_transfer_hub(self, account: int) -> bool:
        # Accounts opened since the load are not among the loaded bank's hubs.
        return account < len(self._transfer_hub) and bool(self._transfer_hub[account])

    # -- the journal ---------------------------------------------------------------------

    def _write(self, batches: list[dict[str, Any]]) -> None:
        """Group commit: every batch queued during the last fsync, one append (all or
        nothing) per run of one kind and key; each batch hears its own append's fate."""
        runs: list[tuple[str, str, list[dict[str, Any]], list[int]]] = []
        for i, batch in enumerate(batches):
            if runs and runs[-1][0] == batch["kind"] and runs[-1][1] == batch["by"]:
                runs[-1][2].extend(batch["records"])
                runs[-1][3].append(i)
            else:
                runs.append((batch["kind"], batch["by"], list(batch["records"]), [i]))
        errors: list[Exception | None] = [None] * len(batches)
        for kind, by, records, members in runs:
            try:
                self._journal.append(kind, records, by=by)
            except JournalError as exc:
                for i in members:
                    errors[i] = exc
        if any(e is not None for e in errors):
            raise PartialCommitError(errors)

    def _replay(self) -> int:
        """Apply the journal's accounts and transfers the store does not hold yet, those
        appended since the last call; how many entries were read. Alerts they complete
        keep the time their transfer was written as ``foundAt`` and are not counted again
        in the metrics: they were found before the restart."""
        read, replayed, orphans, unheld = 0, 0, 0, 0
        for entry in self._journal_read.entries():
            read += 1
            data = dict(entry.data)
            if entry.kind == ACCOUNT:
                data = dict(opening_day(data, self.index.zone))  # as a resend now reads
                self._account_content.setdefault(str(data["account_id"]), account_content(data))
                if self.index.account(str(data["account_id"])) is None:
                    self._add_account(held_opening(data))
                continue
            tx_id = str(data["tx_id"])
            if tx_id in self._seen or self._stored_content(tx_id) is not None:
                continue
            self._seen[tx_id] = content(data)  # recorded: a resend is a duplicate
            if out_of_window(self.index.origin, self._newest_loaded, data.get("ts")):
                # Journalled by a release that did not refuse such times (epoch seconds,
                # the year 2999): in the index it failed every later transfer, restarts too.
                unheld += 1
                continue
            ends = (self.index.account(str(data[k])) for k in ("from_account", "to_account"))
            if None in ends:  # the last load quarantined it: its account left the export
                orphans += 1
                continue
            self._apply([data], written=entry.at)
            replayed += 1
        if replayed:
            log.info("replayed %s journalled transfers into the live index", f"{replayed:,}")
        if orphans:
            log.warning("%s journalled transfers name accounts the loaded bank does not hold "
                        "(quarantined by the last load: see its report); not replayed",
                        f"{orphans:,}")  # fmt: skip
        if unheld:
            log.warning("%s journalled transfers have times the live index cannot hold (before "
                        "the bank's first transfer or past tomorrow: accepted by an earlier "
                        "release); not replayed, and the next `relgraph load` reads them as a "
                        "file's rows", f"{unheld:,}")  # fmt: skip
        return read

    def _stored_span(self, tx_ids: list[str]) -> tuple[list[int], list[int]]:
        """Per id: where its hash lies among the loaded transfers' (an empty range: none of
        them has this id), every id of a batch in one search."""
        keys = id_hashes(np.array(tx_ids, object))
        lo = np.searchsorted(self._stored_hash, keys, "left")
        return lo.tolist(), np.searchsorted(self._stored_hash, keys, "right").tolist()

    def _stored_content(self, tx_id: str, span: tuple[int, int] | None = None) -> str | None:
        """The content of a loaded transfer with this id (``span``: its
        :meth:`_stored_span`, when the caller searched a batch at once), or None."""
        lo, hi = span if span is not None else next(zip(*self._stored_span([tx_id]), strict=True))
        for at in self._stored_order[lo:hi].tolist():
            if self._stored_tx[at] == tx_id:
                ids = self.model.account_ids
                return content(
                    {
                        "from_account": ids[int(self._stored_src[at])],
                        "to_account": ids[int(self._stored_dst[at])],
                        "amount": self._stored_amount[at],
                        "ts": self._stored_ts[at],
                    },
                    currency=False,
                )
        return None

    # -- transfers -----------------------------------------------------------------------

    def validate_transfers(self, body: Any, by: str) -> Validated:
        """Check every record, reserve the new ``tx_id`` values and queue their journal
        write (``commit``; then :meth:`apply`). The answer per record
        is filled in for rejected and duplicate records; a duplicate of a transfer whose
        write is still in flight names that write in ``waits``: answer after it."""
        records = batch_records(body)
        started = time.perf_counter()
        checked = [check_record(tables.TRANSFERS, raw, self.index.zone) for raw in records]
        ids = [text_of(c.values.get("tx_id") or raw.get("tx_id") or "")
               for c, raw in zip(checked, records, strict=True)]  # fmt: skip
        # The loaded transfers are searched by the id the rules read (stripped), as the
        # loader keys them: " T1" is T1.
        spans = zip(*self._stored_span(ids), strict=True)
        batch = Validated([], [], [])
        with self._lock:
            self._taking()  # its journal is drained before the rebuild reads it
            try:
                for one, tx_id, span in zip(checked, ids, spans, strict=True):
                    self._check_transfer(one.values, list(one.reasons), tx_id, span, batch)
                if batch.fresh:
                    # Queued under the lock: a resend that finds the id reserved finds
                    # the write to wait for too.
                    rows = [dict(p.values) for p in batch.fresh]
                    batch.commit = self._committer.submit(
                        {"kind": TRANSFER, "by": by, "records": rows}
                    )
                    for p in batch.fresh:
                        self._inflight[str(p.values["tx_id"])] = batch.commit
            except BaseException:
                self._end(batch.fresh, ok=False)
                raise
        self.timings.validate += time.perf_counter() - started
        return batch

    def _check_transfer(
        self,
        values: dict[str, Any],
        reasons: list[str],
        tx_id: str,
        span: tuple[int, int],
        batch: Validated,
    ) -> None:
        """One transfer record under the lock: its answer and, when new, its reservation."""
        result: dict[str, Any] = {"tx_id": tx_id}
        batch.results.append(result)
        if not reasons:
            reasons += out_of_window(self.index.origin, self._newest_loaded, values.get("ts"))
        for side in ("from_account", "to_account"):
            account = values.get(side)
            if account is not None and self.index.account(str(account)) is None:
                reasons.append(
                    f"unknown_foreign_key: {side} {shown(account)} is no loaded account "
                    "(send new accounts to /v1/accounts first)"
                )
        if reasons:
            result.update(status="rejected", reasons=reasons)
            return
        pending = self._inflight.get(tx_id)
        if pending is not None and pending.done:
            del self._inflight[tx_id]
            if pending.error is not None:  # its write failed: the id is free again
                self._seen.pop(tx_id, None)
            pending = None
        sent = content(values)
        before = self._seen.get(tx_id)
        if before is None and (stored := self._stored_content(tx_id, span)) is not None:
            before = sent if stored == content(values, currency=False) else stored
        if before is not None and before != sent:
            result.update(
                status="rejected",
                reasons=[f"duplicate_key: tx_id {shown(tx_id)} was recorded before with "
                         "other content (send a new tx_id for a new transfer)"],
            )  # fmt: skip
            return
        if before is not None:
            # "duplicate" means recorded: a write still in flight is waited for first.
            result.update(status="duplicate")
            if pending is not None:
                batch.waits.append(pending)
            return
        self._seen[tx_id] = sent  # reserved: a concurrent resend waits, then is a duplicate
        result.update(status="accepted")
        batch.fresh.append(Pending(values, result))

    def _end(self, fresh: list[Pending], ok: bool) -> None:
        """Under the lock: the reservations of ``fresh`` end, kept when ``ok``."""
        for p in fresh:
            tx_id = str(p.values["tx_id"])
            self._inflight.pop(tx_id, None)
            if not ok:
                self._seen.pop(tx_id, None)

    def apply(
        self,
        fresh: list[Pending],
        audit_as: dict[str, str] | None,
        commit: Commit | None = None,
        on_verdict: Callable[[], None] | None = None,
    ) -> list[Commit]:
        """Apply ``fresh`` to the live index and fill in their verdicts while their journal
        write (``commit``) is in flight, then wait for it; ``on_verdict`` runs as soon as
        the verdicts are known (the endpoint queues its audit line there, so that line's
        flush overlaps the journal's instead of following it). Returns the audit lines of
        the new alerts (queued once the write is durable): an answer waits for them too.

        Nothing tentative is shown: the lock is held until the write is durable (every
        other batch is scored under it, and readers see the alerts :meth:`_publish`
        showed). When the write fails, the index holds transfers that were never recorded:
        it is dropped (:class:`IndexDroppedError` for every batch still to reach it) and the
        next :func:`relgraph.api.live_build.live_of` rebuilds it from the store and the
        journal — undoing a verdict's changes to every list and alert it touched would be
        a second, rarely run copy of the scoring."""
        with self._lock:
            self._usable()
            try:
                verdicts, found = self._apply([p.values for p in fresh])
                for p, verdict in zip(fresh, verdicts, strict=True):
                    p.result["verdict"] = verdict
                if on_verdict is not None:
                    on_verdict()
            except BaseException:  # applied in part: rebuilt as after a failed write
                self.broken, self.dropped_why = True, "applying a batch to it failed"
                self._ended(fresh, commit)
                raise
            if not self._ended(fresh, commit):
                self.broken, self.dropped_why = True, "a journal write failed"
                assert commit is not None
                assert commit.error is not None
                raise commit.error
            lines = self._publish(found, audit_as)
            if self._evict_due:
                # Started under the lock, so it cannot miss the flag; it takes the lock
                # once this batch has let it go, and its answer leaves meanwhile.
                self._upkeeper = threading.Thread(
                    target=self._upkeep, name="relgraph-evict", daemon=True
                )
                self._upkeeper.start()
            return lines

    def _ended(self, fresh: list[Pending], commit: Commit | None) -> bool:
        """Under the lock: wait for ``commit`` (the fsync lets the GIL go), end the
        reservations of ``fresh``; whether it is durable."""
        started = time.perf_counter()
        ok = True
        if commit is not None:
            try:
                commit.wait()
            except Exception:
                ok = False
            self.timings.journal += time.perf_counter() - started
        self._end(fresh, ok=ok)
        return ok

    def drain(self) -> None:
        """Wait until every journal write queued here has ended (the writer takes them in
        order): a rebuild then replays each one that was recorded. An eviction still
        running ends first too: no thread is left working on a dropped index."""
        with contextlib.suppress(Exception):
            self._committer.submit({"kind": TRANSFER, "by": "", "records": []}).wait()
        upkeeper = self._upkeeper
        if upkeeper is not None:
            upkeeper.join()

    def _evict_if_due(self) -> None:
        """Under the lock: the eviction the last batch made due, if it has not run yet.

        Run inside the batch that crossed :data:`EVICT_EVERY` it cost that answer 22-42 ms
        at 100,000 customers, 0.26-0.3 s at a million. It runs after that answer
        (:meth:`_upkeep`), or here when the next batch takes the lock first: between the
        same two batches either way, so every verdict reads the index it read then (a
        verdict depends on when rows leave: a late arrival reaching past the last cutoff
        is cut, an eviction refreshes live rows' pair numbers, and the fan peaks it keeps
        are read from the rows added since the last one)."""
        if self._evict_due:
            self._evict_due = False
            self.index.evict()

    def _upkeep(self) -> None:
        """The upkeep thread: the due eviction, under the lock, unless the index was
        dropped or retired meanwhile (it is rebuilt or replaced). An eviction that fails
        leaves its lists half done: the index is dropped, as after a failed write."""
        with self._lock:
            if self.broken or self.retired:
                return
            try:
                self._evict_if_due()
            except Exception:
                self.broken, self.dropped_why = True, "an eviction failed"
                log.exception("evicting from the live index failed: it is rebuilt from the "
                              "store and the journal")  # fmt: skip

    def retire(self) -> None:
        """Before a successor reads the journal (or its catch-up): take no more batches, and
        return once every write queued here has ended, so that the successor replays each
        batch this one acknowledges. One validated after is refused (503, send again)."""
        self.retired = True  # before the lock: a batch holds it through its journal write
        with self._lock:
            pass  # a batch validating now queues its write before the drain below
        self.drain()

    def _publish(
        self, found: list[tuple[FoundAlert, str]], audit_as: dict[str, str] | None
    ) -> list[Commit]:
        """Under the lock, once a batch is durable: its alerts are shown (``foundAt`` now,
        when they are recorded), counted, and written to the audit log (their lines'
        commits returned, not waited for)."""
        now = datetime.now(UTC)
        stamp = now.isoformat(timespec="milliseconds"), int(now.timestamp() * 1000)
        for i, (tentative, trigger) in enumerate(found):
            found[i] = (FoundAlert(tentative.alert, *stamp), trigger)
            if tentative.alert.chain_id in self.alerts:  # not grown past within the batch
                self.alerts[tentative.alert.chain_id] = found[i][0]
        self._shown = tuple(self.alerts.values())
        above = [(f, t) for f, t in found if f.alert.score >= self.index.params.score_threshold]
        for f, _ in above:
            if self.on_alert is not None:
                self.on_alert(f.alert.typology)
        if audit_as is None or self.audit is None:
            return []
        lines: list[Commit] = []
        for f, trigger in above:
            alert = f.alert
            lines.append(self.audit.submit(
                key_id=audit_as["key_id"],
                role=audit_as["role"],
                operation="realtimeAlert",
                outcome="alert",
                request_id=audit_as.get("request_id", "-"),
                ids=sorted(alert.accounts),
                chain_id=alert.chain_id,
                typology=alert.typology,
                score=round(alert.score, 4),
                trigger=trigger,
            ))  # fmt: skip
        return lines

    def _apply(
        self, records: Sequence[Mapping[str, Any]], written: str | None = None
    ) -> tuple[list[dict[str, Any]], list[tuple[FoundAlert, str]]]:
        """Under the lock: apply ``records``; their verdicts, and the new alerts with the
        transfer that found each. ``written``: when replaying the journal, the time the
        records were written (their alerts were found then)."""
        self._evict_if_due()
        out: list[dict[str, Any]] = []
        new_alerts: list[tuple[FoundAlert, str]] = []
        # Each transfer joins the index and its neighbourhood is read at once (its verdict
        # sees the batch's earlier transfers, not its later ones); then the whole batch is
        # scored in one pass (analytics/layering/union.py).
        ends: list[tuple[int, int]] = []
        rows: list[int] = []
        prepared: list[Prepared] = []
        for values in records:
            t0 = time.perf_counter()
            src = self.index.account(str(values["from_account"]))
            dst = self.index.account(str(values["to_account"]))
            assert src is not None
            assert dst is not None
            # An amount in another currency is no amount the definitions can compare
            # (hops.foreign_currency): NaN, as the batch reads it.
            foreign = values.get("currency", REPORTING_CURRENCY) != REPORTING_CURRENCY
            amount = float("nan") if foreign else float(values["amount"])
            row = self.index.add(str(values["tx_id"]), src, dst, amount, int(values["ts"]))
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
        now = datetime.now(UTC) if written is None else datetime.fromisoformat(written)
        found_at = now.astimezone(UTC).isoformat(timespec="milliseconds")
        threshold = self.index.params.score_threshold
        for values, (src, dst), verdict in zip(records, ends, verdicts, strict=True):
            alerts: list[dict[str, Any]] = []
            for alert in verdict.alerts:
                fresh = alert.chain_id not in self._known
                self._known.add(alert.chain_id)
                self._grew(alert)
                if fresh:
                    self._supersede(alert)
                    new = FoundAlert(alert, found_at, int(now.timestamp() * 1000))
                    self.alerts[alert.chain_id] = new
                    new_alerts.append((new, str(values["tx_id"])))
                # The new transfer is in the alert: both its accounts take its score,
                # unless one is a transfer hub paying into or paid from another's fan.
                for a in (src, dst):
                    if alert.hub < 0 or a == alert.hub or not self._is_transfer_hub(a):
                        self._account_alerts.setdefault(a, {})[alert.chain_id] = alert.score
                alerts.append(
                    {
                        "chain_id": alert.chain_id,
                        "typology": alert.typology,
                        "score": round(alert.score, 4),
                        "hops": alert.size,
                        "extends": alert.extends,
                        "above_threshold": alert.score >= threshold,
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
            self._evict_due = True  # after this batch's answer (apply), not within it
            self._since_evict = 0
        return out, new_alerts

    def record_transfers(
        self, body: Any, by: str, audit_as: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """All four steps, blocking (the GraphQL mutation and the CLI use this)."""
        batch = self.validate_transfers(body, by)
        if batch.commit is not None:
            self.apply(batch.fresh, audit_as, batch.commit)
        # Resends of transfers other requests were writing: answered once those are on
        # disk; when one is not, JournalError (what this batch wrote is applied already:
        # sent again, it is a duplicate).
        await_commits(batch.waits)
        return summary(batch.results)

    def live_alerts(self) -> list[FoundAlert]:
        """The alerts shown: those of durable transfers (:meth:`_publish`), read without
        the lock, which a batch holds through its journal write."""
        return list(self._shown)
