"""A refresh (``relgraph analyze``, then SIGHUP or the ``refresh`` mutation) swaps the live
scoring for one built over the new graph, which reads the journal: every transfer and
account the old one acknowledged must be in it, and the old one takes nothing more."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from relgraph.api import app as app_module
from relgraph.api import ingestion, live_build
from relgraph.api.app import ServiceState
from relgraph.api.auth import Role
from relgraph.api.live import LiveScoring
from relgraph.api.live_accounts import IndexDroppedError
from relgraph.api.live_build import live_of, room_for_another
from relgraph.api.readmodel import ReadModel
from relgraph.api.server import load_model
from relgraph.journal import ACCOUNT, TRANSFER, JournalError, journal_dir, read
from relgraph.store.embedded import EmbeddedStore
from tests.waits import until

from .test_ingestion import _after_all, _chain, _mules, _quiet_customers, graphql, post
from .test_ingestion_flushes import _RECORD, _inputs

HOLD_SECONDS = 10.0
"""How long a held journal write waits for the refresh the test starts meanwhile."""

_CHAINS = "query($a: ID) { riskChains(filter: {accountId: $a}) { edges { node { id foundBy } } } }"


def _journalled(state: ServiceState, kind: str) -> list[dict[str, Any]]:
    assert state.data_dir is not None
    return [dict(e.data) for e in read(state.data_dir, [kind])]


def _refresh_during_write(
    state: ServiceState, data_dir: Path, old: LiveScoring, held: str, send: Any
) -> httpx.Response:
    """Send a batch (``send()``) whose journal write (of a record naming ``held``) is held
    until a refresh has either built the new live scoring or reached the old one; the
    batch's answer once both are done."""
    real = old._journal.append
    writing, release = threading.Event(), threading.Event()

    def append(kind: str, records: Any, *, by: str) -> Any:
        if any(held in (r.get("tx_id"), r.get("account_id")) for r in records):
            writing.set()
            release.wait(HOLD_SECONDS)
        return real(kind, records, by=by)

    old._journal.append = append  # type: ignore[method-assign]
    answers: list[httpx.Response] = []
    sender = threading.Thread(target=lambda: answers.append(send()))
    sender.start()
    assert writing.wait(HOLD_SECONDS), "the batch's journal write started"
    refreshed: list[bool] = []
    refresher = threading.Thread(target=lambda: refreshed.append(
        load_model(state, lambda: EmbeddedStore(data_dir, read_only=True))))  # fmt: skip
    refresher.start()
    # Before the fix the refresh built the new index at once (the write still held); now it
    # retires the old one and waits for its writes: either way, the write may end.
    until(lambda: not refresher.is_alive() or old.retired, "the refresh reached the old index")
    release.set()
    sender.join(HOLD_SECONDS * 2)
    refresher.join(HOLD_SECONDS * 6)
    assert refreshed == [True]
    assert state.live is not None
    assert state.live is not old
    (answer,) = answers
    return answer


def test_a_transfer_acknowledged_during_a_refresh_is_in_every_later_verdict(
    app: Any, state: ServiceState, model: ReadModel, data_dir: Path
) -> None:
    # The refresh built the new live index from the journal while the old one's write of
    # the chain's last leg was in flight: the leg was acknowledged with its alert, then
    # missing from the new index (no alert shown, later verdicts blind to it) and a resend
    # of its tx_id was taken as new, journalled a second time.
    ids = _mules(app, model, "RFSH")
    legs = _chain(ids, _after_all(model), "RT-RS-")
    assert post(app, "/v1/transfers", legs[:2]).json()["accepted"] == 2
    old = live_of(state)
    answer = _refresh_during_write(
        state, data_dir, old, "RT-RS-2", lambda: post(app, "/v1/transfers", legs[2:])
    )
    assert answer.status_code == 200, answer.text
    (result,) = answer.json()["results"]
    assert result["status"] == "accepted"
    (alert,) = [a for a in result["verdict"]["alerts"] if a["typology"] == "layering_chain"]
    shown = graphql(app, _CHAINS, Role.RISK, a=ids[0])["data"]["riskChains"]["edges"]
    assert [e["node"]["id"] for e in shown if e["node"]["foundBy"] == "REALTIME"] == [
        alert["chain_id"]
    ]
    (again,) = post(app, "/v1/transfers", legs[2:]).json()["results"]
    assert again["status"] == "duplicate"
    journalled = [t["tx_id"] for t in _journalled(state, TRANSFER)]
    assert journalled.count("RT-RS-2") == 1


