"""What the API and the CLI write to the audit trail, and what happens when they cannot."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import functools
import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from graphql import GraphQLList, GraphQLNonNull, GraphQLString
from typer.testing import CliRunner

from relgraph.api.app import ServiceState, create_app
from relgraph.api.audit import MAX_LINE_BYTES, AuditLog, ids_digest, summarise_ids, verify
from relgraph.api.audit_calls import fit_calls, kept_arg
from relgraph.api.auth import Role, key_id
from relgraph.cli import app as cli

from .conftest import KEYS


def _post(
    app: Any, body: Any, key: str | None = KEYS[Role.ANALYST], authorization: str | None = None
) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            header = authorization or (f"Bearer {key}" if key else None)
            headers = {"Authorization": header} if header else {}
            return await client.post("/graphql", json=body, headers=headers)

    return asyncio.run(go())


def _lines(state: ServiceState) -> list[dict[str, Any]]:
    return [json.loads(line) for line in state.audit.path.read_text().splitlines()]


def test_possible_duplicates_are_audited(state: ServiceState) -> None:
    # The small test bank has no pair in the review band: give it two.
    assert state.model is not None
    pairs_in = pd.DataFrame(
        {"customer_a": ["CB1", "CB3"], "customer_b": ["CB2", "CB4"], "score": [0.8, 0.7],
         "evidence": ["phone", "name"]}
    )  # fmt: skip
    state.model = copy.copy(state.model)
    state.model.results = dataclasses.replace(state.model.results, possible_duplicates=pairs_in)
    query = "query Dups { possibleDuplicates(first: 5) { edges { node { customerA customerB } } } }"
    answer = _post(create_app(state), {"query": query}, key=KEYS[Role.RISK]).json()
    pairs = [e["node"] for e in answer["data"]["possibleDuplicates"]["edges"]]
    assert pairs, "the test bank has possible duplicates"
    (line,) = _lines(state)
    assert line["fields"] == ["possibleDuplicates"]
    assert line["role"] == "risk"
    assert line["outcome"] == "ok"
    assert set(line["ids"]) == {p["customerA"] for p in pairs} | {p["customerB"] for p in pairs}


@pytest.mark.parametrize(
    ("role", "query", "field"),
    [
        (Role.CAMPAIGN, "{ households(first: 5) { edges { node { id totalAum } } } }",
         "households"),
        (Role.RISK, "{ riskChains(first: 5) { edges { node { id score } } } }", "riskChains"),
        (Role.ANALYST, "{ corporateGroups(first: 5) { edges { node { id deposits } } } }",
         "corporateGroups"),
    ],
)  # fmt: skip
def test_lists_are_audited_with_every_id_they_served(
    app: Any, state: ServiceState, role: Role, query: str, field: str
) -> None:
    # A whole page of households or the alert queue was once read with no audit line.
    answer = _post(app, {"query": query}, key=KEYS[role]).json()
    served = [e["node"]["id"] for e in answer["data"][field]["edges"]]
    assert served, f"the test bank has {field}"
    (line,) = _lines(state)
    assert line["fields"] == [field]
    assert line["outcome"] == "ok"
    assert set(served) <= set(line["ids"])


@pytest.mark.parametrize(
    ("role", "query", "field"),
    [
        (Role.CAMPAIGN, "{ campaignAudience(criteria: {unit: HOUSEHOLD, minTotalAum: 1e6, "
         "maxSize: 2}) { totalCount } }", "campaignAudience"),
        (Role.CAMPAIGN, "{ households(filter: {minTotalAum: 1e6}) { totalCount } }", "households"),
        (Role.RISK, "{ riskChains(filter: {minScore: 0.9}) { totalCount } }", "riskChains"),
    ],
)  # fmt: skip
def test_a_count_alone_is_on_the_trail_without_ids(
    app: Any, state: ServiceState, role: Role, query: str, field: str
) -> None:
    # Criteria narrowed to one household make its totalCount say whether anyone in it may be
    # contacted: such answers were given with no audit line at all.
    answer = _post(app, {"query": query}, key=KEYS[role]).json()
    assert "errors" not in answer, answer
    (line,) = _lines(state)
    assert line["fields"] == [field]
    assert line["outcome"] == "ok"
    assert line["ids"] == []


def test_the_banks_totals_and_the_schema_write_no_line(app: Any, state: ServiceState) -> None:
    for query in ("{ graphStats { nodes { kind count } } }", "{ __schema { queryType { name } } }"):
        assert "errors" not in _post(app, {"query": query}).json()
    assert not state.audit.path.exists() or _lines(state) == []


def test_permission_denied_calls_are_audited(app: Any, state: ServiceState) -> None:
    query = "{ possibleDuplicates(first: 5) { edges { node { customerA } } } }"
    answer = _post(app, {"query": query}, key=KEYS[Role.CAMPAIGN]).json()
    assert "Permission denied" in answer["errors"][0]["message"]
    (line,) = _lines(state)
    assert line["outcome"] == "forbidden"
    assert line["denied"] == ["possibleDuplicates"]
    assert line["key_id"] == key_id(KEYS[Role.CAMPAIGN], state.audit.key)
    assert line["role"] == "campaign"


def test_not_found_probes_are_audited_with_the_id_tried(app: Any, state: ServiceState) -> None:
    # An id number pasted into a lookup: the trail proves it was tried, and an auditor
    # holding the audit key can check which one, but the log never holds it in clear.
    tried = "110101199003071234"
    body = {
        "query": "query Probe($id: ID!) { customer(id: $id) { id } }",
        "variables": {"id": tried},
    }
    answer = _post(app, body).json()
    assert answer["data"] is None
    (line,) = _lines(state)
    assert line["outcome"] == "not_found"
    assert line["not_found"] == ["customer id"]
    assert line["tried_hmac"] == [state.text_mac(tried)]
    assert tried not in state.audit.path.read_text()
    assert line["operation"] == "Probe"
    assert line["ids"] == []


def test_an_id_number_typed_into_the_operation_name_stays_out_of_the_log(
    app: Any, state: ServiceState
) -> None:
    # The operation name is the client's text, as a search text is: before, the line kept
    # "Lookup_110101199003071234" in clear beside the search text's HMAC.
    tried = "110101199003071234"
    query = f'query Lookup_{tried} {{ search(text: "{tried}") {{ totalCount }} }}'
    _post(app, {"query": query, "operationName": f"Lookup_{tried}"})
    (line,) = _lines(state)
    assert line["operation"] == "Lookup_#"
    assert line["searched_hmac"] == [state.text_mac(tried)]
    assert tried not in state.audit.path.read_text()


def test_an_auditor_finds_who_tried_an_id_number_with_the_key(
    app: Any, state: ServiceState, tmp_path: Path
) -> None:
    tried, other = "110101199003071234", "110101199003071250"
    body = {"query": "query Probe($id: ID!) { customer(id: $id) { id } }"}
    _post(app, {**body, "variables": {"id": tried}})
    _post(app, {"query": '{ search(text: "110101199003071234") { totalCount } }'})
    runner = CliRunner()
    found = runner.invoke(cli, ["audit", "tried", tried, "--data-dir", str(tmp_path)])
    assert found.exit_code == 0, found.output
    lines = [json.loads(line) for line in found.stdout.splitlines()]
    assert [line["fields"] for line in lines] == [["customer"], ["search"]]
    missed = runner.invoke(cli, ["audit", "tried", other, "--data-dir", str(tmp_path)])
    assert missed.exit_code == 1
    assert "no line tried that text" in " ".join(missed.output.split())


def test_an_auditor_with_another_audit_key_is_told_so_not_that_no_line_tried_it(
    app: Any, tmp_path: Path
) -> None:
    # After a rotation the old log keeps its texts as HMACs under the old key: under the new
    # one every search found nothing (exit 1, "no line tried that text") though lines had.
    tried = "110101199003071234"
    _post(app, {"query": f'{{ search(text: "{tried}") {{ totalCount }} }}'})
    args = ["audit", "tried", tried, "--data-dir", str(tmp_path)]
    rotated = CliRunner().invoke(cli, args, env={"RELGRAPH_AUDIT_KEY": "n" * 40})
    assert rotated.exit_code == 2, rotated.output
    said = " ".join(rotated.output.split())
    assert "not sealed under this audit key" in said
    assert "give the key it was written under" in said
    assert CliRunner().invoke(cli, args).exit_code == 0  # the key it was written under


def test_an_auditor_gives_the_id_number_on_stdin_not_the_command_line(
    app: Any, tmp_path: Path
) -> None:
    # On the command line the id number is in shell history and every local user's `ps`.
    tried = "110101199003071234"
    _post(app, {"query": f'{{ search(text: "{tried}") {{ totalCount }} }}'})
    runner = CliRunner()
    args = ["audit", "tried", "-", "--data-dir", str(tmp_path)]
    found = runner.invoke(cli, args, input=f"{tried}\n")
    assert found.exit_code == 0, found.output
    assert [json.loads(line)["fields"] for line in found.stdout.splitlines()] == [["search"]]
    empty = runner.invoke(cli, args, input="")
    assert empty.exit_code == 2
    assert "no text on stdin" in " ".join(empty.output.split())


def test_a_probe_keeps_numbers_in_clear_and_macs_only_texts(app: Any, state: ServiceState) -> None:
    query = '{ layeringCheck(accountId: "A-NO-SUCH", maxHops: 3) { score } }'
    answer = _post(app, {"query": query}, key=KEYS[Role.RISK]).json()
    assert answer["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    (line,) = _lines(state)
    assert line["not_found"] == ["layeringCheck accountId maxHops=3"]
    assert line["tried_hmac"] == [state.text_mac("A-NO-SUCH")]
    assert "A-NO-SUCH" not in state.audit.path.read_text()


def test_a_401_is_audited_without_the_token(app: Any, state: ServiceState) -> None:
    guess = "guessed-token-0123456789-secret"
    assert _post(app, {"query": "{ graphStats { nodes { kind } } }"}, key=guess).status_code == 401
    (line,) = _lines(state)
    assert line["outcome"] == "unauthenticated"
    assert line["key_id"] == "unknown"
    assert guess not in state.audit.path.read_text()


def test_a_401_for_a_known_key_sent_wrongly_names_the_key(app: Any, state: ServiceState) -> None:
    key = KEYS[Role.ANALYST]
    response = _post(app, {"query": "{ graphStats { nodes { kind } } }"}, authorization=key)
    assert response.status_code == 401
    (line,) = _lines(state)
    assert line["key_id"] == key_id(key, state.audit.key)
    assert line["role"] == "analyst"
    assert key not in state.audit.path.read_text()


def test_an_auditor_names_the_key_of_a_line_from_the_keys_on_stdin(
    app: Any, state: ServiceState, tmp_path: Path
) -> None:
    _post(app, {"query": "{ possibleDuplicates(first: 1) { totalCount } }"}, key=KEYS[Role.RISK])
    (line,) = _lines(state)
    keys = f"# ops\nrisk:{KEYS[Role.RISK]}\n{KEYS[Role.ANALYST]}\n"
    named = CliRunner().invoke(cli, ["audit", "key-id", "--data-dir", str(tmp_path)], input=keys)
    assert named.exit_code == 0, named.output
    assert named.stdout.split() == [
        f"risk:{line['key_id']}",
        key_id(KEYS[Role.ANALYST], state.audit.key),
    ]
    assert KEYS[Role.RISK] not in named.stdout


def test_an_unwritable_audit_log_is_a_503_with_no_data_and_no_path(
    app: Any, state: ServiceState, person_with_records: str
) -> None:
    state.audit.path.unlink()
    state.audit.path.mkdir()  # the log cannot be opened for appending
    body = {"query": f'{{ customer(id: "{person_with_records}") {{ id name }} }}'}
    response = _post(app, body)
    assert response.status_code == 503
    answer = response.json()
    assert answer.get("data") is None
    assert answer["errors"][0]["message"].startswith("Service unavailable: the audit trail")
    assert str(state.audit.path.parent) not in response.text
    assert "audit.log" not in response.text
    assert person_with_records not in response.text


class _HeldAnchor:
    """Holds every move of the anchor (so every commit, after its lines are fsynced and
    before its waiters are woken) until ``release``: the disk of a server whose audit
    trail is slow."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import relgraph.api.audit as audit_module
        import relgraph.api.audit_anchor as audit_anchor

        self.reached = threading.Event()
        self.gate = threading.Event()
        real = audit_anchor.place_anchor

        def held(*args: Any) -> Any:
            self.reached.set()
            self.gate.wait(10)
            return real(*args)

        monkeypatch.setattr(audit_module, "place_anchor", held)

    def release(self) -> None:
        self.gate.set()


