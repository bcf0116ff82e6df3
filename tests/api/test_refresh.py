"""Refresh is single-flight: one rebuild at a time, asks coalesced, the newest build wins."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from relgraph.api.server import Rebuilder


class FakeStore:
    """A store whose version moves on, and builds that take a while and are watched."""

    def __init__(self) -> None:
        self.version = 0
        self.served: int | None = None
        self.builds = 0
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()
        self.gate = threading.Event()
        """Holds the first build until the test opens it (a loaded machine must not let it
        finish before the asks it is meant to overlap have arrived)."""
        self.gate.set()

    def build(self) -> bool:
        with self._lock:
            self.running += 1
            self.builds += 1
            first = self.builds == 1
            self.most_at_once = max(self.most_at_once, self.running)
        read = self.version  # what this build sees of the store
        if first:
            assert self.gate.wait(10)
        time.sleep(0.15)
        self.served = read
        with self._lock:
            self.running -= 1
        return True


def test_a_storm_of_refreshes_costs_one_more_build_and_serves_the_newest() -> None:
    store = FakeStore()
    store.gate.clear()
    rebuilder = Rebuilder(store.build)
    rebuilder.request()
    deadline = time.monotonic() + 10
    while store.running == 0 and time.monotonic() < deadline:
        time.sleep(0.005)  # the first build is running, on version 0
    store.version = 1  # a load lands while it runs
    threads = [threading.Thread(target=rebuilder.request) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store.gate.set()
    time.sleep(0.05)
    rebuilder.wait(5)
    assert store.most_at_once == 1
    assert store.builds == 2  # the running one, and one for all twenty asks
    assert store.served == 1  # the build that began last finished last


def test_the_initial_load_and_a_sighup_never_overlap() -> None:
    store = FakeStore()
    rebuilder = Rebuilder(store.build)
    first = threading.Thread(target=rebuilder.build_now)
    first.start()
    time.sleep(0.05)
    store.version = 2
    rebuilder.request()
    first.join()
    rebuilder.wait(5)
    assert store.most_at_once == 1
    assert store.builds == 2
    assert store.served == 2


def test_a_refresh_that_found_the_store_in_use_is_tried_again_until_it_is_free() -> None:
    # A refresh sent while `analyze` writes: the old graph is served, and once the writer
    # is done the server takes the new results without being asked again.
    held = {"times": 3}
    served: list[int] = []

    def build() -> bool:
        if held["times"]:
            held["times"] -= 1
            return False
        served.append(1)
        return True

    rebuilder = Rebuilder(build, passing=lambda: "the store is in use", retry_seconds=0.05)
    rebuilder.request()
    deadline = time.monotonic() + 10
    while not served and time.monotonic() < deadline:
        time.sleep(0.01)
    rebuilder.wait(5)
    assert served == [1]
    assert held["times"] == 0


def _failing() -> tuple[Callable[[], bool], list[int]]:
    """A build that always fails, and the list of its attempts."""
    builds: list[int] = []

    def build() -> bool:
        builds.append(1)
        return False

    return build, builds


def test_a_refresh_that_failed_otherwise_is_not_repeated() -> None:
    # A damaged store is no writer to wait for: one failure, logged, no loop of retries.
    build, builds = _failing()
    rebuilder = Rebuilder(build, passing=lambda: None, retry_seconds=0.01)
    rebuilder.request()
    rebuilder.wait(5)
    time.sleep(0.1)
    assert builds == [1]


def test_a_stopping_server_retries_no_more() -> None:
    build, builds = _failing()
    rebuilder = Rebuilder(build, passing=lambda: "the store is in use", retry_seconds=0.2)
    rebuilder.request()
    time.sleep(0.05)
    rebuilder.stop()
    rebuilder.wait(5)
    assert builds == [1]
