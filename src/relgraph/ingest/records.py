"""Where each record of a CSV file is, in the file's own bytes; and transcoding to UTF-8.

DuckDB numbers what it reads by record, not by physical line, and keeps no byte of a line
it rejects beyond a lossy, cut copy. Quarantine needs both: the physical line a record
starts on (after quoted newlines and blank lines) and its exact original bytes. One pass
over the file's bytes in chunks finds every record boundary with numpy (a newline ends a
record unless it is inside a quoted field), so it stays fast on files of many GB; a file
in another encoding is decoded and written out as UTF-8 in the same pass.

The byte-level scan is valid for every supported encoding: in UTF-8, GB18030/GBK and Big5
the bytes of ``"`` (0x22) and newline (0x0A) never occur inside a multi-byte character.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

import numpy as np
import numpy.typing as npt

from relgraph.ingest.errors import IngestError
from relgraph.ingest.stray_utf8 import stray_utf8_lines

CHUNK: Final = 16 << 20
"""Bytes read at a time: large enough for numpy to pay, small enough to stay in memory."""
_NL: Final = 10
_CR: Final = 13
_QUOTE: Final = 34
_COMMA: Final = 44
_UTF8_BOM: Final = b"\xef\xbb\xbf"
_WORKBOOK: Final = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
"""The first bytes of an .xlsx (a zip archive) and of an .xls (an OLE2 compound file)."""
_PYTHON_CODEC: Final = {
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8",
    "gb18030": "gb18030",
    # GB18030 decodes every GBK byte sequence to the same character and adds the rare
    # hanzi of names (䶮, 𠇔) that exports labelled GBK carry anyway: read as GBK, such a
    # file would stop at the first rare name.
    "gbk": "gb18030",
    "big5": "big5",
}
_SUGGESTED: Final = (("gb18030", "GBK/GB18030"), ("big5", "Big5"), ("utf-8", "UTF-8"))

Int64s = npt.NDArray[np.int64]
_SHOWN_LINES: Final = 5
"""Lines named in a note; the rest are counted."""


@dataclass(frozen=True, eq=False)
class Records:
    """The logical lines of a CSV file after its header, as spans of the file's bytes.

    Attributes
    ----------
    header : list of str
        The header's fields, decoded and trimmed.
    starts, ends : ndarray of int64
        Each logical line's first byte and the byte after its last (terminator excluded).
    lines : ndarray of int64
        The physical line (1-based, header on line 1) each logical line starts on.
    data : Path
        The UTF-8 file DuckDB should read: the input itself, or its transcoded copy.
    mixed_endings : bool
        Some lines end in CRLF and others in LF alone (files of two systems concatenated),
        which DuckDB's reader refuses: :func:`evened_copy` makes a copy it reads.
    line_boms : bool
        A line after the first starts with a byte order mark (a second export, BOM and
        all, appended to the first): :func:`evened_copy` drops it, or it would become part
        of that line's first value (a key ``\ufeffC4`` that names no one).
    """

    header: list[str]
    starts: Int64s
    ends: Int64s
    lines: Int64s
    data: Path
    mixed_endings: bool = False
    line_boms: bool = False
    utf8_lines: tuple[int, ...] = ()
    unterminated: int | None = None
    """The physical line of the last record when the file does not end with a line break
    (an export cut mid-line loads a short last value without any other sign)."""

    @property
    def uneven(self) -> bool:
        """DuckDB must read an :func:`evened_copy` of the data."""
        return self.mixed_endings or self.line_boms

    @property
    def blank(self) -> npt.NDArray[np.bool_]:
        """Empty lines: DuckDB skips them, they are no record."""
        blank: npt.NDArray[np.bool_] = self.ends == self.starts
        return blank

    def notes(self, encoding: str) -> tuple[str, ...]:
        """What a person should check in the file (``TableReport.notes``); ``encoding``:
        the file's, as named."""
        notes: list[str] = []
        if self.utf8_lines:
            shown = ", ".join(str(n) for n in self.utf8_lines[:_SHOWN_LINES])
            more = len(self.utf8_lines) - _SHOWN_LINES
            notes.append(
                f"line(s) {shown}{f' and {more:,} more' if more > 0 else ''} are UTF-8 text in "
                f"a {encoding} file (appended from another system?) and were read as UTF-8"
            )
        if self.unterminated is not None:
            notes.append(
                f"the file does not end with a line break: its last line (line "
                f"{self.unterminated}) may have been cut short; compare it with the source"
            )
        return tuple(notes)