def _customer(person: str) -> dict[str, Any]:
    return {"query": f'{{ customer(id: "{person}") {{ id name }} }}'}


def test_no_answer_is_sent_before_its_audit_line_is_committed(
    app: Any, state: ServiceState, person_with_records: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = _HeldAnchor(monkeypatch)

    async def go() -> tuple[bool, httpx.Response]:
        async with _client(app) as client:
            answer = asyncio.ensure_future(_send(client, _customer(person_with_records)))
            await asyncio.to_thread(held.reached.wait, 10)  # the line is written, not anchored
            await asyncio.sleep(0.2)
            sent_early = answer.done()
            held.release()
            return sent_early, await answer

    sent_early, response = asyncio.run(go())
    assert not sent_early, "the answer left before the anchor named its audit line"
    assert response.status_code == 200
    (line,) = _lines(state)
    assert line["ids"] == [person_with_records]
    assert verify(state.audit.path, state.audit.key).ok


def test_a_slow_audit_disk_holds_no_worker_thread(
    state: ServiceState, person_with_records: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reads waiting for their audit lines leave the workers to other queries."""
    state.workers = 1
    app = create_app(state)
    held = _HeldAnchor(monkeypatch)

    async def go() -> tuple[httpx.Response, bool, list[httpx.Response]]:
        async with _client(app) as client:
            reads = [
                asyncio.ensure_future(_send(client, _customer(person_with_records)))
                for _ in range(3)
            ]
            await asyncio.to_thread(held.reached.wait, 10)
            stats = await asyncio.wait_for(
                _send(client, {"query": "{ graphStats { nodes { kind count } } }"}), 5
            )
            reads_early = any(read.done() for read in reads)
            held.release()
            return stats, reads_early, await asyncio.gather(*reads)

    stats, reads_early, reads = asyncio.run(go())
    assert stats.status_code == 200
    assert not reads_early
    assert [read.status_code for read in reads] == [200, 200, 200]
    assert [line["ids"] for line in _lines(state)] == [[person_with_records]] * 3


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def _send(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await client.post(
        "/graphql", json=body, headers={"Authorization": f"Bearer {KEYS[Role.ANALYST]}"}
    )


def test_an_audience_export_is_audited_beside_a_running_server(
    data_dir: Path, tmp_path: Path
) -> None:
    server = AuditLog(data_dir / "audit.log", _key(data_dir))
    before = verify(server.path, server.key).lines
    server.append(key_id="k_1", role="risk", operation="a", ids=["P1"], outcome="ok")
    spec = tmp_path / "criteria.json"
    spec.write_text(json.dumps({"unit": "HOUSEHOLD", "minSize": 2}))
    out = tmp_path / "audience.csv"
    runner = CliRunner()
    result = runner.invoke(
        cli, ["audience", "--criteria", str(spec), "--out", str(out), "--data-dir", str(data_dir)]
    )
    assert result.exit_code == 0, result.output
    server.append(key_id="k_1", role="risk", operation="b", ids=["P2"], outcome="ok")
    # Only this test's lines: the session's bank is exported by other tests too.
    lines = [json.loads(line) for line in server.path.read_text().splitlines()][before:]
    (export,) = [r for r in lines if r.get("operation") == "audience export" and "part" not in r]
    parts = [r for r in lines if r.get("continues") == export["seq"]]
    assert verify(server.path, server.key).lines == before + 3 + len(parts)
    # The households handed out are named as their contacts are, as the API's line names
    # them: the file gives each one's value, its left-out members' included.
    units = pd.read_csv(out, dtype=str)["unit_id"].tolist()
    assert units
    exported = [*units, *(c for row in _csv_contacts(out) for c in row)]
    assert export["operation"] == "audience export"
    assert export["criteria"]["unit"] == "HOUSEHOLD"
    assert export["criteria"]["min_size"] == 2
    assert export["ids_count"] == len(set(exported))
    assert export["ids_sha256"] == ids_digest(exported)
    # Every household and contact exported is named, so the trail says who exported whom.
    named = set(export.get("ids", [])) | {i for p in parts for i in p["ids"]}
    assert named == set(exported)
    assert {(p["key_id"], p["operation"]) for p in parts} <= {(export["key_id"], "audience export")}


def test_an_export_the_trail_cannot_record_is_not_written(data_dir: Path, tmp_path: Path) -> None:
    spec = tmp_path / "criteria.json"
    spec.write_text(json.dumps({"unit": "HOUSEHOLD"}))
    out = tmp_path / "audience.csv"
    anchor = tmp_path / "anchor-elsewhere"
    anchor.mkdir()  # an anchor path that cannot be a file
    result = CliRunner(env={"RELGRAPH_AUDIT_ANCHOR": str(anchor)}).invoke(
        cli, ["audience", "--criteria", str(spec), "--out", str(out), "--data-dir", str(data_dir)]
    )
    assert result.exit_code == 2
    assert "nothing exported: the audit trail cannot be written" in " ".join(result.output.split())
    assert not out.exists()


def _key(data_dir: Path) -> Any:
    from relgraph.api.audit_key import load_audit_key
    from relgraph.config import AuditSettings

    return load_audit_key(AuditSettings(), data_dir, production=False)


def _csv_contacts(path: Path) -> list[list[str]]:
    import csv

    with path.open(newline="", encoding="utf-8") as handle:
        return [row["contacts"].split(";") for row in csv.DictReader(handle) if row["contacts"]]


def test_a_count_is_on_the_trail_with_what_it_counted(app: Any, state: ServiceState) -> None:
    """ATTACK: a campaign key counts its way to facts about one household (criteria narrowed
    to it, ``totalCount`` alone, under aliases). The line named only ``campaignAudience``,
    so two probes with other criteria and other answers wrote the same line: the trail could
    not say what was counted. Each list call is kept with its alias, what it asked (numbers
    enum values and product names in clear, any other text as its HMAC, as ``tried_hmac``) and the rows it counted."""
    query = (
        "query ($asOf: String) { a: campaignAudience(criteria: {unit: HOUSEHOLD, minSize: 1, "
        "maxSize: 1}) { totalCount } b: campaignAudience(criteria: {unit: HOUSEHOLD, minSize: 4, "
        'minTotalAum: 1e6, lacksProducts: ["loan"], notContactedWithinDays: 30, asOf: $asOf}, '
        "first: 2) { totalCount edges { cursor } } households(filter: {minSize: 3}, first: 0) "
        "{ pageInfo { hasNextPage } } }"
    )
    body = {"query": query, "variables": {"asOf": "2026-06-20"}}
    answer = _post(app, body, key=KEYS[Role.CAMPAIGN]).json()
    assert "errors" not in answer, answer
    counts = [answer["data"][k]["totalCount"] for k in ("a", "b")]
    rows = len(answer["data"]["b"]["edges"])
    more = answer["data"]["households"]["pageInfo"]["hasNextPage"]
    (line,) = _lines(state)
    assert line["ids"] == []
    assert line["calls"] == [
        {"as": "a", "field": "campaignAudience", "total": counts[0],
         "args": {"criteria": {"maxSize": 1, "minSize": 1, "unit": "HOUSEHOLD"}}},
        {"as": "b", "field": "campaignAudience", "total": counts[1], "rows": rows,
         "args": {"criteria": {"asOf": state.text_mac("2026-06-20"), "lacksProducts": ["loan"],
                               "minSize": 4, "minTotalAum": 1e6, "notContactedWithinDays": 30,
                               "unit": "HOUSEHOLD"}, "first": 2}},
        {"as": "households", "field": "households", "more": more,
         "args": {"filter": {"minSize": 3}, "first": 0}},
    ]  # fmt: skip


def test_a_hostile_key_cannot_crowd_its_calls_off_the_line(app: Any, state: ServiceState) -> None:
    """ATTACK: fifteen aliased audiences with every criterion, aliases of 3,000 characters
    holding an id number, a product named 1,000 times: each call is still on the line in
    clear, alias cut to 40 characters with the digits as '#', each product once, and the
    line within its bound."""
    criteria = {
        "unit": "HOUSEHOLD", "minTotalAum": 1.5, "minDeposits": 2.5, "minExposure": 3.5,
        "minSize": 1, "maxSize": 9, "hasProducts": ["card"] * 1000 + ["deposit"],
        "lacksProducts": ["loan", "wealth"], "notContactedWithinDays": 3650,
        "asOf": "2026-06-20T10:00:00+08:00", "orderBy": "SIZE_DESC",
    }  # fmt: skip
    alias = "q110101199003071234" + "x" * 3000
    fields = " ".join(
        f"{alias}{i}: campaignAudience(criteria: $c, first: {i + 1}) {{ totalCount }}"
        for i in range(15)
    )
    body = {"query": f"query ($c: AudienceCriteria!) {{ {fields} }}", "variables": {"c": criteria}}
    answer = _post(app, body, key=KEYS[Role.CAMPAIGN]).json()
    assert "errors" not in answer, answer
    (line,) = _lines(state)
    assert len(state.audit.path.read_bytes()) <= MAX_LINE_BYTES
    calls = line["calls"]
    assert [c["args"]["first"] for c in calls] == list(range(1, 16))
    assert {c["as"] for c in calls} == {"q#" + "x" * 38}
    assert {tuple(c["args"]["criteria"]["hasProducts"]) for c in calls} == {("card", "deposit")}
    assert {c["total"] for c in calls} == {answer["data"][alias + "0"]["totalCount"]}
    assert verify(state.audit.path, state.audit.key).ok


def test_calls_take_room_from_ids_then_arguments_never_the_bound() -> None:
    record = {"key_id": "k_1", "ids": [f"P{i:015x}" for i in range(150)]}
    calls = [{"as": f"a{i}", "field": "households", "args": {"x": "y" * 300}} for i in range(8)]
    everyone = functools.partial(summarise_ids, record["ids"], always=True)
    roomy = fit_calls(dict(record), calls, everyone, 16 * 1024)
    assert roomy["calls"] == calls  # both fit
    assert len(roomy["ids"]) == 150
    tight = fit_calls(dict(record), calls, everyone, 4 * 1024)
    assert tight["ids_count"] == 150  # ids can be checked again from a list: they go first
    assert "ids" not in tight
    assert tight["calls"] == calls
    tighter = fit_calls(dict(record), calls, everyone, 2 * 1024)
    hashed = [c for c in tighter["calls"] if set(c["args"]) == {"sha256"}]
    assert tighter["calls"][: 8 - len(hashed)] == calls[: 8 - len(hashed)]  # the last go first
    assert [c["as"] for c in tighter["calls"]] == [c["as"] for c in calls]
    assert 0 < len(hashed) < 8
    least = fit_calls(dict(record), calls, everyone, 700)
    assert set(least["calls"]) == {"count", "sha256"}
    assert least["calls"]["count"] == 8


def test_calls_below_the_root_give_way_before_the_roots() -> None:
    """ATTACK: a key adds a page of members' counts to crowd its audiences off the line;
    the nested call's counts give way (to their count and SHA-256) and the roots stay."""
    roots = [{"as": f"a{i}", "field": "campaignAudience", "args": {"x": i}, "total": i}
             for i in range(15)]  # fmt: skip
    nested = {"as": "households.edges.node.members.accounts", "field": "Person.accounts",
              "args": {"first": 1}, "total": list(range(5_000))}  # fmt: skip
    record = {"key_id": "k_1", "ids": []}
    line = fit_calls(dict(record), [*roots, nested], lambda: {}, 16 * 1024)
    assert line["calls"][:15] == roots
    assert line["calls"][15]["total"]["count"] == 5_000
    assert set(line["calls"][15]["total"]) == {"count", "sha256"}


def test_an_id_number_typed_into_an_alias_stays_out_of_the_log(
    app: Any, state: ServiceState, model: Any
) -> None:
    """ATTACK on the log itself: an alias is the client's text, as the operation name is, and
    a refused field's path names it: ``denied`` kept ``p110101199003071234.consentMarketing``
    in clear. The alias keeps its shape with the digits as '#', as the operation name does."""
    tried = "110101199003071234"
    person = model.person_ids[0]
    query = f'{{ p{tried}: customer(id: "{person}") {{ id consentMarketing }} }}'
    answer = _post(app, {"query": query}, key=KEYS[Role.CAMPAIGN]).json()
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    (line,) = _lines(state)
    assert line["denied"] == ["p#.consentMarketing"]
    assert line["ids"] == [person]
    assert tried not in state.audit.path.read_text()


def test_an_id_number_sent_as_a_number_is_kept_as_its_hmac(app: Any, state: ServiceState) -> None:
    """ATTACK on the log itself: an ``ID`` takes a number too, and the missed lookup's
    arguments kept numbers in clear (``maxHops=2`` names no one): ``customer(id:
    13800138000)`` wrote the phone, and an id number, into ``not_found``. An ``ID`` or a text
    is kept as its HMAC whatever literal it came as; ``tried`` finds it either way."""
    tried = "13800138000"
    for query, variables in (
        (f"{{ customer(id: {tried}) {{ id }} }}", None),
        ("query ($id: ID!) { customer(id: $id) { id } }", {"id": int(tried)}),
    ):
        answer = _post(app, {"query": query, "variables": variables}).json()
        assert answer["errors"][0]["extensions"]["code"] == "NOT_FOUND", answer
    lines = _lines(state)
    assert [line["not_found"] for line in lines] == [["customer id"], ["customer id"]]
    assert [line["tried_hmac"] for line in lines] == [[state.text_mac(tried)]] * 2
    assert tried not in state.audit.path.read_text()


def test_an_id_number_typed_as_a_field_name_stays_out_of_the_log(
    app: Any, state: ServiceState
) -> None:
    """ATTACK on the log itself: a mutation is on the trail even when it fails, with its root
    fields as the client wrote them, so an unknown one is the client's text:
    ``mutation { p110101199003071234 }`` wrote the number in clear."""
    tried = "110101199003071234"
    answer = _post(app, {"query": f"mutation {{ p{tried} }}"}, key=KEYS[Role.CAMPAIGN]).json()
    assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    (line,) = _lines(state)
    assert line["fields"] == ["p#"]
    assert line["outcome"] == "error"
    assert tried not in state.audit.path.read_text()


def test_a_megabyte_list_argument_costs_the_line_twenty_values() -> None:
    # A 1 MB body of made-up products cost the audit line a MAC and a JSON text per item
    # (0.4-0.5 s of CPU a request): each value once, the first twenty, the rest counted.
    hashed: list[str] = []

    def mac(text: str) -> str:
        hashed.append(text)
        return f"m:{text}"

    texts = GraphQLList(GraphQLNonNull(GraphQLString))
    made_up = [f"x{i}" for i in range(125_000)]
    assert kept_arg(made_up, texts, mac) == [f"m:x{i}" for i in range(20)] + ["… 124980 more"]
    assert len(hashed) == 20
    products = ["card"] * 125_000 + ["loan"]
    assert kept_arg(products, texts, mac, "hasProducts") == ["card", "loan"]
    assert kept_arg("loan", GraphQLString, mac, "text") == "m:loan"  # a search text stays a MAC
