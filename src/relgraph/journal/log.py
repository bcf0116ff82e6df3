"""The operational-writes journal: an append-only, fsynced record of what people and systems
sent to a running server (duplicate-review decisions, alert decisions, streamed transfers and
accounts).

Layout: ``<data_dir>/journal/`` holds segments ``000001.jsonl``, ``000002.jsonl``, … and a
``.lock`` file. Each line is one entry::

    {"seq": 7, "kind": "chain_review", "at": "2026-12-01T09:30:00+00:00", "by": "key-1",
     "data": {...}, "crc": "1c291ca3"}

``seq`` rises by one per entry across segments; ``crc`` is the CRC-32 of the line without
its ``crc`` member, so a torn or edited line is recognised. Rules:

* **Durable before acknowledged.** :meth:`Journal.append` returns only after the lines are
  written and ``fsync``-ed (and, for a new segment, its directory entry too).
* **One writer at a time.** Every append holds an exclusive ``flock`` on ``.lock``; the
  server and the CLI (``relgraph decide``) may both write, never interleaved. A writer that
  finds the journal grown since its last append reads what the others appended for the next
  ``seq`` (the newest segment from its end when it knows nothing of it), never all of it.
  A writer whose append depends on what is written (a resend check, a review's transition)
  reads and appends under the one lock (:meth:`Journal.held`).
* **A crash never corrupts what was acknowledged.** A process killed mid-write leaves at
  most one torn last line; readers skip it and the next writer cuts it off before appending.
  A torn line anywhere but the end is damage: :class:`JournalError` names file and line.

Example:

>>> import tempfile
>>> from pathlib import Path
>>> d = Path(tempfile.mkdtemp())
>>> j = Journal(d)
>>> [e.seq for e in j.append("chain_review", [{"chain": "c1", "status": "ESCALATED"}], by="k")]
[1]
>>> [(e.seq, e.kind, e.data["status"]) for e in read(d)]
[(1, 'chain_review', 'ESCALATED')]
>>> len(digest(d))
64
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

JOURNAL_DIR: Final = "journal"
SEGMENT_BYTES: Final = 64 * 1024 * 1024
"""A segment is closed at about this size, so a reader or a digest never needs one huge file
and old segments stay immutable."""
_SUFFIX: Final = ".jsonl"

log = logging.getLogger("relgraph.journal")


class JournalError(Exception):
    """The journal cannot be read or written; the message names the file and what to do."""


@dataclass(frozen=True)
class Entry:
    """One journal line, parsed and checked."""

    seq: int
    kind: str
    at: str
    """When the writer appended it, ISO 8601 in UTC."""
    by: str
    """Who sent it: an API key's id, or ``cli:<user>`` for the command line."""
    data: Mapping[str, Any]


def journal_dir(data_dir: Path) -> Path:
    return data_dir / JOURNAL_DIR


def _segments(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix == _SUFFIX and p.stem.isdigit())


def _crc(body: Mapping[str, Any]) -> str:
    return f"{zlib.crc32(_encode(body)) & 0xFFFFFFFF:08x}"


def _encode(body: Mapping[str, Any]) -> bytes:
    # Sorted keys and no spaces: the bytes a CRC and a digest are taken over never depend on
    # dict order or on who wrote them.
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


_CRC_AT: Final = b',"crc":"'
"""Where a line's ``crc`` member starts: the writer sorts keys, so it follows ``at`` and
``by``, whose string values cannot hold this (a quote in a string is escaped)."""


def _crc_of_written(line: bytes) -> str | None:
    """The CRC a line claims, when the line without that member has it: the bytes the writer
    took it over (its :func:`_encode`), checked as written instead of parsed and encoded
    again, which was half of a read's time. None: check the slow way (the line is damaged,
    or was not written in the writer's form)."""
    at = line.find(_CRC_AT)
    if at < 0 or line[at + 16 : at + 17] != b'"':
        return None
    claimed = line[at + 8 : at + 16]
    if f"{zlib.crc32(line[:at] + line[at + 17 :]) & 0xFFFFFFFF:08x}".encode() != claimed:
        return None
    return claimed.decode()


