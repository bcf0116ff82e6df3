"""The columns identity resolution derives for Splink to compare: script-free name keys,
whether a name is hanzi or Latin, address parts to block on, and how common a value is among
people (term frequencies)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from relgraph.normal_form import toneless

_SURNAME_READINGS: Final = {
    "曾": "zeng", "单": "shan", "解": "xie", "查": "zha", "仇": "qiu", "朴": "piao",
    "区": "ou", "盖": "ge", "乐": "yue", "缪": "miao", "翟": "zhai", "覃": "qin",
    "繁": "po", "种": "chong", "秘": "bi", "折": "she", "卜": "bu",
}  # fmt: skip
"""Surnames read otherwise than their character's common reading (曾 is ``ceng`` in a word,
``zeng`` as a surname): the card system embosses ``ZENG WEI`` for 曾伟. pypinyin has no
surname mode (python-pinyin issue 297); these are the single-character surnames of that list
whose pypinyin reading differs."""


_HANZI: Final = re.compile("[\u4e00-\u9fff]")


def _is_hanzi(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


def _readings(chars: set[str]) -> dict[int, str]:
    """``str.translate`` table for hanzi parts: each hanzi to its tone-less reading between
    spaces, anything else deleted (pypinyin's ``errors="ignore"``)."""
    from pypinyin import Style, lazy_pinyin

    table: dict[int, str] = {}
    for char in chars:
        syllables = lazy_pinyin(char, style=Style.NORMAL) if _is_hanzi(char) else []
        table[ord(char)] = f" {syllables[0]} " if syllables else ""
    return table


def _tokens(text: str, table: dict[int, str]) -> list[str]:
    """The name's tokens: a hanzi part as surname and given name in pinyin, a Latin part
    without tone marks (:func:`toneless`); letters and digits only."""
    tokens: list[str] = []
    for part in text.split():
        if _HANZI.search(part):
            syllables = part.translate(table).split()
            if syllables and not tokens and _is_hanzi(part[0]):
                syllables[0] = _SURNAME_READINGS.get(part[0], syllables[0])
            tokens += [syllables[0], "".join(syllables[1:])] if syllables else []
        else:
            tokens.append(toneless(part))
    return [t for t in ("".join(filter(str.isalnum, t)) for t in tokens) if t]


def name_columns(names: pd.Series) -> dict[str, npt.NDArray[np.object_]]:
    """Per record: the name's sorted-token key, its flat key (see :func:`name_keys`), the
    key's first two letters and its first and last tokens (None for no name). Computed once
    per distinct name and spread back by position: a bank has far fewer names than records.
    """
    codes, distinct = pd.factorize(names)
    texts = [unicodedata.normalize("NFKC", str(name)).lower() for name in distinct]
    table = _readings(set("".join(t for t in texts if _HANZI.search(t))))
    columns: dict[str, list[str | None]] = {c: [] for c in ("key", "flat", "head", "first", "last")}
    for text in texts:
        tokens = _tokens(text, table)
        ordered = sorted(tokens)
        key = " ".join(ordered) or None
        columns["key"].append(key)
        columns["flat"].append("".join(tokens) or None)
        columns["head"].append(key[:2] if key else None)
        columns["first"].append(ordered[0] if ordered else None)
        columns["last"].append(ordered[-1] if ordered else None)
    return {column: _spread(values, codes) for column, values in columns.items()}


def _spread(per_value: Sequence[object], codes: npt.NDArray[np.intp]) -> npt.NDArray[np.object_]:
    """Values per distinct value back to every row (``pd.factorize`` codes; -1, a missing
    value, takes the None appended last)."""
    lookup = np.empty(len(per_value) + 1, dtype=object)
    lookup[:-1] = per_value
    lookup[-1] = None
    return lookup[codes]


def name_keys(names: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Script-free keys of names: (sorted tokens, letters in writing order); None for no name.

    A hanzi name becomes tone-less pinyin as two tokens, surname and given name
    (``张小健`` → ``zhang xiaojian``), the way card systems emboss it; Latin names keep
    their tokens. The first key sorts the tokens (``ZHANG XIAOJIAN`` and ``XIAOJIAN ZHANG``
    agree); the second drops the spaces (``zhangxiaojian``, ``zhang xiao jian``).

    Each character is read alone, as a name is (pypinyin's phrase readings would make
    ``于思宇`` ``yu sai yu``), and a name's first character with its surname reading
    (``曾伟`` → ``zeng wei``). Readings are looked up once per distinct character.

    Examples
    --------
    >>> keys, flat = name_keys(pd.Series(["张小健", "XIAOJIAN ZHANG", "zhangxiaojian", None]))
    >>> keys.tolist(), flat.tolist()
    (['xiaojian zhang', 'xiaojian zhang', 'zhangxiaojian', None], ['zhangxiaojian', 'xiaojianzhang', 'zhangxiaojian', None])
    >>> name_keys(pd.Series(["曾思宇", "ZENG SIYU"]))[0].tolist()
    ['siyu zeng', 'siyu zeng']
    """
    columns = name_columns(names)
    return (
        pd.Series(columns["key"], index=names.index, dtype=object),
        pd.Series(columns["flat"], index=names.index, dtype=object),
    )


def _popular_to_null(values: pd.Series, max_block: int) -> pd.Series:
    """Values shared by more than ``max_block`` records as null: they identify nobody.

    >>> _popular_to_null(pd.Series(["a", "a", "b", None]), 1).tolist()
    [None, None, 'b', None]
    """
    codes, _ = pd.factorize(values)
    counts = np.bincount(codes[codes >= 0], minlength=1)
    keep = (codes >= 0) & (counts[np.maximum(codes, 0)] <= max_block)
    return values.astype(object).where(keep, None)


_FIRST_NUMBER: Final = r"(\D{0,4}\d+\D{0,4})"
"""The first number of an address with up to four characters either side: the street and
house number (``12 her`` of ``12 herschell circuit``; ``区长江路110号书香门`` of a Chinese
address, whose province, city and district come first and hold no digit)."""
_FIRST_NUMBERS_CN: Final = r"(\D{0,4}\d+\D{1,6}\d+)"
"""The first two numbers of a Chinese address: the street number and the building
(``区长江路110号书香门第13``); the street number alone names an estate of thousands."""
_LAST_NUMBER: Final = r"(\D{0,4}\d+)\D*$"
"""The last number of a Latin address with up to four characters before it: the postcode
and suburb (``nce 2227``)."""
_LAST_NUMBERS_CN: Final = r"(\D{0,4}\d+\D{1,4}\d+\D{1,4}\d+)\D*$"
"""The last three numbers of a Chinese address: building, unit and flat (``第13栋2单元2001``).
Its last number alone is a flat number, which thousands of buildings share: with a common
surname that block made a million candidate pairs on a 100,000-record bank."""


def _latin(names: pd.Series) -> pd.Series:
    """Whether each name is written in letters (None for no name). A letter typo leaves a
    Latin name part similar; two hanzi names whose pinyin is alike are different characters,
    different names (张 zhang and 庄 zhuang)."""
    hanzi = names.astype(object).str.contains("[\u4e00-\u9fff]", regex=True)
    return (~hanzi.fillna(True).astype(bool)).astype(object).where(names.notna(), None)


def _per_distinct(values: pd.Series, derive: Callable[[pa.Array], pa.Array]) -> pd.Series:
    """``derive`` run once per distinct value (as an Arrow string array, so that regular
    expressions run in Arrow's compute kernels, not one Python call a value) and spread back
    to every row; None where it gives nothing (a missing or empty result). Object dtype
    throughout: pandas 3 would make the results strings and their gaps NaN, not None."""
    codes, distinct = pd.factorize(values)
    derived = derive(pa.array(np.asarray(distinct, dtype=object), pa.string()))
    derived = pc.if_else(pc.equal(derived, ""), None, derived)
    return pd.Series(_spread(derived.to_pylist(), codes), index=values.index, dtype=object)


def _nullable(values: pd.Series | npt.NDArray[np.object_]) -> pd.Series:
    """Values as an object column with None for every gap (Splink's DuckDB reads NaN and
    pandas 3's NA as values, not nulls). Object, not inferred: pandas 3 would make strings
    of it, and the Arrow table Splink reads is built from it once."""
    array = np.array(values, dtype=object)
    array[pd.isna(array)] = None
    return pd.Series(array, dtype=object)


def _address_part(address: pd.Series, latin: str, hanzi: str) -> pd.Series:
    """One regular-expression group of each address, by ``latin`` or, for an address in
    hanzi, by ``hanzi`` (None where it has no number). The patterns are RE2's, ``\\d`` an
    ASCII digit: addresses are NFKC-normalised, full-width digits made ASCII.

    >>> _address_part(pd.Series(["12 herschell circuit 2227", "区长江路110号书香门第13栋", "x", None]),
    ...     _FIRST_NUMBER, _FIRST_NUMBERS_CN).tolist()
    ['12 her', '区长江路110号书香门第13', None, None]
    """

    def derive(distinct: pa.Array) -> pa.Array:
        in_hanzi = pc.match_substring_regex(distinct, "[\u4e00-\u9fff]")
        parts = [
            pc.struct_field(pc.extract_regex(distinct, pattern.replace("(", "(?P<part>", 1)), [0])
            for pattern in (latin, hanzi)
        ]
        return pc.if_else(in_hanzi, parts[1], parts[0])

    return _per_distinct(address, derive)


def _address_slice(address: pd.Series, start: int, stop: int | None) -> pd.Series:
    """A slice of each address's characters (``address[start:stop]``), None for none.

    >>> _address_slice(pd.Series(["广东省深圳市南山区科技园路200号", "1 road", None]), -8, None).tolist()
    ['科技园路200号', '1 road', None]
    """
    return _per_distinct(address, lambda d: pc.utf8_slice_codeunits(d, start, stop))


def _address_numbers(address: pd.Series) -> pd.Series:
    """The numbers of each address in writing order (``26 3 2089``; None without any).
    House, building, unit and flat numbers and a postcode rarely all agree by chance; the
    words around them carry most of the typos.

    Examples
    --------
    >>> _address_numbers(pd.Series(["26 yampi place villa3 2089", "长江路110号13栋", "x", None])).tolist()
    ['26 3 2089', '110 13', None, None]
    """
    return _per_distinct(
        address, lambda d: pc.utf8_trim_whitespace(pc.replace_substring_regex(d, r"\D+", " "))
    )


def person_frequencies(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """How common each value of ``column`` is among *people*, not records.

    Splink's own lookup counts records, so a person held by four source systems makes
    their name four times as common as it is, and the very records that should merge are
    scored as sharing a common name (on FEBRL2, where a person has up to six records, this
    alone cost a tenth of the recall). Records with one value and one birth date count
    once: they are one person or namesakes born on one day, whom no frequency separates.

    Examples
    --------
    >>> f = pd.DataFrame({"name": ["li wei", "li wei", "li wei", "ma lin"],
    ...     "birth_date": ["1990-01-01", "1990-01-01", "1985-05-05", "1990-01-01"]})
    >>> person_frequencies(f, "name").sort_values("name").to_dict("list")
    {'name': ['li wei', 'ma lin'], 'tf_name': [0.6666666666666666, 0.3333333333333333]}
    """
    people = frame[[column, "birth_date"]].dropna(subset=[column]).drop_duplicates()
    counts = people[column].value_counts()
    return pd.DataFrame(
        {column: counts.index.astype(object), f"tf_{column}": counts.to_numpy() / len(people)}
    )


def _tf_columns(model: dict[str, Any]) -> list[str]:
    """The columns the model adjusts for term frequency."""
    return sorted(
        {
            str(level["tf_adjustment_column"])
            for comparison in model["comparisons"]
            for level in comparison["comparison_levels"]
            if level.get("tf_adjustment_column")
        }
    )
