"""What a payment flow and the risk team read off real time, where a QA pass (2026-12-04,
thirty hand-made stories streamed and batch-scanned side by side) found them wrong: a hub's
score after its fan grew, accounts opened by stream looked up, late transfers' verdicts."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import numpy as np

from relgraph.analytics.layering import standing
from relgraph.analytics.layering.verdicts import LiveAlert
from relgraph.api.app import ServiceState
from relgraph.api.auth import Role
from relgraph.api.live_build import live_of
from relgraph.api.readmodel import ReadModel

from .test_ingestion import HOUR, _after_all, graphql, post


def _quiet_accounts(model: ReadModel, n: int) -> list[str]:
    """Accounts in no stored alert, of n different holders."""
    risky = set(model.results.account_risk)
    out: list[str] = []
    for a in model.account_ids:
        if a not in risky:
            out.append(a)
        if len(out) == n:
            break
    return out


def test_a_hubs_score_after_its_fan_grew_is_the_grown_alerts(
    app: Any, state: ServiceState, model: ReadModel
) -> None:
    hub, *strangers = _quiet_accounts(model, 7)
    t0 = _after_all(model)
    scores = []
    for k, to in enumerate(strangers):
        answer = post(app, "/v1/transfers", [{"tx_id": f"RT-G-{k}", "from_account": hub,
                      "to_account": to, "amount": 20_000, "currency": "CNY",
                      "ts": t0 + 5 * k * HOUR}])  # fmt: skip
        assert answer.status_code == 200, answer.text
        (result,) = answer.json()["results"]
        queued = [f.alert.score for f in live_of(state).alerts.values() if hub in f.alert.accounts]
        # The hub's score is that of the alerts through it still in the queue.
        assert result["verdict"]["from_account"]["score"] == round(max(queued, default=0.0), 4)
        scores.append(result["verdict"]["from_account"]["score"])
    # The fifth payment made a fan of five (0.60); the sixth grew it into a fan of six,
    # scored lower: the hub takes the grown one's, as the next batch does — not the stage
    # it replaced (which it kept before).
    assert scores[-2] > scores[-1] > 0.5


def _ts_max(model: ReadModel) -> int:
    return int(model.projection.edge("Account", "TRANSFER", "Account").attrs["ts"].max())


def test_a_verdict_that_could_not_see_a_late_transfers_past_says_so(
    app: Any, model: ReadModel
) -> None:
    a, b = _quiet_accounts(model, 2)
    newest = _ts_max(model)
    sent = [
        # Ten days behind the bank's newest transfer: its 30-day windows reach back past
        # the 33 days the index kept at the load.
        {"tx_id": "RT-L-late", "ts": newest - 10 * 24 * HOUR},
        # Two days behind: inside the index's three days of margin.
        {"tx_id": "RT-L-recent", "ts": newest - 2 * 24 * HOUR},
        {"tx_id": "RT-L-now", "ts": newest + HOUR},
    ]
    body = [{**t, "from_account": a, "to_account": b, "amount": 3_000, "currency": "CNY"}
            for t in sent]  # fmt: skip
    answer = post(app, "/v1/transfers", body)
    assert answer.status_code == 200, answer.text
    results = {r["tx_id"]: r for r in answer.json()["results"]}
    assert {t: r["status"] for t, r in results.items()} == dict.fromkeys(results, "accepted")
    cut = {t: r["verdict"]["truncated"] for t, r in results.items()}
    assert cut == {"RT-L-late": True, "RT-L-recent": False, "RT-L-now": False}


ACCOUNT = "query($id: ID!) { account(id: $id) { id product risk { score } } }"
CHECK = "query($id: ID!) { layeringCheck(accountId: $id) { score } }"


def test_an_account_opened_by_stream_is_found_as_pending(app: Any, model: ReadModel) -> None:
    holder = model.record_ids[0]
    opened = post(app, "/v1/accounts", [{"account_id": "RT-P-NEW", "holder_id": holder,
                  "holder_kind": "customer", "product": "deposit", "opened_at": "2026-06-01"}])  # fmt: skip
    assert opened.json()["accepted"] == 1, opened.text
    for role in (Role.ANALYST, Role.RISK):
        answer = graphql(app, ACCOUNT, role, id="RT-P-NEW")
        assert "errors" not in answer, answer
        assert answer["data"]["account"] == {"id": "RT-P-NEW", "product": "pending",
                                              "risk": {"score": 0.0}}  # fmt: skip
    check = graphql(app, CHECK, Role.RISK, id="RT-P-NEW")
    (error,) = check["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert "sent to the server since the last load" in error["message"]
    assert "relgraph load" in error["message"]
    # A campaign key learns nothing of what was streamed: the answer for an id never seen.
    for account in ("RT-P-NEW", "RT-P-NEVER"):
        (error,) = graphql(app, ACCOUNT, Role.CAMPAIGN, id=account)["errors"]
        assert error["message"] == f"No account with id {account!r}."
    (never,) = graphql(app, CHECK, Role.RISK, id="RT-P-NEVER")["errors"]
    assert never["message"] == "No account with id 'RT-P-NEVER'."


def test_a_stored_alert_a_live_one_grew_from_no_longer_counts(
    state: ServiceState, model: ReadModel
) -> None:
    # A shop's stored fan-in (0.37) grown by a streamed payment into a fan of seven (0.325)
    # left the shop at 0.37 in every verdict: the batch after the next load says 0.325.
    live = live_of(state)
    risk = model.results.account_risk
    account_id = next(a for a in model.account_ids
                      if risk.get(a, (0.0, "[]"))[0] > 0 and len(json.loads(risk.get(a)[1])) > 1)  # fmt: skip
    listed = json.loads(risk.get(account_id)[1])
    account = live.index.account(account_id)
    assert account is not None
    assert live.score(account) == listed[0]["score"]
    live._grew(replace(_an_alert(), extends=listed[0]["chain_id"]))
    assert live.score(account) == max(e["score"] for e in listed[1:])


def _an_alert() -> LiveAlert:
    return LiveAlert("R-new", "fan_in", 0.3, [], [], None, 7)


def test_a_transfer_hub_paying_into_a_fan_keeps_its_own_score(
    app: Any, state: ServiceState, model: ReadModel
) -> None:
    """As the batch (analytics/layering/standing.py): a payroll's or a settlement account's
    payment into another account's fan-in gives it none of the fan's score."""
    edges = model.projection.edge("Account", "TRANSFER", "Account")
    many = standing.transfer_hubs(edges.src, edges.dst, len(model.account_ids), 50)
    hub = model.account_ids[int(np.flatnonzero(many)[0])]
    before = model.results.account_risk.get(hub, (0.0, "[]"))[0]
    payee, *strangers = _quiet_accounts(model, 7)
    t0 = _after_all(model)
    body = [{"tx_id": f"RT-H-{k}", "from_account": payer, "to_account": payee,
             "amount": 20_000 + 100 * k, "currency": "CNY", "ts": t0 + k * HOUR}
            for k, payer in enumerate([*strangers, hub])]  # fmt: skip
    answer = post(app, "/v1/transfers", body)
    assert answer.status_code == 200, answer.text
    last = answer.json()["results"][-1]["verdict"]
    fans = [a for a in last["alerts"] if a["typology"] == "fan_in"]
    assert fans, last
    assert fans[0]["above_threshold"]
    # The fan's hub and the strangers take its score; the transfer hub keeps its own.
    assert last["to_account"]["score"] == fans[0]["score"]
    assert last["from_account"]["score"] == round(float(before), 4) < fans[0]["score"]
