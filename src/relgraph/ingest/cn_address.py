"""Chinese postal addresses: province, city and district split off and spelled in full,
the rest normalised — vectorised over Arrow arrays.

The administrative names come from the GB/T 2260 division codes shipped with the
``cpca`` package (its ``adcodes.csv``); the matching is ours, because ``cpca`` parses
one string at a time (about 40,000 a second, half a minute per million addresses)
and does not accept a district written without its suffix (``南山`` for ``南山区``).

Rules:

* every level may be written in full (``广东省``, ``深圳市``, ``南山区``) or without its
  suffix (``广东``, ``深圳``, ``南山``); a level without its suffix counts only next to
  another level it belongs to (``广东深圳``, ``深圳南山``), so a street such as
  ``中山路`` is not read as the city of Zhongshan;
* a city or district is looked up under the level above it when that was found, else
  among the names that are unique in the whole country (``朝阳区`` alone is ambiguous);
* missing upper levels are filled in from the lower one (``深圳市南山区`` is in
  ``广东省``); the city of a municipality (``市辖区``) is not written;
* in the rest, Chinese numerals before a unit become digits (``四段`` → ``4段``,
  ``十二号`` → ``12号``), ``号楼``/``幢``/``座``/``#`` mean ``栋``, ``房`` means ``室``,
  ``第`` before a number goes, and spaces and commas go.

The result is province + city + district + rest, without separators
(``广东省深圳市南山区科技园路200号``), so that every spelling of one address is one value.
This module holds the gazetteer lookup (``heads``) and the numeral conversion
(``numerals``); ``normalise.address_sql`` applies them with the other rules in SQL.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_PROVINCE_SUFFIXES: Final = (
    "维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市",
)  # fmt: skip
_CITY_SUFFIXES: Final = ("自治州", "地区", "盟", "市")
_DISTRICT_SUFFIXES: Final = ("自治县", "自治旗", "新区", "区", "县", "市", "旗")
_NO_CITY: Final = ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划")
"""City-level entries that are not a city a Chinese address names."""

NUMERALS: Final = {
    "〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
_DIGITS: Final = "".join(NUMERALS)
_UNITS: Final = "段|号楼|号|栋|幢|座|单元|室|层|楼|弄|巷|期|组|街坊"
_NUMERAL_RUN: Final = re.compile(f"([{_DIGITS}十百]+)({_UNITS})")
NUMERAL_RUN: Final = f"[{_DIGITS}十百]+(?:{_UNITS})"


@dataclass(frozen=True)
class _Level:
    """One administrative level: its names, and its aliases keyed for lookups by length."""

    full: dict[str, str]
    """Code -> full name."""
    keyed: dict[int, tuple[pa.Array, pa.Array, pa.Array]]
    """Alias length -> (``parent|alias`` keys, codes, whether the alias lacks its suffix)."""
    unique: dict[int, tuple[pa.Array, pa.Array, pa.Array]]
    """Alias length -> (aliases naming one division in the whole country, codes, short)."""


def _aliases(name: str, suffixes: tuple[str, ...]) -> list[tuple[str, bool]]:
    """``name`` itself, and without its suffix when at least two characters remain."""
    out = [(name, False)]
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            out.append((name[: -len(suffix)], True))
            break
    return out


def _by_length(
    rows: dict[str, tuple[str, bool]], length: Callable[[str], int]
) -> dict[int, tuple[pa.Array, pa.Array, pa.Array]]:
    grouped: dict[int, list[tuple[str, str, bool]]] = {}
    for key, (code, short) in rows.items():
        grouped.setdefault(length(key), []).append((key, code, short))
    return {
        size: (
            pa.array([r[0] for r in group], pa.string()),
            pa.array([r[1] for r in group], pa.string()),
            pa.array([r[2] for r in group], pa.bool_()),
        )
        for size, group in grouped.items()
    }


def _level(entries: list[tuple[str, str, str]], suffixes: tuple[str, ...]) -> _Level:
    """``entries``: (code, full name, parent code)."""
    keyed: dict[str, tuple[str, bool]] = {}
    national: dict[str, set[str]] = {}
    short_of: dict[str, bool] = {}
    for code, name, parent in entries:
        for alias, short in _aliases(name, suffixes):
            keyed.setdefault(f"{parent}|{alias}", (code, short))
            national.setdefault(alias, set()).add(code)
            short_of[alias] = short_of.get(alias, True) and short
    unique = {a: (next(iter(c)), short_of[a]) for a, c in national.items() if len(c) == 1}
    return _Level(
        full={c: n for c, n, _ in entries},
        keyed=_by_length(keyed, lambda k: len(k.split("|", 1)[1])),
        unique=_by_length(unique, len),
    )


@cache
def _levels() -> tuple[_Level, _Level, _Level, dict[str, str]]:
    """(provinces, cities, districts, parent of every city and district code)."""
    text = resources.files("cpca.resources").joinpath("adcodes.csv").read_text("utf-8")
    provinces: list[tuple[str, str, str]] = []
    cities: list[tuple[str, str, str]] = []
    districts: list[tuple[str, str, str]] = []
    parent: dict[str, str] = {}
    for row in csv.DictReader(text.splitlines()):
        code, name = row["adcode"], row["name"]
        p, c, d = code[:2], code[:4], code[:6]
        if code[2:] == "0" * 10:
            provinces.append((p, name, ""))
        elif code[4:] == "0" * 8:
            if name not in _NO_CITY:
                cities.append((c, name, p))
            parent[c] = p
        elif code[6:] == "0" * 6 and name not in _NO_CITY:
            districts.append((d, name, c))
            parent[d] = c
    return (
        _level(provinces, _PROVINCE_SUFFIXES),
        _level(cities, _CITY_SUFFIXES),
        _level(districts, _DISTRICT_SUFFIXES),
        parent,
    )


def _match(rest: pa.Array, parent: pa.Array, level: _Level) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Longest alias of ``level`` at the start of ``rest``: (code, its length, suffix-less).

    Looked up under ``parent`` where that is set, else among the nationally unique aliases.
    """
    n = len(rest)
    none = pa.nulls(n, pa.string())
    code, length, short = none, pa.array(np.zeros(n, np.int64)), pa.array(np.zeros(n, bool))
    has_parent = pc.is_valid(parent)
    for size in sorted(set(level.keyed) | set(level.unique), reverse=True):
        prefix = pc.utf8_slice_codeunits(rest, 0, size)
        found, found_short = none, pa.nulls(n, pa.bool_())
        if size in level.keyed:
            keys, codes, shorts = level.keyed[size]
            at = pc.index_in(pc.binary_join_element_wise(parent, prefix, "|"), value_set=keys)
            found, found_short = pc.take(codes, at), pc.take(shorts, at)
        if size in level.unique:
            keys, codes, shorts = level.unique[size]
            at = pc.if_else(
                has_parent, pa.nulls(n, pa.int32()), pc.index_in(prefix, value_set=keys)
            )
            found_short = pc.coalesce(found_short, pc.take(shorts, at))
            found = pc.coalesce(found, pc.take(codes, at))
        hit = pc.fill_null(pc.and_(pc.is_null(code), pc.is_valid(found)), False)
        # A prefix shorter than ``size`` is the whole rest; an alias must be followed by more
        # or be the whole rest, both fine.
        hit = pc.and_(hit, pc.equal(pc.utf8_length(prefix), size))
        code = pc.if_else(hit, found, code)
        length = pc.if_else(hit, size, length)
        short = pc.if_else(hit, pc.fill_null(found_short, False), short)
    return code, length, short


