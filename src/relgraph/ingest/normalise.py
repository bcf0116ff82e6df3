"""Normalised identifiers (phone, email, address, name, id number) as vectorised SQL and array functions.

Each rule is written once, as a DuckDB SQL expression builder (``phone_sql`` …), so
that ingest can compute it inside its queries, in parallel, and the array functions
(``phone`` …) apply the very same expression to a column: tests and identity
resolution cannot drift from what ingest stores. An empty result is null.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from relgraph.ingest.sql import connect, literal

Values: TypeAlias = (
    pa.Array | pa.ChunkedArray | Sequence[str | None] | npt.NDArray[np.object_] | pd.Series
)
"""Anything that is a column of strings (nulls allowed)."""

ADDRESS_ABBREVIATIONS: Final[dict[str, str]] = {
    "rd": "road",
    "st": "street",
    "ave": "avenue",
    "dist": "district",
    "bldg": "building",
    "apt": "apartment",
}
"""Whole address words expanded after lower-casing and removing punctuation."""


def phone_sql(expr: str) -> str:
    """SQL for a normalised phone: digits only, leading ``0086``/``86`` dropped when 11 digits remain."""
    digits = f"regexp_replace({expr}, '[^0-9]+', '', 'g')"
    # The country code goes only when a mainland number (11 digits) remains, so short
    # codes and landlines that merely start with 86 keep their digits.
    return f"NULLIF(regexp_replace({digits}, '^(?:0086|86)([0-9]{{11}})$', '\\1'), '')"


def email_sql(expr: str) -> str:
    """SQL for a normalised email: trimmed and lower-cased."""
    return f"NULLIF(lower(trim({expr})), '')"


def address_sql(expr: str) -> str:
    """SQL for a normalised address.

    Lower-cased, every run of punctuation or whitespace turned into one space,
    abbreviated words expanded (``rd`` → ``road``, see ``ADDRESS_ABBREVIATIONS``).
    """
    words = (
        f"string_split(trim(regexp_replace(lower({expr}), '[^\\p{{L}}\\p{{N}}]+', ' ', 'g')), ' ')"
    )
    expand = " ".join(
        f"WHEN {literal(short)} THEN {literal(full)}"
        for short, full in ADDRESS_ABBREVIATIONS.items()
    )
    # Word by word rather than regex by regex: one pass, and an abbreviation only ever
    # matches a whole word.
    return (
        f"NULLIF(array_to_string(list_transform({words}, "
        f"lambda w: CASE w {expand} ELSE w END), ' '), '')"
    )


def name_sql(expr: str) -> str:
    """SQL for a normalised name: whitespace collapsed to single spaces, lower-cased."""
    return f"NULLIF(lower(trim(regexp_replace({expr}, '\\s+', ' ', 'g'))), '')"


def id_number_sql(expr: str) -> str:
    """SQL for a normalised id number: spaces and hyphens removed, upper-cased."""
    return f"NULLIF(upper(regexp_replace({expr}, '[\\s\\-‐‑‒–—－]+', '', 'g')), '')"


def _apply(sql: Callable[[str], str], values: Values) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        column = values.combine_chunks() if values.num_chunks else pa.array([], pa.string())
    elif isinstance(values, pa.Array):
        column = values
    elif isinstance(values, pd.Series):
        column = pa.array(values.astype(object).where(values.notna(), None), pa.string())
    else:
        column = pa.array(list(values), pa.string())
    column = column.cast(pa.string())
    con = connect()
    try:
        con.register("_values", pa.table({"v": column}))
        result = con.sql(f"SELECT {sql('v')} AS v FROM _values").to_arrow_table()  # noqa: S608 - expression built from constants
    finally:
        con.close()
    out: pa.Array = result.column("v").combine_chunks().cast(pa.string())
    return out


def phone(values: Values) -> pa.Array:
    """Normalise phone numbers.

    Parameters
    ----------
    values : array-like of str or None
        Phone numbers as written (``"+86 138-0013-8000"``, ``"0086 13800138000"`` …).

    Returns
    -------
    pyarrow.Array of str
        Digits only, without a leading ``0086`` or ``86`` when 11 digits remain
        (``"13800138000"``); null where no digit is left.
    """
    return _apply(phone_sql, values)


def email(values: Values) -> pa.Array:
    """Normalise email addresses.

    Parameters
    ----------
    values : array-like of str or None
        Email addresses as written.

    Returns
    -------
    pyarrow.Array of str
        Trimmed and lower-cased; null where empty.
    """
    return _apply(email_sql, values)


def address(values: Values) -> pa.Array:
    """Normalise postal addresses.

    Parameters
    ----------
    values : array-like of str or None
        Addresses as written (``"Apt 3, 12 Lianhua Rd., Futian Dist."``).

    Returns
    -------
    pyarrow.Array of str
        Lower-cased, punctuation turned into spaces, abbreviations expanded,
        whitespace collapsed (``"apartment 3 12 lianhua road futian district"``);
        null where empty.
    """
    return _apply(address_sql, values)


def name(values: Values) -> pa.Array:
    """Normalise person or company names.

    Parameters
    ----------
    values : array-like of str or None
        Names as written (``"  ZHU   Tao "``).

    Returns
    -------
    pyarrow.Array of str
        Whitespace collapsed, lower-cased (``"zhu tao"``); null where empty.
    """
    return _apply(name_sql, values)


def id_number(values: Values) -> pa.Array:
    """Normalise identity document numbers.

    Parameters
    ----------
    values : array-like of str or None
        Id numbers as written (``"110105-1972 0610 333x"``).

    Returns
    -------
    pyarrow.Array of str
        Spaces and hyphens removed, upper-cased (``"11010519720610333X"``);
        null where empty.
    """
    return _apply(id_number_sql, values)
