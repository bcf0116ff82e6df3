"""The explorer page in headless Chromium, against a real `relgraph serve` on 127.0.0.1.

Each test signs in as a user would (typing the key), works through a view, and leaves a
screenshot of it; every test also fails if the page asked any host but the server for anything.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from relgraph.api.auth import Role
from relgraph.api.readmodel import ReadModel

from . import browser
from .browser import Server
from .conftest import KEYS

pytestmark = pytest.mark.browser

ROLE_SHOWN = {
    Role.RISK: "risk",
    Role.ADMIN: "risk",
    Role.ANALYST: "analyst",
    Role.CAMPAIGN: "campaign",
    Role.INGEST: "ingest",
}
"""What the page makes of each role (it tells risk and admin keys apart by nothing it shows)."""

IDENTIFIERS = {"device", "phone", "email", "address", "id_document"}

NETWORK = """query($id: ID!) { hiddenNetwork(customerId: $id) {
  members { id } links { a { id } b { id } evidence { kind ref } } suppressed { ref } } }"""


@pytest.fixture(scope="module")
def server(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    reason = browser.unavailable_reason()
    if reason is not None:
        if browser.required():
            pytest.fail(f"{browser.REQUIRE_ENV} is set but {reason}.", pytrace=False)
        pytest.skip(reason)
    # A copy: the reviews these tests make go to the server's journal in its data directory.
    data = tmp_path_factory.mktemp("explorer") / "data"
    shutil.copytree(data_dir, data)
    running = Server(data, ",".join(f"{role.value}:{key}" for role, key in KEYS.items()))
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where each view's screenshot goes (RELGRAPH_SCREENSHOTS, else the pytest tmp dir)."""
    if wanted := os.environ.get("RELGRAPH_SCREENSHOTS"):
        Path(wanted).mkdir(parents=True, exist_ok=True)
        return Path(wanted)
    return tmp_path_factory.mktemp("screenshots")


def sign_in(page: Any, server: Server, role: Role, path: str = "/explore") -> None:
    page.goto(server.base + path)
    page.get_by_test_id("key").fill(KEYS[role])
    page.get_by_test_id("signin").click()
    if role is Role.INGEST:  # a key that may read nothing: one message, no views
        page.get_by_test_id("ingest-only").filter(has_text="仅用于数据接入").wait_for()
        return
    page.get_by_test_id("search").wait_for(state="visible")


def search(page: Any, text: str) -> None:
    page.get_by_test_id("search").fill(text)
    page.get_by_test_id("search").press("Enter")


def graph_nodes(page: Any) -> int:
    return int(page.evaluate("window.relgraphExplorer.graph.nodeCount()"))


def wait_for_nodes(page: Any, count: int) -> None:
    page.wait_for_function(
        "n => window.relgraphExplorer.graph.nodeCount() === n && "
        "document.querySelector('[data-testid=graph]').dataset.layouts !== undefined",
        arg=count,
    )


def expected_network_nodes(network: dict[str, Any]) -> int:
    """The page draws each member, each shared identifier and each suppressed (public) one
    once (family, enterprise and transfer ties are links, not nodes)."""
    identifiers = {
        (e["kind"], e["ref"])
        for link in network["links"]
        for e in link["evidence"]
        if e["kind"] in IDENTIFIERS
    }
    return len(network["members"]) + len(identifiers) + len(network["suppressed"])


@pytest.mark.parametrize("role", list(Role))
def test_sign_in_shows_what_each_role_may_use(
    page: Any, server: Server, role: Role, shots: Path
) -> None:
    sign_in(page, server, role)
    assert page.locator("body").get_attribute("data-role") == ROLE_SHOWN[role]
    assert page.get_by_test_id("nav-alerts").is_visible() is (role in (Role.RISK, Role.ADMIN))
    if role is Role.INGEST:
        assert page.get_by_test_id("search").is_hidden()
        assert page.get_by_test_id("detail").is_hidden()
        assert page.get_by_test_id("signin-error").inner_text() == ""
    else:
        assert page.get_by_test_id("ingest-only").is_hidden()
    # The key is in the page's memory only: not in storage, cookies, the URL or the form.
    kept = page.evaluate(
        "JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie"
        " + location.href + document.documentElement.outerHTML"
    )
    assert KEYS[role] not in kept
    assert page.get_by_test_id("key").input_value() == ""
    page.get_by_test_id("lang").click()
    assert page.locator("#title").inner_text() == "Relationship graph explorer"
    if role is Role.INGEST:
        assert "ingestion only" in page.get_by_test_id("ingest-only").inner_text()
    page.screenshot(path=shots / f"signed-in-{role.value}.png")


