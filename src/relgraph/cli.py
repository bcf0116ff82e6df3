"""The `relgraph` command line: synth, load, stats, analyze, audience, serve and demo."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
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

if TYPE_CHECKING:
    from relgraph.analytics.engine import GraphEngine
    from relgraph.api.auth import KeyRing
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
    # One line whatever the terminal width, and a path with [brackets] is not markup.
    err_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)


def _store_opener(settings: Settings, *, read_only: bool = False) -> Callable[[], Store]:
    """A function that opens the configured store (raising :class:`StoreError`)."""
    if settings.store == "neo4j":
        from relgraph.store.neo4j import Neo4jStore

        return lambda: Neo4jStore.connect(settings.neo4j)
    from relgraph.store.embedded import EmbeddedStore

    return lambda: EmbeddedStore(settings.data_dir, read_only=read_only)


def _store_name(settings: Settings) -> str:
    if settings.store == "neo4j":
        return f"neo4j {settings.neo4j.uri} database {settings.neo4j.database}"
    return f"embedded {settings.data_dir}"


def _open_store(settings: Settings, *, read_only: bool = False) -> Store:
    try:
        return _store_opener(settings, read_only=read_only)()
    except StoreError as exc:
        _fail(str(exc))


def _engine(settings: Settings, store: Store) -> GraphEngine | None:
    """The GDS engine when configured (it runs on the store's live generation)."""
    if settings.engine != "gds":
        return None
    from relgraph.store.gds import GdsEngine
    from relgraph.store.neo4j import Neo4jStore

    if not isinstance(store, Neo4jStore):
        _fail("RELGRAPH_ANALYTICS_ENGINE=gds needs RELGRAPH_STORE=neo4j")
    try:
        return GdsEngine.connect(settings.neo4j, store.generation)
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
            store.progress = update
            report = load_directory(
                source, store, settings.data_dir, progress=update, id_secret=settings.id_secret
            )
    except IngestError as exc:
        _fail(f"load stopped, nothing written: {exc}")
    except StoreError as exc:
        _fail(f"load stopped; the store keeps its last good load: {exc}")
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
    """Run the analytics (networks, households, groups, influence, layering); store the results."""
    settings = _settings(data_dir)
    _analyze(settings)


def _analyze(settings: Settings) -> None:
    from relgraph.analytics.settings import AnalysisSettings
    from relgraph.graph import build_projection
    from relgraph.jobs.analyze import analyze as run_analytics

    try:
        # Every threshold checked before the store is opened, so a typo costs nothing.
        analysis = AnalysisSettings.from_env(engine=settings.engine)
    except ConfigError as exc:
        _fail(str(exc))
    _open_store(settings, read_only=True).close()  # fails clearly when nothing was loaded
    store = _open_store(settings)
    engine: GraphEngine | None = None
    try:
        if not store.has_table("persons"):
            _fail(f"the store {_store_name(settings)} holds no data: run `relgraph load DIR` first")
        engine = _engine(settings, store)
        with _progress() as update:
            projection = build_projection(
                store, progress=lambda step: update("projecting: " + step, 0, 1)
            )
            report = run_analytics(store, projection, analysis, update, engine=engine)
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


@app.command()
def audience(
    criteria: Annotated[
        Path,
        typer.Option(
            "--criteria",
            help='UTF-8 JSON criteria, keys as in GraphQL\'s AudienceCriteria, e.g. {"unit": "HOUSEHOLD", "lacksProducts": ["wealth"]}.',
        ),
    ],
    out: Annotated[
        Path,
        typer.Option("--out", help="The export: FILE.csv or FILE.parquet, in an existing folder."),
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Replace the --out file when it exists.")
    ] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Export a risk-aware campaign audience (households or corporate groups) to a file."""
    from relgraph.analytics.audience import REASONS, AudienceError, check_target

    settings = _settings(data_dir)
    wanted = _criteria(criteria)
    try:
        check_target(out, force=force)  # before the work, so a bad --out costs nothing
        written = _audience(settings, wanted, out, force)
    except AudienceError as exc:
        _fail(str(exc))
    console.print(
        f"{len(written):,} {wanted.unit.lower().replace('_', ' ')} entries, "
        f"{int(written['contact_count'].sum()):,} members to contact; written to {out}"
    )
    left_out = ", ".join(
        f"{reason} {int(written[f'excluded_{reason.lower()}'].sum()):,}" for reason in REASONS
    )
    console.print(f"members left out: {left_out}")


def _criteria(path: Path) -> Any:
    """The criteria in ``path``, or a one-line error saying what is wrong with the file."""
    import json

    from relgraph.analytics.audience import AudienceError, Criteria

    if path.is_dir():
        _fail(f"{path} is a folder, not a criteria file.")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        _fail(f"The criteria file {path} does not exist.")
    except OSError as exc:
        _fail(f"The criteria file {path} cannot be read: {exc.strerror}.")
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark (Windows editors) is fine
    except UnicodeDecodeError:
        _fail(f"{path} is not UTF-8 text: save the criteria as UTF-8 JSON.")
    try:
        return Criteria.from_mapping(json.loads(text))
    except json.JSONDecodeError as exc:
        _fail(f"{path} is not valid JSON: {exc}.")
    except AudienceError as exc:
        _fail(f"{path}: {exc}")


def _audience(settings: Settings, wanted: Any, out: Path, force: bool) -> Any:
    from relgraph.analytics.audience import campaign_audience, export
    from relgraph.analytics.audience_source import AudienceSource

    store = _open_store(settings, read_only=True)  # fails clearly when nothing was loaded
    try:
        source = AudienceSource.from_store(store)
    finally:
        store.close()
    return export(campaign_audience(source, wanted), out, force=force)


@app.command()
def demo(
    customers: Annotated[int, typer.Option("--customers", help="Size of the demo bank.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed")] = 42,
    data_dir: DataDirOption = None,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
) -> None:
    """Synthesise a bank, load and analyse it, then serve the API with a demo key."""
    settings = _settings(data_dir)
    bank = settings.data_dir / "demo-bank"
    console.rule(f"1/5 synthesising a {customers:,}-customer bank into {bank}")
    synth(out=bank, customers=customers, seed=seed, fmt=FileFormat.csv, dirty=0.01)
    console.rule(f"2/5 loading it into {settings.data_dir}")
    _load(bank, settings)
    console.rule("3/5 graph projection")
    _stats(settings)
    console.rule("4/5 analytics")
    _analyze(settings)
    _demo_serve(settings, host, port)


DEMO_QUERIES = (
    """query Customer {{
  customer(id: "{person}") {{
    id name segment aum products
    records {{ customerId sourceSystem matchScore }}
    accounts(first: 5) {{ totalCount edges {{ node {{ id product balance }} }} }}
    household {{ id }}
    network {{ id size }}
  }}
}}""",
    """query TopHouseholds {
  households(filter: {minSize: 2, lacksProduct: "loan"}, first: 5) {
    totalCount
    edges { node { id size totalAum products missingProducts head { name } } }
  }
}""",
    """query LoanCampaign {
  campaignAudience(criteria: {unit: HOUSEHOLD, minSize: 2, minTotalAum: 100000,
                              lacksProducts: ["loan"]}, first: 5) {
    totalCount
    edges { node { unitId totalAum productGap contacts excluded { reason count } qualifiedBecause } }
  }
}""",
)


def _demo_serve(settings: Settings, host: str, port: int) -> None:
    from relgraph.api.auth import KeyRing, Role, demo_key

    try:
        keys = KeyRing.from_env()
    except ConfigError as exc:
        _fail(str(exc))
    key = None
    if not len(keys):
        key = demo_key()
        keys = KeyRing({key: Role.ANALYST})
    store = _open_store(settings, read_only=True)
    try:
        persons = store.read_table("persons", ["person_id", "n_records"]).to_pandas()
        # Show off identity resolution: a person found in several source systems.
        several = persons[persons["n_records"] >= 2]
        person = str((several if len(several) else persons)["person_id"].iloc[0])
    finally:
        store.close()
    console.rule("5/5 serving the API")
    console.print(f"GraphiQL: http://{host}:{port}/graphql   (Ctrl-C stops the server)")
    if key:
        console.print(f"demo analyst key (this run only): [bold]{key}[/]")
        console.print('In GraphiQL, add the header {"Authorization": "Bearer <key>"}.')
    else:
        console.print("Using the keys from RELGRAPH_API_KEYS / RELGRAPH_API_KEYS_FILE.")
    console.print("Example queries:")
    console.print(DEMO_QUERIES[0].format(person=person), markup=False, highlight=False)
    for query in DEMO_QUERIES[1:]:
        console.print(query, markup=False, highlight=False)
    _serve(settings, host, port, keys)


@app.command()
def serve(
    data_dir: DataDirOption = None,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
) -> None:
    """Serve the GraphQL API (/graphql, /healthz, /readyz, /metrics) from the store."""
    from relgraph.api.auth import KeyRing

    settings = _settings(data_dir)
    try:
        keys = KeyRing.from_env()
    except ConfigError as exc:
        _fail(str(exc))
    if not len(keys):
        _fail("no API keys: set RELGRAPH_API_KEYS ('role:key,…') or RELGRAPH_API_KEYS_FILE")
    _serve(settings, host, port, keys)


def _serve(settings: Settings, host: str, port: int, keys: KeyRing) -> None:
    from relgraph.api.server import serve as run_server

    if settings.store == "embedded" and not (settings.data_dir / "relgraph.duckdb").exists():
        _fail(f"no store in {settings.data_dir}: run `relgraph load DIR` first")
    if settings.store == "neo4j":
        # Unreachable at start-up is an error to see at once; later outages are
        # reported by /readyz and recovered from without a restart.
        _open_store(settings, read_only=True).close()
    run_server(
        _store_opener(settings, read_only=True),
        settings.store,
        settings.data_dir,
        host,
        port,
        keys,
        production=settings.env == "production",
    )


@app.command("export-schema")
def export_schema(
    out: Annotated[Path, typer.Option("--out", help="Where to write the SDL.")] = Path(
        "schema.graphql"
    ),
) -> None:
    """Write the GraphQL schema (SDL) to a file."""
    from relgraph.api.schema import build_schema

    out.write_text(str(build_schema()) + "\n", encoding="utf-8")
    console.print(f"schema written to {out}")


audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(
    file: Annotated[
        Path | None, typer.Argument(help="Audit log [default <data-dir>/audit.log].")
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Check the audit log's hash chain; exit 1 naming the first bad line."""
    from relgraph.api.audit import verify

    path = file or _settings(data_dir).data_dir / "audit.log"
    verdict = verify(path)
    if verdict.ok:
        console.print(f"{path}: {verdict.message}")
        return
    err_console.print(f"[bold red]{path}: {verdict.message}[/]")
    raise typer.Exit(1)


def main() -> None:  # pragma: no cover - console-script shim
    app()


if __name__ == "__main__":  # pragma: no cover - `python -m relgraph.cli`
    main()
