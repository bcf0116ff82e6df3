"""Running the API: build the read model beside a live server, serve it with uvicorn.

The server answers ``/healthz`` at once and ``/readyz`` once the projection is built.
SIGHUP rebuilds the read model from the store beside the old one and swaps them, so
no request sees half of each; SIGTERM stops accepting and lets in-flight requests finish.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Final

import uvicorn

from relgraph.api import memory
from relgraph.api.app import ServiceState, create_app, default_state
from relgraph.api.audit import open_audit_log
from relgraph.api.auth import KeyRing
from relgraph.api.cursor_keys import CURSOR_KEY_PURPOSE
from relgraph.api.id_misses import budget as id_miss_budget
from relgraph.api.live_build import first_live, swap_live
from relgraph.api.locks import hold_serve_lock
from relgraph.api.ratelimit import RateLimiter
from relgraph.api.readmodel import build_read_model
from relgraph.api.scoring_pool import close_shared_pool
from relgraph.config import AuditSettings, ConfigError, Settings
from relgraph.journal import JournalError
from relgraph.store.base import Store, StoreError, StoreInUseError, StoreUnreachableError

log = logging.getLogger("relgraph.api")


SWITCH_INTERVAL = 0.001
"""Seconds a Python thread runs before handing the interpreter lock to a waiting one."""

BUILD_SWITCH_INTERVAL = 0.0001
"""The same while a build runs (:func:`building`)."""

RETRY_SECONDS = 15.0
"""How long a server whose store cannot be read waits before trying again."""


def load_model(state: ServiceState, open_store: Callable[[], Store]) -> bool:
    """Build the read model from the store and swap it in; record the error if it fails."""
    with building():
        return _load_model(state, open_store)


def _load_model(state: ServiceState, open_store: Callable[[], Store]) -> bool:
    try:
        with open_store() as store:
            # Keyed by the audit key, which every server of a deployment holds: the servers
            # behind one address, and this one after a restart, take each other's cursors
            # while they serve the same graph.
            model = build_read_model(store, state.audit.key.derived(CURSOR_KEY_PURPOSE))
        if state.reviews is not None:
            state.reviews.reload()  # decisions another writer appended since
    except (StoreError, OSError, JournalError) as exc:
        state.error = str(exc)
        state.passing_failure = _passing(exc)
        log.error("%s: %s", _unbuilt(state), exc)
        return False
    except Exception as exc:
        state.error = f"unexpected error while building the graph: {exc}"
        log.exception(_unbuilt(state))
        return False
    state.passing_failure = None
    first = state.model is None
    if state.data_dir is not None:
        try:
            # The live index and the journal's replay, before the first transfer is sent.
            # On the first build the model is published only after them (and after the
            # heap is settled), so /readyz does not say ready while the first transfer
            # would still wait ~1 s for them; nothing can hold a live index before that.
            # A refresh builds the new index beside the old one, which takes the payments
            # meanwhile, and publishes the model with it (swap_live).
            if first:
                first_live(state, model)
            else:
                swap_live(state, model)
        except Exception:
            log.exception("cannot build the live index; transfers will be refused")
    if not first:
        state.model = model
        state.error = None
    settle_heap(full=first)
    if first:
        # What the build freed in the middle of the C heap stays resident otherwise (150-204
        # MiB at 100,000 customers, a 7-10 ms trim; RESULTS.md). Before ready, so no payment
        # waits on it; a refresh's release thread trims after freeing the old generation.
        memory.give_back()
        state.model = model
        state.error = None
    log.info("graph ready: %s nodes", f"{sum(model.stats['nodes'].values()):,}")
    return True


def _passing(exc: Exception) -> str | None:
    """What a build's failure is, when it passes without anyone doing anything (the writer
    holding the store finishes; the Neo4j server that was stopped or restarting is back)."""
    if isinstance(exc, StoreInUseError):
        return "the store is in use"
    if isinstance(exc, StoreUnreachableError):
        return "the store's server does not answer"
    return None


def _unbuilt(state: ServiceState) -> str:
    """What a failed build means for the requests: none served yet, or the old graph kept
    (a log reader must not take a refresh that met a running load for a server down)."""
    if state.model is None:
        return "cannot build the graph"
    return "refresh failed, still serving the graph built before it (/readyz says why)"


class Rebuilder:
    """Single-flight rebuilds: one at a time; asks during a build coalesce into one more.

    Every build reads the store when it starts, and builds never overlap, so the model
    swapped in last is always from the newest read: an older build cannot finish after a
    newer one and put the old graph back. SIGHUP storms and repeated ``refresh`` calls cost
    at most one build beyond the one running.

    A build that failed for a reason that passes by itself (``passing()`` names it: another
    process held the store, a refresh sent while ``analyze`` writes; the Neo4j server did
    not answer, stopped or restarting) is tried again every ``retry_seconds`` until it
    succeeds or fails otherwise, so the server takes the new results once the writer is
    done, or the server back, instead of serving the old graph (and ``/readyz`` the old
    error) until someone refreshes again.
    """

    def __init__(
        self,
        build: Callable[[], bool],
        passing: Callable[[], str | None] = lambda: None,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self._build = build
        self._passing = passing
        self._retry_seconds = retry_seconds
        self._stop = threading.Event()
        self._flight = threading.Lock()
        """Held while a build runs."""
        self._state = threading.Lock()
        self._pending = False
        self._worker: threading.Thread | None = None

    def request(self) -> None:
        """Start a build in the background, or note one more after the running one."""
        with self._state:
            self._pending = True
            if self._worker is not None and self._worker.is_alive():
                return
            self._worker = threading.Thread(target=self._drain, daemon=True)
            self._worker.start()

    def build_now(self) -> bool:
        """Build in this thread (after any build in flight); True if the model was swapped."""
        with self._flight:
            return self._build()

    def wait(self, timeout: float | None = None) -> None:
        """Until the background builds asked for so far are done (for tests and shutdown)."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)

    def stop(self) -> None:
        """No more retries (the server is stopping)."""
        self._stop.set()

    def _drain(self) -> None:
        while True:
            with self._state:
                if not self._pending:
                    self._worker = None
                    return
                self._pending = False
            if self.build_now() or (why := self._passing()) is None:
                continue
            log.warning("%s: trying the refresh again in %.0f s", why, self._retry_seconds)
            if self._stop.wait(self._retry_seconds):
                return
            with self._state:
                self._pending = True


