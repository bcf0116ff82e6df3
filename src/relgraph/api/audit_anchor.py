"""The audit log's anchor: its line count, last MAC and size, sealed with the audit key.

The chain alone cannot show lines cut off its end, nor a log replaced wholesale; the
anchor can, because nobody without the key can write one that verifies. It is rewritten
whole on each append (temporary file, fsync, rename), so a reader sees the old anchor or
the new one, never half of each.
"""

from __future__ import annotations

import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path

from relgraph.api.audit_key import AuditKey

GENESIS = "0" * 64
"""The ``prev`` of the first line, and the head of an empty log."""
VERSION = 1
_PURPOSE = b"relgraph-audit-anchor"


class AnchorError(Exception):
    """The anchor is unreadable or not sealed by the key; the message says which.

    ``kind`` is ``malformed``, ``wrong_key`` or ``forged``.
    """

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Anchor:
    """Where the log ended at its last append."""

    key_id: str
    lines: int
    head: str
    """The MAC of the last line (``GENESIS`` for an empty log)."""
    size: int
    """The log's length in bytes after the last line."""
    last_offset: int
    """Where the last line starts, so a restart reads only that line."""

    @classmethod
    def empty(cls, key: AuditKey) -> Anchor:
        return cls(key.key_id, 0, GENESIS, 0, 0)

    def _fields(self) -> dict[str, object]:
        # Spelled out rather than dataclasses.asdict, which deep-copies every field: this
        # runs on every audit commit.
        return {
            "v": VERSION,
            "key_id": self.key_id,
            "lines": self.lines,
            "head": self.head,
            "size": self.size,
            "last_offset": self.last_offset,
        }

    def _body(self) -> bytes:
        return json.dumps(self._fields(), sort_keys=True, separators=(",", ":")).encode()


def default_anchor(log_path: Path) -> Path:
    return Path(log_path).with_suffix(".anchor")


def write_anchor(path: Path, key: AuditKey, anchor: Anchor) -> None:
    """Replace the anchor atomically and durably (temp file, fsync, rename)."""
    sealed = {**anchor._fields(), "mac": key.mac(_PURPOSE, anchor._body())}
    data = (json.dumps(sealed, sort_keys=True) + "\n").encode()
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, path)


def read_anchor(path: Path, key: AuditKey) -> Anchor:
    """The anchor at ``path``, checked against ``key``.

    Raises
    ------
    FileNotFoundError
        No anchor.
    AnchorError
        Not an anchor, sealed by another key (``wrong key``), or forged.
    """
    raw = path.read_bytes()[:4096]  # an anchor is ~250 bytes: a huge file is not one
    try:
        fields = json.loads(raw)
        mac = fields.pop("mac")
        version = fields.pop("v")
        anchor = Anchor(**fields)
        if version != VERSION or not all(
            isinstance(getattr(anchor, n), int) for n in ("lines", "size", "last_offset")
        ):
            raise TypeError
    except (ValueError, TypeError, KeyError, AttributeError):
        raise AnchorError(
            f"the anchor {path} is not a relgraph audit anchor: forged or damaged", "malformed"
        ) from None
    if anchor.key_id != key.key_id:
        raise AnchorError(
            f"wrong key: the anchor {path} was sealed with audit key {anchor.key_id}, not "
            f"with the key given ({key.key_id}); or the log and anchor were replaced",
            "wrong_key",
        )
    if not isinstance(mac, str) or not hmac.compare_digest(mac, key.mac(_PURPOSE, anchor._body())):
        raise AnchorError(
            f"the anchor {path} was forged or altered: its seal does not match the key", "forged"
        )
    return anchor
