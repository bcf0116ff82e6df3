"""Which file in the input directory holds which table, and what is no table at all.

A file is a table's when it is named ``<table>.csv`` or ``<table>.parquet`` exactly, or
when the mapping file names it. Anything else stops the load unless the user says to
ignore it: a file silently skipped is rows silently lost.
"""

from __future__ import annotations

import hashlib
import os
import stat
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from relgraph import model
from relgraph.ingest.errors import IngestError
from relgraph.ingest.mapping import (
    MAPPING_FILE,
    NULL_MARKERS,
    FileMapping,
    LoadMapping,
    check_encoding,
    find_mapping,
)

FileFormat = Literal["csv", "parquet"]
SUFFIXES: Final[dict[str, FileFormat]] = {".csv": "csv", ".parquet": "parquet"}
_ALWAYS_IGNORED: Final = ("truth", MAPPING_FILE)
"""Entries of the input directory that are never tables: the synthetic bank's ground
truth and the mapping file (dotfiles too)."""


@dataclass(frozen=True)
class ReadOptions:
    """How to read the input directory (``relgraph load`` flags).

    Attributes
    ----------
    encoding : str or None
        ``--encoding``: files not given one by the mapping file; utf-8 when None.
    mapping : Path or None
        ``--mapping``; else ``mapping.yaml`` in the input directory, if there.
    ignore_unknown_files : bool
        List files and folders that are no table in the report instead of stopping.
    """

    encoding: str | None = None
    mapping: Path | None = None
    ignore_unknown_files: bool = False


@dataclass(frozen=True)
class InputFile:
    """One table's input file."""

    table: str
    path: Path
    format: FileFormat
    encoding: str = "utf-8"
    delimiter: str = ","
    """The character between values of a CSV file (mapping file; a comma by default)."""
    null_values: tuple[str, ...] = NULL_MARKERS
    """Texts read as no value in every column (``mapping.NULL_MARKERS`` and the mapping's)."""
    spec: FileMapping | None = None
    """What the mapping file says of this file, if anything."""
    timezone: str | None = None
    """Zone of naive timestamps, from the mapping file (else the validator's default)."""
    source_systems: tuple[str, ...] | None = None
    """The bank's source systems (mapping file), replacing the model's for this load."""


@dataclass(frozen=True)
class Inputs:
    """What the input directory holds: each table's file, and what was ignored."""

    files: dict[str, InputFile]
    ignored: tuple[str, ...] = ()
    mapping: LoadMapping | None = None


def find_inputs(source: Path, options: ReadOptions | None = None) -> dict[str, InputFile]:
    """The input file of every table present in ``source`` (see :func:`discover`)."""
    return discover(source, options).files