def python_codec(encoding: str) -> str:
    return _PYTHON_CODEC[encoding]


def scan(path: Path, encoding: str, transcoded: Path | None, delimiter: str = ",") -> Records:
    """Find every logical line of ``path`` and, when ``transcoded`` is given, write it as UTF-8.

    Raises
    ------
    IngestError
        When the file is empty, or its header row is not valid in ``encoding``.
    """
    codec = python_codec(encoding)
    # A value opens a quote right after the separator: its last byte is enough to tell.
    sep = ord(delimiter[-1])
    terminators: list[Int64s] = []
    term_lines: list[Int64s] = []
    crs: list[npt.NDArray[np.bool_]] = []
    in_quote = False
    newlines_before = 0
    base = 0
    data_start = 0
    carry = b""
    header: list[str] | None = None
    size = 0
    boms = False
    stray: list[int] = []
    last_byte = _NL
    out: BinaryIO | None = None
    try:
        if transcoded is not None:
            out = transcoded.open("wb")
        with path.open("rb") as handle:
            first = True
            while True:
                block = handle.read(CHUNK)
                eof = not block
                buffer = carry + block
                if first:
                    first = False
                    if buffer.startswith((b"\xff\xfe", b"\xfe\xff")):
                        raise IngestError(
                            f'{path.name} is UTF-16 (Excel\'s "Unicode text"), which '
                            'relgraph does not read: save it as "CSV UTF-8" or convert it '
                            "(iconv -f UTF-16 -t UTF-8), then load again"
                        )
                    if buffer.startswith(_WORKBOOK):
                        # Read as text, a workbook fails on its first bytes with advice to
                        # try GB18030, which decodes almost any bytes: say what it is.
                        raise IngestError(
                            f"{path.name} is an Excel workbook, not a CSV file: open it and "
                            'save it as "CSV UTF-8 (comma delimited)"'
                        )
                    if buffer.startswith(_UTF8_BOM) and codec == "utf-8":
                        data_start = base = len(_UTF8_BOM)
                        buffer = buffer[len(_UTF8_BOM) :]
                if eof:
                    piece, carry = buffer, b""
                else:
                    cut = buffer.rfind(b"\n")
                    if cut < 0:
                        carry = buffer
                        continue
                    piece, carry = buffer[: cut + 1], buffer[cut + 1 :]
                if piece:
                    arr = np.frombuffer(piece, dtype=np.uint8)
                    nl = np.flatnonzero(arr == _NL)
                    ending, in_quote = _terminators(arr, nl, in_quote, sep)
                    local = nl[ending]
                    terminators.append(local + base)
                    # A CR before the newline (CRLF files) is not part of the line.
                    crs.append((local > 0) & (arr[np.maximum(local - 1, 0)] == _CR))
                    term_lines.append(np.flatnonzero(ending) + newlines_before + 1)
                    newlines_before += nl.size
                    if header is None:
                        header = _header(path, piece, codec, terminators[0], data_start, delimiter)
                        _refuse_utf8_as_legacy(path, piece, encoding)
                    utf8 = piece
                    if out is not None:
                        utf8, strays = _transcoded(piece, arr, nl, codec)
                        out.write(utf8)
                        # The piece's newlines are already counted in newlines_before.
                        line_one = newlines_before - nl.size + 1
                        stray += (np.searchsorted(nl, strays) + line_one).tolist()
                    # Pieces are cut after a newline: one starting with a BOM starts a line.
                    boms = boms or (size > 0 and utf8.startswith(_UTF8_BOM))
                    boms = boms or b"\n" + _UTF8_BOM in utf8
                    base += len(piece)
                    size += len(piece)
                    last_byte = piece[-1]
                if eof:
                    break
    except OSError as exc:
        raise IngestError(f"{path}: cannot be read: {exc}") from exc
    finally:
        if out is not None:
            out.close()
    if size == 0 or header is None or not header:
        raise IngestError(f"{path}: the file is empty; a header row naming the columns is needed")
    ends_at = np.concatenate(terminators) if terminators else np.empty(0, np.int64)
    cr = np.concatenate(crs) if crs else np.empty(0, np.bool_)
    lines_at = np.concatenate(term_lines) if term_lines else np.empty(0, np.int64)
    end_of_file = data_start + size
    # Logical line i starts after terminator i - 1; a last line without a newline counts.
    starts = np.concatenate(([data_start], ends_at + 1))
    ends = np.concatenate((ends_at - cr, [end_of_file]))
    lines = np.concatenate(([1], lines_at + 1))
    if starts[-1] >= end_of_file:
        starts, ends, lines = starts[:-1], ends[:-1], lines[:-1]
    physical = newlines_before + (0 if last_byte == _NL else 1)
    _check_quotes(path.name, lines, in_quote, physical)
    mixed = bool(cr.any()) and not bool(cr.all())
    data = transcoded or path
    unterminated = int(lines[-1]) if last_byte != _NL and lines.size > 1 else None
    return Records(
        header, starts[1:], ends[1:], lines[1:], data, mixed, boms, tuple(stray), unterminated
    )


