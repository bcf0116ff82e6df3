"""The machine's and the process's memory, as Linux reports it (``/proc``): psutil is not
a dependency. Each reads None where the file is missing (another system)."""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable
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


def give_back() -> bool:
    """Hand the C allocator's free pages back to the system (glibc's ``malloc_trim``);
    False where there is none (another C library, another system).

    glibc returns freed memory by itself only from the top of its heaps: what a refresh
    frees in the middle (the old model's arrays, the build's frames, between blocks that
    stay) was kept resident, 425-530 MiB at 100,000 customers after a refresh
    (benchmarks/RESULTS.md). The call walks the free lists with the interpreter lock
    released (ctypes), 40-260 ms at 100,000 customers.
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the process's own C library
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim
