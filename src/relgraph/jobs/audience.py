"""Campaign audience exports: the stored results read once (no projection), the audience
chosen, and the file written whole or not at all, safe to open in a spreadsheet."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Final

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
from relgraph.jobs.stored import stored_frames
from relgraph.store.base import Store


def audience_source(store: Store) -> AudienceSource:
    """What an audience reads, straight from the stored tables (the export builds no graph).

    Raises
    ------
    AudienceError
        When the store holds no load yet.
    """
    frames = stored_frames(store)
    if frames.get(model.PERSONS_TABLE) is None:
        raise AudienceError("The store holds no data yet: run `relgraph load DIR` first.")
    return AudienceSource.from_frames(frames)


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


LIST_COLUMNS: Final = ("products", "product_gap", "contacts", "qualified_because")
CSV_LIST_SEPARATOR: Final = {"qualified_because": " | "}
"""Lists are ``;``-joined in CSV (as ``customers.products`` is), reasons ``|``-joined."""


FORMULA_START: Final = ("=", "@", "\t", "\r")
"""A text cell starting with one of these is run as a formula (or shifted) by spreadsheets."""


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


def export(audience: Audience, path: Path, *, force: bool = False) -> pd.DataFrame:
    """Write every entry of ``audience`` to ``path`` (``.csv`` or ``.parquet``); return them.

    The file appears whole or not at all: it is written to a temporary file in the target
    folder (readable by its owner only, mode 0600: it names persons) and renamed; a
    failure removes it. An existing file is replaced only with ``force``.

    In CSV, text cells starting with ``=``, ``@``, tab or CR get a leading ``'`` so a
    spreadsheet shows them instead of running them; numbers are written as they are.

    The file has ``left_out`` per entry instead of the ``excluded_<reason>`` counts; the
    returned frame (for the operator) keeps those.

    Raises
    ------
    AudienceError
        As :func:`check_target` says.
    """

    check_target(path, force=force)
    frame = audience.frame()
    # The file goes to campaign systems, which also know each unit's members: a split of
    # the members left out by reason would name who was left out for risk. The file
    # carries ``left_out``; the caller (the CLI's summary) keeps the totals by reason.
    reasons = [f"excluded_{r.lower()}" for r in REASONS]
    published = frame.drop(columns=reasons)
    after = list(published.columns).index("contact_count") + 1
    published.insert(after, "left_out", frame["size"] - frame["contact_count"])
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(fd)
    partial = Path(name)
    try:
        if path.suffix.lower() == ".parquet":
            pq.write_table(pa.Table.from_pandas(published, preserve_index=False), partial)
        else:
            _write_csv(published, partial)
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
    return frame


def _write_csv(frame: pd.DataFrame, path: Path) -> None:

    flat = frame.copy()
    for column in LIST_COLUMNS:
        sep = CSV_LIST_SEPARATOR.get(column, model.PRODUCT_LIST_SEPARATOR)
        flat[column] = [sep.join(values) for values in flat[column]]
    table = pa.Table.from_pandas(flat, preserve_index=False)
    starts = "^[" + "".join(FORMULA_START) + "]"
    for i, field in enumerate(table.schema):
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            cells = table.column(i)
            quoted = pc.if_else(
                pc.match_substring_regex(cells, starts),
                pc.binary_join_element_wise(
                    pa.scalar("'", field.type), cells, pa.scalar("", field.type)
                ),
                cells,
            )
            table = table.set_column(i, field, quoted)
    pacsv.write_csv(table, path)
