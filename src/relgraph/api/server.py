"""Running the API: build the read model beside a live server, serve it with uvicorn.

The server answers ``/healthz`` at once and ``/readyz`` once the projection is built.
SIGHUP rebuilds the read model from the store beside the old one and swaps them, so
no request sees half of each; SIGTERM stops accepting and lets in-flight requests finish.
"""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from types import FrameType

import uvicorn

from relgraph.api.app import ServiceState, create_app, default_state
from relgraph.api.auth import KeyRing
from relgraph.api.readmodel import build_read_model
from relgraph.store.base import StoreError
from relgraph.store.embedded import EmbeddedStore

log = logging.getLogger("relgraph.api")


def load_model(state: ServiceState, data_dir: Path) -> None:
    """Build the read model from the store and swap it in; record the error if it fails."""
    try:
        with EmbeddedStore(data_dir, read_only=True) as store:
            model = build_read_model(store)
    except (StoreError, OSError) as exc:
        state.error = str(exc)
        log.error("cannot build the graph: %s", exc)
        return
    except Exception as exc:
        state.error = f"unexpected error while building the graph: {exc}"
        log.exception("cannot build the graph")
        return
    state.model = model
    state.error = None
    log.info("graph ready: %s nodes", f"{sum(model.stats['nodes'].values()):,}")


def serve(data_dir: Path, host: str, port: int, keys: KeyRing, *, production: bool) -> None:
    """Serve until SIGTERM/SIGINT."""
    state = default_state(data_dir, keys)
    app = create_app(state, production=production)
    threading.Thread(target=load_model, args=(state, data_dir), daemon=True).start()

    def rebuild() -> None:
        threading.Thread(target=load_model, args=(state, data_dir), daemon=True).start()

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
