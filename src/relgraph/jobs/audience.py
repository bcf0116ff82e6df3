"""Campaign audience exports: the stored results read once (no projection), the audience
chosen, and the file written whole or not at all, safe to open in a spreadsheet.

Two formats: ``households`` (one row per unit, the members to contact as a list) and
``contacts`` (one row per member to contact, with every source-system customer id, phone,
email, most-used channel, last contact and consent: what a campaign system imports). Each
export gets a sidecar ``<file>.json`` with the criteria, the counts and the warnings."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from relgraph import model
from relgraph.analytics.audience import (
    REASONS,
    Audience,
    AudienceError,
    Criteria,
    campaign_audience,
)
from relgraph.analytics.audience_source import AudienceSource
from relgraph.analytics.settings import TABLE as SETTINGS_TABLE
from relgraph.jobs.stored import stored_frames
from relgraph.jobs.values import source_precedence
from relgraph.record_rules import FORMULA_START, INERT_SIGNED
from relgraph.store.base import Store

Format = Literal["households", "contacts"]
FORMATS: Final[tuple[Format, ...]] = ("households", "contacts")


AUDIENCE_RESULTS: Final = (
    "account_risk",
    "person_networks",
    "households",
    "person_households",
    "corporate_groups",
    "enterprise_control",
    SETTINGS_TABLE,
)
"""The result tables an audience reads (the export skips the others: links, chains, …)."""


def audience_source(store: Store) -> AudienceSource:
    """What an audience reads, straight from the stored tables (the export builds no graph).

    Raises
    ------
    AudienceError
        When the store holds no load yet.
    """
    frames = stored_frames(store, AUDIENCE_RESULTS, arrow_text=True)
    if frames.get(model.PERSONS_TABLE) is None:
        raise AudienceError("The store holds no data yet: run `relgraph load DIR` first.")
    return AudienceSource.from_frames(frames, source_precedence(store))


def choose(store: Store, criteria: Criteria) -> Audience:
    """The audience ``criteria`` select on what ``store`` holds.

    Raises
    ------
    AudienceError
        When the store holds no load, no parties of the unit's kind (no customers for
        households, no enterprises for groups), or no analysis; the message says what to run.
    """
    source = audience_source(store)
    check_parties(source, criteria)
    return campaign_audience(source, criteria)


def check_parties(source: AudienceSource, criteria: Criteria) -> None:
    """Refuse an audience of a store with nothing to choose from, naming what is missing:
    asking for `analyze` there would send the user to a step that cannot help."""
    persons = source.parties.n_persons
    if criteria.unit == "HOUSEHOLD" and persons == 0:
        raise AudienceError(
            "The store holds no customers (the last load's customers table was empty), so "
            "there are no households: load an export with customers, then run "
            "`relgraph analyze`."
        )
    if criteria.unit == "CORPORATE_GROUP" and len(source.parties.ids) == persons:
        raise AudienceError(
            "The store holds no enterprises (the last load's enterprises table was empty), "
            "so there are no corporate groups: load an export with enterprises, then run "
            "`relgraph analyze`."
        )


LIST_COLUMNS: Final = ("products", "product_gap", "contacts", "qualified_because", "customer_ids")
AMOUNT_COLUMNS: Final = ("total_aum", "deposits", "exposure")
"""Written to a CSV as decimals to the fen: as doubles, Arrow writes 1.5e+11 from 10¹¹ yuan
up (a corporate group's exposure), which a campaign tool's import may read as text."""
CSV_LIST_SEPARATOR: Final = {"qualified_because": " | "}
"""Lists are ``;``-joined in CSV (as ``customers.products`` is), reasons ``|``-joined."""


def check_target(path: Path, *, force: bool = False) -> None:
    """Refuse an export target that cannot be written whole: the message says what to change.

    Raises
    ------
    AudienceError
        When the name does not end in ``.csv`` or ``.parquet``, names a folder, is in a
        folder that does not exist, or names an existing file and ``force`` is not set.
    """
    suffix = path.suffix.lower()
    if path.is_dir():
        raise AudienceError(
            f"{path} is a folder: give a file name such as {path / 'audience.csv'}."
        )
    if suffix not in (".csv", ".parquet"):
        raise AudienceError(f"The export file must end in .csv or .parquet, not {path.name!r}.")
    if not path.parent.is_dir():
        raise AudienceError(
            f"The folder {path.parent} does not exist: create it or choose another."
        )
    if path.exists() and not force:
        raise AudienceError(
            f"{path} already exists: choose another name or pass --force to replace it."
        )


def published(audience: Audience, fmt: Format = "households") -> pd.DataFrame:
    """The rows an export of ``audience`` in ``fmt`` writes (contacts unmasked)."""
    if fmt == "contacts":
        return audience.contacts_frame()
    # The file goes to campaign systems, which also know each unit's members: a split of
    # the members left out by reason would name who was left out for risk. The file
    # carries ``left_out``; the caller (the CLI's summary) keeps the totals by reason. Nor
    # does it say that a product counts only through a record in identity review, which
    # campaign keys may not learn either.
    frame = audience.frame(identity_review=False)
    reasons = [f"excluded_{r.lower()}" for r in REASONS]
    out = frame.drop(columns=reasons)
    after = list(out.columns).index("contact_count") + 1
    out.insert(after, "left_out", frame["size"] - frame["contact_count"])
    return out


def sidecar_path(path: Path) -> Path:
    """Where the export's description goes: ``audience.csv`` → ``audience.csv.json``."""
    return path.with_name(path.name + ".json")


def export(
    audience: Audience,
    path: Path,
    *,
    force: bool = False,
    fmt: Format = "households",
    bom: bool = False,
    rows: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Write every entry of ``audience`` to ``path`` (``.csv`` or ``.parquet``); return them.

    The file appears whole or not at all: it is written to a temporary file in the target
    folder (readable by its owner only, mode 0600: it names persons) and renamed; a
    failure removes it. An existing file is replaced only with ``force``. A sidecar
    ``<file>.json`` (same mode) describes it: format, criteria, rows, entries, warnings.

    In CSV, text cells starting with ``=``, ``@``, tab or CR, or with ``+``/``-`` before
    anything but digits and arithmetic (``INERT_SIGNED``), get a leading ``'`` so a
    spreadsheet shows them instead of running them; numbers are written as they are;
    ``bom`` starts the file with a UTF-8 byte-order mark (Excel set to Chinese then
    reads UTF-8).

    ``households`` files have ``left_out`` per entry instead of the ``excluded_<reason>``
    counts (the operator's summary takes them from :attr:`Audience.excluded`). ``contacts``
    files have one row per member to contact (``rows``: :func:`published` when the caller
    already built it). Returns the rows written.

    Raises
    ------
    AudienceError
        As :func:`check_target` says, and when the file or its sidecar cannot be written
        (a full disk): the message says which and what was left.
    """

    check_target(path, force=force)
    table = rows if rows is not None else published(audience, fmt)
    parquet = path.suffix.lower() == ".parquet"
    try:
        _write_whole(
            path,
            force,
            lambda partial: (
                # Without pandas' metadata: readers rebuild plain types (lists of text), not
                # the Arrow-backed dtypes this process happened to use.
                pq.write_table(
                    pa.Table.from_pandas(table, preserve_index=False).replace_schema_metadata(None),
                    partial,
                )
                if parquet
                else _write_csv(table, partial, bom=bom)
            ),
        )
    except OSError as exc:  # a full disk, a folder made read-only meanwhile, a quota
        raise AudienceError(
            f"could not write {path}: {exc.strerror or exc}; nothing was exported "
            f"({'it is as it was' if path.exists() else 'no file was left'}): free space "
            "or choose another folder, then export again"
        ) from None
    about = {
        "format": fmt,
        "file": path.name,
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "unit": audience.criteria.unit,
        "criteria": criteria_json(audience.criteria),
        "entries": len(audience),
        "rows": len(table),
        "contacts": audience.contact_total(),
        "warnings": list(audience.warnings),
        "csv_bom": bom and not parquet,
    }
    text = json.dumps(about, ensure_ascii=False, indent=2) + "\n"
    try:
        _write_whole(sidecar_path(path), True, lambda partial: partial.write_text(text, "utf-8"))
    except OSError as exc:
        raise AudienceError(
            f"{path} was written, but not its description {sidecar_path(path).name}: "
            f"{exc.strerror or exc}; free space, then export again with --force"
        ) from None
    return table


def criteria_json(criteria: Criteria) -> dict[str, Any]:
    """The criteria given, as JSON values (dates as ``YYYY-MM-DD``): for the sidecar and the
    audit line."""
    return {
        k: (v.isoformat() if hasattr(v, "isoformat") else list(v) if isinstance(v, tuple) else v)
        for k, v in dataclasses.asdict(criteria).items()
        if v not in (None, (), "")
    }


def _write_whole(path: Path, force: bool, write: Callable[[Path], object]) -> None:
    """``write`` a temporary file beside ``path`` (mode 0600), then move it into place."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(fd)
    partial = Path(name)
    try:
        write(partial)
        if force:
            partial.replace(path)
        else:
            try:
                os.link(partial, path)  # no-clobber: a file that appeared meanwhile stays
            except FileExistsError:
                raise AudienceError(
                    f"{path} already exists: choose another name or pass --force to replace it."
                ) from None
    finally:
        partial.unlink(missing_ok=True)


def _write_csv(frame: pd.DataFrame, path: Path, *, bom: bool = False) -> None:

    flat = frame.copy()
    for column in LIST_COLUMNS:
        if column not in flat.columns:
            continue
        sep = CSV_LIST_SEPARATOR.get(column, model.PRODUCT_LIST_SEPARATOR)
        cells = flat[column].array
        if isinstance(cells, pd.arrays.ArrowExtensionArray):
            # An Arrow list column is joined in Arrow, not row by row in Python.
            joined = pc.binary_join(pa.array(cells), sep)
            flat[column] = pd.arrays.ArrowExtensionArray(joined)
        else:
            flat[column] = [sep.join(values) for values in flat[column]]
    table = pa.Table.from_pandas(flat, preserve_index=False)
    for name in AMOUNT_COLUMNS:
        at = table.schema.get_field_index(name)
        if at >= 0 and pa.types.is_floating(table.schema.field(at).type):
            fen = pc.round(table.column(at), 2).cast(pa.decimal128(38, 2), safe=False)
            table = table.set_column(at, name, fen)
    starts = "^[" + "".join(FORMULA_START) + "]"
    for i, field in enumerate(table.schema):
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            cells = table.column(i)
            # ``+``/``-`` start a formula too (a raw e-mail ``-2+3+cmd|' /C calc'!A0``);
            # only arithmetic after them is inert (signed numbers, phones as +86 …).
            signed = pc.and_(
                pc.match_substring_regex(cells, "^[+-]"),
                pc.invert(pc.match_substring_regex(cells, f"^{INERT_SIGNED}$")),
            )
            quoted = pc.if_else(
                pc.or_(pc.match_substring_regex(cells, starts), signed),
                pc.binary_join_element_wise(
                    pa.scalar("'", field.type), cells, pa.scalar("", field.type)
                ),
                cells,
            )
            table = table.set_column(i, field, quoted)
    with path.open("wb") as handle:
        if bom:
            handle.write("\ufeff".encode())
        pacsv.write_csv(table, handle)
