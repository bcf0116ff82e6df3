"""The serving commands: ``serve`` (the GraphQL API), ``demo`` and ``export-schema``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from relgraph.cli.analysis import analyze_store
from relgraph.cli.common import (
    NO_LOAD,
    DataDirOption,
    app,
    console,
    fail,
    note,
    open_store,
    require_load,
    settings_from,
    store_name,
    store_opener,
)
from relgraph.cli.data import FileFormat, load_source, print_stats, synth
from relgraph.config import ConfigError, Settings

if TYPE_CHECKING:
    from relgraph.api.auth import KeyRing


@app.command()
def demo(
    customers: Annotated[int, typer.Option("--customers", help="Size of the demo bank.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed")] = 42,
    data_dir: DataDirOption = None,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")
    ] = 8000,
) -> None:
    """Synthesise a bank, load and analyse it, then serve the API with a demo key per role."""
    from relgraph.api.server import listening_socket

    settings = settings_from(data_dir)
    # The address before minutes of synthesising, loading and analysing: a port in use (a
    # server already on 8000) is refused at once, as serve refuses it. serve binds again.
    try:
        listening_socket(host, port).close()
    except ConfigError as exc:
        fail(str(exc))
    bank = settings.data_dir / "demo-bank"
    console.rule(f"1/5 synthesising a {customers:,}-customer bank into {bank}")
    synth(out=bank, customers=customers, seed=seed, fmt=FileFormat.csv, dirty=0.01)
    console.rule(f"2/5 loading it into {settings.data_dir}")
    # The demo's bank is its own, written afresh: a smaller one replaces a larger one.
    load_source(bank, settings, allow_shrink=True)
    console.rule("3/5 graph projection")
    print_stats(settings)
    console.rule("4/5 analytics")
    analyze_store(settings)
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
        fail(str(exc))
    demo_keys: dict[Role, str] = {}
    if not len(keys):
        # One key per role, so the explorer's risk views (alerts, money flow) can be tried
        # beside what an analyst and a campaign tool see.
        demo_keys = {role: demo_key() for role in Role}
        keys = KeyRing({key: role for role, key in demo_keys.items()})
    store = open_store(settings, read_only=True)
    try:
        persons = store.read_table("persons", ["person_id", "n_records"]).to_pandas()
        # Show off identity resolution: a person found in several source systems.
        several = persons[persons["n_records"] >= 2]
        person = str((several if len(several) else persons)["person_id"].iloc[0])
    finally:
        store.close()
    console.rule("5/5 serving the API")
    console.print(f"Explorer: http://{host}:{port}/explore   (Ctrl-C stops the server)")
    console.print(f"GraphiQL: http://{host}:{port}/graphql")
    if demo_keys:
        console.print("demo keys (this run only; sign in to the explorer with one):")
        for role, key in demo_keys.items():
            console.print(f"  {role.value:<9} [bold]{key}[/]")
        console.print('In GraphiQL, add the header {"Authorization": "Bearer <key>"}.')
    else:
        console.print("Using the keys from RELGRAPH_API_KEYS / RELGRAPH_API_KEYS_FILE.")
    console.print("Example queries:")
    console.print(DEMO_QUERIES[0].format(person=person), markup=False, highlight=False)
    for query in DEMO_QUERIES[1:]:
        console.print(query, markup=False, highlight=False)
    serve_api(settings, host, port, keys)


@app.command()
def serve(
    data_dir: DataDirOption = None,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    # Checked before anything starts: a port past 65535 was an OverflowError traceback from
    # bind(), after the serve lock and the audit log were taken (and, in demo, a whole load).
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")
    ] = 8000,
) -> None:
    """Serve the GraphQL API (/graphql, /healthz, /readyz, /metrics) from the store."""
    from relgraph.api.auth import KeyRing

    settings = settings_from(data_dir)
    try:
        keys = KeyRing.from_env()
    except ConfigError as exc:
        fail(str(exc))
    if not len(keys):
        fail("no API keys: set RELGRAPH_API_KEYS ('role:key,…') or RELGRAPH_API_KEYS_FILE")
    serve_api(settings, host, port, keys)


def serve_api(settings: Settings, host: str, port: int, keys: KeyRing) -> None:
    from relgraph.api.bodylimit import max_body_bytes
    from relgraph.api.scoring_pool import scoring_processes
    from relgraph.api.server import serve as run_server

    try:
        # A bad RELGRAPH_MAX_BODY_BYTES or RELGRAPH_SCORING_PROCESSES stops here, not in a
        # traceback (or, for the second, in a live index that refuses every transfer).
        max_body_bytes()
        scoring_processes()
    except ConfigError as exc:
        fail(str(exc))
    if settings.store == "embedded" and not (settings.data_dir / "relgraph.duckdb").exists():
        fail(
            f"no store in {settings.data_dir.absolute()}: {NO_LOAD}, or give --data-dir "
            "(RELGRAPH_DATA_DIR) the folder a load wrote"
        )
    # An unreachable Neo4j or a store without a load is an error to see at once; later
    # outages are reported by /readyz and recovered from without a restart.
    check_servable(settings)
    from relgraph.api.audit import AuditError
    from relgraph.api.locks import LockedError
    from relgraph.journal import JournalError

    try:
        run_server(
            store_opener(settings, read_only=True),
            settings.store,
            settings.data_dir,
            host,
            port,
            keys,
            production=settings.production,
            audit=settings.audit,
            search_rate=settings.search_rate,
            id_misses=settings.id_misses,
        )
    except (ConfigError, AuditError, LockedError, JournalError) as exc:
        fail(str(exc))


def check_servable(settings: Settings) -> None:
    """Fail when the store holds no load; say so when it holds no customers or no analysis
    (the API then answers, but finds no persons, or asks for `relgraph analyze`), and when
    an earlier release loaded it (the API then serves what that release read), and when it
    was loaded under another ``RELGRAPH_SOURCE_TZ`` (the API reads the data's days in the
    store's). Fail when the journal lacks entries the store's load merged (restored from an
    older backup): new entries would reuse their numbers and the next load drop them."""
    from relgraph.canonical import other_rules
    from relgraph.config import other_zone
    from relgraph.journal import JournalError, behind

    store = open_store(settings, read_only=True)
    try:
        require_load(store, settings)
        try:
            lost = behind(settings.data_dir, store.meta())
        except JournalError as exc:
            fail(str(exc))
        if lost is not None:
            fail(lost)
        if (stale := other_rules(store.meta())) is not None:
            note(stale)
        if (zone := other_zone(store.meta())) is not None:
            note(zone)
        for notice in store.notices():
            note(notice)
        if store.row_count("persons") == 0:
            note(
                f"the store {store_name(settings)} holds no customers (the last load's "
                "customers table was empty): load an export with customers, then run "
                "`relgraph analyze`"
            )
        elif not store.result_names():
            note(
                "analyze has not run on this load: households, networks, groups, influence "
                "and risk answer 'run `relgraph analyze`' until it has"
            )
    finally:
        store.close()


@app.command("export-schema")
def export_schema(
    out: Annotated[Path, typer.Option("--out", help="Where to write the SDL.")] = Path(
        "schema.graphql"
    ),
) -> None:
    """Write the GraphQL schema (SDL) to a file."""
    from relgraph.api.schema import build_schema

    try:
        out.write_text(str(build_schema()) + "\n", encoding="utf-8")
    except OSError as exc:  # a folder, a missing folder, a read-only one
        fail(f"cannot write the schema to {out} ({exc.strerror or exc}): give --out a file path")
    console.print(f"schema written to {out}")


@app.command()
def stream(
    file: Annotated[Path, typer.Argument(help="A transfers file (CSV or Parquet) to send.")],
    url: Annotated[
        str, typer.Option("--url", help="The running server.")
    ] = "http://127.0.0.1:8000",
    rate: Annotated[
        float, typer.Option("--rate", help="Transfers per second offered (0: as fast as answered).")
    ] = 200.0,
    batch: Annotated[int, typer.Option("--batch", help="Transfers per request (1-1000).")] = 50,
    patience: Annotated[
        float,
        typer.Option(
            "--patience", help="Give up after this many seconds without an answer to a batch."
        ),
    ] = 60.0,
    skip: Annotated[
        int,
        typer.Option(
            "--skip", help="Start after this many rows (resume where a stopped stream said)."
        ),
    ] = 0,
    encoding: Annotated[
        str,
        typer.Option(
            "--encoding",
            help="Encoding of a CSV file, as relgraph load reads it: utf-8 (default), "
            "utf-8-sig, gb18030, gbk, big5.",
        ),
    ] = "utf-8",
) -> None:
    """Replay a transfers file against a running server (key: RELGRAPH_INGEST_KEY).

    Whatever ends it (the file sent, Ctrl-C, a refusal, no answer within --patience), it
    prints what was acknowledged and, when it stopped early, the --skip to resume with.
    """
    import os

    from relgraph.jobs.sources.file import FileSource
    from relgraph.jobs.sources.http import server_url
    from relgraph.jobs.stream import replay

    key = os.environ.get("RELGRAPH_INGEST_KEY", "")
    if not key:
        fail("Set RELGRAPH_INGEST_KEY to an ingest (or admin) key of the server.")
    try:
        server_url(url)
    except ValueError as exc:
        fail(str(exc))
    if not 1 <= batch <= 1_000:
        fail(f"--batch must be between 1 and 1000, not {batch}")
    if not file.is_file():
        fail(f"{file} is not a file: pass a transfers CSV or Parquet file")
    if not rate >= 0:  # NaN too
        fail(f"--rate must be 0 (as fast as answered) or more transfers per second, not {rate}")
    if not patience > 0:
        fail(f"--patience must be more than 0 seconds, not {patience}")
    if skip < 0:
        fail(f"--skip must be 0 or more rows, not {skip}")
    source = FileSource(file, committed=skip, encoding=encoding)
    try:
        rows = len(source.records())
    except ValueError as exc:  # IngestError too: each names the file
        fail(str(exc))
    if rows == 0:
        fail(f"{file} has no rows, only a header: there is nothing to stream")
    if skip >= rows:
        fail(f"--skip {skip} skips every row: {file} has {rows:,}")
    try:
        report = replay(source, url, key, rate, batch, patience=patience, on_wait=note)
    except (ValueError, RuntimeError) as exc:
        fail(str(exc))
    console.print(
        f"sent {report.sent:,} transfers in {report.seconds:.1f} s "
        f"({report.sent / max(report.seconds, 1e-9):,.0f}/s): {report.accepted:,} accepted, "
        f"{report.duplicate:,} duplicate, {report.rejected:,} rejected; "
        f"{report.alerts:,} alerts; batch latency p50 {1e3 * report.percentile(50):.1f} ms, "
        f"p99 {1e3 * report.percentile(99):.1f} ms; {report.retries} retries"
    )
    for line in report.rejections:
        console.print(f"  rejected {line}")
    if report.stopped is not None:
        # Every row before the first unacknowledged one was answered: resuming there
        # loses nothing (and a row sent twice is answered as a duplicate).
        done = skip + report.sent
        first = report.unacknowledged
        named = f" (tx_id {first.get('tx_id')})" if first is not None else ""
        message = (
            f"stream stopped: {report.stopped}; rows 1-{done:,} of {file} are acknowledged"
            if done
            else f"stream stopped: {report.stopped}; no row of {file} is acknowledged"
        )
        fail(
            f"{message}; the first row not acknowledged is row {done + 1:,}{named}: "
            f"resume with --skip {done}",
            130 if report.stopped == "interrupted" else 1,
        )
