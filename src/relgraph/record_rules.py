"""The value rules of one input record, in pure Python, for records that arrive one at a time.

``relgraph load`` checks whole tables with DuckDB SQL (:mod:`relgraph.ingest.validate`);
a running server gets transfers and accounts as JSON (``POST /v1/transfers``) and must
answer in milliseconds, without a database. Both read the same rules from
:mod:`relgraph.model` (required columns, enumerations, ranges, self-references), refuse
the same ids (a spreadsheet formula lead or a control character) and map currencies with
the same table; ``tests/ingest/test_record_rules.py`` runs both on the same records and
holds them to the same decisions. Reasons use the loader's codes (``bad_number`` …).

Timestamps arrive as epoch milliseconds (an integer) or as text in the forms the loader
reads (:data:`TIMESTAMP_PATTERN`, one definition for both: ``2026-06-12 10:00:00``,
``2026/06/12 10:00``, ``20260612 100000``, ``2026年6月12日 10:15``, with or without an
offset); text without an offset is read in the zone given (the server gives the one its store
was loaded under, :func:`relgraph.config.data_zone`) or ``RELGRAPH_SOURCE_TZ``, as the loader
reads it.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Final

from relgraph import model
from relgraph.config import source_zone

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

TRUE_WORDS: Final = ("true", "t", "1", "yes", "y", "是", "同意", "已同意", "允许", "已授权")
FALSE_WORDS: Final = ("false", "f", "0", "no", "n", "否", "不同意", "未同意", "拒绝", "不允许", "未授权")  # fmt: skip
"""How a boolean is written (the loader's ``bool`` columns, ``relgraph validate``'s truth
labels), compared after NFKC and lower-casing: ``ＹＥＳ`` and ``Yes`` are ``yes``, ``１`` is
``1``. The Chinese words are those consent columns are exported with: a refusal written 拒绝
that the loader could not read was quarantined with its row, and the person's other record
saying 是 made them marketable."""

DATE_PATTERN: Final = (
    "([0-9]{4})(?:-([0-9]{1,2})-([0-9]{1,2})|/([0-9]{1,2})/([0-9]{1,2})"
    "|\\.([0-9]{1,2})\\.([0-9]{1,2})|([0-9]{2})([0-9]{2})|年([0-9]{1,2})月([0-9]{1,2})日)"
)
"""A date as banks write it: year, then month and day after ``-``, ``/``, ``.``, nothing
(``20260612``) or in hanzi (``2026年6月12日``). RE2 and Python ``re`` read it alike."""
DATE_GROUPS: Final = ("y", "m1", "d1", "m2", "d2", "m3", "d3", "m4", "d4", "m5", "d5")
_TIME: Final = (
    "(?:[T ]|\\s+)(?:([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(\\.[0-9]{1,9})?)?"
    "|([0-9]{2})([0-9]{2})([0-9]{2}))"
)
TIME_GROUPS: Final = ("h1", "i1", "s1", "f1", "h2", "i2", "s2")
_OFFSET: Final = "\\s*(Z|z|[+-][0-9]{2}(?::?[0-9]{2})?)?"
TIMESTAMP_PATTERN: Final = f"^{DATE_PATTERN}(?:{_TIME})?{_OFFSET}$"
TIMED_PATTERN: Final = f"^{DATE_PATTERN}{_TIME}{_OFFSET}$"
_TIMESTAMP_RE: Final = re.compile(TIMESTAMP_PATTERN)
_DATE_RE: Final = re.compile(f"^{DATE_PATTERN}$")
_DAY_US: Final = 86_400_000_000

FORMULA_START: Final = ("=", "@", "\t", "\r")
"""A text cell starting with one of these is run as a formula (or shifted) by spreadsheets:
exports and quarantine files, opened in spreadsheets, neutralise such cells."""
INERT_SIGNED: Final = r"[+\-][0-9 ()+\-.,]*"
"""A cell starting with ``+`` or ``-`` (which a spreadsheet also runs, OWASP's ``+cmd|…`` and
``-2+3+cmd|…``) that holds only digits and arithmetic (a signed number, a phone written
``+86 138 0013 8000``): without a letter or ``|`` no function, reference or DDE call can be
written, so it is kept as it is (matched whole)."""
_BAD_ID: Final = re.compile(r"^[=+\-@]|[\x00-\x1f\x7f-\x9f]")
"""The loader's ``bad_id`` rule (``ingest.validate._BAD_ID``, RE2 ``\\p{Cc}``) in Python."""
EXCEL_NUMBER_ID: Final = r"[0-9](?:\.[0-9]+)?E\+[0-9]{1,3}"
"""An id Excel turned into a number and saved as it shows it (``6.222E+15`` for account
6222021234567890): the digits past the shown ones are gone, and several accounts read the
same. Refused as ``bad_id`` (Python ``re`` and RE2 alike, matched whole)."""
_EXCEL_NUMBER_ID: Final = re.compile(EXCEL_NUMBER_ID)
ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
"""GB 11643's weights of a resident id's first 17 digits (ISO 7064 MOD 11-2)."""
ID_CHECK: Final = "10X98765432"
"""The check character by the weighted sum modulo 11."""
_LEGACY_ID: Final = re.compile(r"[0-9]{15}")


