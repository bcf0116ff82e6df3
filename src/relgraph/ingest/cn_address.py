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
This module holds the gazetteer lookup and the numeral conversion (``normalise``);
``normalise.address_sql`` applies it, and the building/unit/room rules, in SQL.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Final

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
    """One administrative level: its names, and its aliases for lookups."""

    full: dict[str, str]
    """Code -> full name."""
    keyed: dict[tuple[str, str], tuple[str, bool]]
    """(parent code, alias) -> (code, whether the alias lacks its suffix)."""
    unique: dict[str, tuple[str, bool]]
    """Aliases naming one division in the whole country -> (code, suffix-less)."""
    sizes: tuple[int, ...]
    """Alias lengths, longest first."""


def _aliases(name: str, suffixes: tuple[str, ...]) -> list[tuple[str, bool]]:
    """``name`` itself, and without its suffix when at least two characters remain."""
    out = [(name, False)]
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            out.append((name[: -len(suffix)], True))
            break
    return out


def _level(entries: list[tuple[str, str, str]], suffixes: tuple[str, ...]) -> _Level:
    """``entries``: (code, full name, parent code)."""
    keyed: dict[tuple[str, str], tuple[str, bool]] = {}
    national: dict[str, set[str]] = {}
    short_of: dict[str, bool] = {}
    for code, name, parent in entries:
        for alias, short in _aliases(name, suffixes):
            keyed.setdefault((parent, alias), (code, short))
            national.setdefault(alias, set()).add(code)
            short_of[alias] = short_of.get(alias, True) and short
    unique = {a: (next(iter(c)), short_of[a]) for a, c in national.items() if len(c) == 1}
    sizes = tuple(sorted({len(a) for a in national}, reverse=True))
    return _Level({c: n for c, n, _ in entries}, keyed, unique, sizes)


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


def _match(text: str, parent: str | None, level: _Level) -> tuple[str | None, int, bool]:
    """Longest alias of ``level`` at the start of ``text``: (code, its length, suffix-less).

    Looked up under ``parent`` when that is known, else among the nationally unique aliases.
    """
    for size in level.sizes:
        if len(text) < size:
            continue
        prefix = text[:size]
        hit = level.keyed.get((parent, prefix)) if parent else level.unique.get(prefix)
        if hit is not None:
            return hit[0], size, hit[1]
    return None, 0, False


_MUNICIPALITIES: Final = ("11", "12", "31", "50")


@lru_cache(maxsize=1 << 16)
def _parse_head(text: str) -> str:
    """An address head with province, city and district in full, then the unparsed rest."""
    provinces, cities, districts, parent_of = _levels()
    p, p_len, p_short = _match(text, None, provinces)
    c, c_len, c_short = _match(text[p_len:], p, cities)
    # Districts sit under the city; in a municipality (no city level) under its 市辖区.
    d_parent = c or (p + "01" if p in _MUNICIPALITIES else None)
    d, d_len, d_short = _match(text[p_len + c_len :], d_parent, districts)
    # A suffix-less district needs its city (or municipality); a suffix-less city the
    # province or a district after it; a suffix-less province a city or district after it.
    if d_short and d_parent is None:
        d, d_len = None, 0
    if c_short and p is None and d is None:
        c, c_len = None, 0
    if p_short and c is None and d is None:
        p, p_len = None, 0
    rest = text[p_len + c_len + d_len :]
    # Fill the levels above from the one below.
    c = c or (parent_of.get(d) if d else None)
    p = p or (parent_of.get(c) if c else None)
    names = (
        provinces.full.get(p or "", ""),
        cities.full.get(c or "", ""),
        districts.full.get(d or "", ""),
    )
    return "".join(names) + rest


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


def normalise(values: pa.Array) -> pa.Array:
    """Chinese addresses (NFKC, without spaces or commas) with province, city and district
    spelled in full and numerals before a unit as digits.

    Examples
    --------
    >>> import pyarrow as pa
    >>> normalise(pa.array(["深圳市南山区科技园路200号", "北京朝阳建国路四段1号", "中山路1号"])).to_pylist()
    ['广东省深圳市南山区科技园路200号', '北京市朝阳区建国路4段1号', '中山路1号']
    """
    text = values.cast(pa.string())
    # Division names hold no digit: only the head before the first digit is looked up,
    # once per distinct head (a city has far fewer streets than addresses), and heads seen
    # before come from a cache.
    split = pc.extract_regex(text, r"^(?P<head>[^0-9]*)(?P<tail>.*)$")
    heads = pc.dictionary_encode(pc.struct_field(split, "head"))
    parsed = pa.array([_parse_head(h) for h in heads.dictionary.to_pylist()], pa.string())
    out: pa.Array = pc.binary_join_element_wise(
        pc.take(parsed, heads.indices), pc.struct_field(split, "tail"), ""
    )
    out = pc.if_else(pc.is_valid(text), out, pa.nulls(len(text), pa.string()))
    # Rare (a numeral written in hanzi before a unit): only those rows go through Python.
    mask = pc.fill_null(pc.match_substring_regex(out, NUMERAL_RUN), False)
    if pc.any(mask).as_py():
        converted = [_numerals(v) for v in pc.filter(out, mask).to_pylist()]
        out = pc.replace_with_mask(out, mask, pa.array(converted, pa.string()))
    return out
