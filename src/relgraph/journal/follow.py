"""Reading a journal as it grows: each read returns only what was appended since the last.

A refresh builds the new live index beside the old one, which goes on taking payments, and
then applies what the journal gained meanwhile, in rounds, the last one with payments
paused (``api/live_build.swap_live``). Read whole every round, the journal cost 21-33 µs
an entry (JSON and CRC): 2.1-3.3 s a round after 100,000 streamed transfers, the paused
round as long, and a day's stream at 200 a second minutes. The follower keeps where it
stopped (segment and byte) and reads on from there: a round costs what it gained.

Example:

>>> import tempfile
>>> from relgraph.journal.log import Journal
>>> d = Path(tempfile.mkdtemp())
>>> journal, follower = Journal(d), Follower(d, ["transfer"])
>>> _ = journal.append("transfer", [{"tx_id": "T1"}, {"tx_id": "T2"}], by="k")
>>> [e.data["tx_id"] for e in follower.entries()]
['T1', 'T2']
>>> _ = journal.append("chain_review", [{"chain": "c1"}], by="k")
>>> _ = journal.append("transfer", [{"tx_id": "T3"}], by="k")
>>> [e.data["tx_id"] for e in follower.entries()]
['T3']
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from relgraph.journal.log import (
    Entry,
    JournalError,
    Passing,
    _parse,
    _segments,
    journal_dir,
    lines_passing,
)


class Follower:
    """Reads one journal's entries of ``kinds`` (all when None) as it grows.

    Lines of other kinds are checked but not parsed (:class:`.log.Passing`), and so are the
    entries of ``merged`` kinds up to ``seq`` ``upto``: what the store's last load merged,
    which a reader of that store holds already."""

    def __init__(
        self,
        data_dir: Path,
        kinds: Iterable[str] | None = None,
        *,
        merged: Iterable[str] = (),
        upto: int = 0,
    ) -> None:
        self._dir = journal_dir(data_dir)
        self._wanted = None if kinds is None else frozenset(kinds)
        self._passing = Passing.of(self._wanted, merged, upto)
        self._segment: Path | None = None
        """The segment read last; the ones before it are read to their end."""
        self._offset = 0
        """Bytes of it read: whole, intact entries only."""
        self._lines = 0
        """Lines of it read (a damaged line is named by its number)."""
        self._last: tuple[bytes, int] | None = None
        """The last line read, of any kind (passed over or not): its bytes and where it
        starts."""

    def entries(self) -> Iterator[Entry]:
        """The intact entries appended since the last call, in ``seq`` order.

        Raises :class:`JournalError` when an entry read before is no longer there (a write
        that then failed was cut off after it was read) or a line before the newest is
        damaged, as :func:`.log.read` does."""
        segments = _segments(self._dir)
        if self._segment is not None:
            self._check_last(self._segment)
            # Zero-padded numbers: the names sort as the segments follow each other.
            segments = [p for p in segments if p.name >= self._segment.name]
        for i, path in enumerate(segments):
            start = self._offset if path == self._segment else 0
            yield from self._read(path, start, newest=i == len(segments) - 1)

    def read_on(self) -> tuple[list[Entry], bool]:
        """:meth:`entries` as a list, and whether the journal was read again from its start
        (True: an entry read before was cut off, so what the caller made of the earlier
        reads is to be dropped and made again from these). Damage is :class:`JournalError`,
        as a whole read says it."""
        try:
            return list(self.entries()), False
        except JournalError:
            self.restart()
            return list(self.entries()), True

    def restart(self) -> None:
        """Read from the journal's start at the next call."""
        self._segment, self._offset, self._lines, self._last = None, 0, 0, None

    def _read(self, path: Path, start: int, *, newest: bool) -> Iterator[Entry]:
        begin, first = start, (self._lines + 1 if path == self._segment else 1)
        for number, (entry, end, line) in enumerate(
            lines_passing(path, self._passing, last_segment=newest, start=start, first=first),
            start=first,
        ):
            self._segment, self._offset, self._lines = path, end, number
            self._last = (line, begin)
            begin = end
            if entry is not None and (self._wanted is None or entry.kind in self._wanted):
                yield entry

    def _check_last(self, path: Path) -> None:
        """The last line read is still where it was read, byte for byte: else a write was
        cut off after it was read, and what was read of it must be read again from the
        start."""
        if self._last is None:
            return
        line, where = self._last
        try:
            with path.open("rb") as handle:
                handle.seek(where)
                there = handle.read(len(line) + 1)
        except FileNotFoundError:
            there = b""
        if there != line + b"\n":
            read = _parse(line)  # intact when it was read
            seq = f"{read.seq:,}" if read is not None else "?"
            raise JournalError(
                f"{path}: entry {seq}, read before, is gone (a write that failed was cut "
                "off after it was read); read the journal again from its start"
            )
