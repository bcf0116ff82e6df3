"""The store interface: the system of record that ingest writes and the graph projection reads.

Canonical tables (written by ingest, named as in :mod:`relgraph.model`) hold the
typed input columns — ``str`` as string, ``int`` as int64, ``float`` as float64,
``bool`` as bool, ``date``/``timestamp`` as int64 epoch milliseconds, all
nullable — plus the derived columns ``model.CUSTOMER_DERIVED_COLUMNS`` and
``model.ENTERPRISE_DERIVED_COLUMNS``, and the ``persons`` table
(``model.PERSON_COLUMNS``). Result tables are written by analytics.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType

import pandas as pd
import pyarrow as pa


class StoreError(RuntimeError):
    """The store cannot do what was asked; the message says what and where."""


class StoreInUseError(StoreError):
    """Another process holds the store (the embedded store's one writer, or a reader while a
    writer waits): it can be opened once that process is done."""

    def __init__(self, busy: str, then: str) -> None:
        super().__init__(f"{busy}; {then}")
        self.busy = busy
        """Who holds the store doing what: what a command waiting for it says."""
        self.then = then
        """What to do about it."""


class StoreUnreachableError(StoreError):
    """The store's server did not answer (stopped, restarting, out of the network): the same
    request may succeed once it is back, with nothing changed here."""


class TableNotFoundError(StoreError, KeyError):
    """A canonical or result table that has not been written."""


class Store(ABC):
    """System of record: canonical tables, analytics results and load metadata."""

    progress: Callable[[str, int, int], None] | None = None
    """``progress(stage, done, total)`` for stores whose writes take minutes (Neo4j)."""

    @abstractmethod
    def replace_tables(self, tables: Mapping[str, pa.Table], meta: Mapping[str, str]) -> None:
        """Replace all canonical tables and the load metadata at once: all or nothing.

        Tables not named in ``tables`` are removed, results of analytics over the
        previous data are dropped (they describe data that is gone), and
        ``meta`` replaces the stored metadata. A failure part-way leaves the
        previous state exactly as it was.
        """

    @abstractmethod
    def read_table(self, name: str, columns: Sequence[str] | None = None) -> pa.Table:
        """Read a canonical table (all columns, or ``columns``), rows in the order written."""

    @abstractmethod
    def table_names(self) -> list[str]:
        """Names of the canonical tables present."""

    @abstractmethod
    def replace_results(self, tables: Mapping[str, pa.Table]) -> None:
        """Replace the named analytics result tables at once: all or nothing.

        Result tables not named are kept, so analytics can be rerun one at a time.
        """

    def write_results(self, name: str, table: pa.Table) -> None:
        """Replace one analytics result table atomically."""
        self.replace_results({name: table})

    @abstractmethod
    def read_results(self, name: str) -> pa.Table:
        """Read one analytics result table."""

    @abstractmethod
    def result_names(self) -> list[str]:
        """Names of the analytics result tables present."""

    @abstractmethod
    def meta(self) -> dict[str, str]:
        """The metadata saved by the last successful :meth:`replace_tables`."""

    def notices(self) -> list[str]:
        """What an operator should know about the store's state (one sentence each): none
        for the embedded store, whose results switch whole."""
        return []

    @abstractmethod
    def close(self) -> None:
        """Release the connection; the store cannot be used afterwards."""

    def read_frame(self, name: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """:meth:`read_table` as a pandas DataFrame."""
        frame: pd.DataFrame = self.read_table(name, columns).to_pandas()
        return frame

    def has_table(self, name: str) -> bool:
        return name in self.table_names()

    def row_count(self, name: str) -> int:
        """Rows in a canonical table (:class:`TableNotFoundError` when absent); stores
        that know the count without reading the rows override this."""
        return int(self.read_table(name).num_rows)

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def results_frame(self, name: str) -> pd.DataFrame | None:
        """:meth:`read_results` as a DataFrame, or None when analytics have not written it."""
        try:
            frame: pd.DataFrame = self.read_results(name).to_pandas()
        except TableNotFoundError:
            return None
        return frame
