"""The columns identity resolution derives for Splink to compare: script-free name keys,
whether a name is hanzi or Latin, address parts to block on, and how common a value is among
people (term frequencies)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any, Final

import pandas as pd


def name_keys(names: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Script-free keys of names: (sorted tokens, letters in writing order); None for no name.

    A hanzi name becomes tone-less pinyin as two tokens, surname and given name
    (``张小健`` → ``zhang xiaojian``), the way card systems emboss it; Latin names keep
    their tokens. The first key sorts the tokens (``ZHANG XIAOJIAN`` and ``XIAOJIAN ZHANG``
    agree); the second drops the spaces (``zhangxiaojian``, ``zhang xiao jian``). Computed
    once per distinct name (a bank has far fewer names than records).

    Examples
    --------
    >>> keys, flat = name_keys(pd.Series(["张小健", "XIAOJIAN ZHANG", "zhangxiaojian", None]))
    >>> keys.tolist(), flat.tolist()
    (['xiaojian zhang', 'xiaojian zhang', 'zhangxiaojian', None], ['zhangxiaojian', 'xiaojianzhang', 'zhangxiaojian', None])
    """
    from pypinyin import Style, lazy_pinyin

    distinct = pd.unique(names.dropna().astype(str))
    sorted_keys: dict[str, str | None] = {}
    flat_keys: dict[str, str | None] = {}
    for name in distinct:
        text = unicodedata.normalize("NFKC", name).lower()
        tokens: list[str] = []
        for part in text.split():
            if any("\u4e00" <= c <= "\u9fff" for c in part):
                syllables = lazy_pinyin(part, style=Style.NORMAL, errors="ignore")
                tokens += [syllables[0], "".join(syllables[1:])] if syllables else []
            else:
                tokens.append(part)
        tokens = ["".join(c for c in t if c.isalnum()) for t in tokens]
        tokens = [t for t in tokens if t]
        sorted_keys[name] = " ".join(sorted(tokens)) or None
        flat_keys[name] = "".join(tokens) or None
    present = names.notna()
    return (
        names.map(sorted_keys).astype(object).where(present, None),
        names.map(flat_keys).astype(object).where(present, None),
    )


def _popular_to_null(values: pd.Series, max_block: int) -> pd.Series:
    """Values shared by more than ``max_block`` records as null: they identify nobody."""
    counts = values.map(values.value_counts())
    return values.where(values.notna() & (counts <= max_block), None).astype(object)


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


def _hanzi(values: pd.Series) -> pd.Series:
    """Whether each value holds a hanzi (False for None)."""
    found = values.astype(object).str.contains("[\u4e00-\u9fff]", regex=True)
    return found.astype("boolean").fillna(False).astype(bool)


def _latin(names: pd.Series) -> pd.Series:
    """Whether each name is written in letters (None for no name). A letter typo leaves a
    Latin name part similar; two hanzi names whose pinyin is alike are different characters,
    different names (张 zhang and 庄 zhuang)."""
    hanzi = names.astype(object).str.contains("[\u4e00-\u9fff]", regex=True)
    return (~hanzi.fillna(True).astype(bool)).astype(object).where(names.notna(), None)


def _per_distinct(values: pd.Series, derive: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``derive`` run once per distinct value and spread back to every row; None where it
    gives nothing (a missing or empty result). Object dtype throughout: pandas 3 would make
    the results strings and their gaps NaN, not None."""
    distinct = pd.Series(pd.unique(values.dropna()), dtype=object)
    derived = derive(distinct).astype(object)
    derived = derived.where(derived.notna() & (derived != ""), None)
    lookup = dict(zip(distinct.tolist(), derived.tolist(), strict=True))
    mapped = values.map(lookup).astype(object)
    return mapped.where(mapped.notna(), None)


def _address_part(address: pd.Series, pattern: str) -> pd.Series:
    """One regular-expression group of each address (None where it has no number)."""
    return _per_distinct(address, lambda d: d.str.extract(pattern, expand=False))


def _address_numbers(address: pd.Series) -> pd.Series:
    """The numbers of each address in writing order (``26 3 2089``; None without any).
    House, building, unit and flat numbers and a postcode rarely all agree by chance; the
    words around them carry most of the typos.

    Examples
    --------
    >>> _address_numbers(pd.Series(["26 yampi place villa3 2089", "长江路110号13栋", "x", None])).tolist()
    ['26 3 2089', '110 13', None, None]
    """
    return _per_distinct(address, lambda d: d.str.findall(r"\d+").str.join(" "))


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
