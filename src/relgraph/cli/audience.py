"""The ``audience`` command: export a risk-aware campaign audience, audited."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from relgraph.cli.audited import audit_command
from relgraph.cli.common import DataDirOption, app, console, fail, open_store, settings_from
from relgraph.cli.stopping import stoppable
from relgraph.config import Settings


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
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="households: one row per unit (members as a list); contacts: one row per "
            "member to contact with every source-system customer id, phone, email, channel, "
            "last contact and consent, unmasked (audited).",
        ),
    ] = "households",
    bom: Annotated[
        bool,
        typer.Option("--bom", help="Start a CSV with a UTF-8 byte-order mark (Excel in Chinese)."),
    ] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Export a risk-aware campaign audience (households or corporate groups) to a file."""
    from relgraph.analytics.audience import REASONS, AudienceError
    from relgraph.jobs.audience import FORMATS, check_target, sidecar_path

    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}.")
    settings = settings_from(data_dir)
    wanted = _criteria(criteria)
    before = _identity(out)
    with stoppable("audience", lambda: _kept_after_stop(out, before)):
        try:
            check_target(out, force=force)  # before the work, so a bad --out costs nothing
            chosen, written, stale = _audience(settings, wanted, out, force, fmt, bom)
        except AudienceError as exc:
            fail(str(exc))
    for warning in [*chosen.warnings, *([stale] if stale else [])]:
        console.print(f"warning: {warning}")
    what = f"{len(written):,} contact rows, " if fmt == "contacts" else ""
    console.print(
        f"{len(chosen):,} {wanted.unit.lower().replace('_', ' ')} entries, {what}"
        f"{chosen.contact_total():,} members to contact; written to {out} "
        f"(described in {sidecar_path(out).name})"
    )
    totals = chosen.excluded.sum(axis=0).tolist() if len(chosen) else [0] * len(REASONS)
    left_out = ", ".join(f"{r} {int(n):,}" for r, n in zip(REASONS, totals, strict=True))
    console.print(f"members left out: {left_out}")


def _identity(path: Path) -> tuple[int, int] | None:
    """The file at ``path`` as its inode and modification time (None: no file)."""
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_ino, found.st_mtime_ns


def _kept_after_stop(out: Path, before: tuple[int, int] | None) -> str:
    """What a stopped export left: the temporary file is removed; the export was moved into
    place whole, or not at all."""
    from relgraph.jobs.audience import sidecar_path

    if _identity(out) == before:
        return f"nothing was exported: {out} is as it was" if before else f"no {out} was written"
    return (
        f"{out} was written whole, but its description {sidecar_path(out).name} may be missing "
        "or an earlier export's: export again"
    )


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
        data = json.loads(text)
        if isinstance(data, dict) and isinstance(data.get("unit"), str):
            # A criteria file is written by hand: `household` means HOUSEHOLD.
            data["unit"] = data["unit"].strip().upper().replace(" ", "_")
        return Criteria.from_mapping(data)
    except json.JSONDecodeError as exc:
        fail(f"{path} is not valid JSON: {exc}.")
    except AudienceError as exc:
        fail(f"{path}: {exc}")


def _audience(
    settings: Settings, wanted: Any, out: Path, force: bool, fmt: Any, bom: bool
) -> tuple[Any, Any, str | None]:
    """The audience, the rows written, and what to say when an earlier release loaded the
    store (its consent and values are what that release's rules read)."""
    from relgraph.canonical import other_rules
    from relgraph.jobs.audience import choose, export, published

    store = open_store(settings, read_only=True)  # fails clearly when nothing was loaded
    try:
        chosen = choose(store, wanted)
        stale = other_rules(store.meta())
    finally:
        store.close()
    rows = published(chosen, fmt)
    _audit_export(settings, wanted, chosen, rows, fmt, out)  # before the file exists
    return chosen, export(chosen, out, force=force, fmt=fmt, bom=bom, rows=rows), stale


def _audit_export(
    settings: Settings, wanted: Any, chosen: Any, rows: Any, fmt: str, out: Path
) -> None:
    """One audit line per export: the criteria, the format, and the units and parties handed
    out, named and as their count and SHA-256 (in the contacts format with their customer
    ids, phones and emails unmasked: the line says so and counts the customer ids), under
    the same append lock as a running server."""
    from relgraph.api.audit import summarise_ids
    from relgraph.api.audit_parts import distinct_sorted
    from relgraph.jobs.audience import criteria_json

    # The households or groups handed out are named with their contacts, as the API's line
    # names them: the file gives each one's value, its left-out members' included.
    ids = [str(u) for u in rows["unit_id"]]
    if fmt == "contacts":
        # The persons and enterprises handed out are named; their customer ids, phones and
        # emails follow from them in the store, so the line counts the customer ids only.
        ids += [str(p) for p in rows["party_id"]]
        customer_ids = int(rows["customer_ids"].list.len().sum()) if len(rows) else 0
        details: dict[str, Any] = {
            "format": fmt,
            "contact_details": "unmasked",
            "customer_ids": customer_ids,
        }
    else:
        ids += [str(c) for row in rows["contacts"] for c in row]
        details = {"format": fmt}
    ids = distinct_sorted(ids)  # sorted once for the line's count, digest and parts
    audit_command(
        settings,
        "audience export",
        "nothing exported",
        criteria=criteria_json(wanted),
        out=out.name,
        **details,
        # Named (on continuation lines past 200), and counted and digested to check a copy
        # of the file against.
        ids=ids,
        **summarise_ids(ids, always=True),
        outcome="ok",
    )
