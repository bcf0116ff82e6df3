"""Chunked CSV/Parquet writing of a table, with dirty rows interleaved at their planned places."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from relgraph.synth.dirty import DirtyRows
from relgraph.synth.frame import Fmt, Frame

CHUNK_ROWS: Final = 1 << 20
"""Rows rendered at a time: bounds the memory the text of a big table takes."""


def _chunks(frame: Frame, fmt: Fmt, dirty: DirtyRows | None, chunk_rows: int) -> Any:
    n = frame.n
    for start in range(0, max(n, 1), chunk_rows):
        stop = min(start + chunk_rows, n)
        clean = frame.render(slice(start, stop), fmt)
        if dirty is None:
            yield clean
            continue
        lo = 0 if start == 0 else int(np.searchsorted(dirty.after, start))
        hi = int(np.searchsorted(dirty.after, stop)) if stop < n else dirty.after.size
        if hi == lo:
            yield clean
            continue
        extra = dirty.rows.slice(lo, hi - lo)
        # Clean row i sorts at 2i, a dirty row after clean row a at 2a + 1 (a = -1 first).
        keys = np.concatenate(
            [2 * np.arange(start, stop, dtype=np.int64), 2 * dirty.after[lo:hi] + 1]
        )
        order = np.argsort(keys, kind="stable")
        yield pa.concat_tables([clean, extra]).take(pa.array(order))


def write(
    frame: Frame,
    path: Path,
    fmt: Fmt,
    dirty: DirtyRows | None = None,
    chunk_rows: int = CHUNK_ROWS,
    transform: Callable[[Any], Any] | None = None,
    encoding: str = "utf-8",
) -> int:
    """Write ``frame`` (and its dirty rows) to ``path``.

    Parameters
    ----------
    frame
        The clean table.
    path
        Output file (``.csv`` or ``.parquet``).
    fmt
        ``"csv"`` (all values as text, header row) or ``"parquet"`` (typed numbers and flags).
    dirty
        Malformed rows to interleave, or None.
    chunk_rows
        Rows rendered at a time.
    transform
        CSV only: rewrites each rendered chunk (all text) before it is written, e.g. into a
        bank's own headers and codes.
    encoding
        CSV only, with ``transform``: the file's text encoding (``gb18030``, ``utf-8-sig`` …).

    Returns
    -------
    int
        Rows written.
    """
    schema = frame.schema(fmt)
    written = 0
    if transform is not None:
        if fmt != "csv":
            raise ValueError("a transformed table can only be written as CSV")
        with path.open("wb") as out:
            for i, chunk in enumerate(_chunks(frame, fmt, dirty, chunk_rows)):
                buffer = pa.BufferOutputStream()
                options = pacsv.WriteOptions(include_header=i == 0)
                pacsv.write_csv(transform(chunk), buffer, write_options=options)
                text = buffer.getvalue().to_pybytes().decode("utf-8")
                # The BOM of utf-8-sig belongs at the start of the file only.
                out.write(text.encode(encoding if i == 0 else encoding.replace("-sig", "")))
                written += chunk.num_rows
        return written
    if fmt == "csv":
        with pacsv.CSVWriter(str(path), schema) as csv_writer:
            for chunk in _chunks(frame, fmt, dirty, chunk_rows):
                csv_writer.write_table(chunk)
                written += chunk.num_rows
    else:
        with pq.ParquetWriter(str(path), schema, compression="zstd") as pq_writer:
            for chunk in _chunks(frame, fmt, dirty, chunk_rows):
                pq_writer.write_table(chunk, row_group_size=chunk_rows)
                written += chunk.num_rows
    return written


def write_truth(table: Any, path: Path) -> None:
    """Write a small truth table as CSV."""
    pacsv.write_csv(table, str(path))
