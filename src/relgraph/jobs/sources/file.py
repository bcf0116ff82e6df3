"""A transfers file (CSV or Parquet) as a transfer source: ``relgraph stream`` replays it.

A CSV file is read by the loader's rules for text (:mod:`relgraph.ingest.text_csv`): the
encodings ``relgraph load --encoding`` takes, the same refusals and the same advice when the
file is not in the encoding given, naming the file and the line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from relgraph.ingest.text_csv import read_text_csv
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
            frame = read_text_csv(self.path, self.encoding)
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
