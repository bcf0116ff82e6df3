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

Value rules (strict where strictness protects the data): numbers may carry thousands
separators in groups of three (``1,234,567.89``; full-width forms are read after NFKC, so
``１，２３４`` is ``1,234``) but no ``_`` and no NaN or infinity; whole numbers take no
fraction (``1.5``) and no exponent (``1e2``), only a zero one (``3.0``); dates are
``YYYY-MM-DD``, ``YYYY/MM/DD``, ``YYYY.MM.DD``, ``YYYYMMDD`` or ``YYYY年M月D日`` and never
hold a time; timestamps are such a date and a time (``T`` or space, ``HH:MM[:SS[.f]]`` or
``HHMMSS``), with an explicit offset (``Z``, ``+08:00``, ``+0800``) honoured and
without one read in ``RELGRAPH_SOURCE_TZ``; a birth date after the day of the load, or a
transfer after the day after it, is ``out_of_range``. Currencies: ISO 4217 codes.

Customers and enterprises also get ``quality_flags`` (``model.QUALITY_FLAGS``): findings
that keep the row but are counted in the report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import duckdb

from relgraph import model
from relgraph.config import source_zone
from relgraph.ingest import normalise
from relgraph.ingest.moments import date_sql, day_ms, midnight_ms, timestamp_sql
from relgraph.ingest.readers import LINE, ROW, RawTable
from relgraph.ingest.sql import count, ident, literal
from relgraph.ingest.udf import ID_NUMBER_VALID
from relgraph.record_rules import (
    EXCEL_NUMBER_ID,
    FALSE_WORDS,
    TIMED_PATTERN,
    TRUE_WORDS,
    range_wanted,
)

REASONS: Final = "_reasons"
_TYPED: Final = "_typed_"
"""Prefix of a column's typed value inside :func:`type_rows`' statement (the raw text keeps
the column's own name there)."""
_SHOWN_CHARS: Final = 40
"""Longest piece of an offending value quoted in a reason."""
_OWED: Final = {("customers", "loans"), ("enterprises", "loans")}
"""Summaries of what is owed, read as ``|value|``: a loan system stores a debt as −300000 as
often as 300000 (loan accounts' balances are read either way too); neither is out of range."""

