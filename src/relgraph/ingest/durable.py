"""Writing a small file of the data directory whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path


def write_text_durably(path: Path, text: str, tmp: Path) -> None:
    """Write ``text`` (UTF-8) to ``path`` through ``tmp`` beside it: written, fsynced, then
    renamed into place, so a crash leaves the old file or the new one. When a step fails (a
    full disk) ``tmp`` is removed: no half file is left where nothing would remove it.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_text_durably(folder / "a.json", "{}", folder / "a.tmp")
    >>> sorted(p.name for p in folder.iterdir()), (folder / "a.json").read_text()
    (['a.json'], '{}')
    """
    try:
        with tmp.open("w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