def test_an_unknown_key_is_refused(page: Any, server: Server) -> None:
    page.goto(server.base + "/explore")
    page.get_by_test_id("key").fill("not-a-key-of-this-server-0000")
    page.get_by_test_id("signin").click()
    page.get_by_test_id("signin-error").filter(has_text="密钥无效").wait_for()
    assert page.get_by_test_id("search").is_hidden()


def test_search_by_name_opens_the_person_with_source_records(
    page: Any, server: Server, model: ReadModel, person_with_records: str, shots: Path
) -> None:
    person = server.graphql(
        KEYS[Role.RISK],
        "query($id: ID!) { customer(id: $id) { id name"
        " records { customerId matchEvidence { comparison } } } }",
        id=person_with_records,
    )["customer"]
    assert isinstance(person, dict)
    sign_in(page, server, Role.ANALYST)
    search(page, person["name"])
    hit = page.get_by_test_id("search-hit").filter(has_text=person["id"])
    hit.first.click()
    page.get_by_test_id("person-name").filter(has_text=person["name"]).wait_for()
    rows = page.get_by_test_id("records").locator("tbody tr")
    assert rows.count() == len(person["records"])
    shown = page.get_by_test_id("records").inner_text()
    for record in person["records"]:
        assert record["customerId"] in shown
        # An analyst sees each match's waterfall: the comparisons it rests on.
        for step in record["matchEvidence"] or []:
            assert step["comparison"] in shown
    page.screenshot(path=shots / "person.png")


def _largest_network_person(model: ReadModel, limit: int = 40) -> str:
    members = model.results.network_members
    sizes = sorted(
        ((len(people), network) for network, people in members.items() if len(people) <= limit),
        reverse=True,
    )
    return str(members[sizes[0][1]][0])


def test_network_draws_members_and_shared_identifiers_and_expands_on_click(
    page: Any, server: Server, model: ReadModel, shots: Path, tmp_path: Path
) -> None:
    person = _largest_network_person(model)
    network = server.graphql(KEYS[Role.RISK], NETWORK, id=person)["hiddenNetwork"]
    assert isinstance(network, dict)
    expected = expected_network_nodes(network)
    assert len(network["members"]) >= 3, "the test bank should have a real network"
    sign_in(page, server, Role.RISK)
    search(page, person)  # a person id, matched exactly
    page.get_by_test_id("search-hit").first.click()
    wait_for_nodes(page, expected)
    page.screenshot(path=shots / "network.png")

    # Hovering a shared identifier names it, with how many share it.
    identifier = page.evaluate(
        "window.relgraphExplorer.graph.nodeIds().find(id => id.startsWith('i:'))"
    )
    assert identifier, "the network should share an identifier"
    at = page.evaluate(f"window.relgraphExplorer.graph.pagePosition({identifier!r})")
    page.mouse.move(at["x"], at["y"])
    ref = identifier.split(":", 2)[2]
    page.locator("#tip").filter(has_text=ref).wait_for()

    # Filtering out one evidence kind hides the identifiers only it tied in.
    kinds = page.locator("#filters input[type=checkbox]")
    assert kinds.count() >= 1
    first_kind = kinds.first.get_attribute("data-kind")
    kinds.first.uncheck()
    hidden = {
        (e["kind"], e["ref"]) for link in network["links"] for e in link["evidence"]
        if e["kind"] == first_kind and e["kind"] in IDENTIFIERS
    } | ({s["ref"] for s in network["suppressed"]} if first_kind == "suppressed" else set())  # fmt: skip
    visible = page.evaluate("window.relgraphExplorer.graph.visibleNodeCount()")
    assert visible == expected - len(hidden)
    kinds.first.check()

    # A click on a member adds the accounts it holds.
    accounts = server.graphql(
        KEYS[Role.RISK],
        "query($id: ID!) { customer(id: $id) { accounts(first: 50) { totalCount } } }",
        id=person,
    )["customer"]
    assert isinstance(accounts, dict)
    at = page.evaluate(f"window.relgraphExplorer.graph.pagePosition('p:{person}')")
    page.mouse.click(at["x"], at["y"])
    wait_for_nodes(page, expected + accounts["accounts"]["totalCount"])

    # The drawing exports as GraphML with every node in it.
    with page.expect_download() as download:
        page.get_by_test_id("export-graphml").click()
    saved = tmp_path / "network.graphml"
    download.value.save_as(saved)
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    nodes = ET.parse(saved).getroot().findall("g:graph/g:node", ns)
    assert len(nodes) == graph_nodes(page)
    # And as a JSON graph: the same nodes, with the links between them.
    with page.expect_download() as as_json:
        page.get_by_test_id("export-json").click()
    as_json.value.save_as(tmp_path / "network.json")
    drawn = json.loads((tmp_path / "network.json").read_text(encoding="utf-8"))
    assert len(drawn["nodes"]) == len(nodes)
    ids = {n["id"] for n in drawn["nodes"]}
    assert drawn["edges"]
    assert all({e["source"], e["target"]} <= ids for e in drawn["edges"])
    with page.expect_download() as png:
        page.get_by_test_id("export-png").click()
    png.value.save_as(tmp_path / "network.png")
    assert (tmp_path / "network.png").read_bytes()[:4] == b"\x89PNG"


