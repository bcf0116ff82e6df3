"""The audit log's anchor: its line count, last MAC and size, sealed with the audit key.

The chain alone cannot show lines cut off its end, nor a log replaced wholesale; the
anchor can, because nobody without the key can write one that verifies.

The file holds two fixed slots of :data:`SLOT_BYTES` each. Every slot is one sealed
anchor with a generation number ``gen``; generation *g* is written over slot *g* mod 2,
in place (``pwrite`` + ``fdatasync``: the file keeps its size and blocks, so no rename, no
directory entry and no journal commit per move), and a reader takes the valid slot with
the higher generation. A move torn by a stop damages only the slot being written, which
held the generation before last: the other slot still names the lines the log had, and
the lines the torn move was naming were fsynced before it started. A server writes the
slot before it answers and flushes it just after (:func:`place_anchor`, :func:`sync_anchor`),
before its next lines, so at most one move is ever not yet on the device. Anchors written before
the two slots (one sealed object, ``"v": 1``) are still read; the server rewrites them in
the new form when it opens the log.
"""

from __future__ import annotations

import hmac
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

from relgraph.api.audit_key import AuditKey

GENESIS = "0" * 64
"""The ``prev`` of the first line, and the head of an empty log."""
LEGACY_VERSION = 1
"""A whole-file anchor, replaced by rename on every move (before the two slots)."""
VERSION = 2
SLOT_BYTES = 4096
"""One slot per file-system block, so a torn write of one cannot touch the other's sectors."""
FILE_BYTES = 2 * SLOT_BYTES
_PURPOSE = b"relgraph-audit-anchor"
_KIND_ORDER = ("forged", "wrong_key", "malformed")
"""When neither slot is usable, the error's kind is the first of these that either has."""


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
    gen: int = 0
    """How many times the anchor has moved; the slot with the higher one is current."""

    @classmethod
    def empty(cls, key: AuditKey) -> Anchor:
        return cls(key.key_id, 0, GENESIS, 0, 0)

    def _fields(self, version: int = VERSION) -> dict[str, object]:
        # Spelled out rather than dataclasses.asdict, which deep-copies every field: this
        # runs on every audit commit.
        fields: dict[str, object] = {
            "v": version,
            "key_id": self.key_id,
            "lines": self.lines,
            "head": self.head,
            "size": self.size,
            "last_offset": self.last_offset,
        }
        if version != LEGACY_VERSION:
            fields["gen"] = self.gen
        return fields

    def _body(self, version: int = VERSION) -> bytes:
        return json.dumps(self._fields(version), sort_keys=True, separators=(",", ":")).encode()

    def _slot(self, key: AuditKey) -> bytes:
        """This anchor sealed, as a slot: one JSON line padded with NULs to the slot size."""
        sealed = {**self._fields(), "mac": key.mac(_PURPOSE, self._body())}
        line = (json.dumps(sealed, sort_keys=True, separators=(",", ":")) + "\n").encode()
        return line.ljust(SLOT_BYTES, b"\0")


@dataclass(frozen=True)
class AnchorRead:
    """What :func:`read_anchor_file` found."""

    anchor: Anchor
    """The current anchor: the valid slot with the higher generation."""
    damaged: str | None = None
    """Why the other slot is unusable (None when both are valid)."""
    legacy: bool = False
    """The file is a whole-file anchor from before the two slots."""


def default_anchor(log_path: Path) -> Path:
    return Path(log_path).with_suffix(".anchor")


def write_anchor(path: Path, key: AuditKey, anchor: Anchor) -> os.stat_result:
    """Create or replace the whole anchor file, both slots, atomically and durably (temp
    file, fsync, rename, fsync of the directory); returns the new file's status.

    Used to start a chain and to rewrite an older anchor in the two-slot form; each commit
    moves the anchor with :func:`move_anchor` instead. Both slots hold ``anchor`` (its
    generation, at least 1, and the one before), so a fresh file has no damaged slot.
    """
    current = anchor if anchor.gen >= 1 else replace(anchor, gen=1)
    before = replace(current, gen=current.gen - 1)
    slots = [b"", b""]
    slots[current.gen % 2] = current._slot(key)
    slots[before.gen % 2] = before._slot(key)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    data = b"".join(slots)
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            # A nearly full disk takes part of a write and says so only in the count: the
            # rest is written (or refused) before the rename, or a torn anchor was put in
            # place and every later start refused the log as forged.
            written = 0
            while written < len(data):
                written += os.write(fd, data[written:])
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)
    return os.stat(path)


def move_anchor(path: Path, key: AuditKey, anchor: Anchor) -> os.stat_result:
    """Write ``anchor`` over the slot of its generation and make it durable; returns the
    file's status after the write (:func:`place_anchor`, then :func:`sync_anchor`)."""
    status = place_anchor(path, key, anchor)
    sync_anchor(path)
    return status


