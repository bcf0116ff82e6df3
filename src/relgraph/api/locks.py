"""File locks that keep the audit chain single-file: one server per data directory,
and one append at a time across every process that writes the log.

Two locks, because they guard different things. ``serve.lock`` is held by a server for
its whole life: a second ``serve`` on the same data directory would keep its own idea
of where the chain ends. ``<log>.lock`` is held only around each append (by the server
and by CLI commands that audit, such as ``relgraph audience``), so the CLI can audit
while a server runs: each append re-reads the chain's head from the anchor under it.
"""

from __future__ import annotations

import errno
import fcntl
import functools
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SERVE_LOCK = "serve.lock"
APPEND_WAIT_SECONDS = 5.0
"""How long an append waits for another process's append before giving up (a 503)."""


class LockedError(Exception):
    """Another process holds the lock; the message says which and what to do."""


def hold_serve_lock(data_dir: Path) -> int:
    """Take the single-server lock on ``data_dir`` and keep it (returns the open fd).

    The kernel drops it when the process exits, however it exits.
    """
    path = Path(data_dir) / SERVE_LOCK
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "another process"
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise LockedError(
                f"another `relgraph serve` (pid {holder}) is serving {data_dir}: two servers "
                "on one data directory would fork the audit chain; stop it, or use another "
                "--data-dir"
            ) from None
        raise
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except OSError:
        # A full disk: the lock is held all the same, and the pid only names the holder in
        # a second server's refusal. The server starts and answers 503 until there is room.
        pass
    return fd


@contextmanager
def append_lock(log_path: Path, wait: float = APPEND_WAIT_SECONDS) -> Iterator[None]:
    """Hold ``<log>.lock`` exclusively while the body runs."""
    path = _lock_path(Path(log_path))
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LockedError(
                        f"another process has held {path} for over {wait:.0f} s"
                    ) from None
                time.sleep(0.002)
        yield
    finally:
        os.close(fd)  # closing the last descriptor releases the lock


@functools.lru_cache(maxsize=64)  # per log, not per append: path arithmetic is not free
def _lock_path(log_path: Path) -> Path:
    return log_path.with_name(log_path.name + ".lock")
