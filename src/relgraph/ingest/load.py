"""``load_directory``: input files → validated, normalised, resolved canonical tables in the store.

Order of work, and why:

1. find every table's file and stop on structural problems (missing table or column)
   before anything is written;
2. fingerprint the input; when the store already holds this exact input under these
   rules, return the saved report and write nothing (idempotent reloads);
3. read, type and check each table in dependency order inside an in-memory DuckDB
   (foreign keys are checked against what the earlier tables actually loaded), stage
   quarantine files;
4. refuse the load when a table lost every row or too large a share of them
   (:mod:`relgraph.ingest.refusal`): before the store is handed anything;
5. resolve persons, then hand all canonical tables to the store in one transaction
   (a dry run stops here and returns the report);
6. only after the commit, swap the quarantine folder, the person-id map (when the
   person-id key changed) and the report in.

A failure or refusal anywhere before step 6 leaves the store, the quarantine folder and
the report of the last good load as they were.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from relgraph import journal, model
from relgraph.canonical import LAYOUT_VERSION, LOADED_UNDER, META_RULES, canonical_schema
from relgraph.config import META_SOURCE_TZ, id_secret_from_env, source_zone
from relgraph.ingest import normalise, person_ids, persons, quarantine, quarantined_refusals
from relgraph.ingest.decisions import DecidedPairs, decided_pairs
from relgraph.ingest.errors import IngestError, disk_refused, processing_error
from relgraph.ingest.interrupted import Pending, finish_interrupted
from relgraph.ingest.journal_merge import drop_journal_twins, merge_journal
from relgraph.ingest.linkage import LinkageParams, as_arrow, resolve
from relgraph.ingest.notes import table_notes
from relgraph.ingest.person_ids import PersonIdKey
from relgraph.ingest.readers import (
    RawTable,
    ReadOptions,
    discover,
    fingerprint,
    raw_view,
    read_raw,
)
from relgraph.ingest.refusal import (
    QuarantineLimit,
    clear_rejected,
    emptied,
    keep_rejected,
    refusals,
    shrinks,
)
from relgraph.ingest.report import (
    REPORT_FILE,
    IdentityStats,
    LoadReport,
    TableReport,
    read_report,
)
from relgraph.ingest.sql import connect, count, ident, literal
from relgraph.ingest.udf import ID_NUMBER_VALID
from relgraph.ingest.validate import REASONS, check_keys, checked_view, empty_keys, type_rows
from relgraph.normal_form import ID_NO_DOCUMENT
from relgraph.store.base import Store

Progress = Callable[[str, int, int], None]
"""``(stage, done, total)`` callback for progress bars."""

log = logging.getLogger("relgraph.ingest")

META_FINGERPRINT = "fingerprint"
META_LAYOUT = "layout_version"
META_SOURCE = "source"
META_LOADED_AT = "loaded_at"
META_SOURCE_SYSTEMS = "source_systems"
"""The source systems of the load, highest precedence first (JSON list): the bank's, from
its mapping file, or the model's."""