def _slice_from(text: pa.Array, start: pa.Array) -> pa.Array:
    """``text[start:]`` row by row (Arrow slices from one start for the whole array)."""
    out = text
    for size in sorted(set(pc.unique(start).to_pylist()) - {0, None}):
        out = pc.if_else(pc.equal(start, size), pc.utf8_slice_codeunits(text, size), out)
    return out


def _numerals(text: str) -> str:
    """``四段`` → ``4段``, ``十二号`` → ``12号``, ``二百零五号`` → ``205号``."""

    def value(run: str) -> str:
        if "十" not in run and "百" not in run:
            return "".join(str(NUMERALS[c]) for c in run)
        total, digit = 0, 0
        for c in run:
            if c == "百":
                total += (digit or 1) * 100
                digit = 0
            elif c == "十":
                total += (digit or 1) * 10
                digit = 0
            else:
                digit = NUMERALS[c]
        return str(total + digit)

    return _NUMERAL_RUN.sub(lambda m: value(m.group(1)) + m.group(2), text)


def numerals(values: pa.Array) -> pa.Array:
    """Chinese numerals before a unit as digits: ``四段`` → ``4段``, ``十二号`` → ``12号``.

    Python per value, so ``normalise.address_sql`` calls it only on values that hold such
    a numeral (``NUMERAL_RUN``).
    """
    return pa.array(
        [None if v is None else _numerals(v) for v in values.cast(pa.string()).to_pylist()],
        pa.string(),
    )


