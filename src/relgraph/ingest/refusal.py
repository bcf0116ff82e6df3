"""When a load is refused, and what a refused attempt leaves for the user to read.

A load that quarantines every row of a non-empty table, or more than
``RELGRAPH_MAX_QUARANTINE_SHARE`` of a table of at least :data:`MIN_ROWS_FOR_SHARE`
rows, or that keeps under half the rows the last good load kept in such a table
(:func:`shrinks`), or whose optional column lost its values (:func:`emptied`), is an
export gone wrong (a changed column format, a wrong file, an
extract cut short), not a bank that changed: loading it would replace a good store with a
hollow one. The load is refused
before the store is handed anything, so the store, ``load-report.json`` and
``quarantine/`` of the last good load stay as they were. The refused attempt's report
goes to ``load-report.rejected.json`` and its quarantined rows to ``quarantine.rejected/``
(the good load's ``quarantine/`` is not touched); the next successful load removes both.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from relgraph.config import ConfigError, EnvParams
from relgraph.ingest import quarantine
from relgraph.ingest.errors import IngestError
from relgraph.ingest.report import (
    REJECTED_REPORT_FILE,
    LoadReport,
    Refusal,
    TableReport,
)

MIN_ROWS_FOR_SHARE: Final = 100
"""Below this many input rows a table is judged by the all-rows rule only: in a small
table a handful of bad rows is a large share without saying the export is broken."""
REJECTED_QUARANTINE_DIR: Final = "quarantine.rejected"
TOP_REASONS: Final = 3
ALL_REFUSED: Final = "all_refused"
SHARE: Final = "share"
SHARE_ENV: Final = "RELGRAPH_MAX_QUARANTINE_SHARE"
SHARE_FLAG: Final = "--max-quarantine-share"
SHRANK: Final = "shrank"
SHRINK_FLOOR: Final = 0.5
"""A table that loaded under this share of the last good load's rows (of 100+) is refused
unless ``--allow-shrink``: a full export that halves overnight was cut short (a failed
extract, a header-only file, a missing optional table), and loading it would replace a good
store with a worse one."""
SHRINK_FLAG: Final = "--allow-shrink"
EMPTIED: Final = "emptied"


@dataclass(frozen=True)
class QuarantineLimit(EnvParams):
    """``RELGRAPH_MAX_QUARANTINE_SHARE``: the largest share of a table a load may quarantine."""

    ENV_PREFIX = "MAX"
    OWNS_PREFIX = False  # RELGRAPH_MAX_BODY_BYTES is the API's

    quarantine_share: float = 0.05

    def check(self) -> None:
        if not 0 <= self.quarantine_share <= 1:
            raise ConfigError(
                f"{SHARE_ENV} must be between 0 and 1 (a share of a table's rows), "
                f"not {self.quarantine_share!r}"
            )


class LoadRefusedError(IngestError):
    """The load was refused; the store, report and quarantine of the last good load are
    unchanged. ``report`` is the refused attempt's (saved as ``load-report.rejected.json``
    unless it was a dry run)."""

    def __init__(self, report: LoadReport, data_dir: Path) -> None:
        self.report = report
        self.report_path = data_dir / REJECTED_REPORT_FILE
        self.quarantine_path = data_dir / REJECTED_QUARANTINE_DIR
        super().__init__(refusal_sentence(report, data_dir))


def refusals(tables: list[TableReport], limit: float) -> list[Refusal]:
    """The tables that make a load refused under ``limit``, in load order.

    Examples
    --------
    >>> good = TableReport("customers", "customers.csv", 1000, 950, 50)
    >>> refusals([good], 0.05)
    []
    >>> bad = TableReport("accounts", "accounts.csv", 1000, 949, 51, {"bad_enum": 51})
    >>> [(r.table, r.rule, r.share) for r in refusals([good, bad], 0.05)]
    [('accounts', 'share', 0.051)]
    >>> small = TableReport("family", "family.csv", 3, 0, 3, {"bad_enum": 3})
    >>> [(r.table, r.rule) for r in refusals([small], 1.0)]
    [('family', 'all_refused')]
    """
    found = []
    for t in tables:
        if t.rows_in == 0:
            continue
        share = t.quarantined / t.rows_in
        if t.quarantined == t.rows_in:
            rule = ALL_REFUSED
        elif t.rows_in >= MIN_ROWS_FOR_SHARE and share > limit:
            rule = SHARE
        else:
            continue
        top = sorted(t.reasons.items(), key=lambda item: (-item[1], item[0]))[:TOP_REASONS]
        found.append(Refusal(t.table, rule, t.rows_in, t.quarantined, share, limit, dict(top)))
    return found


def shrinks(tables: list[TableReport], previous: LoadReport | None) -> list[Refusal]:
    """The tables that loaded under :data:`SHRINK_FLOOR` of the last good load's rows.

    Examples
    --------
    >>> last = LoadReport("bank", "f", [TableReport("transfers", "t.csv", 3097, 3097, 0)], 0,
    ...                   "2026-12-01T00:00:00+00:00", 1.0)
    >>> cut = TableReport("transfers", "t.csv", 49, 49, 0)
    >>> [(r.table, r.rule, r.previous_loaded) for r in shrinks([cut], last)]
    [('transfers', 'shrank', 3097)]
    >>> shrinks([TableReport("transfers", "t.csv", 2000, 2000, 0)], last)
    []
    """
    if previous is None:
        return []
    before = {t.table: t.loaded for t in previous.tables}
    found = []
    for t in tables:
        last = before.get(t.table, 0)
        if last >= MIN_ROWS_FOR_SHARE and t.loaded < SHRINK_FLOOR * last:
            found.append(Refusal(t.table, SHRANK, t.rows_in, t.quarantined, t.loaded / last,
                                 SHRINK_FLOOR, previous_loaded=last))  # fmt: skip
    return found


def emptied(tables: list[TableReport], previous: LoadReport | None) -> list[Refusal]:
    """The optional columns whose share of loaded rows with a usable value fell under
    :data:`SHRINK_FLOOR` of the last good load's, where that load had 100+ such rows.

    A renamed column (``phone`` exported as ``mobile``) is an unknown column, ignored, and
    every row loads: without this rule the store would silently lose every phone.

    Examples
    --------
    >>> last = LoadReport("bank", "f", [TableReport("customers", "c.csv", 1000, 1000, 0,
    ...                   filled={"phone": 990, "email": 40})], 0, "2026-12-01T00:00:00+00:00", 1.0)
    >>> now = TableReport("customers", "c.csv", 1000, 1000, 0, filled={"phone": 0, "email": 0})
    >>> [(r.table, r.column, r.share, r.previous_loaded) for r in emptied([now], last)]
    [('customers', 'phone', 0.0, 990)]
    """
    if previous is None:
        return []
    before = {t.table: t for t in previous.tables}
    found = []
    for t in tables:
        last = before.get(t.table)
        if last is None or last.loaded == 0 or t.loaded == 0:
            continue
        for column, was in last.filled.items():
            if was < MIN_ROWS_FOR_SHARE:
                continue
            now = t.filled.get(column, 0)
            share = (now / t.loaded) / (was / last.loaded)
            if share < SHRINK_FLOOR:
                found.append(Refusal(t.table, EMPTIED, t.rows_in, t.quarantined, share,
                                     SHRINK_FLOOR, previous_loaded=was, column=column,
                                     values=now, previous_rows=last.loaded))  # fmt: skip
    return found


def refusal_sentence(report: LoadReport, data_dir: Path | None = None) -> str:
    """The one sentence a refused load prints: which table, which share, the limit, where
    the reasons are (in ``data_dir``; a dry run keeps none) and what to do."""
    first, *others = report.refusals
    reasons = ", ".join(f"{code} {n:,}" for code, n in first.top_reasons.items())
    if first.rule == ALL_REFUSED:
        what = f"every row of {first.table} ({first.quarantined:,} of {first.rows_in:,}) was quarantined"
    elif first.rule == EMPTIED:
        loaded = first.rows_in - first.quarantined
        what = (
            f"{first.table}.{first.column} would hold a usable value in {first.values:,} of "
            f"{loaded:,} rows, against {first.previous_loaded:,} of {first.previous_rows:,} "
            "in the last good load (a column the export renamed or dropped is ignored; "
            "one Excel mangled, as 1.38E+10, holds text but no value)"
        )
    elif first.rule == SHRANK:
        what = (
            f"{first.table} would keep {first.rows_in - first.quarantined:,} rows, "
            f"{first.share:.1%} of the {first.previous_loaded:,} of the last good load"
        )
    else:
        what = (
            f"{first.table} had {first.quarantined:,} of {first.rows_in:,} rows quarantined "
            f"({first.share:.1%}), above the limit of {first.limit:.1%}"
        )
    if reasons:
        what += f" ({reasons})"
    if others:
        named = (r.table if r.column is None else f"{r.table}.{r.column}" for r in others)
        what += f", and {', '.join(named)} too"
    fix = "fix the export (or the mapping of its columns and codes) and load again"
    # Raising the limit only helps when no table lost every row.
    if all(r.rule == SHARE for r in report.refusals):
        fix += f", or raise the limit with {SHARE_FLAG} or {SHARE_ENV}"
    elif all(r.rule == SHRANK for r in report.refusals):
        fix = (
            "check that the export is whole (a cut-short extract, a header-only file, a "
            f"missing table), or load it anyway with {SHRINK_FLAG} if the bank really shrank"
        )
    elif all(r.rule in (SHRANK, EMPTIED) for r in report.refusals):
        fix = (
            "check the export's columns (map a renamed column in the mapping file) and "
            f"load again, or load it anyway with {SHRINK_FLAG} if the values are really gone"
        )
    if data_dir is None:
        return f"a load of this input would be refused: {what}; {fix}."
    return (
        f"load refused, the store keeps its last good load: {what}; the refused attempt's "
        f"report is {data_dir / REJECTED_REPORT_FILE} and its quarantined rows are in "
        f"{data_dir / REJECTED_QUARANTINE_DIR}/; {fix}."
    )


def keep_rejected(report: LoadReport, staging: Path, data_dir: Path) -> LoadRefusedError:
    """Save a refused attempt beside the good load and return the error to raise.

    The attempt's staged quarantine files become ``quarantine.rejected/`` (replacing an
    older refused attempt's), its report ``load-report.rejected.json``; ``quarantine/``
    and ``load-report.json`` are not touched.
    """
    quarantine.swap_in(staging, data_dir, REJECTED_QUARANTINE_DIR)
    report.save(data_dir, REJECTED_REPORT_FILE)
    return LoadRefusedError(report, data_dir)


def clear_rejected(data_dir: Path) -> None:
    """Remove what a refused attempt left: after a good load it describes nothing current."""
    (data_dir / REJECTED_REPORT_FILE).unlink(missing_ok=True)
    shutil.rmtree(data_dir / REJECTED_QUARANTINE_DIR, ignore_errors=True)
