"""Real-time scoring over HTTP: /v1/accounts, /v1/transfers, recordTransfers, riskChains."""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from relgraph.api.app import ServiceState, create_app
from relgraph.api.auth import Role
from relgraph.api.readmodel import ReadModel, build_read_model
from relgraph.graph import build_projection
from relgraph.ingest import load_directory
from relgraph.jobs.analyze import analyze
from relgraph.journal import TRANSFER, journal_dir, read
from relgraph.store.embedded import EmbeddedStore

from .conftest import KEYS


def _date(ms: int) -> str:
    """A loaded account's opening date (epoch ms of its day) as the export writes it."""
    return datetime.fromtimestamp(ms / 1000, UTC).date().isoformat()


HOUR = 3_600_000


def _call(
    app: Any, method: str, path: str, body: Any, key: str | None, raw: bytes | None = None
) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            if raw is not None:
                return await client.request(method, path, content=raw, headers=headers)
            return await client.request(method, path, json=body, headers=headers)

    return asyncio.run(go())


def post_raw(app: Any, path: str, body: bytes) -> httpx.Response:
    """A body as bytes, for what ``json=`` cannot send (lone surrogates, deep nesting)."""
    return _call(app, "POST", path, None, KEYS[Role.INGEST], raw=body)


def post(app: Any, path: str, body: Any, role: Role | None = Role.INGEST) -> httpx.Response:
    return _call(app, "POST", path, body, KEYS[role] if role else None)


def graphql(app: Any, query: str, role: Role, **variables: Any) -> dict[str, Any]:
    response = _call(app, "POST", "/graphql", {"query": query, "variables": variables}, KEYS[role])
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def app(state: ServiceState) -> Any:
    return create_app(state)


def _quiet_customers(model: ReadModel, n: int) -> list[str]:
    """Customer ids of persons whose accounts are in no stored alert."""
    out: list[str] = []
    for record in model.record_ids:
        if len(out) == n:
            break
        out.append(record)
    return out


def _after_all(model: ReadModel) -> int:
    ts = model.projection.edge("Account", "TRANSFER", "Account").attrs["ts"]
    return int(ts.max()) + 40 * 24 * HOUR  # beyond every loaded transfer's horizon