def load_directory(
    source: Path,
    store: Store | None,
    data_dir: Path,
    progress: Progress | None = None,
    linkage: LinkageParams | None = None,
    id_secret: str | None = None,
    options: ReadOptions | None = None,
    *,
    max_quarantine_share: float | None = None,
    dry_run: bool = False,
    retrain_linkage: bool = False,
    allow_shrink: bool = False,
    new_id_secret: bool = False,
) -> LoadReport:
    """Load the input tables in ``source`` into ``store``.

    Parameters
    ----------
    source : Path
        Directory with one ``<table>.csv`` or ``<table>.parquet`` per input table.
    store : Store or None
        Where the canonical tables go (replaced as a whole, atomically); only read in a
        dry run, and None there when there is no store yet.
    data_dir : Path
        Where ``quarantine/`` and ``load-report.json`` are written.
    progress : callable, optional
        Called as ``progress(stage, done, total)`` while tables are processed.
    linkage : LinkageParams, optional
        Identity-resolution settings; from ``RELGRAPH_IDENTITY_*`` when omitted.
    id_secret : str, optional
        The person-id secret; ``RELGRAPH_ID_SECRET`` when omitted, else the
        ``id-secret`` file in ``data_dir`` (created on the first load).
    options : ReadOptions, optional
        Encoding, mapping file and whether unknown files are ignored (``relgraph load``
        flags); a ``mapping.yaml`` in ``source`` is used when no mapping is given.
    max_quarantine_share : float, optional
        The largest share of a table of 100 rows or more that may be quarantined;
        ``RELGRAPH_MAX_QUARANTINE_SHARE`` (default 0.05) when omitted.
    dry_run : bool
        Validate, resolve and report, writing nothing (no store, quarantine, report or
        secret); the report's ``refusals`` say whether a real load would be refused.
    retrain_linkage : bool
        Train the linkage model again even when the data directory holds one (a reload of
        unchanged input then runs too).
    allow_shrink : bool
        Load even when a table keeps under half the rows of the last good load's
        (:func:`relgraph.ingest.refusal.shrinks`; refused otherwise).
    new_id_secret : bool
        Load under another id secret than the store's ids were made with (refused otherwise).

    Returns
    -------
    LoadReport
        Rows in, loaded and quarantined per table; ``unchanged`` when the store
        already held this input and nothing was written.

    Raises
    ------
    LoadRefusedError
        When a table lost every row or more than the allowed share: the store, report
        and quarantine are untouched; the attempt is kept beside them (not in a dry run).
    IngestError
        On a missing required table or column, an unreadable file, or an unusable
        ``id-secret`` file; nothing is written.

    Examples
    --------
    The six-person bank of ``tests/docbank.py`` (``source``) into a new data folder:

    >>> from relgraph.store.embedded import EmbeddedStore
    >>> target = new_data_dir()
    >>> with EmbeddedStore(target) as store:
    ...     report = load_directory(source, store, target)
    >>> report.rows_in, report.quarantined, report.persons
    (24, 0, 6)
    """
    started = time.perf_counter()
    data_dir = Path(data_dir)
    inputs = discover(Path(source), options)
    files = inputs.files
    mapping_text = inputs.mapping.text if inputs.mapping is not None else ""
    systems = persons.source_priority(
        inputs.mapping.source_systems if inputs.mapping is not None else None
    )
    linkage = linkage or LinkageParams.from_env()
    if max_quarantine_share is None:
        max_quarantine_share = QuarantineLimit.from_env().quarantine_share
    if id_secret is None:
        id_secret = id_secret_from_env(os.environ)
    stored_meta = {} if store is None else store.meta()
    key = person_ids.load_key(data_dir, id_secret, dry_run=dry_run, new_secret=new_id_secret,
                              stored=stored_meta.get(person_ids.META_KEY))  # fmt: skip
    # Part of the input: the key (a new secret re-ids everyone), the mapping file, the zone
    # of naive timestamps and the journal (new entries with unchanged files: a new load).
    lost, (journal_seq, journal_digest) = journal.behind_and_head(data_dir, stored_meta)
    if lost is not None:  # acknowledged entries the store holds would be dropped
        raise IngestError(lost)  # else every entry up to journal_seq is merged
    stamp = fingerprint(
        list(files.values()),
        f"relgraph-ingest-{LOADED_UNDER}-{linkage}-{key.check}-{source_zone().key}"
        f"\0{mapping_text}\0journal:{journal_digest}",
    )
    if not dry_run:
        for note in finish_interrupted(data_dir, stored_meta.get(META_FINGERPRINT)):
            log.warning("%s", note)
    previous = read_report(data_dir)
    if (
        not dry_run
        and not retrain_linkage
        and stored_meta.get(META_FINGERPRINT) == stamp
        and stored_meta.get(META_SOURCE_TZ) == source_zone().key  # else: reload to record it
        and previous is not None
        and previous.fingerprint == stamp
    ):
        # A refused attempt since describes nothing current once the good input is back.
        clear_rejected(data_dir)
        return replace(previous, unchanged=True, person_id_map=None)
    previous = _last_good(previous, store, stored_meta.get(META_FINGERPRINT))
    # Ids in the store made with another key (or, before keyed ids, with MD5) are not
    # carried over; every person gets a new id and admins get the old -> new map.
    rekeyed = (
        store is not None
        and store.has_table(model.CUSTOMERS.name)
        and stored_meta.get(person_ids.META_KEY) != key.check
    )
    old_ids: pa.Table | None = None  # ids carried over, and the map of those this load changes
    if store is not None and store.has_table(model.CUSTOMERS.name):
        old_ids = store.read_table(model.CUSTOMERS.name, ["customer_id", "person_id"])

    steps = len(model.INPUT_TABLES) + 2
    done = 0

    def step(stage: str) -> None:
        nonlocal done
        if progress is not None:
            progress(stage, done, steps)
        done += 1

    if dry_run:  # quarantine files are staged (the checks write them) but never kept
        staging = Path(tempfile.mkdtemp(prefix="relgraph-dry-run-")) / "quarantine"
    else:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # its owner's alone, as new
        staging = quarantine.staging_dir(data_dir)
        shutil.rmtree(staging, ignore_errors=True)
    staged_map: Path | None = None
    con = connect()
    try:
        key.install(con)
        canonical: dict[str, pa.Table] = {}
        reports: list[TableReport] = []
        for table in model.INPUT_TABLES:
            step(f"loading {table.name}")
            file = files.get(table.name)
            if file is None:
                empty_keys(con, table)
                canonical[table.name] = canonical_schema(table.name).empty_table()
                reports.append(TableReport(table.name, None, 0, 0, 0))
                continue
            # A transcoded copy goes to the staging folder, which a failed load discards.
            raw = read_raw(con, file, scratch=staging)
            # Transfers and accounts sent to a running server since: part of this load.
            raw = merge_journal(con, raw, data_dir)
            type_rows(con, raw)
            check_keys(con, table)
            raw = table_notes(con, drop_journal_twins(con, raw))
            quarantine.write(con, raw, staging)
            quarantined_refusals.keep(con, table)  # a refusal outlives its quarantined row
            reports.append(_table_report(con, raw))
            canonical[table.name] = _loaded(con, table, own_person_ids=not linkage.enabled)
            con.execute(f"DROP TABLE {raw_view(table.name)}")
            con.execute(f"DROP TABLE {checked_view(table.name)}")
        refused = refusals(reports, max_quarantine_share)
        if not allow_shrink:
            named = {r.table for r in refused}
            refused += [r for r in shrinks(reports, previous) if r.table not in named]
            named |= {r.table for r in refused}
            refused += [r for r in emptied(reports, previous) if r.table not in named]
        if refused and not dry_run:
            attempt = LoadReport(
                source=str(source),
                fingerprint=stamp,
                tables=reports,
                persons=0,
                loaded_at=datetime.now(UTC).isoformat(timespec="seconds"),
                seconds=time.perf_counter() - started,
                refusals=refused,
            )
            raise keep_rejected(attempt, staging, data_dir)
        step("resolving persons")
        customers, possible, identity_notes = _resolve(
            canonical[model.CUSTOMERS.name],
            linkage,
            key,
            stored_ids=None if rekeyed else old_ids,
            decided=decided_pairs(data_dir),
            # A dry run writes nothing, the model included: it trains in memory.
            model_dir=None if dry_run else data_dir,
            retrain=retrain_linkage,
        )
        canonical[model.CUSTOMERS.name] = customers
        canonical[model.POSSIBLE_DUPLICATES_TABLE] = possible
        con.register("_customers", customers)
        canonical[model.PERSONS_TABLE], refused_records = quarantined_refusals.apply(
            con, "_customers", persons.persons(con, "_customers", systems)
        )
        con.unregister("_customers")
        loaded_at = datetime.now(UTC)
        if old_ids is not None and not dry_run:
            staged_map = person_ids.stage_id_map(
                data_dir, old_ids, customers, loaded_at.strftime("%Y%m%dT%H%M%SZ")
            )
    except (duckdb.Error, OSError) as exc:
        _discard(staging, staged_map)
        if isinstance(exc, OSError) and disk_refused(exc) is None:
            raise
        raise processing_error(data_dir, exc) from exc
    except BaseException:
        _discard(staging, staged_map)
        raise
    finally:
        con.close()
        if dry_run:
            shutil.rmtree(staging.parent, ignore_errors=True)

    report = LoadReport(
        source=str(source),
        fingerprint=stamp,
        tables=reports,
        persons=canonical[model.PERSONS_TABLE].num_rows,
        loaded_at=loaded_at.isoformat(timespec="seconds"),
        seconds=0.0,
        identity=replace(_identity(canonical), **identity_notes),
        ignored_files=list(inputs.ignored),
        quarantined_refusals=refused_records,
    )
    if dry_run:
        if progress is not None:
            progress("resolving persons", steps, steps)
        return replace(
            report, seconds=time.perf_counter() - started, refusals=refused, dry_run=True
        )
    step("writing the store")
    meta = {
        META_SOURCE_SYSTEMS: json.dumps(list(systems), ensure_ascii=False),
        META_FINGERPRINT: stamp,
        META_LAYOUT: LAYOUT_VERSION,
        META_RULES: LOADED_UNDER,
        META_SOURCE_TZ: source_zone().key,  # analyze and serve read the data's days in it
        META_SOURCE: str(source),
        META_LOADED_AT: report.loaded_at,
        person_ids.META_KEY: key.check,
        journal.META_SEQ: str(journal_seq),
        journal.META_DIGEST: journal_digest,
    }
    if store is None:  # only a dry run goes without a store, and it returned above
        raise ValueError("load_directory writes to a store: pass one, or dry_run=True")
    # Killed after the commit, the next load finishes what follows it from this record.
    pending = Pending(
        replace(report, seconds=time.perf_counter() - started),
        staging,
        staged_map,
        map_stamp=loaded_at.strftime("%Y%m%dT%H%M%SZ"),
    )
    pending_path = pending.path(data_dir)
    step("writing the store")  # announced before it starts, as every step is
    try:
        pending.write(data_dir)
        store.replace_tables(canonical, meta)
    except BaseException as exc:
        _discard(staging, staged_map)
        pending_path.unlink(missing_ok=True)
        if isinstance(exc, OSError) and disk_refused(exc) is not None:
            raise processing_error(data_dir, exc) from exc
        raise
    pending = replace(pending, report=replace(report, seconds=time.perf_counter() - started))
    report = pending.finish(data_dir)
    pending_path.unlink(missing_ok=True)
    if progress is not None:
        progress("writing the store", steps, steps)
    return report


