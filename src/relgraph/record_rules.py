"""The value rules of one input record, in pure Python, for records that arrive one at a time.

``relgraph load`` checks whole tables with DuckDB SQL (:mod:`relgraph.ingest.validate`);
a running server gets transfers and accounts as JSON (``POST /v1/transfers``) and must
answer in milliseconds, without a database. Both read the same rules from
:mod:`relgraph.model` (required columns, enumerations, ranges, self-references), refuse
the same ids (a spreadsheet formula lead or a control character) and map currencies with
the same table; ``tests/ingest/test_record_rules.py`` runs both on the same records and
holds them to the same decisions. Reasons use the loader's codes (``bad_number`` …).

Timestamps arrive as epoch milliseconds (an integer) or ISO 8601 text; text without an
offset is read in ``RELGRAPH_SOURCE_TZ``, as the loader reads naive timestamps.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any, Final

from relgraph import model
from relgraph.config import moment_ms, source_zone

CURRENCY_NAMES: Final[dict[str, str]] = {
    "人民币": "CNY", "RMB": "CNY", "元": "CNY", "¥": "CNY", "￥": "CNY", "CNH": "CNY",
    "美元": "USD", "美金": "USD", "US$": "USD", "$": "USD",
    "港币": "HKD", "港元": "HKD", "HK$": "HKD",
    "欧元": "EUR", "€": "EUR",
    "日元": "JPY", "英镑": "GBP", "澳门元": "MOP", "新台币": "TWD",
}  # fmt: skip
"""Names and signs banks write for a currency, upper-cased, and their ISO 4217 code.
Any other three-letter code is kept (upper-cased); anything else is refused. CNH, the
offshore yuan, is the yuan (ISO 4217 has no CNH)."""

_BAD_ID: Final = re.compile(r"^[=+\-@]|[\x00-\x1f\x7f-\x9f]")
"""The loader's ``bad_id`` rule (``ingest.validate._BAD_ID``, RE2 ``\\p{Cc}``) in Python."""
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
"""A lone surrogate (JSON allows ``"\\ud800"``): no UTF-8 text holds it, so no journal or
store could write the id."""
_THREE_LETTERS: Final = re.compile(r"[A-Z]{3}")
_NUMBER: Final = re.compile(
    r"[+-]?(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|[+-]?\.[0-9]+"
)


@dataclass(frozen=True)
class Checked:
    """One record after the rules: its canonical values, or the reasons it is refused."""

    values: dict[str, Any]
    """Canonical values (ids as text, amounts as float, timestamps and dates in epoch ms)."""
    reasons: list[str]
    """``code: column …`` per failed rule, as in the loader's quarantine; empty when valid."""

    @property
    def ok(self) -> bool:
        return not self.reasons


def currency(text: str) -> str | None:
    """The ISO 4217 code of a currency name, sign or code; None when it is none of them."""
    value = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).upper()
    if value in CURRENCY_NAMES:
        return CURRENCY_NAMES[value]
    return value if _THREE_LETTERS.fullmatch(value) else None


def _number(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        value = float(raw)
    elif isinstance(raw, str):
        text = unicodedata.normalize("NFKC", raw).strip()
        if not _NUMBER.fullmatch(text):
            return None
        value = float(text.replace(",", ""))
    else:
        return None
    return value if math.isfinite(value) else None


def _moment(raw: Any, dtype: str) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if not isinstance(raw, str):
        return None
    text = unicodedata.normalize("NFKC", raw).strip()
    try:
        if dtype == "date":
            if len(text) > 10:
                return None  # a date never holds a time (the loader's rule)
            return moment_ms(text, UTC)  # stored as its UTC midnight, as the loader does
        return moment_ms(text.replace(" ", "T", 1), source_zone())
    except ValueError:
        return None


def shown(raw: Any) -> str:
    """``raw`` as a reason quotes it: its repr, cut at 40 characters (an answer stays small
    whatever a client sent)."""
    text = str(raw)
    return repr(text if len(text) <= 40 else text[:40] + "…")


def check_record(table: model.Table, raw: Mapping[str, Any]) -> Checked:
    """``raw`` (one JSON object) checked against ``table``'s column rules.

    Foreign keys and keys are the caller's (it knows which rows exist). Unknown members
    are ignored, as the loader ignores columns the model does not know.

    >>> check_record(model.TRANSFERS, {"tx_id": "T1", "from_account": "A1",
    ...     "to_account": "A1", "amount": "0", "currency": "人民币", "ts": 0}).reasons
    ["out_of_range: amount '0'", "self_reference: from_account 'A1' = to_account 'A1'"]
    """
    values: dict[str, Any] = {}
    reasons: list[str] = []
    for column in table.columns:
        given = raw.get(column.name)
        if given is None or (isinstance(given, str) and not given.strip()):
            if column.required:
                reasons.append(f"missing_required: {column.name}")
            values[column.name] = None
            continue
        value: Any
        if column.dtype == "str":
            if not isinstance(given, str | int) or isinstance(given, bool):
                reasons.append(f"bad_id: {column.name} {shown(given)} is not text")
                continue
            value = str(given).strip()
            if column.name == "currency":
                code = currency(value)
                if code is None:
                    reasons.append(f"bad_enum: currency {shown(given)}")
                    continue
                value = code
            elif column.enum is not None:
                if value.lower() not in column.enum:
                    reasons.append(
                        f"bad_enum: {column.name} {shown(given)} (one of {', '.join(column.enum)})"
                    )
                    continue
                value = value.lower()
            elif _BAD_ID.search(value) or _SURROGATE.search(value):
                reasons.append(f"bad_id: {column.name} {shown(given)}")
                continue
        elif column.dtype in ("float", "int"):
            number = _number(given)
            if number is None or (column.dtype == "int" and number != int(number)):
                reasons.append(f"bad_number: {column.name} {shown(given)}")
                continue
            value = int(number) if column.dtype == "int" else number
            low_ok = column.min is None or (
                value > column.min if column.min_exclusive else value >= column.min
            )
            if not low_ok or (column.max is not None and value > column.max):
                reasons.append(f"out_of_range: {column.name} {shown(given)}")
                continue
        elif column.dtype in ("timestamp", "date"):
            moment = _moment(given, column.dtype)
            if moment is None:
                code = "bad_timestamp" if column.dtype == "timestamp" else "bad_date"
                reasons.append(f"{code}: {column.name} {shown(given)}")
                continue
            value = moment
        else:  # bool: no streamed table has one
            value = given
        values[column.name] = value
    if table.no_self_reference is not None:
        a, b = table.no_self_reference
        if values.get(a) is not None and values.get(a) == values.get(b):
            reasons.append(f"self_reference: {a} {shown(values[a])} = {b} {shown(values[b])}")
    return Checked(values, reasons)
