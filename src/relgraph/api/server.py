"""Running the API: build the read model beside a live server, serve it with uvicorn.

The server answers ``/healthz`` at once and ``/readyz`` once the projection is built.
SIGHUP rebuilds the read model from the store beside the old one and swaps them, so
no request sees half of each; SIGTERM stops accepting and lets in-flight requests finish.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import uvicorn

from relgraph.api.app import ServiceState, create_app, default_state
from relgraph.api.audit import open_audit_log
from relgraph.api.auth import KeyRing
from relgraph.api.locks import hold_serve_lock
from relgraph.api.readmodel import build_read_model
from relgraph.config import AuditSettings
from relgraph.store.base import Store, StoreError

log = logging.getLogger("relgraph.api")


RETRY_SECONDS = 15.0
"""How long a server whose store cannot be read waits before trying again."""


def load_model(state: ServiceState, open_store: Callable[[], Store]) -> bool:
    """Build the read model from the store and swap it in; record the error if it fails."""
    try:
        with open_store() as store:
            model = build_read_model(store)
    except (StoreError, OSError) as exc:
        state.error = str(exc)
        log.error("cannot build the graph: %s", exc)
        return False
    except Exception as exc:
        state.error = f"unexpected error while building the graph: {exc}"
        log.exception("cannot build the graph")
        return False
    state.model = model
    state.error = None
    log.info("graph ready: %s nodes", f"{sum(model.stats['nodes'].values()):,}")
    return True


def keep_trying(
    state: ServiceState,
    open_store: Callable[[], Store],
    retry_seconds: float = RETRY_SECONDS,
    stop: threading.Event | None = None,
) -> None:
    """Load the model, and while the store cannot be read keep retrying: a database that
    comes back makes the API ready without a restart (``/readyz`` says why until then)."""
    stop = stop or threading.Event()
    while not load_model(state, open_store) and state.model is None:
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
) -> None:
    """Serve until SIGTERM/SIGINT; ``open_store`` opens the store read-only for each build.

    Raises
    ------
    LockedError
        Another server holds ``data_dir`` (two would fork the audit chain).
    relgraph.config.ConfigError
        No usable audit key (production needs one; see ``audit_key``).
    AuditError
        The audit log and its anchor disagree.
    """
    hold_serve_lock(data_dir)  # held until the process exits
    audit_log = open_audit_log(data_dir, audit or AuditSettings(), production=production)
    log.info("audit trail %s, anchor %s, key %s", audit_log.path, audit_log.anchor_path,
             audit_log.key.source)  # fmt: skip
    state = default_state(data_dir, keys, audit_log)
    state.store = store_kind
    app = create_app(state, production=production)
    threading.Thread(target=keep_trying, args=(state, open_store), daemon=True).start()

    def rebuild() -> None:
        threading.Thread(target=load_model, args=(state, open_store), daemon=True).start()

    def reload(_signum: int, _frame: FrameType | None) -> None:
        rebuild()

    state.refresh = rebuild

    signal.signal(signal.SIGHUP, reload)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="info",
        access_log=False,  # no query text or PII in access logs
        timeout_graceful_shutdown=10,
    )
    uvicorn.Server(config).run()
