"""A Parquet file's columns as the text the validator reads, as a CSV file's would be.

Parquet carries types the CSV path never sees. pandas and many export tools write a date
as a timestamp at midnight, naive or in a zone (``1985-03-15 00:00+08:00``): read as text
it would carry a time part (in UTC, the day before) and be refused. pandas turns an id
column with one missing value into float64: ``1001`` would be read as ``1001.0`` and name
no one.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from relgraph import model
from relgraph.ingest.discovery import InputFile
from relgraph.ingest.errors import IngestError
from relgraph.ingest.sql import ident, literal

_WHOLE_FLOAT: float = 2.0**53
"""Above this a float64 holds no exact whole number: its digits are gone, as in Excel."""


def parquet_header(path: Path) -> list[str]:
    """The file's column names."""
    try:
        return list(pq.read_schema(path).names)
    except (OSError, pa.ArrowException) as exc:
        raise IngestError(f"{path}: not a readable Parquet file: {exc}") from exc


def parquet_text(file: InputFile, table: model.Table, header: list[str]) -> list[str]:
    """``<SQL text> AS <column>`` for each column of ``header``, in its order."""
    spec = file.spec
    renamed = {bank: name for name, bank in spec.columns.items()} if spec else {}
    schema = pq.read_schema(file.path)
    ids = table.id_columns
    found = []
    for name in header:
        column = schema.field(name)
        model_name = renamed.get(name, name)
        at = ident(name)
        text = f"CAST({at} AS VARCHAR)"
        if model_name in table.column_names and table.column(model_name).dtype == "date":
            text = _day(at, column.type, text)
        elif model_name in ids and pa.types.is_floating(column.type):
            text = (
                f"CASE WHEN {at} = floor({at}) AND abs({at}) < {_WHOLE_FLOAT} "
                f"THEN CAST(CAST({at} AS BIGINT) AS VARCHAR) ELSE {text} END"
            )
        found.append(f"{text} AS {at}")
    return found


def _day(at: str, kind: pa.DataType, text: str) -> str:
    """A timestamp at midnight (in its own zone when it has one) as its date; any other
    time kept, to be refused as a date with a time part."""
    if not pa.types.is_timestamp(kind):
        return text
    if kind.tz is not None:
        # Wall time in the value's own zone (the reason shows that time, not UTC's).
        local = f"timezone({literal(str(kind.tz))}, {at})"
        text = f"CAST({local} AS VARCHAR)"
    else:
        local = at
    return (
        f"CASE WHEN CAST({local} AS TIME) = TIME '00:00:00' "
        f"THEN CAST(CAST({local} AS DATE) AS VARCHAR) ELSE {text} END"
    )
