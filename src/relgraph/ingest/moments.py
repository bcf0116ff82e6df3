"""Dates and timestamps as DuckDB SQL: the loader's reading of every form a bank writes.

One definition of the forms (:mod:`relgraph.record_rules`, which the server reads in Python)
and one of the zones: a date is its UTC midnight; a timestamp with an offset is that instant,
one without is wall time in the zone given (``RELGRAPH_SOURCE_TZ`` or the mapping file's);
the load's own day is the bank's, in ``RELGRAPH_SOURCE_TZ``, whatever the server's ``TZ``.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Final
from zoneinfo import ZoneInfo

from relgraph.ingest import normalise
from relgraph.ingest.sql import literal
from relgraph.record_rules import DATE_GROUPS, DATE_PATTERN, TIME_GROUPS, TIMESTAMP_PATTERN

_DATE: Final = DATE_PATTERN
_DATE_GROUPS: Final = DATE_GROUPS
_TIME_GROUPS: Final = TIME_GROUPS
_TIMESTAMP: Final = TIMESTAMP_PATTERN


def _ascii(text: str) -> str:
    """``text`` with full-width digits and signs as ASCII."""
    return normalise.ascii_sql(text)


def _date_text(parts: str) -> str:
    """``YYYY-MM-DD`` from the ``_DATE`` groups of ``parts``."""

    def pick(prefix: str) -> str:
        return (
            "coalesce(" + ", ".join(f"NULLIF({parts}.{prefix}{i}, '')" for i in range(1, 6)) + ")"
        )

    return f"{parts}.y || '-' || lpad({pick('m')}, 2, '0') || '-' || lpad({pick('d')}, 2, '0')"


def date_sql(text: str) -> str:
    """Epoch ms of the UTC midnight of a date, or null."""
    iso = f"regexp_full_match({text}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}')"
    return (
        f"CASE WHEN {iso} THEN epoch_ms(CAST(TRY_CAST({text} AS DATE) AS TIMESTAMP)) "
        f"ELSE {_date_general(text)} END"
    )


def _date_general(text: str) -> str:
    groups = "[" + ", ".join(literal(g) for g in _DATE_GROUPS) + "]"

    def body(v: str) -> str:
        parts = f"regexp_extract({v}, {literal('^' + _DATE + '$')}, {groups})"
        return (
            f"CASE WHEN regexp_full_match({v}, {literal(_DATE)}) THEN "
            f"epoch_ms(CAST(TRY_CAST({_date_text(parts)} AS DATE) AS TIMESTAMP)) END"
        )

    return normalise.let_sql(_ascii(text), body, "_d")


def timestamp_sql(text: str, zone: ZoneInfo) -> str:
    """Epoch ms (UTC) of a timestamp: its own offset honoured, naive ones read in ``zone``."""
    # The usual naive ISO form (nearly every value) skips the general rule, 5× dearer.
    iso = (
        f"regexp_full_match({text}, "
        "'[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\\.[0-9]{1,6})?')"
    )
    local = f"epoch_ms(timezone({literal(zone.key)}, TRY_CAST({text} AS TIMESTAMP)))"
    return f"CASE WHEN {iso} THEN {local} ELSE {_timestamp_general(text, zone)} END"


def _timestamp_general(text: str, zone: ZoneInfo) -> str:
    groups = "[" + ", ".join(literal(g) for g in (*_DATE_GROUPS, *_TIME_GROUPS, "z")) + "]"

    def body(p: str) -> str:
        hour = f"coalesce(NULLIF({p}.h1, ''), NULLIF({p}.h2, ''), '0')"
        minute = f"coalesce(NULLIF({p}.i1, ''), NULLIF({p}.i2, ''), '0')"
        second = f"coalesce(NULLIF({p}.s1, ''), NULLIF({p}.s2, ''), '0')"
        clock = (
            f"lpad({hour}, 2, '0') || ':' || lpad({minute}, 2, '0') || ':' || "
            f"lpad({second}, 2, '0') || {p}.f1"
        )
        naive = f"TRY_CAST({_date_text(p)} || ' ' || {clock} AS TIMESTAMP)"
        # Offset in minutes: ±HH, ±HHMM or ±HH:MM, at most 14 hours (UTC+14 is the last zone).
        digits = f"replace({p}.z, ':', '')"
        minutes = (
            f"(CASE WHEN starts_with({p}.z, '-') THEN -1 ELSE 1 END) * ("
            f"CAST(substr({digits}, 2, 2) AS INTEGER) * 60 + "
            f"coalesce(TRY_CAST(NULLIF(substr({digits}, 4, 2), '') AS INTEGER), 0))"
        )
        within = f"coalesce(TRY_CAST(NULLIF(substr({digits}, 4, 2), '') AS INTEGER), 0)"
        valid_offset = (
            f"CAST(substr({digits}, 2, 2) AS INTEGER) * 60 + {within} <= 840 AND {within} < 60"
        )
        return (
            f"CASE WHEN {p}.y = '' THEN NULL "
            f"WHEN {p}.z = '' THEN epoch_ms(timezone({literal(zone.key)}, {naive})) "
            f"WHEN upper({p}.z) = 'Z' THEN epoch_ms({naive}) "
            f"WHEN {valid_offset} THEN epoch_ms({naive}) - ({minutes}) * 60000 END"
        )

    parts = f"regexp_extract({_ascii(text)}, {literal(_TIMESTAMP)}, {groups})"
    return normalise.let_sql(parts, body, "_ts")


def day_ms(day: date) -> int:
    """Epoch ms of ``day``'s UTC midnight (how dates are stored)."""
    return (day - date(1970, 1, 1)).days * 86_400_000


def midnight_ms(day: date, zone: ZoneInfo) -> int:
    """Epoch ms of ``day``'s first moment in ``zone``."""
    return int(datetime.combine(day, time(), zone).timestamp() * 1000)