def _mules(app: Any, model: ReadModel, prefix: str) -> list[str]:
    """Four accounts opened the day before the chain, for four existing customers."""
    holders = _quiet_customers(model, 4)
    opened = datetime.fromtimestamp(_after_all(model) / 1000 - 86_400, UTC).date().isoformat()
    ids = [f"{prefix}{i}" for i in range(4)]
    answer = post(
        app,
        "/v1/accounts",
        [
            {"account_id": a, "holder_id": h, "holder_kind": "customer", "product": "deposit",
             "opened_at": opened}
            for a, h in zip(ids, holders, strict=True)
        ],
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == 4
    return ids


def _chain(ids: list[str], t0: int, prefix: str) -> list[dict[str, Any]]:
    """A → B → C → D within three hours, each hop passing on 95 %."""
    amount = 200_000.0
    out = []
    for hop in range(3):
        out.append(
            {"tx_id": f"{prefix}{hop}", "from_account": ids[hop], "to_account": ids[hop + 1],
             "amount": round(amount, 2), "currency": "CNY", "ts": t0 + hop * HOUR}
        )  # fmt: skip
        amount *= 0.95
    return out


def test_a_streamed_transfer_that_completes_a_chain_is_alerted_at_once(
    app: Any, state: ServiceState, model: ReadModel
) -> None:
    ids = _mules(app, model, "NEWA")
    t0 = _after_all(model)
    legs = _chain(ids, t0, "RT-A-")
    first = post(app, "/v1/transfers", legs[:2]).json()
    assert first["accepted"] == 2
    assert all(r["verdict"]["alerts"] == [] for r in first["results"])  # two hops: no chain

    answer = post(app, "/v1/transfers", legs[2:]).json()
    (result,) = answer["results"]
    assert result["status"] == "accepted"
    (alert,) = [a for a in result["verdict"]["alerts"] if a["typology"] == "layering_chain"]
    assert alert["hops"] == 3
    assert alert["above_threshold"]
    # Both accounts of the completing transfer score the alert.
    assert result["verdict"]["from_account"]["score"] >= alert["score"]
    assert result["verdict"]["to_account"]["score"] >= alert["score"]

    chains = graphql(
        app,
        "query($a: ID) { riskChains(filter: {accountId: $a}) { edges { node { id foundBy "
        "foundAt hopCount hops { txId } } } } }",
        Role.RISK,
        a=ids[0],
    )
    nodes = [e["node"] for e in chains["data"]["riskChains"]["edges"]]
    (node,) = [n for n in nodes if n["id"] == alert["chain_id"]]
    assert node["foundBy"] == "REALTIME"
    assert node["foundAt"].endswith("+00:00")
    assert [h["txId"] for h in node["hops"]] == [leg["tx_id"] for leg in legs]
    lines = [json.loads(x) for x in state.audit.path.read_text("utf-8").splitlines()]
    assert any(
        line.get("operation") == "realtimeAlert" and line.get("chain_id") == alert["chain_id"]
        for line in lines
    )


def test_a_realtime_alerts_audit_line_names_the_transfer_whose_verdict_found_it(
    app: Any, state: ServiceState, model: ReadModel
) -> None:
    # The chain's last two hops first, then its first hop, late: the late one completes it.
    # The line named the alert's latest hop (RT-T-2), which had found nothing.
    legs = _chain(_mules(app, model, "TRIG"), _after_all(model), "RT-T-")
    assert post(app, "/v1/transfers", legs[1:]).json()["accepted"] == 2
    answer = post(app, "/v1/transfers", legs[:1]).json()
    (alert,) = [a for a in answer["results"][0]["verdict"]["alerts"]
                if a["typology"] == "layering_chain"]  # fmt: skip
    lines = [json.loads(x) for x in state.audit.path.read_text("utf-8").splitlines()]
    (line,) = [x for x in lines if x.get("operation") == "realtimeAlert"
               and x.get("chain_id") == alert["chain_id"]]  # fmt: skip
    assert line["trigger"] == "RT-T-0"


def test_a_realtime_alert_in_the_queue_can_be_reviewed(app: Any, model: ReadModel) -> None:
    # riskChains lists it (foundBy REALTIME); reviewRiskChain answered "No risk chain with id"
    # until the next load and analyze made it a stored one.
    ids = _mules(app, model, "REVW")
    answer = post(app, "/v1/transfers", _chain(ids, _after_all(model), "RT-V-")).json()
    (alert,) = [a for a in answer["results"][-1]["verdict"]["alerts"]
                if a["typology"] == "layering_chain"]  # fmt: skip
    review = graphql(
        app,
        'mutation($id: ID!) { reviewRiskChain(id: $id, status: ESCALATED, note: "live") '
        "{ id status foundBy reviews { status note } } }",
        Role.RISK,
        id=alert["chain_id"],
    )
    assert "errors" not in review, review
    node = review["data"]["reviewRiskChain"]
    assert (node["id"], node["status"], node["foundBy"]) == (alert["chain_id"], "ESCALATED",
                                                             "REALTIME")  # fmt: skip
    assert node["reviews"] == [{"status": "ESCALATED", "note": "live"}]


def _dismissed_live_chain(app: Any, model: ReadModel, tag: str) -> tuple[list[str], Any]:
    """Mule accounts whose streamed chain raised a live layering alert, and that alert,
    dismissed by a risk key."""
    ids = _mules(app, model, f"REV{tag}")
    answer = post(app, "/v1/transfers", _chain(ids, _after_all(model), f"RT-{tag}-")).json()
    (alert,) = [a for a in answer["results"][-1]["verdict"]["alerts"]
                if a["typology"] == "layering_chain"]  # fmt: skip
    review = graphql(
        app,
        'mutation($id: ID!) { reviewRiskChain(id: $id, status: DISMISSED, note: "ok") { id } }',
        Role.RISK,
        id=alert["chain_id"],
    )
    assert "errors" not in review, review
    return ids, alert


def test_a_reviewed_realtime_alert_is_listed_once_under_its_status(
    app: Any, model: ReadModel
) -> None:
    # It was listed twice (REALTIME and again as a gone BATCH chain), and under OPEN while
    # DISMISSED: a team working the OPEN queue saw its dismissed alert again.
    ids, alert = _dismissed_live_chain(app, model, "Q")
    queue = (
        "query($s: ChainStatus, $a: ID) { riskChains(filter: {status: $s, accountId: $a}) "
        "{ totalCount edges { node { id status foundBy } } } }"
    )
    listed = {}
    for status in (None, "OPEN", "DISMISSED"):
        data = graphql(app, queue, Role.RISK, s=status, a=ids[0])["data"]["riskChains"]
        listed[status] = (data["totalCount"], [e["node"] for e in data["edges"]])
    only = {"id": alert["chain_id"], "status": "DISMISSED", "foundBy": "REALTIME"}
    assert listed[None] == (1, [only])
    assert listed["OPEN"] == (0, [])
    assert listed["DISMISSED"] == (1, [only])


def test_a_dismissed_realtime_alert_stays_dismissed_when_the_batch_stores_it(
    app: Any, state: ServiceState, model: ReadModel, data_dir: Path, tmp_path: Path
) -> None:
    # The next load and analyze find the streamed transfers as they were sent: the same hops,
    # no new evidence, so the dismissal holds on the stored chain.
    ids, alert = _dismissed_live_chain(app, model, "N")
    night = tmp_path / "night"
    shutil.copytree(data_dir, night, ignore=shutil.ignore_patterns("*.lock", "audit*"))
    shutil.copytree(journal_dir(state.data_dir or tmp()), journal_dir(night), dirs_exist_ok=True)
    with EmbeddedStore(night) as store:
        load_directory(data_dir.parent / "bank", store, night)
        analyze(store, build_projection(store))
    with EmbeddedStore(night, read_only=True) as store:
        after = build_read_model(store)
    assert alert["chain_id"] in after.results.risk_chains.row_of, "stored under the same id"
    state.model = after
    queue = graphql(
        app,
        "query($a: ID) { riskChains(filter: {accountId: $a}) "
        "{ edges { node { id status foundBy reviews { status } } } } }",
        Role.RISK,
        a=ids[0],
    )["data"]["riskChains"]["edges"]
    assert [e["node"] for e in queue] == [
        {"id": alert["chain_id"], "status": "DISMISSED", "foundBy": "BATCH",
         "reviews": [{"status": "DISMISSED"}]}
    ]  # fmt: skip


def test_each_bad_record_is_rejected_with_its_reason_and_resends_are_idempotent(
    app: Any, state: ServiceState, model: ReadModel
) -> None:
    a, b = model.account_ids[:2]
    t0 = _after_all(model)
    good = {"tx_id": "RT-B-1", "from_account": a, "to_account": b, "amount": "1,250.00",
            "currency": "人民币", "ts": "2026-12-01T09:30:00+08:00"}  # fmt: skip
    batch = [
        good,
        {**good, "tx_id": "RT-B-2", "to_account": "NO-SUCH-ACCOUNT"},
        {**good, "tx_id": "RT-B-3", "amount": -5},
        {**good, "tx_id": "RT-B-4", "amount": "12abc"},
        {**good, "tx_id": "RT-B-5", "ts": "yesterday"},
        {**good, "tx_id": "=cmd", "ts": t0},
        {**good, "tx_id": "RT-B-6", "amount": 6222000000000001},  # a card number, shifted
        {**good, "tx_id": "RT-B-7", "to_account": "账" * 65},
    ]
    answer = post(app, "/v1/transfers", batch).json()
    status = {r["tx_id"]: (r["status"], r.get("reasons", [])) for r in answer["results"]}
    assert status["RT-B-1"][0] == "accepted"
    assert status["RT-B-2"][0] == "rejected"
    assert "unknown_foreign_key" in status["RT-B-2"][1][0]
    assert status["RT-B-3"][1] == ["out_of_range: amount '-5' must be > 0 and ≤ 10,000,000,000,000"]
    assert status["RT-B-4"][1] == ["bad_number: amount '12abc'"]
    assert status["RT-B-5"][1][0].startswith("bad_timestamp: ts")
    assert status["=cmd"][1] == ["bad_id: tx_id '=cmd'"]
    assert status["RT-B-6"][1] == [
        "out_of_range: amount '6222000000000001' must be > 0 and ≤ 10,000,000,000,000"
    ]
    assert status["RT-B-7"][1] == [
        f"bad_id: to_account '{'账' * 40}…' is longer than 64 characters"
    ]

    again = post(app, "/v1/transfers", [good]).json()  # a client that lost the answer
    assert again["results"][0]["status"] == "duplicate"
    changed = post(app, "/v1/transfers", [{**good, "amount": 9_999}]).json()
    assert changed["results"][0]["status"] == "rejected"
    assert "duplicate_key: tx_id 'RT-B-1'" in changed["results"][0]["reasons"][0]
    journalled = [e.data["tx_id"] for e in read(state.data_dir or tmp(), [TRANSFER])]
    assert journalled.count("RT-B-1") == 1
    assert "RT-B-2" not in journalled
    # A stored transfer resent unchanged is a duplicate too; changed, it is refused.
    edges = model.projection.edge("Account", "TRANSFER", "Account")
    stored = {
        "tx_id": str(edges.attrs["tx_id"].iloc[0]),
        "from_account": model.account_ids[int(edges.src[0])],
        "to_account": model.account_ids[int(edges.dst[0])],
        "amount": float(edges.attrs["amount"].iloc[0]),
        "currency": "CNY",
        "ts": int(edges.attrs["ts"].iloc[0]),
    }
    assert post(app, "/v1/transfers", [stored]).json()["duplicate"] == 1
    assert post(app, "/v1/transfers", [{**stored, "amount": 1.0}]).json()["rejected"] == 1
    # The graph keeps no currency for loaded transfers: a USD row resent as it was loaded
    # is the same transfer, not a reuse of its id.
    assert post(app, "/v1/transfers", [{**stored, "currency": "USD"}]).json()["duplicate"] == 1
    # Amounts are compared exactly, not to the cent.
    fine = {**good, "tx_id": "RT-B-6", "amount": 100.001, "ts": t0}
    assert post(app, "/v1/transfers", [fine]).json()["accepted"] == 1
    assert post(app, "/v1/transfers", [{**fine, "amount": 100.004}]).json()["rejected"] == 1


def tmp() -> Any:
    raise AssertionError("the state has no data directory")


def test_only_ingest_and_admin_keys_send_and_ingest_keys_read_nothing(
    app: Any, model: ReadModel
) -> None:
    assert post(app, "/v1/transfers", [], role=None).status_code == 401
    assert post(app, "/v1/transfers", [], role=Role.ANALYST).status_code == 403
    assert post(app, "/v1/accounts", [], role=Role.RISK).status_code == 403
    assert post(app, "/v1/transfers", [], role=Role.ADMIN).status_code == 200
    too_many = [{"tx_id": str(i)} for i in range(1_001)]
    refused = post(app, "/v1/transfers", too_many)
    assert refused.status_code == 400
    assert "at most 1,000" in refused.text
    assert post(app, "/v1/transfers", {"tx_id": "x"}).status_code == 400
    # The payment system's key cannot read customers, risk chains or anything else.
    pid = model.person_ids[0]
    for query in (
        f'{{ customer(id: "{pid}") {{ name }} }}',
        "{ riskChains { totalCount } }",
        "{ graphStats { nodes { kind count } } }",
    ):
        body = graphql(app, query, Role.INGEST)
        assert body.get("data") is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_record_transfers_mutation_answers_verdicts(
    app: Any, state: ServiceState, model: ReadModel
) -> None:
    ids = _mules(app, model, "NEWC")
    t0 = _after_all(model) + 10 * HOUR
    legs = _chain(ids, t0, "RT-C-")
    query = (
        "mutation($t: [TransferInput!]!) { recordTransfers(transfers: $t) { accepted rejected "
        "results { txId status reasons verdict { toAccount { id score } alerts { chainId "
        "typology hops aboveThreshold } } } } }"
    )
    transfers = [
        {"txId": leg["tx_id"], "fromAccount": leg["from_account"],
         "toAccount": leg["to_account"], "amount": leg["amount"], "currency": "CNY",
         "timestamp": f"{leg['ts']}"}
        for leg in legs
    ]  # fmt: skip
    bad = graphql(app, query, Role.INGEST, t=transfers)["data"]["recordTransfers"]
    assert bad["rejected"] == 3  # epoch ms is for the JSON endpoint; GraphQL takes ISO-8601
    from zoneinfo import ZoneInfo

    from relgraph.config import format_moment

    for t, leg in zip(transfers, legs, strict=True):
        t["timestamp"] = format_moment(int(leg["ts"]), ZoneInfo("Asia/Shanghai"))
    answer = graphql(app, query, Role.INGEST, t=transfers)["data"]["recordTransfers"]
    assert answer["accepted"] == 3
    last = answer["results"][-1]["verdict"]
    assert [a["typology"] for a in last["alerts"] if a["hops"] == 3] == ["layering_chain"]
    denied = graphql(app, query, Role.ANALYST, t=transfers)
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    rejected, accepted = [x for x in _audit_lines(state) if x.get("fields") == ["recordTransfers"]
                          and x["outcome"] == "ok"]  # fmt: skip
    assert set(ids) <= set(accepted["ids"])  # the scores the verdicts handed out
    # Every id a record named, answered or refused (its answer says whether it exists),
    # as the /v1/transfers line names them: the accounts in clear (the bank holds them),
    # a refused record's own new tx_id as its HMAC; a written one's in clear.
    accounts = {leg[c] for leg in legs for c in ("from_account", "to_account")}
    tx_ids = {leg["tx_id"] for leg in legs}
    assert accounts <= set(rejected["ids"])
    assert not tx_ids & set(rejected["ids"])
    assert {state.text_mac(t) for t in tx_ids} == set(rejected["tried_hmac"])
    assert accounts | tx_ids <= set(accepted["ids"])
    assert "tried_hmac" not in accepted


def test_the_metrics_count_answers_records_by_fate_and_live_alerts(
    app: Any, model: ReadModel
) -> None:
    ids = _mules(app, model, "NEWM")
    legs = _chain(ids, _after_all(model), "RT-M-")
    assert post(app, "/v1/transfers", legs[:2]).status_code == 200
    unknown = {**legs[1], "tx_id": "RT-M-9", "to_account": "NO-SUCH-ACCOUNT"}
    last = post(app, "/v1/transfers", [*legs[2:], legs[0], unknown]).json()
    assert (last["accepted"], last["duplicate"], last["rejected"]) == (1, 1, 1)
    assert post(app, "/v1/transfers", [], role=Role.ANALYST).status_code == 403

    text = _call(app, "GET", "/metrics", None, KEYS[Role.ADMIN]).text
    counted = 'relgraph_ingest_records_total{endpoint="transfers",status="%s"} %s'
    assert counted % ("accepted", "3.0") in text
    assert counted % ("duplicate", "1.0") in text
    assert counted % ("rejected", "1.0") in text
    assert 'relgraph_ingest_records_total{endpoint="accounts",status="accepted"} 4.0' in text
    # Every answer's latency, refusals apart; the 5 and 20 ms marks are bucket bounds.
    assert 'relgraph_ingest_seconds_count{code="200",endpoint="transfers"} 2.0' in text
    assert 'relgraph_ingest_seconds_count{code="403",endpoint="transfers"} 1.0' in text
    assert 'relgraph_ingest_seconds_bucket{code="200",endpoint="transfers",le="0.005"}' in text
    assert 'relgraph_ingest_seconds_bucket{code="200",endpoint="transfers",le="0.02"}' in text
    assert 'relgraph_realtime_alerts_total{typology="layering_chain"} 1.0' in text
    # Nothing a client sent is a label.
    assert "NO-SUCH-ACCOUNT" not in text
    assert "RT-M-" not in text


def test_times_the_live_index_cannot_hold_are_refused_and_ingestion_goes_on(
    app: Any, state: ServiceState, model: ReadModel
) -> None:
    # Each of these once broke ingestion for good: journalled, then a 500 for every later
    # transfer (also after a restart) — a period before the bank's first transfer, an
    # integer past int64, a loop per 30 days up to 2**62, a clock moved to the year 2999.
    a, b = model.account_ids[:2]
    first = int(model.projection.edge("Account", "TRANSFER", "Account").attrs["ts"].min())
    good = {"tx_id": "RT-W-ok", "from_account": a, "to_account": b, "amount": 10.0,
            "currency": "CNY", "ts": _after_all(model)}  # fmt: skip
    bad = {
        "RT-W-early": first - 86_400_000,
        "RT-W-seconds": _after_all(model) // 1000,  # epoch seconds sent as milliseconds
        "RT-W-2e63": 2**63,
        "RT-W-2e62": 2**62,
        "RT-W-10000": 253_402_300_800_000,
        "RT-W-2999": "2999-01-01T00:00:00",
    }
    batch = [{**good, "tx_id": t, "ts": ts} for t, ts in bad.items()]
    answer = post(app, "/v1/transfers", batch)
    assert answer.status_code == 200, answer.text
    for result in answer.json()["results"]:
        assert result["status"] == "rejected", result
        (reason,) = result["reasons"]
        assert reason.startswith("out_of_range: ts "), reason
        assert "relgraph load" in reason or "time zone and unit" in reason
    journalled = {e.data["tx_id"] for e in read(state.data_dir or tmp(), [TRANSFER])}
    assert not journalled & set(bad)
    # Both accounts, both ways: the pair that used to fail with a 500 afterwards.
    back = {**good, "tx_id": "RT-W-back", "from_account": b, "to_account": a}
    after = post(app, "/v1/transfers", [good, back])
    assert after.status_code == 200, after.text
    assert [r["status"] for r in after.json()["results"]] == ["accepted", "accepted"]


def test_an_opening_date_no_calendar_holds_is_refused(app: Any, model: ReadModel) -> None:
    holder = _quiet_customers(model, 1)[0]
    account = {"account_id": "RT-W-ACC", "holder_id": holder, "holder_kind": "customer",
               "product": "deposit"}  # fmt: skip
    answer = post(app, "/v1/accounts", [{**account, "opened_at": 2**70}])
    assert answer.status_code == 200, answer.text
    (result,) = answer.json()["results"]
    assert result["status"] == "rejected"
    assert result["reasons"][0].startswith("out_of_range: opened_at ")
    fine = post(app, "/v1/accounts", [{**account, "opened_at": "2026-06-01"}]).json()
    assert fine["results"][0]["status"] == "accepted"


def test_bodies_that_once_gave_a_500_get_an_answer(app: Any, model: ReadModel) -> None:
    deep = post_raw(app, "/v1/transfers", b"[" * 100_000 + b"]" * 100_000)
    assert deep.status_code == 400, deep.text
    assert "nested too deeply" in deep.json()["errors"][0]["message"]
    a, b = model.account_ids[:2]
    lone = '{"tx_id": "RT-S-\\ud800", "from_account": "%s", "to_account": "%s", "amount": 1, "currency": "CNY", "ts": %d}'
    body = ("[" + lone % (a, b, _after_all(model)) + "]").encode()
    answer = post_raw(app, "/v1/transfers", body)
    assert answer.status_code == 200, answer.text
    (result,) = answer.json()["results"]
    assert result["status"] == "rejected"
    assert result["reasons"][0].startswith("bad_id: tx_id ")
    account = b'[{"account_id": "RT-S-\\udc00", "holder_id": "x", "holder_kind": "customer", "product": "deposit"}]'
    opened = post_raw(app, "/v1/accounts", account)
    assert opened.status_code == 200, opened.text
    assert opened.json()["results"][0]["status"] == "rejected"


def test_aliases_cannot_stack_batches_past_the_cap(app: Any, model: ReadModel) -> None:
    a, b = model.account_ids[:2]
    when = datetime.fromtimestamp(_after_all(model) / 1000, UTC).isoformat()
    one = {"fromAccount": a, "toAccount": b, "amount": 1.0, "currency": "CNY", "timestamp": when}
    query = (
        "mutation($x: [TransferInput!]!, $y: [TransferInput!]!) {"
        " x: recordTransfers(transfers: $x) { accepted }"
        " y: recordTransfers(transfers: $y) { accepted } }"
    )
    for role in (Role.INGEST, Role.ADMIN):
        answer = graphql(app, query, role, x=[{**one, "txId": "RT-AL-1"}],
                         y=[{**one, "txId": "RT-AL-2"}])  # fmt: skip
        assert answer["data"] is None  # refused before either list is recorded
        assert "One recordTransfers per request" in answer["errors"][0]["message"]
    fragment = (
        "mutation($x: [TransferInput!]!) { ...A ...B }"
        " fragment A on Mutation { a: recordTransfers(transfers: $x) { accepted } }"
        " fragment B on Mutation { b: recordTransfers(transfers: $x) { accepted } }"
    )
    spread = graphql(app, fragment, Role.INGEST, x=[{**one, "txId": "RT-AL-3"}])
    assert spread["data"] is None
    single = "mutation($x: [TransferInput!]!) { recordTransfers(transfers: $x) { accepted } }"
    taken = graphql(app, single, Role.INGEST, x=[{**one, "txId": "RT-AL-4"}])
    assert taken["data"]["recordTransfers"]["accepted"] == 1


def test_an_account_id_reused_for_another_holder_is_refused(app: Any, model: ReadModel) -> None:
    holds = model.holds
    person, account = int(holds.src[0]), model.account_ids[int(holds.dst[0])]
    owner = model.person_ids[person]
    other = next(p for p in model.person_ids if p != owner)
    opened = model.account["opened_at"][int(holds.dst[0])]
    loaded = {"account_id": account, "holder_kind": "customer", "product": "deposit",
              "opened_at": _date(opened)}  # fmt: skip
    same = post(app, "/v1/accounts", [{**loaded, "holder_id": owner}]).json()
    # Another holder, or the right one with another opening date: answered as the right
    # holder and date are, so no answer confirms a guess of who holds a loaded account
    # and since when (it used to say duplicate to the one right guess among a thousand).
    moved = post(app, "/v1/accounts", [{**loaded, "holder_id": other}]).json()
    guessed = post(app, "/v1/accounts", [{**loaded, "holder_id": owner,
                                          "opened_at": "1999-01-01"}]).json()  # fmt: skip
    answers = [a["results"][0] for a in (same, moved, guessed)]
    assert answers[0] == answers[1] == answers[2]
    assert answers[0]["status"] == "rejected"
    reason = answers[0]["reasons"][0]
    assert reason.startswith(f"duplicate_key: account_id '{account}' is in the loaded bank")
    # Within one batch: the first opening stands, a second for another holder is refused.
    new = {"account_id": "RT-K-1", "holder_kind": "customer", "product": "deposit"}
    batch = post(app, "/v1/accounts", [{**new, "holder_id": owner}, {**new, "holder_id": other},
                                       {**new, "holder_id": owner}]).json()  # fmt: skip
    assert [r["status"] for r in batch["results"]] == ["accepted", "rejected", "duplicate"]


def test_concurrent_openings_of_one_id_accept_one_holder(app: Any, model: ReadModel) -> None:
    owners = list(model.person_ids[:2])
    new = {"account_id": "RT-K-RACE", "holder_kind": "customer", "product": "deposit"}

    async def race() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {KEYS[Role.INGEST]}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            sends = [
                client.post(
                    "/v1/accounts", json=[{**new, "holder_id": owners[i % 2]}], headers=headers
                )
                for i in range(6)
            ]
            return list(await asyncio.gather(*sends))

    statuses = [r.json()["results"][0]["status"] for r in asyncio.run(race())]
    assert statuses.count("accepted") == 1, statuses
    assert statuses.count("rejected") == 3 or statuses.count("duplicate") == 3, statuses


def _audit_lines(state: ServiceState) -> list[dict[str, Any]]:
    return [json.loads(line) for line in state.audit.path.read_text().splitlines()]


def test_sends_refusals_and_what_a_verdict_let_its_key_read_are_audited(
    app: Any, state: ServiceState, model: ReadModel
) -> None:
    a, b = model.account_ids[:2]
    record = {"tx_id": "RT-AU-1", "from_account": a, "to_account": b, "amount": 10.0,
              "currency": "CNY", "ts": _after_all(model)}  # fmt: skip
    assert post(app, "/v1/transfers", [record], role=None).status_code == 401
    assert post(app, "/v1/transfers", [record], role=Role.CAMPAIGN).status_code == 403
    answer = post(app, "/v1/transfers", [record])
    assert answer.status_code == 200, answer.text
    unauthenticated, forbidden, *rest = _audit_lines(state)
    assert unauthenticated["outcome"] == "unauthenticated"
    assert unauthenticated["operation"] == "POST /v1/transfers"
    assert forbidden["outcome"] == "forbidden"
    assert forbidden["role"] == "campaign"
    (write,) = [line for line in rest if line["operation"] == "POST /v1/transfers"]
    assert write["role"] == "ingest"
    assert write["records"] == {"accepted": 1, "duplicate": 0, "rejected": 0}
    # The verdict gave both accounts' scores: the line names them.
    assert {a, b} <= set(write["ids"])
    opened = post(app, "/v1/accounts", [{"account_id": "RT-AU-ACC", "holder_id":
                  _quiet_customers(model, 1)[0], "holder_kind": "customer",
                  "product": "deposit"}])  # fmt: skip
    assert opened.status_code == 200
    assert _audit_lines(state)[-1]["operation"] == "POST /v1/accounts"


def test_what_rejections_tell_an_ingest_key_is_audited_with_a_request_id(
    app: Any, state: ServiceState, model: ReadModel
) -> None:
    # Nothing written: an impossible opening date. Each answer still says whether the
    # holder exists and a transfer's whether its accounts do: those ids were read.
    holder = _quiet_customers(model, 1)[0]
    probe = [{"account_id": "RT-PROBE", "holder_id": guess, "holder_kind": "customer",
              "product": "deposit", "opened_at": "2099-01-01"} for guess in (holder, "NOPE-1")]  # fmt: skip
    answer = post(app, "/v1/accounts", probe)
    assert answer.json()["rejected"] == 2
    a = model.account_ids[0]
    stray = {"tx_id": "RT-PROBE-T", "from_account": a, "to_account": "NOPE-ACC", "amount": 1,
             "currency": "CNY", "ts": _after_all(model)}  # fmt: skip
    assert post(app, "/v1/transfers", [stray]).json()["rejected"] == 1
    accounts, transfers = _audit_lines(state)[-2:]
    # What the bank holds in clear; what it does not (whatever the sender typed) as HMACs.
    assert accounts["ids"] == [holder]
    assert accounts["tried_hmac"] == sorted(state.text_mac(t) for t in ("RT-PROBE", "NOPE-1"))
    assert transfers["ids"] == [a]
    assert transfers["tried_hmac"] == sorted(state.text_mac(t) for t in ("RT-PROBE-T", "NOPE-ACC"))
    assert accounts["request_id"] != "-" != transfers["request_id"]
    assert accounts["request_id"] != transfers["request_id"]


def test_an_id_number_sent_as_a_holder_or_an_account_stays_out_of_the_audit_line(
    app: Any, state: ServiceState, model: ReadModel
) -> None:
    # A payment system that puts the customer's id number where the bank's id belongs: the
    # record is refused; the line names it only as an HMAC an auditor can test
    # (`relgraph audit tried`), as a missed GraphQL lookup's.
    id_number = "11010519491231002X"
    opened = post(app, "/v1/accounts", [{"account_id": "RT-IDN", "holder_id": id_number,
                  "holder_kind": "customer", "product": "deposit", "opened_at": "2020-01-01"}])  # fmt: skip
    assert opened.json()["rejected"] == 1
    sent = post(app, "/v1/transfers", [{"tx_id": "RT-IDN-T", "from_account": model.account_ids[0],
                "to_account": id_number, "amount": 5, "currency": "CNY", "ts": _after_all(model)}])  # fmt: skip
    assert sent.json()["rejected"] == 1
    lines = _audit_lines(state)[-2:]
    assert all(state.text_mac(id_number) in line["tried_hmac"] for line in lines)
    assert id_number not in state.audit.path.read_text(encoding="utf-8")


def test_random_batches_always_get_a_verdict_or_a_reason_per_record(
    app: Any, model: ReadModel
) -> None:
    """A payment system's traffic, seeded: new and old accounts, self-transfers, resends,
    missing fields, amounts from 0.001 to 10^12 in full-width and grouped forms, times from
    the bank's first transfer to tomorrow. Never a 500; every record accepted, duplicate or
    rejected with a reason."""
    import random

    rng = random.Random(7)
    holders = list(model.record_ids[:50])
    opened = ["1990-01-01", "2024-06-01", "2026-12-01"]
    fresh = [
        {"account_id": f"FZ{i}", "holder_id": rng.choice(holders), "holder_kind": "customer",
         "product": rng.choice(["deposit", "card", "loan", "wealth"]),
         "opened_at": rng.choice(opened)}
        for i in range(20)
    ]  # fmt: skip
    assert post(app, "/v1/accounts", fresh).json()["accepted"] == 20
    pool = [*model.account_ids[:100], *(a["account_id"] for a in fresh)]
    first = int(model.projection.edge("Account", "TRANSFER", "Account").attrs["ts"].min())
    last = _after_all(model)
    amounts: list[Any] = [0.01, 1, 49_999.99, 1e12, 3.3333333, 0.001, "1,000", "５０００"]
    seen: dict[str, int] = {}
    for batch_no in range(150):
        batch = []
        for k in range(rng.choice([1, 2, 5, 20, 50])):
            tx: dict[str, Any] = {
                "tx_id": f"FZ{batch_no}-{k}" if rng.random() > 0.05 else f"FZ{batch_no // 2}-0",
                "from_account": rng.choice(pool),
                "to_account": rng.choice(pool),
                "amount": rng.choice(amounts),
                "currency": rng.choice(["CNY", "USD", "人民币"]),
                "ts": rng.choice(
                    [first, rng.randint(first, last), last + rng.randint(0, 20) * HOUR]
                ),
            }
            if rng.random() < 0.05:
                del tx[rng.choice(list(tx))]
            batch.append(tx)
        answer = post(app, "/v1/transfers", batch)
        assert answer.status_code == 200, (answer.text[:300], batch[:3])
        results = answer.json()["results"]
        assert len(results) == len(batch)
        for result in results:
            seen[result["status"]] = seen.get(result["status"], 0) + 1
            assert result["status"] in ("accepted", "duplicate", "rejected")
            assert (result["status"] == "rejected") == bool(result.get("reasons"))
            assert (result["status"] == "accepted") == ("verdict" in result)
    assert seen["accepted"] > 1_000, seen
    assert seen["rejected"] > 50, seen


def test_a_realtime_alert_arriving_while_the_queue_is_paged_repeats_no_alert(
    app: Any, model: ReadModel
) -> None:
    """Newest first, a chain streamed between two pages comes first in the queue: an offset
    served the last alert of the page before again."""
    query = (
        "query($after: String) { riskChains(orderBy: FIRST_TS_DESC, first: 4, after: $after) "
        "{ totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }"
    )
    page = graphql(app, query, Role.RISK)["data"]["riskChains"]
    stored = page["totalCount"]
    seen = [e["node"]["id"] for e in page["edges"]]
    ids = _mules(app, model, "PAGE")
    answer = post(app, "/v1/transfers", _chain(ids, _after_all(model), "RT-P-")).json()
    assert any(a["above_threshold"] for a in answer["results"][-1]["verdict"]["alerts"])
    while page["pageInfo"]["hasNextPage"]:
        after = page["pageInfo"]["endCursor"]
        page = graphql(app, query, Role.RISK, after=after)["data"]["riskChains"]
        seen += [e["node"]["id"] for e in page["edges"]]
    assert page["totalCount"] > stored  # the live alert is in the queue, before the cursor
    assert len(seen) == len(set(seen)) == stored
