"""A transfers file (CSV or Parquet) as a transfer source: ``relgraph stream`` replays it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from relgraph.jobs.sources import Record


@dataclass
class FileSource:
    """A transfers file (CSV or Parquet) with the transfers table's columns, in file order."""

    path: Path
    committed: int = 0
    _sent: int = field(default=0, repr=False)

    def records(self) -> list[Record]:
        if self.path.suffix.lower() == ".parquet":
            frame = pd.read_parquet(self.path)
        else:
            frame = pd.read_csv(self.path, dtype=str, keep_default_na=False)
        missing = {"tx_id", "from_account", "to_account", "amount", "ts"} - set(frame.columns)
        if missing:
            raise ValueError(
                f"{self.path} lacks the column(s) {', '.join(sorted(missing))}: a transfers "
                "file has tx_id, from_account, to_account, amount, currency and ts"
            )
        if "currency" not in frame.columns:
            frame["currency"] = "CNY"
        rows: list[Record] = [
            {str(k): v for k, v in r.items()} for r in frame.astype(object).to_dict("records")
        ]
        return rows

    def batches(self, size: int) -> Iterator[list[Record]]:
        rows = self.records()
        for lo in range(self.committed, len(rows), size):
            batch = rows[lo : lo + size]
            self._sent = lo + len(batch)
            yield batch

    def commit(self) -> None:
        self.committed = self._sent
