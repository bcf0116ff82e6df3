"""The ``audit`` commands: check the tamper-evident audit trail."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from relgraph.cli.common import DataDirOption, app, console, err_console, fail, settings_from
from relgraph.config import ConfigError, Settings

if TYPE_CHECKING:
    from relgraph.api.audit_key import AuditKey

audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(
    file: Annotated[
        Path | None, typer.Argument(help="Audit log (default <data-dir>/audit.log).")
    ] = None,
    anchor: Annotated[
        Path | None,
        typer.Option(
            "--anchor",
            help="The log's anchor (env RELGRAPH_AUDIT_ANCHOR; default beside the log).",
        ),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Check the audit log against its key and anchor; exit 1 naming what changed.

    The key comes from RELGRAPH_AUDIT_KEY or RELGRAPH_AUDIT_KEY_FILE (outside production,
    the generated <data-dir>/audit-key).
    """
    from relgraph.api.audit import verify

    settings = settings_from(data_dir)
    path, key = _log_and_key(file, settings)
    verdict = verify(path, key, anchor or settings.audit.anchor)
    if verdict.ok:
        console.print(f"{path}: {verdict.message}")
        return
    err_console.print(f"[bold red]{path}: {verdict.message}[/]")
    raise typer.Exit(1)


@audit_app.command("tried")
def audit_tried(
    text: Annotated[
        str,
        typer.Argument(
            help="An id number, phone, name or id, as typed; '-': read it from stdin (one "
            "line), so it stays out of shell history and the process list."
        ),
    ],
    file: Annotated[
        Path | None, typer.Argument(help="Audit log (default <data-dir>/audit.log).")
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Print the audit lines whose search or missed lookup tried TEXT; exit 1 if none.

    The log keeps such texts only as HMACs under the audit key (`searched_hmac`,
    `tried_hmac`), so this needs the key: RELGRAPH_AUDIT_KEY or RELGRAPH_AUDIT_KEY_FILE
    (outside production, the generated <data-dir>/audit-key). TEXT `-` reads the text
    from stdin: an id number on the command line is in the shell's history and, while the
    command runs, in every local user's `ps`.
    """
    import sys

    from relgraph.api.audit_tried import WrongKeyError, lines_that_tried

    if text == "-":
        text = sys.stdin.readline().rstrip("\r\n")
        if not text:
            fail("no text on stdin: give one line, the text as typed")

    path, key = _log_and_key(file, settings_from(data_dir))
    if not path.exists():
        fail(f"no audit log at {path}: give the file, or --data-dir of the server")
    try:
        found = lines_that_tried(path, key, text)
    except WrongKeyError as exc:
        fail(str(exc))
    for line in found:
        typer.echo(line)
    if not found:
        err_console.print(f"{path}: no line tried that text (under this audit key)")
        raise typer.Exit(1)
    err_console.print(f"{path}: {len(found)} line(s) tried that text")


@audit_app.command("key-id")
def audit_key_id(data_dir: DataDirOption = None) -> None:
    """Print the key id (as in the audit log, `decidedBy`) of each API key read from stdin.

    One key per line (`role:key` lines, as in RELGRAPH_API_KEYS_FILE, work too); keys are
    read from stdin, never the command line, so they stay out of shell history. Ids are
    HMACs under the audit key, so this needs the key the server used.
    """
    import sys

    from relgraph.api.auth import SCRAPE, Role, key_id

    roles = {SCRAPE, *(role.value for role in Role)}
    _, key = _log_and_key(None, settings_from(data_dir))
    for line in sys.stdin.read().splitlines():
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        role, _, rest = text.partition(":")
        if role.strip().lower() in roles:  # a keys-file line; a key may hold ':' itself
            typer.echo(f"{role.strip().lower()}:{key_id(rest.strip(), key)}")
        else:
            typer.echo(key_id(text, key))


def _log_and_key(file: Path | None, settings: Settings) -> tuple[Path, AuditKey]:
    """The log (``file``, else the data directory's) and the key it was sealed with."""
    from relgraph.api.audit import LOG_NAME
    from relgraph.api.audit_key import load_audit_key

    try:
        key = load_audit_key(
            settings.audit, settings.data_dir, production=settings.production, generate=False
        )
    except ConfigError as exc:
        fail(str(exc))
    return file or settings.data_dir / LOG_NAME, key
