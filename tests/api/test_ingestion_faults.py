"""What a sloppy or hostile payment system found in the real-time ingestion (a QA pass on
2026-12-04): each test holds the behaviour a client relies on where the server once broke it
— an acknowledged transfer that was never recorded, a "duplicate" before the first copy was
on disk, a padded id past the loaded ones, a clock walked forward a day at a time, alert
history rewritten by a restart, a queue of one chain's stages."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from relgraph.analytics.layering.verdicts import LiveAlert, LiveHop
from relgraph.api.app import ServiceState
from relgraph.api.audit_commit import GroupCommitter
from relgraph.api.auth import Role
from relgraph.api.live import LiveScoring
from relgraph.api.live_build import live_of
from relgraph.api.live_records import FoundAlert
from relgraph.api.readmodel import ReadModel
from relgraph.config import moment_ms
from relgraph.journal import ACCOUNT, TRANSFER, Journal, JournalError, read

from .conftest import KEYS
from .test_ingestion import HOUR, _after_all, _chain, _mules, post

HOLD_SECONDS = 10.0
"""How long a held batch's scoring waits for the request the test makes meanwhile."""

DAY = 24 * HOUR


def _journalled(state: ServiceState, kind: str = TRANSFER) -> list[dict[str, Any]]:
    assert state.data_dir is not None
    return [dict(e.data) for e in read(state.data_dir, [kind])]


def _transfer(model: ReadModel, tx_id: str, ts: int, amount: Any = 100.0) -> dict[str, Any]:
    a, b = model.account_ids[:2]
    return {"tx_id": tx_id, "from_account": a, "to_account": b, "amount": amount,
            "currency": "CNY", "ts": ts}  # fmt: skip


def test_a_number_no_float_holds_is_refused_and_the_batch_goes_on(
    app: Any, state: ServiceState, model: ReadModel
) -> None:
    # A JSON integer of 401 digits once raised past the checks: a 500 for the batch, and
    # the good record before it was then answered "duplicate" though never journalled.
    good = _transfer(model, "RT-F-good", _after_all(model))
    poison = {**good, "tx_id": "RT-F-poison", "amount": 10**400}
    answer = post(app, "/v1/transfers", [good, poison])
    assert answer.status_code == 200, answer.text
    status = {r["tx_id"]: r for r in answer.json()["results"]}
    assert status["RT-F-good"]["status"] == "accepted"
    assert status["RT-F-poison"]["status"] == "rejected"
    assert status["RT-F-poison"]["reasons"][0].startswith("bad_number: amount")
    assert post(app, "/v1/transfers", [good]).json()["results"][0]["status"] == "duplicate"
    assert [t["tx_id"] for t in _journalled(state)].count("RT-F-good") == 1
    # Accounts alike: a balance no float holds.
    holder = model.record_ids[0]
    account = {"account_id": "RT-F-ACC", "holder_id": holder, "holder_kind": "customer",
               "product": "deposit", "opened_at": "2026-06-01"}  # fmt: skip
    opened = post(app, "/v1/accounts", [account, {**account, "account_id": "RT-F-ACC2",
                                                  "balance": 10**400}])  # fmt: skip
    assert opened.status_code == 200, opened.text
    assert [r["status"] for r in opened.json()["results"]] == ["accepted", "rejected"]
    assert "RT-F-ACC" in {a["account_id"] for a in _journalled(state, ACCOUNT)}
    # A leading-dot exponent reads as the loader reads it.
    dotted = post(app, "/v1/transfers", [{**good, "tx_id": "RT-F-dot", "amount": ".5e3"}])
    assert dotted.json()["results"][0]["status"] == "accepted"


def _race(app: Any, bodies: list[list[dict[str, Any]]]) -> list[httpx.Response]:
    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {KEYS[Role.INGEST]}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            sends = [client.post("/v1/transfers", json=b, headers=headers) for b in bodies]
            return list(await asyncio.gather(*sends))

    return asyncio.run(go())


