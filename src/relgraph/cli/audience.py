"""The ``audience`` command: export a risk-aware campaign audience, audited."""

from __future__ import annotations

import dataclasses
import getpass
import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from relgraph.cli.common import DataDirOption, app, console, fail, open_store, settings_from
from relgraph.config import ConfigError, Settings


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

    settings = settings_from(data_dir)
    wanted = _criteria(criteria)
    try:
        check_target(out, force=force)  # before the work, so a bad --out costs nothing
        written = _audience(settings, wanted, out, force)
    except AudienceError as exc:
        fail(str(exc))
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
    from relgraph.analytics.audience import AudienceError, Criteria

    if path.is_dir():
        fail(f"{path} is a folder, not a criteria file.")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        fail(f"The criteria file {path} does not exist.")
    except OSError as exc:
        fail(f"The criteria file {path} cannot be read: {exc.strerror}.")
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark (Windows editors) is fine
    except UnicodeDecodeError:
        fail(f"{path} is not UTF-8 text: save the criteria as UTF-8 JSON.")
    try:
        return Criteria.from_mapping(json.loads(text))
    except json.JSONDecodeError as exc:
        fail(f"{path} is not valid JSON: {exc}.")
    except AudienceError as exc:
        fail(f"{path}: {exc}")


def _audience(settings: Settings, wanted: Any, out: Path, force: bool) -> Any:
    from relgraph.jobs.audience import choose, export

    store = open_store(settings, read_only=True)  # fails clearly when nothing was loaded
    try:
        chosen = choose(store, wanted)
    finally:
        store.close()
    _audit_export(settings, wanted, chosen, out)  # before the file exists: no unaudited export
    return export(chosen, out, force=force)


def _audit_export(settings: Settings, wanted: Any, chosen: Any, out: Path) -> None:
    """One audit line per export: the criteria, and the count and SHA-256 of the ids handed
    out (the export's ``contacts``), under the same append lock as a running server."""
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
        fail(f"nothing exported: the audit trail cannot be written: {exc}")
