"""Writing a small file of the data directory whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path


def write_text_durably(path: Path, text: str, tmp: Path) -> None:
    """Write ``text`` (UTF-8) to ``path`` (mode 0600) through ``tmp`` beside it: written,
    fsynced, then renamed into place, so a crash leaves the old file or the new one. When a
    step fails (a full disk) ``tmp`` is removed: no half file is left where nothing would
    remove it.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_text_durably(folder / "a.json", "{}", folder / "a.tmp")
    >>> sorted(p.name for p in folder.iterdir()), (folder / "a.json").read_text()
    (['a.json'], '{}')
    """
    try:
        # Its owner's alone, as every file of the data directory, whatever the umask.
        with open(
            os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8"
        ) as handle:
            os.fchmod(handle.fileno(), 0o600)  # a tmp left by a crash keeps its old mode
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
