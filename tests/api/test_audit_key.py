"""Where the audit key may come from, and the single-server lock."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from relgraph.api.audit_key import load_audit_key
from relgraph.api.locks import LockedError, hold_serve_lock
from relgraph.config import AuditSettings, ConfigError, Settings

SECRET = "a-deployment-audit-key-0123456789abcdef"


def _key_file(path: Path, mode: int = 0o600, text: str = SECRET) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")
    path.chmod(mode)
    return path


def test_production_without_a_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no audit key in production: set RELGRAPH_AUDIT_KEY"):
        load_audit_key(AuditSettings(), tmp_path / "data", production=True)


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = _key_file(tmp_path / "secrets" / "audit.key", 0o640)
    with pytest.raises(ConfigError, match="can be read by group or others: run `chmod 600"):
        load_audit_key(AuditSettings(key_file=path), tmp_path / "data", production=False)


def test_a_key_file_in_the_data_directory_is_refused_in_production(tmp_path: Path) -> None:
    path = _key_file(tmp_path / "data" / "audit.key")
    with pytest.raises(ConfigError, match="inside the data directory"):
        load_audit_key(AuditSettings(key_file=path), tmp_path / "data", production=True)
    # Outside production (a demo) it is accepted.
    assert load_audit_key(AuditSettings(key_file=path), tmp_path / "data", production=False)


def test_a_short_key_is_refused_without_printing_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least 32 characters") as error:
        load_audit_key(AuditSettings(key="short-secret"), tmp_path, production=True)
    assert "short-secret" not in str(error.value)


def test_env_and_file_give_the_same_key(tmp_path: Path) -> None:
    path = _key_file(tmp_path / "secrets" / "audit.key")
    from_env = load_audit_key(AuditSettings(key=SECRET), tmp_path / "data", production=True)
    from_file = load_audit_key(AuditSettings(key_file=path), tmp_path / "data", production=True)
    assert from_env.key_id == from_file.key_id
    assert SECRET not in repr(from_env)


def test_settings_read_the_audit_variables(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"RELGRAPH_AUDIT_KEY_FILE": "/etc/relgraph/audit.key", "RELGRAPH_AUDIT_ANCHOR": "/a/x"}
    )
    assert settings.audit == AuditSettings(
        key_file=Path("/etc/relgraph/audit.key"), anchor=Path("/a/x")
    )
    with pytest.raises(ConfigError, match="not both"):
        Settings.from_env({"RELGRAPH_AUDIT_KEY": SECRET, "RELGRAPH_AUDIT_KEY_FILE": "/k"})


def test_outside_production_a_key_is_generated_once_and_said_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "relgraph.api"):
        first = load_audit_key(AuditSettings(), tmp_path, production=False)
        again = load_audit_key(AuditSettings(), tmp_path, production=False)
    assert first.key_id == again.key_id
    assert (tmp_path / "audit-key").stat().st_mode & 0o777 == 0o600
    warnings = [r.getMessage() for r in caplog.records if "generated key" in r.getMessage()]
    assert len(warnings) == 1
    assert "can forge the log" in warnings[0]
    assert first.secret.decode() not in caplog.text


def test_verify_never_generates_a_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no audit key"):
        load_audit_key(AuditSettings(), tmp_path, production=False, generate=False)
    assert not (tmp_path / "audit-key").exists()


def test_a_second_serve_lock_on_one_data_directory_is_refused(tmp_path: Path) -> None:
    fd = hold_serve_lock(tmp_path)
    try:
        with pytest.raises(LockedError, match=f"pid {os.getpid()}.*another --data-dir"):
            hold_serve_lock(tmp_path)
    finally:
        os.close(fd)
    os.close(hold_serve_lock(tmp_path))  # free again once the holder is gone


def _serve(data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("RELGRAPH_")}
    return subprocess.run(
        [sys.executable, "-m", "relgraph.cli", "serve", "--data-dir", str(data_dir),
         "--port", "1"],
        env={**base, "RELGRAPH_API_KEYS": "analyst:an-analyst-key-0123456789", **env},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_a_second_server_on_a_data_directory_refuses_to_start(data_dir: Path) -> None:
    fd = hold_serve_lock(data_dir)  # the first server
    try:
        result = _serve(data_dir)
    finally:
        os.close(fd)
    assert result.returncode == 2
    assert "another `relgraph serve`" in " ".join(result.stderr.split())


def test_production_serve_without_an_audit_key_refuses_to_start(data_dir: Path) -> None:
    result = _serve(data_dir, RELGRAPH_ENV="production")
    assert result.returncode == 2
    assert "no audit key in production" in " ".join(result.stderr.split())


def test_a_key_the_full_disk_refuses_leaves_no_empty_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The key file was created, then its write refused: the empty file stayed, and every
    # later start was refused ("the audit key must be at least 32 characters").
    real = os.fsync

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(ConfigError) as refused:
        load_audit_key(AuditSettings(), tmp_path, production=False)
    assert str(refused.value) == (
        f"cannot write the generated audit key {tmp_path / 'audit-key'}: No space left on "
        f"device; free disk space in {tmp_path}, then start again"
    )
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(os, "fsync", real)
    key = load_audit_key(AuditSettings(), tmp_path, production=False)  # space freed
    assert len(key.secret) == 64


def test_the_serve_lock_is_held_though_the_full_disk_refuses_its_pid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Was: a traceback at start; the pid only names the holder in a second server's refusal.
    import relgraph.api.locks as locks

    def full_disk(fd: int, data: bytes, offset: int) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(locks.os, "pwrite", full_disk)
    fd = hold_serve_lock(tmp_path)
    monkeypatch.undo()
    try:
        with pytest.raises(LockedError, match=r"another process.*another --data-dir"):
            hold_serve_lock(tmp_path)
    finally:
        os.close(fd)
