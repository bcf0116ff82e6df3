"""The load report: per table rows in, loaded and quarantined (by reason), saved as JSON."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.table import Table

from relgraph.ingest.durable import write_text_durably

REPORT_FILE = "load-report.json"
REJECTED_REPORT_FILE = "load-report.rejected.json"
"""The report of the last refused attempt, beside the good load's (see ``ingest.refusal``)."""
SHOWN_UNAPPLIED = 20
"""The unapplied decisions the printed report lists (the JSON report holds all)."""
SHOWN_LINES = 20
"""The lines of unmatched quarantined refusals the printed report lists (the JSON holds all)."""


@dataclass(frozen=True)
class TableReport:
    """What happened to one input table.

    ``rows_in == loaded + quarantined`` always; ``reasons`` counts each reason code
    once per quarantined row that has it (a row can have several).
    """

    table: str
    file: str | None
    rows_in: int
    loaded: int
    quarantined: int
    reasons: dict[str, int] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    quality: dict[str, int] = field(default_factory=dict)
    """Loaded rows per data-quality flag (``model.QUALITY_FLAGS``): kept, but worth a look."""
    notes: list[str] = field(default_factory=list)
    """What the file looked like that a person should check (a last line without a line
    break, lines in another encoding read as such): rows loaded, worth a look."""
    filled: dict[str, int] = field(default_factory=dict)
    """Loaded rows per optional model column that hold a value there: the next load is
    refused when one of them empties (a renamed column, see ``refusal.emptied``)."""


@dataclass(frozen=True)
class Refusal:
    """Why a load was refused because of one table (see :mod:`relgraph.ingest.refusal`)."""

    table: str
    rule: str
    """``all_refused`` (every row of a non-empty table quarantined), ``share`` (the
    quarantined share of a table of at least 100 rows above the limit), ``shrank``
    (``share`` is the rows loaded over the last good load's, below ``limit``) or
    ``emptied`` (``share`` is the share of loaded rows with a value in ``column`` over the
    last good load's share, below ``limit``)."""
    rows_in: int
    quarantined: int
    share: float
    limit: float
    top_reasons: dict[str, int] = field(default_factory=dict)
    """The most frequent reason codes, most frequent first."""
    previous_loaded: int = 0
    """``shrank``: the rows the last good load loaded; ``emptied``: the rows it loaded with
    a value in ``column``."""
    column: str | None = None
    """``emptied``: the column that lost its values."""
    values: int = 0
    """``emptied``: the rows this load would load with a value in ``column``."""
    previous_rows: int = 0
    """``emptied``: the rows the last good load loaded."""


@dataclass(frozen=True)
class IdentityStats:
    """What identity resolution made of the loaded customer records."""

    records: int
    persons: int
    merged_records: int
    """Records that joined another record's person (``records - persons``)."""
    persons_with_several_records: int
    possible_duplicates: int
    """Pairs in the review band (``possible_duplicates``), not merged."""
    possible_shared_id: int = 0
    """Of those, pairs offered because their records carry one id number that one of them
    contradicts (``model.DUPLICATE_BY_SHARED_ID``), whatever their score."""
    model: str = ""
    """How the linkage model came to be: ``em`` (trained without labels on this load),
    ``stored`` (trained by an earlier load) or ``shipped`` (too few records to train)."""
    model_file: str | None = None
    id_checked_pairs: int = 0
    """Scored pairs where both records hold a valid id number: the model is checked on them."""
    id_agreement: float | None = None
    """Share of those pairs where the model agrees with the id numbers (same id ⇔ match)."""
    invalid_id_numbers: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per source system, id numbers that are no evidence, by reason (``id_numbers.PROBLEMS``)."""
    untrained_levels: list[str] = field(default_factory=list)
    """``comparison: level`` of a trained or stored model that kept the shipped ``m``: the
    bank's records never fell in them (``linkage_training.untrained_levels``)."""
    unapplied_same: list[dict[str, str]] = field(default_factory=list)
    """Reviewers' SAME decisions the load could not follow: ``customer_a``, ``customer_b``,
    ``reason`` (:func:`relgraph.ingest.decisions.unapplied_same`)."""


@dataclass(frozen=True)
class QuarantinedRefusals:
    """Quarantined customer records that refused marketing, and whom the refusal reached
    (:mod:`relgraph.ingest.quarantined_refusals`): a refusal is not lost with its row."""

    records: int = 0
    """Quarantined customer records whose ``consent_marketing`` reads as a refusal."""
    persons: int = 0
    """Persons with a loaded record of the same customer (same ``source_system`` and
    ``customer_id``, or same valid id number): their consent is false."""
    kept_off: int = 0
    """Of those, persons whose loaded records all consented: off contact lists only because
    of a quarantined refusal."""
    unmatched: int = 0
    """Refusals that match no loaded record: no person's consent changed for them."""
    unmatched_lines: list[int] = field(default_factory=list)
    """Their lines in the customers file (``source_line`` in ``quarantine/customers.csv``),
    ascending: the rows for the data team to fix."""


