"""Cursors across a refresh: a page's endCursor belongs to the graph it was served from.

A campaign tool pages through every household for an hour while the nightly load and
analyze land and the server swaps in the new graph. Offsets into the new graph's order
skipped or repeated households without a word; a cursor from the graph before is refused,
naming the refresh, so the tool starts again.
"""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

from relgraph.api.app import ServiceState, create_app
from relgraph.api.auth import Role
from relgraph.api.readmodel import Ranked, ReadModel, build_read_model
from relgraph.api.server import load_model
from relgraph.store.embedded import EmbeddedStore

from .conftest import KEYS, run

PAGE = """query($after: String) { households(first: 5, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }"""

STALE = (
    "This cursor is from the graph served before a refresh (`relgraph load`/`analyze`, or a "
    "server restart): paging on would skip or repeat entries. Start again without `after`."
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


def test_a_cursor_from_before_a_refresh_is_refused_naming_it(
    data_dir: Path, state: ServiceState
) -> None:
    app = create_app(state)
    first = _post(app, {"query": PAGE})["data"]["households"]
    after = first["pageInfo"]["endCursor"]
    again = _post(app, {"query": PAGE, "variables": {"after": after}})
    assert [e["node"]["id"] for e in again["data"]["households"]["edges"]]  # same graph: on
    # The server's own swap, as SIGHUP and the refresh mutation run it.
    assert load_model(state, lambda: EmbeddedStore(data_dir, read_only=True))
    stale = _post(app, {"query": PAGE, "variables": {"after": after}})
    assert stale["data"] is None
    assert stale["errors"][0]["message"] == STALE
    assert stale["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    restarted = _post(app, {"query": PAGE})["data"]["households"]
    assert [e["node"]["id"] for e in restarted["edges"]] == [
        e["node"]["id"] for e in first["edges"]
    ]


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
        kind, generation, offset = text.split(":")
        assert (kind, generation) == ("g", model.generation)
        assert offset.isdigit()
    # Every role is given the same cursor for the same place: it tells no one who asked.
    analyst = run(PAGE, model, Role.ANALYST).data["households"]
    assert [e["cursor"] for e in analyst["edges"]] == [e["cursor"] for e in page["edges"]]


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def test_a_cursor_the_server_never_made_is_bad_input(model: ReadModel) -> None:
    query = "query($after: String) { households(first: 1, after: $after) { totalCount } }"
    g = model.generation
    for text in (f"g:{g}:-1", f"g:{g}:", f"g:{g}:５", "g::5", f"x:{g}:5", "5"):
        result = run(query, model, after=_b64(text))
        assert result.errors[0].message == (
            f"Invalid cursor {_b64(text)!r}: pass an endCursor from an earlier page."
        ), text
        assert result.errors[0].extensions["code"] == "BAD_USER_INPUT"
    # The offsets the server issued before cursors named their graph: that graph is gone.
    old = run(query, model, after=_b64("o:5"))
    assert old.errors[0].message == STALE
    assert old.errors[0].extensions["code"] == "BAD_USER_INPUT"
