"""The embedded store: canonical tables and results in one DuckDB file, no server.

Atomicity comes from DuckDB transactions (write-ahead log): a load that dies
before ``COMMIT`` leaves the previous committed state, which DuckDB recovers on
the next open. A DuckDB file admits one writing process at a time; readers
(``serve``) open it read-only.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import NoReturn

import duckdb
import pyarrow as pa

from relgraph.store.base import Store, StoreError, StoreInUseError, TableNotFoundError
from relgraph.store.lock_holder import in_use, lock_conflict

STORE_FILE = "relgraph.duckdb"
_FULL = "No space left on device"
log = logging.getLogger(__name__)
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def _cause(exc: duckdb.Error) -> str:
    """Why DuckDB could not write, in a few words: its messages wrap the OS error in JSON."""
    text = str(exc)
    if _FULL in text:
        return _FULL
    return text.splitlines()[0] if text else type(exc).__name__


def _unwritten(path: Path, exc: duckdb.Error) -> str:
    """The one line a failed write of the store says: where, why, what was kept, what to do."""
    return (
        f"cannot write {path}: {_cause(exc)}; nothing of this run was kept: free disk space "
        "(rewriting the store takes about its size again) or fix the folder's permissions, "
        "then run it again"
    )


def _ident(name: str) -> str:
    # Table and column names come from the model or from analytics code, never from
    # users; the check makes sure a bad name fails loudly instead of reaching SQL.
    if not _NAME.match(name):
        raise StoreError(f"invalid table or column name {name!r}")
    return f'"{name}"'


class EmbeddedStore(Store):
    """A :class:`Store` in ``<data_dir>/relgraph.duckdb``.

    Parameters
    ----------
    data_dir : Path
        Directory holding the store file; created when opened for writing.
    read_only : bool
        Open without taking the writer's lock (for ``serve``).
    """

    def __init__(self, data_dir: Path, *, read_only: bool = False) -> None:
        self.path = Path(data_dir) / STORE_FILE
        if read_only and not self.path.exists():
            # Absolute: a relative RELGRAPH_DATA_DIR is read from the current folder, and a
            # command run from another one (a service's) finds no store where a load put one.
            raise StoreError(
                f"no store at {self.path.absolute()}: run `relgraph load DIR` first, or give "
                "--data-dir (RELGRAPH_DATA_DIR) the folder a load wrote"
            )
        if not read_only:
            try:
                # A folder it creates is its owner's alone: the store, the quarantine and the
                # journal in it hold every customer's id number, name and phone.
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as exc:  # a file of that name, a read-only or missing mount, a full disk
                why = "a file, not a folder" if self.path.parent.is_file() else exc.strerror
                raise StoreError(
                    f"cannot use {self.path.parent} as the data directory "
                    f"({why or exc}): give --data-dir (or RELGRAPH_DATA_DIR) a "
                    "folder relgraph can create and write"
                ) from exc
        new = not self.path.exists()
        try:
            self._con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.IOException as exc:
            if lock_conflict(str(exc)):
                raise StoreInUseError(*in_use(self.path, str(exc), read_only=read_only)) from exc
            if _cause(exc) != _FULL:
                raise StoreError(f"cannot open {self.path}: {exc}") from exc
            self._unopened(exc, new)
        if not read_only:
            # DuckDB creates it by the umask (0022: anyone may read it). A store another user
            # owns (shared through a group) cannot be chmod-ed by this one: left as it is.
            with contextlib.suppress(PermissionError):
                self.path.chmod(0o600)
            try:
                self._con.execute("CREATE SCHEMA IF NOT EXISTS canonical")
                self._con.execute("CREATE SCHEMA IF NOT EXISTS results")
                self._con.execute(
                    "CREATE TABLE IF NOT EXISTS main.relgraph_meta (key VARCHAR, value VARCHAR)"
                )
            except duckdb.Error as exc:
                if _cause(exc) != _FULL:
                    raise
                self._con.close()
                self._unopened(exc, new)

    def _unopened(self, exc: duckdb.Error, new: bool) -> NoReturn:
        """Fail an open the full disk refused; a store file it created is not left behind,
        so the next load is the first again rather than a load over an empty store."""
        if new:
            for path in (self.path, self.path.with_name(self.path.name + ".wal")):
                path.unlink(missing_ok=True)
        raise StoreError(_unwritten(self.path, exc)) from exc

    # -- canonical tables ------------------------------------------------------------------

    def replace_tables(self, tables: Mapping[str, pa.Table], meta: Mapping[str, str]) -> None:
        def write(con: duckdb.DuckDBPyConnection) -> None:
            for name in self.table_names():
                if name not in tables:
                    con.execute(f"DROP TABLE canonical.{_ident(name)}")
            for name in self.result_names():
                con.execute(f"DROP TABLE results.{_ident(name)}")
            for name, table in tables.items():
                con.register("_incoming", table)
                con.execute(
                    f"CREATE OR REPLACE TABLE canonical.{_ident(name)} AS SELECT * FROM _incoming"  # noqa: S608 - _ident allow-lists the name
                )
                con.unregister("_incoming")
            con.execute("DELETE FROM main.relgraph_meta")
            if meta:
                con.executemany(
                    "INSERT INTO main.relgraph_meta VALUES (?, ?)", sorted(meta.items())
                )

        self._commit(write)

    def read_table(self, name: str, columns: Sequence[str] | None = None) -> pa.Table:
        return self._read("canonical", name, columns, self.table_names())

    def table_names(self) -> list[str]:
        return self._names("canonical")

    def row_count(self, name: str) -> int:
        if name not in self.table_names():
            raise TableNotFoundError(f"no canonical table {name!r} in {self.path}")
        row = self._con.execute(f"SELECT count(*) FROM canonical.{_ident(name)}").fetchone()  # noqa: S608 - _ident allow-lists the name
        return 0 if row is None else int(row[0])

    # -- results --------------------------------------------------------------------------

    def replace_results(self, tables: Mapping[str, pa.Table]) -> None:
        def write(con: duckdb.DuckDBPyConnection) -> None:
            for name, table in tables.items():
                con.register("_incoming", table)
                con.execute(
                    f"CREATE OR REPLACE TABLE results.{_ident(name)} AS SELECT * FROM _incoming"  # noqa: S608 - _ident allow-lists the name
                )
                con.unregister("_incoming")

        self._commit(write)

    def read_results(self, name: str) -> pa.Table:
        return self._read("results", name, None, self.result_names())

    def result_names(self) -> list[str]:
        return self._names("results")

    # -- metadata ---------------------------------------------------------------------------

    def meta(self) -> dict[str, str]:
        try:
            rows = self._con.execute("SELECT key, value FROM main.relgraph_meta").fetchall()
        except duckdb.CatalogException:
            return {}
        return {str(k): str(v) for k, v in rows}

    def close(self) -> None:
        self._con.close()

    # -- helpers ------------------------------------------------------------------------------

    def _commit(self, write: Callable[[duckdb.DuckDBPyConnection], None]) -> None:
        """Run ``write`` in one transaction and commit it: all of it or none of it (a write
        the disk refused raises :class:`StoreError` naming the file, the cause and what to
        do)."""
        con = self._con
        con.execute("BEGIN TRANSACTION")
        try:
            write(con)
            con.execute("COMMIT")
        except BaseException as exc:
            # A COMMIT that could not write the write-ahead log (a full disk) has already
            # ended the transaction: a ROLLBACK then raises "no transaction is active" and
            # would hide why the write failed.
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            if isinstance(exc, duckdb.IOException) or (
                isinstance(exc, duckdb.Error) and _cause(exc) == _FULL
            ):
                raise StoreError(_unwritten(self.path, exc)) from exc
            raise  # not the disk: a bug to see whole
        try:
            con.execute("CHECKPOINT")
        except duckdb.Error as exc:
            # Committed: the write-ahead log, synced at COMMIT, holds the new state and
            # DuckDB folds it into the file at the next open that has room. Raising would
            # have the load undo its quarantine and report for a store that holds it.
            log.warning(
                "%s: committed, but the write-ahead log could not be folded into the file "
                "(%s); the next relgraph command that opens the store does it, given space",
                self.path,
                _cause(exc),
            )
            self._reopen()

    def _reopen(self) -> None:
        """A fresh connection after a failed CHECKPOINT, which may leave DuckDB's database
        invalidated for every later statement of this one."""
        with contextlib.suppress(duckdb.Error):
            self._con.close()
        try:
            self._con = duckdb.connect(str(self.path))
        except duckdb.Error as exc:
            # The write is committed all the same: say so, never that it failed. This
            # object's next statement fails on the closed connection; the command ends.
            log.warning("%s: cannot open it again after the commit (%s)", self.path, _cause(exc))

    def _names(self, schema: str) -> list[str]:
        rows = self._con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? "
            "ORDER BY table_name",
            [schema],
        ).fetchall()
        return [str(r[0]) for r in rows]

    def _read(
        self, schema: str, name: str, columns: Sequence[str] | None, present: list[str]
    ) -> pa.Table:
        if name not in present:
            raise TableNotFoundError(f"no {schema} table {name!r} in {self.path}")
        cols = "*" if columns is None else ", ".join(_ident(c) for c in columns)
        try:
            query = f"SELECT {cols} FROM {schema}.{_ident(name)}"  # noqa: S608 - _ident allow-lists names
            return self._con.sql(query).to_arrow_table()
        except duckdb.BinderException as exc:
            raise StoreError(f"{schema} table {name!r}: {exc}") from exc