_MAX_RECORD_LINES: Final = 50
"""The most physical lines one record may run over: a quoted value may hold line breaks
(an address on two lines), but a record of more is a stray quote swallowing the lines
after it, which would load as one malformed record and lose every row in it."""


def _check_quotes(name: str, lines: Int64s, in_quote: bool, physical: int) -> None:
    """Stop on a quote that opens a value and never closes, or closes only after
    :data:`_MAX_RECORD_LINES` lines: the rows in between would be lost silently (one
    malformed record among many is under every refusal limit)."""
    fix = (
        'a quote inside a value must be doubled (""), or the export cut a quoted value '
        "short; fix that line and load again"
    )
    # An open quote on the last line swallows nothing: that line is quarantined whole.
    if in_quote and physical > int(lines[-1]):
        raise IngestError(
            f"{name} line {int(lines[-1])}: a quote opens a value and never closes, so the "
            f"{physical - int(lines[-1]):,} lines after it would be read as part of one "
            f"record; {fix}"
        )
    spans = np.diff(np.append(lines, physical + 1))
    longest = int(np.argmax(spans)) if spans.size else 0
    if spans.size and int(spans[longest]) > _MAX_RECORD_LINES:
        first = int(lines[longest])
        raise IngestError(
            f"{name} line {first}: a quoted value runs over {int(spans[longest]):,} lines "
            f"(to line {first + int(spans[longest]) - 1}), so they would be read as one "
            f"record; {fix}"
        )


def evened_copy(source: Path, target: Path) -> None:
    """Copy UTF-8 ``source`` to ``target`` with every CRLF as LF and no byte order mark
    starting a line after the first, in chunks.

    Chunks are cut after a newline, so no CRLF is split between two and a chunk after
    the first starts a line. A CRLF inside a quoted value becomes LF too, as a value's line
    break written by either system. The lines stay the lines of ``source``.
    """
    try:
        with source.open("rb") as handle, target.open("wb") as out:
            carry = b""
            first = True
            while block := handle.read(CHUNK):
                buffer = carry + block
                cut = buffer.rfind(b"\n") + 1
                piece, carry = buffer[:cut], buffer[cut:]
                out.write(_evened(piece, first))
                first = first and not piece
            out.write(_evened(carry, first))
    except OSError as exc:
        raise IngestError(f"{source}: cannot be read: {exc}") from exc


