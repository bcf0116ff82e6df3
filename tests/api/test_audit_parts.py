"""A read of more ids than one line holds names every one of them on the trail.

A line lists at most 200 ids (8 KiB); past that it used to keep only their count and
SHA-256. One analyst request for a page of 100 households with their members handed out
312 persons' names under a line that named none of them, so "who read customer X?" had no
answer from the log, and paging through the bank that way left no name behind. The ids now
follow the line in continuation lines of the same commit, each sealed and chained.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from relgraph.api.app import ServiceState
from relgraph.api.audit import MAX_IDS, MAX_LINE_BYTES, AuditLog, ids_digest, verify
from relgraph.api.audit_tried import lines_that_tried
from relgraph.api.auth import Role, key_id
from tests.api.audit_logs import KEY

from .conftest import KEYS
from .test_ingestion import graphql, post


def key_id_of(role: Role, state: ServiceState) -> str:
    return key_id(KEYS[role], state.audit.key)


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _named(records: list[dict[str, Any]], request_id: str) -> set[str]:
    """Every id the lines of one request name, continuation lines included."""
    return {i for r in records if r.get("request_id") == request_id for i in r.get("ids", [])}


def test_a_page_of_households_names_every_member_it_handed_out(
    app: Any, state: ServiceState
) -> None:
    answer = graphql(
        app, "{ households(first: 100) { edges { node { id members { id name } } } } }",
        Role.ANALYST,
    )  # fmt: skip
    edges = answer["data"]["households"]["edges"]
    served = {e["node"]["id"] for e in edges} | {
        m["id"] for e in edges for m in e["node"]["members"]
    }
    assert len(served) > MAX_IDS  # more than one line lists
    records = _records(state.audit.path)
    (line,) = [r for r in records if r.get("fields") == ["households"]]
    assert _named(records, line["request_id"]) == served
    parts = [r for r in records if r.get("continues") == line["seq"]]
    assert line["ids_parts"] == len(parts) == len(records) - 1
    assert [p["part"] for p in parts] == list(range(1, len(parts) + 1))
    assert {(p["key_id"], p["role"], p["parts"]) for p in parts} == {
        (line["key_id"], "analyst", len(parts))
    }
    # The count and digest on the line still check the parts (and a list) against it.
    assert (line["ids_count"], line["ids_sha256"]) == (len(served), ids_digest(served))
    assert verify(state.audit.path, state.audit.key).lines == len(records)


def test_continuation_lines_are_bounded_sealed_and_chained(tmp_path: Path) -> None:
    ids = [f"P{i:032x}" for i in range(5_000)]  # ~180 KB as a list
    audit = AuditLog(tmp_path / "audit.log", KEY)
    audit.append(key_id="k_1", role="risk", operation="Big", ids=ids, outcome="ok",
                 request_id="r1")  # fmt: skip
    audit.append(key_id="k_1", role="risk", operation="Next", ids=["P1"], request_id="r2")
    lines = audit.path.read_text().splitlines(keepends=True)
    assert max(len(line.encode()) for line in lines) <= MAX_LINE_BYTES
    records = [json.loads(line) for line in lines]
    assert _named(records, "r1") == set(ids)
    assert records[0]["ids_parts"] == len(records) - 2
    assert records[-1]["ids"] == ["P1"]
    assert verify(audit.path, KEY).ok
    # Dropping one continuation line is a removed line like any other.
    del lines[2]
    audit.path.write_text("".join(lines))
    verdict = verify(audit.path, KEY)
    assert not verdict.ok
    assert verdict.message == "line 3 is record 4: 1 line(s) before it were removed"


def test_ids_crowded_off_the_line_by_its_calls_are_still_named(tmp_path: Path) -> None:
    """A hostile key's calls take the room of its ids (``fit_calls``): 150 ids fit a line
    alone, but not beside fifteen calls of long arguments; they follow it instead."""
    ids = [f"P{i:015x}" for i in range(150)]
    calls = [{"as": f"a{i}", "field": "households", "args": {"x": "y" * 900}} for i in range(15)]
    audit = AuditLog(tmp_path / "audit.log", KEY)
    audit.append(key_id="k_1", role="analyst", operation="Q", ids=ids, calls=calls,
                 outcome="ok", request_id="r1")  # fmt: skip
    line, *parts = _records(audit.path)
    assert "ids" not in line
    assert line["ids_count"] == 150
    assert _named([line, *parts], "r1") == set(ids)
    assert verify(audit.path, KEY).ok


def test_every_holder_id_a_batch_tried_is_found_by_audit_tried(
    app: Any, state: ServiceState
) -> None:
    """An ingest key sent 30 accounts for id numbers as holders; the answer said of each
    that no such customer exists. The line kept ten HMACs and '… 50 more', so `relgraph
    audit tried` found no line for 28 of the 30 id numbers."""
    holders = [f"1101011990031{i:05d}" for i in range(30)]
    records = [
        {"account_id": f"ZZ{i}", "holder_id": h, "holder_kind": "customer",
         "product": "deposit", "opened_at": "2026-06-01"}
        for i, h in enumerate(holders)
    ]  # fmt: skip
    answer = post(app, "/v1/accounts", records)
    assert answer.json()["rejected"] == 30
    found = {h: lines_that_tried(state.audit.path, state.audit.key, h) for h in holders}
    assert [h for h, lines in found.items() if not lines] == []
    (line,) = [json.loads(x) for x in found[holders[-1]]]
    assert (line["operation"], line["key_id"]) == (
        "POST /v1/accounts",
        key_id_of(Role.INGEST, state),
    )
    assert verify(state.audit.path, state.audit.key).ok


def test_every_text_of_fifteen_aliased_searches_is_found_by_audit_tried(
    app: Any, state: ServiceState
) -> None:
    texts = [f"Wang {i}" for i in range(15)]
    query = " ".join(f'a{i}: search(text: "{t}", first: 1) {{ totalCount }}'
                     for i, t in enumerate(texts))  # fmt: skip
    answer = graphql(app, "{ " + query + " }", Role.ANALYST)
    assert "errors" not in answer
    missed = [t for t in texts if not lines_that_tried(state.audit.path, state.audit.key, t)]
    assert missed == []


def test_eleven_texts_tried_are_eleven_found(tmp_path: Path) -> None:
    """A line keeps ten items of a list: the eleventh HMAC used to become '… 1 more'."""
    texts = [f"1101011990031{i:05d}" for i in range(11)]
    audit = AuditLog(tmp_path / "audit.log", KEY)
    macs = sorted(KEY.text_mac(t) for t in texts)
    audit.append(key_id="k_1", role="analyst", operation="Q", tried_hmac=macs,
                 outcome="not_found", request_id="r1")  # fmt: skip
    audit.append(key_id="k_1", role="analyst", operation="R", tried_hmac=macs[:2],
                 outcome="not_found", request_id="r2")  # fmt: skip
    assert [t for t in texts if not lines_that_tried(audit.path, KEY, t)] == []
    line, part, short = _records(audit.path)
    assert (line["tried_hmac_count"], line["ids_parts"], "tried_hmac" in line) == (11, 1, False)
    assert (part["continues"], part["tried_hmac"]) == (1, macs)
    assert short["tried_hmac"] == macs[:2]  # ten or fewer stay on the line
    assert verify(audit.path, KEY).ok


def test_ids_are_cut_into_the_same_runs_however_they_are_counted() -> None:
    # id_chunks sizes plain ids at once (a million in an export); ids JSON escapes, hanzi
    # and an over-long "id" go one by one: either way, the runs are what one-by-one makes.
    from relgraph.api.audit_parts import _chunks_one_by_one, id_chunks

    rng = random.Random(5)
    plain = [f"P{rng.getrandbits(40):010x}" for _ in range(3_000)]
    for ids, max_ids, max_bytes in [
        (plain, 200, 8 * 1024),
        (plain, 1_000, 600),
        ([*plain[:500], "张伟" * 30, "C1", "C1"], 200, 1_024),
        ([*plain[:500], 'say "hi"\n', "x" * 5_000], 50, 8 * 1024),
    ]:
        assert id_chunks(ids, max_ids, max_bytes) == _chunks_one_by_one(
            sorted(set(ids)), max_ids, max_bytes
        )
    runs = id_chunks(plain, 1_000, 600)
    assert max(len(json.dumps(r, separators=(",", ":")).encode()) for r in runs) <= 600
