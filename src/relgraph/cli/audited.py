"""The audit line of a command that hands out customers' data (``relgraph audience``,
``relgraph decide``): written before anything is printed or exported, under the same append
lock as a running server; a trail that cannot be written hands out nothing.

The command runs as an OS user of the data directory, who could read the store files
without relgraph: the line proves what relgraph's own tools handed out, and to which OS
user (``cli:<user>``, role ``operator``), as a server's line proves what a key was served.
"""

from __future__ import annotations

import getpass
import os
from typing import Any

from relgraph.cli.common import fail
from relgraph.config import ConfigError, Settings


def os_user() -> str:
    """The login name, or the numeric uid where there is none (a container user)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def audit_command(
    settings: Settings,
    operation: str,
    refused: str,
    *,
    tried: list[str] | None = None,
    **entry: Any,
) -> None:
    """Append the command's line (``entry``: ``ids`` and what else it says) or fail with
    ``refused`` (what was not done) and why, exit 2. ``tried`` are ids the command looked up
    and did not find: kept as ``tried_hmac``, their HMACs under the audit key, as the API
    keeps a lookup that named nobody (an answer that an id does not exist says something)."""
    from relgraph.api.audit import AuditError, open_audit_log

    try:
        audit = open_audit_log(settings.data_dir, settings.audit, production=settings.production)
        if tried:
            entry["tried_hmac"] = sorted({audit.key.text_mac(t) for t in tried})
        audit.append(key_id=f"cli:{os_user()}", role="operator", operation=operation, **entry)
    except (ConfigError, AuditError) as exc:
        fail(f"{refused}: the audit trail cannot be written: {exc}")
