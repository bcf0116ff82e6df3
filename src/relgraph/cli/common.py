"""What every command shares: the app, the consoles, settings, errors, the store and progress."""

from __future__ import annotations

import logging
import math
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from typer.core import TyperGroup
from typer.exceptions import TyperException

from relgraph.cli.closed_pipe import ReaderConsole, reader_may_leave
from relgraph.cli.progress_lines import LineProgress
from relgraph.config import ConfigError, Settings
from relgraph.store.base import Store, StoreError, StoreInUseError
from relgraph.store.lock_wait import duration

if TYPE_CHECKING:
    from relgraph.engines.base import GraphEngine


INTERNAL_ERROR = 70
"""Exit status of a fault in relgraph itself (``EX_SOFTWARE``), apart from 1 — a finding
(``audit verify`` found the log changed) — so a scheduler can tell a bug from a result."""


class _Commands(TyperGroup):
    """The app's command group: a store or settings error that no command turned into its own
    message (a Neo4j server that answers but cannot read its database; a zone the store was
    loaded in that this machine lacks) is still one line and exit status 2, as the README
    promises, not a traceback. Any other error is a fault in relgraph: its traceback, one
    line saying so, and exit status 70. Output whose reader left (``| head``) stops the
    command quietly with status 141 (:mod:`~relgraph.cli.closed_pipe`)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        # `relgraph --help | head` writes its help while the group parses its arguments.
        with reader_may_leave():
            return super().parse_args(ctx, args)

    def invoke(self, ctx: Any) -> Any:  # typer's click Context, kept private by typer
        try:
            with reader_may_leave():
                return super().invoke(ctx)
        except (StoreError, ConfigError) as exc:
            fail(str(exc))
        except (typer.Exit, typer.Abort, TyperException):
            raise  # exits already chosen, usage errors (2), Ctrl-C outside a long step
        except Exception:
            traceback.print_exc()
            command = ctx.invoked_subcommand or "relgraph"
            err_console.print(
                f"[bold red]internal error:[/] relgraph {escape(command)} failed on a fault in "
                "relgraph itself (the traceback above): report it with the traceback",
                soft_wrap=True,
            )
            raise typer.Exit(INTERNAL_ERROR) from None


app = typer.Typer(
    cls=_Commands,
    name="relgraph",
    help="Customer-relationship graph analytics for banks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = ReaderConsole()
err_console = ReaderConsole(stderr=True)

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        # Parentheses, not brackets: rich reads "[env …]" in a help text as markup and drops it.
        help="Where the store, quarantine and reports live (env RELGRAPH_DATA_DIR; default ./relgraph-data).",
    ),
]


def settings_from(data_dir: Path | None) -> Settings:
    """The settings from the environment with ``--data-dir`` over them; bad ones fail."""
    try:
        return Settings.from_env().with_overrides(data_dir=data_dir)
    except ConfigError as exc:
        fail(str(exc))


stop_signals: list[int] = []
"""The signals that stopped the running command (see :mod:`relgraph.cli.stopping`); while it
cleans up, an error it meets is the stop's doing, which the stop's own line says."""


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``message`` as one error line and exit with ``code``."""
    if stop_signals:
        raise typer.Exit(code)
    # One line whatever the terminal width, and a path with [brackets] is not markup.
    err_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)


def note(message: str) -> None:
    """Print ``message`` as one line on stderr: something the user should know, not an error."""
    err_console.print(f"[yellow]note:[/] {escape(message)}", soft_wrap=True)


NO_LOAD = "run `relgraph load DIR` first"


def require_load(store: Store, settings: Settings) -> None:
    """Fail with one sentence when ``store`` holds no load: none yet, or only refused ones
    (a refused first load leaves an empty embedded store file)."""
    if not store.has_table("persons"):
        fail(f"the store {store_name(settings)} holds no data: {NO_LOAD}")


def store_opener(settings: Settings, *, read_only: bool = False) -> Callable[[], Store]:
    """A function that opens the configured store (raising :class:`StoreError`)."""
    if settings.store == "neo4j":
        from relgraph.store.neo4j import Neo4jStore

        # The driver logs what it then raises ("Unable to retrieve routing information" when
        # Neo4j is down): with no handler of its own the line reached stderr before the
        # command's one-line error, which says it with what to do.
        logging.getLogger("neo4j").addHandler(logging.NullHandler())
        # A load or analyze waiting for another run's store lock says so, as a note.
        return lambda: Neo4jStore.connect(settings.neo4j, on_wait=note)
    from relgraph.store.embedded import EmbeddedStore

    return lambda: EmbeddedStore(settings.data_dir, read_only=read_only)


def store_name(settings: Settings) -> str:
    """The configured store as an error message names it."""
    if settings.store == "neo4j":
        return f"neo4j {settings.neo4j.uri} database {settings.neo4j.database}"
    return f"embedded {settings.data_dir}"


WAIT_NOTE_EVERY = 30.0
"""Seconds between the lines of a command waiting for the store."""


def open_store(settings: Settings, *, read_only: bool = False) -> Store:
    """The configured store, open; failing to open it fails the command.

    While another process holds the embedded store (a load or ``analyze`` writing, ``serve``
    building its graph), waits for it up to ``RELGRAPH_STORE_LOCK_WAIT`` seconds, saying who
    holds it at once and every half minute, then fails naming the holder."""
    opener = store_opener(settings, read_only=read_only)
    limit, started = settings.store_lock_wait, time.monotonic()
    said = -math.inf
    while True:
        try:
            return opener()
        except StoreInUseError as exc:
            now = time.monotonic()
            waited = now - started
            if limit == 0:
                fail(str(exc))
            if waited >= limit:
                fail(f"{exc.busy}; gave up after {duration(waited)} (RELGRAPH_STORE_LOCK_WAIT): "
                     f"{exc.then}")  # fmt: skip
            if now - said >= WAIT_NOTE_EVERY:
                ends = "" if math.isinf(limit) else f", giving up after {duration(limit)}"
                note(f"{exc.busy}: waiting for it{ends} (RELGRAPH_STORE_LOCK_WAIT)")
                said = now
            time.sleep(min(0.5, limit - waited))
        except StoreError as exc:
            fail(str(exc))


def configured_engine(settings: Settings, store: Store) -> GraphEngine | None:
    """The GDS engine when configured (it runs on the store's live generation)."""
    if settings.engine != "gds":
        return None
    from relgraph.engines.gds import GdsEngine
    from relgraph.store.neo4j import Neo4jStore

    if not isinstance(store, Neo4jStore):
        fail("RELGRAPH_ANALYTICS_ENGINE=gds needs RELGRAPH_STORE=neo4j")
    try:
        return GdsEngine.connect(settings.neo4j, store.generation)
    except StoreError as exc:
        fail(str(exc))


@contextmanager
def progress() -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar fed by ``(stage, done, total)`` callbacks on a terminal; elsewhere
    (a log file, a pipe) a plain line per step, and one while a step runs long."""
    if not err_console.is_terminal:
        lines = LineProgress(lambda line: err_console.print(line, markup=False,
                                                            highlight=False, soft_wrap=True))  # fmt: skip
        try:
            yield lines
        finally:
            lines.close()
        return
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
