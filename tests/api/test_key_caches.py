"""Every cache a request's time depends on is the asking key's own: a query text another key
sent a moment ago answers no faster (``relgraph.api.key_caches``)."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from typing import Any

from relgraph.api import routing
from relgraph.api.auth import Principal, Role
from relgraph.api.context import Context
from relgraph.api.limits import _costs
from relgraph.api.readmodel import ReadModel

from .conftest import _schema

# A search with a phone written into the text, as a hand-typed query carries it: the text
# itself is what another key must not learn was sent.
SEARCH = """{ search(text: "%s", first: 5) { totalCount edges { node { matchedOn
  person { id name birthYear accounts(first: 3) { edges { node { id } } } }
  household { id size } } } } }"""


def _timed(text: str, model: ReadModel, role: Role, key_id: str) -> float:
    context = Context(
        principal=Principal(role, key_id), model=model, request_id="r-test", deadline=float("inf")
    )
    started = time.perf_counter()
    result: Any = asyncio.run(_schema().execute(text, context_value=context))
    elapsed = time.perf_counter() - started
    assert result.errors is None, result.errors
    return elapsed


def test_attack_a_campaign_key_cannot_time_what_an_analyst_searched(model: ReadModel) -> None:
    """ATTACK: an analyst searches a phone written into the query text; a campaign key sends
    that text and a text nobody sent, and compares the times. Before the caches were per key
    the sent text answered in a quarter of the time (1.1 against 4.3 ms, one request told
    them apart 999 times in 1,000); now the two take the same time. The same key sending a
    text again is still answered from its cache, so the test can tell a hit from a miss."""
    rng = random.Random(11)
    sent, unsent, again = [], [], []
    for _ in range(60):
        phone, other = (f"13{rng.randrange(10**9):09d}" for _ in range(2))
        _timed(SEARCH % phone, model, Role.ANALYST, "k_analyst")
        pair = [(phone, sent), (other, unsent)]
        rng.shuffle(pair)  # neither is always first
        for text, times in pair:
            times.append(_timed(SEARCH % text, model, Role.CAMPAIGN, "k_campaign"))
        again.append(_timed(SEARCH % other, model, Role.CAMPAIGN, "k_campaign"))
    hit, miss, own = (statistics.median(t) for t in (sent, unsent, again))
    assert own < 0.6 * miss, (own, miss)  # the key's own cache works
    assert hit > 0.8 * miss, (hit, miss)  # another key's request left no trace


def test_the_inline_router_and_the_prices_are_per_key(model: ReadModel) -> None:
    """The router parses and prices a text on the event loop before any resolver: a text
    another key sent must be parsed and priced afresh for this one."""
    text = '{ customer(id: "C-key-caches-1") { id name } }'
    schema = _schema()._schema  # type: ignore[attr-defined]
    assert routing.runs_inline(schema, text, None, None, "k_one")
    one, other = routing._documents.of("k_one"), routing._documents.of("k_other")
    assert routing.runs_inline(schema, text, None, None, "k_one")
    assert one.cache_info().hits == 1  # type: ignore[attr-defined]
    assert other.cache_info().currsize == 0  # type: ignore[attr-defined]
    assert routing.runs_inline(schema, text, None, None, "k_other")
    assert other.cache_info().misses == 1  # type: ignore[attr-defined]
    assert other(text) is not one(text)  # two documents, so two price entries
    assert len(_costs.of("k_one").known) == 1
    assert len(_costs.of("k_other").known) == 1
