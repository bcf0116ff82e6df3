"""The two device flushes of a transfer batch — the journal's and the audit line's — and
what is shown while they are in flight: an answer waits for both, issued together, and no
reader sees a transfer (or an alert resting on it) before its journal write is durable."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from relgraph.api.app import ServiceState
from relgraph.api.auth import Role
from relgraph.api.live_build import live_of
from relgraph.api.readmodel import ReadModel
from relgraph.config import format_moment
from relgraph.journal import TRANSFER, JournalError, read

from .test_ingestion import _after_all, _chain, _mules, graphql, post

_CHAINS = "query($a: ID) { riskChains(filter: {accountId: $a}) { edges { node { id foundBy } } } }"


def _data_dir(state: ServiceState) -> Path:
    assert state.data_dir is not None
    return state.data_dir


def _audit_lines(state: ServiceState) -> list[dict[str, Any]]:
    return [json.loads(x) for x in state.audit.path.read_text("utf-8").splitlines()]


def _watch_audit(state: ServiceState, operation: str) -> threading.Event:
    """An event set when the audit writer starts on a line of ``operation``."""
    seen = threading.Event()
    committer = state.audit._committer
    real = committer._write

    def write(records: list[dict[str, Any]]) -> None:
        if any(r.get("operation") == operation for r in records):
            seen.set()
        real(records)

    committer._write = write
    return seen


def test_the_audit_line_is_flushed_while_the_journal_write_is_in_flight(
    app: Any, state: ServiceState, model: ReadModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every batch waited for the journal's fsync, then scored, then waited for the audit
    # line's fsync: two device flushes in series (p50 3.9 ms each here) before any answer.
    live = live_of(state)
    real = live._journal.append
    audit_started = _watch_audit(state, "POST /v1/transfers")
    overlapped: list[bool] = []

    def append(kind: str, records: Any, *, by: str) -> Any:
        if records:  # the audit line is queued, and written, before this write ends
            overlapped.append(audit_started.wait(3))
        return real(kind, records, by=by)

    monkeypatch.setattr(live._journal, "append", append)
    ts = _after_all(model)
    a, b = model.account_ids[:2]
    sent = {"tx_id": "RT-H-1", "from_account": a, "to_account": b, "amount": 120.0,
            "currency": "CNY", "ts": ts}  # fmt: skip
    answer = post(app, "/v1/transfers", [sent])
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"][0]["verdict"] is not None
    assert overlapped == [True]
    assert "RT-H-1" in {e.data["tx_id"] for e in read(_data_dir(state), [TRANSFER])}
    (line,) = [x for x in _audit_lines(state) if x.get("operation") == "POST /v1/transfers"]
    assert line["outcome"] == "ok"
    assert set(line["ids"]) >= {a, b}


def test_an_alert_whose_transfer_fails_to_be_written_is_never_shown(
    app: Any, state: ServiceState, model: ReadModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The verdict is computed while the journal write is in flight; the write then fails.
    # No reader may have seen the alert meanwhile, the answer is a 503, the audit line
    # already queued for the verdict is followed by one saying it was withheld, and the
    # next batch is scored on an index without the transfer (rebuilt from the journal).
    ids = _mules(app, model, "FLSH")
    legs = _chain(ids, _after_all(model), "RT-FL-")
    assert post(app, "/v1/transfers", legs[:2]).json()["accepted"] == 2
    live = live_of(state)
    real = live._journal.append
    scored = _watch_audit(state, "POST /v1/transfers")
    writing, fail = threading.Event(), threading.Event()

    def append(kind: str, records: Any, *, by: str) -> Any:
        if any(r.get("tx_id") == "RT-FL-2" for r in records):
            writing.set()
            fail.wait(5)
            raise JournalError("no space left on device")
        return real(kind, records, by=by)

    monkeypatch.setattr(live._journal, "append", append)
    answers: list[httpx.Response] = []
    sender = threading.Thread(target=lambda: answers.append(post(app, "/v1/transfers", legs[2:])))
    sender.start()
    assert writing.wait(5)
    scored.wait(3)  # the verdict is known (its audit line queued): the alert is in the index
    shown = graphql(app, _CHAINS, Role.RISK, a=ids[0])["data"]["riskChains"]["edges"]
    assert [e["node"] for e in shown if e["node"]["foundBy"] == "REALTIME"] == []
    assert live.live_alerts() == []
    fail.set()
    sender.join(10)
    (answer,) = answers
    assert answer.status_code == 503, answer.text
    assert "journal cannot be written" in answer.json()["errors"][0]["message"]
    shown = graphql(app, _CHAINS, Role.RISK, a=ids[0])["data"]["riskChains"]["edges"]
    assert [e["node"] for e in shown if e["node"]["foundBy"] == "REALTIME"] == []
    lines = [x for x in _audit_lines(state) if x.get("operation") == "POST /v1/transfers"]
    assert [x["outcome"] for x in lines[-2:]] == ["ok", "withheld"]
    assert lines[-1]["request_id"] == lines[-2]["request_id"]

    # With the disk back, the same transfer is new (nothing was recorded), scored on an
    # index rebuilt from the store and the journal: one chain of three hops, listed once.
    monkeypatch.undo()
    again = post(app, "/v1/transfers", legs[2:])
    assert again.status_code == 200, again.text
    (result,) = again.json()["results"]
    assert result["status"] == "accepted"
    (alert,) = [a for a in result["verdict"]["alerts"] if a["typology"] == "layering_chain"]
    assert alert["hops"] == 3
    assert live_of(state) is not live
    shown = graphql(app, _CHAINS, Role.RISK, a=ids[0])["data"]["riskChains"]["edges"]
    assert [e["node"]["id"] for e in shown if e["node"]["foundBy"] == "REALTIME"] == [
        alert["chain_id"]
    ]
    journalled = [e.data["tx_id"] for e in read(_data_dir(state), [TRANSFER])]
    assert journalled.count("RT-FL-2") == 1


def test_a_batch_scored_behind_a_failed_write_is_answered_503_and_recorded(
    app: Any, state: ServiceState, model: ReadModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A second batch, validated while the first one's write was in flight, reaches the
    # scorer after that write failed: the index it would be scored on is dropped, so it is
    # told to send again; its own write went through, so the resend is a duplicate.
    live = live_of(state)
    real = live._journal.append
    second_queued, fail = threading.Event(), threading.Event()

    def append(kind: str, records: Any, *, by: str) -> Any:
        if any(r.get("tx_id") == "RT-FB-1" for r in records):
            fail.wait(5)
            raise JournalError("no space left on device")
        return real(kind, records, by=by)

    real_validate = live.validate_transfers

    def validate(body: Any, by: str) -> Any:
        batch = real_validate(body, by)
        if body[0]["tx_id"] == "RT-FB-2":
            second_queued.set()
        return batch

    real_apply = live.apply
    first_scored = _watch_audit(state, "POST /v1/transfers")

    def apply(*args: Any, **kwargs: Any) -> Any:
        if args[0][0].values["tx_id"] == "RT-FB-1":
            second_queued.wait(5)  # the second batch is validated, its write queued
            fail.set()
        else:  # scored after the first: on the index holding the first's transfer
            first_scored.wait(5)
        return real_apply(*args, **kwargs)

    monkeypatch.setattr(live._journal, "append", append)
    monkeypatch.setattr(live, "validate_transfers", validate)
    monkeypatch.setattr(live, "apply", apply)
    ts = _after_all(model)
    a, b, c = model.account_ids[:3]
    first = {"tx_id": "RT-FB-1", "from_account": a, "to_account": b, "amount": 300.0,
             "currency": "CNY", "ts": ts}  # fmt: skip
    second = {**first, "tx_id": "RT-FB-2", "from_account": b, "to_account": c, "ts": ts + 1}
    answers: dict[str, httpx.Response] = {}
    # Two keys: one group commit writes each key's batches in an append of their own.
    senders = [
        threading.Thread(target=lambda t=t, r=r: answers.update(
            {t["tx_id"]: post(app, "/v1/transfers", [t], role=r)}))
        for t, r in ((first, Role.INGEST), (second, Role.ADMIN))
    ]  # fmt: skip
    senders[0].start()
    senders[1].start()
    for s in senders:
        s.join(15)
    assert answers["RT-FB-1"].status_code == 503, answers["RT-FB-1"].text
    assert answers["RT-FB-2"].status_code == 503, answers["RT-FB-2"].text
    assert "send the batch again" in answers["RT-FB-2"].json()["errors"][0]["message"]
    monkeypatch.undo()
    resent = post(app, "/v1/transfers", [first, second]).json()["results"]
    assert [r["status"] for r in resent] == ["accepted", "duplicate"]
    journalled = [e.data["tx_id"] for e in read(_data_dir(state), [TRANSFER])]
    assert journalled.count("RT-FB-1") == 1
    assert journalled.count("RT-FB-2") == 1


def test_an_answer_leaves_after_the_audit_lines_of_the_alerts_it_hands_out(
    app: Any, state: ServiceState, model: ReadModel
) -> None:
    # The request's line is queued with the verdicts, the alerts' lines once the journal
    # write is durable: a slow audit flush took the request's line alone, and the answer
    # (naming the alert) left before the alert's line was on disk.
    committer = state.audit._committer
    real = committer._write

    def slow(records: list[dict[str, Any]]) -> None:
        time.sleep(0.2)
        real(records)

    committer._write = slow
    try:
        legs = _chain(_mules(app, model, "FLAL"), _after_all(model), "RT-FA-")
        answer = post(app, "/v1/transfers", legs).json()
        lines = _audit_lines(state)
    finally:
        committer._write = real
    alerts = {a["chain_id"] for r in answer["results"] for a in r["verdict"]["alerts"]
              if a["above_threshold"]}  # fmt: skip
    assert alerts
    written = {x["chain_id"] for x in lines if x.get("operation") == "realtimeAlert"}
    assert alerts <= written


_RECORD = ("mutation Send($t: [TransferInput!]!) { recordTransfers(transfers: $t) { accepted "
           "results { status reasons verdict { alerts { chainId aboveThreshold } } } } }")  # fmt: skip


def _inputs(transfers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"txId": t["tx_id"], "fromAccount": t["from_account"], "toAccount": t["to_account"],
             "amount": t["amount"], "currency": t["currency"],
             "timestamp": format_moment(int(t["ts"]), ZoneInfo("Asia/Shanghai"))}
            for t in transfers]  # fmt: skip


def test_a_graphql_batch_s_audit_line_is_flushed_while_its_journal_write_is_in_flight(
    app: Any, state: ServiceState, model: ReadModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # recordTransfers waited for the journal's fsync, then the operation ended and its
    # audit line was queued and flushed: two device flushes in series, where POST
    # /v1/transfers issues them together. One line per request all the same.
    live = live_of(state)
    real = live._journal.append
    audit_started = _watch_audit(state, "Send")
    overlapped: list[bool] = []

    def append(kind: str, records: Any, *, by: str) -> Any:
        if records:  # the audit line is queued, and written, before this write ends
            overlapped.append(audit_started.wait(3))
        return real(kind, records, by=by)

    monkeypatch.setattr(live._journal, "append", append)
    a, b = model.account_ids[:2]
    sent = {"tx_id": "RT-HG-1", "from_account": a, "to_account": b, "amount": 120.0,
            "currency": "CNY", "ts": _after_all(model)}  # fmt: skip
    answer = graphql(app, _RECORD, Role.INGEST, t=_inputs([sent]))
    assert "errors" not in answer, answer
    assert answer["data"]["recordTransfers"]["accepted"] == 1
    assert overlapped == [True]
    assert "RT-HG-1" in {e.data["tx_id"] for e in read(_data_dir(state), [TRANSFER])}
    (line,) = [x for x in _audit_lines(state) if x.get("operation") == "Send"]
    assert line["outcome"] == "ok"
    assert line["fields"] == ["recordTransfers"]
    assert set(line["ids"]) >= {a, b}


def test_a_graphql_batch_whose_journal_write_fails_after_its_line_is_withheld(
    app: Any, state: ServiceState, model: ReadModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The line naming the verdicts is durable before the journal write fails: the answer is
    # an error without data, and a second line for the request says it was withheld.
    live = live_of(state)
    real = live._journal.append
    line_written = threading.Event()
    committer = state.audit._committer
    real_write = committer._write

    def write(records: list[dict[str, Any]]) -> None:
        real_write(records)
        if any(r.get("operation") == "Send" for r in records):
            line_written.set()

    def append(kind: str, records: Any, *, by: str) -> Any:
        if any(r.get("tx_id") == "RT-HG-F" for r in records):
            assert line_written.wait(3), "the request's line was written first"
            raise JournalError("no space left on device")
        return real(kind, records, by=by)

    monkeypatch.setattr(committer, "_write", write)
    monkeypatch.setattr(live._journal, "append", append)
    a, b = model.account_ids[:2]
    sent = {"tx_id": "RT-HG-F", "from_account": a, "to_account": b, "amount": 130.0,
            "currency": "CNY", "ts": _after_all(model)}  # fmt: skip
    response = post(app, "/graphql", {"query": _RECORD, "variables": {"t": _inputs([sent])}})
    # Worded as POST /v1/transfers words it, not masked as an internal fault: send again.
    assert response.status_code == 503, response.text
    answer = response.json()
    assert answer["data"] is None
    assert answer["errors"][0]["extensions"]["code"] == "INTERNAL"
    assert answer["errors"][0]["message"] == (
        "Service unavailable: the journal cannot be written, so nothing was recorded; send "
        "the batch again later."
    )
    lines = [x for x in _audit_lines(state) if x.get("operation") == "Send"]
    assert [x["outcome"] for x in lines] == ["ok", "withheld"]
    assert lines[1]["request_id"] == lines[0]["request_id"]
    assert lines[1]["reason"] == "journal"
    assert lines[1]["fields"] == []
    monkeypatch.undo()
    again = graphql(app, _RECORD, Role.INGEST, t=_inputs([sent]))
    assert again["data"]["recordTransfers"]["accepted"] == 1


def test_a_graphql_answer_leaves_after_the_audit_lines_of_the_alerts_it_hands_out(
    app: Any, state: ServiceState, model: ReadModel
) -> None:
    # The request's line is queued with the verdicts, the alerts' lines once the journal
    # write is durable: the answer waits for both, as POST /v1/transfers does.
    committer = state.audit._committer
    real = committer._write

    def slow(records: list[dict[str, Any]]) -> None:
        time.sleep(0.2)
        real(records)

    legs = _chain(_mules(app, model, "FLGQ"), _after_all(model), "RT-FG-")
    committer._write = slow
    try:
        answer = graphql(app, _RECORD, Role.INGEST, t=_inputs(legs))
        lines = _audit_lines(state)
    finally:
        committer._write = real
    results = answer["data"]["recordTransfers"]["results"]
    alerts = {a["chainId"] for r in results for a in r["verdict"]["alerts"] if a["aboveThreshold"]}
    assert alerts
    written = {x["chain_id"] for x in lines if x.get("operation") == "realtimeAlert"}
    assert alerts <= written
    assert [x["outcome"] for x in lines if x.get("operation") == "Send"] == ["ok"]


def test_a_graphql_batch_recorded_past_the_query_deadline_is_answered_with_its_verdicts(
    app: Any, state: ServiceState, model: ReadModel
) -> None:
    # Its reads were noted after the journal write, through the deadline check: a batch
    # whose scoring and write took longer than the deadline (2 s; a thousand payments to
    # merchants take seconds) was recorded, then answered "Query deadline exceeded".
    state.deadline_seconds = 0.0
    a, b = model.account_ids[:2]
    sent = {"tx_id": "RT-HG-D", "from_account": a, "to_account": b, "amount": 140.0,
            "currency": "CNY", "ts": _after_all(model)}  # fmt: skip
    answer = graphql(app, _RECORD, Role.INGEST, t=_inputs([sent]))
    assert "errors" not in answer, answer
    (result,) = answer["data"]["recordTransfers"]["results"]
    assert result["status"] == "accepted"
    assert "RT-HG-D" in {e.data["tx_id"] for e in read(_data_dir(state), [TRANSFER])}
