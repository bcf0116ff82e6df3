"""The data commands: ``synth`` (a synthetic bank), ``load`` (into the store) and ``stats``."""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from relgraph.cli.common import (
    DataDirOption,
    app,
    console,
    fail,
    note,
    open_store,
    progress,
    require_load,
    settings_from,
    stop_signals,
)
from relgraph.cli.stopping import stoppable
from relgraph.config import ConfigError, Settings, zone_moves
from relgraph.store.base import Store, StoreError

if TYPE_CHECKING:
    from relgraph.ingest.readers import ReadOptions


class FileFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"


class Locale(StrEnum):
    zh = "zh"
    en = "en"


class ExportStyle(StrEnum):
    plain = "plain"
    bank = "bank"


@app.command()
def synth(
    out: Annotated[
        Path, typer.Option("--out", help="Directory to write the eleven tables and truth/ into.")
    ],
    customers: Annotated[
        int, typer.Option("--customers", help="Customer rows to generate (at least 10).")
    ] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same bytes.")] = 42,
    fmt: Annotated[FileFormat, typer.Option("--format", help="File format.")] = FileFormat.csv,
    dirty: Annotated[
        float,
        typer.Option("--dirty", help="Fraction of malformed rows to add (exercises quarantine)."),
    ] = 0.0,
    locale: Annotated[
        Locale,
        typer.Option("--locale", help="zh: hanzi names, Chinese addresses; en: the pinyin bank."),
    ] = Locale.zh,
    export_style: Annotated[
        ExportStyle | None,
        typer.Option(
            "--export-style",
            help="bank: some files as a Chinese bank exports them, with mapping.yaml (zh and "
            "CSV only); plain: one <table>.csv per table. Default: bank for zh CSV, else plain.",
        ),
    ] = None,
    tomorrow: Annotated[
        float | None,
        typer.Option(
            "--tomorrow",
            help="Hold back the last DAYS of transfers and every transfer of every planted "
            "pattern into <out>-tomorrow/transfers.csv (for `relgraph stream`); a plain CSV "
            "bank without --dirty.",
        ),
    ] = None,
) -> None:
    """Write a synthetic bank with planted ground truth (households, groups, laundering, …)."""
    from relgraph.synth import MIN_CUSTOMERS, generate

    if tomorrow is not None:
        if fmt.value != "csv" or export_style is ExportStyle.bank or tomorrow <= 0:
            fail("--tomorrow needs a positive number of days and a plain CSV bank "
                 "(--format csv --export-style plain)")  # fmt: skip
        if dirty > 0:
            # Malformed rows (a month 00) cannot be put in time order, and dirty.csv names
            # them by their line, which moves once tomorrow's rows leave the file.
            fail("--tomorrow needs a bank without --dirty rows: leave out --dirty")
        export_style = ExportStyle.plain
    if export_style is None:  # a Chinese bank's export unless asked otherwise
        bank = locale is Locale.zh and fmt.value == "csv"
        export_style = ExportStyle.bank if bank else ExportStyle.plain
    if customers < MIN_CUSTOMERS:  # the flag's name, as every other refusal gives it
        fail(f"--customers must be at least {MIN_CUSTOMERS}, not {customers}")
    started = time.perf_counter()
    with progress() as update:

        def on_stage(stage: str) -> None:
            update("synthesising: " + stage, 0, 1)

        try:
            counts = generate(
                customers,
                seed,
                out,
                fmt.value,
                dirty,
                progress=on_stage,
                locale=locale.value,
                export_style=export_style.value,
            )
        except ValueError as exc:
            fail(str(exc))
        except OSError as exc:  # --out names a file, or a folder that cannot be made
            why = "a file, not a folder" if out.is_file() else exc.strerror or str(exc)
            fail(f"cannot write the synthetic bank to {out} ({why}): give a folder to create")
    table = Table(title=f"synthetic bank in {out} ({time.perf_counter() - started:.1f} s)")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in counts.items():
        table.add_row(name, f"{rows:,}")
    if tomorrow is not None:
        from relgraph.synth.tomorrow import hold_back

        split = hold_back(out, tomorrow)
        table.add_row("transfers (loaded today)", f"{split['today']:,}")
        table.add_row(f"{out.name}-tomorrow/transfers.csv", f"{split['tomorrow']:,}")
        table.add_row("patterns completed tomorrow", f"{split['patterns']:,}")
    console.print(table)


