"""The `relgraph` command line: synth, load, stats, analyze, validate, audience, serve and demo."""

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
    from relgraph.api.auth import KeyRing
    from relgraph.engines.base import GraphEngine
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
    from relgraph.engines.gds import GdsEngine
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
    from relgraph.analytics.influence import PageRankConvergenceError
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
            try:
                report = run_analytics(store, projection, analysis, update, engine=engine)
            except PageRankConvergenceError as exc:
                _fail(f"analyze stopped, nothing was written: {exc}")
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
    from relgraph.analytics.audience import REASONS, AudienceError
    from relgraph.jobs.audience import check_target

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
    from relgraph.jobs.audience import choose, export

    store = _open_store(settings, read_only=True)  # fails clearly when nothing was loaded
    try:
        chosen = choose(store, wanted)
    finally:
        store.close()
    _audit_export(settings, wanted, chosen, out)  # before the file exists: no unaudited export
    return export(chosen, out, force=force)


def _audit_export(settings: Settings, wanted: Any, chosen: Any, out: Path) -> None:
    """One audit line per export: the criteria, and the count and SHA-256 of the ids handed
    out (the export's ``contacts``), under the same append lock as a running server."""
    import dataclasses
    import getpass
    import os

    from relgraph.api.audit import AuditError, open_audit_log, summarise_ids

    contacts = [str(c) for row in chosen.frame()["contacts"] for c in row]
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a container user with no passwd entry
        user = str(os.getuid())
    try:
        open_audit_log(settings.data_dir, settings.audit, production=settings.production).append(
            key_id=f"cli:{user}",
            role="operator",
            operation="audience export",
            criteria=dataclasses.asdict(wanted),
            out=out.name,
            **summarise_ids(contacts, always=True),
            outcome="ok",
        )
    except (ConfigError, AuditError) as exc:
        _fail(f"nothing exported: the audit trail cannot be written: {exc}")


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
    from relgraph.api.bodylimit import max_body_bytes
    from relgraph.api.server import serve as run_server

    try:
        max_body_bytes()  # a bad RELGRAPH_MAX_BODY_BYTES stops here, not in a traceback
    except ConfigError as exc:
        _fail(str(exc))
    if settings.store == "embedded" and not (settings.data_dir / "relgraph.duckdb").exists():
        _fail(f"no store in {settings.data_dir}: run `relgraph load DIR` first")
    if settings.store == "neo4j":
        # Unreachable at start-up is an error to see at once; later outages are
        # reported by /readyz and recovered from without a restart.
        _open_store(settings, read_only=True).close()
    from relgraph.api.audit import AuditError
    from relgraph.api.locks import LockedError

    try:
        run_server(
            _store_opener(settings, read_only=True),
            settings.store,
            settings.data_dir,
            host,
            port,
            keys,
            production=settings.production,
            audit=settings.audit,
        )
    except (ConfigError, AuditError, LockedError) as exc:
        _fail(str(exc))


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
) -> None:
    """Compare what analyze stored with truth files; write a report and print a summary."""
    from relgraph.validate.job import ValidationError
    from relgraph.validate.job import validate as run_validation
    from relgraph.validate.report import format_value, write_report
    from relgraph.validate.truth import FILES, TruthError, read_truth

    settings = _settings(data_dir)
    try:
        known = read_truth(truth)
    except TruthError as exc:
        _fail(str(exc))
    if not known.present:
        _fail(
            f"no truth files in {truth}: expected any of "
            f"{', '.join(f'{name}.csv' for name in FILES)}"
        )
    store = _open_store(settings, read_only=True)  # fails clearly when nothing was loaded
    try:
        result = run_validation(store, known)
    except ValidationError as exc:
        _fail(f"{_store_name(settings)}: {exc}")
    finally:
        store.close()
    written = write_report(result, out)
    table = Table(title=f"validation against {truth}")
    table.add_column("section")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for section in result.sections:
        for i, (measure, value) in enumerate(section.headline.items()):
            table.add_row(section.name if i == 0 else "", measure, format_value(value))
    console.print(table)
    console.print(f"report written to {written[0]} (metrics in {written[1]})")


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
    anchor: Annotated[
        Path | None,
        typer.Option(
            "--anchor",
            help="The log's anchor [env RELGRAPH_AUDIT_ANCHOR; default beside the log].",
        ),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Check the audit log against its key and anchor; exit 1 naming what changed.

    The key comes from RELGRAPH_AUDIT_KEY or RELGRAPH_AUDIT_KEY_FILE (outside production,
    the generated <data-dir>/audit-key).
    """
    from relgraph.api.audit import LOG_NAME, verify
    from relgraph.api.audit_key import load_audit_key

    settings = _settings(data_dir)
    path = file or settings.data_dir / LOG_NAME
    try:
        key = load_audit_key(
            settings.audit, settings.data_dir, production=settings.production, generate=False
        )
    except ConfigError as exc:
        _fail(str(exc))
    verdict = verify(path, key, anchor or settings.audit.anchor)
    if verdict.ok:
        console.print(f"{path}: {verdict.message}")
        return
    err_console.print(f"[bold red]{path}: {verdict.message}[/]")
    raise typer.Exit(1)


def main() -> None:  # pragma: no cover - console-script shim
    app()


if __name__ == "__main__":  # pragma: no cover - `python -m relgraph.cli`
    main()