CHAINS = """query($account: ID!) { riskChains(filter: {accountId: $account, minScore: 0},
  first: 100) { edges { node { id score typology hopCount } } } }"""


def _planted_chain(server: Server, model: ReadModel, data_dir: Path) -> dict[str, Any]:
    """The alert holding the largest share of planted laundering transfers, with its hops."""
    with (data_dir.parent / "bank" / "truth" / "laundering.csv").open(encoding="utf-8") as f:
        planted = {row["tx_id"] for row in csv.DictReader(f)}
    hops = model.results.risk_chain_hops
    assert hops is not None
    share = hops.assign(planted=hops["tx_id"].isin(planted)).groupby("chain_id")["planted"].mean()
    best = str(share.idxmax())
    assert share[best] >= 0.5, "the test bank should have an alert on a planted chain"
    rows = hops[hops["chain_id"] == best].sort_values("ts")
    account = str(rows["from_account"].iloc[0])
    listed = server.graphql(KEYS[Role.RISK], CHAINS, account=account)["riskChains"]
    assert isinstance(listed, dict)
    (chain,) = [e["node"] for e in listed["edges"] if e["node"]["id"] == best]
    chain["hops"] = [
        {"txId": tx, "from": {"id": a}, "to": {"id": b}}
        for tx, a, b in zip(rows["tx_id"], rows["from_account"], rows["to_account"], strict=True)
    ]
    return dict(chain)


def _open_chain_from_queue(page: Any, chain: dict[str, Any]) -> None:
    page.get_by_test_id("nav-alerts").click()
    filters = page.get_by_test_id("alert-filters")
    filters.locator("input[name=typology]").fill(chain["typology"])
    # Two decimals down: the score itself may print longer than it was stored.
    filters.locator("input[name=minScore]").fill(str(math.floor(chain["score"] * 100) / 100))
    filters.locator("button[type=submit]").click()
    page.get_by_test_id("alert-open").filter(has_text=chain["id"]).click()
    page.get_by_test_id("chain-title").filter(has_text=chain["id"]).wait_for()


def test_a_planted_chain_shows_its_hops_in_time_order(
    page: Any, server: Server, model: ReadModel, data_dir: Path, shots: Path
) -> None:
    chain = _planted_chain(server, model, data_dir)
    sign_in(page, server, Role.RISK)
    _open_chain_from_queue(page, chain)
    rows = page.get_by_test_id("hops").locator("tbody tr")
    rows.first.wait_for()
    assert rows.count() == chain["hopCount"]
    in_time = chain["hops"]
    for row, hop in zip(rows.all(), in_time, strict=True):
        cells = row.locator("td").all_inner_texts()
        assert cells[2].startswith(hop["from"]["id"])
        assert cells[3].startswith(hop["to"]["id"])
        assert re.fullmatch(r"¥[\d,]+\.\d\d", cells[4]), cells[4]
    accounts = {h["from"]["id"] for h in chain["hops"]} | {h["to"]["id"] for h in chain["hops"]}
    wait_for_nodes(page, len(accounts))
    page.screenshot(path=shots / "chain.png")

    # layeringCheck of an account from its node.
    first = in_time[0]["from"]["id"]
    at = page.evaluate(f"window.relgraphExplorer.graph.pagePosition('a:{first}')")
    page.mouse.click(at["x"], at["y"])
    page.get_by_test_id("layering").filter(has_text=first).wait_for()


