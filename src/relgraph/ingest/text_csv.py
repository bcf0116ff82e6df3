"""A small CSV file read whole into pandas, as text, by the loader's rules for text.

For the files read outside a load (``relgraph stream``'s transfers, ``relgraph validate``'s
truth files): the encodings ``relgraph load --encoding`` takes (GBK/GB18030 as bank exports
write them, Big5, UTF-8 with or without a BOM), the same refusals (an empty file, UTF-16, a
workbook renamed ``.csv``, UTF-8 given as GBK) and the same advice when the file is not in the
encoding given, naming the file and the line (:mod:`relgraph.ingest.records`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from relgraph.ingest.mapping import check_encoding
from relgraph.ingest.records import decoding_error, first_bad_byte, python_codec, scan


def read_text_csv(path: Path, encoding: str) -> pd.DataFrame:
    """Every value of ``path`` as text (``""`` where empty), its header as the columns, each
    row indexed by the physical line it starts on (the header is line 1; blank lines and
    quoted line breaks count), so that a message can name the line a person finds in an editor.

    Raises
    ------
    ValueError
        Naming the file (an IngestError for what the loader refuses too): not in
        ``encoding``, empty, UTF-16, a workbook, or not CSV.
    """
    # check_encoding and scan raise IngestError, a ValueError naming the file (or the value).
    encoding = check_encoding(encoding)
    codec = python_codec(encoding)
    with tempfile.TemporaryDirectory(prefix="relgraph-csv-") as scratch:
        # The loader's scan: the header decoded (or the advice of another encoding), and a
        # file not in UTF-8 transcoded to one that pandas reads as UTF-8.
        transcoded = None if codec == "utf-8" else Path(scratch) / "utf-8.csv"
        records = scan(path, encoding, transcoded)
        try:
            frame = pd.read_csv(records.data, dtype=str, keep_default_na=False, encoding="utf-8")
        except UnicodeDecodeError:
            # A line past the header is not in the encoding: name it as the loader does.
            raw = path.read_bytes()
            offset = first_bad_byte(raw, codec)
            start = raw.rfind(b"\n", 0, offset) + 1
            end = raw.find(b"\n", offset)
            line = raw.count(b"\n", 0, offset) + 1
            line_bytes = raw[start : end if end >= 0 else len(raw)]
            raise decoding_error(path.name, line, offset, line_bytes, codec) from None
        except pd.errors.ParserError as exc:
            raise ValueError(f"{path}: cannot be read as CSV: {exc}") from None
    # pandas skips blank lines as the scan marks them; should they still disagree (a line of
    # spaces alone), the rows are numbered as if the file had no blank line.
    lines = records.lines[~records.blank]
    if len(lines) != len(frame):
        lines = np.arange(2, len(frame) + 2, dtype=np.int64)
    return frame.set_axis(pd.Index(lines, name="line"), axis=0)