@contextlib.contextmanager
def building() -> Iterator[None]:
    """While a build runs: no automatic full garbage collection (the young ones go on), and
    the interpreter lock handed over every :data:`BUILD_SWITCH_INTERVAL`.

    The collector runs a full pass whenever the objects that reached its oldest generation
    since the last one grow by a quarter: a build making a live index (735,000 objects at
    100,000 customers) set off 5-9 of them, each walking the half-built index with the
    interpreter lock held, 190-370 ms at 100,000 customers, during which no payment was
    answered. What the build leaves is settled once after it (:func:`settle_heap`).
    Cyclic garbage that lived through two young collections meanwhile waits for that
    settle: a full collection at the first build, frozen with the rest at a refresh.

    A build holds the interpreter lock between the calls that let go of it, for a whole
    switch interval when another thread waits. A payment scored meanwhile lets go of it at
    each numpy call and system call, and waited up to an interval each time to get it back:
    at 100,000 customers and 1 ms, 0.5-1.2 s for a verdict of ~20 ms, all of it in scoring.
    At 0.1 ms the payments' p99 over a refresh fell from 281-511 ms to 225-294 ms (six
    refreshes each; benchmarks/RESULTS.md) and the refresh took no longer. Outside builds
    the server's own interval holds: lower everywhere, it did not help a steady stream.
    """
    global _building, _threshold, _switch
    with _building_lock:
        if _building == 0:
            _threshold = gc.get_threshold()
            # The oldest generation's threshold counts young-generation passes; past it a
            # full pass runs (when the quarter rule agrees): never, meanwhile.
            gc.set_threshold(_threshold[0], _threshold[1], _NEVER)
            _switch = sys.getswitchinterval()
            sys.setswitchinterval(min(_switch, BUILD_SWITCH_INTERVAL))
        _building += 1
    try:
        yield
    finally:
        with _building_lock:
            _building -= 1  # builds in two threads may overlap (in tests)
            if _building == 0:
                gc.set_threshold(*_threshold)
                sys.setswitchinterval(_switch)


_NEVER: Final = 2**31 - 1
_building_lock = threading.Lock()
_building = 0
_threshold = gc.get_threshold()
_switch = sys.getswitchinterval()


def settle_heap(*, full: bool = True) -> None:
    """Keep the read model and the live index out of the garbage collector's full passes.

    They are a million long-lived objects at 100,000 customers; every full collection walked
    them all (~70 ms holding the interpreter lock on a 5,000-customer bank, more on larger
    ones), stalling every request whenever a heavy query's garbage set one off. Frozen
    objects are skipped (and still freed by reference counting).

    ``full``: collect everything first, frozen objects included (the first build, before
    the server is ready). A refresh only freezes what it built, after a collection of the
    young generations: the full pass walked the old and the new model and index, 0.8-2.2 s
    at 100,000 customers during which no payment was answered. The old ones need no
    collection: nothing of theirs is in a reference cycle (the live scoring's journal writer
    holds it weakly, :func:`.audit_commit.weak_write`), so they are freed by reference
    counting as the last request using them ends. Cyclic garbage made since the last
    automatic full pass and still in the oldest generation is frozen with them (none was
    found at a refresh at 100,000 customers; benchmarks/RESULTS.md).
    """
    if full:
        gc.unfreeze()
        gc.collect()
    else:
        gc.collect(1)
    gc.freeze()


