"""A tamper-evident audit trail: JSON lines, each sealed with its hash and its predecessor's.

Each line is a JSON object with ``time``, ``key_id``, ``role``, ``operation``, ``ids``
(the persons, accounts and enterprises read), ``outcome``, ``request_id``, ``prev``
(the SHA-256 of the previous line as written, zeros for the first) and ``hash``
(SHA-256 of the line's other fields). Changing a line breaks its own hash; removing or reordering lines breaks
the ``prev`` link of the line after. (Cutting lines off the end leaves a shorter valid
chain: ship the log to a write-once store to guard against that.)
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

GENESIS = "0" * 64


def _line_hash(line: str) -> str:
    return hashlib.sha256(line.encode("utf-8")).hexdigest()


def _seal(record: dict[str, Any]) -> str:
    body = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


class AuditLog:
    """Appends one sealed line per audited request to ``path``; safe across threads."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._prev = self._last_hash()

    def _last_hash(self) -> str:
        if not self.path.exists() or self.path.stat().st_size == 0:
            return GENESIS
        with self.path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 65536))
            tail = handle.read().decode("utf-8").rstrip("\n").rsplit("\n", 1)[-1]
        return _line_hash(tail)

    def append(self, **entry: Any) -> None:
        record = {"time": datetime.now(UTC).isoformat(timespec="milliseconds"), **entry}
        with self._lock:
            record["prev"] = self._prev
            record["hash"] = _seal(record)
            line = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
            self._prev = _line_hash(line)


@dataclass(frozen=True)
class Verdict:
    """The outcome of :func:`verify`; ``bad_line`` is 1-based."""

    ok: bool
    lines: int
    message: str
    bad_line: int | None = None


def verify(path: Path) -> Verdict:
    """Check every line's seal and link; name the first line that was altered or moved."""
    path = Path(path)
    if not path.exists():
        return Verdict(False, 0, f"{path}: no audit log")
    prev = GENESIS
    count = 0
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip("\n")
            try:
                record = json.loads(line)
                sealed = record.pop("hash")
            except (ValueError, KeyError, TypeError, AttributeError):
                return Verdict(False, count, f"line {number} is not an audit record", number)
            if _seal(record) != sealed:
                return Verdict(False, count, f"line {number} was altered", number)
            if record.get("prev") != prev:
                return Verdict(
                    False,
                    count,
                    f"line {number} does not follow line {number - 1}: lines were removed "
                    "or reordered",
                    number,
                )
            prev = _line_hash(line)
            count = number
    return Verdict(True, count, f"{count} lines, chain intact")
