"""Freeing what a refresh replaced a part at a time, off the payments' path.

Freed at once, by reference counting, the old read model and live scoring held the
interpreter lock for the whole of it: 0.25-0.55 s at 100,000 customers (the model's
dictionaries and search index, the live index's per-account lists), during which no
payment was answered; ten times that at a million. A thread takes them apart instead,
a few thousand entries at a time, yielding the lock between slices.

Only what this thread alone holds is taken apart (its reference count says so): anything
another thread or object still reads (a query on the old model, the shared scoring pool,
an array another array views) is dropped whole and freed, as before, by whoever lets go
last. Arrays and other objects without a ``__dict__`` are dropped whole.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Final

from relgraph.api import memory

SLICE: Final = 2_000
"""Entries dropped between two yields of the interpreter lock."""

DEPTH: Final = 4
"""How deep the parts are taken apart: the live scoring, its index, the index's per-account
map, an account's lists."""

WAIT_SECONDS: Final = 60.0
"""How long the thread waits for the requests still reading the old objects to end; past
it, it lets go and they are freed at once by the last one."""

_ALONE: Final = 2
"""``sys.getrefcount`` of an object only a local name holds (the call's own argument too)."""


def release_gradually(box: list[object]) -> threading.Thread:
    """Free the object ``box`` holds (its caller keeps no other reference) a part at a time,
    in a daemon thread, once nothing else holds it; the thread is returned, started."""
    thread = threading.Thread(target=_release, args=(box,), name="relgraph-release", daemon=True)
    thread.start()
    return thread


def _release(box: list[object]) -> None:
    held = box.pop()
    deadline = time.monotonic() + WAIT_SECONDS
    while sys.getrefcount(held) > _ALONE and time.monotonic() < deadline:
        time.sleep(0.05)
    if sys.getrefcount(held) == _ALONE:
        _take_apart(held, 0, [0])
        del held
        # What was freed in the middle of the C heap stays resident otherwise.
        memory.give_back()


def _take_apart(held: object, depth: int, count: list[int]) -> None:
    """Drop ``held``'s entries one by one (recursing into those held only here), yielding
    the interpreter lock every :data:`SLICE` of them (``count``: those since the last)."""
    if isinstance(held, list):
        while held:
            n = min(len(held), SLICE)
            del held[-n:]
            _dropped(count, n)
        return
    if isinstance(held, dict):
        entries = held
    elif hasattr(held, "__dict__"):
        entries = vars(held)
    else:
        return
    while entries:
        _key, value = entries.popitem()
        del _key
        if depth < DEPTH and sys.getrefcount(value) == _ALONE:
            _take_apart(value, depth + 1, count)
        del value
        _dropped(count, 1)


def _dropped(count: list[int], n: int) -> None:
    count[0] += n
    if count[0] >= SLICE:
        count[0] = 0
        time.sleep(0)  # the payments waiting for the interpreter lock run
