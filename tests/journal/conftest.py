"""Shared fixtures of the journal's tests."""

from __future__ import annotations

import pytest

from relgraph.journal import log


@pytest.fixture
def lines_read(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every journal line parsed from now on (clear it before the step to count)."""
    seen: list[bytes] = []
    checked = log._checked

    def counting(line: bytes) -> object:
        seen.append(line)
        return checked(line)

    monkeypatch.setattr(log, "_checked", counting)
    return seen
