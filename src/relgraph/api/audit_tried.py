"""``relgraph audit tried``: the audit lines whose search or missed lookup sent a text.

The log keeps such texts only as HMACs under the audit key (``searched_hmac``,
``tried_hmac``), so a search under another key finds nothing, whatever the log holds: an
auditor after a key rotation would read "no line tried that text" of a log that holds
dozens. So the log's first line must be sealed under the key given, else the search stops
naming both keys' situation (:class:`WrongKeyError`).
"""

from __future__ import annotations

import json
from pathlib import Path

from relgraph.api.audit_key import AuditKey
from relgraph.api.audit_lines import sealed


class WrongKeyError(Exception):
    """The log was not written under the key given; nothing it holds can be matched."""


def lines_that_tried(path: Path, key: AuditKey, text: str) -> list[str]:
    """The lines of the log whose search or missed lookup sent ``text``, as written (a line
    that is no JSON is skipped: ``verify`` is what names damage).

    Raises
    ------
    WrongKeyError
        When the log's first line is not sealed under ``key``.
    """
    mac = key.text_mac(text)
    found: list[str] = []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1 and not _sealed(raw, key):
                raise WrongKeyError(
                    f"{path}: its first line is not sealed under this audit key "
                    f"({key.key_id}, from {key.source}), so no text can be matched in it: it "
                    "was written under another key (before a rotation: give the key it was "
                    "written under) or altered (`relgraph audit verify` says which)"
                )
            if mac.encode() not in raw:  # most lines: no JSON parse
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if mac in record.get("searched_hmac", ()) or mac in record.get("tried_hmac", ()):
                found.append(raw.decode("utf-8").rstrip("\n"))
    return found


def _sealed(raw: bytes, key: AuditKey) -> bool:
    try:
        record = json.loads(raw)
    except ValueError:
        return False
    return isinstance(record, dict) and sealed(record, key)
