"""Cursors across a refresh: a page's endCursor belongs to the graph it was served from.

A campaign tool pages through every household for an hour while the nightly load and
analyze land and the server swaps in the new graph. Offsets into the new graph's order
skipped or repeated households without a word; a cursor from the graph before is refused,
naming the refresh, so the tool starts again.
"""

from __future__ import annotations

import asyncio
import base64
import shutil
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pyarrow as pa
import pytest

from relgraph.analytics import audience as audience_rules
from relgraph.analytics.audience import Criteria, campaign_audience
from relgraph.api import chain_reviews as cr
from relgraph.api.app import ServiceState, create_app, default_state
from relgraph.api.audit import open_audit_log
from relgraph.api.auth import KeyRing, Principal, Role
from relgraph.api.context import Context
from relgraph.api.ranked import Ranked
from relgraph.api.readmodel import ReadModel, build_read_model
from relgraph.api.schema import build_schema
from relgraph.api.server import load_model
from relgraph.config import AuditSettings
from relgraph.store.embedded import EmbeddedStore

from .conftest import KEYS, run
from .test_cursor_lists import FOREIGN

PAGE = """query($after: String) { households(first: 5, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }"""

STALE = (
    "This cursor is from another build of the graph (a load or analyze since, or another "
    "server behind this address): paging on would skip or repeat entries. Start again "
    "without `after`."
)


def _post(app: Any, body: Any) -> Any:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            headers = {"Authorization": f"Bearer {KEYS[Role.CAMPAIGN]}"}
            return await client.post("/graphql", json=body, headers=headers)

    response = asyncio.run(go())
    assert response.status_code == 200
    return response.json()


def _server(root: Path, data_dir: Path, key: str) -> ServiceState:
    """A server over ``data_dir`` (its own audit log under ``root``) keyed by ``key``."""
    root.mkdir()
    audit = open_audit_log(root, AuditSettings(key=key), production=False)
    state = default_state(root, KeyRing({k: role for role, k in KEYS.items()}), audit)
    assert load_model(state, lambda: EmbeddedStore(data_dir, read_only=True))
    return state


def _next(app: Any, after: str) -> Any:
    return _post(app, {"query": PAGE, "variables": {"after": after}})


def test_a_restart_or_another_server_of_the_same_graph_takes_the_cursor(
    data_dir: Path, tmp_path: Path
) -> None:
    """A campaign tool paging across a rolling restart of two servers behind one address:
    while both serve the same stored graph, either takes the other's cursor (each had a
    random token: every cursor was refused after a restart, and with both up the tool
    alternated between them and never finished)."""
    key = "k" * 40
    one, two = _server(tmp_path / "one", data_dir, key), _server(tmp_path / "two", data_dir, key)
    first = _post(create_app(one), {"query": PAGE})["data"]["households"]
    after = first["pageInfo"]["endCursor"]
    on_one = _next(create_app(one), after)["data"]["households"]
    assert [e["node"]["id"] for e in on_one["edges"]]
    assert _next(create_app(two), after)["data"]["households"] == on_one
    # The server's own swap, as a restart, SIGHUP and the refresh mutation run it.
    assert load_model(one, lambda: EmbeddedStore(data_dir, read_only=True))
    assert _next(create_app(one), after)["data"]["households"] == on_one
    # A server under another key cannot take it, nor can anyone make its token.
    other = _server(tmp_path / "other", data_dir, "o" * 40)
    refused = _next(create_app(other), after)
    assert refused["data"] is None
    assert refused["errors"][0]["message"] == STALE
    assert other.model is not None
    assert one.model is not None
    assert other.model.generation != one.model.generation


