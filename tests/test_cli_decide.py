"""``relgraph decide``: a decision by duplicate id or by two customer ids, listed with who and
when, applied by the next ``relgraph load``; mistakes get one sentence and exit 2."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from relgraph.cli import app
from relgraph.journal import DUPLICATE_DECISION, read
from relgraph.store.embedded import EmbeddedStore
from tests.banks import Rows, write_bank
from tests.ingest.test_decisions import RECORDS

runner = CliRunner()

REVIEW: Rows = [
    # One name and one mobile, the card record without a birth date: kept for review.
    {"customer_id": "W1", "source_system": "core", "name": "吴芳", "birth_date": "1992-02-02",
     "gender": "F", "phone": "13600004444"},
    {"customer_id": "W2", "source_system": "card", "name": "吴芳", "phone": "+86 136 0000 4444"},
]  # fmt: skip


def _customers(data: Path) -> pd.DataFrame:
    with EmbeddedStore(data, read_only=True) as store:
        return store.read_frame("customers").set_index("customer_id")


@pytest.fixture
def loaded(tmp_path: Path) -> tuple[Path, Path]:
    bank = write_bank(
        tmp_path / "bank",
        {"customers": [*RECORDS, *REVIEW], "enterprises": [{"enterprise_id": "E", "name": "E"}]},
    )
    data = tmp_path / "data"
    result = runner.invoke(app, ["load", str(bank), "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    return bank, data


def _load(bank: Path, data: Path) -> str:
    result = runner.invoke(app, ["load", str(bank), "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    return result.output


def test_decide_by_duplicate_id_then_load_merges_the_pair(loaded: tuple[Path, Path]) -> None:
    bank, data = loaded
    with EmbeddedStore(data, read_only=True) as store:
        band = store.read_frame("possible_duplicates")
    row = band[band["customer_a"].isin(["W1", "W2"])].iloc[0]
    assert {row["customer_a"], row["customer_b"]} == {"W1", "W2"}
    assert _customers(data).loc["W1", "person_id"] != _customers(data).loc["W2", "person_id"]
    args = ["decide", row["duplicate_id"], "--decision", "same", "--note", "同一手机号，本人确认"]
    result = runner.invoke(app, [*args, "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    assert "W1 and W2 are SAME" in result.output
    (entry,) = read(data, [DUPLICATE_DECISION])
    assert entry.by == f"cli:{getpass.getuser()}"
    assert entry.data["duplicate_id"] == row["duplicate_id"]
    assert "unchanged" not in _load(bank, data).lower()
    customers = _customers(data)
    assert customers.loc["W1", "person_id"] == customers.loc["W2", "person_id"]
    assert json.loads(customers.loc["W2", "match_evidence"])[0] == {
        "comparison": "decision",
        "level": "same",
        "weight": None,
    }


def test_decide_by_two_customer_ids_then_load_keeps_them_apart(
    loaded: tuple[Path, Path],
) -> None:
    bank, data = loaded
    args = ["decide", "K1", "C1", "--decision", "DIFFERENT", "--note", "卡户是另一人"]
    result = runner.invoke(app, [*args, "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    _load(bank, data)
    customers = _customers(data)
    assert customers.loc["C1", "person_id"] != customers.loc["K1", "person_id"]
    # The pair's id is the one the API would show for it.
    (entry,) = read(data, [DUPLICATE_DECISION])
    assert (entry.data["customer_a"], entry.data["customer_b"]) == ("C1", "K1")
    assert entry.data["duplicate_id"].startswith("D")
    assert len(entry.data["duplicate_id"]) == 17


def test_list_shows_who_decided_when_and_what_is_in_force(loaded: tuple[Path, Path]) -> None:
    _, data = loaded
    for decision in ("same", "different"):
        result = runner.invoke(
            app, ["decide", "T1", "T2", "--decision", decision, "--data-dir", str(data)]
        )
        assert result.exit_code == 0, result.output
    entries = list(read(data, [DUPLICATE_DECISION]))
    result = runner.invoke(app, ["decide", "--list", "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "T1" in line]
    assert len(lines) == 2
    newest, oldest = lines
    assert "DIFFERENT" in newest
    assert "superseded" not in newest
    assert "SAME (superseded)" in oldest
    for line, entry in zip(lines, reversed(entries), strict=True):
        assert f"cli:{getpass.getuser()}" in line
        assert entry.at[:19] in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["D0000000000000000", "--decision", "same"], "no possible duplicate has id"),
        (["C1", "NOBODY", "--decision", "same"], "no customer record has id 'NOBODY'"),
        (["C1", "C1", "--decision", "same"], "two different customer records"),
        (["C1", "K1"], "--decision SAME or --decision DIFFERENT"),
        (["C1", "K1", "T1", "--decision", "same"], "or two customer ids"),
    ],
)
def test_mistakes_get_one_sentence_and_exit_2(
    loaded: tuple[Path, Path], args: list[str], message: str
) -> None:
    _, data = loaded
    result = runner.invoke(app, ["decide", *args, "--data-dir", str(data)], terminal_width=200)
    assert result.exit_code == 2
    assert message in result.output
    assert list(read(data, [DUPLICATE_DECISION])) == []


def test_decide_without_the_stores_id_secret_makes_none_and_says_so(
    loaded: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before: decide by two customer ids on a data directory moved without id-secret made a
    # new random one, and the next load gave every person a new id with it.
    _, data = loaded
    monkeypatch.delenv("RELGRAPH_ID_SECRET", raising=False)
    (data / "id-secret").rename(data.parent / "kept-secret")
    args = ["decide", "W1", "W2", "--decision", "different", "--data-dir", str(data)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "id-secret is missing" in " ".join(result.output.split())
    assert not (data / "id-secret").exists()
    assert list(read(data, [DUPLICATE_DECISION])) == []


def _audit_lines(data: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (data / "audit.log").read_text().splitlines()]


def test_decisions_and_the_list_are_on_the_audit_trail(loaded: tuple[Path, Path]) -> None:
    # Before: `decide --list` printed every decided pair's customer ids and `decide` named a
    # pair, and the audit log held no line of either (the API's decideDuplicate and
    # duplicateDecisions are audited, as `relgraph audience` is).
    from relgraph.api.audit import verify
    from relgraph.api.audit_key import load_audit_key
    from relgraph.config import AuditSettings

    _, data = loaded
    for pair in (["T1", "T2"], ["C1", "K1"]):
        args = ["decide", *pair, "--decision", "different", "--data-dir", str(data)]
        assert runner.invoke(app, args).exit_code == 0
    listed = runner.invoke(app, ["decide", "--list", "--data-dir", str(data)])
    assert listed.exit_code == 0, listed.output
    made = list(read(data, [DUPLICATE_DECISION]))
    first, _, listing = _audit_lines(data)
    who = f"cli:{getpass.getuser()}"
    assert (first["key_id"], first["role"], first["operation"], first["outcome"]) == (
        who, "operator", "decide", "ok"
    )  # fmt: skip
    assert first["ids"] == sorted(["T1", "T2", made[0].data["duplicate_id"]])
    assert first["journal_seq"] == made[0].seq
    assert (listing["key_id"], listing["operation"], listing["outcome"]) == (
        who, "decide --list", "ok"
    )  # fmt: skip
    shown = {"T1", "T2", "C1", "K1"} | {e.data["duplicate_id"] for e in made}
    assert set(listing["ids"]) == shown
    assert all(i in listed.output for i in shown)
    key = load_audit_key(AuditSettings(), data, production=False, generate=False)
    assert verify(data / "audit.log", key).ok


def test_an_id_that_names_nothing_is_on_the_trail_as_its_hmac(loaded: tuple[Path, Path]) -> None:
    """ATTACK: an OS user tries ids with `relgraph decide`; "no customer record has id" says
    whether one exists. The try is on the trail as the API's lookups are: outcome
    ``not_found``, the ids tried as their HMACs under the audit key, never in clear."""
    from relgraph.api.audit import verify
    from relgraph.api.audit_key import load_audit_key
    from relgraph.config import AuditSettings

    _, data = loaded
    tries = (["C1", "110101199003078515"], ["D0000000000000000"])
    for ids in tries:
        args = ["decide", *ids, "--decision", "same", "--data-dir", str(data)]
        assert runner.invoke(app, args).exit_code == 2
    key = load_audit_key(AuditSettings(), data, production=False, generate=False)
    lines = _audit_lines(data)
    assert [(x["operation"], x["outcome"], x["ids"]) for x in lines] == [
        ("decide", "not_found", []), ("decide", "not_found", [])
    ]  # fmt: skip
    assert [x["tried_hmac"] for x in lines] == [
        [key.text_mac("110101199003078515")], [key.text_mac("D0000000000000000")]
    ]  # fmt: skip
    assert "110101199003078515" not in (data / "audit.log").read_text()
    assert verify(data / "audit.log", key).ok
    assert list(read(data, [DUPLICATE_DECISION])) == []


def test_a_list_the_trail_cannot_record_is_not_printed(
    loaded: tuple[Path, Path], tmp_path: Path
) -> None:
    _, data = loaded
    args = ["decide", "T1", "T2", "--decision", "same", "--data-dir", str(data)]
    assert runner.invoke(app, args).exit_code == 0
    anchor = tmp_path / "anchor-elsewhere"
    anchor.mkdir()  # an anchor path that cannot be a file
    result = CliRunner(env={"RELGRAPH_AUDIT_ANCHOR": str(anchor)}).invoke(
        app, ["decide", "--list", "--data-dir", str(data)], terminal_width=200
    )
    assert result.exit_code == 2
    assert "nothing listed: the audit trail cannot be written" in result.output
    assert "T1" not in result.output
