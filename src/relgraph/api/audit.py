"""A keyed, anchored audit trail: one JSON line per audited request or export.

Each line holds ``time``, ``seq`` (its 1-based line number), ``key_id``, ``role``,
``operation``, what was read (``ids``, or ``ids_count`` and ``ids_sha256`` for long
lists), ``outcome``, ``prev`` (the MAC of the line before, zeros for the first) and
``mac``: HMAC-SHA256, under the audit key, of the line's other fields. Without the key
nobody can write a line that verifies, so an altered, inserted, removed or reordered line
is named by :func:`verify`. The anchor (``audit_anchor``) holds the line count and the
last MAC, sealed with the same key, so lines cut off the end, an emptied log and a log
replaced wholesale are named too.

Lines are bounded (:data:`MAX_LINE_BYTES`): id lists longer than :data:`MAX_IDS` are
summarised on the line as a count and the SHA-256 of the sorted ids joined by new lines,
and listed in continuation lines that follow it (``audit_parts``); other text is truncated,
so a restart never reads more than one line and a request grows the log by its ids.

The lines themselves — their canonical form, seal and checks — are :mod:`audit_lines`.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from relgraph.api.audit_anchor import (
    GENESIS,
    Anchor,
    AnchorError,
    AnchorRead,
    default_anchor,
    move_anchor,
    place_anchor,
    read_anchor_file,
    sync_anchor,
    write_anchor,
)
from relgraph.api.audit_calls import fit_calls
from relgraph.api.audit_commit import Commit, GroupCommitter
from relgraph.api.audit_key import AuditKey, load_audit_key
from relgraph.api.audit_lines import MAX_LINE_BYTES, PURPOSE, canonical, check_line
from relgraph.api.audit_parts import distinct_sorted, expanded, with_parts
from relgraph.api.locks import LockedError, append_lock
from relgraph.config import AuditSettings

log = logging.getLogger("relgraph.api")

LOG_NAME = "audit.log"
MAX_IDS = 200
MAX_IDS_BYTES = 8 * 1024
"""Ids are listed when there are at most ``MAX_IDS`` of them in at most this many bytes."""
MAX_TEXT = 120
"""Characters kept of any other string (operation names are chosen by the client)."""
MAX_ITEMS = 10
"""Items kept of any other list."""
MAX_OBJECT_BYTES = 1024
"""Objects (such as export criteria) longer than this are kept as their SHA-256."""


class AuditError(Exception):
    """The trail cannot be opened or written; the message (for the operator) says why."""


def ids_digest(ids: Iterable[str]) -> str:
    """SHA-256 of the sorted, de-duplicated ids joined by new lines (``ids_sha256``)."""
    return hashlib.sha256("\n".join(distinct_sorted(ids)).encode("utf-8")).hexdigest()


def summarise_ids(ids: Iterable[str], *, always: bool = False) -> dict[str, Any]:
    unique = distinct_sorted(ids)
    if not always and len(unique) <= MAX_IDS and len(canonical({"i": unique})) <= MAX_IDS_BYTES:
        return {"ids": unique}
    digest = hashlib.sha256("\n".join(unique).encode("utf-8")).hexdigest()  # as ids_digest
    return {"ids_count": len(unique), "ids_sha256": digest}


def _bounded(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "…"
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
        kept = [_bounded(item) for item in items[:MAX_ITEMS]]
        if len(items) > MAX_ITEMS:
            kept.append(f"… {len(items) - MAX_ITEMS} more")
        return kept
    if isinstance(value, dict):
        body = canonical({str(k): v for k, v in value.items()})
        if len(body) > MAX_OBJECT_BYTES:
            return {"sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
        return {str(k): _bounded(v) for k, v in value.items()}
    return _bounded(str(value))


def bounded_record(entry: dict[str, Any]) -> dict[str, Any]:
    """``entry`` with ``ids`` listed or summarised and everything else cut to its bound."""
    record: dict[str, Any] = {}
    for name, value in entry.items():
        if name == "ids":
            record.update(summarise_ids(value))
        elif name != "calls":
            record[str(name)[:MAX_TEXT]] = _bounded(value)
    if "calls" not in entry:
        return record
    every = functools.partial(summarise_ids, entry.get("ids", []), always=True)
    return fit_calls(record, entry["calls"], every, MAX_LINE_BYTES)


class AuditLog:
    """Appends sealed lines to ``path`` and keeps the anchor; safe across threads and
    processes (each commit holds ``<log>.lock``, and reads the head back from the anchor
    whenever another process may have moved it).

    Opening checks the log against its anchor and raises :class:`AuditError` when they
    disagree; with neither present (or an empty log alone) it starts a new chain.
    """

    def __init__(self, path: Path, key: AuditKey, anchor: Path | None = None) -> None:
        self.path = Path(path)
        self.key = key
        self.anchor_path = Path(anchor) if anchor else default_anchor(self.path)
        self._lock = threading.Lock()
        self._committer = GroupCommitter(self._commit, name="relgraph-audit", settle=self.flush)
        self._placed = False
        """The anchor's last move is written but not yet flushed to the device."""
        self._lines = 0
        """Lines anchored as far as this process knows: the anchor may only grow."""
        self._written: tuple[Anchor, _FileId] | None = None
        """The anchor this process wrote last, and its file as it left it."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.anchor_path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock, append_lock(self.path):
                self._open()
        except (OSError, LockedError) as exc:
            full = isinstance(exc, OSError) and exc.errno == errno.ENOSPC
            todo = f"; free disk space in {self.path.parent}, then start again" if full else ""
            at_anchor = getattr(exc, "filename", None) in (str(self.anchor_path), str(self.anchor_path.parent))  # fmt: skip
            what = f"audit anchor {self.anchor_path} (RELGRAPH_AUDIT_ANCHOR)" if at_anchor else f"audit log {self.path}"  # fmt: skip
            raise AuditError(f"cannot open the {what}: {exc}{todo}") from exc

    def _open(self) -> None:
        if not self.anchor_path.exists():
            # An empty log is a start that stopped (a full disk, a kill) between creating the
            # log and its anchor: there is no line to protect, so the chain starts here.
            if self.path.exists() and self.path.stat().st_size > 0:
                raise AuditError(
                    f"the audit anchor {self.anchor_path} is missing but the log {self.path} "
                    "exists: run `relgraph audit verify`; to start a new chain, move the log "
                    "aside (keep it as evidence)"
                )
            self.path.touch(mode=0o600)
            empty = Anchor.empty(self.key)
            self._remember(empty, write_anchor(self.anchor_path, self.key, empty))
            return
        found = self._anchor()
        anchor = found.anchor
        self._lines = anchor.lines
        size = self.path.stat().st_size if self.path.exists() else 0
        if size < anchor.size:
            raise AuditError(
                f"the audit log {self.path} is shorter than its anchor records ({size} of "
                f"{anchor.size} bytes): lines were cut off; run `relgraph audit verify`"
            )
        with self.path.open("rb") as handle:
            handle.seek(anchor.last_offset)
            walk = _walk(
                handle,
                self.key,
                count=max(anchor.lines - 1, 0),
                head=_prev_of(handle, anchor),
                offset=anchor.last_offset,
                anchor=anchor,
            )
        if walk.problem is not None:
            raise AuditError(
                f"the audit log {self.path} does not match its anchor ({walk.problem}): "
                "run `relgraph audit verify`"
            )
        if found.damaged is not None and walk.count == anchor.lines:
            raise AuditError(_damaged_without_tail(self.anchor_path, found.damaged, anchor))
        if walk.count > anchor.lines:
            # Sealed lines after the anchor: the process stopped between fsyncing the
            # line and moving the anchor (which may have torn the slot it was writing).
            # Only the key's holder can write them.
            moved = replace(walk.as_anchor(self.key), gen=anchor.gen + 1)
            self._remember(moved, move_anchor(self.anchor_path, self.key, moved))
            log.warning("audit: anchored %d line(s) written just before a stop%s",
                        walk.count - anchor.lines,
                        f" (the anchor's {found.damaged})" if found.damaged else "")  # fmt: skip
        elif found.legacy:
            # An anchor from before the two slots: rewritten once in the new form.
            self._remember(anchor, write_anchor(self.anchor_path, self.key, anchor))
            log.info("audit: anchor %s rewritten in the two-slot form", self.anchor_path)

    def _anchor(self) -> AnchorRead:
        try:
            return read_anchor_file(self.anchor_path, self.key)
        except FileNotFoundError:
            raise AuditError(f"the audit anchor {self.anchor_path} is missing") from None
        except AnchorError as exc:
            raise AuditError(
                f"{exc}: the log cannot be checked against it; run `relgraph audit verify` "
                "with the server's key, and keep the log and anchor as evidence"
            ) from None

    def _remember(self, anchor: Anchor, status: os.stat_result) -> None:
        """``anchor`` is in the file, which ``status`` describes as this process left it."""
        self._written = (anchor, _file_id(status))
        self._lines = anchor.lines

    def append(self, **entry: Any) -> None:
        """Seal and append one line, fsync it, then move the anchor to it; returns once the
        line and the anchor are on disk (see :meth:`submit`).

        Raises
        ------
        AuditError
            The line could not be written (the caller must not hand out what it read).
        """
        self.submit(**entry).wait()
        self.flush()

    def flush(self) -> None:
        """Flush the anchor's last move to the device, if it is not there yet.

        The writer thread calls this after each batch's waiters are woken; the next batch
        calls it again before writing (and fails if it still cannot), so at most one move
        is ever unflushed.

        Raises
        ------
        AuditError
            The anchor could not be flushed.
        """
        with self._lock:
            self._flush_placed()

    def _flush_placed(self) -> None:
        if not self._placed:
            return
        try:
            sync_anchor(self.anchor_path)
        except OSError as exc:
            raise AuditError(f"cannot flush the audit anchor {self.anchor_path}: {exc}") from None
        self._placed = False

    def submit(self, **entry: Any) -> Commit:
        """Queue one line; the returned :class:`Commit` is waited on (from a thread or the
        event loop) before anything the line records is handed out.

        Lines commit together: the writer thread writes every line queued so far with one
        write, one fsync and one anchor move, and wakes their waiters (group commit). One
        fsync pair per batch instead of per line is what keeps a busy server from queueing
        on the disk; waiting without holding a worker thread lets a batch hold every
        request in flight. A failed batch fails each of its lines with :class:`AuditError`.

        The waiters are woken once the lines are flushed and the anchor's slot is written
        (every process reads it from then on, whatever becomes of this one); the slot's own
        flush follows, before the next batch. So an answer waits for one device flush, not
        two in series, and only a crash of the machine in that gap leaves the anchor a batch
        behind lines that are on disk, which the next start re-anchors as after a torn move.
        """
        record = {"time": datetime.now(UTC).isoformat(timespec="milliseconds")}
        if "ids" in entry:
            entry["ids"] = distinct_sorted(entry["ids"])  # sorted once for all its uses
        record.update(bounded_record(entry))
        # Ids and HMACs past what the line lists follow it, in the same commit.
        record = with_parts(record, entry, (MAX_ITEMS, MAX_IDS, MAX_IDS_BYTES))
        return self._committer.submit(record)

    def _commit(self, records: list[dict[str, Any]]) -> None:
        """Called by the writer thread with a batch, in the order the lines were queued."""
        try:
            with self._lock, append_lock(self.path):
                self._append(records)
        except (OSError, LockedError) as exc:
            raise AuditError(f"cannot write the audit log {self.path}: {exc}") from None

    def _head(self, size: int) -> Anchor:
        """The anchor the next lines follow, given the log's ``size`` now.

        The one this process wrote last, while the log still ends where that anchor says
        and the anchor file is the file it left (same inode, size and times, so no other
        process or hand replaced or rewrote it): reading back and verifying it per batch
        cost a file read and an HMAC for nothing. The log's size is what shows another
        writer (a CLI export appends its lines before moving the anchor, under the same
        lock), since two moves in place within one clock tick leave the same times.
        Otherwise the anchor is read and checked, and must not have gone back.
        """
        if self._written is not None:
            anchor, identity = self._written
            try:
                if anchor.size == size and _file_id(os.stat(self.anchor_path)) == identity:
                    return anchor
            except FileNotFoundError:
                pass  # read below, which names the missing anchor
        anchor = self._anchor().anchor
        if anchor.lines < self._lines:
            raise AuditError(
                f"the audit anchor {self.anchor_path} went back from {self._lines} to "
                f"{anchor.lines} lines: an older anchor was put back; run `relgraph audit verify`"
            )
        return anchor

    def _append(self, records: list[dict[str, Any]]) -> None:
        # The previous move is on the device before these lines are: two unflushed moves
        # could both tear, leaving no slot to check the log against.
        self._flush_placed()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            size = os.fstat(fd).st_size
            anchor = self._head(size)
            if size != anchor.size:
                raise AuditError(
                    f"the audit log {self.path} changed outside relgraph ({size} bytes, the "
                    f"anchor records {anchor.size}): run `relgraph audit verify`"
                )
            head, lines, last_offset, end = anchor.head, [], size, size
            seq = anchor.lines
            for record in expanded(records):
                seq += 1
                record["seq"] = seq
                record["prev"] = head
                head = self.key.mac(PURPOSE, canonical(record))
                line = canonical({**record, "mac": head}) + b"\n"
                if len(line) > MAX_LINE_BYTES:  # the bounds make this unreachable; keep it so
                    raise AuditError(f"an audit line of {len(line)} bytes is over the bound")
                last_offset, end = end, end + len(line)
                lines.append(line)
            data = b"".join(lines)
            written = 0
            try:
                while written < len(data):
                    written += os.write(fd, data[written:])
                # The lines are on disk before the anchor names them. fdatasync flushes the
                # new size with the data (needed to read them back); it skips only the times.
                os.fdatasync(fd)
            except OSError:
                # A full disk wrote part of the lines: take them back, so the log ends where
                # its anchor says and the next commit (once there is room) goes on — the
                # refused answers were never given.
                os.ftruncate(fd, size)
                os.fdatasync(fd)
                raise
        finally:
            os.close(fd)
        moved = Anchor(
            self.key.key_id,
            seq,
            head,
            size + len(data),
            last_offset,
            anchor.gen + 1,
        )
        self._written = None  # until the anchor has moved, nothing is known of the file
        status = place_anchor(self.anchor_path, self.key, moved)
        self._placed = True
        self._remember(moved, status)


_FileId = tuple[int, int, int, int, int]


def _file_id(st: os.stat_result) -> _FileId:
    """What changes whenever a file is replaced or written: device, inode, size, and the
    modification and change times (the change time cannot be set back from user space)."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _prev_of(handle: IO[bytes], anchor: Anchor) -> str:
    """The ``prev`` the anchored last line must carry: read from that line itself, whose
    own MAC (checked against the anchor's head) vouches for it."""
    if anchor.lines == 0:
        return GENESIS
    position = handle.tell()
    raw = handle.readline(MAX_LINE_BYTES + 1)
    handle.seek(position)
    try:
        prev = json.loads(raw)["prev"]
    except (ValueError, KeyError, TypeError):
        return ""
    return prev if isinstance(prev, str) else ""


