"""Who holds the embedded store's file lock, in the words an operator needs.

DuckDB refuses a second process at once ("Could not set lock on file …: Conflicting lock is
held in …/python3.11 (PID 1234)"): every relgraph command is a ``python`` to it, so its
message names neither the command (a nightly ``analyze``, a server building its graph) nor
what to do, and suggests a ``-readonly`` flag relgraph has not got.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from relgraph.store.lock_wait import duration

_PID = re.compile(r"\(PID (\d+)\)")
_WRITERS = frozenset({"load", "analyze", "demo"})
_READING = {
    "serve": "reads it while it builds its graph (at start, and on SIGHUP or a refresh)",
    "demo": "loads, analyses and reads it",
    "stats": "reads it",
    "validate": "reads it",
    "audience": "reads it",
}


def lock_conflict(text: str) -> bool:
    """Whether DuckDB's error ``text`` is another process's lock on the file."""
    return "Could not set lock on file" in text or "Conflicting lock" in text


def holder_pid(text: str) -> int | None:
    """The process DuckDB's error ``text`` names as holding the lock."""
    found = _PID.search(text)
    return int(found.group(1)) if found else None


def relgraph_command(pid: int) -> str | None:
    """The relgraph command process ``pid`` runs (``analyze``, ``serve``, …), else None."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace").split("\0")
    except OSError:
        return None
    for i, arg in enumerate(argv):
        # `relgraph analyze`, `python -m relgraph analyze`, `python -m relgraph.cli analyze`
        if arg in ("relgraph", "relgraph.cli") or arg.endswith("/relgraph"):
            rest = [a for a in argv[i + 1 :] if a and not a.startswith("-")]
            return rest[0] if rest else None
    return None


def running_for(pid: int) -> float | None:
    """Seconds process ``pid`` has run (None where ``/proc`` does not say)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text("ascii", errors="replace")
        started = int(stat.rsplit(")", 1)[1].split()[19])  # field 22, starttime, in ticks
        uptime = float(Path("/proc/uptime").read_text("ascii").split()[0])
        return max(uptime - started / os.sysconf("SC_CLK_TCK"), 0.0)
    except (OSError, IndexError, ValueError):
        return None


def in_use(path: Path, text: str, *, read_only: bool) -> tuple[str, str]:
    """What a command that met another process's lock on ``path`` says, in two parts: which
    process holds it and what that process does with it; and what to do (a command that
    waits for it says the first only)."""
    pid = holder_pid(text)
    command = None if pid is None else relgraph_command(pid)
    if pid is None:
        who = "another process"
    else:
        age = running_for(pid)
        ran = "" if age is None else f", running for {duration(age)}"
        who = (
            f"`relgraph {command}` (pid {pid}{ran})"
            if command is not None
            else f"another process (pid {pid}{ran})"
        )
    if command in _WRITERS:
        doing = "is writing it (one process may write the store, and none read it meanwhile)"
        then = "wait for it to finish, then run this again"
    elif command in _READING:
        doing = _READING[command]
        then = "run this again when it is done"
    else:
        doing = "has it open" + ("" if read_only else " (a store has one writer, or readers)")
        then = "wait for it to end or stop it, then run this again"
    return f"the store {path} is in use: {who} {doing}", then
