"""Reading a truth folder: the synthetic bank's ``truth/`` format, every file optional.

Files (CSV with a header row; ids as in the input tables):

``persons.csv`` — ``customer_id, person_key``: customer rows of one real person share a key.
``households.csv`` — ``customer_id, household_key``.
``groups.csv`` — ``enterprise_id, group_key, controller_id`` (controller: a customer_id).
``guarantee_circles.csv`` — ``circle_key, member_id`` (customer_id or enterprise_id).
``influencers.csv`` — ``customer_id, rank`` (and optionally ``downstream``).
``laundering.csv`` — ``pattern_key, typology, tx_id``; typology from ``model.TYPOLOGIES``
(whatever its case or width) or one of its Chinese names (:data:`CHINESE_TYPOLOGIES`).
``suspicious_accounts.csv`` — ``account_id, label``: 1 confirmed suspicious, 0 confirmed clean,
or a word the loader reads as yes or no (是/否, Y/N, 同意 …: ``record_rules.TRUE_WORDS``).

A bank's own truth is an export, not this project's output, so it is read as the loader
reads an input table (:mod:`relgraph.ingest.text_csv`): UTF-8 with or without a BOM, or
the encoding given (GBK/GB18030, Big5), CRLF or LF; column names trimmed and matched
whatever their case; every value trimmed, as the loader trims ids, so `` A1 `` is the
``A1`` it loaded. A row repeated is counted once (and the count reported); two rows that
contradict each other (one account labelled 1 and 0, one customer row under two
persons) stop the command: which one is true is the bank's to say, and either silent
choice would move the figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import pandas as pd

from relgraph.ingest.text_csv import read_text_csv
from relgraph.model import TYPOLOGIES
from relgraph.record_rules import EXCEL_NUMBER_ID, FALSE_WORDS, TRUE_WORDS

FILES: Final[dict[str, tuple[str, ...]]] = {
    "persons": ("customer_id", "person_key"),
    "households": ("customer_id", "household_key"),
    "groups": ("enterprise_id", "group_key", "controller_id"),
    "guarantee_circles": ("circle_key", "member_id"),
    "influencers": ("customer_id", "rank"),
    "laundering": ("pattern_key", "typology", "tx_id"),
    "suspicious_accounts": ("account_id", "label"),
}
"""Each truth file (without ``.csv``) and the columns it must have."""

KEYS: Final[dict[str, tuple[str, ...]]] = {
    "persons": ("customer_id",),
    "households": ("customer_id",),
    "groups": ("enterprise_id",),
    "guarantee_circles": ("circle_key", "member_id"),
    "influencers": ("customer_id",),
    "laundering": ("pattern_key", "tx_id"),
    "suspicious_accounts": ("account_id",),
}
"""What one row of each file states a fact about: a second row about the same thing is a
duplicate when its other columns agree and a contradiction when they do not."""

CHINESE_TYPOLOGIES: Final[dict[str, tuple[str, ...]]] = {
    "layering_chain": ("分层", "多层", "分层转账", "链式转账"),
    "cycle": ("循环", "回流", "循环转账", "资金回流"),
    "scatter_gather": ("先分散后集中", "分散集中"),
    "fan_in": ("分散转入", "集中转入"),
    "fan_out": ("分散转出",),
    "gather_scatter": ("先集中后分散", "集中分散"),
    "bipartite": ("多对多",),
    "stack": ("多层多对多",),
    "structuring": ("结构化", "拆分", "拆分交易", "化整为零"),
}
"""The Chinese names a bank's case list writes a typology in (the usual AML terms), per
typology of ``model.TYPOLOGIES``; the README's validate section lists them. A name not here
is refused, not guessed: a wrong typology moves its recall."""
_TYPOLOGY_OF: Final = {name: t for t, names in CHINESE_TYPOLOGIES.items() for name in names}

_FREE: Final = ("typology", "label", "rank")
"""Required columns that are no id or key (Excel's scientific notation is checked on the rest)."""
_EXCEL_NUMBER: Final = re.compile(EXCEL_NUMBER_ID)
_SEPARATORS: Final = (";", "\t", "|")
_WORKBOOK_SUFFIXES: Final = (".xlsx", ".xls", ".xlsm", ".et")


class TruthError(ValueError):
    """A truth folder or file that cannot be read; the message says which and how to fix it."""


@dataclass(frozen=True)
class Truth:
    """The truth files found in one folder; a file that is absent is None."""

    folder: Path
    persons: pd.DataFrame | None = None
    households: pd.DataFrame | None = None
    groups: pd.DataFrame | None = None
    guarantee_circles: pd.DataFrame | None = None
    influencers: pd.DataFrame | None = None
    laundering: pd.DataFrame | None = None
    suspicious_accounts: pd.DataFrame | None = None
    rows: dict[str, int] = field(default_factory=dict)
    """Rows of each file read, duplicates included."""
    duplicates: dict[str, int] = field(default_factory=dict)
    """Rows of each file that repeat an earlier row (counted once)."""
    ignored: tuple[str, ...] = ()
    """Other files of the folder, named so a person can see nothing they meant was skipped."""

    @property
    def present(self) -> list[str]:
        """Names of the truth files that were found."""
        return [name for name in FILES if getattr(self, name) is not None]


def _line(mask: pd.Series) -> int:
    """The file line of the first row where ``mask`` holds (rows are indexed by their line
    in the file, and keep it through the checks)."""
    return int(mask.index[int(mask.to_numpy().argmax())])


def _columns(path: Path, frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """``frame`` with its names trimmed and the wanted ones in the model's case."""
    names = [str(c).strip() for c in frame.columns]
    if len(names) == 1 and not set(columns) <= {names[0]}:
        for sep in _SEPARATORS:
            if sep in names[0]:
                shown = "tab" if sep == "\t" else sep
                raise TruthError(
                    f"{path}: the header reads as one column ({names[0][:60]!r}): the values "
                    f"look separated by {shown!r}; save the file comma-separated (CSV)"
                )
    wanted = {c.casefold(): c for c in columns}
    renamed: dict[str, str] = {}
    for name in names:
        column = wanted.get(name.casefold(), name)
        if column in renamed.values() and column in columns:
            raise TruthError(f"{path}: more than one column is named {column}; keep one")
        renamed[name] = column
    frame = frame.set_axis(list(renamed.values()), axis=1)
    lacking = [c for c in columns if c not in frame.columns]
    if lacking:
        raise TruthError(
            f"{path} lacks the column(s) {', '.join(lacking)}; it needs {', '.join(columns)} "
            f"(its header: {', '.join(names)})"
        )
    return frame


def _read(path: Path, columns: tuple[str, ...], encoding: str) -> pd.DataFrame:
    if encoding.strip().lower().replace("_", "-") not in ("utf-8", "utf-8-sig"):
        try:
            # Text that is valid UTF-8 is UTF-8 (the loader's own rule, which refuses it as
            # GBK): read so, one folder may hold a GBK export beside a UTF-8 one.
            path.read_bytes().decode("utf-8")
            encoding = "utf-8"
        except (UnicodeDecodeError, OSError):
            pass
    try:
        frame = read_text_csv(path, encoding)
    except ValueError as exc:  # IngestError too: each names the file and what to do
        text = str(exc)
        # The loader's messages name a file in the input directory; here, say which folder.
        named = text.startswith(path.name)
        raise TruthError(f"{path.parent / text}" if named else text) from None
    frame = _columns(path, frame, columns)
    # Trimmed as the loader trims what it loads: " A1 " in a case list is the A1 it loaded.
    frame = pd.DataFrame({c: frame[c].str.strip() for c in frame.columns}).replace("", None)
    # Rows with no value at all are no truth row: Excel writes ",," for rows it once formatted.
    frame = frame[frame.notna().any(axis=1)]
    if frame.empty:
        raise TruthError(
            f"{path} has a header but no rows: export it again, or take it out of the folder "
            "to leave what it measures out"
        )
    blank = frame[list(columns)].isna().any(axis=1)
    if blank.any():
        raise TruthError(
            f"{path} line {_line(blank)}: every one of {', '.join(columns)} needs a value"
        )
    for column in (c for c in columns if c not in _FREE):
        mangled = frame[column].str.fullmatch(_EXCEL_NUMBER)
        if mangled.any():
            raise TruthError(
                f"{path} line {_line(mangled)}: {column} {frame[column][mangled].iloc[0]!r} is a "
                "number Excel wrote in scientific notation, its digits lost; export the "
                "column as text"
            )
    return frame


def _folded(values: pd.Series) -> pd.Series:
    """Text as the loader compares a word: NFKC (full width to half), stripped, lower case."""
    return values.str.normalize("NFKC").str.strip().str.lower()


def typologies(values: pd.Series) -> pd.Series:
    """A truth file's typologies as ``model.TYPOLOGIES`` names them: whatever their case and
    width (the loader reads an enumeration so), or by their Chinese names; anything else
    folded (NFKC, lower case) but not mapped, for the caller to refuse.

    >>> typologies(pd.Series([" CYCLE ", "ｆａｎ＿ｉｎ", "回流", "拆分", "分层转移"])).tolist()
    ['cycle', 'fan_in', 'cycle', 'structuring', '分层转移']
    """
    words = _folded(values)
    return words.map(_TYPOLOGY_OF).fillna(words)


_LABEL_OF: Final = {**dict.fromkeys(TRUE_WORDS, "1"), **dict.fromkeys(FALSE_WORDS, "0")}


def _labels(path: Path, labels: pd.Series) -> pd.Series:
    """``labels`` as ``"1"`` and ``"0"``, read as the loader reads a boolean (the same words,
    after NFKC and lower-casing: ``１``, ``Y``, ``是``); stop on the first it cannot read."""
    read = _folded(labels).map(_LABEL_OF)
    bad = read.isna()
    if bad.any():
        raise TruthError(
            f"{path} line {_line(bad)}: label must be 1 (confirmed suspicious) or 0 (confirmed "
            f"clean), or a word for them ({'/'.join(TRUE_WORDS)} for 1; "
            f"{'/'.join(FALSE_WORDS)} for 0), not {labels[bad].iloc[0]!r}"
        )
    return read


def _contradiction(path: Path, frame: pd.DataFrame, key: tuple[str, ...], value: str) -> None:
    """Stop when two rows with the same ``key`` differ in ``value``."""
    distinct = frame.drop_duplicates([*key, value])
    clash = distinct.duplicated(list(key), keep=False)
    if not clash.any():
        return
    first = distinct[clash].iloc[0]
    same = (frame[list(key)] == first[list(key)].to_numpy()).all(axis=1)
    lines = [int(i) for i in frame.index[same]]
    what = ", ".join(f"{k} {first[k]!r}" for k in key)
    values = ", ".join(repr(v) for v in dict.fromkeys(frame.loc[same, value]))
    raise TruthError(
        f"{path} lines {', '.join(str(n) for n in lines[:5])}: {what} has more than one "
        f"{value} ({values}); keep the one that is true"
    )


def _misnamed(folder: Path) -> None:
    """Stop on a file meant as a truth file but not named ``<name>.csv`` (it would be skipped,
    and what it measures silently left out)."""
    for entry in sorted(folder.iterdir()):
        stem, suffix = entry.stem.strip().casefold(), entry.suffix.casefold()
        if stem not in FILES or not entry.is_file() or (folder / f"{stem}.csv").is_file():
            continue
        if suffix in _WORKBOOK_SUFFIXES:
            raise TruthError(
                f'{entry} is a workbook: open it and save it as "CSV UTF-8 (comma delimited)" '
                f"named {stem}.csv"
            )
        raise TruthError(f"{entry}: truth files are read only as {stem}.csv; rename it")


def read_truth(folder: Path, encoding: str = "utf-8") -> Truth:
    """Read every truth file present in ``folder``, in ``encoding`` (one of the loader's).

    Raises
    ------
    TruthError
        The folder does not exist; a truth file is misnamed, unreadable in ``encoding``, or
        empty; it lacks a column or a value; two rows contradict each other; a typology is
        not one of ``model.TYPOLOGIES`` nor a Chinese name of one, or a label is neither 1 or
        0 nor a word the loader reads as yes or no.
    """
    if folder.is_file():
        raise TruthError(
            f"--truth {folder} is a file: give the folder holding it (truth files are read as "
            f"{', '.join(f'{name}.csv' for name in FILES)})"
        )
    if not folder.is_dir():
        raise TruthError(
            f"truth folder {folder} does not exist: give the folder holding "
            f"{', '.join(f'{name}.csv' for name in FILES)} (any of them)"
        )
    _misnamed(folder)
    found: dict[str, pd.DataFrame] = {}
    rows: dict[str, int] = {}
    duplicates: dict[str, int] = {}
    for name, columns in FILES.items():
        path = folder / f"{name}.csv"
        if not path.is_file():
            continue
        frame = _read(path, columns, encoding)
        # Read before repeats and contradictions are judged: 是 and 1 are one label.
        if name == "laundering":
            frame["typology"] = typologies(frame["typology"])
        elif name == "suspicious_accounts":
            frame["label"] = _labels(path, frame["label"])
        repeated = frame.duplicated(list(columns))
        rows[name], duplicates[name] = len(frame), int(repeated.sum())
        frame = frame[~repeated]
        for value in (c for c in columns if c not in KEYS[name]):
            _contradiction(path, frame, KEYS[name], value)
        found[name] = frame
    laundering = found.get("laundering")
    if laundering is not None:
        _contradiction(folder / "laundering.csv", laundering, ("pattern_key",), "typology")
        unknown = sorted(set(laundering["typology"]) - set(TYPOLOGIES))
        if unknown:
            accepted = ", ".join(f"{t} ({'/'.join(CHINESE_TYPOLOGIES[t])})" for t in TYPOLOGIES)
            raise TruthError(
                f"{folder / 'laundering.csv'} names unknown typologies {', '.join(unknown)}; "
                f"use one of {accepted}"
            )
    labels = found.get("suspicious_accounts")
    if labels is not None:
        found["suspicious_accounts"] = labels.assign(label=labels["label"].astype(int))
    influencers = found.get("influencers")
    if influencers is not None:
        rank = pd.to_numeric(influencers["rank"], errors="coerce")
        if rank.isna().any():
            line = _line(rank.isna())
            raise TruthError(f"{folder / 'influencers.csv'} line {line}: rank must be a number")
        found["influencers"] = influencers.assign(rank=rank)
    found = {name: frame.reset_index(drop=True) for name, frame in found.items()}
    wanted = {f"{name}.csv" for name in FILES}
    ignored = tuple(
        sorted(e.name for e in folder.iterdir() if e.is_file() and e.name not in wanted)
    )
    return Truth(folder=folder, rows=rows, duplicates=duplicates, ignored=ignored, **found)
