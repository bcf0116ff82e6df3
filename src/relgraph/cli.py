"""The `relgraph` command line: synth, load, stats and demo."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from relgraph.config import ConfigError, Settings
from relgraph.store.base import Store, StoreError

app = typer.Typer(
    name="relgraph",
    help="Customer-relationship graph analytics for banks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Where the store, quarantine and reports live [env RELGRAPH_DATA_DIR; default ./relgraph-data].",
    ),
]


class FileFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"


def _settings(data_dir: Path | None) -> Settings:
    try:
        return Settings.from_env().with_overrides(data_dir=data_dir)
    except ConfigError as exc:
        _fail(str(exc))


def _fail(message: str, code: int = 2) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def _open_store(settings: Settings, *, read_only: bool = False) -> Store:
    if settings.store != "embedded":
        _fail(
            f"store {settings.store!r} is not available in this build; use RELGRAPH_STORE=embedded"
        )
    from relgraph.store.embedded import EmbeddedStore

    try:
        return EmbeddedStore(settings.data_dir, read_only=read_only)
    except StoreError as exc:
        _fail(str(exc))


@contextmanager
def _progress() -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar fed by ``(stage, done, total)`` callbacks; silent when not a TTY."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description:<28}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=max(total, 1))
            bar.update(tasks[stage], completed=done, total=max(total, 1))

        yield update


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
) -> None:
    """Write a synthetic bank with planted ground truth (households, groups, laundering, …)."""
    from relgraph.synth import generate

    started = time.perf_counter()
    with _progress() as update:
        stages: list[str] = []

        def on_stage(stage: str) -> None:
            stages.append(stage)
            update("synthesising: " + stage, len(stages), len(stages) + 1)

        try:
            counts = generate(customers, seed, out, fmt.value, dirty, progress=on_stage)
        except ValueError as exc:
            _fail(str(exc))
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
    settings = _settings(data_dir)
    _load(source, settings)


def _load(source: Path, settings: Settings) -> None:
    from relgraph.ingest import IngestError, format_report, load_directory

    if not source.is_dir():
        _fail(f"{source} is not a directory")
    store = _open_store(settings)
    try:
        with _progress() as update:
            report = load_directory(source, store, settings.data_dir, progress=update)
    except IngestError as exc:
        _fail(f"load stopped, nothing written: {exc}")
    finally:
        store.close()
    console.print(format_report(report))
    console.print(f"report saved to {settings.data_dir / 'load-report.json'}")


@app.command()
def stats(data_dir: DataDirOption = None) -> None:
    """Build the graph projection from the store and print node and edge counts per kind."""
    settings = _settings(data_dir)
    _stats(settings)


def _stats(settings: Settings) -> None:
    from relgraph.graph import build_projection, graph_stats

    store = _open_store(settings, read_only=True)
    started = time.perf_counter()
    try:
        with _progress() as update:
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


@app.command()
def analyze(data_dir: DataDirOption = None) -> None:
    """Run the analytics (networks, households, groups, influence) and store their results."""
    settings = _settings(data_dir)
    _analyze(settings)


def _analyze(settings: Settings) -> None:
    from relgraph.analytics.params import (
        GroupParams,
        HouseholdParams,
        InfluenceParams,
        NetworkParams,
    )
    from relgraph.analytics.run import analyze as run_analytics
    from relgraph.graph import build_projection

    try:
        network_params, household_params = NetworkParams.from_env(), HouseholdParams.from_env()
        GroupParams.from_env()
        InfluenceParams.from_env()
    except ConfigError as exc:
        _fail(str(exc))
    _open_store(settings, read_only=True).close()  # fails clearly when nothing was loaded
    store = _open_store(settings)
    try:
        if not store.has_table("persons"):
            _fail(f"the store in {settings.data_dir} holds no data: run `relgraph load DIR` first")
        with _progress() as update:
            projection = build_projection(
                store, progress=lambda step: update("projecting: " + step, 0, 1)
            )
            report = run_analytics(store, projection, network_params, household_params, update)
    finally:
        store.close()
    table = Table(title=f"analytics ({sum(report.seconds.values()):.1f} s)")
    table.add_column("result table")
    table.add_column("rows", justify="right")
    for name, rows in report.tables.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)


@app.command()
def demo(
    customers: Annotated[int, typer.Option("--customers", help="Size of the demo bank.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed")] = 42,
    data_dir: DataDirOption = None,
) -> None:
    """Synthesise a small bank, load it, analyse it, and print the reports and graph statistics."""
    settings = _settings(data_dir)
    bank = settings.data_dir / "demo-bank"
    console.rule(f"1/4 synthesising a {customers:,}-customer bank into {bank}")
    synth(out=bank, customers=customers, seed=seed, fmt=FileFormat.csv, dirty=0.01)
    console.rule(f"2/4 loading it into {settings.data_dir}")
    _load(bank, settings)
    console.rule("3/4 graph projection")
    _stats(settings)
    console.rule("4/4 analytics")
    _analyze(settings)


def main() -> None:  # pragma: no cover - console-script shim
    app()