@dataclass(frozen=True)
class LoadReport:
    """The outcome of one ``relgraph load``."""

    source: str
    fingerprint: str
    tables: list[TableReport]
    persons: int
    loaded_at: str
    seconds: float
    unchanged: bool = False
    """True when the store already held exactly this input and nothing was written."""
    person_id_map: str | None = None
    """Where this load wrote the old -> new person id map: set when a person id changed
    (every one under a new person-id secret; else records that gained an id number,
    persons merged or split)."""
    person_ids_changed: int = 0
    """Rows of that map: (old, new) person id pairs this load changed."""
    identity: IdentityStats | None = None
    """None on a refused load (refused before resolving) and in reports of older versions."""
    refusals: list[Refusal] = field(default_factory=list)
    """Why the load was (or, in a dry run, would be) refused; empty when it was not."""
    dry_run: bool = False
    """True for ``relgraph load --dry-run``: nothing was written."""
    ignored_files: list[str] = field(default_factory=list)
    """Entries of the input directory that are no table, skipped by ``--ignore-unknown-files``."""
    quarantined_refusals: QuarantinedRefusals | None = None
    """Marketing refusals on quarantined customer records; None on a refused load and in
    reports of older versions."""

    @property
    def rows_in(self) -> int:
        return sum(t.rows_in for t in self.tables)

    @property
    def quarantined(self) -> int:
        return sum(t.quarantined for t in self.tables)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoadReport:
        tables = [TableReport(**t) for t in data["tables"]]
        identity = data.get("identity")
        refused = data.get("quarantined_refusals")
        return cls(
            **{
                **data,
                "tables": tables,
                "identity": None if identity is None else IdentityStats(**identity),
                "refusals": [Refusal(**r) for r in data.get("refusals", [])],
                "quarantined_refusals": None if refused is None else QuarantinedRefusals(**refused),
            }
        )

    def save(self, data_dir: Path, name: str = REPORT_FILE) -> Path:
        """Write ``<data_dir>/<name>`` atomically (temp file, fsync, rename)."""
        path = data_dir / name
        write_text_durably(path, self.to_json() + "\n", path.with_suffix(f".tmp-{os.getpid()}"))
        return path


