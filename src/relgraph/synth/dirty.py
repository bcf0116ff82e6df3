"""Malformed rows added to a clean table: bad dates, bad numbers, unknown keys, duplicates, …"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from relgraph import model
from relgraph.synth.frame import Fmt, Frame, format_fixed
from relgraph.synth.ids import (
    ACCOUNT_DIGITS,
    CONTACT_DIGITS,
    CUSTOMER_DIGITS,
    ENTERPRISE_DIGITS,
    SYSTEM_PREFIXES,
    TX_DIGITS,
    BoolArray,
    IntArray,
    numbers_text,
    pick,
    prefixed,
    unique_ints,
)

DEFECTS: Final = (
    "bad_date",
    "negative_number",
    "non_numeric",
    "unknown_foreign_key",
    "duplicate_key",
    "missing_required",
    "bad_enum",
    "self_reference",
)
BAD_DATE, NEGATIVE, NON_NUMERIC, UNKNOWN_FK, DUPLICATE, MISSING, BAD_ENUM, SELF_REF = range(8)

_BAD_DATES: Final = (
    "2026-02-30",
    "2025-13-01",
    "31/12/2024",
    "2025-03-15 08:00:00",  # a date with a time part (20250315 is a date now)
    "not a date",
    "0000-00-00",
)
_BAD_TIMESTAMPS: Final = (
    "2026-06-31T10:00:00",
    "2026-07-01T25:61:00",
    "07/15/2026 10:00",
    "2026-07-15T",
    "yesterday",
    "2026-00-10T08:00:00",
)
_NON_NUMERIC: Final = ("12O.50", "1.2.3", "abc", "5e", "--")
_BAD_ENUMS: Final[dict[str, tuple[str, ...]]] = {
    "source_system": ("crm", "legacy"),
    "gender": ("X", "?"),
    "segment": ("vip", "retail"),
    "risk_rating": ("critical", "unrated"),
    "holder_kind": ("bank", "person"),
    "guarantor_kind": ("bank", "person"),
    "borrower_kind": ("bank", "person"),
    "product": ("insurance", "fund"),
    "status": ("frozen", "pending"),
    "device_kind": ("watch", "tv"),
    "relation": ("friend", "cousin"),
    "role": ("chairman", "cfo"),
}
# Key space per table with a single generated key: (prefix length, digits).
_KEY_SPACES: Final = {
    "customers": (2, CUSTOMER_DIGITS),
    "enterprises": (1, ENTERPRISE_DIGITS),
    "accounts": (1, ACCOUNT_DIGITS),
    "transfers": (1, TX_DIGITS),
    "contacts": (2, CONTACT_DIGITS),
}
# Unknown references are well-formed ids from a part of the space no clean row uses.
_REF_SPACES: Final = {
    "customers": (SYSTEM_PREFIXES, CUSTOMER_DIGITS),
    "enterprises": (("E",), ENTERPRISE_DIGITS),
    "accounts": (("A",), ACCOUNT_DIGITS),
}
_KIND_OF_TABLE: Final = {"customers": "customer", "enterprises": "enterprise"}


@dataclass(frozen=True)
class DirtyRows:
    """Malformed rows to interleave with a clean table."""

    rows: Any
    """pyarrow table with the clean table's rendered schema."""
    after: IntArray
    """Sorted: the clean row each dirty row follows in the file (-1 = before the first)."""
    defect: IntArray
    """Index into DEFECTS."""
    key: Any
    """Key text of each dirty row (columns joined by ``|``)."""

    def lines(self) -> IntArray:
        """Line of each dirty row in the written CSV file (the header is line 1)."""
        return self.after + 1 + np.arange(self.after.size, dtype=np.int64) + 2


def _eligible(table: model.Table, fmt: Fmt) -> dict[int, list[str]]:
    cols = table.columns
    key = set(table.key)
    required = [c.name for c in cols if c.required and c.name not in key]
    if not required:
        required = [c for c in table.key[1:] if table.column(c).required]
    out = {
        BAD_DATE: [c.name for c in cols if c.dtype in ("date", "timestamp")],
        # A negative value is a defect only where the model wants none (a balance may be one).
        NEGATIVE: [
            c.name for c in cols if c.dtype in ("float", "int") and c.min is not None and c.min >= 0
        ],
        NON_NUMERIC: [c.name for c in cols if c.dtype in ("float", "int")] if fmt == "csv" else [],
        UNKNOWN_FK: [fk.column for fk in table.foreign_keys],
        DUPLICATE: list(table.key),
        MISSING: required,
        BAD_ENUM: [c.name for c in cols if c.enum],
        SELF_REF: list(table.no_self_reference or ()),
    }
    return {k: v for k, v in out.items() if v}