def _identity(canonical: dict[str, pa.Table]) -> IdentityStats:
    records = canonical[model.CUSTOMERS.name].num_rows
    persons_table = canonical[model.PERSONS_TABLE]
    several = pc.sum(pc.greater_equal(persons_table.column("n_records"), 2)).as_py() or 0
    band = canonical[model.POSSIBLE_DUPLICATES_TABLE]
    shared = pc.sum(pc.equal(band.column("reason"), model.DUPLICATE_BY_SHARED_ID)).as_py()
    return IdentityStats(
        records=records,
        persons=persons_table.num_rows,
        merged_records=records - persons_table.num_rows,
        persons_with_several_records=int(several),
        possible_duplicates=band.num_rows,
        possible_shared_id=int(shared or 0),
    )


def _discard(staging: Path, staged_map: Path | None) -> None:
    """Remove what a failed load staged."""
    shutil.rmtree(staging, ignore_errors=True)
    if staged_map is not None:
        staged_map.unlink(missing_ok=True)


def _table_report(con: duckdb.DuckDBPyConnection, raw: RawTable) -> TableReport:
    table = raw.file.table
    codes = con.execute(
        f"SELECT split_part(reason, ':', 1) AS code, count(*) FROM "  # noqa: S608 - internal names
        f"(SELECT unnest(list_distinct(list_transform({REASONS}, lambda x: split_part(x, ':', 1)))) "
        f"AS reason FROM {checked_view(table)} WHERE len({REASONS}) > 0) GROUP BY code"
    ).fetchall()
    refused = count(
        con,
        f"SELECT count(*) FILTER (WHERE len({REASONS}) > 0) FROM {checked_view(table)}",  # noqa: S608 - internal names
    )
    reasons = {str(code): int(n) for code, n in codes}
    quality = _quality_counts(con, table)
    if raw.rejected:
        reasons["malformed_line"] = len(raw.rejected)
    rows_in = raw.rows + len(raw.rejected)
    quarantined = refused + len(raw.rejected)
    return TableReport(
        table=table,
        file=raw.file.path.name,
        rows_in=rows_in,
        loaded=rows_in - quarantined,
        quarantined=quarantined,
        reasons=dict(sorted(reasons.items())),
        ignored_columns=list(raw.ignored),
        quality=quality,
        notes=list(raw.notes),
        filled=_filled(con, model.TABLES[table]),
    )


