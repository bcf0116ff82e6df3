"""Alert decisions: reviewRiskChain, the queue's status filter, and the decisions' rules
across re-analyses (they follow their chain, outlive it, new evidence reopens a dismissal,
and REPORTED is final)."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from relgraph.api import chain_reviews as cr
from relgraph.api.auth import Principal, Role
from relgraph.api.context import Context
from relgraph.api.readmodel import ReadModel, build_read_model
from relgraph.api.schema import build_schema
from relgraph.graph import build_projection
from relgraph.ingest import load_directory
from relgraph.jobs.analyze import analyze
from relgraph.journal import CHAIN_REVIEW, read
from relgraph.store.embedded import EmbeddedStore
from tests.banks import analysed_synthetic

REVIEW = """mutation R($id: ID!, $status: ChainStatus!, $note: String) {
  reviewRiskChain(id: $id, status: $status, note: $note) {
    id status reviews { status note by at chainId }
  }
}"""
QUEUE = """query Q($status: ChainStatus, $minScore: Float) {
  riskChains(filter: {status: $status, minScore: $minScore}, first: 100) {
    totalCount
    edges { node { id status hopCount
                   reviews { status note chainId }
                   summary { totalAmount firstAt lastAt parties { id } } } }
  }
}"""


def _execute(
    query: str, model: ReadModel, log: cr.ReviewLog | None, role: Role = Role.RISK, **variables: Any
) -> Any:
    context = Context(
        principal=Principal(role, f"k_{role.value}"),
        model=model,
        request_id="r-test",
        deadline=float("inf"),
        reviews=log,
    )
    return asyncio.run(
        build_schema().execute(query, context_value=context, variable_values=variables or None)
    )


def _ok(result: Any) -> Any:
    assert result.errors is None, result.errors
    return result.data


def _queue(model: ReadModel, log: cr.ReviewLog, **variables: Any) -> dict[str, dict[str, Any]]:
    data = _ok(_execute(QUEUE, model, log, **variables))["riskChains"]
    return {e["node"]["id"]: e["node"] for e in data["edges"]}


# --- the rules, on chains written by hand -------------------------------------------------


def _review(seq: int, chain: str, status: str, txs: list[str]) -> cr.Review:
    hops = [[t, "A1", "A2", 100.0, 1_700_000_000_000 + i] for i, t in enumerate(txs)]
    snapshot = {"typology": "chain", "score": 0.9, "reasons": [], "hops": hops}
    return cr.Review(
        seq, chain, status, f"note {seq}", "k_risk", "2026-12-01T00:00:00+00:00", snapshot
    )


def _hops(chains: dict[str, list[str]]) -> pd.DataFrame:
    rows = [(c, t) for c, txs in chains.items() for t in txs]
    return pd.DataFrame(rows, columns=["chain_id", "tx_id"])


def _view(reviews: list[cr.Review], chains: dict[str, list[str]]) -> cr.ReviewView:
    return cr.ReviewView(reviews, np.array(list(chains), dtype=object), _hops(chains))


def test_a_decision_follows_to_the_chain_holding_half_its_transfers() -> None:
    old = _review(1, "R_old", cr.ESCALATED, ["t1", "t2", "t3", "t4"])
    view = _view([old], {"R_half": ["t3", "t4", "t9"], "R_less": ["t1", "t8"]})
    assert view.history("R_half") == [old]
    assert view.current_of["R_old"] == "R_half"
    assert not view.orphans
    assert list(view.row_status) == [cr.ESCALATED, cr.OPEN]


def test_less_than_half_leaves_the_decision_listed_as_a_gone_chain() -> None:
    old = _review(1, "R_old", cr.REPORTED, ["t1", "t2", "t3", "t4", "t5"])
    view = _view([old], {"R_two": ["t1", "t2", "t8"]})
    assert [(o.chain_id, o.history) for o in view.orphans] == [("R_old", [old])]
    assert view.history("R_old") == [old]
    assert list(view.row_status) == [cr.OPEN]


def test_the_most_shared_chain_wins_and_merged_histories_keep_a_report() -> None:
    a = _review(1, "R_a", cr.REPORTED, ["t1", "t2"])
    b = _review(2, "R_b", cr.DISMISSED, ["t3", "t4"])
    view = _view([a, b], {"R_one": ["t1"], "R_all": ["t1", "t2", "t3", "t4"]})
    assert view.history("R_all") == [a, b]
    assert cr.status_of(view.history("R_all")) == cr.REPORTED
    assert list(view.row_status) == [cr.OPEN, cr.REPORTED]


def test_a_dismissal_is_reopened_by_a_transfer_it_was_not_made_on() -> None:
    dismissed = _review(1, "R_d", cr.DISMISSED, ["t1", "t2", "t3"])
    grown = _view([dismissed], {"R_grown": ["t1", "t2", "t3", "t4"]})
    assert (grown.status("R_grown"), list(grown.row_status)) == (cr.OPEN, [cr.OPEN])
    assert grown.history("R_grown") == [dismissed]
    shrunk = _view([dismissed], {"R_less": ["t1", "t2"]})
    assert (shrunk.status("R_less"), list(shrunk.row_status)) == (cr.DISMISSED, [cr.DISMISSED])
    escalated = _review(1, "R_e", cr.ESCALATED, ["t1", "t2", "t3"])
    assert _view([escalated], {"R_grown": ["t1", "t2", "t3", "t4"]}).status("R_grown") == (
        cr.ESCALATED
    )


def test_a_later_decision_is_the_status_unless_one_reported() -> None:
    assert cr.status_of([]) == cr.OPEN
    assert (
        cr.status_of([_review(1, "R", cr.ESCALATED, ["t"]), _review(2, "R", cr.DISMISSED, ["t"])])
        == cr.DISMISSED
    )


# --- through the API, across a re-analysis ------------------------------------------------


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The API tests' bank, loaded and analysed once for the run: the tests copy it."""
    return analysed_synthetic(tmp_path_factory, 1_500, 21)


