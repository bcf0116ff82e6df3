"""Ingest: input files → validated, normalised, identity-resolved canonical tables, and quarantine."""

from relgraph.ingest.errors import IngestError
from relgraph.ingest.load import load_directory
from relgraph.ingest.report import LoadReport, TableReport, format_report, read_report

__all__ = [
    "IngestError",
    "LoadReport",
    "TableReport",
    "format_report",
    "load_directory",
    "read_report",
]