def read_report(data_dir: Path) -> LoadReport | None:
    """The last saved report, or None when there is none or it cannot be read."""
    try:
        return LoadReport.from_dict(json.loads((data_dir / REPORT_FILE).read_text("utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def format_report(report: LoadReport) -> Group:
    """The report as rich renderables: one row per table, then the reasons rows were refused."""
    title = f"load of {report.source} ({report.seconds:.1f} s)"
    if report.dry_run:
        title = f"dry run of {report.source} ({report.seconds:.1f} s): nothing written"
    elif report.refusals:
        title = f"load of {report.source} refused: nothing written to the store"
    elif report.unchanged:
        title = f"{report.source}: unchanged since the last load, nothing written"
    table = Table(title=title)
    for name, justify in (
        ("table", "left"),
        ("file", "left"),
        ("rows in", "right"),
        ("loaded", "right"),
        ("quarantined", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]  # rich wants a Literal
    for t in report.tables:
        table.add_row(
            t.table,
            t.file or "(absent)",
            f"{t.rows_in:,}",
            f"{t.loaded:,}",
            f"{t.quarantined:,}" if t.quarantined else "0",
        )
    if report.identity is not None or not report.refusals:
        table.add_row(
            "persons", "(resolved)", "", f"{report.persons:,}", "", end_section=True, style="bold"
        )
    parts: list[Any] = [table]
    if report.identity is not None:
        parts.append(_identity_table(report.identity))
        if report.identity.invalid_id_numbers:
            parts.append(_invalid_ids_table(report.identity.invalid_id_numbers))
        if report.identity.unapplied_same:
            parts.append(_unapplied_table(report.identity.unapplied_same))
    folder = "quarantine.rejected" if report.refusals and not report.dry_run else "quarantine"
    title = f"quarantine reasons (see {folder}/<table>.csv)"
    if report.dry_run:
        title = "quarantine reasons (a dry run writes no quarantine files)"
    for table in (
        _counts_table(title, "reason", [(t.table, t.reasons) for t in report.tables]),
        _counts_table(
            "data-quality findings, rows kept (see quality_flags)",
            "flag",
            [(t.table, t.quality) for t in report.tables],
        ),
    ):
        if table.row_count:
            parts.append(table)
    if report.quarantined_refusals is not None and report.quarantined_refusals.records:
        parts.append(_refusals_line(report.quarantined_refusals))
    ignored = [
        f"{t.table}: {', '.join(t.ignored_columns)}" for t in report.tables if t.ignored_columns
    ]
    if ignored:
        parts.append("columns not in the model, not loaded: " + "; ".join(ignored))
    for t in report.tables:
        parts += [f"note: {t.file}: {note}" for note in t.notes]
    if report.ignored_files:
        parts.append(
            "not tables, ignored (--ignore-unknown-files): " + ", ".join(report.ignored_files)
        )
    if report.person_id_map:
        parts.append(
            f"{report.person_ids_changed:,} person id(s) changed (records that gained an id "
            "number, persons merged or split; all of them under a new person-id secret): the "
            f"old -> new map is in {report.person_id_map} (admins only)"
        )
    return Group(*parts)


def _identity_table(identity: IdentityStats) -> Table:
    table = Table(title="identity resolution")
    table.add_column("measure")
    table.add_column("count", justify="right")
    for label, n in (
        ("records", identity.records),
        ("persons", identity.persons),
        ("records merged into another record's person", identity.merged_records),
        ("persons with several records", identity.persons_with_several_records),
        ("possible duplicates kept for review", identity.possible_duplicates),
        (
            "  of which share an id number a record contradicts",
            identity.possible_shared_id,
        ),
    ):
        table.add_row(label, f"{n:,}")
    if identity.model:
        how = {"em": "trained now (EM, no labels)", "stored": "stored, trained earlier",
               "shipped": "shipped values (too few records to train)"}.get(identity.model,
                                                                          identity.model)  # fmt: skip
        if identity.id_agreement is not None:
            how += (
                f"; checked on {identity.id_checked_pairs:,} pairs with two valid id numbers: "
                f"agrees on {identity.id_agreement:.2%}"
            )
        if identity.untrained_levels:
            how += (
                f"; {len(identity.untrained_levels)} levels never met in training keep their "
                "shipped m (untrained_levels in the report's JSON)"
            )
        table.add_row("linkage model", how)
    return table


def _invalid_ids_table(counts: dict[str, dict[str, int]]) -> Table:
    out = Table(title="id numbers that are no evidence (loaded; they link nothing)")
    out.add_column("source system")
    out.add_column("reason")
    out.add_column("records", justify="right")
    for system, by_reason in sorted(counts.items()):
        for reason, n in sorted(by_reason.items()):
            out.add_row(system, reason, f"{n:,}")
    return out


def _unapplied_table(rows: list[dict[str, str]]) -> Table:
    out = Table(title="reviewers' SAME decisions not followed (the two stay apart)")
    for column in ("customer a", "customer b", "why"):
        out.add_column(column)
    for row in rows[:SHOWN_UNAPPLIED]:
        out.add_row(row["customer_a"], row["customer_b"], row["reason"])
    if len(rows) > SHOWN_UNAPPLIED:
        out.add_row(f"… {len(rows) - SHOWN_UNAPPLIED:,} more in {REPORT_FILE}", "", "")
    return out


def _refusals_line(refused: QuarantinedRefusals) -> str:
    line = (
        f"marketing refused on {refused.records:,} quarantined customer record(s): it stands "
        f"for {refused.persons:,} person(s) with a loaded record of the same customer "
        f"({refused.kept_off:,} kept off contact lists by it alone)"
    )
    if refused.unmatched:
        shown = ", ".join(str(n) for n in refused.unmatched_lines[:SHOWN_LINES])
        more = f" and {refused.unmatched - SHOWN_LINES:,} more in {REPORT_FILE}"
        line += (
            f"; {refused.unmatched:,} matched no loaded record (customers file line(s) {shown}"
            f"{more if refused.unmatched > SHOWN_LINES else ''}): fix those rows"
        )
    return line


def _counts_table(title: str, kind: str, counts: list[tuple[str, dict[str, int]]]) -> Table:
    """Rows per (table, code) of ``counts``, codes sorted: quarantine reasons or quality flags."""
    out = Table(title=title)
    out.add_column("table")
    out.add_column(kind)
    out.add_column("rows", justify="right")
    for table, by_code in counts:
        for code, n in sorted(by_code.items()):
            out.add_row(table, code, f"{n:,}")
    return out