def test_an_account_acknowledged_during_a_refresh_takes_transfers_after_it(
    app: Any, state: ServiceState, model: ReadModel, data_dir: Path
) -> None:
    # The account's write was in flight as the new index read the journal: the account
    # was acknowledged, and every transfer naming it was then refused as unknown.
    old = live_of(state)
    (holder,) = _quiet_customers(model, 1)
    opening = {"account_id": "RF-ACC-1", "holder_id": holder, "holder_kind": "customer",
               "product": "deposit", "opened_at": "2020-01-02"}  # fmt: skip
    answer = _refresh_during_write(
        state, data_dir, old, "RF-ACC-1", lambda: post(app, "/v1/accounts", [opening])
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == 1
    paid = {"tx_id": "RT-RA-1", "from_account": model.account_ids[0], "to_account": "RF-ACC-1",
            "amount": 50.0, "currency": "CNY", "ts": _after_all(model)}  # fmt: skip
    (result,) = post(app, "/v1/transfers", [paid]).json()["results"]
    assert result["status"] == "accepted", result
    assert post(app, "/v1/accounts", [opening]).json()["duplicate"] == 1
    opened = [a["account_id"] for a in _journalled(state, ACCOUNT)]
    assert opened.count("RF-ACC-1") == 1


def test_the_live_scoring_a_refresh_replaced_takes_no_more_records(
    app: Any, state: ServiceState, model: ReadModel, data_dir: Path
) -> None:
    # A request that found the old live scoring before the swap reached it after the new
    # one had read the journal: accepted and journalled there, missing from the new index
    # (until a restart), and the same tx_id could be accepted again by the new one.
    old = live_of(state)
    assert load_model(state, lambda: EmbeddedStore(data_dir, read_only=True))
    assert live_of(state) is not old
    a, b = model.account_ids[:2]
    late = {"tx_id": "RT-RL-1", "from_account": a, "to_account": b, "amount": 75.0,
            "currency": "CNY", "ts": _after_all(model)}  # fmt: skip
    with pytest.raises(IndexDroppedError, match="rebuilt over the refreshed graph"):
        old.record_transfers([late], "k_ingest")
    (holder,) = _quiet_customers(model, 1)
    opening = {"account_id": "RF-ACC-2", "holder_id": holder, "holder_kind": "customer",
               "product": "deposit", "opened_at": "2020-01-02"}  # fmt: skip
    with pytest.raises(IndexDroppedError, match="rebuilt over the refreshed graph"):
        old.record_accounts([opening], "k_ingest")
    assert "RT-RL-1" not in [t["tx_id"] for t in _journalled(state, TRANSFER)]
    assert "RF-ACC-2" not in [t["account_id"] for t in _journalled(state, ACCOUNT)]
    (result,) = post(app, "/v1/transfers", [late]).json()["results"]
    assert result["status"] == "accepted"


def test_a_request_that_reaches_the_replaced_scoring_is_told_to_send_again(
    app: Any,
    state: ServiceState,
    model: ReadModel,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Found before the swap, reached after it: on both paths a worded 503 (not a masked
    # internal error, nor "the journal cannot be written": the disk is fine), nothing
    # recorded, and the batch sent again is taken by the new scoring.
    old = live_of(state)
    assert load_model(state, lambda: EmbeddedStore(data_dir, read_only=True))
    a, b = model.account_ids[:2]
    late = {"tx_id": "RT-RL-2", "from_account": a, "to_account": b, "amount": 76.0,
            "currency": "CNY", "ts": _after_all(model)}  # fmt: skip
    said = (
        "Service unavailable: the live index is being rebuilt from the store and the journal "
        "(after a refresh or a failed write), so nothing was recorded; send the batch again "
        "shortly."
    )
    monkeypatch.setattr(ingestion, "current_live", lambda _state: old)
    response = post(app, "/v1/transfers", [late])
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    assert response.json()["errors"][0]["message"] == said
    monkeypatch.setattr(app_module, "live_of", lambda _state, _model=None: old)
    response = post(app, "/graphql", {"query": _RECORD, "variables": {"t": _inputs([late])}})
    assert response.status_code == 503, response.text
    assert response.json()["data"] is None
    assert response.json()["errors"][0]["message"] == said
    assert "RT-RL-2" not in [t["tx_id"] for t in _journalled(state, TRANSFER)]
    monkeypatch.undo()
    (result,) = post(app, "/v1/transfers", [late]).json()["results"]
    assert result["status"] == "accepted"


def _hold_the_new_build(
    monkeypatch: pytest.MonkeyPatch, old: LiveScoring
) -> tuple[threading.Event, threading.Event]:
    """(building, release): a live scoring other than ``old`` set ``building`` as it starts
    reading the journal, and waits there for ``release`` (its later catch-ups do not)."""
    building, release = threading.Event(), threading.Event()
    replay = LiveScoring._replay
    held: list[bool] = []

    def held_replay(self: LiveScoring) -> int:
        if self is not old and not held:
            held.append(True)
            building.set()
            release.wait(HOLD_SECONDS)
        return replay(self)

    monkeypatch.setattr(LiveScoring, "_replay", held_replay)
    return building, release


def _refresh(state: ServiceState, data_dir: Path, refreshed: list[bool]) -> threading.Thread:
    """A refresh (``load_model``, as SIGHUP runs it) started on a thread of its own."""
    refresher = threading.Thread(target=lambda: refreshed.append(
        load_model(state, lambda: EmbeddedStore(data_dir, read_only=True))))  # fmt: skip
    refresher.start()
    return refresher


def test_a_transfer_sent_while_a_refresh_builds_is_answered_and_in_the_new_index(
    app: Any,
    state: ServiceState,
    model: ReadModel,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A refresh swapped the model, then built the new live index (52 s at a million
    # customers): every payment waited for the whole build. The old index now takes them
    # while the new one is built beside it, and the new one holds each of them once swapped.
    old = live_of(state)
    building, release = _hold_the_new_build(monkeypatch, old)
    refreshed: list[bool] = []
    refresher = _refresh(state, data_dir, refreshed)
    try:
        assert building.wait(HOLD_SECONDS), "the refresh started building the new index"
        (holder,) = _quiet_customers(model, 1)
        opening = {"account_id": "RF-ACC-B", "holder_id": holder, "holder_kind": "customer",
                   "product": "deposit", "opened_at": "2020-01-02"}  # fmt: skip
        paid = {"tx_id": "RT-RB-1", "from_account": model.account_ids[0],
                "to_account": "RF-ACC-B", "amount": 51.0, "currency": "CNY",
                "ts": _after_all(model)}  # fmt: skip
        answers: list[httpx.Response] = []
        sender = threading.Thread(target=lambda: answers.extend(
            [post(app, "/v1/accounts", [opening]), post(app, "/v1/transfers", [paid])]))  # fmt: skip
        sender.start()
        sender.join(HOLD_SECONDS)
        answered_during_build = not sender.is_alive() and not release.is_set()
    finally:
        release.set()
        refresher.join(HOLD_SECONDS * 6)
    sender.join(HOLD_SECONDS)
    assert answered_during_build, "the transfer was answered before the build ended"
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert answers[0].json()["accepted"] == 1
    assert answers[1].json()["results"][0]["status"] == "accepted"
    assert refreshed == [True]
    new = state.live
    assert new is not None
    assert new is not old
    assert new.model is state.model
    # In the new index: a resend is a duplicate, the account takes transfers, nothing twice.
    assert post(app, "/v1/accounts", [opening]).json()["duplicate"] == 1
    (again,) = post(app, "/v1/transfers", [paid]).json()["results"]
    assert again["status"] == "duplicate"
    assert live_of(state) is new
    later = dict(paid, tx_id="RT-RB-2", amount=52.0)
    (after,) = post(app, "/v1/transfers", [later]).json()["results"]
    assert after["status"] == "accepted", after
    assert [t["tx_id"] for t in _journalled(state, TRANSFER)].count("RT-RB-1") == 1
    assert [a["account_id"] for a in _journalled(state, ACCOUNT)].count("RF-ACC-B") == 1


def test_without_memory_for_a_second_index_a_refresh_drops_the_old_one_first(
    app: Any,
    state: ServiceState,
    model: ReadModel,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # Two live indexes at once (~14 GB each at a million customers) do not fit in 24 GB:
    # the refresh then frees the old one before building, and payments wait, as before.
    old = live_of(state)
    old.footprint = 8 * 1024**3
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24000000 kB\nMemAvailable:    9000000 kB\n")
    assert not room_for_another(old, meminfo)  # 8.6 GiB available, 10 GiB needed
    meminfo.write_text("MemTotal:       24000000 kB\nMemAvailable:   12000000 kB\n")
    assert room_for_another(old, meminfo)
    assert room_for_another(old, tmp_path / "no-such-file")  # not Linux: build beside
    monkeypatch.setattr(live_build, "room_for_another", lambda _live: False)
    building, release = _hold_the_new_build(monkeypatch, old)
    refreshed: list[bool] = []
    refresher = _refresh(state, data_dir, refreshed)
    a, b = model.account_ids[:2]
    paid = {"tx_id": "RT-RM-1", "from_account": a, "to_account": b, "amount": 53.0,
            "currency": "CNY", "ts": _after_all(model)}  # fmt: skip
    answers: list[httpx.Response] = []
    sender = threading.Thread(target=lambda: answers.append(post(app, "/v1/transfers", [paid])))
    try:
        assert building.wait(HOLD_SECONDS), "the refresh started building the new index"
        assert old.retired
        assert state.live is None  # the old index is not kept for the build
        sender.start()
        sender.join(0.5)
        assert sender.is_alive(), "the transfer waits for the build"
    finally:
        release.set()
        refresher.join(HOLD_SECONDS * 6)
    sender.join(HOLD_SECONDS)
    assert refreshed == [True]
    (answer,) = answers
    assert answer.json()["results"][0]["status"] == "accepted", answer.text
    assert state.live is not None
    assert state.live.model is state.model
    assert "RT-RM-1" in state.live._seen


def test_a_write_cut_off_after_the_new_index_read_it_is_not_in_that_index(
    app: Any,
    state: ServiceState,
    model: ReadModel,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The new index reads the journal while the old one writes it: a write that reached
    # the file and then failed (cut off, answered 503) was read into the new index, which
    # then called a resend a duplicate though the journal never held the transfer.
    old = live_of(state)
    a, b = model.account_ids[:2]
    cut = {"tx_id": "RT-RC-1", "from_account": a, "to_account": b, "amount": 54.0,
           "currency": "CNY", "ts": _after_all(model)}  # fmt: skip
    assert state.data_dir is not None
    segments = journal_dir(state.data_dir)
    written, read_it, answered = threading.Event(), threading.Event(), threading.Event()
    real_append = old._journal.append

    def append(kind: str, records: Any, *, by: str) -> Any:
        if not any(r.get("tx_id") == "RT-RC-1" for r in records):
            return real_append(kind, records, by=by)
        (newest,) = sorted(segments.glob("*.jsonl"))[-1:] or [None]
        size = newest.stat().st_size if newest is not None else 0
        real_append(kind, records, by=by)
        written.set()
        assert read_it.wait(HOLD_SECONDS * 3), "the new index read the entry"
        (newest,) = sorted(segments.glob("*.jsonl"))[-1:]
        with newest.open("r+b") as handle:  # as Journal cuts a write that failed
            handle.truncate(size)
        raise JournalError("No space left on device")

    old._journal.append = append  # type: ignore[method-assign]
    replay = LiveScoring._replay
    builds: list[LiveScoring] = []

    def held_replay(self: LiveScoring) -> None:
        first = self is not old and self not in builds
        if first:
            builds.append(self)
            assert written.wait(HOLD_SECONDS), "the old index wrote the entry"
        replay(self)
        if first and len(builds) == 1:
            read_it.set()
            assert answered.wait(HOLD_SECONDS), "the sender was answered"

    monkeypatch.setattr(LiveScoring, "_replay", held_replay)
    refreshed: list[bool] = []
    refresher = _refresh(state, data_dir, refreshed)
    response = post(app, "/v1/transfers", [cut])
    answered.set()
    refresher.join(HOLD_SECONDS * 6)
    assert response.status_code == 503, response.text
    assert refreshed == [True]
    assert len(builds) == 2  # built again once the cut was seen
    assert state.live is builds[1]
    assert "RT-RC-1" not in [t["tx_id"] for t in _journalled(state, TRANSFER)]
    (again,) = post(app, "/v1/transfers", [cut]).json()["results"]
    assert again["status"] == "accepted"
    assert [t["tx_id"] for t in _journalled(state, TRANSFER)].count("RT-RC-1") == 1
