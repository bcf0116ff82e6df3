"""What a validation ran on: the stored settings and engine, the data, the code and the date."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from relgraph.model import PERSONS_TABLE, POSSIBLE_DUPLICATES_TABLE, TABLES
from relgraph.store.base import Store


def _git(*args: str) -> str | None:
    here = Path(__file__).resolve().parent
    try:
        done = subprocess.run(
            ["git", "-C", str(here), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_commit() -> str | None:
    """The commit of the relgraph source tree, ``-dirty`` when tracked files were changed;
    None when it is not a git checkout (an installed wheel)."""
    commit = _git("rev-parse", "HEAD")
    if not commit:
        return None
    changed = _git("status", "--porcelain", "--untracked-files=no")
    return f"{commit}-dirty" if changed else commit


def _key(table: str) -> list[str] | None:
    """One column to count a table's rows by, so counting does not read every column."""
    if table in TABLES:
        return [TABLES[table].columns[0].name]
    return {PERSONS_TABLE: ["person_id"], POSSIBLE_DUPLICATES_TABLE: ["customer_a"]}.get(table)


def relgraph_version() -> str:
    try:
        return version("relgraph")
    except PackageNotFoundError:
        return "unknown"


def about(
    store: Store, settings: pd.DataFrame, truth_folder: Path, truth_files: list[str]
) -> dict[str, Any]:
    """The settings row ``analyze`` stored, the load metadata, table sizes, version and date."""
    row = settings.iloc[0]
    stored: dict[str, Any] = {}
    for column in settings.columns:
        value = row[column]
        try:
            stored[column] = json.loads(str(value)) if str(value).startswith("{") else value
        except json.JSONDecodeError:
            stored[column] = str(value)
    meta = store.meta()
    sizes = {name: store.read_table(name, _key(name)).num_rows for name in store.table_names()}
    return {
        "validated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "relgraph_version": relgraph_version(),
        "git_commit": git_commit(),
        "truth_folder": str(truth_folder),
        "truth_files": truth_files,
        "data_fingerprint": meta.get("fingerprint"),
        "data_loaded_at": meta.get("loaded_at"),
        "data_source": meta.get("source"),
        "table_rows": sizes,
        "engine": str(stored.pop("engine", "local")),
        "analysed_at": str(stored.pop("analysed_at", "")) or None,
        "versions": stored.pop("versions", {}),
        "settings": stored,
    }
