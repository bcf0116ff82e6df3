"""The one exception ingest raises for input it refuses to load."""

from __future__ import annotations


class IngestError(ValueError):
    """The input directory cannot be loaded at all; nothing was written.

    Raised for a missing required table or column, a table given both as CSV and
    as Parquet, or a file that cannot be parsed. The message names the file, the
    table and the column concerned.
    """
