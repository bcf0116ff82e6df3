"""The machine's and the process's memory, as Linux reports it (``/proc``): psutil is not
a dependency. Each reads None where the file is missing (another system)."""

from __future__ import annotations

from pathlib import Path

MEMINFO = Path("/proc/meminfo")
STATUS = Path("/proc/self/status")


def _field(path: Path, name: str) -> int | None:
    """A ``Name:   123 kB`` line of ``path``, in bytes."""
    try:
        with path.open() as f:
            for line in f:
                if line.startswith(name):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def available(meminfo: Path = MEMINFO) -> int | None:
    """The kernel's estimate of the memory available without swapping (bytes)."""
    return _field(meminfo, "MemAvailable:")


def resident() -> int | None:
    """This process's resident set (bytes)."""
    return _field(STATUS, "VmRSS:")