def _model(data: Path) -> ReadModel:
    with EmbeddedStore(data, read_only=True) as store:
        return build_read_model(store)


def _reanalyse(bank: Path, data: Path, drop: set[str]) -> None:
    """Load the bank again without the transfers ``drop``, and analyse it."""
    transfers = pd.read_csv(bank / "transfers.csv", dtype=str, keep_default_na=False)
    transfers[~transfers["tx_id"].isin(drop)].to_csv(bank / "transfers.csv", index=False)
    with EmbeddedStore(data) as store:
        load_directory(bank, store, data)
        analyze(store, build_projection(store))


def test_decisions_are_saved_shown_and_carried_across_a_reanalysis(
    bank: tuple[Path, Path], tmp_path: Path
) -> None:
    source, data = bank
    work, work_data = tmp_path / "bank", tmp_path / "data"
    shutil.copytree(source, work)
    shutil.copytree(data, work_data)
    model = _model(work_data)
    log = cr.ReviewLog(work_data)
    chains = model.results.risk_chains
    hops = model.results.risk_chain_hops
    assert chains is not None
    assert hops is not None
    sizes = hops.groupby("chain_id").size()
    above = chains.frame[chains.frame["above_threshold"]]
    ordered = sizes[sizes.index.isin(above["chain_id"])].sort_values(ascending=False)
    big, reported, dismissed = (str(c) for c in ordered.index[:3])

    escalate = _ok(_execute(REVIEW, model, log, id=big, status="ESCALATED", note="看一下"))
    assert escalate["reviewRiskChain"]["status"] == "ESCALATED"
    _ok(_execute(REVIEW, model, log, id=reported, status="REPORTED", note="STR filed"))
    _ok(_execute(REVIEW, model, log, id=dismissed, status="DISMISSED", note="payroll"))
    # Durable: in the journal, and read back by a new server over the same directory.
    assert [e.data["status"] for e in read(work_data, [CHAIN_REVIEW])] == [
        "ESCALATED", "REPORTED", "DISMISSED",
    ]  # fmt: skip
    fresh = cr.ReviewLog(work_data)
    queue = _queue(model, fresh)
    assert queue[big]["status"] == "ESCALATED"
    assert queue[big]["reviews"] == [{"status": "ESCALATED", "note": "看一下", "chainId": big}]
    assert set(_queue(model, fresh, status="REPORTED")) == {reported}
    assert big not in _queue(model, fresh, status="OPEN")

    # REPORTED is final: another status is refused, a note is added.
    refused = _execute(REVIEW, model, fresh, id=reported, status="DISMISSED")
    assert "was reported: its status stays REPORTED" in refused.errors[0].message
    _ok(_execute(REVIEW, model, fresh, id=reported, status="REPORTED", note="regulator replied"))

    # Re-analysis: the big chain loses one transfer (a new id, most transfers shared), the
    # reported chain loses all of them (gone).
    big_txs = hops.loc[hops["chain_id"] == big, "tx_id"].tolist()
    reported_txs = set(hops.loc[hops["chain_id"] == reported, "tx_id"])
    _reanalyse(work, work_data, {big_txs[-1]} | reported_txs)
    after = _model(work_data)
    log = cr.ReviewLog(work_data)
    queue = _queue(after, log)
    assert big not in after.results.risk_chains.row_of, "the big chain changed id"
    (followed,) = [c for c in queue.values() if c["reviews"] and c["reviews"][0]["chainId"] == big]
    assert followed["status"] == "ESCALATED"
    now = after.results.risk_chain_hops
    assert now is not None
    shared = set(big_txs) & set(now.loc[now["chain_id"] == followed["id"], "tx_id"])
    assert 2 * len(shared) >= len(big_txs)
    gone = queue[reported]
    assert gone["status"] == "REPORTED"
    assert [r["note"] for r in gone["reviews"]] == ["STR filed", "regulator replied"]
    assert gone["hopCount"] == len(reported_txs)
    assert gone["summary"]["firstAt"] <= gone["summary"]["lastAt"]
    assert set(_queue(after, log, status="REPORTED")) == {reported}
    # A decision can be made on the chain by the id it was reviewed under.
    moved = _ok(_execute(REVIEW, after, log, id=big, status="DISMISSED", note="explained"))
    assert moved["reviewRiskChain"]["id"] == followed["id"]
    assert [r["status"] for r in moved["reviewRiskChain"]["reviews"]] == ["ESCALATED", "DISMISSED"]