def _evened(piece: bytes, first: bool) -> bytes:
    piece = piece.replace(b"\r\n", b"\n").replace(b"\n" + _UTF8_BOM, b"\n")
    if not first and piece.startswith(_UTF8_BOM):
        piece = piece[len(_UTF8_BOM) :]
    return piece


def _terminators(
    arr: npt.NDArray[np.uint8], nl: Int64s, in_quote: bool, sep: int = _COMMA
) -> tuple[npt.NDArray[np.bool_], bool]:
    """Which newlines of ``arr`` end a record, and whether ``arr`` ends inside quotes.

    Fast path: when every quote that would open a field sits at a field's start, quote
    parity alone says which newlines are quoted (an escaped ``""`` toggles twice). A quote
    inside an unquoted value (``ab"c``) is a literal to DuckDB, and parity would be wrong,
    so such a chunk takes the exact state machine over its quotes and newlines.
    """
    quotes = np.flatnonzero(arr == _QUOTE)
    if quotes.size == 0:
        return np.full(nl.size, not in_quote), in_quote
    # Quote j opens a field when an even number of quotes precede it in the record.
    opening = quotes[1 if in_quote else 0 :: 2]
    previous = arr[opening[opening > 0] - 1]
    at_start = (previous == sep) | (previous == _NL) | (previous == _QUOTE)
    if not bool(at_start.all()):
        return _terminators_exact(arr, nl, in_quote, sep)
    ends = ((np.searchsorted(quotes, nl) + int(in_quote)) & 1) == 0
    return ends, bool((quotes.size + int(in_quote)) & 1)


def _terminators_exact(
    arr: npt.NDArray[np.uint8], nl: Int64s, in_quote: bool, sep: int = _COMMA
) -> tuple[npt.NDArray[np.bool_], bool]:
    quotes = np.flatnonzero(arr == _QUOTE)
    events = np.sort(np.concatenate((nl, quotes)))
    ends = np.zeros(nl.size, dtype=np.bool_)
    newline = 0
    skip = False
    n = arr.size
    for pos in events.tolist():
        if arr[pos] == _NL:
            ends[newline] = not in_quote
            newline += 1
            continue
        if skip:
            skip = False
        elif in_quote:
            if pos + 1 < n and arr[pos + 1] == _QUOTE:
                skip = True  # an escaped quote inside a quoted field
            else:
                in_quote = False
        elif pos == 0 or arr[pos - 1] in (sep, _NL):
            in_quote = True
    return ends, in_quote


def _header(
    path: Path, piece: bytes, codec: str, terminators: Int64s, start: int, delimiter: str = ","
) -> list[str]:
    end = int(terminators[0]) - start if terminators.size else len(piece)
    raw = piece[:end]
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError as exc:
        raise decoding_error(path.name, 1, start + exc.start, raw, codec) from exc
    # A byte-order mark decoded from GB18030 (or a doubled one) is no part of a name.
    try:
        # The csv module splits on one character: a longer separator becomes one it
        # cannot meet in a header (the unit separator).
        one = delimiter if len(delimiter) == 1 else "\x1f"
        text = text if len(delimiter) == 1 else text.replace(delimiter, one)
        rows = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=one)
        first = next(rows, None)
    except csv.Error as exc:
        ending = (
            " (its lines end in CR alone, as old Mac software wrote them)" if "\r" in text else ""
        )
        raise IngestError(
            f"{path.name}: the header cannot be read as CSV{ending}: {exc}; save the file with "
            "LF or CRLF line endings"
        ) from None
    return [c.strip() for c in first] if first else []


