"""Duplicate review over the API: who may decide, what is written (journal, audit trail),
how decisions are listed, what the next load does with them, and that a duplicate id does
not give its customer ids away."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import hashlib
import hmac
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from relgraph.api.app import ServiceState, create_app, default_state
from relgraph.api.auth import KeyRing, Role, key_id
from relgraph.api.readmodel import ReadModel, build_read_model
from relgraph.ingest.person_ids import SECRET_FILE, PersonIdKey
from relgraph.journal import DUPLICATE_DECISION, read
from relgraph.store.embedded import EmbeddedStore
from relgraph.synth import generate
from tests.banks import load

from .conftest import KEYS

DECIDE = """
mutation Decide($id: ID!, $decision: DuplicateVerdict!, $note: String!) {
  decideDuplicate(id: $id, decision: $decision, note: $note) {
    id customerA customerB decision note decidedBy decidedAt inForce
  }
}"""
LIST = """
query Decisions {
  duplicateDecisions(first: 10) {
    totalCount
    edges { node { id customerA customerB decision note decidedBy decidedAt inForce
                   possibleDuplicate { id score } } }
  }
}"""
BAND = "query Band { possibleDuplicates(minScore: 0, first: 100) { edges { node { id customerA customerB score } } } }"


@pytest.fixture(scope="module")
def review_bank(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, ReadModel]:
    """A loaded synthetic bank whose review band holds pairs (with their keyed ids)."""
    root = tmp_path_factory.mktemp("review")
    generate(800, 7, root / "bank", "csv", locale="zh", export_style="bank")
    load(root / "bank", root / "data")
    with EmbeddedStore(root / "data", read_only=True) as store:
        model = build_read_model(store)
    assert model.results.possible_duplicates is not None
    assert len(model.results.possible_duplicates) >= 5, "the bank needs a review band"
    return root / "bank", root / "data", model


def _state(journal_dir: Path, model: ReadModel) -> ServiceState:
    state = default_state(journal_dir, KeyRing({key: role for role, key in KEYS.items()}))
    state.model = model
    return state


def _post(state: ServiceState, query: str, role: Role, **variables: Any) -> dict[str, Any]:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(state))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {KEYS[role]}"},
            )

    answer: dict[str, Any] = asyncio.run(go()).json()
    return answer


def _band(state: ServiceState) -> list[dict[str, Any]]:
    answer = _post(state, BAND, Role.ANALYST)
    return [edge["node"] for edge in answer["data"]["possibleDuplicates"]["edges"]]


def _audit(state: ServiceState) -> list[dict[str, Any]]:
    return [json.loads(line) for line in state.audit.path.read_text().splitlines()]


@pytest.mark.parametrize("role", [Role.ANALYST, Role.RISK, Role.ADMIN])
def test_a_decision_is_journalled_audited_and_listed_with_who_and_when(
    review_bank: tuple[Path, Path, ReadModel], tmp_path: Path, role: Role
) -> None:
    state = _state(tmp_path, review_bank[2])
    pair = _band(state)[0]
    answer = _post(state, DECIDE, role, id=pair["id"], decision="DIFFERENT", note="不是同一人")
    assert "errors" not in answer, answer
    made = answer["data"]["decideDuplicate"]
    assert (made["customerA"], made["customerB"]) == tuple(
        sorted((pair["customerA"], pair["customerB"]))
    )
    assert made["decidedBy"] == key_id(KEYS[role], state.audit.key)
    when = datetime.fromisoformat(made["decidedAt"])
    assert timedelta(0) <= datetime.now(UTC) - when < timedelta(minutes=1)
    # Durable in the data directory's journal, as the next load reads it.
    (entry,) = read(tmp_path, [DUPLICATE_DECISION])
    assert entry.by == key_id(KEYS[role], state.audit.key)
    assert entry.data["decision"] == "DIFFERENT"
    assert {entry.data["customer_a"], entry.data["customer_b"]} == {
        pair["customerA"],
        pair["customerB"],
    }
    # In the audit trail, naming both records.
    decided = [line for line in _audit(state) if line["fields"] == ["decideDuplicate"]]
    assert len(decided) == 1
    assert decided[0]["outcome"] == "ok"
    assert set(decided[0]["ids"]) == {pair["customerA"], pair["customerB"]}
    # Listed, newest first, with who and when.
    listed = _post(state, LIST, Role.ANALYST)["data"]["duplicateDecisions"]
    assert listed["totalCount"] == 1
    node = listed["edges"][0]["node"]
    assert node["decidedBy"] == key_id(KEYS[role], state.audit.key)
    assert node["decidedAt"] == made["decidedAt"]
    assert node["note"] == "不是同一人"
    assert node["inForce"] is True
    assert node["possibleDuplicate"]["id"] == pair["id"]


def test_campaign_keys_may_neither_decide_nor_list(
    review_bank: tuple[Path, Path, ReadModel], tmp_path: Path
) -> None:
    state = _state(tmp_path, review_bank[2])
    pair = _band(state)[0]
    answer = _post(state, DECIDE, Role.CAMPAIGN, id=pair["id"], decision="SAME", note="")
    (error,) = answer["errors"]
    assert error["message"] == "Permission denied: role 'campaign' may not read decideDuplicate."
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert list(read(tmp_path)) == []
    listed = _post(state, LIST, Role.CAMPAIGN)
    assert listed["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    refused = [line for line in _audit(state) if line["outcome"] == "forbidden"]
    assert {tuple(line["fields"]) for line in refused} == {
        ("decideDuplicate",),
        ("duplicateDecisions",),
    }


def test_an_unknown_id_is_a_clear_error_and_writes_nothing(
    review_bank: tuple[Path, Path, ReadModel], tmp_path: Path
) -> None:
    state = _state(tmp_path, review_bank[2])
    answer = _post(state, DECIDE, Role.ANALYST, id="D0000000000000000", decision="SAME", note="")
    (error,) = answer["errors"]
    assert error["message"] == (
        "No possible duplicate has id 'D0000000000000000': take the id from "
        "possibleDuplicates or duplicateDecisions."
    )
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert list(read(tmp_path)) == []
    assert _audit(state)[-1]["outcome"] == "not_found"


def test_a_note_too_long_is_refused_with_the_limit(
    review_bank: tuple[Path, Path, ReadModel], tmp_path: Path
) -> None:
    state = _state(tmp_path, review_bank[2])
    pair = _band(state)[0]
    answer = _post(state, DECIDE, Role.RISK, id=pair["id"], decision="SAME", note="很" * 2_001)
    (error,) = answer["errors"]
    assert error["message"] == "The note has 2,001 characters: keep it to 2,000."
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert list(read(tmp_path)) == []


def test_a_decision_stays_listed_and_decidable_after_its_pair_left_the_band(
    review_bank: tuple[Path, Path, ReadModel], tmp_path: Path
) -> None:
    model = review_bank[2]
    state = _state(tmp_path, model)
    pair = _band(state)[0]
    _post(state, DECIDE, Role.ANALYST, id=pair["id"], decision="SAME", note="同一人")
    # The next load merged the pair: the served band no longer holds it.
    band = model.results.possible_duplicates
    assert band is not None
    later = copy.copy(model)
    later.results = dataclasses.replace(
        model.results, possible_duplicates=band[band["duplicate_id"] != pair["id"]]
    )
    state.model = later
    assert pair["id"] not in {p["id"] for p in _band(state)}
    # A reviewer changes their mind on the pair, by the same id.
    answer = _post(state, DECIDE, Role.RISK, id=pair["id"], decision="DIFFERENT", note="再查")
    assert "errors" not in answer, answer
    nodes = [
        e["node"] for e in _post(state, LIST, Role.ANALYST)["data"]["duplicateDecisions"]["edges"]
    ]
    assert [(n["decision"], n["inForce"]) for n in nodes] == [("DIFFERENT", True), ("SAME", False)]
    assert [n["decidedBy"] for n in nodes] == [
        key_id(KEYS[Role.RISK], state.audit.key),
        key_id(KEYS[Role.ANALYST], state.audit.key),
    ]
    assert all(n["possibleDuplicate"] is None for n in nodes)


def test_the_next_load_applies_a_decision_sent_to_the_server(
    review_bank: tuple[Path, Path, ReadModel], tmp_path: Path
) -> None:
    bank = review_bank[0]
    data = tmp_path / "data"
    load(bank, data)
    with EmbeddedStore(data, read_only=True) as store:
        model = build_read_model(store)
    state = _state(data, model)  # the server's journal is the data directory's
    pair = _band(state)[0]
    answer = _post(state, DECIDE, Role.ANALYST, id=pair["id"], decision="SAME", note="")
    assert "errors" not in answer, answer
    assert not load(bank, data).unchanged
    with EmbeddedStore(data, read_only=True) as store:
        customers = store.read_frame("customers").set_index("customer_id")
        band = store.read_frame("possible_duplicates")
    a, b = pair["customerA"], pair["customerB"]
    assert customers.loc[a, "person_id"] == customers.loc[b, "person_id"]
    assert json.loads(customers.loc[a, "match_evidence"])[0] == {
        "comparison": "decision",
        "level": "same",
        "weight": None,
    }
    assert pair["id"] not in set(band["duplicate_id"])


# -- the attack ----------------------------------------------------------------------------


def _unkeyed(a: str, b: str) -> set[str]:
    """What someone holding two customer ids can compute without the deployment's secret:
    common hashes of the pair written every usual way, in either order."""
    messages: set[str] = set()
    for x, y in ((a, b), (b, a)):
        for sep in ("", "|", ",", ":", "-", "\0", "\n", " "):
            messages |= {x + sep + y, "pair:" + x + sep + y}
        messages |= {
            "pair:" + json.dumps([x, y]),
            "pair:" + json.dumps([x, y], ensure_ascii=False),
            json.dumps([x, y]),
        }
    out: set[str] = set()
    for message in messages:
        data = message.encode()
        for digest in (hashlib.md5, hashlib.sha1, hashlib.sha256, hashlib.sha512):
            out.add(digest(data).hexdigest()[:16])
        out.add(hashlib.blake2b(data).hexdigest()[:16])
        for guess in (b"", b"relgraph", b"secret", os.urandom(32)):
            out.add(hmac.new(guess, data, hashlib.sha256).hexdigest()[:16])
    return out


def test_attack_a_caller_with_the_customer_ids_cannot_compute_or_confirm_a_duplicate_id(
    review_bank: tuple[Path, Path, ReadModel], tmp_path: Path
) -> None:
    _, data, model = review_bank
    state = _state(tmp_path, model)
    pairs = _band(state)  # what an analyst is shown: the id beside both customer ids
    assert len(pairs) >= 5
    for pair in pairs:
        digits = pair["id"][1:]
        assert len(digits) == 16
        assert digits not in _unkeyed(pair["customerA"], pair["customerB"])
        # Nor do the two customer ids appear in it, whole or in part.
        for cid in (pair["customerA"], pair["customerB"]):
            assert cid not in pair["id"]
            assert cid[-6:] not in pair["id"]
    # Sanity: the attacker's constructions were right, only the key is missing: the
    # deployment's secret reproduces every id from its pair, in either order.
    real = PersonIdKey((data / SECRET_FILE).read_text().strip().encode())
    for pair in pairs:
        assert real.duplicate_id(pair["customerB"], pair["customerA"]) == pair["id"]
        message = "pair:" + json.dumps(sorted((pair["customerA"], pair["customerB"])))
        keyed = hmac.new(real.secret, message.encode(), hashlib.sha256).hexdigest()[:16]
        assert keyed == pair["id"][1:]
        assert keyed not in _unkeyed(pair["customerA"], pair["customerB"])


PAGE = """query($after: String) { duplicateDecisions(first: 2, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id note } } } }"""


def test_a_decision_made_while_a_reviewer_pages_repeats_none(
    review_bank: tuple[Path, Path, ReadModel], tmp_path: Path
) -> None:
    """Newest first: a decision made by a colleague between two pages comes first, and an
    offset served the last decision of the page before again."""
    state = _state(tmp_path, review_bank[2])
    pairs = _band(state)
    for n, pair in enumerate(pairs[:3]):
        answer = _post(state, DECIDE, Role.ANALYST, id=pair["id"], decision="SAME", note=f"{n}")
        assert "errors" not in answer, answer
    page = _post(state, PAGE, Role.ANALYST)["data"]["duplicateDecisions"]
    assert [e["node"]["note"] for e in page["edges"]] == ["2", "1"]
    _post(state, DECIDE, Role.RISK, id=pairs[3]["id"], decision="DIFFERENT", note="3")
    after = page["pageInfo"]["endCursor"]
    rest = _post(state, PAGE, Role.ANALYST, after=after)["data"]["duplicateDecisions"]
    assert [e["node"]["note"] for e in rest["edges"]] == ["0"]
    assert not rest["pageInfo"]["hasNextPage"]
    assert rest["totalCount"] == 4