# --- the nights after: a dismissed chain that grows, or whose transfers were corrected ----


def _grow(bank: Path, fan: pd.DataFrame, chain: pd.DataFrame, free: list[str]) -> None:
    """Three more payers into the fan's hub (copies of its first three transfers from new
    accounts) and two more hops after the chain's end (each passing on 95 % an hour later)."""
    transfers = pd.read_csv(bank / "transfers.csv", dtype=str, keep_default_na=False)
    rows: list[dict[str, Any]] = []
    payers = transfers[transfers["tx_id"].isin(fan["tx_id"])].iloc[:3]
    for i, row in enumerate(payers.to_dict("records")):
        rows.append({**row, "tx_id": f"TX-NEXT-F{i}", "from_account": free[i]})
    last = transfers[transfers["tx_id"] == chain["tx_id"].iloc[-1]].to_dict("records")[0]
    amount, ts, payer = float(last["amount"]), pd.Timestamp(last["ts"]), last["to_account"]
    for i in range(2):
        amount, ts = amount * 0.95, ts + pd.Timedelta(hours=1)
        rows.append({**last, "tx_id": f"TX-NEXT-L{i}", "from_account": payer,
                     "to_account": free[3 + i], "amount": f"{amount:.2f}",
                     "ts": ts.isoformat()})  # fmt: skip
        payer = free[3 + i]
    pd.concat([transfers, pd.DataFrame(rows)]).to_csv(bank / "transfers.csv", index=False)


def _correct(bank: Path, tx_id: str) -> None:
    """The bank re-sends ``tx_id`` with another amount (1 % more)."""
    transfers = pd.read_csv(bank / "transfers.csv", dtype=str, keep_default_na=False)
    at = transfers["tx_id"] == tx_id
    transfers.loc[at, "amount"] = f"{float(transfers.loc[at, 'amount'].iloc[0]) * 1.01:.2f}"
    transfers.to_csv(bank / "transfers.csv", index=False)