_USABLE: Final[dict[tuple[str, str], str]] = {
    ("customers", "phone"): "phone_norm IS NOT NULL",
    ("customers", "email"): "email_norm IS NOT NULL",
    ("customers", "address"): "address_norm IS NOT NULL",
    ("customers", "id_number"): f"{ID_NUMBER_VALID}(id_number_norm)",
    ("enterprises", "phone"): "phone_norm IS NOT NULL",
    ("enterprises", "address"): "address_norm IS NOT NULL",
    ("enterprises", "credit_code"): normalise.credit_code_valid_sql("credit_code_norm"),
}
"""When a column's value is usable, not merely present: a phone Excel wrote as 1.38E+10,
an id number as 1.10105E+17 or an address as NULL is text and no value (``_filled``)."""


def _last_good(
    report: LoadReport | None, store: Store | None, stored: str | None
) -> LoadReport | None:
    """What the refusal guards compare with: the saved report of the load the store holds,
    else (the report deleted, unreadable, or of another load: a store restored from a
    backup) the store's own row counts, so a cut export cannot replace it unnoticed."""
    if report is not None and (stored is None or report.fingerprint == stored):
        return report
    if store is None or stored is None:
        return report
    tables = [
        TableReport(t.name, None, n, n, 0)
        for t in model.INPUT_TABLES
        if store.has_table(t.name) and (n := store.row_count(t.name))
    ]
    log.warning(
        "%s does not describe the store's load: the cut-export guard compares with the "
        "store's row counts (the column guard is off for this load)",
        REPORT_FILE,
    )
    return LoadReport("(the store)", stored, tables, 0, "", 0.0)


