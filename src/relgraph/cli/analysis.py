"""The analysis commands: ``analyze`` (run and store the analytics) and ``validate``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from relgraph.cli.common import (
    DataDirOption,
    app,
    configured_engine,
    console,
    fail,
    note,
    open_store,
    progress,
    require_load,
    settings_from,
    store_name,
)
from relgraph.cli.stopping import stoppable
from relgraph.config import ConfigError, Settings
from relgraph.store.base import StoreError

if TYPE_CHECKING:
    from relgraph.engines.base import GraphEngine


@app.command()
def analyze(data_dir: DataDirOption = None) -> None:
    """Run the analytics (networks, households, groups, influence, layering); store the results."""
    settings = settings_from(data_dir)
    analyze_store(settings)


def analyze_store(settings: Settings) -> None:
    from relgraph.analytics.influence import PageRankConvergenceError
    from relgraph.analytics.settings import AnalysisSettings
    from relgraph.canonical import other_rules
    from relgraph.config import other_zone
    from relgraph.graph import build_projection
    from relgraph.jobs.analyze import analyze as run_analytics

    try:
        # Every threshold checked before the store is opened, so a typo costs nothing.
        analysis = AnalysisSettings.from_env(engine=settings.engine)
    except ConfigError as exc:
        fail(str(exc))
    open_store(settings, read_only=True).close()  # fails clearly when nothing was loaded
    # One transaction writes every result table: stopped before it, nothing of this run is kept.
    kept = "nothing of this run was written: the store keeps the results it had"
    if settings.store == "neo4j":  # the tables are switched in at once, then written back
        kept = (
            "the store serves the results it had, or this run's if it was writing them back "
            "onto the graph (the next run rewrites the nodes' properties)"
        )
    with stoppable("analyze", lambda: kept):
        store = open_store(settings)
        engine: GraphEngine | None = None
        try:
            require_load(store, settings)
            # Analysed as loaded: an earlier release's tables give that release's inputs.
            stale = other_rules(store.meta())
            if (zone := other_zone(store.meta())) is not None:
                note(zone)  # before the work: it says how the data's days are read
            no_customers = store.row_count("persons") == 0
            engine = configured_engine(settings, store)
            with progress() as update:
                projection = build_projection(
                    store, progress=lambda step: update("projecting: " + step, 0, 1)
                )
                try:
                    report = run_analytics(store, projection, analysis, update, engine=engine)
                except PageRankConvergenceError as exc:
                    fail(f"analyze stopped, nothing was written: {exc}")
                except StoreError as exc:
                    # The store cannot be used (another run holds its lock, the server went
                    # away): exit status 2 with its one line, as `relgraph load` does.
                    fail(f"analyze stopped: {exc}")
        finally:
            if engine is not None:
                engine.close()
            store.close()
    table = Table(title=f"analytics ({sum(report.seconds.values()):.1f} s)")
    table.add_column("result table")
    table.add_column("rows", justify="right")
    for name, rows in report.tables.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    if stale is not None:
        note(stale)
    if no_customers:
        note(
            "the store holds no customers (the last load's customers table was empty), so "
            "the person results (networks, households, influence) are empty; load an export "
            "with customers and run analyze again"
        )


@app.command()
def validate(
    truth: Annotated[
        Path,
        typer.Option(
            "--truth",
            help="Folder of truth files: persons.csv, households.csv, groups.csv, "
            "guarantee_circles.csv, influencers.csv, laundering.csv, suspicious_accounts.csv "
            "(any of them).",
        ),
    ],
    data_dir: DataDirOption = None,
    out: Annotated[
        Path, typer.Option("--out", help="Folder for report.md, the plots and metrics.json.")
    ] = Path("report"),
    encoding: Annotated[
        str,
        typer.Option(
            "--encoding",
            help="Encoding of the truth files, as relgraph load reads them: utf-8 (default; "
            "a BOM is skipped), utf-8-sig, gb18030, gbk, big5.",
        ),
    ] = "utf-8",
) -> None:
    """Compare what analyze stored with truth files; write a report and print a summary."""
    from relgraph.validate.job import ValidationError
    from relgraph.validate.job import validate as run_validation
    from relgraph.validate.report import format_value, write_report
    from relgraph.validate.truth import FILES, TruthError, read_truth

    settings = settings_from(data_dir)
    if out.exists() and not out.is_dir():
        fail(f"--out {out} is a file: give a folder for report.md, the plots and metrics.json")
    try:
        known = read_truth(truth, encoding)
    except TruthError as exc:
        fail(str(exc))
    if not known.present:
        fail(
            f"no truth files in {truth}: expected any of "
            f"{', '.join(f'{name}.csv' for name in FILES)}"
        )
    store = open_store(settings, read_only=True)  # fails clearly when nothing was loaded
    try:
        result = run_validation(store, known)
    except ValidationError as exc:
        fail(f"{store_name(settings)}: {exc}")
    finally:
        store.close()
    try:
        written = write_report(result, out)
    except OSError as exc:  # a file where the folder should be, no permission, a full disk
        fail(
            f"cannot write the report to {out}: {exc.strerror or exc}; give --out a folder "
            "you can write"
        )
    table = Table(title=f"validation against {truth}")
    table.add_column("section")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for section in result.sections:
        for i, (measure, value) in enumerate(section.headline.items()):
            table.add_row(section.name if i == 0 else "", measure, format_value(value))
    console.print(table)
    for section in result.sections:
        for text in section.notes:  # what the figures rest on: repeated rows, full-width ids
            note(f"{section.name}: {text}")
    if known.ignored:
        note(f"not truth files, not read: {', '.join(known.ignored)}")
    console.print(f"report written to {written[0]} (metrics in {written[1]})")