@dataclass
class _Walk:
    count: int
    head: str
    size: int
    last_offset: int
    problem: str | None = None
    bad_line: int | None = None

    def as_anchor(self, key: AuditKey) -> Anchor:
        return Anchor(key.key_id, self.count, self.head, self.size, self.last_offset)


def _walk(
    handle: IO[bytes],
    key: AuditKey,
    *,
    count: int = 0,
    head: str = GENESIS,
    offset: int = 0,
    anchor: Anchor | None = None,
) -> _Walk:
    """Check lines from the handle's position on: seal, number and link; stop at the first
    bad one. ``count``/``head``/``offset`` describe the chain before that position."""
    walk = _Walk(count, head, offset, offset if count == 0 else -1)
    if anchor is not None and walk.count == anchor.lines and walk.head != anchor.head:
        walk.problem = "the log does not start where the anchor records it: it was rewritten"
    while walk.problem is None:
        raw = handle.readline(MAX_LINE_BYTES + 1)
        if not raw:
            break
        number = walk.count + 1
        problem = check_line(raw, number, walk.head, key, anchor)
        if problem is not None:
            walk.problem, walk.bad_line = problem, number
            break
        walk.last_offset, walk.size = walk.size, walk.size + len(raw)
        walk.count, walk.head = number, json.loads(raw)["mac"]
        if (
            anchor is not None
            and number == anchor.lines
            and (walk.head != anchor.head or walk.size != anchor.size)
        ):
            walk.problem, walk.bad_line = (
                f"line {number} is not the line the anchor records: the log was rewritten",
                number,
            )
    return walk


