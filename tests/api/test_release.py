"""What a refresh replaced is freed a part at a time (``api/release.py``): the lock is given
up between slices, and nothing another holder still reads is taken apart."""

from __future__ import annotations

import weakref
from typing import Any

import pytest

from relgraph.api import release
from tests.waits import until


class _Part:
    def __init__(self, **parts: Any) -> None:
        self.__dict__.update(parts)


def test_an_object_held_only_by_the_release_is_freed_in_slices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    yields: list[float] = []
    sleep = release.time.sleep
    monkeypatch.setattr(release.time, "sleep", lambda s: (yields.append(s), sleep(s)))
    index = {n: _Part(ts=list(range(5)), paid=[float(n)]) for n in range(10_000)}
    old = _Part(index=_Part(out=index), ids=[str(n) for n in range(10_000)])
    gone = weakref.ref(old)
    del index
    release.release_gradually([old])
    del old
    until(lambda: gone() is None, "the old object is freed")
    # 10,000 parts of three entries each, 10,000 ids: one yield every 2,000 entries dropped.
    assert yields.count(0) >= 20


def test_what_another_holder_reads_is_dropped_whole_not_taken_apart() -> None:
    shared = {n: [n] for n in range(5_000)}
    model = _Part(accounts=shared)
    old = _Part(model=model, own={n: [n] for n in range(5_000)})
    gone = weakref.ref(old)
    release.release_gradually([old])
    del old
    until(lambda: gone() is None, "the old object is freed")
    assert len(shared) == 5_000
    assert vars(model) == {"accounts": shared}


def test_an_object_still_read_is_left_until_its_reader_lets_go(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(release, "WAIT_SECONDS", 0.3)
    old = _Part(entries={n: [n] for n in range(100)})
    reader = old
    thread = release.release_gradually([old])
    del old
    # Its own thread: another test's release may still be waiting for its readers.
    until(lambda: not thread.is_alive(), "the release gave up")
    assert len(reader.entries) == 100  # a query still reading it found it whole
