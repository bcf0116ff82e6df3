"""Driver runners that stop a real-Neo4j run at a chosen statement: how the tests hold two
runs against one store in a known order (two writers, a waiter, a lock taken away)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any

import pandas as pd

from relgraph.store.runner import DriverRunner


class PausingRunner:
    """A driver runner that sets ``reached`` when it first runs ``signal_at``, and stops
    before ``pause_before`` until ``resume`` is set (or ``wait`` seconds pass)."""

    def __init__(
        self,
        inner: DriverRunner,
        *,
        pause_before: str = "",
        signal_at: str = "",
        resume: threading.Event | None = None,
        reached: threading.Event | None = None,
        wait: float = 0.0,
    ) -> None:
        self.inner, self.pause_before, self.signal_at = inner, pause_before, signal_at
        self.resume, self.reached, self.wait = resume, reached, wait

    def run(
        self,
        statement: str,
        params: Mapping[str, Any] | None = None,
        *,
        operation: str,
        write: bool = False,
    ) -> pd.DataFrame:
        # Said before the pause: a run paused at the statement it signals tells it is there.
        if statement == self.signal_at and self.reached is not None:
            self.reached.set()
        if statement == self.pause_before and self.resume is not None:
            self.resume.wait(self.wait)
        return self.inner.run(statement, params, operation=operation, write=write)

    def hold(
        self, statement: str, params: Mapping[str, Any] | None = None, *, operation: str
    ) -> AbstractContextManager[None]:
        return self.inner.hold(statement, params, operation=operation)

    def close(self) -> None:
        self.inner.close()


class PausedRunner(PausingRunner):
    """A runner that sets ``reached`` and then waits for ``resume`` (at most two minutes)
    before it runs ``statement``: a run paused while it holds the store lock."""

    def __init__(self, inner: DriverRunner, statement: str) -> None:
        self.reached, self.resume = threading.Event(), threading.Event()
        super().__init__(inner, pause_before=statement, signal_at=statement,
                         resume=self.resume, reached=self.reached, wait=120)  # fmt: skip