def test_a_dismissed_chain_that_grows_or_is_corrected_is_open_again(
    bank: tuple[Path, Path], tmp_path: Path
) -> None:
    work, data = tmp_path / "bank", tmp_path / "data"
    shutil.copytree(bank[0], work)
    shutil.copytree(bank[1], data)
    model = _model(data)
    log = cr.ReviewLog(data)
    table, hops = model.results.risk_chains, model.results.risk_chain_hops
    assert table is not None
    assert hops is not None
    above = table.frame[table.frame["above_threshold"]].sort_values("score", ascending=False)
    fans = above[above["typology"] == "fan_in"]["chain_id"].tolist()
    grown_chain, corrected, unchanged = (
        above[above["typology"] == "layering_chain"]["chain_id"].tolist()[:1]
        + above[above["typology"] == "cycle"]["chain_id"].tolist()[:2]
    )
    fan = fans[0]
    for chain in (fan, grown_chain, corrected, unchanged):
        _ok(_execute(REVIEW, model, log, id=chain, status="DISMISSED", note="known payroll"))
    assert not {fan, grown_chain, corrected, unchanged} & set(_queue(model, log, status="OPEN"))

    used = set(hops["from_account"]) | set(hops["to_account"])
    accounts = pd.read_csv(work / "accounts.csv", dtype=str)["account_id"]
    free = [a for a in accounts if a not in used][:5]
    _grow(work, hops[hops["chain_id"] == fan], hops[hops["chain_id"] == grown_chain], free)
    _correct(work, hops.loc[hops["chain_id"] == corrected, "tx_id"].iloc[-1])
    _reanalyse(work, data, set())

    after = _model(data)
    log = cr.ReviewLog(data)
    queue = _queue(after, log)
    followed = {
        r["chainId"]: node for node in queue.values() for r in node["reviews"]
    }  # the chain each decision followed to, by the id it was made on
    assert followed[fan]["id"] != fan, "the fan has three more payers: a new id"
    assert followed[fan]["hopCount"] == len(hops[hops["chain_id"] == fan]) + 3
    assert followed[grown_chain]["hopCount"] == len(hops[hops["chain_id"] == grown_chain]) + 2
    assert followed[corrected]["id"] == corrected, "the same transfers: the same id"
    assert followed[unchanged]["id"] == unchanged
    opened = _queue(after, log, status="OPEN")
    for chain in (fan, grown_chain, corrected):
        node = followed[chain]
        assert node["status"] == "OPEN", chain
        assert node["id"] in opened
        # The dismissal is kept, with the chain it was made on.
        assert [(r["status"], r["note"], r["chainId"]) for r in node["reviews"]] == [
            ("DISMISSED", "known payroll", chain)
        ]
    assert followed[unchanged]["status"] == "DISMISSED"
    assert unchanged not in opened

    # Dismissed again on what it holds now, it stays dismissed.
    again = _ok(_execute(REVIEW, after, log, id=followed[fan]["id"], status="DISMISSED"))
    assert again["reviewRiskChain"]["status"] == "DISMISSED"
    assert followed[fan]["id"] not in _queue(after, log, status="OPEN")


def test_the_summary_adds_the_hops_and_names_their_holders(bank: tuple[Path, Path]) -> None:
    model = _model(bank[1])
    queue = _queue(model, cr.ReviewLog(None))
    chain = next(iter(queue.values()))
    hops = model.results.risk_chain_hops
    assert hops is not None
    mine = hops[hops["chain_id"] == chain["id"]]
    assert chain["summary"]["totalAmount"] == pytest.approx(mine["amount"].sum(), abs=0.01)
    holders = {
        h.get("id")
        for a in set(mine["from_account"]) | set(mine["to_account"])
        for h in [_holder(model, a)]
    }
    assert {p["id"] for p in chain["summary"]["parties"]} == holders - {None}


def _holder(model: ReadModel, account: str) -> dict[str, Any]:
    index = model.account_index[account]
    person, enterprise = model.account_person[index], model.account_enterprise[index]
    if person >= 0:
        return {"id": model.person_ids[person]}
    if enterprise >= 0:
        return {"id": model.enterprise_ids[enterprise]}
    return {}


