"""The audit trail's secret: an HMAC-SHA256 key the data directory's writer cannot read.

From ``RELGRAPH_AUDIT_KEY`` or ``RELGRAPH_AUDIT_KEY_FILE`` (mode 0600, and in production
outside the data directory). Outside production a key is generated once into
``<data-dir>/audit-key``: a demo or a test gets a working trail, but whoever can write the
data directory can read that key and forge the log, so the server says so in its log.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import secrets
import stat
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from relgraph.config import AuditSettings, ConfigError

log = logging.getLogger("relgraph.api")

MIN_KEY_CHARS = 32
"""A key shorter than this is refused: the MACs are only as strong as the key."""
GENERATED_KEY_FILE = "audit-key"
TEXT_MAC_PURPOSE = b"relgraph-search-text"
"""The purpose of a client text's MAC (``searched_hmac``, ``tried_hmac``): one recipe for
both, so one computation answers "did any key try this id number"."""

_warned: set[Path] = set()


@dataclass(frozen=True)
class AuditKey:
    """The key and where it came from (``source`` is safe to print; ``secret`` never is)."""

    secret: bytes = field(repr=False)
    source: str

    def mac(self, purpose: bytes, body: bytes) -> str:
        """HMAC-SHA256 of ``body``; ``purpose`` keeps a line's MAC from passing as an anchor's."""
        return hmac.new(self.secret, purpose + b"\0" + body, hashlib.sha256).hexdigest()

    def text_mac(self, text: str) -> str:
        """What an audit line keeps of a text a client sent (a search, an id that named
        nothing): its HMAC, which an auditor holding the key recomputes from a suspect."""
        return self.mac(TEXT_MAC_PURPOSE, text.encode("utf-8"))

    def derived(self, purpose: bytes) -> bytes:
        """A key of its own for ``purpose`` (the cursors'), from which this one cannot be
        recovered: what is made with it can never pass as an audit MAC."""
        return hmac.digest(self.secret, b"relgraph-derived\0" + purpose, "sha256")

    @cached_property  # one HMAC per key, not per anchor written or read
    def key_id(self) -> str:
        """Names the key in the anchor, so `verify` can tell a wrong key from a forgery."""
        return "a_" + self.mac(b"relgraph-audit-key-id", b"")[:12]


def load_audit_key(
    settings: AuditSettings, data_dir: Path, *, production: bool, generate: bool = True
) -> AuditKey:
    """The configured key; outside production the generated one (made if ``generate``).

    Raises
    ------
    ConfigError
        No key in production, a key file that is unreadable, too open or (in
        production) inside the data directory, or a key that is too short.
    """
    if settings.key:
        return AuditKey(_checked(settings.key, "RELGRAPH_AUDIT_KEY"), "RELGRAPH_AUDIT_KEY")
    if settings.key_file is not None:
        return _from_file(settings.key_file, data_dir, production=production)
    if production:
        raise ConfigError(
            "no audit key in production: set RELGRAPH_AUDIT_KEY or RELGRAPH_AUDIT_KEY_FILE "
            "(a file outside the data directory, mode 600)"
        )
    path = Path(data_dir) / GENERATED_KEY_FILE
    if not path.exists():
        if not generate:
            raise ConfigError(
                "no audit key: set RELGRAPH_AUDIT_KEY or RELGRAPH_AUDIT_KEY_FILE to the "
                "key the server used"
            )
        _generate(path)
    key = _from_file(path, data_dir, production=False, name="the generated audit key")
    if path.resolve() not in _warned:
        _warned.add(path.resolve())
        log.warning(
            "audit trail sealed with a generated key in %s: anyone who can write the data "
            "directory can forge the log; set RELGRAPH_AUDIT_KEY_FILE in production",
            path,
        )
    return AuditKey(key.secret, f"generated key {path}")


def _generate(path: Path) -> None:
    """Write a new key to ``path`` whole or not at all: a key file a full disk (or a kill)
    left empty refused every later start as too short, the log not yet begun."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        # A link, not a rename: when another process made the key meanwhile, theirs stays.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    except OSError as exc:
        raise ConfigError(
            f"cannot write the generated audit key {path}: {exc.strerror or exc}; free disk "
            f"space in {path.parent}, then start again"
        ) from exc
    finally:
        tmp.unlink(missing_ok=True)


def _from_file(
    path: Path, data_dir: Path, *, production: bool, name: str = "RELGRAPH_AUDIT_KEY_FILE"
) -> AuditKey:
    try:
        mode = path.stat().st_mode
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{name}: cannot read {path}: {exc}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{name} {path} can be read by group or others: run `chmod 600 {path}`")
    if production and _inside(path, data_dir):
        raise ConfigError(
            f"{name} {path} is inside the data directory {data_dir}: whoever can write "
            "the data directory could read it and forge the log; keep it elsewhere"
        )
    return AuditKey(_checked(text.strip(), f"{name} {path}"), f"{name} {path}")


def _checked(key: str, source: str) -> bytes:
    if len(key) < MIN_KEY_CHARS:
        raise ConfigError(f"{source}: the audit key must be at least {MIN_KEY_CHARS} characters")
    return key.encode("utf-8")


def _inside(path: Path, directory: Path) -> bool:
    return Path(path).resolve().is_relative_to(Path(directory).resolve())
