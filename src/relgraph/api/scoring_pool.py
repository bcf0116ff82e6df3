"""The server's scoring processes: ``RELGRAPH_SCORING_PROCESSES``.

A daytime request's verdicts are a scan of some tens of thousands of rows (merchants'
months of takings), which runs on one core; :mod:`relgraph.analytics.layering.parallel`
splits a large one over worker processes. One pool per server process, shared by every
live index it builds (the workers hold no state), started with the first one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping

from relgraph.analytics.layering.parallel import ScoringPool
from relgraph.config import ConfigError

ENV = "RELGRAPH_SCORING_PROCESSES"
MAX_PROCESSES = 16
DEFAULT_MAX = 4
"""The default's cap: one worker was measured (2 cores, RESULTS.md); each worker holds
170–260 MB, and a request's union is split no finer than 2,000 rows a group anyway."""

_POOL: ScoringPool | None = None
_LOCK = threading.Lock()


def scoring_processes(environ: Mapping[str, str] | None = None) -> int:
    """Worker processes beside the server's own (default: one fewer than the cores, at
    most :data:`DEFAULT_MAX`; set, up to :data:`MAX_PROCESSES`; 0 scores everything in
    the server process).

    >>> scoring_processes({ENV: "3"}), scoring_processes({ENV: "0"})
    (3, 0)
    """
    env = os.environ if environ is None else environ
    raw = env.get(ENV, "").strip()
    if not raw:
        return max(0, min((os.cpu_count() or 1) - 1, DEFAULT_MAX))
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_PROCESSES:
        raise ConfigError(
            f"{ENV} must be a whole number from 0 to {MAX_PROCESSES} (worker processes "
            f"that score large requests; 0: none), not {raw[:40]!r}"
        )
    return value


def shared_pool() -> ScoringPool | None:
    """This process's pool (None when ``RELGRAPH_SCORING_PROCESSES`` is 0), its workers
    started."""
    global _POOL
    with _LOCK:
        if _POOL is None or _POOL.processes != scoring_processes():
            if _POOL is not None:
                _POOL.reset()
            processes = scoring_processes()
            _POOL = ScoringPool(processes) if processes else None
            if _POOL is not None:
                _POOL.warm()
        return _POOL


def close_shared_pool() -> None:
    """Stop this process's pool and wait for its workers (a server stopping)."""
    global _POOL
    with _LOCK:
        pool, _POOL = _POOL, None
    if pool is not None:
        pool.reset(wait=True)
