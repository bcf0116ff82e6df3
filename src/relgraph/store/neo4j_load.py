"""Writing rows into Neo4j in batches, and the element ids that link a generation's rows.

A generation is written fresh, in dependency order: the node batches return the element ids
of the nodes they create, and the rows that link to those nodes carry them (``$<end>[i]``
beside ``$rows[i]``), so each endpoint is found by ``elementId`` (a direct record read) instead
of a seek in a unique index, which in a write query also locks the index entry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from relgraph.store.base import StoreError
from relgraph.store.runner import QueryRunner

log = logging.getLogger(__name__)

NODE_KEYS: Final[dict[str, str]] = {
    "persons": "person_id",
    "customers": "customer_id",
    "enterprises": "enterprise_id",
    "accounts": "account_id",
}
"""Node tables that later rows link to, by the column that keys a node."""

PARTY_KINDS: Final[dict[str, str]] = {"customer": "customers", "enterprise": "enterprises"}
"""A party column's kind value -> the node table it names."""


@dataclass(frozen=True)
class End:
    """One node a row links to.

    ``param`` is the statement's list parameter that carries its element id; ``column`` holds
    the node's key; ``kind`` is the node table (a ``NODE_KEYS`` table or a shared identifier's
    label) or, for a party that is a customer or an enterprise, ``None`` with ``kind_column``
    naming the column that says which (``PARTY_KINDS``).
    """

    param: str
    column: str
    kind: str | None = None
    kind_column: str | None = None


ENDS: Final[dict[str, tuple[End, ...]]] = {
    "customers": (
        End("person", "person_id", "persons"),
        End("phone", "phone_norm", "phone"),
        End("email", "email_norm", "email"),
        End("address", "address_norm", "address"),
        End("document", "id_number_norm", "id_document"),
    ),
    "enterprises": (End("phone", "phone_norm", "phone"), End("address", "address_norm", "address")),
    "accounts": (End("holder", "holder_id", kind_column="holder_kind"),),
    "contacts": (End("party", "party_id", kind_column="party_kind"),),
    "device_links": (
        End("customer", "customer_id", "customers"),
        End("device", "device_id", "device"),
    ),
    "family": (End("a", "customer_id", "customers"), End("b", "relative_id", "customers")),
    "shareholdings": (
        End("holder", "holder_id", kind_column="holder_kind"),
        End("target", "enterprise_id", "enterprises"),
    ),
    "positions": (
        End("customer", "customer_id", "customers"),
        End("enterprise", "enterprise_id", "enterprises"),
    ),
    "guarantees": (
        End("guarantor", "guarantor_id", kind_column="guarantor_kind"),
        End("borrower", "borrower_id", kind_column="borrower_kind"),
    ),
    "referrals": (End("a", "referrer_id", "customers"), End("b", "referred_id", "customers")),
    "transfers": (End("a", "from_account", "accounts"), End("b", "to_account", "accounts")),
    "possible_duplicates": (
        End("a", "customer_a", "customers"),
        End("b", "customer_b", "customers"),
    ),
}
"""The nodes each table's rows link to (the ``<table>_create`` statement's list parameters)."""


class ElementIds:
    """Element ids of the nodes one load created, by node kind and key."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[pa.Array, pa.Array]] = {}

    def add(self, kind: str, keys: pa.Array | pa.ChunkedArray, ids: pa.Array) -> None:
        """``ids[i]`` is the element id of the ``kind`` node keyed ``keys[i]``."""
        if len(keys) != len(ids):
            raise StoreError(f"{kind}: {len(ids)} element ids came back for {len(keys)} nodes")
        self._known[kind] = (_strings(keys), ids)

    def of(self, kind: str, keys: pa.Array | pa.ChunkedArray) -> pa.Array:
        """The element id of each key's node; null where the key is null or unknown (a row
        whose endpoint is missing: its statement then writes nothing for it and says so)."""
        found = self._known.get(kind)
        if found is None:
            return pa.nulls(len(keys), pa.string())
        known, ids = found
        return pc.take(ids, pc.index_in(_strings(keys), value_set=known))

    def ends(self, table_name: str, table: pa.Table) -> dict[str, pa.Array]:
        """The ``ENDS`` parameters of ``table_name``'s rows: one element id (or null) a row."""
        out: dict[str, pa.Array] = {}
        for end in ENDS.get(table_name, ()):
            keys = table.column(end.column)
            if end.kind is not None:
                out[end.param] = self.of(end.kind, keys)
                continue
            assert end.kind_column is not None  # an End names a kind or the column saying it
            kinds = _strings(table.column(end.kind_column))
            ids = pa.nulls(table.num_rows, pa.string())
            for value, kind in PARTY_KINDS.items():
                ids = pc.if_else(pc.equal(kinds, value), self.of(kind, keys), ids)
            out[end.param] = ids
        return out


