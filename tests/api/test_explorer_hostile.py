"""The explorer on names nobody should have written (a QA pass on 2026-12-04), in headless
Chromium against a real `relgraph serve`: a right-to-left override in a name, control
characters in a name, a malformed address."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from relgraph.api.auth import Role
from relgraph.graph import build_projection
from relgraph.ingest import load_directory
from relgraph.jobs.analyze import analyze
from relgraph.store.embedded import EmbeddedStore
from tests.banks import holder_each, transfer, write_bank

from . import browser
from .browser import Server
from .conftest import KEYS
from .test_explorer_browser import search, sign_in

pytestmark = pytest.mark.browser

RLO_NAME = "冯\u202eabc"
CONTROL_NAME = "李\x01四\x0b"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    reason = browser.unavailable_reason()
    if reason is not None:
        if browser.required():
            pytest.fail(f"{browser.REQUIRE_ENV} is set but {reason}.", pytrace=False)
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("hostile")
    when = datetime(2026, 3, 2, 10, 0)
    tables = holder_each([transfer("HT1", "HA1", "HA2", 500.0, when),
                          transfer("HT2", "HA2", "HA1", 300.0, when)])  # fmt: skip
    names = {"CHA1": RLO_NAME, "CHA2": CONTROL_NAME}
    for row in tables["customers"]:
        row["name"] = names[row["customer_id"]]
    data = root / "data"
    with EmbeddedStore(data) as store:
        load_directory(write_bank(root / "bank", tables), store, data)
        analyze(store, build_projection(store))
    running = Server(data, ",".join(f"{role.value}:{key}" for role, key in KEYS.items()))
    running.start()
    yield running
    running.stop()


def test_a_right_to_left_override_in_a_name_stays_in_the_name(page: Any, server: Server) -> None:
    sign_in(page, server, Role.ANALYST)
    search(page, "CHA1")
    hit = page.locator("#results li").first
    hit.wait_for()
    # Isolated (U+2068 … U+2069): the override reverses the name, not the id after it.
    assert f"\u2068{RLO_NAME}\u2069" in hit.inner_text()


def test_a_name_with_control_characters_exports_as_well_formed_graphml(
    page: Any, server: Server, tmp_path: Path
) -> None:
    person = server.graphql(KEYS[Role.RISK], '{ customer(id: "CHA2") { id } }')["customer"]
    assert isinstance(person, dict)
    sign_in(page, server, Role.RISK)
    page.goto(f"{server.base}/explore#/person/{person['id']}")
    page.wait_for_function("() => window.relgraphExplorer.graph.nodeCount() > 0")
    with page.expect_download() as download:
        page.get_by_test_id("export-graphml").click()
    saved = tmp_path / "person.graphml"
    download.value.save_as(saved)
    ET.parse(saved)  # an XML parser reads it: no character XML 1.0 forbids
    assert "李四" in saved.read_text(encoding="utf-8")


def test_a_malformed_address_throws_nothing(page: Any, server: Server) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, server, Role.ANALYST)
    page.goto(f"{server.base}/explore#/person/%E0%A4%A")
    page.wait_for_timeout(500)
    assert errors == []