def discover(source: Path, options: ReadOptions | None = None) -> Inputs:
    """The input file of every table present in ``source``, and what is not a table.

    A file is a table's when it is named ``<table>.csv`` or ``<table>.parquet`` exactly, or
    when the mapping file names it. Anything else in ``source`` (``Family.CSV``,
    ``family.csv.gz``, a folder or a FIFO named like a table) stops the load, unless
    ``options.ignore_unknown_files``: a file silently skipped is rows silently lost.
    ``truth/``, the mapping file and dotfiles are always ignored. Entries are only
    ``stat``-ed, never opened, so a FIFO cannot block the load.

    Returns
    -------
    Inputs
        Files keyed by table name, in the model's dependency order (optional tables
        without a file are absent), the names ignored, and the mapping file.

    Raises
    ------
    IngestError
        When ``source`` is not a directory, a required table has no file, a table has two
        files, an entry is no table, or the mapping file is invalid.
    """
    options = options or ReadOptions()
    if not source.is_dir():
        raise IngestError(f"{source} is not a directory")
    mapping = find_mapping(source, options.mapping)
    default_encoding = (
        (mapping.encoding if mapping is not None else None)
        or (check_encoding(options.encoding) if options.encoding else None)
        or "utf-8"
    )
    mapping_path = mapping.path.resolve() if mapping is not None else None
    by_table: dict[str, list[InputFile]] = {}
    unknown: list[tuple[str, str]] = []
    for entry in sorted(os.scandir(source), key=lambda e: e.name):
        name = unicodedata.normalize("NFC", entry.name)
        if name.startswith(".") or name in _ALWAYS_IGNORED:
            continue
        path = Path(entry.path)
        if mapping_path is not None and path.resolve() == mapping_path:
            continue
        table, fmt, spec = _table_of(name, mapping)
        if table is None or fmt is None:
            unknown.append((name, _why_unknown(name, entry)))
            continue
        if not _is_regular_file(path):
            unknown.append((name, "is named like a table but is not a regular file"))
            continue
        by_table.setdefault(table, []).append(
            InputFile(
                table,
                path,
                fmt,
                encoding=(spec.encoding if spec is not None else None) or default_encoding,
                delimiter=(spec.delimiter if spec is not None else None)
                or (mapping.delimiter if mapping is not None else None)
                or ",",
                null_values=(
                    *NULL_MARKERS,
                    *(mapping.null_values if mapping is not None else ()),
                    *(spec.null_values if spec is not None else ()),
                ),
                spec=spec,
                timezone=(spec.timezone if spec is not None else None)
                or (mapping.timezone if mapping is not None else None),
                source_systems=mapping.source_systems if mapping is not None else None,
            )
        )
    if unknown and not options.ignore_unknown_files:
        name, why = unknown[0]
        others = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
        raise IngestError(
            f"{name!r} in {source} {why}{others}; name each table's file <table>.csv or "
            "<table>.parquet, map it in the mapping file, move it out, or load with "
            "--ignore-unknown-files"
        )
    found: dict[str, InputFile] = {}
    missing: list[str] = []
    for input_table in model.INPUT_TABLES:
        candidates = by_table.get(input_table.name, [])
        if len(candidates) > 1:
            raise IngestError(
                f"table {input_table.name!r} is given twice "
                f"({', '.join(c.path.name for c in candidates)}); keep one file per table"
            )
        if candidates:
            found[input_table.name] = candidates[0]
        elif input_table.required:
            missing.append(input_table.name)
    if missing:
        raise IngestError(
            f"required table(s) missing from {source}: {', '.join(missing)} "
            f"(expected {' or '.join(f'<table>{s}' for s in SUFFIXES)}, "
            "or a file the mapping file names)"
        )
    return Inputs(found, tuple(name for name, _ in unknown), mapping)


def _table_of(
    name: str, mapping: LoadMapping | None
) -> tuple[str | None, FileFormat | None, FileMapping | None]:
    spec = mapping.for_file(name) if mapping is not None else None
    stem, dot, suffix = name.rpartition(".")
    fmt = SUFFIXES.get(f".{suffix}") if dot else None
    if spec is not None:
        # The mapping names the file; its suffix still says how to read it.
        return spec.table, fmt or "csv", spec
    if fmt is not None and stem in model.TABLES:
        return stem, fmt, None
    return None, None, None


def _why_unknown(name: str, entry: os.DirEntry[str]) -> str:
    lowered = name.casefold()
    for table in model.INPUT_TABLES:
        for suffix in SUFFIXES:
            wanted = f"{table.name}{suffix}"
            if lowered == wanted:
                return f"is not a table file (did you mean {wanted}? names are case-sensitive)"
            if lowered.startswith(wanted + "."):
                return f"is not a table file (compressed or renamed {wanted}: decompress it)"
    kind = "folder" if entry.is_dir(follow_symlinks=True) else "file"
    return f"is a {kind} that is not a table"


def _is_regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def fingerprint(files: Sequence[InputFile], salt: str) -> str:
    """SHA-256 over ``salt`` and every file's table name, name, format, encoding and bytes.

    Two loads with the same fingerprint read identical input under identical rules,
    so the second one has nothing to change.
    """
    digest = hashlib.sha256(salt.encode())
    for f in sorted(files, key=lambda f: f.table):
        digest.update(f"\0{f.table}\0{f.path.name}\0{f.format}\0{f.encoding}\0".encode())
        with f.path.open("rb") as handle:
            while block := handle.read(1 << 22):
                digest.update(block)
    return digest.hexdigest()
