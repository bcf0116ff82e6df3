"""A server's live index after a load that merged the journal: the transfers that load
merged are passed over unparsed (the store holds them), and the index, the resend checks
and the verdicts are those of a replay that read every line."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from relgraph import journal
from relgraph.api import live as live_module
from relgraph.api.live import LiveScoring
from relgraph.api.readmodel import ReadModel, build_read_model
from relgraph.ingest import load_directory
from relgraph.journal import log as journal_log
from relgraph.store.embedded import EmbeddedStore
from relgraph.synth import generate
from tests.banks import hold_back_half


def _records(rows: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {"tx_id": r["tx_id"], "from_account": r["from_account"], "to_account": r["to_account"],
         "amount": float(r["amount"]), "currency": r["currency"], "ts": int(r["_ms"])}
        for r in rows.to_dict("records")
    ]  # fmt: skip


def _model(data: Path) -> ReadModel:
    with EmbeddedStore(data, read_only=True) as store:
        return build_read_model(store)


@pytest.fixture(scope="module")
def merged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    """A bank whose later transfers (and an account) were streamed, then merged by a load;
    one more transfer streamed after it. Returns its data folder and the transfers held
    back for verdicts, the first streamed one last."""
    root = tmp_path_factory.mktemp("replay-merged")
    generate(300, 5, root / "bank", "csv")
    late = _records(hold_back_half(root / "bank"))
    streamed, after, probe = late[:-41], late[-41], late[-40:]
    data = root / "data"
    with EmbeddedStore(data) as store:
        load_directory(root / "bank", store, data)
    first = LiveScoring(_model(data), data)
    holder = first.model.record_ids[0]
    opened = {"account_id": "RT-RM-NEW", "holder_id": holder, "holder_kind": "customer",
              "product": "deposit", "opened_at": "2020-01-01"}  # fmt: skip
    assert first.record_accounts([opened], by="k")["accepted"] == 1
    for lo in range(0, len(streamed), 50):
        assert first.record_transfers(streamed[lo : lo + 50], by="k")["rejected"] == 0
    first.drain()
    with EmbeddedStore(data) as store:
        load_directory(root / "bank", store, data)  # merges the journal
    journal.Journal(data).append(journal.TRANSFER, [after], by="k")  # after that load
    return data, [*probe, streamed[0]]


def test_the_replay_parses_only_what_the_load_did_not_merge(
    merged: tuple[Path, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, _ = merged
    model = _model(data)
    upto = int(model.projection.meta[journal.META_SEQ])
    whole = list(journal.read(data))
    assert upto == whole[-2].seq  # the streamed transfer after the load is not merged
    parsed: list[bytes] = []
    checked = journal_log._checked
    monkeypatch.setattr(journal_log, "_checked", lambda line: parsed.append(line) or checked(line))
    replayed = LiveScoring(model, data)
    monkeypatch.undo()
    kinds = [journal_log._parse(line).kind for line in parsed]  # type: ignore[union-attr]
    # The account (resends are judged by its content) and the one transfer after the load.
    assert sorted(kinds) == ["account", "transfer"]
    assert len(whole) > 500  # the transfers passed over
    assert replayed.index.account("RT-RM-NEW") is not None


def test_the_index_and_verdicts_are_those_of_a_whole_replay(
    merged: tuple[Path, list[dict[str, Any]]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, (*probe, loaded) = merged
    answers, states = [], []
    for run, passing in enumerate((True, False)):
        data = tmp_path / f"data{run}"
        shutil.copytree(source, data)  # each run journals its probe
        if not passing:  # as a store loaded before the journal's seq was recorded
            monkeypatch.setattr(live_module, "META_SEQ", "no such meta")
        live = LiveScoring(_model(data), data)
        monkeypatch.undo()
        states.append((dict(live._seen), dict(live._account_content), sorted(live.alerts)))
        answer = live.record_transfers(probe, by="k")
        answers.append([(r["tx_id"], r["status"], r.get("verdict")) for r in answer["results"]])
        # A transfer the load merged, sent again, and with another amount.
        resent = live.record_transfers([loaded, loaded | {"amount": 1.0}], by="k")["results"]
        answers.append([(r["status"], r.get("reasons")) for r in resent])
    assert states[0] == states[1]
    assert answers[0] == answers[2]
    assert answers[1] == answers[3]
    assert [status for status, _ in answers[1]] == ["duplicate", "rejected"]
    assert any(v is not None and v["alerts"] for _, _, v in answers[0])  # verdicts with alerts
