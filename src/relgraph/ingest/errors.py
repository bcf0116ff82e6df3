"""The one exception ingest raises for input it refuses to load, and the errors it makes of
writes the disk refused."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Final


class IngestError(ValueError):
    """The input directory cannot be loaded at all; nothing was written.

    Raised for a missing required table or column, a table given both as CSV and
    as Parquet, or a file that cannot be parsed. The message names the file, the
    table and the column concerned.
    """


_DISK_REFUSED: Final = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})
"""Errors of a write the disk refused (full, over quota, a file-size limit, read-only)."""
_DISK_REFUSED_TEXT: Final = ("No space left on device", "Disk quota exceeded")
"""The same as DuckDB words them: it wraps the OS error in its own message (and JSON)."""


def disk_refused(exc: BaseException) -> str | None:
    """Why the disk refused the write that raised ``exc`` (``No space left on device``), or
    None when ``exc`` is not such a refusal."""
    if isinstance(exc, OSError) and exc.errno in _DISK_REFUSED:
        return exc.strerror or str(exc)
    text = str(exc)
    return next((cause for cause in _DISK_REFUSED_TEXT if cause in text), None)


def processing_error(data_dir: Path, exc: Exception) -> IngestError:
    """The one line for a load that failed before its commit: a disk that refused a write in
    ``data_dir`` (staged quarantine files, the pending record) says so and what to do, not
    that the input was at fault."""
    cause = disk_refused(exc)
    if cause is not None:
        return IngestError(
            f"cannot write in {data_dir}: {cause}; free disk space there (the store, "
            "quarantine and report of the last good load are as they were), then load again"
        )
    return IngestError(f"load failed while processing the input: {exc}")