def keep_trying(
    state: ServiceState,
    open_store: Callable[[], Store],
    retry_seconds: float = RETRY_SECONDS,
    stop: threading.Event | None = None,
    rebuilder: Rebuilder | None = None,
) -> None:
    """Load the model, and while the store cannot be read keep retrying: a database that
    comes back makes the API ready without a restart (``/readyz`` says why until then)."""
    stop = stop or threading.Event()
    rebuilder = rebuilder or Rebuilder(lambda: load_model(state, open_store))
    while not rebuilder.build_now() and state.model is None:
        if stop.wait(retry_seconds):
            return


def serve(
    open_store: Callable[[], Store],
    store_kind: str,
    data_dir: Path,
    host: str,
    port: int,
    keys: KeyRing,
    *,
    production: bool,
    audit: AuditSettings | None = None,
    search_rate: int = Settings.search_rate,
    id_misses: int = Settings.id_misses,
) -> None:
    """Serve until SIGTERM/SIGINT; ``open_store`` opens the store read-only for each build.

    Raises
    ------
    LockedError
        Another server holds ``data_dir`` (two would fork the audit chain).
    relgraph.config.ConfigError
        No usable audit key (production needs one; see ``audit_key``), or ``host:port``
        cannot be bound (in use).
    AuditError
        The audit log and its anchor disagree.
    JournalError
        The journal (alert decisions) is damaged.
    """
    hold_serve_lock(data_dir)  # held until the process exits
    audit_log = open_audit_log(data_dir, audit or AuditSettings(), production=production)
    # The port before the graph build starts: a busy one is a clear error now, not uvicorn's
    # log line after it, with the build still in DuckDB (a hang or an abort at exit).
    sock = listening_socket(host, port)
    log.info("audit trail %s, anchor %s, key %s", audit_log.path, audit_log.anchor_path,
             audit_log.key.source)  # fmt: skip
    # Operations run in worker threads (see relgraph.api.admission); a thread waiting for the
    # interpreter lock gets it after this interval, so the event loop and light queries wait
    # at most ~1 ms per hand-over behind a heavy query instead of 5 ms.
    sys.setswitchinterval(SWITCH_INTERVAL)
    state = default_state(data_dir, keys, audit_log)
    state.store = store_kind
    state.search_limit = RateLimiter(search_rate)
    state.id_misses = id_miss_budget(id_misses)
    app = create_app(state, production=production)
    rebuilder = Rebuilder(lambda: load_model(state, open_store), lambda: state.passing_failure)
    threading.Thread(
        target=keep_trying, args=(state, open_store), kwargs={"rebuilder": rebuilder}, daemon=True
    ).start()

    def reload(_signum: int, _frame: FrameType | None) -> None:
        rebuilder.request()

    state.refresh = rebuilder.request

    signal.signal(signal.SIGHUP, reload)
    signal.signal(signal.SIGTERM, _stopped)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="info",
        access_log=False,  # no query text or PII in access logs
        timeout_graceful_shutdown=10,
    )
    uvicorn.Server(config).run(sockets=[sock])


def _stopped(signum: int, _frame: FrameType | None) -> None:
    """SIGTERM once uvicorn has shut down (it raises the signal again so that the exit status
    says why): the scoring workers are stopped and their queues' semaphores released first,
    as dying by the signal runs no exit handler (the resource tracker warned of "5 leaked
    semaphore objects" on every stop), then the process dies by the signal as before."""
    close_shared_pool()
    gc.collect()  # the closed queues' semaphores are unlinked as they are collected
    signal.signal(signum, signal.SIG_DFL)
    signal.raise_signal(signum)


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` for uvicorn to listen on.

    Raises
    ------
    relgraph.config.ConfigError
        The address is in use or cannot be bound, with what to do.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc} (another server, "
                "perhaps a `relgraph serve`, may hold the port): stop it or pass --port"
            ) from exc
        # A host that names no address of this machine (a typo, a name that does not
        # resolve, another machine's address): no other server is to blame.
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}: pass --host an address "
            "of this machine (127.0.0.1, or 0.0.0.0 for every interface)"
        ) from exc
    return sock