def upgrade_legacy_id(normal: str) -> str:
    """A 15-digit (first-generation) resident id in its 18-character form, as ingest reads it
    (``relgraph.ingest.id_numbers.upgrade_legacy``, the same for a whole column); any other
    value as it is.

    >>> upgrade_legacy_id("110105491231002")
    '11010519491231002X'
    """
    if not _LEGACY_ID.fullmatch(normal):
        return normal
    first17 = normal[:6] + "19" + normal[6:]
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return first17 + ID_CHECK[total % 11]


_SURROGATE: Final = re.compile("[\ud800-\udfff]")
"""A lone surrogate (JSON allows ``"\\ud800"``): no UTF-8 text holds it, so no journal or
store could write the id."""
_THREE_LETTERS: Final = re.compile(r"[A-Z]{3}")
_NUMBER: Final = re.compile(
    r"[+-]?(?:(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
)
"""The loader's decimal number (``ingest/validate._FLOAT``): ``.5e3`` as well as ``1,000.5``."""
NUMBER_PATTERN: Final = _NUMBER.pattern
"""The same as a pattern a whole value must match (RE2 and Python alike)."""
_YUAN: Final = re.compile(r"([+-]?)\s*¥\s*(.*)|(.*?)\s*元")
"""The loader's amount with a yuan mark (``ingest/validate._YUAN``): ``￥1,200.50``, ``500元``."""


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
        try:
            value = float(raw)
        except OverflowError:  # a JSON integer of hundreds of digits: no float holds it
            return None
    elif isinstance(raw, str):
        text = unicodedata.normalize("NFKC", raw).strip()
        # Only a text with a yuan mark is matched: plain amounts (nearly all) skip the regex.
        if ("¥" in text or "元" in text) and (yuan := _YUAN.fullmatch(text)):
            text = "".join(part or "" for part in yuan.groups())
        if not _NUMBER.fullmatch(text):
            return None
        value = float(text.replace(",", ""))
    else:
        return None
    return value if math.isfinite(value) else None


def _moment(raw: Any, dtype: str, zone: tzinfo) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return stored_day(raw, zone) if dtype == "date" else raw
    if not isinstance(raw, str):
        return None
    text = unicodedata.normalize("NFKC", raw).strip()
    if dtype == "date":
        found = _DATE_RE.match(text)  # a date never holds a time (the loader's rule)
        day = None if found is None else _day(found.groups())
        return None if day is None else day // 1000  # its UTC midnight, as stored
    return timestamp_ms(text, zone)