def _filled(con: duckdb.DuckDBPyConnection, table: model.Table) -> dict[str, int]:
    """Loaded rows with a usable value, per optional column (``TableReport.filled``)."""
    optional = [c.name for c in table.columns if c.name not in table.required_columns]
    if not optional:
        return {}
    counts = ", ".join(
        f"count(*) FILTER (WHERE coalesce({_USABLE[(table.name, c)]}, false))"
        if (table.name, c) in _USABLE
        else f"count({ident(c)})"
        for c in optional
    )
    (row,) = con.execute(
        f"SELECT {counts} FROM {checked_view(table.name)} WHERE len({REASONS}) = 0"  # noqa: S608 - names from the model
    ).fetchall()
    return dict(zip(optional, (int(n) for n in row), strict=True))


def _quality_counts(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, int]:
    """Loaded rows per data-quality flag (``model.QUALITY_FLAGS``); empty for other tables."""
    if table not in (model.CUSTOMERS.name, model.ENTERPRISES.name):
        return {}
    sep = model.QUALITY_FLAG_SEPARATOR
    found = con.execute(
        f"SELECT flag, count(*) FROM (SELECT unnest(string_split(quality_flags, '{sep}')) "  # noqa: S608 - internal names
        f"AS flag FROM {checked_view(table)} WHERE len({REASONS}) = 0 "
        "AND quality_flags IS NOT NULL) GROUP BY flag ORDER BY flag"
    ).fetchall()
    return {str(flag): int(n) for flag, n in found}