@app.command()
def load(
    source: Annotated[
        Path, typer.Argument(help="Directory with one CSV or Parquet file per table.")
    ],
    data_dir: DataDirOption = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Validate, resolve and report without writing the store, quarantine or "
            "report; exit 3 when the load would be refused.",
        ),
    ] = False,
    max_quarantine_share: Annotated[
        float | None,
        typer.Option(
            "--max-quarantine-share",
            min=0.0,
            max=1.0,
            help="Refuse the load when a table of 100+ rows has a larger share quarantined "
            "(env RELGRAPH_MAX_QUARANTINE_SHARE; default 0.05).",
        ),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(
            "--encoding",
            help="Encoding of the input files: utf-8 (default), utf-8-sig, gb18030, gbk, big5 "
            "(the mapping file can set it per file).",
        ),
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            help="Mapping file (YAML) from the bank's files, columns and codes to the model; "
            "default: mapping.yaml in the input directory, if there.",
        ),
    ] = None,
    ignore_unknown_files: Annotated[
        bool,
        typer.Option(
            "--ignore-unknown-files",
            help="Skip files and folders that are no table (listed in the report) "
            "instead of stopping.",
        ),
    ] = False,
    allow_shrink: Annotated[
        bool,
        typer.Option(
            "--allow-shrink",
            help="Load even when a table of 100+ rows keeps under half the rows of the last "
            "good load (refused otherwise: an export cut short).",
        ),
    ] = False,
    retrain_linkage: Annotated[
        bool,
        typer.Option(
            "--retrain-linkage",
            help="Train the identity-resolution model again (EM, no labels) instead of "
            "reusing the one stored in the data directory.",
        ),
    ] = False,
    new_id_secret: Annotated[
        bool,
        typer.Option(
            "--new-id-secret",
            help="Load under an id secret other than the one the store's person ids were made "
            "with (refused otherwise): every person id changes; the load writes the map.",
        ),
    ] = False,
) -> None:
    """Validate, normalise and load a directory of source tables into the store.

    Exit status: 0 loaded (or unchanged), 2 the input or the store cannot be used, 3 the
    load was refused (a table lost every row, too large a share, or under half the rows of
    the last good load) and the store keeps its last good load.
    """
    from relgraph.ingest.readers import ReadOptions

    settings = settings_from(data_dir)
    load_source(
        source,
        settings,
        ReadOptions(encoding, mapping, ignore_unknown_files),
        dry_run=dry_run,
        max_quarantine_share=max_quarantine_share,
        retrain_linkage=retrain_linkage,
        allow_shrink=allow_shrink,
        new_id_secret=new_id_secret,
    )


REFUSED_EXIT = 3
"""``relgraph load``'s exit status when it refused (or, dry, would refuse) the input."""