def stored_day(ms: int, zone: tzinfo) -> int:
    """A date sent as epoch ms, as dates are stored: the UTC midnight of the day the instant
    falls on in ``zone`` (the bank's: Beijing's midnight, 16:00 UTC the day before, is that
    day, not the one before), or ``ms`` itself when it is a UTC midnight already (how a
    client holding dates as days sends them) or no calendar holds it (refused by range).

    >>> from zoneinfo import ZoneInfo
    >>> [stored_day(ms, ZoneInfo("Asia/Shanghai")) for ms in (1740758400000, 1740760200000,
    ...     1740787200000, 1740844800000 - 1)]
    [1740787200000, 1740787200000, 1740787200000, 1740787200000]
    """
    if ms % (_DAY_US // 1000) == 0:
        return ms
    try:
        day = datetime.fromtimestamp(ms / 1000, zone).date()
    except (OverflowError, ValueError, OSError):
        return ms
    return (day - date(1970, 1, 1)).days * (_DAY_US // 1000)


def timestamp_ms(text: str, zone: tzinfo) -> int | None:
    """Epoch ms of ``text`` (NFKC, stripped) as the loader reads a timestamp
    (``ingest.moments.timestamp_sql``), or None: a naive time in ``zone``; ``24:00:00``
    is the next midnight and a fraction rounds to microseconds, as DuckDB casts them; an
    offset of at most 14 hours.

    >>> from zoneinfo import ZoneInfo
    >>> [timestamp_ms(t, ZoneInfo("Asia/Shanghai")) for t in ("2026年6月12日 10:15",
    ...     "20260612 101500+00:00", "2026-06-12T24:00:00Z", "2026-06-12T10", "2026-W24-5")]
    [1781230500000, 1781259300000, 1781308800000, None, None]
    """
    found = _TIMESTAMP_RE.match(text)
    if found is None:
        return None
    g = found.groups()
    day = _day(g)
    hour, minute, second = (int(a or b or 0) for a, b in ((g[11], g[15]), (g[12], g[16]),
                                                          (g[13], g[17])))  # fmt: skip
    fraction = round(int((g[14] or ".")[1:].ljust(9, "0")) / 1000)  # ns → µs, rounded
    whole_day = hour == 24 and minute == second == fraction == 0
    if day is None or minute > 59 or second > 59 or (hour > 23 and not whole_day):
        return None
    local = day + ((hour * 60 + minute) * 60 + second) * 1_000_000 + fraction
    zone_text = g[18]
    if zone_text is None:
        naive = datetime(1970, 1, 1) + timedelta(microseconds=local)
        # A wall time a clock change makes twice (or skips) has two offsets; DuckDB's
        # timezone() takes the smaller (the later 01:30 of a night that falls back, the
        # earlier offset in a gap), and so must the server, or a time written twice a year
        # (Beijing 1986-1991, any zone with summer time) is an hour off the loader's.
        offset = min(
            naive.replace(tzinfo=zone, fold=fold).utcoffset() or timedelta(0) for fold in (0, 1)
        )
        return (local - offset // timedelta(microseconds=1)) // 1000
    if zone_text in ("Z", "z"):
        return local // 1000
    digits = zone_text.replace(":", "")
    hours, minutes = int(digits[1:3]), int(digits[3:5] or 0)
    if hours * 60 + minutes > 14 * 60 or minutes > 59:
        return None
    sign = -1 if digits[0] == "-" else 1
    return (local - sign * (hours * 60 + minutes) * 60_000_000) // 1000


def _day(g: tuple[str | None, ...]) -> int | None:
    """Epoch µs of the UTC midnight of the date in ``DATE_PATTERN``'s groups, or None."""
    month = next(m for m in g[1:11:2] if m)
    day = next(d for d in g[2:11:2] if d)
    try:
        return (date(int(g[0] or 0), int(month), int(day)) - date(1970, 1, 1)).days * _DAY_US
    except ValueError:
        return None


def range_wanted(column: model.Column) -> str:
    """What ``column``'s range asks for, as both the loader's and the server's reasons say it.

    >>> range_wanted(model.TRANSFERS.column("amount"))
    'must be > 0 and ≤ 10,000,000,000,000'
    """

    def bound(value: float) -> str:  # an amount bound with separators, not 1e+13
        return f"{value:,.0f}" if abs(value) >= 1e6 else f"{value:g}"

    wanted = []
    if column.min is not None:
        wanted.append(f"{'>' if column.min_exclusive else '≥'} {bound(column.min)}")
    if column.max is not None:
        wanted.append(f"≤ {bound(column.max)}")
    return "must be " + " and ".join(wanted)


def shown(raw: Any) -> str:
    """``raw`` as a reason quotes it: its repr, cut at 40 characters (an answer stays small
    whatever a client sent)."""
    text = str(raw)
    return repr(text if len(text) <= 40 else text[:40] + "…")


def check_record(table: model.Table, raw: Mapping[str, Any], zone: tzinfo | None = None) -> Checked:
    """``raw`` (one JSON object) checked against ``table``'s column rules; a time without an
    offset, or a date sent in epoch ms, is read in ``zone`` (default ``RELGRAPH_SOURCE_TZ``).

    Foreign keys and keys are the caller's (it knows which rows exist). Unknown members
    are ignored, as the loader ignores columns the model does not know.

    >>> for reason in check_record(model.TRANSFERS, {"tx_id": "T1", "from_account": "A1",
    ...     "to_account": "A1", "amount": "0", "currency": "人民币", "ts": 0}).reasons:
    ...     print(reason)
    out_of_range: amount '0' must be > 0 and ≤ 10,000,000,000,000
    self_reference: from_account 'A1' = to_account 'A1'
    """
    values: dict[str, Any] = {}
    reasons: list[str] = []
    zone = zone or source_zone()
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
            elif (
                _BAD_ID.search(value)
                or _SURROGATE.search(value)
                or _EXCEL_NUMBER_ID.fullmatch(value)
            ):
                reasons.append(f"bad_id: {column.name} {shown(given)}")
                continue
            elif column.name in table.id_columns and len(value) > model.MAX_ID_CHARS:
                reasons.append(
                    f"bad_id: {column.name} {shown(given)} is longer than "
                    f"{model.MAX_ID_CHARS} characters"
                )
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
                reasons.append(f"out_of_range: {column.name} {shown(given)} {range_wanted(column)}")
                continue
        elif column.dtype in ("timestamp", "date"):
            moment = _moment(given, column.dtype, zone)
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


class NestingError(ValueError):
    """JSON nested deeper than the decoder's stack holds (thousands of levels)."""


def json_of(data: bytes) -> Any:
    """Records sent as JSON bytes, read the one way every transfer path reads them
    (``POST /v1/transfers``, a Kafka message): the encoding as ``json`` detects it (RFC 8259
    §8.1: UTF-8 with or without a byte order mark, UTF-16, UTF-32), so what the endpoint
    takes, a topic takes too.

    Raises UnicodeDecodeError (not text in those), json.JSONDecodeError (not JSON) or
    :class:`NestingError`: the decoder recurses, and a body of ``[[[[…`` would otherwise
    end in a RecursionError that no caller expects from bad input.
    """
    try:
        return json.loads(data)
    except RecursionError:
        raise NestingError("nested too deeply") from None