def test_a_resend_is_a_duplicate_only_once_the_first_copy_is_on_disk(
    app: Any, state: ServiceState, model: ReadModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = live_of(state)
    real = live._journal.append
    calls: list[int] = []

    def slow_then_failing(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        time.sleep(0.3)  # the resends arrive while the first write is in flight
        raise JournalError("disk full")

    monkeypatch.setattr(live._journal, "append", slow_then_failing)
    transfer = _transfer(model, "RT-F-race", _after_all(model))
    answers = _race(app, [[transfer]] * 4)
    # The write failed, so no send of it may be acknowledged: every one is told to retry.
    assert [a.status_code for a in answers] == [503] * 4, [a.text for a in answers]
    assert "RT-F-race" not in {t["tx_id"] for t in _journalled(state)}

    # With the disk back, the retry is accepted once and the concurrent resends wait for
    # it: "duplicate" means on disk.
    def slow(*args: Any, **kwargs: Any) -> None:
        time.sleep(0.2)
        real(*args, **kwargs)

    monkeypatch.setattr(live._journal, "append", slow)
    answers = _race(app, [[transfer]] * 4)
    statuses = sorted(a.json()["results"][0]["status"] for a in answers)
    assert statuses == ["accepted", "duplicate", "duplicate", "duplicate"]
    assert [t["tx_id"] for t in _journalled(state)].count("RT-F-race") == 1


def test_a_padded_id_of_a_loaded_transfer_is_that_transfer(app: Any, model: ReadModel) -> None:
    edges = model.projection.edge("Account", "TRANSFER", "Account")
    stored = {
        "tx_id": f" {edges.attrs['tx_id'].iloc[3]} ",
        "from_account": model.account_ids[int(edges.src[3])],
        "to_account": model.account_ids[int(edges.dst[3])],
        "amount": float(edges.attrs["amount"].iloc[3]),
        "currency": "CNY",
        "ts": int(edges.attrs["ts"].iloc[3]),
    }
    # The loader strips the id, so the live check does too: the same transfer, or a reuse.
    assert post(app, "/v1/transfers", [stored]).json()["results"][0]["status"] == "duplicate"
    other = post(app, "/v1/transfers", [{**stored, "amount": 1.0}]).json()["results"][0]
    assert other["status"] == "rejected"
    assert other["reasons"][0].startswith("duplicate_key: tx_id")


def test_the_future_limit_does_not_move_with_the_times_it_accepts(
    app: Any, model: ReadModel
) -> None:
    # The limit was a day past the newest transfer accepted: forty sends a day apart
    # walked it forty days past the clock.
    now = _now_ms()
    assert _after_all(model) < now  # the test bank lies in the past
    near = post(app, "/v1/transfers", [_transfer(model, "RT-F-near", now + 20 * HOUR)]).json()
    assert near["results"][0]["status"] == "accepted"
    far = post(app, "/v1/transfers", [_transfer(model, "RT-F-far", now + 40 * HOUR)]).json()
    assert far["results"][0]["status"] == "rejected"
    assert "more than a day after the server's clock" in far["results"][0]["reasons"][0]


def test_a_restart_keeps_when_live_alerts_were_found_and_counts_them_once(
    app: Any, state: ServiceState, model: ReadModel
) -> None:
    ids = _mules(app, model, "RSTR")
    legs = _chain(ids, _after_all(model), "RT-R-")
    sent = _now_ms()
    assert post(app, "/v1/transfers", legs).status_code == 200
    answered = _now_ms()
    before = {c: f.found_ms for c, f in live_of(state).alerts.items()}
    assert before
    time.sleep(0.5)  # a restart's own clock reads well past the send's
    counted: list[str] = []
    assert state.data_dir is not None
    restarted = LiveScoring(model, state.data_dir, on_alert=counted.append)
    after = {c: f.found_ms for c, f in restarted.alerts.items()}
    # Found when its transfer was written (within the send, before it was scored), not at
    # the restart. Bounded by the send, not by a latency: the journal's fsync lies between
    # the write and the scoring, and on a busy disk it alone took 300 ms (a 300 ms bound).
    assert after.keys() == before.keys()
    assert all(sent <= after[c] <= before[c] <= answered for c in after), (
        sent, after, before, answered,
    )  # fmt: skip
    assert counted == []  # found before the restart, and counted then


def _now_ms() -> int:
    """The wall clock in whole milliseconds, as ``FoundAlert.found_ms`` reads it."""
    return int(datetime.now(UTC).timestamp() * 1000)


def _alert(chain: str, tx_ids: list[str], typology: str = "fan_in") -> LiveAlert:
    hops = [LiveHop(t, "A", "B", 1.0, 0) for t in tx_ids]
    return LiveAlert(chain, typology, 0.9, [], hops, None, len(hops))


def test_a_chain_grown_past_its_stages_leaves_one_alert(state: ServiceState) -> None:
    live = live_of(state)
    for alert in (_alert("S6", ["t1", "t2", "t3"]), _alert("S8", ["t1", "t2", "t3", "t4"]),
                  _alert("G1", ["t1", "t9"], "gather_scatter")):  # fmt: skip
        live._supersede(alert)
        live.alerts[alert.chain_id] = FoundAlert(alert, "2026-12-04T00:00:00.000+00:00", 0)
    live._supersede(_alert("S12", ["t1", "t2", "t3", "t4", "t5"]))
    # Both earlier stages of the fan are held whole by the grown one; the gather-scatter
    # sharing a transfer is another pattern and stays.
    assert set(live.alerts) == {"G1"}


def test_a_streamed_amount_in_another_currency_is_not_judged_in_cny(
    app: Any, model: ReadModel
) -> None:
    a, b, c, d = _mules(app, model, "FXC")
    t0 = _after_all(model)

    def weekly(prefix: str, frm: str, to: str, currency: str) -> list[dict[str, Any]]:
        return [{"tx_id": f"{prefix}{k}", "from_account": frm, "to_account": to,
                 "amount": 48_000, "currency": currency, "ts": t0 + 7 * k * DAY}
                for k in range(3)]  # fmt: skip

    def typologies(answer: httpx.Response) -> set[str]:
        assert answer.status_code == 200, answer.text
        return {a["typology"] for r in answer.json()["results"] for a in r["verdict"]["alerts"]}

    assert "structuring" in typologies(post(app, "/v1/transfers", weekly("RT-FX-C", a, b, "CNY")))
    yen = post(app, "/v1/transfers", weekly("RT-FX-J", c, d, "日元"))
    assert typologies(yen) == set()
    assert yen.json()["accepted"] == 3


def test_an_opening_date_sent_in_epoch_seconds_is_refused(app: Any, model: ReadModel) -> None:
    # 1,717,200,000 is 1 June 2024 in seconds and 20 January 1970 in milliseconds.
    account = {"account_id": "RT-F-SEC", "holder_id": model.record_ids[0],
               "holder_kind": "customer", "product": "deposit"}  # fmt: skip
    answer = post(app, "/v1/accounts", [{**account, "opened_at": 1_717_200_000}]).json()
    assert answer["results"][0]["status"] == "rejected"
    assert "not seconds" in answer["results"][0]["reasons"][0]
    ms = post(app, "/v1/accounts", [{**account, "opened_at": 1_717_200_000_000}]).json()
    assert ms["results"][0]["status"] == "accepted"


def test_an_opening_date_sent_in_epoch_ms_is_the_day_it_falls_on_in_beijing(
    app: Any, state: ServiceState, model: ReadModel
) -> None:
    # 00:30 on 1 June Beijing time is 16:30 UTC on 31 May: the bank opened it on 1 June, as
    # the same record with "2024-06-01" says (the server kept the instant, the load the
    # UTC day, 31 May).
    account = {"account_id": "RT-F-DAY", "holder_id": model.record_ids[0],
               "holder_kind": "customer", "product": "deposit"}  # fmt: skip
    instant = moment_ms("2024-06-01T00:30:00+08:00", UTC)
    sent = post(app, "/v1/accounts", [{**account, "opened_at": instant}]).json()
    assert sent["results"][0]["status"] == "accepted"
    again = post(app, "/v1/accounts", [{**account, "opened_at": "2024-06-01"}]).json()
    assert again["results"][0]["status"] == "duplicate"
    (entry,) = [a for a in _journalled(state, ACCOUNT) if a["account_id"] == "RT-F-DAY"]
    assert entry["opened_at"] == moment_ms("2024-06-01", UTC)


def test_mules_opened_on_the_day_of_a_small_hours_chain_are_new_in_real_time(
    app: Any, model: ReadModel
) -> None:
    # Accounts sent to /v1/accounts opened on day D, used from 01:00 Beijing time on D (17:00
    # UTC on D-1): as new as accounts used at 10:00 on their opening day, so the two chains
    # score the same (the small-hours one lost its new_accounts reason and fell under).
    zone = ZoneInfo("Asia/Shanghai")
    first = datetime.fromtimestamp(_after_all(model) / 1000, zone).date() + timedelta(days=1)
    scores = []
    for k, (day, hour) in enumerate(((first, 1), (first + timedelta(days=5), 10))):
        holders = model.record_ids[10 + 4 * k : 14 + 4 * k]
        ids = [f"RT-F-OD{k}{i}" for i in range(4)]
        accounts = [{"account_id": a, "holder_id": h, "holder_kind": "customer",
                     "product": "deposit", "opened_at": day.isoformat()}
                    for a, h in zip(ids, holders, strict=True)]  # fmt: skip
        assert post(app, "/v1/accounts", accounts).json()["accepted"] == 4
        t0 = moment_ms(f"{day}T{hour:02d}:00:00+08:00", UTC)
        answer = post(app, "/v1/transfers", _chain(ids, t0, f"RT-F-OD{k}-")).json()
        alerts = [a for r in answer["results"] for a in r["verdict"]["alerts"]
                  if a["typology"] == "layering_chain"]  # fmt: skip
        scores.append(max(a["score"] for a in alerts))
    assert scores[0] == scores[1]


def test_a_journalled_transfer_whose_account_left_the_bank_does_not_stop_ingestion(
    app: Any, state: ServiceState, model: ReadModel, caplog: pytest.LogCaptureFixture
) -> None:
    # Acknowledged to an account the next export no longer held: the load quarantined it,
    # and the replay's assertion then made every later request a 500, restart after restart.
    assert state.data_dir is not None
    gone = {**_transfer(model, "RT-F-orphan", _after_all(model)), "to_account": "CLOSED-9"}
    Journal(state.data_dir).append(TRANSFER, [gone], by="k_old")
    answer = post(app, "/v1/transfers", [_transfer(model, "RT-F-after", _after_all(model) + 1)])
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == 1
    assert any("1 journalled transfers name accounts" in r.getMessage() for r in caplog.records)
    # Sent again, it is refused as any transfer to an account the bank does not hold.
    (again,) = post(app, "/v1/transfers", [gone]).json()["results"]
    assert again["status"] == "rejected"
    assert again["reasons"][0].startswith("unknown_foreign_key: to_account 'CLOSED-9'")


def test_each_batch_of_a_group_commit_hears_its_own_write(
    state: ServiceState, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two keys' batches in one group commit: the first written, the second refused by the
    # disk. Both were told "nothing recorded" — and the first, on disk, loaded later.
    live = live_of(state)
    real = live._journal.append

    def append(kind: str, records: Any, *, by: str) -> Any:
        if by == "k_b":
            raise JournalError("no space left")
        return real(kind, records, by=by)

    monkeypatch.setattr(live._journal, "append", append)
    rows = [{"tx_id": f"RT-GC-{k}", "from_account": "a", "to_account": "b"} for k in "ab"]
    committer = GroupCommitter(live._write, "test-journal")
    monkeypatch.setattr(committer, "_writer", threading.current_thread())  # queue only
    first = committer.submit({"kind": TRANSFER, "by": "k_a", "records": [rows[0]]})
    second = committer.submit({"kind": TRANSFER, "by": "k_b", "records": [rows[1]]})
    monkeypatch.setattr(committer, "_writer", None)
    committer.submit({"kind": TRANSFER, "by": "k_a", "records": []})  # starts the writer
    first.wait()
    with pytest.raises(JournalError, match="no space"):
        second.wait()
    assert "RT-GC-a" in {t["tx_id"] for t in _journalled(state)}
    assert "RT-GC-b" not in {t["tx_id"] for t in _journalled(state)}


def test_times_an_earlier_release_journalled_do_not_stop_ingestion_after_the_upgrade(
    app: Any, state: ServiceState, model: ReadModel, caplog: pytest.LogCaptureFixture
) -> None:
    # Releases before 2026-12-04 accepted and journalled any integer time: a transfer's ts in
    # epoch seconds (January 1970, before the bank's first transfer) or in the year 2999, an
    # account's opening date of 2**70. The upgrade that refuses them replayed them from the
    # journal into the live index, and every later transfer failed, restart after restart.
    assert state.data_dir is not None
    after = _after_all(model)
    old = Journal(state.data_dir)
    old.append(ACCOUNT, [{"account_id": "RT-U-ACC", "holder_id": model.record_ids[0],
                          "holder_kind": "customer", "product": "deposit", "opened_at": 2**70,
                          "balance": None, "status": None}], by="k_old")  # fmt: skip
    # In the reporting band: no gate lets the verdict skip the detectors.
    old.append(TRANSFER, [_transfer(model, "RT-U-seconds", after // 1000, 48_000),
                          _transfer(model, "RT-U-2999", 32_472_144_000_000)], by="k_old")  # fmt: skip
    to_new = {**_transfer(model, "RT-U-new", after + 2), "to_account": "RT-U-ACC"}
    answer = post(app, "/v1/transfers", [_transfer(model, "RT-U-after", after + 1), to_new])
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == 2
    assert any("2 journalled transfers have times the live index cannot hold" in r.getMessage()
               for r in caplog.records)  # fmt: skip
    # Sent again now, it is refused as any such time is (the next load reads the journal's).
    (again,) = post(app, "/v1/transfers", [_transfer(model, "RT-U-seconds", after // 1000)]).json()[
        "results"
    ]
    assert again["status"] == "rejected"
    assert again["reasons"][0].startswith("out_of_range: ts")


def test_a_batch_being_scored_never_holds_up_the_event_loop(
    app: Any, state: ServiceState, model: ReadModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A batch marked its journal write done under the scorer's lock, on the event loop:
    # while another batch's verdicts were computed (seconds for a thousand payments to
    # merchants) /healthz and every other request waited: 7 s with six batches at once.
    live = live_of(state)
    real_validate, real_apply = live.validate_transfers, live.apply
    second_validated, scoring, answered = threading.Event(), threading.Event(), threading.Event()
    held_out: list[bool] = []

    def validate(body: Any, by: str) -> Any:
        answer = real_validate(body, by)
        if body[0]["tx_id"] == "RT-F-second":
            second_validated.set()
        return answer

    def slow_apply(*args: Any) -> Any:
        # The first batch's verdicts take a while, whichever of the two reaches apply first
        # (under load the second may: "not scoring.is_set()" once let both hold the lock).
        if args[0][0].values["tx_id"] == "RT-F-first":
            second_validated.wait(5)
            with live._lock:
                scoring.set()
                # Scoring until /healthz has answered: a loop waiting for this lock cannot
                # answer it, and the hold runs out instead. (A latency bound, 0.3 s for the
                # answer, was also a bet on a loaded machine's scheduler and collector.)
                held_out.append(not answered.wait(HOLD_SECONDS))
        return real_apply(*args)

    monkeypatch.setattr(live, "validate_transfers", validate)
    monkeypatch.setattr(live, "apply", slow_apply)
    ts = _after_all(model)

    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {KEYS[Role.INGEST]}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            first = asyncio.ensure_future(client.post(
                "/v1/transfers", json=[_transfer(model, "RT-F-first", ts)], headers=headers))  # fmt: skip
            await asyncio.sleep(0.1)
            second = asyncio.ensure_future(client.post(
                "/v1/transfers", json=[_transfer(model, "RT-F-second", ts + 1)], headers=headers))  # fmt: skip
            await asyncio.to_thread(scoring.wait, 5)
            await asyncio.sleep(0.2)  # the second batch is on disk, the first still scoring
            health = await client.get("/healthz")
            answered.set()
            assert health.status_code == 200
            return [await first, await second]

    answers = asyncio.run(go())
    assert held_out == [False], (
        f"the event loop stood still behind another batch's scoring ({HOLD_SECONDS:g} s)"
    )
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert answer.json()["accepted"] == 1