_DIGESTED: Final = frozenset({"seq", "kind", "at", "by", "data"})
"""The members of a line as the writer writes it (``crc`` aside)."""


def _checked(line: bytes) -> tuple[Entry, bytes | None] | None:
    """The entry on ``line`` and, when the line is as the writer wrote it, the bytes of its
    ``data``, ``kind`` and ``seq`` members as :func:`head` hashes them (its tail: they sort
    last); None when it is not a whole, intact entry."""
    try:
        fast = _crc_of_written(line)
        raw = json.loads(line)
        if not isinstance(raw, dict):
            return None
        crc = raw.pop("crc")
        if crc != fast and crc != _crc(raw):
            return None
        entry = Entry(
            seq=int(raw["seq"]),
            kind=str(raw["kind"]),
            at=str(raw["at"]),
            by=str(raw["by"]),
            data=raw["data"],
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if crc != fast or raw.keys() != _DIGESTED:
        return entry, None
    # The line less its crc is _encode of these five; at and by sort before crc, the rest after.
    return entry, b"{" + line[line.find(_CRC_AT) + 18 :]


_TAIL: Final = re.compile(rb',"kind":"([a-z_]+)","seq":([0-9]+)\}\Z')
"""A writer's line ends in its ``kind`` and ``seq`` members (they sort last, after ``data``,
whose strings cannot hold an unescaped quote)."""


@dataclass(frozen=True)
class Passing:
    """Which intact lines a reader passes over: it checks their CRC as written (so damage is
    found as a whole read finds it) but does not parse them, which was most of a read's time.

    A line passes when the writer wrote it (its tail names kind and ``seq``) and either its
    kind is not ``wanted``, or it is one of ``merged`` with ``seq`` ≤ ``upto`` (what the
    store's last load merged, which a reader of the store already holds). A line in any other
    form is parsed."""

    wanted: frozenset[bytes] | None = None
    """The kinds read (None: all)."""
    merged: frozenset[bytes] = frozenset()
    upto: int = 0

    @classmethod
    def of(
        cls, kinds: Iterable[str] | None, merged: Iterable[str] = (), upto: int = 0
    ) -> Passing | None:
        """The rule for a reader of ``kinds`` that holds ``merged`` up to ``upto``; None when
        no line passes (every line is read)."""
        wanted = None if kinds is None else frozenset(k.encode() for k in kinds)
        rule = cls(wanted, frozenset(k.encode() for k in merged) if upto > 0 else frozenset(), upto)
        return None if wanted is None and not rule.merged else rule

    def passes(self, line: bytes) -> bool:
        """Whether ``line`` is passed over (and its CRC holds as written)."""
        tail = _TAIL.search(line, max(0, len(line) - 64))
        if tail is None:
            return False
        kind = tail[1]
        read = self.wanted is None or kind in self.wanted
        if read and not (kind in self.merged and int(tail[2]) <= self.upto):
            return False
        return _crc_of_written(line) is not None


def _parse(line: bytes) -> Entry | None:
    """The entry on ``line``; None when it is not a whole, intact entry."""
    checked = _checked(line)
    return None if checked is None else checked[0]


def lines_from(
    path: Path, *, last_segment: bool, start: int = 0, first: int = 1
) -> Iterator[tuple[Entry, int]]:
    """The intact entries of one segment from byte ``start`` (its line ``first``), each with
    the byte its line ends at. A torn or damaged newest line of the newest segment was never
    acknowledged and ends the entries; damage anywhere else is :class:`JournalError`."""
    for entry, end, _, _ in _intact(path, last_segment=last_segment, start=start, first=first):
        if entry is not None:
            yield entry, end


def lines_passing(
    path: Path, passing: Passing | None, *, last_segment: bool, start: int = 0, first: int = 1
) -> Iterator[tuple[Entry | None, int, bytes]]:
    """:func:`lines_from`, with every intact line: its entry (None when ``passing`` passes
    it over), the byte it ends at and its bytes (a reader that goes on later keeps them, to
    know the line is still there)."""
    for entry, end, _, line in _intact(
        path, last_segment=last_segment, start=start, first=first, passing=passing, passed=True
    ):
        yield entry, end, line


def _intact(
    path: Path,
    *,
    last_segment: bool,
    start: int = 0,
    first: int = 1,
    passing: Passing | None = None,
    passed: bool = False,
) -> Iterator[tuple[Entry | None, int, bytes | None, bytes]]:
    """Per intact line from byte ``start`` (its line ``first``): its entry, the byte it
    ends at, its :func:`_checked` digest bytes and the line itself. A line ``passing``
    passes over is checked but not parsed: with ``passed`` it comes without entry nor
    digest bytes, else not at all (a yield a line cost a read of accounts a quarter)."""
    with path.open("rb") as handle:
        handle.seek(start)
        lines = handle.read().split(b"\n")
    complete, fragment = lines[:-1], lines[-1]  # fragment: b"" unless a write was torn
    end = start
    for number, line in enumerate(complete, start=first):
        end += len(line) + 1
        if passing is not None and passing.passes(line):
            if passed:
                yield None, end, None, line
            continue
        checked = _checked(line)
        if checked is None:
            if last_segment and number == first + len(complete) - 1 and not fragment:
                return  # the newest line of the newest segment, never acknowledged
            raise _damaged(path, number)
        yield checked[0], end, checked[1], line
    if fragment and not last_segment:
        raise _torn(path)


def line_at(path: Path, begin: int, end: int) -> Entry | None:
    """The entry whose whole line lies at bytes ``begin``..``end`` of ``path``; None when
    it is no longer there (the file is gone or shorter, or the line was cut and rewritten)."""
    try:
        with path.open("rb") as handle:
            handle.seek(begin)
            line = handle.read(end - begin)
    except FileNotFoundError:
        return None
    return _parse(line[:-1]) if line.endswith(b"\n") else None


def _damaged(path: Path, number: int) -> JournalError:
    return JournalError(
        f"{path}: line {number} is damaged; restore the journal from a backup "
        "(an acknowledged entry must not be dropped)"
    )


def _torn(path: Path) -> JournalError:
    return JournalError(f"{path}: ends in a torn line but is not the newest segment")


def _last_intact(path: Path, *, last_segment: bool) -> tuple[Entry | None, int, int, int]:
    """A segment's last intact entry, the byte its intact lines end at, how many they are
    and where the last one starts, read from the end: what :func:`lines_from` ends with,
    parsing one or two lines instead of all (a writer needs only where to go on; a whole
    segment took 4 s). Damage before those lines is found by the readers, not here."""
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    if end < len(data) and not last_segment:
        raise _torn(path)
    newest = number = data.count(b"\n", 0, end)
    while number:
        begin = data.rfind(b"\n", 0, end - 1) + 1
        entry = _parse(data[begin : end - 1])
        if entry is not None:
            return entry, end, number, begin
        if not (last_segment and number == newest and end == len(data)):
            raise _damaged(path, number)
        end, number = begin, number - 1  # the newest line of the newest segment: unacknowledged
    return None, 0, 0, 0


def read(data_dir: Path, kinds: Iterable[str] | None = None) -> Iterator[Entry]:
    """The journal's intact entries in ``seq`` order (only ``kinds`` when given), as they
    are read: damage raises :class:`JournalError` when reached, after the entries before it
    (every caller fails whole on it; a segment held whole first cost a second copy of its
    up to ~250,000 entries)."""
    wanted = None if kinds is None else frozenset(kinds)
    passing = Passing.of(wanted)
    segments = _segments(journal_dir(data_dir))
    for i, path in enumerate(segments):
        for entry, _, _, _ in _intact(path, last_segment=i == len(segments) - 1, passing=passing):
            # A line not in the writer's form is parsed whatever its kind.
            if entry is not None and (wanted is None or entry.kind in wanted):
                yield entry


def digest(data_dir: Path, upto: int | None = None) -> str:
    """SHA-256 over the intact entries (those with ``seq`` ≤ ``upto`` when given): part of
    the load fingerprint, so a reload with unchanged files but new journal entries is a new
    load. Empty journal: the digest of nothing (a data directory without a journal and one
    with an empty journal agree)."""
    return head(data_dir, upto)[1]


def head(data_dir: Path, upto: int | None = None) -> tuple[int, str]:
    """The last ``seq`` and the :func:`digest` of the entries up to it, in one read."""
    h, last = hashlib.sha256(), 0
    for seq, part in _digested(data_dir):
        if upto is not None and seq > upto:
            break
        h.update(part)
        last = seq
    return last, h.hexdigest()


_EVERY_KIND: Final = Passing(wanted=frozenset())
"""Every line as the writer wrote it: the digest hashes its own bytes, unparsed."""


def _written_part(line: bytes) -> tuple[int, bytes] | None:
    """A line :data:`_EVERY_KIND` passed over (its tail and CRC checked), as :func:`head`
    hashes it: its ``seq`` (after the last colon: the tail ends ``"seq":N}``) and its bytes
    less ``at``, ``by`` and ``crc``, which sort before ``data``, ``kind`` and ``seq``. None
    when it does not hold those five members in that order: then it is parsed.

    Not parsed, a line with a sixth member and a CRC made for it (a hand-edit; the writer
    writes five) is hashed with that member, so the digest tells it from the line it
    replaced; parsed, the member was ignored."""
    rest = line.find(_CRC_AT) + 18
    if not line.startswith(b'{"at":"') or line[rest : rest + 7] != b'"data":':
        return None
    return int(line[line.rfind(b":") + 1 : -1]), b"{" + line[rest:]


def _digested(data_dir: Path) -> Iterator[tuple[int, bytes]]:
    """Per intact entry, its ``seq`` and the line :func:`head` hashes for it."""
    segments = _segments(journal_dir(data_dir))
    for i, path in enumerate(segments):
        last = i == len(segments) - 1
        lines = _intact(path, last_segment=last, passing=_EVERY_KIND, passed=True)
        for number, (entry, _, part, line) in enumerate(lines, start=1):
            if entry is None and (written := _written_part(line)) is not None:
                yield written[0], written[1] + b"\n"
                continue
            checked = _checked(line) if entry is None else (entry, part)
            if checked is None:  # its CRC holds, but it is no entry: a hand-made line
                raise _damaged(path, number)
            entry, part = checked
            if part is None:  # not in the writer's form: encoded as the digest defines it
                part = _encode({"seq": entry.seq, "kind": entry.kind, "data": entry.data})
            yield entry.seq, part + b"\n"


META_SEQ: Final = "journal_seq"
META_DIGEST: Final = "journal_digest"
"""Store meta a load writes: the journal's last ``seq`` when it started and the digest of
the entries up to it, all of which it merged (:func:`behind` checks them)."""


def behind(data_dir: Path, meta: Mapping[str, str]) -> str | None:
    """Why the journal is not the one the store was loaded from (entries the load merged are
    gone or changed: a journal restored from an older backup than the store's, or missing);
    None when it holds them (or the store's load recorded none)."""
    if META_SEQ not in meta:
        return None
    return _why_behind(data_dir, meta, head(data_dir, int(meta[META_SEQ])))


def behind_and_head(data_dir: Path, meta: Mapping[str, str]) -> tuple[str | None, tuple[int, str]]:
    """:func:`behind` and :func:`head` (of the whole journal) in one read: a load needs both,
    and each read of a long journal costs minutes."""
    merged = int(meta[META_SEQ]) if META_SEQ in meta else None
    h, last, held = hashlib.sha256(), 0, None
    for seq, part in _digested(data_dir):
        if held is None and merged is not None and seq > merged:
            held = (last, h.hexdigest())
        h.update(part)
        last = seq
    whole = (last, h.hexdigest())
    why = None if merged is None else _why_behind(data_dir, meta, held or whole)
    return why, whole


def _why_behind(data_dir: Path, meta: Mapping[str, str], held: tuple[int, str]) -> str | None:
    """:func:`behind`'s answer, given the journal's :func:`head` up to the merged ``seq``."""
    merged = int(meta[META_SEQ])
    last, digest_held = held
    if last == merged and digest_held == meta.get(META_DIGEST):
        return None
    state = (("holds no entries" if not last else f"holds entries up to seq {last:,} only")
             if last < merged else f"holds other entries than those up to seq {merged:,}")  # fmt: skip
    return (
        f"the journal {journal_dir(data_dir)} {state}, but the store's last load merged "
        f"{merged:,} (transfers, accounts and decisions the server acknowledged): it was "
        "restored from a backup older than the store's, or is missing. A load now would drop "
        "the acknowledged entries it lacks, and new entries would reuse their numbers. "
        "Restore the journal from the backup the store came from (or a newer one); if none "
        "holds them, restore the store from the journal's backup too and have the senders "
        "send again what they sent after it"
    )


@dataclass(frozen=True)
class _Written:
    """Where a segment's intact entries end: its length, the last ``seq``, how many lines
    it holds and where the last one starts."""

    path: Path
    size: int
    seq: int
    lines: int
    last_at: int

    def holds(self, newest: Path) -> bool:
        """Whether ``newest`` still begins with these bytes: this is its path and the last
        line is where it was, the same entry (a failed write of another writer is cut off
        back to where that one began, after these)."""
        if newest != self.path or self.seq == 0:
            return False
        entry = line_at(newest, self.last_at, self.size)
        return entry is not None and entry.seq == self.seq


class Journal:
    """The writer. Cheap to create; every :meth:`append` takes the lock, so several
    processes may hold a ``Journal`` on one data directory."""

    def __init__(self, data_dir: Path, *, segment_bytes: int = SEGMENT_BYTES) -> None:
        self._dir = journal_dir(data_dir)
        self._segment_bytes = segment_bytes
        self._known: _Written | None = None

    def append(self, kind: str, records: Sequence[Mapping[str, Any]], *, by: str) -> list[Entry]:
        """Append one entry per record, durably (one ``fsync`` for the batch); returns them
        with their ``seq``. Raises :class:`JournalError` when the disk refuses."""
        if not records:
            return []
        with self.held() as append:
            return append(kind, records, by)

    @contextmanager
    def held(self) -> Iterator[Callable[[str, Sequence[Mapping[str, Any]], str], list[Entry]]]:
        """The writers' lock, held across a read and the append it decides; yields the
        append to call under it (``append(kind, records, by)``).

        A decision is checked against those written before it (a resend, a review's
        transition), and the check reads the journal: without the lock between the read and
        the append, two processes (two servers of one graph, the CLI beside a server) could
        both pass it and both write. Raises :class:`JournalError` when the disk refuses.
        """
        try:
            self._dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            lock = (self._dir / ".lock").open("a+b")
        except OSError as exc:
            raise self._unwritable(exc) from exc
        with lock:
            try:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            except OSError as exc:
                raise self._unwritable(exc) from exc
            try:
                yield self._append_held
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _append_held(self, kind: str, records: Sequence[Mapping[str, Any]], by: str) -> list[Entry]:
        if not records:
            return []
        try:
            return self._append_locked(kind, records, by)
        except OSError as exc:
            raise self._unwritable(exc) from exc

    def _unwritable(self, exc: OSError) -> JournalError:
        return JournalError(
            f"cannot write the journal in {self._dir}: {exc.strerror or exc}; "
            "free disk space or fix the directory's permissions, then send again"
        )

    def _tail(self) -> _Written:
        """The newest segment, its intact length and the last ``seq``, cutting a torn tail.
        Read from what this writer wrote last when it is still there, else from the end: a
        whole segment read each time another writer had appended (an analyst's review beside
        the stream, a refresh's new live index) held the journal's lock 1.8 s a batch at
        100,000 entries."""
        segments = _segments(self._dir)
        if not segments:
            return _Written(self._dir / f"{1:06d}{_SUFFIX}", 0, 0, 0, 0)
        newest = segments[-1]
        known = self._known if self._known is not None and self._known.holds(newest) else None
        if known is not None:  # read on after this writer's last line
            read = list(
                lines_from(newest, last_segment=True, start=known.size, first=known.lines + 1)
            )
            last, good = (read[-1][0], read[-1][1]) if read else (None, known.size)
            lines = known.lines + len(read)
            begins = read[-2][1] if len(read) > 1 else known.size
        else:
            last, good, lines, begins = _last_intact(newest, last_segment=True)
        if newest.stat().st_size != good:
            # A writer died mid-line (never acknowledged) — or the last line was damaged
            # since. Cut it off so appends go on, but keep the bytes and say so: a damaged
            # acknowledged entry is for an operator to restore, not to vanish.
            with newest.open("r+b") as handle:
                handle.seek(good)
                cut = handle.read()
                kept = newest.with_name(f"{newest.name}.cut-{good}")
                kept.write_bytes(cut)
                kept.chmod(0o600)  # acknowledged entries, as private as the segments
                handle.truncate(good)
                os.fsync(handle.fileno())
            log.warning(
                "journal %s ended in %s bytes that are no whole entry (a write cut short, or "
                "damage): cut off and kept in %s; if they held an acknowledged entry, restore "
                "it from a backup",
                newest,
                f"{len(cut):,}",
                kept,
            )
        if last is not None:
            return _Written(newest, good, last.seq, lines, begins)
        if known is not None:
            return replace(known, size=good)
        older = _last_intact(segments[-2], last_segment=False)[0] if len(segments) > 1 else None
        return _Written(newest, good, 0 if older is None else older.seq, 0, 0)

    def _append_locked(
        self, kind: str, records: Sequence[Mapping[str, Any]], by: str
    ) -> list[Entry]:
        known = self._known
        if known is not None and known.path.exists() and known.path.stat().st_size == known.size:
            tail = known  # nobody wrote since our last append
        else:
            tail = self._tail()
        path, size, seq, lines = tail.path, tail.size, tail.seq, tail.lines
        new_segment = not path.exists()
        if size >= self._segment_bytes:
            path = self._dir / f"{int(path.stem) + 1:06d}{_SUFFIX}"
            size, lines, new_segment = 0, 0, True
        at = datetime.now(UTC).isoformat(timespec="microseconds")
        entries: list[Entry] = []
        chunks: list[bytes] = []
        for record in records:
            seq += 1
            body = {"seq": seq, "kind": kind, "at": at, "by": by, "data": dict(record)}
            line = dict(body, crc=_crc(body))
            chunks.append(_encode(line) + b"\n")
            entries.append(Entry(seq=seq, kind=kind, at=at, by=by, data=dict(record)))
        payload = b"".join(chunks)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            try:
                # A full disk or a file-size limit writes part of the payload and says how
                # much: the rest must follow, or the append fail.
                view = memoryview(payload)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            except OSError:
                # All or nothing: whole entries of a refused batch would be read back,
                # though the sender was told nothing was recorded.
                self._known = None
                os.ftruncate(fd, size)
                os.fsync(fd)
                raise
        finally:
            os.close(fd)
        if new_segment:
            dir_fd = os.open(self._dir, os.O_RDONLY)
            try:
                os.fsync(dir_fd)  # the new segment's name survives a power cut too
            finally:
                os.close(dir_fd)
        self._known = _Written(
            path,
            size + len(payload),
            seq,
            lines + len(chunks),
            size + len(payload) - len(chunks[-1]),
        )
        return entries