@dataclass(frozen=True)
class Verdict:
    """The outcome of :func:`verify`; ``bad_line`` is 1-based."""

    ok: bool
    lines: int
    message: str
    bad_line: int | None = None


def verify(path: Path, key: AuditKey, anchor_path: Path | None = None) -> Verdict:
    """Check every line's seal, number and link, and the whole log against the anchor;
    name the first thing that changed."""
    path = Path(path)
    anchor_path = Path(anchor_path) if anchor_path else default_anchor(path)
    anchor: Anchor | None = None
    damaged: str | None = None
    anchor_error: AnchorError | None = None
    try:
        found = read_anchor_file(anchor_path, key)
        anchor, damaged = found.anchor, found.damaged
    except FileNotFoundError:
        pass
    except AnchorError as exc:
        anchor_error = exc
    if not path.exists():
        if anchor is None and anchor_error is None:
            return Verdict(False, 0, f"no audit log at {path} and no anchor at {anchor_path}")
        if anchor is not None and anchor.lines:
            return Verdict(
                False, 0, f"the log is missing but the anchor records {anchor.lines} lines"
            )
    walk = _Walk(0, GENESIS, 0, 0)
    if path.exists():
        with path.open("rb") as handle:
            walk = _walk(handle, key, anchor=anchor)
    also = f"; and {walk.problem}" if walk.problem else ""
    if anchor is None and anchor_error is None:
        return Verdict(
            False,
            walk.count,
            f"the anchor {anchor_path} is missing: lines cut off the end or a rewritten log "
            f"could not be seen{also}",
            walk.bad_line,
        )
    if anchor_error is not None:
        message = str(anchor_error)
        if anchor_error.kind == "forged" and walk.problem is not None:
            message = (
                "the log and its anchor were rewritten without the key: the anchor's seal "
                f"does not match{also}"
            )
        return Verdict(False, walk.count, message, walk.bad_line)
    assert anchor is not None
    if walk.problem is not None:
        return Verdict(False, walk.count, walk.problem, walk.bad_line)
    if walk.count < anchor.lines:
        if walk.count == 0:
            message = (
                f"the log is empty but the anchor records {anchor.lines} lines: it was emptied"
            )
        else:
            message = (
                f"the log ends at line {walk.count} but the anchor records {anchor.lines} "
                f"lines: {anchor.lines - walk.count} line(s) were cut off the end"
            )
        return Verdict(False, walk.count, message, walk.count + 1)
    if walk.count > anchor.lines:
        torn = f"; the anchor's {damaged}: torn by the stop" if damaged else ""
        return Verdict(
            True,
            walk.count,
            f"{walk.count} lines, chain intact; the last {walk.count - anchor.lines} are sealed "
            f"but after the anchor's {anchor.lines} (written just before a stop; the server "
            f"anchors them when it starts){torn}",
        )
    if damaged is not None:
        return Verdict(False, walk.count, _damaged_without_tail(anchor_path, damaged, anchor))
    return Verdict(True, walk.count, f"{walk.count} lines, chain intact, matching the anchor")