REASON_CODES: Final = (
    "malformed_line",
    "repeated_header",
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

_DIGITS_GROUPED: Final = "[+-]?(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)"
_FLOAT: Final = f"^(?:{_DIGITS_GROUPED}(?:\\.[0-9]*)?|[+-]?\\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
"""A decimal number: thousands separators only in groups of three, an exponent allowed."""
_YUAN: Final = r"^([+-]?)\s*¥\s*(.*)$|^(.*?)\s*元$"
"""An amount as Excel's currency format writes it into a CSV (``￥1,200.50``, ``-¥500.00``,
after NFKC) or with 元 after it: the number without the mark (RE2)."""
_INT: Final = f"^{_DIGITS_GROUPED}(?:\\.0*)?$"
"""A whole number: no exponent, no fraction but a zero one (``3.0``)."""
# The forms a date or timestamp may take are one definition, shared with the server's
# record rules (``relgraph.record_rules``, which reads them in Python; SQL in ``moments``).
_TIMED: Final = TIMED_PATTERN
"""A date with a time part: refused in a date column, saying so."""

_FIRST_DAY_MS: Final = -62_135_596_800_000
"""0001-01-01T00:00:00Z in epoch milliseconds."""


def _number_hint(text: str) -> str:
    """What a date or time written as a bare number most likely is, and how to export it
    instead (``''`` for other values): a spreadsheet's serial day count (``45717`` is
    2025-03-01, ``45717.0208`` 00:30 that day) or epoch milliseconds. Neither is read as a
    time: a count of days or milliseconds since when, and in which zone, the file does not
    say."""
    plain = _ascii(text)
    serial = f"regexp_full_match({plain}, '[1-9][0-9]{{4}}(\\.[0-9]+)?')"
    epoch = f"regexp_full_match({plain}, '[0-9]{{12,13}}')"
    return (
        f"CASE WHEN {serial} THEN ' (a spreadsheet serial date? format the column as "
        "yyyy-mm-dd hh:mm:ss before exporting)' "
        f"WHEN {epoch} THEN ' (epoch milliseconds? write it as yyyy-mm-dd hh:mm:ss)' ELSE '' END"
    )


def typed_view(table: str) -> str:
    return f"typed_{table}"


def checked_view(table: str) -> str:
    return f"checked_{table}"


def keys_view(table: str) -> str:
    return f"keys_{table}"


_SQL_TYPE: dict[str, str] = {
    "str": "VARCHAR",
    "int": "BIGINT",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
    "date": "BIGINT",
    "timestamp": "BIGINT",
}


def _text(column: str, present: bool) -> str:
    """The trimmed raw text of ``column`` (null when empty or absent from the file)."""
    return f"NULLIF(trim(r.{ident(column)}), '')" if present else "CAST(NULL AS VARCHAR)"


def _shown(text: str) -> str:
    return f"'''' || left({text}, {_SHOWN_CHARS}) || ''''"


def _enum_sql(text: str, values: tuple[str, ...], aliases: tuple[tuple[str, str], ...] = ()) -> str:
    # Case-insensitive match, stored in the model's spelling.
    pairs = [(v.lower(), v) for v in values] + [(a.lower(), v) for a, v in aliases]
    cases = " ".join(f"WHEN {literal(a)} THEN {literal(v)}" for a, v in pairs)
    return f"CASE lower({text}) {cases} END"


def _products_sql(text: str) -> tuple[str, str]:
    """(normalised product list, condition that some code is unknown) for ``customers.products``."""
    sep = literal(model.PRODUCT_LIST_SEPARATOR)
    known = "[" + ", ".join(literal(p) for p in model.PRODUCTS) + "]"
    split = literal(model.PRODUCT_LIST_SPLIT)
    codes = (
        f"list_filter(list_transform(regexp_split_to_array({text}, {split}), "
        "lambda p: lower(trim(p))), lambda p: p <> '')"
    )
    normalised = f"NULLIF(array_to_string(list_sort(list_distinct({codes})), {sep}), '')"
    unknown = f"len(list_filter({codes}, lambda p: NOT list_contains({known}, p))) > 0"
    return normalised, unknown


def _column_sql(
    table: model.Table,
    column: model.Column,
    present: bool,
    zone: ZoneInfo,
    today: date,
    today_zone: ZoneInfo,
    ref: str,
) -> tuple[str, list[str]]:
    """(typed value expression, reason expressions) for one column.

    ``zone``: the zone of naive timestamps; ``today``: the day of the load in ``today_zone``;
    ``ref``: the name the reasons read the typed value by (computed once, :func:`type_rows`).
    """
    text = _text(column.name, present)
    name = column.name
    if not present and not column.required:
        # No value to type or to refuse: every rule below is null on a null text, and
        # binding them on a constant still cost DuckDB milliseconds a column.
        return f"CAST(NULL AS {_SQL_TYPE[column.dtype]})", []
    reasons: list[str] = []
    if column.required:
        reasons.append(f"CASE WHEN {text} IS NULL THEN 'missing_required: {name} is empty' END")
    if name in table.id_columns:
        # Shown with control characters as '?' so the reason itself stays one clean line.
        shown = _shown(f"regexp_replace({text}, {literal(_CONTROL)}, '?', 'g')")
        reasons.append(
            f"CASE WHEN regexp_matches({text}, {literal(_BAD_ID)}) THEN 'bad_id: {name} ' || "
            f"{shown} || ' starts with =, +, - or @ or holds a control character' END"
        )
        reasons.append(
            f"CASE WHEN regexp_full_match({text}, {literal(EXCEL_NUMBER_ID)}) THEN 'bad_id: "
            f"{name} ' || {shown} || ' is a number Excel wrote in scientific notation, its "
            "digits lost (export the column as text)' END"
        )
        reasons.append(
            f"CASE WHEN length({text}) > {model.MAX_ID_CHARS} THEN 'bad_id: {name} ' || {shown} "
            f"|| ' is longer than {model.MAX_ID_CHARS} characters (another column''s text?)' END"
        )
    bad: str | None = None
    if column.dtype == "str" and column.enum:
        typed = _enum_sql(text, column.enum, column.aliases)
        allowed = ", ".join(column.enum)
        if column.aliases:
            allowed += " or " + ", ".join(a for a, _ in column.aliases)
        bad = f"'bad_enum: {name} ' || {_shown(text)} || ' is not one of {allowed}'"
    elif column.dtype == "str" and table is model.CUSTOMERS and name == "products":
        typed, unknown = _products_sql(text)
        allowed = ", ".join(model.PRODUCTS)
        reasons.append(
            f"CASE WHEN {text} IS NOT NULL AND {unknown} THEN "
            f"'bad_enum: products ' || {_shown(text)} || ' holds a code outside {allowed}' END"
        )
    elif column.dtype == "str" and name == "currency":  # transfers, accounts, guarantees
        typed = normalise.currency_sql(text)
        bad = (
            f"'bad_enum: {name} ' || {_shown(text)} || "
            "' is not an ISO 4217 code or a currency name relgraph knows (人民币, 美元, 港币, 欧元 …)'"
        )
    elif column.dtype == "str":
        typed = text
    elif column.dtype == "int":
        typed = _int_sql(text)
        bad = f"'bad_number: {name} ' || {_shown(text)} || ' is not a whole number'"
    elif column.dtype == "float":
        typed = _float_sql(text)
        if (table.name, name) in _OWED:
            typed = f"abs({typed})"
        bad = f"'bad_number: {name} ' || {_shown(text)} || ' is not a number'"
    elif column.dtype == "bool":
        # One list of words with ``relgraph validate``'s truth labels (``record_rules``).
        true = ", ".join(literal(v) for v in TRUE_WORDS)
        false = ", ".join(literal(v) for v in FALSE_WORDS)
        word = f"lower({_ascii(text)})"
        typed = f"CASE WHEN {word} IN ({true}) THEN true WHEN {word} IN ({false}) THEN false END"
        bad = f"'bad_bool: {name} ' || {_shown(text)} || ' is not true/false, yes/no, 1/0 or 是/否'"
    elif column.dtype == "date":
        typed = date_sql(text)
        timed = f"regexp_matches({_ascii(text)}, {literal(_TIMED)})"
        bad = (
            f"'bad_date: {name} ' || {_shown(text)} || CASE WHEN {timed} "
            "THEN ' has a time part; a date is YYYY-MM-DD' ELSE ' is not a date (YYYY-MM-DD)' END"
            f" || {_number_hint(text)}"
        )
    else:  # timestamp
        typed = timestamp_sql(text, zone)
        bad = (
            f"'bad_timestamp: {name} ' || {_shown(text)} || ' is not an ISO-8601 timestamp' || "
            f"{_number_hint(text)}"
        )
    if column.dtype in ("date", "timestamp"):
        # DuckDB reads year 0000 (1 BC); Python's dates (every reader) start at year 1.
        reasons.append(
            f"CASE WHEN {ref} < {_FIRST_DAY_MS} THEN 'bad_{column.dtype}: {name} ' || "
            f"{_shown(text)} || ' is before the year 1' END"
        )
    if column.not_after_load_date:
        # A time gets the day after too: the source's clock or zone may run a little ahead.
        # Both are days of the load's zone: a time ends with the day after's last moment
        # there (Beijing's, 16:00 UTC), not at UTC midnight, which is 08:00 the day after
        # that; a date is stored as its UTC midnight, so it compares with today's.
        if column.dtype == "timestamp":
            latest, when = midnight_ms(today + timedelta(days=2), today_zone) - 1, "the day after "
        else:
            latest, when = day_ms(today), ""
        reasons.append(
            f"CASE WHEN {ref} > {latest} THEN 'out_of_range: "
            f"{name} ' || {_shown(text)} || ' is after {when}the load date {today}' END"
        )
    if bad is not None:
        reasons.append(f"CASE WHEN {text} IS NOT NULL AND {ref} IS NULL THEN {bad} END")
    if column.min is not None or column.max is not None:
        reasons.append(_range_sql(column, ref))
    return typed, reasons


def _ascii(text: str) -> str:
    """``text`` with full-width digits and signs as ASCII."""
    return normalise.ascii_sql(text)


def _int_sql(text: str) -> str:
    # Plain digits (nearly every value) skip the grouped-number rule.
    plain = f"regexp_full_match({text}, '[+-]?[0-9]{{1,18}}')"
    return f"CASE WHEN {plain} THEN TRY_CAST({text} AS BIGINT) ELSE {_int_general(text)} END"


def _int_general(text: str) -> str:
    return normalise.let_sql(
        _ascii(text),
        lambda v: (
            f"CASE WHEN regexp_matches({v}, {literal(_INT)}) THEN TRY_CAST("
            f"regexp_replace(replace({v}, ',', ''), '\\.0*$', '') AS BIGINT) END"
        ),
        "_i",
    )


def _float_sql(text: str) -> str:
    # Plain decimals (nearly every value) skip the grouped-number rule.
    plain = f"regexp_full_match({text}, '[+-]?[0-9]{{1,15}}(?:\\.[0-9]{{1,15}})?')"
    return f"CASE WHEN {plain} THEN TRY_CAST({text} AS DOUBLE) ELSE {_float_general(text)} END"


def _float_general(text: str) -> str:
    def body(v: str) -> str:
        # ¥ or 元 around it leaves a number (else the whole record went to quarantine).
        v = f"regexp_replace({v}, {literal(_YUAN)}, '\\1\\2\\3')"
        # NaN and infinity are not amounts; 1e999 overflows to infinity.
        number = f"TRY_CAST(replace({v}, ',', '') AS DOUBLE)"
        return (
            f"CASE WHEN regexp_matches({v}, {literal(_FLOAT)}) AND isfinite({number}) "
            f"THEN {number} END"
        )

    return normalise.let_sql(_ascii(text), body, "_f")


def _range_sql(column: model.Column, typed: str) -> str:
    checks: list[str] = []
    if column.min is not None:
        op = "<=" if column.min_exclusive else "<"
        checks.append(f"({typed}) {op} {column.min!r}")
    if column.max is not None:
        checks.append(f"({typed}) > {column.max!r}")
    return (
        f"CASE WHEN {' OR '.join(checks)} THEN 'out_of_range: {column.name} ' || "
        f"CAST({typed} AS VARCHAR) || ' {range_wanted(column)}' END"
    )


def _derived_sql(table: model.Table, raw: RawTable) -> list[str]:
    """Normalised identifier columns ingest adds to customers and enterprises."""

    def derived(rule: Callable[[str], str], column: str, name: str) -> str:
        # Each rule is null on a null text: without a value, only its type is written.
        if raw.rows and column in raw.columns:
            return f"{rule(_text(column, True))} AS {name}"
        return f"CAST(NULL AS VARCHAR) AS {name}"

    if table is model.CUSTOMERS:
        return [
            derived(normalise.name_sql, "name", "name_norm"),
            derived(normalise.id_number_sql, "id_number", "id_number_norm"),
            derived(normalise.phone_sql, "phone", "phone_norm"),
            derived(normalise.email_sql, "email", "email_norm"),
            derived(normalise.address_sql, "address", "address_norm"),
            derived(normalise.phone_ext_sql, "phone", "phone_ext"),
        ]
    if table is model.ENTERPRISES:
        return [
            derived(normalise.phone_sql, "phone", "phone_norm"),
            derived(normalise.address_sql, "address", "address_norm"),
            derived(normalise.credit_code_sql, "credit_code", "credit_code_norm"),
            derived(normalise.phone_ext_sql, "phone", "phone_ext"),
        ]
    return []


def _quality_sql(table: model.Table) -> str | None:
    """``quality_flags`` over the typed and derived columns (``model.QUALITY_FLAGS``)."""
    checks: list[str]
    if table is model.CUSTOMERS:
        idn = "id_number_norm"
        resident = f"regexp_full_match({idn}, '[0-9]{{17}}[0-9X]')"
        old = f"regexp_full_match({idn}, '[0-9]{{15}}')"
        # GB 11643: birth date at characters 7-14 (15-digit ids: YYMMDD of the 1900s at
        # 7-12), sex in character 17 (15) — odd for men.
        encoded_birth = (
            f"CASE WHEN {resident} THEN substr({idn}, 7, 8) "
            f"WHEN {old} THEN '19' || substr({idn}, 7, 6) END"
        )
        sex_digit = (
            f"CASE WHEN {resident} THEN substr({idn}, 17, 1) "
            f"WHEN {old} THEN substr({idn}, 15, 1) END"
        )
        checks = [
            f"CASE WHEN {idn} IS NOT NULL AND NOT {ID_NUMBER_VALID}({idn}) "
            "THEN 'id_number_check' END",
            f"CASE WHEN birth_date IS NOT NULL AND {encoded_birth} "
            "<> strftime(epoch_ms(birth_date), '%Y%m%d') THEN 'birth_date_mismatch' END",
            f"CASE WHEN gender IN ('M', 'F') AND {sex_digit} IS NOT NULL AND gender <> "
            f"CASE WHEN CAST({sex_digit} AS INTEGER) % 2 = 1 THEN 'M' ELSE 'F' END "
            "THEN 'gender_mismatch' END",
        ]
    elif table is model.ENTERPRISES:
        checks = [
            "CASE WHEN NOT "
            f"{normalise.credit_code_valid_sql('credit_code_norm')} THEN 'credit_code_check' END"
        ]
    else:
        return None
    sep = literal(model.QUALITY_FLAG_SEPARATOR)
    return (
        f"NULLIF(array_to_string(list_filter([{', '.join(checks)}], "
        f"lambda x: x IS NOT NULL), {sep}), '')"
    )


def _party_table(table: model.Table, column: str, typed_of: dict[str, str]) -> str:
    """SQL: the table ``column``'s id is looked up in (by its kind column, when it has one)."""
    fk = next(f for f in table.foreign_keys if f.column == column)
    if fk.kind_column is None:
        return literal(next(iter(fk.targets.values())))
    cases = " ".join(f"WHEN {literal(k)} THEN {literal(t)}" for k, t in fk.targets.items())
    return f"(CASE {typed_of[fk.kind_column]} {cases} END)"


def type_rows(
    con: duckdb.DuckDBPyConnection,
    raw: RawTable,
    *,
    zone: ZoneInfo | None = None,
    today: date | None = None,
) -> None:
    """Pass 1: ``typed_<table>`` with typed model columns, derived columns and reasons.

    ``zone``: the zone of naive timestamps (default ``RELGRAPH_SOURCE_TZ``); ``today``:
    the day of the load in that zone (default: now), the latest birth date allowed.
    """
    zone = zone or source_zone()
    today_zone = zone  # the load's day is the bank's, whatever zone one file is written in
    today = today or datetime.now(zone).date()
    if raw.file.timezone:
        # The mapping file's zone for this file, for every naive form the rules read
        # (``20240106 101500``, ``2024年1月6日``, a bare date), not only ISO ones.
        zone = ZoneInfo(raw.file.timezone)
    table = model.TABLES[raw.file.table]
    # Each typed value is computed once, in an inner query beside the raw texts, and the
    # reasons read it by name: written into every reason that tests it, the expressions made
    # the statement two to four times longer, and DuckDB's parse, bind and plan of it were
    # about half of a small load's time.
    typing: list[str] = []
    selects: list[str] = []
    reasons: list[str] = []
    typed_of: dict[str, str] = {}
    for column in table.columns:
        if column.name == "source_system" and raw.source_systems:
            # The bank's own systems (mapping file) replace the model's for this load.
            column = replace(column, enum=raw.source_systems)
        inner = ident(_TYPED + column.name)
        typed, column_reasons = _column_sql(
            table,
            column,
            bool(raw.rows) and column.name in raw.columns,
            zone,
            today,
            today_zone,
            f"r.{inner}",
        )
        typed_of[column.name] = f"r.{inner}"
        typing.append(f"{typed} AS {inner}")
        selects.append(f"r.{inner} AS {ident(column.name)}")
        reasons += column_reasons
    if table.no_self_reference:
        a, b = table.no_self_reference
        ta, tb = _text(a, True), _text(b, True)
        # One id names one party only within one table: customer 1001 holding shares in
        # enterprise 1001, or guaranteeing its loan, is no self-reference.
        same = f"{_party_table(table, a, typed_of)} = {_party_table(table, b, typed_of)}"
        reasons.append(
            f"CASE WHEN {ta} = {tb} AND {same} THEN 'self_reference: {a} and {b} are both ' "
            f"|| {_shown(ta)} END"
        )
    reason_list = "list_filter([" + ", ".join(reasons) + "], lambda x: x IS NOT NULL)"
    if raw.header_rows:
        # A header repeated mid-file is no record: its one reason is that (not bad_date…).
        rows_in = ", ".join(str(n) for n in raw.header_rows)
        reason_list = (
            f"CASE WHEN r.{ROW} IN ({rows_in}) THEN ['repeated_header: the line repeats "
            f"the header row'] ELSE {reason_list} END"
        )
    derived = _derived_sql(table, raw)
    # The inner query passes on the raw texts the reasons and derived columns read, and only
    # those: a file's own column named like a typed value cannot meet it there.
    passed = [f"r.{ROW}", f"r.{LINE}"] + [
        f"r.{ident(c.name)}" for c in table.columns if c.name in raw.columns
    ]
    rows = (
        f"SELECT r.{ROW}, r.{LINE}, {', '.join(selects + derived)}, "  # noqa: S608 - names from the model, values never inlined
        f"CAST({reason_list} AS VARCHAR[]) AS {REASONS} "
        f"FROM (SELECT {', '.join(passed + typing)} FROM {raw.view} r) r"
    )
    quality = _quality_sql(table)
    if quality is not None:
        rows = f"SELECT *, {quality} AS quality_flags FROM ({rows})"  # noqa: S608 - constant SQL
    con.execute(f"CREATE OR REPLACE TEMP TABLE {typed_view(table.name)} AS {rows} ORDER BY {ROW}")


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
    # A key column naming a party names it with its kind: customer 1001 and enterprise 1001
    # are two parties, and a row of each (two stakes, two guarantees) is no duplicate.
    kinds = [
        fk.kind_column for fk in table.foreign_keys if fk.kind_column and fk.column in table.key
    ]
    key = ", ".join(ident(c) for c in (*table.key, *kinds))
    # concat_ws skips an optional key column left empty (a guarantee without its contract).
    key_text = f"concat_ws('|', {', '.join(f'CAST({ident(c)} AS VARCHAR)' for c in table.key)})"
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


def currency_notes(con: duckdb.DuckDBPyConnection, raw: RawTable) -> RawTable:
    """``raw`` with a note when transfers, accounts or guarantees in another currency than
    CNY are loaded: they are in the store and the graph, but the layering scan leaves such
    transfers out and no value counts such balances or guarantees (amounts and thresholds
    are in CNY, and the graph holds no exchange rates)."""
    if raw.file.table not in (model.TRANSFERS.name, model.ACCOUNTS.name, model.GUARANTEES.name):
        return raw
    foreign = count(
        con,
        f"SELECT count(*) FROM {checked_view(raw.file.table)} "  # noqa: S608 - internal names
        f"WHERE len({REASONS}) = 0 AND currency IS NOT NULL "
        f"AND currency <> {literal(model.REPORTING_CURRENCY)}",
    )
    if not foreign:
        return raw
    if raw.file.table == model.ACCOUNTS.name:
        note = (f"{foreign:,} accounts in other currencies than CNY: loaded, but their "
                "balances count in no value (AUM, deposits, loans), which are in CNY")  # fmt: skip
    elif raw.file.table == model.GUARANTEES.name:
        note = (f"{foreign:,} guarantees in other currencies than CNY: loaded (a guarantee "
                "circle counts them), but their amounts count in no group's guarantees or "
                "exposure, which are in CNY")  # fmt: skip
    else:
        note = (f"{foreign:,} transfers in other currencies than CNY: loaded, but left out of "
                "the layering scan, whose amounts and thresholds are in CNY")  # fmt: skip
    return replace(raw, notes=(*raw.notes, note))