def test_a_cursor_from_before_an_analyze_is_refused_naming_it(
    data_dir: Path, tmp_path: Path
) -> None:
    """A refresh that took another analysis: the cursor's offsets belong to the old order."""
    server = _server(tmp_path / "server", data_dir, "k" * 40)
    app = create_app(server)
    first = _post(app, {"query": PAGE})["data"]["households"]
    after = first["pageInfo"]["endCursor"]
    changed = tmp_path / "changed"
    shutil.copytree(data_dir, changed)
    with EmbeddedStore(changed) as store:
        households = store.read_results("households").to_pandas()
        # The richest household made the poorest: another order whatever order the
        # store returns rows in (a row read as 0 and halved would change nothing).
        top = households["total_aum"].idxmax()
        households.loc[top, "total_aum"] = households["total_aum"].min() - 1
        store.write_results("households", pa.Table.from_pandas(households))
    assert load_model(server, lambda: EmbeddedStore(changed, read_only=True))
    stale = _next(app, after)
    assert stale["data"] is None
    assert stale["errors"][0]["message"] == STALE
    assert stale["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    again = _post(app, {"query": PAGE})["data"]["households"]  # starting again pages on
    assert _next(app, again["pageInfo"]["endCursor"])["data"]["households"]["edges"]


def _without_first_household(data_dir: Path) -> ReadModel:
    """The graph after a load that merged the top household away (one fewer ahead of all)."""
    with EmbeddedStore(data_dir, read_only=True) as store:
        changed = build_read_model(store)
    table = changed.results.households
    assert table is not None
    top = int(table.orders["total_aum_desc"][0])
    frame: pd.DataFrame = table.frame.drop(index=top)
    changed.results.households = Ranked(
        frame,
        {
            "total_aum_desc": (["total_aum", "household_id"], [False, True]),
            "size_desc": (["size", "household_id"], [False, True]),
            "id": (["household_id"], [True]),
        },
    )
    changed.results.household_products = changed.results.household_products[
        [i for i in range(len(table)) if i != top]
    ]
    return changed


def test_paging_into_a_changed_graph_never_skips_a_household_silently(
    data_dir: Path, model: ReadModel
) -> None:
    before = run(PAGE, model, Role.CAMPAIGN).data["households"]
    changed = _without_first_household(data_dir)
    # Offsets into the new order: the 6th household of the old list was the 5th of the new,
    # before this cursor's page, and no page would ever have served it.
    result = run(PAGE, changed, Role.CAMPAIGN, after=before["pageInfo"]["endCursor"])
    assert result.data is None
    assert result.errors[0].message == STALE
    assert result.errors[0].extensions["code"] == "BAD_USER_INPUT"


def test_a_cursor_carries_no_id_or_value_only_its_graph_and_position(model: ReadModel) -> None:
    page = run(PAGE, model, Role.CAMPAIGN).data["households"]
    for edge in page["edges"]:
        text = base64.urlsafe_b64decode(edge["cursor"]).decode()
        assert edge["node"]["id"] not in text
        kind, generation, offset, mac = text.split(":")
        assert (kind, generation) == ("g", model.generation)
        assert offset.isdigit()
        assert len(mac) == 16  # a MAC of the list and the place: names neither
    # Every role is given the same cursor for the same place: it tells no one who asked.
    analyst = run(PAGE, model, Role.ANALYST).data["households"]
    assert [e["cursor"] for e in analyst["edges"]] == [e["cursor"] for e in page["edges"]]


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def test_a_cursor_the_server_never_made_is_bad_input(model: ReadModel) -> None:
    query = "query($after: String) { households(first: 1, after: $after) { totalCount } }"
    g = model.generation
    for text in (f"g:{g}:", "g::5", f"x:{g}:5", "5"):
        result = run(query, model, after=_b64(text))
        assert result.errors[0].message == (
            f"Invalid cursor {_b64(text)!r}: pass an endCursor from an earlier page."
        ), text
        assert result.errors[0].extensions["code"] == "BAD_USER_INPUT"
    # This graph's token but no MAC the server made: edited or made up.
    for text in (f"g:{g}:-1", f"g:{g}:５", f"g:{g}:5:{'0' * 16}"):
        result = run(query, model, after=_b64(text))
        assert result.errors[0].message == f"Invalid cursor {_b64(text)!r}: {FOREIGN}", text
        assert result.errors[0].extensions["code"] == "BAD_USER_INPUT"
    # The offsets the server issued before cursors named their graph: that graph is gone.
    old = run(query, model, after=_b64("o:5"))
    assert old.errors[0].message == STALE
    assert old.errors[0].extensions["code"] == "BAD_USER_INPUT"


QUEUE = """query($after: String, $order: RiskChainOrder) {
  riskChains(filter: {status: OPEN}, orderBy: $order, first: 4, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }"""
DISMISS = """mutation($id: ID!) { reviewRiskChain(id: $id, status: DISMISSED, note: "seen") {
    status } }"""


def _as_risk(query: str, model: ReadModel, log: cr.ReviewLog, **variables: Any) -> Any:
    context = Context(
        principal=Principal(Role.RISK, "k_risk"),
        model=model,
        request_id="r-test",
        deadline=float("inf"),
        reviews=log,
    )
    result = asyncio.run(
        build_schema().execute(query, context_value=context, variable_values=variables or None)
    )
    return result


@pytest.mark.parametrize("order", ["SCORE_DESC", "FIRST_TS_DESC", "ID"])
def test_working_the_open_queue_page_by_page_skips_no_alert(
    model: ReadModel, tmp_path: Path, order: str
) -> None:
    """An analyst dismisses what a page shows, then asks for the next page: each open alert
    is served once. An offset skipped as many alerts as had been dismissed."""
    log = cr.ReviewLog(tmp_path)
    first = _as_risk(QUEUE, model, log, order=order).data["riskChains"]
    open_before = first["totalCount"]
    assert open_before > 8
    seen = [e["node"]["id"] for e in first["edges"]]
    page = first
    while page["pageInfo"]["hasNextPage"]:
        for edge in page["edges"]:
            assert _as_risk(DISMISS, model, log, id=edge["node"]["id"]).errors is None
        after = page["pageInfo"]["endCursor"]
        page = _as_risk(QUEUE, model, log, order=order, after=after).data["riskChains"]
        seen += [e["node"]["id"] for e in page["edges"]]
    assert len(seen) == len(set(seen)) == open_before


def test_a_queue_cursor_is_refused_by_another_order_and_another_list(
    model: ReadModel, tmp_path: Path
) -> None:
    log = cr.ReviewLog(tmp_path)
    page = _as_risk(QUEUE, model, log, order="SCORE_DESC").data["riskChains"]
    after = page["pageInfo"]["endCursor"]
    other = _as_risk(QUEUE, model, log, order="ID", after=after)
    assert other.errors[0].message == (
        "This cursor is from riskChains ordered by SCORE_DESC: pass the same orderBy, "
        "or start again without `after`."
    )
    households = _as_risk(PAGE, model, log, after=after)
    assert households.errors[0].message == f"Invalid cursor {after!r}: {FOREIGN}"
    offset = run(PAGE, model, Role.RISK).data["households"]["pageInfo"]["endCursor"]
    assert _as_risk(QUEUE, model, log, after=offset).errors[0].message == (
        f"Invalid cursor {offset!r}: {FOREIGN}"
    )


AUDIENCE = """query($after: String) {
  campaignAudience(criteria: {unit: HOUSEHOLD, notContactedWithinDays: 30}, first: 50,
                   after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { unitId } } } }"""
HOUR = 3_600_000


def _an_hour_that_changes_the_audience(model: ReadModel) -> tuple[int, list[str]]:
    """A moment whose audience an hour later has another household past the first page
    (a contact aged out of the 30 days), and that moment's audience."""
    source = model.audience
    assert source is not None
    contacts = source.parties.contact_ms
    criteria = Criteria("HOUSEHOLD", not_contacted_within_days=30)
    for at in range(int(contacts.min()) + 31 * 86_400_000, int(contacts.max()), HOUR * 7):
        now = campaign_audience(source, criteria, now_ms=at)
        later = campaign_audience(source, criteria, now_ms=at + HOUR)
        ids = now.frame(0, len(now))["unit_id"].tolist()
        if ids[50:] != later.frame(0, len(later))["unit_id"].tolist()[50:]:
            return at, ids
    raise AssertionError("the test bank's contacts never change an audience within an hour")


def test_an_audience_paged_over_hours_is_the_audience_of_its_first_page(
    model: ReadModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without asOf the contact guard counts back from now, and now moves while a campaign
    tool pages: each page came from another audience (contacts aging out of the window),
    so households were skipped or served twice. The pages after the first count back from
    the first page's moment."""
    at, expected = _an_hour_that_changes_the_audience(model)
    clock = [at]
    monkeypatch.setattr(audience_rules, "_now_ms", lambda: clock[0])
    page = run(AUDIENCE, model, Role.CAMPAIGN).data["campaignAudience"]
    seen = [e["node"]["unitId"] for e in page["edges"]]
    while page["pageInfo"]["hasNextPage"]:
        clock[0] += HOUR  # the tool works an hour on each page
        after = page["pageInfo"]["endCursor"]
        page = run(AUDIENCE, model, Role.CAMPAIGN, after=after).data["campaignAudience"]
        seen += [e["node"]["unitId"] for e in page["edges"]]
        assert page["totalCount"] == len(expected)
    assert seen == expected


ESCALATED = """query($after: String) {
  riskChains(filter: {status: ESCALATED}, first: 2, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }"""
REPORT = """mutation($id: ID!) { reviewRiskChain(id: $id, status: REPORTED, note: "filed") {
    status } }"""


def test_working_gone_chains_page_by_page_skips_none(model: ReadModel, tmp_path: Path) -> None:
    """Decisions whose chain a later analyze no longer found stay in the queue, after the
    current chains. A reviewer reporting the escalated ones page by page was served an
    offset into that short list, which had lost the ones just reported: 7 served as 4."""
    log = cr.ReviewLog(tmp_path)
    for n in range(7):
        hops = [[f"GONE-{n}-{i}", "A1", "A2", 1_000.0, 1_700_000_000_000 + i] for i in range(3)]
        snapshot = {"typology": "chain", "score": 0.9, "reasons": [], "hops": hops}
        log.append(cr.review_record(f"R_gone_{n}", "ESCALATED", "look", snapshot), by="k_risk")
    page = _as_risk(ESCALATED, model, log).data["riskChains"]
    assert page["totalCount"] == 7
    seen = [e["node"]["id"] for e in page["edges"]]
    while page["pageInfo"]["hasNextPage"]:
        for edge in page["edges"]:
            assert _as_risk(REPORT, model, log, id=edge["node"]["id"]).errors is None
        after = page["pageInfo"]["endCursor"]
        page = _as_risk(ESCALATED, model, log, after=after).data["riskChains"]
        seen += [e["node"]["id"] for e in page["edges"]]
    assert sorted(seen) == [f"R_gone_{n}" for n in range(7)]