def _refuse_utf8_as_legacy(path: Path, piece: bytes, encoding: str) -> None:
    """Stop when a file given as GB18030/GBK/Big5 is in fact UTF-8 Chinese text.

    GB18030 decodes most UTF-8 byte sequences into other characters, so the load would
    succeed with every name garbled; text of any length that is valid UTF-8 and not
    ASCII is UTF-8.
    """
    if python_codec(encoding) == "utf-8" or piece.isascii():
        return
    try:
        piece.decode("utf-8")
    except UnicodeDecodeError:
        return
    raise IngestError(
        f"{path.name} was given as {encoding} but is UTF-8 text; load it with "
        "--encoding utf-8 or set encoding: utf-8 for it in the mapping file"
    )


def _transcoded(
    piece: bytes, arr: npt.NDArray[np.uint8], nl: Int64s, codec: str
) -> tuple[bytes, Int64s]:
    """``piece`` as UTF-8, each UTF-8 line of a GB18030 file kept as it is; the offsets of
    those lines in ``piece``."""
    spans = stray_utf8_lines(arr, nl) if codec == "gb18030" else []
    if not spans:
        return _transcode(piece, codec), np.empty(0, np.int64)
    parts: list[bytes] = []
    at = 0
    for start, end in spans:
        parts += [_transcode(piece[at:start], codec), piece[start:end]]
        at = end
    parts.append(_transcode(piece[at:], codec))
    return b"".join(parts), np.array([start for start, _ in spans], dtype=np.int64)


def _transcode(piece: bytes, codec: str) -> bytes:
    try:
        return piece.decode(codec).encode("utf-8")
    except UnicodeDecodeError:
        pass
    # Undecodable bytes pass through as they are: DuckDB then rejects that line as not
    # UTF-8 and quarantine keeps its original bytes (from the input, not this copy).
    try:
        return piece.decode(codec, "surrogateescape").encode("utf-8", "surrogateescape")
    except UnicodeError:
        return piece.decode(codec, "replace").encode("utf-8")


def _bad_at(raw: bytes, codec: str) -> int | None:
    try:
        raw.decode(codec)
    except UnicodeDecodeError as exc:
        return int(exc.start)
    return None


def first_bad_byte(raw: bytes, codec: str) -> int:
    """Offset in ``raw`` of its first byte not valid in ``codec`` (0 when it decodes)."""
    return _bad_at(raw, codec) or 0


def undecodable(raw: bytes, codec: str) -> bool:
    """Whether ``raw`` holds a byte not valid in ``codec``."""
    return _bad_at(raw, codec) is not None


def decoding_error(
    name: str, line: int, offset: int, raw: bytes, codec: str, *, last: bool = False
) -> IngestError:
    """The error for a file that is not in the encoding it was read with.

    Names the file, the physical line and the byte offset, and suggests an encoding that
    does decode the line. ``last``: the line is the file's last and has no line break.
    """
    message = f"{name} line {line}, byte {offset}: not valid {codec}"
    if last:
        try:
            raw.decode(codec)
        except UnicodeDecodeError as exc:
            if exc.reason == "unexpected end of data" and exc.start > 0:
                # Valid but for a character its last bytes only begin, at the end of a
                # file with no last line break: the file was cut there (GB18030 would read
                # those bytes as other characters, and the advice would go round in circles).
                return IngestError(
                    f"{message}: the file ends in the middle of a character, as a file cut "
                    "short does; export or copy it again"
                )
    for candidate, what in _SUGGESTED:
        if candidate == codec:
            continue
        try:
            raw.decode(candidate)
        except UnicodeDecodeError:
            continue
        return IngestError(
            f"{message}; if this file is {what}, give --encoding {candidate} "
            "(or, for a load, set encoding in the mapping file)"
        )
    return IngestError(
        f"{message}, nor in any encoding relgraph reads (utf-8, gb18030, big5); "
        "re-export the file or set its encoding in the mapping file"
    )


def read_span(path: Path, start: int, end: int) -> bytes:
    with path.open("rb") as handle:
        handle.seek(start)
        return handle.read(end - start)