def _replace(column: Any, rows: IntArray, values: Any) -> Any:
    """``column`` with ``rows`` set to ``values``."""
    combined = pa.concat_arrays([column, values.cast(column.type)])
    index = np.arange(len(column), dtype=np.int64)
    index[rows] = len(column) + np.arange(rows.size, dtype=np.int64)
    return combined.take(pa.array(index))


def _unknown_ids(rng: np.random.Generator, target: str, n: int) -> Any:
    prefixes, width = _REF_SPACES[target]
    low = 95 * 10 ** (width - 2)
    number = rng.integers(low, 10**width, size=n)
    ids = pc.choose(
        pa.array(rng.integers(0, len(prefixes), size=n).astype(np.int8)),
        *[prefixed(p, number, width) for p in prefixes],
    )
    return ids


def _bad_values(
    rng: np.random.Generator,
    table: model.Table,
    kind: int,
    column: str,
    rows: IntArray,
    cols: dict[str, Any],
    fmt: Fmt,
) -> Any:
    """Replacement values of ``column`` for ``rows`` that carry defect ``kind``."""
    n = rows.size
    col = table.column(column)
    if kind == BAD_DATE:
        choices = _BAD_DATES if col.dtype == "date" else _BAD_TIMESTAMPS
        return pick(choices, rng.integers(0, len(choices), size=n))
    if kind == NEGATIVE:
        magnitude = rng.integers(1, 1_000_000, size=n)
        scale = 4 if column == "share" else 2
        if col.dtype == "int":
            return pa.array(-magnitude) if fmt == "parquet" else numbers_text(-magnitude)
        if fmt == "parquet":
            return pa.array(-magnitude / 10**scale)
        return format_fixed(-magnitude, scale)
    if kind == NON_NUMERIC:
        return pick(_NON_NUMERIC, rng.integers(0, len(_NON_NUMERIC), size=n))
    if kind == UNKNOWN_FK:
        fk = next(f for f in table.foreign_keys if f.column == column)
        if fk.kind_column is None:
            return _unknown_ids(rng, fk.targets[""], n)
        kinds = cols[fk.kind_column].take(pa.array(rows))
        return pc.if_else(
            pc.equal(kinds, "enterprise"),
            _unknown_ids(rng, fk.targets["enterprise"], n),
            _unknown_ids(rng, fk.targets["customer"], n),
        )
    if kind == MISSING:
        return pa.nulls(n, pa.string())
    if kind == BAD_ENUM:
        enum_values: tuple[str, ...] = _BAD_ENUMS.get(column, ("invalid",))
        return pick(enum_values, rng.integers(0, len(enum_values), size=n))
    raise ValueError(f"no replacement values for defect {DEFECTS[kind]}")


def _self_reference(table: model.Table, cols: dict[str, Any], rows: IntArray) -> None:
    """Point the second party of ``rows`` at the first (or the reverse where kinds are involved)."""
    assert table.no_self_reference is not None
    a, b = table.no_self_reference
    fks = {f.column: f for f in table.foreign_keys}
    dst, src = (a, b) if fks[a].kind_column is not None and fks[b].kind_column is None else (b, a)
    taken = cols[src].take(pa.array(rows))
    cols[dst] = _replace(cols[dst], rows, taken)
    kind_col = fks[dst].kind_column
    if kind_col is not None:
        src_kind = fks[src].kind_column
        if src_kind is not None:
            kinds = cols[src_kind].take(pa.array(rows))
        else:
            kinds = pa.array([_KIND_OF_TABLE[fks[src].targets[""]]] * rows.size)
        cols[kind_col] = _replace(cols[kind_col], rows, kinds)


def key_text(table: model.Table, columns: dict[str, Any]) -> Any:
    """Key columns joined by ``|``, missing parts as empty text; a key column the synthetic
    bank does not make (a guarantee's contract) is left out, as the load's reason leaves out
    an empty one."""
    parts = [pc.cast(columns[k], pa.string()) for k in table.key if k in columns]
    if len(parts) == 1:
        return pc.fill_null(parts[0], "")
    return pc.binary_join_element_wise(*parts, "|", null_handling="replace", null_replacement="")


