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
from relgraph.api import ingestion
from relgraph.api.app import ServiceState
from relgraph.api.auth import Role
from relgraph.api.ingestion import live_of
from relgraph.api.live import LiveScoring
from relgraph.api.live_accounts import IndexDroppedError
from relgraph.api.readmodel import ReadModel
from relgraph.api.server import load_model
from relgraph.journal import ACCOUNT, TRANSFER, read
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