def _resolve(
    customers: pa.Table,
    params: LinkageParams,
    key: PersonIdKey,
    *,
    stored_ids: pa.Table | None,
    decided: DecidedPairs | None = None,
    model_dir: Path | None,
    retrain: bool,
) -> tuple[pa.Table, pa.Table, dict[str, Any]]:
    """Customers with identity resolution's person ids, the review band, and the report's
    notes on the model and the id numbers that are no evidence.

    ``stored_ids``: the store's ``customer_id``/``person_id``, when made with ``key``, so
    persons without an id number keep theirs. ``decided``: reviewers' SAME / DIFFERENT decisions from the journal.
    ``model_dir``: where the trained linkage model is kept (None: nowhere). Each
    review-band pair gets its keyed ``duplicate_id``, the id decisions name.
    """
    decided = decided or DecidedPairs()
    schema = canonical_schema(model.POSSIBLE_DUPLICATES_TABLE)
    if not params.enabled or customers.num_rows == 0:
        return customers, schema.empty_table(), {}
    previous = None
    if stored_ids is not None:
        previous = stored_ids.to_pandas().set_index("customer_id")["person_id"]
    frame = customers.select(
        ["customer_id", "source_system", "name_norm", "id_number_norm", "birth_date", "gender",
         "phone_norm", "email_norm", "address_norm"]
    ).to_pandas()  # fmt: skip
    result = resolve(
        frame,
        params,
        previous,
        key,
        data_dir=model_dir,
        retrain=retrain,
        same=decided.same,
        different=decided.different,
    )
    resolved = as_arrow(result)
    for name in resolved.column_names:
        customers = customers.set_column(
            customers.schema.get_field_index(name), name, resolved.column(name)
        )
    band = result.possible.assign(
        duplicate_id=[
            key.duplicate_id(x, y)
            for x, y in zip(
                result.possible["customer_a"], result.possible["customer_b"], strict=True
            )
        ]
    )
    possible = pa.Table.from_pandas(band, preserve_index=False)
    problems = pd.DataFrame(
        {"system": frame["source_system"].astype(str), "reason": result.id_problems}
    ).dropna()
    invalid: dict[str, dict[str, int]] = {}
    counts = problems.groupby(["system", "reason"]).size().reset_index(name="n")
    for system, reason, n in counts.itertuples(index=False):  # one per system and reason
        invalid.setdefault(str(system), {})[str(reason)] = int(n)
    notes: dict[str, Any] = {
        "model": result.training.method,
        "model_file": result.training.model_file,
        "id_checked_pairs": result.training.id_checked_pairs,
        "id_agreement": result.training.id_agreement,
        "untrained_levels": list(result.training.untrained),
        "invalid_id_numbers": invalid,
        "unapplied_same": result.unapplied,
    }
    customers = customers.cast(canonical_schema(model.CUSTOMERS.name))
    return customers, possible.cast(schema), notes


def _loaded(
    con: duckdb.DuckDBPyConnection, table: model.Table, *, own_person_ids: bool
) -> pa.Table:
    """The canonical rows of ``table``: every check passed, in file order.

    ``own_person_ids``: each customer record gets the id of its own id number (v1);
    otherwise ``person_id`` is left null for identity resolution v2 to fill (an HMAC per
    record is not free: about 1.5 s per million).
    """
    schema = canonical_schema(table.name)
    columns = []
    for name in schema.names:
        if name == "person_id" and own_person_ids:
            # 无 or 1.10105E+17 names no one: strangers who share it are not one person.
            document = (
                "CASE WHEN NOT regexp_full_match(id_number_norm, "
                f"{literal(ID_NO_DOCUMENT)}) THEN id_number_norm END"
            )
            columns.append(f"{person_ids.person_id_sql(document, 'customer_id')} AS person_id")
        elif name in ("person_id", "match_score", "match_evidence"):
            columns.append(f"NULL AS {name}")
        else:
            columns.append(ident(name))
    result = con.sql(
        f"SELECT {', '.join(columns)} FROM {checked_view(table.name)} "  # noqa: S608 - names from the model
        f"WHERE len({REASONS}) = 0 ORDER BY _row"
    ).to_arrow_table()
    return result.cast(schema)