def place_anchor(path: Path, key: AuditKey, anchor: Anchor) -> os.stat_result:
    """Write ``anchor`` over the slot of its generation, not yet flushed to the device;
    returns the file's status after the write.

    The slot written is the one not holding the current anchor (``anchor.gen`` is one more
    than the current generation). Once written, the slot is what every reader and every
    later process sees, whatever happens to this process; only a crash of the machine
    before :func:`sync_anchor` can lose it, and then the other slot still names the lines
    before these (which the reopening log re-anchors, as after a torn move). A file not in
    the two-slot form (an older anchor) is rewritten whole, durably, instead.
    """
    fd = os.open(path, os.O_RDWR)
    try:
        if os.fstat(fd).st_size == FILE_BYTES:
            os.pwrite(fd, anchor._slot(key), (anchor.gen % 2) * SLOT_BYTES)
            return os.fstat(fd)
    finally:
        os.close(fd)
    return write_anchor(path, key, anchor)


def sync_anchor(path: Path) -> None:
    """Flush the anchor file's slots to the device.

    ``fdatasync`` suffices: :func:`place_anchor` changes neither the file's size nor its
    blocks, so no metadata is needed to read a slot back.
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fdatasync(fd)
    finally:
        os.close(fd)


def read_anchor(path: Path, key: AuditKey) -> Anchor:
    """The current anchor at ``path``, checked against ``key`` (see :func:`read_anchor_file`)."""
    return read_anchor_file(path, key).anchor


def read_anchor_file(path: Path, key: AuditKey) -> AnchorRead:
    """The anchor at ``path``, checked against ``key``: the newer valid slot, and why the
    other is unusable if it is.

    Raises
    ------
    FileNotFoundError
        No anchor.
    AnchorError
        Not an anchor, sealed by another key (``wrong key``), or forged; for a two-slot
        file, when neither slot is usable (a torn move damages one slot only).
    """
    try:
        with path.open("rb") as handle:
            raw = handle.read(FILE_BYTES + 1)  # a larger file is not an anchor
    except IsADirectoryError as exc:  # RELGRAPH_AUDIT_ANCHOR or --anchor naming a folder
        raise AnchorError(
            f"the audit anchor {path} is a folder: give RELGRAPH_AUDIT_ANCHOR (or --anchor) "
            "the anchor file's path",
            "malformed",
        ) from exc
    if len(raw) != FILE_BYTES:
        if len(raw) >= SLOT_BYTES:
            raise _malformed(path)
        return AnchorRead(_check(raw, path, key, LEGACY_VERSION), legacy=True)
    found: list[Anchor | AnchorError] = []
    for index in (0, 1):
        chunk = raw[index * SLOT_BYTES : (index + 1) * SLOT_BYTES]
        line, newline, _ = chunk.partition(b"\n")
        try:
            if not newline:
                raise _malformed(path)  # torn: the line never reached its end
            anchor = _check(line, path, key, VERSION)
            if anchor.gen % 2 != index:
                raise _malformed(path)  # generations alternate; this one was moved here
            found.append(anchor)
        except AnchorError as exc:
            found.append(exc)
    valid = [a for a in found if isinstance(a, Anchor)]
    errors = [e for e in found if isinstance(e, AnchorError)]
    if valid:
        newest = max(valid, key=lambda a: a.gen)
        if not errors:
            return AnchorRead(newest)
        damaged = f"slot {found.index(errors[0]) + 1} of 2 is unusable ({_reason(errors[0])})"
        return AnchorRead(newest, damaged=damaged)
    kind = next(k for k in _KIND_ORDER if any(e.kind == k for e in errors))
    if errors[0].kind == errors[1].kind:
        message = f"{errors[0]} (both slots)"
    else:
        message = (
            f"neither slot of the anchor {path} is usable: slot 1 {_reason(errors[0])}; "
            f"slot 2 {_reason(errors[1])}"
        )
    raise AnchorError(message, kind)


def _reason(error: AnchorError) -> str:
    return {
        "malformed": "is not a sealed anchor: damaged, torn or forged",
        "wrong_key": "was sealed with another audit key",
        "forged": "was forged or altered: its seal does not match the key",
    }[error.kind]


def _malformed(path: Path) -> AnchorError:
    return AnchorError(
        f"the anchor {path} is not a relgraph audit anchor: forged or damaged", "malformed"
    )


def _check(raw: bytes, path: Path, key: AuditKey, version: int) -> Anchor:
    """One sealed anchor object of ``version``, checked against ``key``."""
    try:
        fields = json.loads(raw)
        mac = fields.pop("mac")
        if fields.pop("v") != version or ("gen" in fields) != (version != LEGACY_VERSION):
            raise TypeError
        anchor = Anchor(**fields)
        if not all(
            isinstance(getattr(anchor, n), int) for n in ("lines", "size", "last_offset", "gen")
        ):
            raise TypeError
    except (ValueError, TypeError, KeyError, AttributeError):
        raise _malformed(path) from None
    if anchor.key_id != key.key_id:
        raise AnchorError(
            f"wrong key: the anchor {path} was sealed with audit key {anchor.key_id}, not "
            f"with the key given ({key.key_id}); or the log and anchor were replaced",
            "wrong_key",
        )
    expected = key.mac(_PURPOSE, anchor._body(version))
    if not isinstance(mac, str) or not hmac.compare_digest(mac, expected):
        raise AnchorError(
            f"the anchor {path} was forged or altered: its seal does not match the key", "forged"
        )
    return anchor