def heads(values: pa.Array) -> pa.Array:
    """Each address head (the text before its first digit) with province, city and district
    spelled in full (``"广东深圳南山科技园路"`` → ``"广东省深圳市南山区科技园路"``).

    Examples
    --------
    >>> import pyarrow as pa
    >>> heads(pa.array(["深圳市南山区科技园路", "北京朝阳建国路", "中山路"])).to_pylist()
    ['广东省深圳市南山区科技园路', '北京市朝阳区建国路', '中山路']
    """
    # Once per distinct head: a city has far fewer streets than addresses.
    encoded = pc.dictionary_encode(values.cast(pa.string()))
    parsed = _parse_heads(encoded.dictionary, *_levels())
    out: pa.Array = pc.take(parsed, encoded.indices)
    return out


def _parse_heads(
    text: pa.Array,
    provinces: _Level,
    cities: _Level,
    districts: _Level,
    parent_of: dict[str, str],
) -> pa.Array:
    """Per head: province, city and district in full, then the unparsed rest."""
    n = len(text)
    none = pa.nulls(n, pa.string())
    p_code, p_len, p_short = _match(text, none, provinces)
    after_p = _slice_from(text, p_len)
    c_code, c_len, c_short = _match(after_p, p_code, cities)
    after_c = _slice_from(after_p, c_len)
    # Districts sit under the city; in a municipality (no city level) under its 市辖区.
    municipal = pc.fill_null(pc.is_in(p_code, value_set=pa.array(["11", "12", "31", "50"])), False)
    own = pc.binary_join_element_wise(p_code, "01", "")
    d_parent = pc.coalesce(c_code, pc.if_else(municipal, own, none))
    d_code, d_len, d_short = _match(after_c, d_parent, districts)
    # A suffix-less district needs its city (or municipality); a suffix-less city the
    # province or a district after it; a suffix-less province a city or district after it.
    zero = pa.array(np.zeros(n, np.int64))
    drop = pc.and_(d_short, pc.is_null(d_parent))
    d_code, d_len = pc.if_else(drop, none, d_code), pc.if_else(drop, zero, d_len)
    drop = pc.and_(c_short, pc.and_(pc.is_null(p_code), pc.is_null(d_code)))
    c_code, c_len = pc.if_else(drop, none, c_code), pc.if_else(drop, zero, c_len)
    drop = pc.and_(p_short, pc.and_(pc.is_null(c_code), pc.is_null(d_code)))
    p_code, p_len = pc.if_else(drop, none, p_code), pc.if_else(drop, zero, p_len)
    rest = _slice_from(text, pc.add(pc.add(p_len, c_len), d_len))
    # Fill the levels above from the one below.
    parents = pa.array(list(parent_of), pa.string())
    parent_values = pa.array(list(parent_of.values()), pa.string())
    c_code = pc.coalesce(c_code, pc.take(parent_values, pc.index_in(d_code, value_set=parents)))
    p_code = pc.coalesce(p_code, pc.take(parent_values, pc.index_in(c_code, value_set=parents)))
    empty = pa.scalar("", pa.string())
    out: pa.Array = pc.binary_join_element_wise(
        pc.fill_null(_names(p_code, provinces), empty),
        pc.fill_null(_names(c_code, cities), empty),
        pc.fill_null(_names(d_code, districts), empty),
        rest,
        "",
    )
    return out


def _names(code: pa.Array, level: _Level) -> pa.Array:
    codes = pa.array(list(level.full), pa.string())
    names = pa.array(list(level.full.values()), pa.string())
    return pc.take(names, pc.index_in(code, value_set=codes))