@pytest.mark.parametrize("role", [Role.ANALYST, Role.CAMPAIGN])
def test_only_risk_and_admin_keys_review(
    bank: tuple[Path, Path], tmp_path: Path, role: Role
) -> None:
    model = _model(bank[1])
    chain = str(model.results.risk_chains.columns["chain_id"][0])
    result = _execute(REVIEW, model, cr.ReviewLog(tmp_path), role, id=chain, status="ESCALATED")
    assert result.errors[0].extensions["code"] == "FORBIDDEN"
    assert not list(read(tmp_path))


def test_an_unknown_chain_and_a_long_note_are_refused(
    bank: tuple[Path, Path], tmp_path: Path
) -> None:
    model = _model(bank[1])
    log = cr.ReviewLog(tmp_path)
    missing = _execute(REVIEW, model, log, id="R0000", status="ESCALATED")
    assert missing.errors[0].extensions["code"] == "NOT_FOUND"
    chain = str(model.results.risk_chains.columns["chain_id"][0])
    long = _execute(REVIEW, model, log, id=chain, status="OPEN", note="x" * 2_001)
    assert "note must be at most 2000 characters" in long.errors[0].message
    assert not list(read(tmp_path))


def test_a_dismissal_racing_a_report_is_refused(
    bank: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two reviewers at once: the DISMISSED request read the chain as OPEN, then the REPORTED
    # one was written before it; the dismissal was written after the report, a status change
    # the regulator's record does not allow.
    model = _model(bank[1])
    log = cr.ReviewLog(tmp_path)
    chain = str(model.results.risk_chains.columns["chain_id"][0])
    append = cr.ReviewLog.append
    snapshot = {"typology": "cycle", "score": 0.9, "reasons": [], "hops": []}
    report = cr.review_record(chain, cr.REPORTED, "STR filed", snapshot)

    def raced(self: cr.ReviewLog, record: Any, by: str, **kw: Any) -> cr.Review:
        monkeypatch.setattr(cr.ReviewLog, "append", append)
        append(self, report, by="k_other")  # the other reviewer's request lands first
        return append(self, record, by, **kw)

    monkeypatch.setattr(cr.ReviewLog, "append", raced)
    refused = _execute(REVIEW, model, log, id=chain, status="DISMISSED", note="payroll")
    assert refused.errors[0].message == (
        f"Chain {chain} was reported: its status stays REPORTED "
        "(send status REPORTED to add a note)."
    )
    assert [(e.data["status"], e.by) for e in read(tmp_path)] == [("REPORTED", "k_other")]


def test_journal_entries_hold_the_chain_as_reviewed(
    bank: tuple[Path, Path], tmp_path: Path
) -> None:
    model = _model(bank[1])
    chain = str(model.results.risk_chains.columns["chain_id"][0])
    _ok(_execute(REVIEW, model, cr.ReviewLog(tmp_path), id=chain, status="ESCALATED"))
    (entry,) = read(tmp_path)
    hops = model.results.risk_chain_hops
    assert hops is not None
    assert entry.by == "k_risk"
    assert [h[0] for h in entry.data["chain"]["hops"]] == hops.loc[
        hops["chain_id"] == chain, "tx_id"
    ].tolist()
    assert json.dumps(entry.data)  # plain JSON


def test_a_review_over_http_is_audited_and_journaled(state: Any) -> None:
    import httpx

    from relgraph.api.app import create_app

    from .conftest import KEYS

    model = state.model
    chain = str(model.results.risk_chains.columns["chain_id"][0])

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(state))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post(
                "/graphql",
                json={"query": REVIEW, "variables": {"id": chain, "status": "ESCALATED"}},
                headers={"Authorization": f"Bearer {KEYS[Role.RISK]}"},
            )

    answer = asyncio.run(go()).json()
    assert answer["data"]["reviewRiskChain"]["status"] == "ESCALATED"
    (line,) = [json.loads(x) for x in state.audit.path.read_text().splitlines()]
    assert (line["fields"], line["outcome"], line["role"]) == (["reviewRiskChain"], "ok", "risk")
    assert chain in line["ids"]
    (entry,) = read(state.audit.path.parent)
    assert (entry.data["chain_id"], entry.by) == (chain, line["key_id"])