def load_source(
    source: Path,
    settings: Settings,
    options: ReadOptions | None = None,
    *,
    dry_run: bool = False,
    max_quarantine_share: float | None = None,
    retrain_linkage: bool = False,
    allow_shrink: bool = False,
    new_id_secret: bool = False,
) -> None:
    from relgraph.ingest import IngestError, format_report, load_directory
    from relgraph.ingest.errors import disk_refused, processing_error
    from relgraph.ingest.interrupted import UnfinishedLoadError
    from relgraph.ingest.linkage import LinkageParams
    from relgraph.ingest.refusal import LoadRefusedError, QuarantineLimit, refusal_sentence
    from relgraph.journal import JournalError

    if not source.is_dir():
        fail(f"{source} is not a directory")
    # Settings are read before anything is opened, so a bad one is one line, not a traceback.
    try:
        if max_quarantine_share is None:
            max_quarantine_share = QuarantineLimit.from_env().quarantine_share
        linkage = LinkageParams.from_env()
    except ConfigError as exc:
        fail(str(exc))
    created = _new_embedded_store(settings) if not dry_run else None
    with stoppable("load", lambda: _kept_after_stop(settings, created, dry_run=dry_run)):
        store = _dry_run_store(settings) if dry_run else open_store(settings)
        refused = False  # by the input, before the store was written
        if store is not None and (moved := zone_moves(store.meta())) is not None:
            note(moved)  # said before the load: it may take a while
        try:
            with progress() as update:
                if store is not None:
                    store.progress = update
                report = load_directory(
                    source,
                    store,
                    settings.data_dir,
                    progress=update,
                    id_secret=settings.id_secret,
                    max_quarantine_share=max_quarantine_share,
                    linkage=linkage,
                    dry_run=dry_run,
                    options=options,
                    retrain_linkage=retrain_linkage,
                    allow_shrink=allow_shrink,
                    new_id_secret=new_id_secret,
                )
        except LoadRefusedError as exc:
            refused = True
            console.print(format_report(exc.report))
            fail(str(exc), code=REFUSED_EXIT)
        except IngestError as exc:
            refused = True
            fail(f"load stopped, nothing written: {exc}")
        except StoreError as exc:
            if created is not None:  # a first load: no good load to keep, no empty store left
                refused = True
                fail(f"load stopped, nothing written: {exc}")
            fail(f"load stopped; the store keeps its last good load: {exc}")
        except JournalError as exc:  # the message names the file and what to do
            refused = True
            fail(f"load stopped, nothing written: {exc}")
        except UnfinishedLoadError as exc:  # committed: the next load finishes the rest
            fail(str(exc))
        except OSError as exc:
            # A full disk before anything was staged (the id secret, the data directory).
            if disk_refused(exc) is None:
                raise
            refused = True
            fail(f"load stopped, nothing written: {processing_error(settings.data_dir, exc)}")
        finally:
            if store is not None:
                store.close()
            if created is not None and (refused or (stop_signals and not committed(settings))):
                # "Nothing written" holds for a first load too: no empty store is left behind.
                for path in (created, created.with_name(created.name + ".wal")):
                    path.unlink(missing_ok=True)
    console.print(format_report(report))
    if dry_run:
        console.print(
            "dry run: nothing was written (the store, quarantine/ and load-report.json are "
            "as they were)"
        )
        if report.refusals:
            fail(refusal_sentence(report), code=REFUSED_EXIT)
        return
    console.print(f"report saved to {settings.data_dir / 'load-report.json'}")


def committed(settings: Settings) -> bool:
    """Whether this process's load committed the store and was stopped before its report
    (its pending record stays, for the next load to finish)."""
    from relgraph.ingest.interrupted import Pending

    return Pending.path(settings.data_dir).exists()


def _kept_after_stop(settings: Settings, created: Path | None, *, dry_run: bool) -> str:
    """What the store holds after a load stopped by a signal."""
    if dry_run:
        return "a dry run: nothing was written"
    if committed(settings):
        return (
            "the store had committed this load; its quarantine and report were not written: "
            "the next `relgraph load` finishes them (without loading again)"
        )
    if created is not None:
        return "nothing was written (no store was created)"
    return "nothing was written: the store keeps its last good load"


def _new_embedded_store(settings: Settings) -> Path | None:
    """The embedded store's file when this load would create it, else None."""
    from relgraph.store.embedded import STORE_FILE

    path = settings.data_dir / STORE_FILE
    return path if settings.store == "embedded" and not path.exists() else None


def _dry_run_store(settings: Settings) -> Store | None:
    """The store, opened only to be read; None when there is no embedded store yet (a dry
    run does not create one)."""
    from relgraph.store.embedded import STORE_FILE

    if settings.store == "embedded" and not (settings.data_dir / STORE_FILE).exists():
        return None
    return open_store(settings, read_only=True)


@app.command()
def stats(data_dir: DataDirOption = None) -> None:
    """Build the graph projection from the store and print node and edge counts per kind."""
    settings = settings_from(data_dir)
    print_stats(settings)


def print_stats(settings: Settings) -> None:
    from relgraph.graph import build_projection, graph_stats

    store = open_store(settings, read_only=True)
    started = time.perf_counter()
    try:
        require_load(store, settings)
        for notice in store.notices():
            note(notice)
        with progress() as update:
            # The steps are named, not counted: the builder announces each as it starts.
            projection = build_projection(
                store, progress=lambda step: update("projecting: " + step, 0, 1)
            )
    finally:
        store.close()
    elapsed = time.perf_counter() - started
    counts = graph_stats(projection)
    nodes = Table(title=f"graph projection ({elapsed:.1f} s)")
    nodes.add_column("node kind")
    nodes.add_column("count", justify="right")
    for kind, n in counts["nodes"].items():
        nodes.add_row(kind, f"{n:,}")
    edges = Table()
    edges.add_column("edge kind")
    edges.add_column("count", justify="right")
    for kind, n in counts["edges"].items():
        edges.add_row(kind, f"{n:,}")
    console.print(nodes)
    console.print(edges)