def inject(rng: np.random.Generator, frame: Frame, fraction: float, fmt: Fmt) -> DirtyRows | None:
    """Draw about ``fraction * rows`` malformed rows for ``frame``.

    Each dirty row is a copy of a random clean row with one defect, spread evenly over the
    defects the table can have. Apart from ``duplicate_key`` rows (a copy of an existing row
    placed after it), a dirty row gets a key no clean row has, so removing the dirty rows
    gives back the clean table.

    Parameters
    ----------
    rng
        Random stream (separate from the clean data's, so the clean rows do not change).
    frame
        The clean table.
    fraction
        Dirty rows per clean row.
    fmt
        File format (Parquet columns are typed, so they cannot hold non-numeric numbers).

    Returns
    -------
    DirtyRows or None
        The rows and where they go, or None when there are none.
    """
    table = frame.table
    n = frame.n
    m = round(fraction * n)
    if n == 0 or m == 0:
        return None
    eligible = _eligible(table, fmt)
    kinds = np.array(sorted(eligible), dtype=np.int64)
    defect = kinds[rng.integers(0, kinds.size, size=m)]
    source = rng.integers(0, n, size=m)
    base = frame.render(source, fmt)
    cols = {name: base.column(name).combine_chunks() for name in base.column_names}
    fresh = np.flatnonzero(defect != DUPLICATE)

    if len(table.key) == 1:
        key = table.key[0]
        prefix_len, width = _KEY_SPACES[table.name]
        number = unique_ints(rng, 9 * 10 ** (width - 1), 95 * 10 ** (width - 2), fresh.size)
        digits = pc.utf8_slice_codeunits(prefixed("X", number, width), 1, 1 + width)
        prefix = pc.utf8_slice_codeunits(cols[key].take(pa.array(fresh)), 0, prefix_len)
        cols[key] = _replace(cols[key], fresh, pc.binary_join_element_wise(prefix, digits, ""))
    else:
        # A new pairing: the second key part (with its kind) from another clean row.
        second = table.key[1]
        moved = [second] + [
            f.kind_column for f in table.foreign_keys if f.column == second and f.kind_column
        ]
        other = rng.integers(0, n, size=fresh.size)
        for name in moved:
            assert name is not None
            cols[name] = _replace(cols[name], fresh, frame.columns[name].render(other, fmt))

    for kind in kinds:
        if kind == DUPLICATE:
            continue
        rows = np.flatnonzero(defect == kind)
        if rows.size == 0:
            continue
        if kind == SELF_REF:
            _self_reference(table, cols, rows)
            continue
        choice = rng.integers(0, len(eligible[kind]), size=rows.size)
        for c, column in enumerate(eligible[kind]):
            sub = rows[choice == c]
            if sub.size:
                values = _bad_values(rng, table, int(kind), column, sub, cols, fmt)
                cols[column] = _replace(cols[column], sub, values)

    keys = key_text(table, cols)
    keep: BoolArray = np.ones(m, dtype=bool)
    if len(table.key) > 1:
        clean_keys = key_text(
            table,
            {k: frame.columns[k].render(slice(0, n), fmt) for k in table.key if k in frame.columns},
        )
        clash = pc.is_in(keys, value_set=clean_keys).to_numpy(zero_copy_only=False)
        _, first = np.unique(keys.to_numpy(zero_copy_only=False), return_index=True)
        repeated = np.ones(m, dtype=bool)
        repeated[first] = False
        keep = (defect == DUPLICATE) | ~(clash | repeated)
        if table.no_self_reference is not None:
            a, b = table.no_self_reference
            same = pc.fill_null(pc.equal(cols[a], cols[b]), False).to_numpy(zero_copy_only=False)
            keep &= (defect == SELF_REF) | ~same

    after = np.where(
        defect == DUPLICATE,
        source + (rng.random(m) * (n - source)).astype(np.int64),
        rng.integers(-1, n, size=m),
    )
    tie = rng.random(m)
    idx = np.flatnonzero(keep)
    idx = idx[np.lexsort((tie[idx], after[idx]))]
    rendered = pa.Table.from_arrays([cols[c] for c in base.column_names], schema=base.schema)
    return DirtyRows(
        rows=rendered.take(pa.array(idx)),
        after=after[idx],
        defect=defect[idx],
        key=keys.take(pa.array(idx)),
    )