def _strings(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    combined = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    return combined.cast(pa.string())


def write_rows(
    runner: QueryRunner,
    statement: str,
    table: pa.Table,
    params: Mapping[str, Any],
    *,
    operation: str,
    batch_size: int,
    numbered: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
    writers: int = 1,
    ends: Mapping[str, pa.Array] | None = None,
) -> pa.Array | None:
    """``UNWIND $rows`` ``table`` in batches; every row must land (counted back).

    ``numbered`` adds each row's position as ``seq``, which reads order by;
    ``progress(operation, rows done, rows)`` is called after every batch. ``writers``
    batches run at once, each in its own transaction: only for statements whose batches
    do not depend on each other (the rows of one table). ``ends`` are per-row values sent
    beside the rows, each batch's slice as a list parameter of that name.

    Returns the ``ids`` the statement returns (the element ids of the nodes it created, in
    row order), or None for a statement that returns none.
    """
    if numbered:
        table = table.append_column("seq", pa.array(np.arange(table.num_rows, dtype=np.int64)))
    extra = dict(ends or {})

    def send(start: int) -> tuple[int, pa.Array | None]:
        rows = table.slice(start, batch_size).to_pylist()
        lists = {
            name: values.slice(start, batch_size).to_pylist() for name, values in extra.items()
        }
        frame = runner.run(
            statement, {**params, **lists, "rows": rows}, operation=operation, write=True
        )
        written = int(frame["written"].sum()) if not frame.empty else 0
        if written != len(rows):
            raise StoreError(
                f"{operation}: {len(rows) - written} of rows {start}..{start + len(rows) - 1} "
                "found no node to attach to; nothing after the last commit is live"
            )
        ids = (
            None
            if frame.empty or "ids" not in frame
            else pa.array(frame["ids"].iloc[0], pa.string())
        )
        return len(rows), ids

    starts = range(0, table.num_rows, batch_size)
    returned: dict[int, pa.Array | None] = {}
    done = 0
    if writers <= 1:
        for start in starts:
            count, returned[start] = send(start)
            done += count
            if progress is not None:
                progress(operation, done, table.num_rows)
    else:
        # Batches are made and encoded in the worker threads, so at most `writers` batches
        # of rows are in memory at once; the first failure stops the batches not yet begun.
        with ThreadPoolExecutor(writers, thread_name_prefix="relgraph-neo4j") as pool:
            pending: dict[Future[tuple[int, pa.Array | None]], int] = {}
            for start in starts:
                if len(pending) >= writers:
                    finished, _ = wait(pending, return_when=FIRST_EXCEPTION)
                    done += _collect(finished, pending, returned, pool)
                    if progress is not None:
                        progress(operation, done, table.num_rows)
                pending[pool.submit(send, start)] = start
            done += _collect(wait(pending).done, pending, returned, pool)
        if progress is not None and table.num_rows:
            progress(operation, done, table.num_rows)
    log.info("%s: %d rows", operation, table.num_rows)
    parts = [returned[start] for start in starts]
    if not parts or any(part is None for part in parts):
        return None
    return pa.concat_arrays([part for part in parts if part is not None])


def _collect(
    finished: set[Future[tuple[int, pa.Array | None]]],
    pending: dict[Future[tuple[int, pa.Array | None]], int],
    returned: dict[int, pa.Array | None],
    pool: ThreadPoolExecutor,
) -> int:
    """Rows the finished batches wrote (their ids kept by batch start); a failed batch's
    error, once the batches not yet begun are cancelled."""
    for future in finished:
        if future.exception() is not None:
            pool.shutdown(wait=True, cancel_futures=True)
            future.result()
    rows = 0
    for future in finished:
        count, returned[pending.pop(future)] = future.result()
        rows += count
    return rows


def drain(
    runner: QueryRunner,
    statement: str,
    params: Mapping[str, Any],
    operation: str,
    batch_size: int,
) -> int:
    """Run a ``LIMIT $batch`` delete until it deletes nothing; the total deleted."""
    total = 0
    while True:
        frame = runner.run(
            statement, {**params, "batch": batch_size}, operation=operation, write=True
        )
        deleted = int(frame["deleted"].sum()) if not frame.empty else 0
        total += deleted
        if deleted == 0:
            return total
