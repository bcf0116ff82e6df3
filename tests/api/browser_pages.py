"""The browser fixtures the explorer's test modules share: one Chromium per module, a fresh
context per test that fails it if the page asked any host but the module's ``server``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from . import browser
from .browser import Server


@pytest.fixture(scope="module")
def chromium(server: Server) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=browser.chromium_path(), args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(chromium: Any, server: Server) -> Iterator[Any]:
    context = chromium.new_context(
        viewport={"width": 1400, "height": 900}, accept_downloads=True, service_workers="block"
    )
    tab = context.new_page()
    asked: list[str] = []
    tab.on("request", lambda request: asked.append(request.url))
    tab.set_default_timeout(15_000)
    yield tab
    context.close()
    own = (f"{server.base}/", "data:", "blob:")
    foreign = [url for url in asked if not url.startswith(own)]
    assert not foreign, f"the page asked other hosts: {foreign}"
    assert any(url.startswith(f"{server.base}/") for url in asked)
