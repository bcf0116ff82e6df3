"""A transfers file (CSV or Parquet) as a transfer source: ``relgraph stream`` replays it.

A CSV file is read by the loader's rules for text (:mod:`relgraph.ingest.records`): the
encodings ``relgraph load --encoding`` takes (GBK/GB18030 as bank exports write them, Big5,
UTF-8 with or without a BOM), the same refusals (an empty file, UTF-16, UTF-8 given as GBK) and
the same advice when the file is not in the encoding given, naming the file and the line.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from relgraph.ingest.mapping import check_encoding
from relgraph.ingest.records import decoding_error, first_bad_byte, python_codec, scan
from relgraph.jobs.sources import Record


@dataclass
class FileSource:
    """A transfers file (CSV or Parquet) with the transfers table's columns, in file order.

    ``committed``: rows already acknowledged (``relgraph stream --skip``); ``encoding``: a
    CSV file's, one of the loader's (``utf-8``, ``utf-8-sig``, ``gb18030``, ``gbk``, ``big5``).
    """

    path: Path
    committed: int = 0
    encoding: str = "utf-8"
    _sent: int = field(default=0, repr=False)
    _rows: list[Record] | None = field(default=None, repr=False)

    def records(self) -> list[Record]:
        """Every row (read once). Raises ValueError naming the file when it cannot be read."""
        if self._rows is not None:
            return self._rows
        if self.path.suffix.lower() == ".parquet":
            try:
                frame = pd.read_parquet(self.path)
            except (OSError, ValueError) as exc:
                raise ValueError(f"{self.path}: cannot be read as Parquet: {exc}") from None
        else:
            frame = _read_csv(self.path, self.encoding)
        missing = {"tx_id", "from_account", "to_account", "amount", "ts"} - set(frame.columns)
        if missing:
            raise ValueError(
                f"{self.path} lacks the column(s) {', '.join(sorted(missing))}: a transfers "
                "file has tx_id, from_account, to_account, amount, currency and ts"
            )
        if "currency" not in frame.columns:
            frame["currency"] = "CNY"
        self._rows = [
            {str(k): v for k, v in r.items()} for r in frame.astype(object).to_dict("records")
        ]
        return self._rows

    def batches(self, size: int) -> Iterator[list[Record]]:
        rows = self.records()
        for lo in range(self.committed, len(rows), size):
            batch = rows[lo : lo + size]
            self._sent = lo + len(batch)
            yield batch

    def commit(self) -> None:
        self.committed = self._sent


def _read_csv(path: Path, encoding: str) -> pd.DataFrame:
    # check_encoding and scan raise IngestError, a ValueError naming the file (or the value).
    encoding = check_encoding(encoding)
    codec = python_codec(encoding)
    with tempfile.TemporaryDirectory(prefix="relgraph-stream-") as scratch:
        # The loader's scan: the header decoded (or the advice of another encoding), and a
        # file not in UTF-8 transcoded to one that pandas reads as UTF-8.
        transcoded = None if codec == "utf-8" else Path(scratch) / "utf-8.csv"
        data = scan(path, encoding, transcoded).data
        try:
            return pd.read_csv(data, dtype=str, keep_default_na=False, encoding="utf-8")
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
