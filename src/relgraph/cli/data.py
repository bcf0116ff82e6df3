"""The data commands: ``synth`` (a synthetic bank), ``load`` (into the store) and ``stats``."""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from relgraph.cli.common import (
    DataDirOption,
    app,
    console,
    fail,
    open_store,
    progress,
    settings_from,
)
from relgraph.config import Settings
from relgraph.store.base import StoreError


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
        Path, typer.Option("--out", help="Directory to write the ten tables and truth/ into.")
    ],
    customers: Annotated[
        int, typer.Option("--customers", help="Customer rows to generate.")
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
        ExportStyle,
        typer.Option(
            "--export-style",
            help="bank: some files as a Chinese bank exports them, with mapping.yaml (zh only).",
        ),
    ] = ExportStyle.plain,
) -> None:
    """Write a synthetic bank with planted ground truth (households, groups, laundering, …)."""
    from relgraph.synth import generate

    started = time.perf_counter()
    with progress() as update:
        stages: list[str] = []

        def on_stage(stage: str) -> None:
            stages.append(stage)
            update("synthesising: " + stage, len(stages), len(stages) + 1)

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
    table = Table(title=f"synthetic bank in {out} ({time.perf_counter() - started:.1f} s)")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in counts.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)


@app.command()
def load(
    source: Annotated[
        Path, typer.Argument(help="Directory with one CSV or Parquet file per table.")
    ],
    data_dir: DataDirOption = None,
) -> None:
    """Validate, normalise and load a directory of source tables into the store."""
    settings = settings_from(data_dir)
    load_source(source, settings)


def load_source(source: Path, settings: Settings) -> None:
    from relgraph.ingest import IngestError, format_report, load_directory

    if not source.is_dir():
        fail(f"{source} is not a directory")
    store = open_store(settings)
    try:
        with progress() as update:
            store.progress = update
            report = load_directory(
                source, store, settings.data_dir, progress=update, id_secret=settings.id_secret
            )
    except IngestError as exc:
        fail(f"load stopped, nothing written: {exc}")
    except StoreError as exc:
        fail(f"load stopped; the store keeps its last good load: {exc}")
    finally:
        store.close()
    console.print(format_report(report))
    console.print(f"report saved to {settings.data_dir / 'load-report.json'}")


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
        with progress() as update:
            steps: list[str] = []

            def on_step(step: str) -> None:
                steps.append(step)
                update("projecting: " + step, len(steps), len(steps) + 1)

            projection = build_projection(store, progress=on_step)
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
