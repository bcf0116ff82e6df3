"""The Neo4j store: canonical tables as a property graph, results written back onto it.

Layout (labels and types from ``model.STORE_NODE_LABELS`` / ``STORE_REL_TYPES``):

* Canonical tables become the graph model: ``customers`` are ``:CustomerRecord``
  nodes ``-[:RECORD_OF]->`` their ``:Person``, with ``:Phone``, ``:Email``,
  ``:Address`` and ``:IdDocument`` identifier nodes; accounts, enterprises and
  contacts are nodes; the link tables (devices, family, shareholdings, positions,
  guarantees, referrals, transfers, review-band duplicates) are relationships. Every
  row keeps all its columns as properties plus ``seq`` (its position), so a table
  reads back exactly as it was written (after ``analyze``, the persons' amounts are their
  value: see below).
* Every element of a load carries ``gen``, a fingerprint of the load's content.
  A load writes its generation beside the live one in batches, then one transaction
  points ``(:RelgraphState)`` at it and names the old one pending, then the old
  generation is deleted. Readers only see the generation the state names, so a load that
  dies part-way leaves the last good state untouched, and one stopped after its commit
  leaves the old generation pending for the next load to delete. A load also deletes any
  generation with elements that the state does not name (what a load stopped after its
  commit left before this was so). A generation is written fresh, so its elements are
  CREATEd (no per-row MERGE lookups): loading the live data again writes nothing, and a
  retry of a load that died part-way first deletes what that attempt left. The node
  batches return their nodes' element ids, and the rows that link to them are sent with
  those ids (``neo4j_load``): endpoints are read directly, not seeked in an index.
* Analytics result tables are kept exactly (Arrow IPC in ``:ResultChunk`` nodes) and
  switched atomically by the state, then written back onto the graph for Neo4j users:
  ``Person.networkId``, ``Person.householdId``, ``:Household``/``:CorporateGroup``/
  ``:Alert`` nodes, ``Enterprise.groupId``, influence and risk scores, ``LINKED``. A
  person's ``aum``, ``deposits`` and ``loans`` become its value as ``analyze`` computed it
  (``party_values``, the figures GraphQL serves; ``valueSource`` says which rule gave
  them): the persons table's record summaries are what a person without account data is
  worth, and a person with accounts is valued from them, which a load does not compute. An
  enterprise's value goes beside its loaded row, as ``valueAum``, ``valueDeposits``,
  ``valueLoans`` and ``valueSource``.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc

from relgraph.config import Neo4jSettings
from relgraph.store.base import Store, StoreError, TableNotFoundError
from relgraph.store.cypher import statement_names
from relgraph.store.neo4j_load import NODE_KEYS, ElementIds, drain, write_rows
from relgraph.store.neo4j_rows import distinct_values, rows_table
from relgraph.store.neo4j_state import State
from relgraph.store.runner import DriverRunner, LockLostError, QueryRunner, ServerStorageError

log = logging.getLogger(__name__)

WRITE_ORDER: Final = (
    "persons",
    "customers",
    "enterprises",
    "accounts",
    "contacts",
    "device_links",
    "family",
    "shareholdings",
    "positions",
    "guarantees",
    "referrals",
    "transfers",
    "possible_duplicates",
)
"""Canonical tables the graph holds, each after the tables its rows point to."""

IDENTIFIERS: Final[tuple[tuple[str, tuple[tuple[str, str], ...]], ...]] = (
    ("phone", (("customers", "phone_norm"), ("enterprises", "phone_norm"))),
    ("email", (("customers", "email_norm"),)),
    ("address", (("customers", "address_norm"), ("enterprises", "address_norm"))),
    ("id_document", (("customers", "id_number_norm"),)),
    ("device", (("device_links", "device_id"),)),
)
"""Nodes that rows share (a phone, a device): the statement ``<name>_create`` creates each
distinct value of these (table, column)s once, before the tables that link to them."""

PRUNE_STATEMENTS: Final = tuple(
    f"prune_{label}"
    for label in (
        "alert",
        "household",
        "corporate_group",
        "contact",
        "account",
        "customer_record",
        "person",
        "enterprise",
        "device",
        "phone",
        "email",
        "address",
        "id_document",
    )
)

WRITE_BACK: Final[tuple[tuple[str, tuple[str, ...] | None, str | None], ...]] = (
    ("households", None, "writeback_prune_households"),
    ("person_households", ("person_id", "household_id"), "writeback_prune_person_households"),
    ("person_networks", ("person_id", "network_id"), None),
    (
        "network_links",
        ("person_a", "person_b", "strength", "network_id"),
        "writeback_prune_network_links",
    ),
    ("corporate_groups", None, "writeback_prune_corporate_groups"),
    (
        "enterprise_control",
        (
            "enterprise_id",
            "group_id",
            "controller_id",
            "controller_share",
            "ultimate_controller_id",
        ),
        "writeback_prune_enterprise_control",
    ),
    (
        "influence",
        ("person_id", "rank", "direct_referrals", "cascade_size", "cascade_aum", "pagerank"),
        "writeback_prune_influence",
    ),
    # Every party is valued on every run, so nothing is left to prune.
    ("party_values", ("party_id", "aum", "deposits", "loans", "value_source"), None),
    ("enterprise_values", ("party_id", "aum", "deposits", "loans", "value_source"), None),
    ("account_risk", ("account_id", "score", "reasons", "alerts"), "writeback_prune_account_risk"),
    ("risk_chains", None, "writeback_prune_risk_chains"),
    (
        "risk_chain_hops",
        ("chain_id", "hop", "tx_id", "from_account", "amount", "ts"),
        "writeback_prune_risk_chain_hops",
    ),
)
"""Result tables written back onto the graph, in dependency order: the columns sent
(all when ``None``) and the statement that removes what an earlier run wrote."""

WRITE_BACK_ROWS: Final = {
    "party_values": ("party_values", "party_kind", "person"),
    "enterprise_values": ("party_values", "party_kind", "enterprise"),
}
"""Write-backs of part of a result table: the table, and the column and value of the rows
written. A party value lands on its ``:Person`` as ``aum``/``deposits``/``loans`` (no
analytic reads the persons table's amounts; the value reads the records). An enterprise's
lands beside its ``deposits`` and ``loans``, as ``valueAum``/``valueDeposits``/``valueLoans``:
those two are the ``enterprises`` row the value reads, and a second ``analyze`` over the
graph read back would value the enterprise from its own output."""

CHUNK_BYTES: Final = 8 * 1024 * 1024
"""Largest result chunk per transaction: well under Neo4j's default 16 MiB message cap."""

_TYPES: Final[dict[str, pa.DataType]] = {
    "string": pa.string(),
    "int64": pa.int64(),
    "double": pa.float64(),
    "bool": pa.bool_(),
}


def generation_id(tables: Mapping[str, pa.Table]) -> str:
    """Fingerprint of a load's content: the same tables, the same id.

    Metadata (when and from where) is not part of it, so reloading the same data
    MERGEs onto the same elements and changes nothing.

    Examples
    --------
    >>> t = {"persons": pa.table({"person_id": ["P1"]})}
    >>> generation_id(t) == generation_id({"persons": pa.table({"person_id": ["P1"]})})
    True
    """
    digest = hashlib.sha256()
    for name in sorted(tables):
        digest.update(name.encode())
        # Streamed into the hash: a 6M-row table is never held twice in memory.
        sink = pa.PythonFile(_HashWriter(digest), mode="w")
        with pa.ipc.new_stream(sink, tables[name].schema) as writer:
            writer.write_table(tables[name])
    return digest.hexdigest()[:20]


class _HashWriter(io.RawIOBase):
    """A write-only file that feeds what it is given to a hash."""

    def __init__(self, digest: hashlib._Hash) -> None:
        self.digest = digest

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self.digest.update(view)
        return view.nbytes


def _unpublished(exc: LockLostError, command: str) -> StoreError:
    """The error of a run that lost the store lock before it published."""
    # A load's staged generation is pending in the state, which the next load deletes; a
    # results write's chunks are those no results name, which every analyze and load prune.
    cleaner = "load" if command == "load" else "analyze or load"
    return StoreError(
        f"{exc}. Nothing of it was published: the store keeps its last good state (or the one "
        f"the run that took the lock publishes), and the next {cleaner} deletes what this one "
        f"wrote. Run `relgraph {command}` again"
    )


def _returned(ids: pa.Array | None, kind: str) -> pa.Array:
    if ids is None:
        raise StoreError(f"load {kind}: the server returned no element ids for the nodes created")
    return ids


def _plain_types(table: pa.Table) -> pa.Table:
    """``large_string`` (pandas' default) as ``string``: results read back typed as from
    the embedded store, whichever store wrote them."""
    fields = [
        pa.field(f.name, pa.string()) if pa.types.is_large_string(f.type) else f
        for f in table.schema
    ]
    target = pa.schema(fields, metadata=table.schema.metadata)
    return table if target.equals(table.schema) else table.cast(target)


def _ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def _schema_json(table: pa.Table) -> list[list[str]]:
    out = []
    for f in table.schema:
        name = str(f.type)
        if name not in _TYPES:
            raise StoreError(
                f"column {f.name!r} has type {name}, which the Neo4j store cannot keep"
            )
        out.append([f.name, name])
    return out


class Neo4jStore(Store):
    """A :class:`Store` in a Neo4j database, reached through a :class:`QueryRunner`.

    Parameters
    ----------
    runner : QueryRunner
        The connection; :meth:`connect` opens the official driver.
    settings : Neo4jSettings
        Batch size and where the database is (for messages).
    page_rows : int, optional
        Rows per read transaction; ten write batches by default.
    """

    def __init__(
        self, runner: QueryRunner, settings: Neo4jSettings, page_rows: int | None = None
    ) -> None:
        self.runner = runner
        self.settings = settings
        self.page_rows = page_rows or settings.batch_size * 10

    @classmethod
    def connect(
        cls, settings: Neo4jSettings, on_wait: Callable[[str], None] | None = None
    ) -> Neo4jStore:
        """Open the store at ``settings.uri``; :class:`StoreError` when unreachable.

        ``on_wait`` is told when a load or a results write waits for another run's store lock
        (default: the log)."""
        return cls(DriverRunner.connect(settings, on_wait), settings)

    # -- state ------------------------------------------------------------------------------

    def state(self) -> State:
        frame = self.runner.run("state_read", operation="read state")
        return State() if frame.empty else State.from_row(frame.iloc[0].to_dict())

    def notices(self) -> list[str]:
        notice = self.state().notice()
        return [] if notice is None else [notice]

    @property
    def generation(self) -> str:
        """The live generation (what analytics and the GDS engine work on)."""
        gen = self.state().gen
        if gen is None:
            raise StoreError(f"the Neo4j store at {self.settings.uri} holds no load yet")
        return gen

    def ensure_schema(self) -> None:
        """Create the constraints and indexes the statements rely on (idempotent)."""
        for name in statement_names():
            if name.startswith("schema_"):
                self.runner.run(name, operation="create schema", write=True)

    # -- canonical tables -------------------------------------------------------------------

    def replace_tables(self, tables: Mapping[str, pa.Table], meta: Mapping[str, str]) -> None:
        unknown = sorted(set(tables) - set(WRITE_ORDER))
        if unknown:
            raise StoreError(f"the Neo4j store has no graph mapping for tables {unknown}")
        for name, table in tables.items():
            if not isinstance(table, pa.Table):
                raise StoreError(f"table {name!r} is a {type(table).__name__}, not an Arrow table")
        described = {
            name: {"rows": table.num_rows, "schema": _schema_json(table)}
            for name, table in tables.items()
        }
        gen = generation_id(tables)
        self.ensure_schema()
        # One writer at a time (see replace_results): a second load of the same data waits,
        # then finds it live and writes nothing.
        with self.runner.hold("store_lock", operation=f"load (generation {gen})"):
            try:
                self._replace_tables(tables, meta, described, gen)
            except LockLostError as exc:
                raise _unpublished(exc, "load") from exc

    def _replace_tables(
        self,
        tables: Mapping[str, pa.Table],
        meta: Mapping[str, str],
        described: Mapping[str, Any],
        gen: str,
    ) -> None:
        before = self.state()
        present = self._generations()
        if before.gen != gen:
            self.runner.run("state_begin_load", {"gen": gen}, operation="begin load", write=True)
            if gen in before.pending:
                # An earlier load of this very data stopped part-way: what it left is deleted,
                # so that every element is CREATEd exactly once.
                self._delete_generation(gen)
            self._write_generation(tables, gen)
        # else: the live generation is this data, complete; only the description changes.
        self.runner.run(
            "state_commit_load",
            {"gen": gen, "meta": json.dumps(dict(meta)), "tables": json.dumps(described)},
            operation="commit load",
            write=True,
        )
        stale = [g for g in (*before.pending, before.gen, *present) if g is not None and g != gen]
        try:
            self._prune_generations(sorted(set(stale)))
            self._prune_results({})
        except StoreError as exc:
            # Published: only the deletes stopped (a lost lock, whose taker may be loading one
            # of these very generations again; a server that stopped its database). Raising
            # would have the load throw away the quarantine and report of the data the store
            # now holds (seen on a real server whose disk filled during the deletes); the
            # replaced generation stays named pending, and the next load deletes it.
            log.warning(
                "the load is live; deleting the generation it replaced stopped (%s); the next "
                "load of changed data deletes it",
                exc,
            )

    def _write_generation(self, tables: Mapping[str, pa.Table], gen: str) -> None:
        """CREATE every element of generation ``gen``: shared nodes, then tables in order,
        each row's endpoints by the element ids the node batches before it returned."""
        created = ElementIds()

        def write(
            statement: str, table: pa.Table, operation: str, numbered: bool, name: str = ""
        ) -> pa.Array | None:
            return write_rows(
                self.runner,
                statement,
                table,
                {"gen": gen},
                operation=operation,
                batch_size=self.settings.batch_size,
                numbered=numbered,
                progress=self.progress,
                writers=self.settings.writers,
                ends=created.ends(name, table),
            )

        for label, columns in IDENTIFIERS:
            values = distinct_values(tables, columns)
            if values.num_rows:
                ids = write(f"{label}_create", values, f"load {label} nodes", numbered=False)
                created.add(label, values.column("value"), _returned(ids, label))
        for name in WRITE_ORDER:
            if name in tables:
                ids = write(f"{name}_create", tables[name], f"load {name}", True, name)
                if name in NODE_KEYS:
                    created.add(name, tables[name].column(NODE_KEYS[name]), _returned(ids, name))

    def read_table(self, name: str, columns: Sequence[str] | None = None) -> pa.Table:
        state = self.state()
        if name not in state.tables:
            raise TableNotFoundError(f"no canonical table {name!r} in Neo4j at {self.settings.uri}")
        info = state.tables[name]
        schema = pa.schema([(col, _TYPES[kind]) for col, kind in info["schema"]])
        if columns is not None:
            missing = [c for c in columns if c not in schema.names]
            if missing:
                raise StoreError(f"canonical table {name!r} has no columns {missing}")
        # Only the columns asked for leave the server (the projection reads two of transfers'
        # seven columns at a time), each page as one record of value lists.
        wanted = schema if columns is None else pa.schema([schema.field(c) for c in columns])
        page = self.page_rows
        parts = []
        for start in range(0, int(info["rows"]), page):
            frame = self.runner.run(
                f"{name}_read",
                {"gen": state.gen, "from": start, "to": start + page, "columns": wanted.names},
                operation=f"read {name}",
            )
            rows = frame["rows"].iloc[0] if not frame.empty else []
            parts.append(rows_table(rows, wanted))
        table = pa.concat_tables(parts) if parts else wanted.empty_table()
        if table.num_rows != info["rows"]:
            raise StoreError(
                f"canonical table {name!r}: read {table.num_rows} rows of {info['rows']} "
                "written; a newer load replaced it while it was read (read again), or the "
                "graph was changed outside relgraph"
            )
        return table

    def table_names(self) -> list[str]:
        return sorted(self.state().tables)

    def row_count(self, name: str) -> int:
        tables = self.state().tables
        if name not in tables:
            raise TableNotFoundError(f"no canonical table {name!r} in Neo4j at {self.settings.uri}")
        return int(tables[name]["rows"])

    # -- results ----------------------------------------------------------------------------

    def replace_results(self, tables: Mapping[str, pa.Table]) -> None:
        """Keep the tables exactly, switch the state to them at once, then write them back.

        The write-back onto the graph comes after the switch: if it fails part-way the
        results are safe and ``read_results`` serves them, the error says so, and the
        next run rewrites the properties (each run marks what it wrote and removes
        what an earlier run wrote and this one did not); until a run's write-back finishes
        the state names it ``graphPending`` and :meth:`notices` says the graph is a mix
        (:mod:`.neo4j_state`). One run or load does all this at a time: another waits for
        it to finish.
        """
        run = uuid.uuid4().hex[:16]
        # The lock's constraint, for a database whose schema an older relgraph made: without
        # it a second run's MERGE would not wait.
        self.runner.run("schema_lock_key", operation="create schema", write=True)
        # One writer at a time, from its first chunk to its write-back's prune: a second run,
        # or a load, waits here (its statement blocks in the server) until this one is done.
        with self.runner.hold("store_lock", operation=f"write results (run {run})"):
            try:
                self._replace_results(tables, run)
            except LockLostError as exc:
                raise _unpublished(exc, "analyze") from exc

    def _replace_results(self, tables: Mapping[str, pa.Table], run: str) -> None:
        state = self.state()
        if state.gen is None:
            raise StoreError("no data loaded: run `relgraph load DIR` before writing results")
        for name, table in tables.items():
            data = _ipc(_plain_types(table))
            parts = max(1, -(-len(data) // CHUNK_BYTES))
            for part in range(parts):
                chunk = data[part * CHUNK_BYTES : (part + 1) * CHUNK_BYTES]
                params = {"table": name, "run": run, "part": part, "parts": parts}
                self.runner.run(
                    "result_chunk_merge",
                    {**params, "data": chunk, "gen": state.gen},
                    operation=f"write results {name}",
                    write=True,
                )
        results = {**state.results, **dict.fromkeys(tables, run)}
        committed = self.runner.run(
            "state_commit_results",
            {"gen": state.gen, "results": json.dumps(results), "run": run},
            operation="commit results",
            write=True,
        )
        if committed.empty:
            raise StoreError("a new load replaced the data while analytics ran: rerun analyze")
        try:
            self._prune_results(results)
            self._write_back(tables, state.gen, run)
            self.runner.run(
                "state_written_back",
                {"gen": state.gen, "run": run},
                operation="commit write-back",
                write=True,
            )
        except ServerStorageError as exc:  # a full disk: which results stay, and what to do
            raise StoreError(
                f"results saved (stats, validate and serve read them, after a restart too); "
                f"writing them back onto the graph stopped: {exc.failure.rstrip('.')}. "
                f"{exc.cause}. Give it room, restart it, and run `relgraph analyze` again to "
                "complete the graph properties"
            ) from exc
        except StoreError as exc:
            # Published (a lost lock too: its error is no LockLostError past this point).
            raise StoreError(
                f"results saved; writing them back onto the graph stopped: {exc}. "
                "Rerun `relgraph analyze` to complete the graph properties"
            ) from exc

    def read_results(self, name: str) -> pa.Table:
        state = self.state()
        if name not in state.results:
            raise TableNotFoundError(f"no results table {name!r} in Neo4j at {self.settings.uri}")
        frame = self.runner.run(
            "result_chunk_read",
            {"table": name, "run": state.results[name]},
            operation=f"read results {name}",
        )
        if frame.empty or len(frame) != int(frame["parts"].iloc[0]):
            raise StoreError(f"results table {name!r} is incomplete in Neo4j: rerun analyze")
        data = b"".join(bytes(chunk) for chunk in frame["data"])
        return pa.ipc.open_stream(data).read_all()

    def result_names(self) -> list[str]:
        return sorted(self.state().results)

    def meta(self) -> dict[str, str]:
        return self.state().meta

    def close(self) -> None:
        self.runner.close()

    # -- helpers ----------------------------------------------------------------------------

    def drain(self, statement: str, params: Mapping[str, Any], operation: str) -> int:
        return drain(self.runner, statement, params, operation, self.settings.batch_size)

    def _generations(self) -> list[str]:
        """Every generation with elements in the database (read under the store lock, so no
        other run is writing one)."""
        frame = self.runner.run("generations_read", operation="read generations")
        return [] if frame.empty else [str(g) for g in frame["gen"]]

    def _delete_generation(self, gen: str) -> None:
        for statement in PRUNE_STATEMENTS:
            self.drain(statement, {"stale": gen}, "delete old generation")

    def _prune_generations(self, stale: list[str]) -> None:
        for gen in stale:
            self._delete_generation(gen)
        if stale:
            self.runner.run(
                "state_pruned", {"pruned": stale}, operation="delete old generation", write=True
            )

    def _prune_results(self, results: Mapping[str, str]) -> None:
        keep = [f"{name}/{run}" for name, run in results.items()]
        self.drain("result_chunk_prune", {"keep": keep}, "delete old results")

    def _write_back(self, tables: Mapping[str, pa.Table], gen: str, run: str) -> None:
        for name, columns, prune in WRITE_BACK:
            source, column, value = WRITE_BACK_ROWS.get(name, (name, "", ""))
            if source not in tables:
                continue
            table = tables[source]
            if column:
                table = table.filter(pc.equal(table.column(column), value))
            table = table if columns is None else table.select(list(columns))
            write_rows(
                self.runner,
                f"writeback_{name}",
                table,
                {"gen": gen, "run": run},
                operation=f"write back {name}",
                batch_size=self.settings.batch_size,
                progress=self.progress,
            )
            if prune is not None:
                self.drain(prune, {"gen": gen, "run": run}, f"write back {name}")
