"""Which live scoring a request uses, and building one: on first use, after a failed
journal write dropped it, and beside the old one on a refresh.

A refresh used to swap the model first and build the new live index after it: from the
swap on, every payment waited for the whole build (52 s at a million customers). Now
the new index is built while the old one keeps taking batches; then, briefly, the old
one is retired (no new batch; its queued journal writes end), the new one applies what
the journal gained meanwhile (:meth:`.live.LiveScoring.catch_up`), and both the model and
the live scoring are swapped. Two live indexes then coexist for the build: when the
machine's available memory cannot hold another one the size of the old, the old one is
dropped first and payments wait for the build, as before (:func:`room_for_another`).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any, Final

from relgraph.api import memory
from relgraph.api.live import LiveScoring
from relgraph.api.release import release_gradually
from relgraph.journal import JournalError

log = logging.getLogger("relgraph.api")

_BUILD = threading.Lock()
"""Held while a live scoring is built or swapped: one build at a time."""

MEMORY_MARGIN: Final = 1.25
"""How much more than the old live scoring's footprint must be available to build the new
one beside it: the new index is a little larger (what was streamed since), and the rest of
the process must not be pushed into the kernel's out-of-memory killer."""

CATCH_UP_ROUNDS: Final = 5
"""At most this many catch-up rounds before the old live scoring is retired."""

CATCH_UP_FEW: Final = 20
"""A catch-up round that read no more journal entries than this leaves so few for the last
one, with payments paused, that no further round is worth its journal read."""


def current_live(state: Any) -> LiveScoring | None:
    """The state's live scoring when it is built over the current model and takes
    batches, else None (then :func:`live_of` builds it, off the event loop): most requests
    need no hand-off to a worker thread just to find it."""
    live: LiveScoring | None = state.live
    if live is None or live.model is not state.model or live.broken or live.retired:
        return None
    return live


def live_of(state: Any) -> LiveScoring:
    """The state's live scoring over its current model (built on first use, and again
    after a failed journal write dropped it). While a refresh builds the next one beside
    it, this is the old one, which still takes batches."""
    found = current_live(state)
    if found is not None:
        return found
    with _BUILD:
        # The model is read under the lock: one read before it could be the model a
        # refresh has just replaced, and its index would be built again over it.
        return _built(state, state.model)


def first_live(state: Any, model: Any) -> LiveScoring:
    """The live scoring over the first model, before the model is published."""
    with _BUILD:
        return _built(state, model)


def _built(state: Any, model: Any) -> LiveScoring:
    """Under :data:`_BUILD`: the live scoring over ``model``, built when there is none
    over it or it was dropped."""
    live: LiveScoring | None = state.live
    if live is not None and (live.model is not model or live.broken):
        # Every write queued on the one replaced ends first, and it takes no more: the
        # new one's replay holds each batch it recorded (a dropped one's senders were
        # told to send again: duplicates; a retired one's are answered as usual).
        live.retire()
    if live is None or live.model is not model or live.broken:
        live = LiveScoring(model, state.data_dir, state.audit, state.metrics.realtime_alert)
        state.live = live
    return live


def swap_live(state: Any, model: Any) -> None:
    """A refresh: publish ``model`` with a live scoring over it, built beside the old one
    when memory allows (payments go on meanwhile), else after dropping it (they wait).
    The model is published whatever happens (a failed build is retried on next use)."""
    try:
        with _BUILD:
            old: LiveScoring | None = state.live
            if old is None or old.broken or not room_for_another(old):
                if old is not None:
                    old.retire()
                    # Its index (and the old model, once no request reads it) can be freed
                    # before the new one is built.
                    state.live = old = None
                state.model = model
                _built(state, model)
                return
            started = time.perf_counter()
            new = LiveScoring(model, state.data_dir, state.audit, state.metrics.realtime_alert)
            paused = started
            try:
                # What the old one took during the build, in rounds while it still takes
                # payments (each round shorter than the last), the rest once it is retired.
                for _ in range(CATCH_UP_ROUNDS):
                    if new.catch_up() <= CATCH_UP_FEW:
                        break
                paused = time.perf_counter()
                old.retire()  # its writes end: from here requests wait for the lock (live_of)
                new.catch_up()
            except JournalError as exc:
                # A write failed during the build and was cut off the journal after the
                # new index read it (never acknowledged): read the journal again, now quiet.
                log.warning("refresh: %s; building it again from the journal", exc)
                old.retire()
                new = LiveScoring(model, state.data_dir, state.audit, state.metrics.realtime_alert)
            state.live = new
            state.model = model
            log.info("refresh: live index built beside the old one in %.1f s; payments paused "
                     "%.0f ms for the swap", paused - started,
                     (time.perf_counter() - paused) * 1e3)  # fmt: skip
        # Freed at once, the old index and model held the interpreter lock 0.25-0.55 s at
        # 100,000 customers right after the swap: a thread frees them a part at a time.
        release_gradually([old])
    finally:
        state.model = model


def room_for_another(live: LiveScoring, meminfo: Path = memory.MEMINFO) -> bool:
    """Whether the machine has memory for a second live index beside ``live``: its
    footprint (the growth of the process while it was built) times :data:`MEMORY_MARGIN`
    is available. Without ``/proc/meminfo`` (not Linux) or a known footprint: yes."""
    available = memory.available(meminfo)
    if available is None or live.footprint <= 0:
        return True
    needed = int(live.footprint * MEMORY_MARGIN)
    if available >= needed:
        return True
    log.warning("refresh: %.1f GB available, %.1f GB needed to build the new live index "
                "beside the old one: the old one is dropped first, and transfers wait for "
                "the build", available / 1e9, needed / 1e9)  # fmt: skip
    return False
