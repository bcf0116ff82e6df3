"""What the audit-trail tests share: the server's key and a sealed log of five lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from relgraph.api.audit import AuditLog
from relgraph.api.audit_key import AuditKey

KEY = AuditKey(b"the-servers-audit-key-0123456789abcdef", "test")


@pytest.fixture
def log(tmp_path: Path) -> Path:
    """A log of five sealed lines, anchored."""
    audit = AuditLog(tmp_path / "audit.log", KEY)
    for i in range(5):
        audit.append(key_id="k_1", role="analyst", operation=f"op{i}", ids=[f"P{i}"], outcome="ok")
    return audit.path


def _anchor(log: Path) -> Path:
    return log.with_suffix(".anchor")
