"""One audit line: its canonical form, its seal, and what :func:`check_line` finds wrong
with it (the trail's chain and anchor are :mod:`relgraph.api.audit`)."""

from __future__ import annotations

import hmac
import json
from typing import Any, Final

from relgraph.api.audit_anchor import Anchor
from relgraph.api.audit_key import AuditKey

MAX_LINE_BYTES: Final = 16 * 1024
"""No line is longer (new line included); the log's bounds keep every line under it."""
PURPOSE: Final = b"relgraph-audit-line"


def canonical(record: dict[str, Any]) -> bytes:
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def sealed(record: dict[str, Any], key: AuditKey) -> bool:
    """Whether ``record`` (a parsed line, ``mac`` included) carries its seal under ``key``."""
    mac, body = record.get("mac"), {k: v for k, v in record.items() if k != "mac"}
    return isinstance(mac, str) and hmac.compare_digest(mac, key.mac(PURPOSE, canonical(body)))


def check_line(
    raw: bytes, number: int, prev: str, key: AuditKey, anchor: Anchor | None
) -> str | None:
    """What is wrong with line ``number`` (``raw``, its end of line included) after the
    line whose MAC is ``prev``; None when nothing is."""
    if not raw.endswith(b"\n"):
        if len(raw) > MAX_LINE_BYTES:
            return f"line {number} is longer than relgraph writes (16 KiB): it was forged"
        return f"line {number} is incomplete (no end of line): a torn write or a forged line"
    try:
        record = json.loads(raw)
        mac = record.pop("mac")
        if not isinstance(record, dict) or not isinstance(mac, str):
            raise TypeError
    except (ValueError, TypeError, KeyError, AttributeError):
        return (
            f"line {number} is not a sealed audit record (forged, or written before the "
            "audit chain was keyed)"
        )
    if not hmac.compare_digest(mac, key.mac(PURPOSE, canonical(record))):
        if anchor is not None and number > anchor.lines:
            return (
                f"line {number} was appended after the anchored line {anchor.lines} without "
                "the key: a forged line"
            )
        return f"line {number} was altered or forged: its seal does not match the key"
    if raw != canonical({**record, "mac": mac}) + b"\n":
        # relgraph writes each line in its canonical form: text beside the sealed record
        # (a field written twice, of which JSON keeps the last) is what a reader may grep.
        return (
            f"line {number} is not as relgraph wrote it (a field written twice, or the text "
            "reformatted, around a sealed record): it was altered"
        )
    seq = record.get("seq")
    if seq != number:
        if isinstance(seq, int) and seq > number:
            return f"line {number} is record {seq}: {seq - number} line(s) before it were removed"
        return f"line {number} is record {seq}: lines were reordered or repeated"
    if record.get("prev") != prev:
        return f"line {number} does not follow line {number - 1}: lines were removed or reordered"
    return None
