"""`relgraph demo` without configured keys: the explorer's address and a working key per role."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from relgraph.api.audit_key import AuditKey
from relgraph.api.auth import KeyRing, Role
from relgraph.cli import serving
from relgraph.config import Settings


def test_demo_prints_the_explorer_and_a_key_for_each_role(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("RELGRAPH_API_KEYS", raising=False)
    monkeypatch.delenv("RELGRAPH_API_KEYS_FILE", raising=False)
    served: list[KeyRing] = []
    monkeypatch.setattr(
        serving, "serve_api", lambda _settings, _host, _port, keys: served.append(keys)
    )
    serving._demo_serve(Settings.from_env().with_overrides(data_dir=data_dir), "127.0.0.1", 8123)
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8123/explore" in out
    printed = dict(
        re.findall(r"^\s+(analyst|campaign|risk|admin|ingest)\s+(\S+)$", out, re.MULTILINE)
    )
    assert set(printed) == {role.value for role in Role}
    assert len(set(printed.values())) == len(Role), "each role has its own key"
    (unnamed,) = served
    keys = unnamed.named_with(AuditKey(b"k" * 32, "test"))  # as the served state names them
    for role, key in printed.items():
        principal = keys.authenticate(f"Bearer {key}")
        assert principal is not None
        assert principal.role is Role(role)
