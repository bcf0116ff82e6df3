"""A refresh frees the old live scoring by reference counting: no full garbage collection,
which walks every object holding the interpreter lock while payments wait
(``api/server.py: settle_heap``)."""

from __future__ import annotations

import gc
import sys
import threading
import weakref
from pathlib import Path
from typing import Any

import pytest

from relgraph.api import memory, server
from relgraph.api.app import ServiceState, default_state
from relgraph.api.auth import KeyRing, Role
from relgraph.api.live_build import live_of
from relgraph.api.readmodel import ReadModel
from relgraph.api.server import BUILD_SWITCH_INTERVAL, building, load_model
from relgraph.store.embedded import EmbeddedStore
from tests.waits import until

from .conftest import run
from .test_ingestion import _after_all
from .test_networks_api import LINKED, NETWORK, _networked
from .test_search_api import SEARCH


class _Watch:
    """Automatic collections off, and the full collections that run meanwhile counted."""

    def __init__(self) -> None:
        self.full: list[dict[str, Any]] = []
        self._enabled = gc.isenabled()

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and info["generation"] == 2:
            self.full.append(info)

    def __enter__(self) -> _Watch:
        gc.callbacks.append(self)
        gc.disable()  # nor may an automatic collection free what is tested
        return self

    def __exit__(self, *_: object) -> None:
        gc.callbacks.remove(self)
        if self._enabled:
            gc.enable()


def test_a_refresh_frees_the_old_live_scoring_without_a_full_collection(
    state: ServiceState, model: ReadModel, data_dir: Path
) -> None:
    # After a refresh the heap was settled by a full collection of everything, frozen or
    # not (the old and the new model and live index: 0.8-2.2 s without an answer to any
    # payment at 100,000 customers), because the old live scoring was in a reference cycle
    # (its journal writer held it) that only a collection frees, and that was frozen, so
    # kept for another refresh, when its writer was still running.
    old = live_of(state)
    a, b = model.account_ids[:2]
    sent = {"tx_id": "RT-GC-1", "from_account": a, "to_account": b, "amount": 75.0,
            "currency": "CNY", "ts": _after_all(model)}  # fmt: skip
    assert old.record_transfers([sent], "k_ingest")["accepted"] == 1  # its writer has run
    scoring, index = weakref.ref(old), weakref.ref(old.index)
    del old
    with _Watch() as watch:
        assert load_model(state, lambda: EmbeddedStore(data_dir, read_only=True))
        until(lambda: scoring() is None and index() is None, "the old live scoring is freed")
    assert watch.full == [], "a full collection ran after the refresh"
    assert live_of(state).record_transfers([sent], "k_ingest")["duplicate"] == 1


def test_a_refresh_frees_the_read_model_queries_read_without_a_full_collection(
    state: ServiceState, data_dir: Path
) -> None:
    # Nothing of a read model may be in a reference cycle either (a cache holding a closure
    # over it, say), or it would stay frozen: every refresh would keep one more model.
    store = lambda: EmbeddedStore(data_dir, read_only=True)  # noqa: E731
    assert load_model(state, store)
    read = state.model
    assert read is not None
    chains = (
        "{ riskChains(first: 5) { edges { node { id hops(first: 3) { txId from { id } } } } } }"
    )
    check = "query($a: ID!) { layeringCheck(accountId: $a) { score chains { id } } }"
    account = read.account_ids[0]
    for query, variables in [(chains, {}), (check, {"a": account}),
                             (NETWORK, {"id": _networked(read)}),
                             (LINKED, {"id": account, "hops": 2, "via": None}),
                             (SEARCH, {"text": read.account_ids[1], "kinds": None, "first": 5})]:  # fmt: skip
        assert run(query, read, Role.RISK, **variables).errors is None, query
    live_of(state)
    model = weakref.ref(read)
    del read
    with _Watch() as watch:
        assert load_model(state, store)
        until(lambda: model() is None, "the read model the queries read is freed")
    assert watch.full == [], "a full collection ran after the refresh"


class _Collections:
    """The generations collected meanwhile, with automatic collection left on."""

    def __init__(self) -> None:
        self.generations: list[int] = []

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self.generations.append(info["generation"])

    def __enter__(self) -> _Collections:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *_: object) -> None:
        gc.callbacks.remove(self)


def _many() -> int:
    """Lists to make, after a full collection, so that those living on pass the quarter of the
    oldest generation that sets off an automatic full collection: twice it."""
    gc.collect()
    return len(gc.get_objects(2)) // 5 + 50_000


def test_no_automatic_full_collection_runs_while_a_build_runs() -> None:
    # A refresh's build set off 5-9 full collections at 100,000 customers, each walking the
    # half-built live index (190-370 ms with no payment answered).
    threshold = gc.get_threshold()
    n = _many()
    with _Collections() as control:
        kept = [[[] for _ in range(9)] for _ in range(n)]  # outside a build: one runs
    assert 2 in control.generations
    del kept
    n = _many()
    with _Collections() as built, building():
        kept = [[[] for _ in range(9)] for _ in range(n)]
        assert gc.get_threshold()[:2] == threshold[:2]  # the young generations go on
    del kept
    assert 2 not in built.generations
    assert {0, 1} <= set(built.generations)
    assert gc.get_threshold() == threshold


def test_overlapping_builds_restore_the_collector_and_switch_interval_when_the_last_ends() -> None:
    threshold, switch = gc.get_threshold(), sys.getswitchinterval()
    first, second = building(), building()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold() != threshold  # the second build still runs
    assert sys.getswitchinterval() == pytest.approx(BUILD_SWITCH_INTERVAL)
    second.__exit__(None, None, None)
    assert gc.get_threshold() == threshold
    assert sys.getswitchinterval() == switch


def test_a_refresh_builds_without_automatic_full_collections_and_with_short_switches(
    state: ServiceState, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, int, int]] = []
    switches: list[float] = []
    build = server.build_read_model

    def watched(*args: Any) -> ReadModel:
        seen.append(gc.get_threshold())
        switches.append(sys.getswitchinterval())
        return build(*args)

    monkeypatch.setattr(server, "build_read_model", watched)
    threshold = gc.get_threshold()
    assert load_model(state, lambda: EmbeddedStore(data_dir, read_only=True))
    assert seen
    assert seen[0][2] > 1_000_000  # no full collection while it reads the store
    assert seen[0][:2] == threshold[:2]
    assert gc.get_threshold() == threshold
    assert switches == [pytest.approx(BUILD_SWITCH_INTERVAL)]


def test_the_first_build_gives_the_freed_heap_back_before_the_server_is_ready(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first build's freed pages stayed resident (150-204 MiB at 100,000 customers):
    # only a refresh's release thread trimmed. Here, before /readyz says ready (the model
    # unpublished), when no payment can be waiting on the trim.
    state = default_state(tmp_path, KeyRing({}))
    here, published = threading.current_thread(), []

    def give_back() -> bool:
        if threading.current_thread() is here:  # not another test's release thread
            published.append(state.model is not None)
        return True

    monkeypatch.setattr(memory, "give_back", give_back)
    assert load_model(state, lambda: EmbeddedStore(data_dir, read_only=True))
    assert published == [False]
    assert state.model is not None