def test_a_disposition_is_kept_across_a_reload_and_a_restart(
    page: Any, server: Server, model: ReadModel, data_dir: Path, shots: Path
) -> None:
    chain = _planted_chain(server, model, data_dir)
    sign_in(page, server, Role.RISK)
    _open_chain_from_queue(page, chain)
    page.get_by_test_id("review-status").select_option("ESCALATED")
    page.get_by_test_id("review-note").fill("资金快进快出，升级核查")
    page.get_by_test_id("review-save").click()
    page.get_by_test_id("review-outcome").filter(has_text="已保存").wait_for()

    server.restart()  # what is kept is on the server's disk, not in the page or in memory
    page.reload()
    sign_in(page, server, Role.RISK)
    page.get_by_test_id("nav-alerts").click()
    filters = page.get_by_test_id("alert-filters")
    filters.locator("select[name=status]").select_option("ESCALATED")
    filters.locator("button[type=submit]").click()
    status = page.locator(f"[data-testid=alert-status][data-chain='{chain['id']}']")
    status.filter(has_text="已升级").wait_for()
    assert "资金快进快出，升级核查" in page.get_by_test_id("alerts").inner_text()
    page.screenshot(path=shots / "alerts.png")


def test_campaign_key_sees_masked_values_and_no_risk_views(
    page: Any, server: Server, person_with_records: str, shots: Path
) -> None:
    raw = server.graphql(
        KEYS[Role.RISK],
        "query($id: ID!) { customer(id: $id) { name records { customerId phone idNumber } "
        "accounts(first: 50) { totalCount } } }",
        id=person_with_records,
    )["customer"]
    assert isinstance(raw, dict)
    sign_in(page, server, Role.CAMPAIGN)
    assert page.get_by_test_id("nav-alerts").is_hidden()
    search(page, raw["name"])  # campaign keys may not search by name
    page.get_by_test_id("no-results").or_(page.get_by_test_id("error")).wait_for()

    record = raw["records"][0]["customerId"]
    search(page, record)
    page.get_by_test_id("search-hit").first.click()
    page.get_by_test_id("records").wait_for()
    shown = page.get_by_test_id("detail").inner_text()
    secrets = [r[k] for r in raw["records"] for k in ("phone", "idNumber") if r[k]]
    assert secrets
    assert not [s for s in secrets if s in page.content()]
    assert "*" in page.get_by_test_id("records").inner_text()
    assert "匹配得分" not in shown
    assert "风险等级" not in shown
    # No network: the person and the accounts only.
    wait_for_nodes(page, 1 + raw["accounts"]["totalCount"])
    assert page.evaluate("window.relgraphExplorer.graph.nodeIds('phone').length") == 0
    page.evaluate("location.hash = '#/alerts'")
    page.wait_for_timeout(300)
    assert page.locator("body").get_attribute("data-view") == "person"
    page.screenshot(path=shots / "campaign-person.png")


def test_group_view_draws_ownership_controller_and_guarantee_circles(
    page: Any, server: Server, shots: Path
) -> None:
    groups = server.graphql(
        KEYS[Role.RISK],
        "{ corporateGroups(first: 1, filter: {hasGuaranteeCircle: true}) { edges { node { id "
        "members { enterprise { id name } } guaranteeCircles { id } controller { id } } } } }",
    )["corporateGroups"]
    assert isinstance(groups, dict)
    assert groups["edges"], "the test bank should have a guarantee circle"
    group = groups["edges"][0]["node"]
    member = group["members"][0]["enterprise"]
    sign_in(page, server, Role.ANALYST)
    search(page, member["name"])
    page.get_by_test_id("search-hit").filter(has_text=member["id"]).first.click()
    page.get_by_test_id("group-title").filter(has_text=group["id"]).wait_for()
    assert page.get_by_test_id("group-members").locator("tbody tr").count() == len(group["members"])
    assert page.get_by_test_id("circles").locator("li").count() == len(group["guaranteeCircles"])
    page.wait_for_function("window.relgraphExplorer.graph.nodeCount() > 0")
    drawn = set(page.evaluate("window.relgraphExplorer.graph.nodeIds()"))
    assert {f"e:{m['enterprise']['id']}" for m in group["members"]} <= drawn
    page.screenshot(path=shots / "group.png")


def test_graphiql_is_served_from_the_bundle_and_stores_nothing(
    page: Any, server: Server, shots: Path
) -> None:
    page.goto(server.base + "/graphql")
    page.locator(".graphiql-container").wait_for()
    page.wait_for_timeout(500)
    assert page.evaluate("localStorage.length") == 0
    page.screenshot(path=shots / "graphiql.png")
