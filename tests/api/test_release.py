"""What a refresh replaced is freed a part at a time (``api/release.py``): the lock is given
up between slices, and nothing another holder still reads is taken apart."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
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


_FRAGMENTED = """
from relgraph.api import memory, release

class Part:
    pass

kept, freed = [], []
for n in range(25_000):
    # 4,000 bytes each: past the interpreter's small-object allocator, from the C heap.
    (kept if n % 64 == 0 else freed).append(bytes(4_000))
old = Part()
old.blocks = freed
del freed
before = memory.resident()
thread = release.release_gradually([old])
del old
thread.join(30)
print(before - memory.resident(), len(kept))
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_what_the_release_freed_between_blocks_that_stay_goes_back_to_the_system() -> None:
    # ~98 MB freed in 252 KB holes between the kept blocks: glibc gives back only its
    # heap's free top by itself, so without a trim the process's resident set stays.
    done = subprocess.run(
        [sys.executable, "-c", _FRAGMENTED], capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}, timeout=120,
    )  # fmt: skip
    given_back, kept = (int(x) for x in done.stdout.split())
    assert kept == 391
    assert given_back > 60_000_000, f"only {given_back:,} bytes given back"