def _damaged_without_tail(anchor_path: Path, damaged: str, anchor: Anchor) -> str:
    """Why a damaged slot with no sealed line after the other slot's is not a torn move."""
    return (
        f"the audit anchor {anchor_path}: {damaged}, and the log ends at the other slot's "
        f"line {anchor.lines}; a move torn by a stop leaves the lines it was naming (they are "
        "written first), so the slot was damaged by hand and lines after it may have been cut "
        "off. Keep the log and anchor as evidence; to start a new chain, move both aside"
    )


def open_audit_log(data_dir: Path, settings: AuditSettings, *, production: bool) -> AuditLog:
    """The data directory's audit log with the configured key and anchor.

    Raises
    ------
    relgraph.config.ConfigError
        No usable key (see :func:`load_audit_key`).
    AuditError
        The log and its anchor disagree, or cannot be opened.
    """
    key = load_audit_key(settings, data_dir, production=production)
    audit = AuditLog(Path(data_dir) / LOG_NAME, key, settings.anchor)
    if production and audit.anchor_path.resolve().is_relative_to(Path(data_dir).resolve()):
        log.warning(
            "audit anchor %s is inside the data directory: whoever can write it can cut "
            "lines off the log unseen; set RELGRAPH_AUDIT_ANCHOR to a path outside",
            audit.anchor_path,
        )
    return audit
