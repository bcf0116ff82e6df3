"""Row validation as DuckDB SQL: types, enumerations, ranges, self-references, foreign keys, keys.

Each table is checked in three vectorised passes over its raw text:

1. **typed** — every model column is cast (``TRY_CAST``) and each failed rule adds a
   reason: ``missing_required``, ``bad_id``, ``bad_number``, ``bad_bool``, ``bad_date``,
   ``bad_timestamp``, ``bad_enum``, ``out_of_range``, ``self_reference``;
2. **foreign keys** — a value must name a row already *loaded* from the target table
   (tables are checked in ``model.INPUT_TABLES`` order, so targets are final):
   ``unknown_foreign_key``;
3. **keys** — among rows that passed everything else the first in file order wins and
   later ones get ``duplicate_key`` naming the line that won.

A reason reads ``code: column 'value' …``; the report counts codes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

import duckdb

from relgraph import model
from relgraph.ingest import normalise
from relgraph.ingest.readers import LINE, ROW, RawTable
from relgraph.ingest.sql import ident, literal

REASONS: Final = "_reasons"
_SHOWN_CHARS: Final = 40
"""Longest piece of an offending value quoted in a reason."""

REASON_CODES: Final = (
    "malformed_line",
    "missing_required",
    "bad_id",
    "bad_number",
    "bad_bool",
    "bad_date",
    "bad_timestamp",
    "bad_enum",
    "out_of_range",
    "self_reference",
    "unknown_foreign_key",
    "duplicate_key",
)
"""Every reason a row can be quarantined for."""

_CONTROL: Final = r"\p{Cc}"
_BAD_ID: Final = r"^[=+\-@]|" + _CONTROL
"""An id a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@`` first), or one
holding a control character (tab, CR, newline, NUL…): ids are exported and opened in
spreadsheets, so they are refused at the door (RE2 syntax)."""

_TRUE: Final = ("true", "t", "1", "yes", "y")
_FALSE: Final = ("false", "f", "0", "no", "n")


def typed_view(table: str) -> str:
    return f"typed_{table}"


def checked_view(table: str) -> str:
    return f"checked_{table}"


def keys_view(table: str) -> str:
    return f"keys_{table}"


def _text(column: str, present: bool) -> str:
    """The trimmed raw text of ``column`` (null when empty or absent from the file)."""
    return f"NULLIF(trim(r.{ident(column)}), '')" if present else "CAST(NULL AS VARCHAR)"


def _shown(text: str) -> str:
    return f"'''' || left({text}, {_SHOWN_CHARS}) || ''''"


def _enum_sql(text: str, values: tuple[str, ...]) -> str:
    # Case-insensitive match, stored in the model's spelling.
    cases = " ".join(f"WHEN {literal(v.lower())} THEN {literal(v)}" for v in values)
    return f"CASE lower({text}) {cases} END"


def _products_sql(text: str) -> tuple[str, str]:
    """(normalised product list, condition that some code is unknown) for ``customers.products``."""
    sep = literal(model.PRODUCT_LIST_SEPARATOR)
    known = "[" + ", ".join(literal(p) for p in model.PRODUCTS) + "]"
    codes = f"list_filter(list_transform(string_split({text}, {sep}), lambda p: lower(trim(p))), lambda p: p <> '')"
    normalised = f"NULLIF(array_to_string(list_sort(list_distinct({codes})), {sep}), '')"
    unknown = f"len(list_filter({codes}, lambda p: NOT list_contains({known}, p))) > 0"
    return normalised, unknown


def id_columns(table: model.Table) -> tuple[str, ...]:
    """The columns of ``table`` holding ids: its key, its foreign keys and any ``*_id``."""
    named = {c for c in table.key} | {fk.column for fk in table.foreign_keys}
    return tuple(c.name for c in table.columns if c.name in named or c.name.endswith("_id"))


def _column_sql(table: model.Table, column: model.Column, present: bool) -> tuple[str, list[str]]:
    """(typed value expression, reason expressions) for one column."""
    text = _text(column.name, present)
    name = column.name
    reasons: list[str] = []
    if column.required:
        reasons.append(f"CASE WHEN {text} IS NULL THEN 'missing_required: {name} is empty' END")
    if name in id_columns(table):
        # Shown with control characters as '?' so the reason itself stays one clean line.
        shown = _shown(f"regexp_replace({text}, {literal(_CONTROL)}, '?', 'g')")
        reasons.append(
            f"CASE WHEN regexp_matches({text}, {literal(_BAD_ID)}) THEN 'bad_id: {name} ' || "
            f"{shown} || ' starts with =, +, - or @ or holds a control character' END"
        )
    bad: str | None = None
    if column.dtype == "str" and column.enum:
        typed = _enum_sql(text, column.enum)
        allowed = ", ".join(column.enum)
        bad = f"'bad_enum: {name} ' || {_shown(text)} || ' is not one of {allowed}'"
    elif column.dtype == "str" and table is model.CUSTOMERS and name == "products":
        typed, unknown = _products_sql(text)
        allowed = ", ".join(model.PRODUCTS)
        reasons.append(
            f"CASE WHEN {text} IS NOT NULL AND {unknown} THEN "
            f"'bad_enum: products ' || {_shown(text)} || ' holds a code outside {allowed}' END"
        )
    elif column.dtype == "str":
        typed = text
    elif column.dtype == "int":
        typed = f"TRY_CAST({text} AS BIGINT)"
        bad = f"'bad_number: {name} ' || {_shown(text)} || ' is not a whole number'"
    elif column.dtype == "float":
        # NaN and infinity parse as doubles but are not amounts.
        typed = (
            f"CASE WHEN isfinite(TRY_CAST({text} AS DOUBLE)) THEN TRY_CAST({text} AS DOUBLE) END"
        )
        bad = f"'bad_number: {name} ' || {_shown(text)} || ' is not a number'"
    elif column.dtype == "bool":
        true = ", ".join(literal(v) for v in _TRUE)
        false = ", ".join(literal(v) for v in _FALSE)
        typed = f"CASE WHEN lower({text}) IN ({true}) THEN true WHEN lower({text}) IN ({false}) THEN false END"
        bad = f"'bad_bool: {name} ' || {_shown(text)} || ' is not true/false, yes/no or 1/0'"
    elif column.dtype == "date":
        typed = f"epoch_ms(CAST(TRY_CAST({text} AS DATE) AS TIMESTAMP))"
        bad = f"'bad_date: {name} ' || {_shown(text)} || ' is not a date (YYYY-MM-DD)'"
    else:  # timestamp; a value without an offset is UTC (sql.connect sets the zone)
        typed = f"epoch_ms(TRY_CAST({text} AS TIMESTAMPTZ))"
        bad = f"'bad_timestamp: {name} ' || {_shown(text)} || ' is not an ISO-8601 timestamp'"
    if bad is not None:
        reasons.append(f"CASE WHEN {text} IS NOT NULL AND ({typed}) IS NULL THEN {bad} END")
    if column.min is not None or column.max is not None:
        reasons.append(_range_sql(column, typed))
    return typed, reasons


def _range_sql(column: model.Column, typed: str) -> str:
    checks: list[str] = []
    wanted: list[str] = []
    if column.min is not None:
        op = "<=" if column.min_exclusive else "<"
        checks.append(f"({typed}) {op} {column.min!r}")
        wanted.append(f"{'>' if column.min_exclusive else '≥'} {column.min:g}")
    if column.max is not None:
        checks.append(f"({typed}) > {column.max!r}")
        wanted.append(f"≤ {column.max:g}")
    return (
        f"CASE WHEN {' OR '.join(checks)} THEN 'out_of_range: {column.name} ' || "
        f"CAST({typed} AS VARCHAR) || ' must be {' and '.join(wanted)}' END"
    )


def _derived_sql(table: model.Table, raw: RawTable) -> list[str]:
    """Normalised identifier columns ingest adds to customers and enterprises."""

    def text(column: str) -> str:
        return _text(column, column in raw.columns)

    if table is model.CUSTOMERS:
        return [
            f"{normalise.name_sql(text('name'))} AS name_norm",
            f"{normalise.id_number_sql(text('id_number'))} AS id_number_norm",
            f"{normalise.phone_sql(text('phone'))} AS phone_norm",
            f"{normalise.email_sql(text('email'))} AS email_norm",
            f"{normalise.address_sql(text('address'))} AS address_norm",
        ]
    if table is model.ENTERPRISES:
        return [
            f"{normalise.phone_sql(text('phone'))} AS phone_norm",
            f"{normalise.address_sql(text('address'))} AS address_norm",
        ]
    return []


def type_rows(con: duckdb.DuckDBPyConnection, raw: RawTable) -> None:
    """Pass 1: ``typed_<table>`` with typed model columns, derived columns and reasons."""
    table = model.TABLES[raw.file.table]
    selects: list[str] = []
    reasons: list[str] = []
    for column in table.columns:
        if column.name == "source_system" and raw.source_systems:
            # The bank's own systems (mapping file) replace the model's for this load.
            column = replace(column, enum=raw.source_systems)
        typed, column_reasons = _column_sql(table, column, column.name in raw.columns)
        selects.append(f"{typed} AS {ident(column.name)}")
        reasons += column_reasons
    if table.no_self_reference:
        a, b = table.no_self_reference
        ta, tb = _text(a, True), _text(b, True)
        reasons.append(
            f"CASE WHEN {ta} = {tb} THEN 'self_reference: {a} and {b} are both ' || {_shown(ta)} END"
        )
    reason_list = "list_filter([" + ", ".join(reasons) + "], lambda x: x IS NOT NULL)"
    derived = _derived_sql(table, raw)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {typed_view(table.name)} AS "  # noqa: S608 - names from the model, values never inlined
        f"SELECT r.{ROW}, r.{LINE}, {', '.join(selects + derived)}, "
        f"CAST({reason_list} AS VARCHAR[]) AS {REASONS} "
        f"FROM {raw.view} r ORDER BY r.{ROW}"
    )


def check_keys(con: duckdb.DuckDBPyConnection, table: model.Table) -> None:
    """Passes 2 and 3: ``checked_<table>`` with foreign-key and duplicate-key reasons added.

    Also writes ``keys_<table>`` (the loaded keys) for the tables that later ones refer to.
    """
    typed = typed_view(table.name)
    joins: list[str] = []
    fk_reasons: list[str] = []
    for i, fk in enumerate(table.foreign_keys):
        alias = f"fk{i}"
        targets = " UNION ALL ".join(
            f"SELECT {literal(kind)} AS kind, k FROM {keys_view(target)}"  # noqa: S608 - model names
            for kind, target in fk.targets.items()
        )
        kind = f"t.{ident(fk.kind_column)}" if fk.kind_column else "''"
        joins.append(
            f"LEFT JOIN ({targets}) {alias} ON {alias}.kind = {kind} "
            f"AND {alias}.k = t.{ident(fk.column)}"
        )
        what = " or ".join(model.TABLES[t].key[0].removesuffix("_id") for t in fk.targets.values())
        fk_reasons.append(
            f"CASE WHEN t.{ident(fk.column)} IS NOT NULL AND {kind} IS NOT NULL "
            f"AND {alias}.k IS NULL THEN 'unknown_foreign_key: {fk.column} ' || "
            f"{_shown('t.' + ident(fk.column))} || ' names no loaded {what}' END"
        )
    with_fk = (
        f"list_concat(t.{REASONS}, CAST(list_filter([{', '.join(fk_reasons)}], lambda x: x IS NOT NULL) AS VARCHAR[]))"
        if fk_reasons
        else f"t.{REASONS}"
    )
    key = ", ".join(ident(c) for c in table.key)
    key_text = " || '|' || ".join(f"CAST({ident(c)} AS VARCHAR)" for c in table.key)
    ok = f"len({REASONS}) = 0"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {checked_view(table.name)} AS "  # noqa: S608 - names from the model
        f"WITH j AS (SELECT t.* EXCLUDE ({REASONS}), {with_fk} AS {REASONS} "
        f"FROM {typed} t {' '.join(joins)}), "
        f"w AS (SELECT *, row_number() OVER (PARTITION BY {key}, {ok} ORDER BY {ROW}) AS _rank, "
        f"min({LINE}) OVER (PARTITION BY {key}, {ok}) AS _first FROM j) "
        f"SELECT * EXCLUDE (_rank, _first, {REASONS}), "
        f"CASE WHEN {ok} AND _rank > 1 THEN ['duplicate_key: ' || {literal(', '.join(table.key))} "
        f"|| ' ' || {_shown(key_text)} || ' already loaded from line ' || CAST(_first AS VARCHAR)] "
        f"ELSE {REASONS} END AS {REASONS} "
        f"FROM w ORDER BY {ROW}"
    )
    con.execute(f"DROP TABLE {typed}")
    if any(table.name in fk.targets.values() for t in model.INPUT_TABLES for fk in t.foreign_keys):
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {keys_view(table.name)} AS "  # noqa: S608 - names from the model
            f"SELECT {ident(table.key[0])} AS k FROM {checked_view(table.name)} WHERE {ok}"
        )


def empty_keys(con: duckdb.DuckDBPyConnection, table: model.Table) -> None:
    """``keys_<table>`` for an absent optional table: nothing to refer to."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {keys_view(table.name)} (k VARCHAR)")
