"""Normalised identifiers and values (phone, email, address, name, id number, credit code,
currency) as vectorised SQL and array functions.

Each rule is written once, as a DuckDB SQL expression builder (``phone_sql`` …), so
that ingest can compute it inside its queries, in parallel, and the array functions
(``phone`` …) apply the very same expression to a column: tests and identity
resolution cannot drift from what ingest stores. An empty result is null.

Every identifier is first brought to Unicode NFKC (``nfkc``, see :mod:`relgraph.ingest.udf`):
full-width digits and letters (``１３８``, ``ＡＢ``) and the ideographic space become
their ASCII forms. Record keys (``customer_id`` …) are *not* normalised: they are the
source systems' own keys, compared exactly across files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from relgraph.ingest.sql import connect, literal
from relgraph.ingest.udf import ADDRESS, NFKC
from relgraph.normal_form import (
    EMAIL,
    FLOAT_TEXT,
    NAME_GAPS,
    PLACEHOLDER,
    SCIENTIFIC,
    TEXT_FORCED,
    USCC_CHARSET,
    USCC_WEIGHTS,
)
from relgraph.record_rules import CURRENCY_NAMES

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
"""Whole address words expanded after lower-casing and removing punctuation (addresses
written in Latin letters; Chinese addresses follow :mod:`relgraph.ingest.cn_address`)."""

# The currency table is shared with the server's record rules (streamed transfers).


_ID_SEPARATORS: Final = "[\\s\\-‐‑‒–—－]+"


def nfkc_sql(expr: str) -> str:
    """SQL for ``expr`` in Unicode NFKC (full-width forms as ASCII)."""
    return f"{NFKC}({expr})"


def ascii_sql(expr: str) -> str:
    """``expr`` in NFKC, computed only where it is not ASCII already (most values are,
    and the test is cheaper than the conversion)."""
    return (
        f"CASE WHEN regexp_matches({expr}, '[^\\x00-\\x7f]') THEN {nfkc_sql(expr)} ELSE {expr} END"
    )


def unless_placeholder_sql(expr: str) -> str:
    """``expr``, or null where it is a placeholder for a missing value (``NULL``, ``nan``,
    ``\\N``, ``无``, ``-``: :data:`relgraph.normal_form.PLACEHOLDER`)."""
    return f"CASE WHEN NOT regexp_full_match({expr}, {literal(PLACEHOLDER)}) THEN {expr} END"


def let_sql(value: str, body: Callable[[str], str], name: str) -> str:
    """SQL evaluating ``value`` once and using it in ``body`` (DuckDB has no LET)."""
    return f"list_transform([{value}], lambda {name}: {body(name)})[1]"


def _national_sql(expr: str) -> str:
    """SQL for the national number in phone text ``expr`` (no extension in it)."""

    def body(t: str) -> str:
        digits = f"regexp_replace({t}, '[^0-9]+', '', 'g')"
        # An explicit international prefix (+86, 0086) goes whatever follows; a landline
        # written after it lacks its trunk 0, which comes back.
        national = f"regexp_replace({digits}, '^(?:0086|86)', '')"
        intl = (
            f"CASE WHEN regexp_full_match({national}, {literal(_NO_TRUNK)}) "
            f"OR starts_with({national}, '0') THEN {national} ELSE '0' || {national} END"
        )
        # Without one, 86 or 0086 goes only when a mainland mobile (11 digits) remains, so
        # short codes and numbers that merely start with 86 keep their digits.
        plain = f"regexp_replace({digits}, '^(?:0086|86)([0-9]{{11}})$', '\\1')"
        return (
            f"CASE WHEN regexp_matches({t}, '^\\s*(?:\\+|00)\\s*86') "
            f"AND length({national}) > 0 THEN {intl} ELSE {plain} END"
        )

    return let_sql(f"replace({expr}, '(0)', '')", body, "_p")


_NO_TRUNK: Final = "1[0-9]{10}|[48]00[0-9]{7}|9[56][0-9]{3,6}|1[0-9]{2,4}"
"""Numbers with no trunk 0 to restore after ``+86``: mobiles, the nationwide 400/800
service numbers, 95/96 short codes (``95588``) and 3–5 digit short codes (``12345``)."""
_LIST: Final = "[/,;|、]"
"""What separates two phones written in one field (``13800138000/13900139000``; full-width
``，；／`` are these after NFKC)."""
_LISTED_DIGITS: Final = 7
"""Digits the first of several listed must have to be taken as a number of its own."""
_EXT_MARKER: Final = "ext|x|转|分机|#"
_EXT_MARKED: Final = "^(.*?[0-9].*?)\\s*(?:ext\\.?|extension|x|转|分机|#)\\s*([0-9]{1,6})$"
"""A number, then an extension marker (``ext 12``, ``x12``, ``转12``, ``分机12``, ``#12``)."""
_EXT_DASHED: Final = "^(.*[0-9])\\s*[-‐–—]\\s*([0-9]{1,6})$"
"""A number, a dash and up to six digits: an extension only when the part before the dash
is already a whole number (``13800138000-12``, ``010-12345678-12``, not ``010-5555-0001``)."""
_WHOLE: Final = "^(?:1[0-9]{10}|0[0-9]{9,11})$"
"""A whole mainland number: a mobile, or a landline with its area code."""


def _phone_parts_sql(expr: str) -> str:
    """SQL for ``{main, ext}``: the phone text without its extension, and the extension."""

    def body(t: str) -> str:
        marked = f"regexp_extract({t}, {literal(_EXT_MARKED)}, ['main', 'ext'])"
        dashed = f"regexp_extract({t}, {literal(_EXT_DASHED)}, ['main', 'ext'])"
        whole = f"regexp_matches({_national_sql(dashed + '.main')}, {literal(_WHOLE)})"
        # Cheap tests first: most phones are a bare mobile number or hold no marker and no
        # dash, and the capturing expressions cost ten times more.
        return (
            f"CASE WHEN regexp_full_match({t}, '[0-9]{{11}}') THEN {{'main': {t}, 'ext': ''}} "
            f"WHEN regexp_matches({t}, {literal(_EXT_MARKER)}) AND {marked}.ext <> '' "
            f"THEN {marked} "
            f"WHEN regexp_matches({t}, '[-‐–—]\\s*[0-9]{{1,6}}$') AND {dashed}.ext <> '' "
            f"AND {whole} THEN {dashed} "
            f"ELSE {{'main': {t}, 'ext': ''}} END"
        )

    def first(t: str) -> str:
        # Of two numbers in one field, the first (the others are not lost: the raw value is
        # kept); a separator inside one number's text leaves it whole.
        head = f"regexp_extract({t}, {literal('^([^' + _LIST[1:-1] + ']*)')}, 1)"
        digits = f"length(regexp_replace({head}, '[^0-9]+', '', 'g'))"
        return (
            f"CASE WHEN regexp_matches({t}, {literal(_LIST)}) AND {digits} >= {_LISTED_DIGITS} "
            f"THEN trim({head}) ELSE {t} END"
        )

    return let_sql(f"lower(trim({nfkc_sql(expr)}))", lambda t: let_sql(first(t), body, "_t"), "_l")


_MOBILE: Final = "(?:\\+86|0086|86)?[ -]?1[0-9]{2}[ -]?[0-9]{4}[ -]?[0-9]{4}"
"""A mainland mobile as most systems write it (``13800138000``, ``+86 138 0013 8000``):
the common case, read without the general rule (several times dearer)."""


def phone_sql(expr: str) -> str:
    """SQL for a normalised phone: the national number's digits (no country code, trunk 0
    kept for landlines, ``(0)`` dropped, extension split off; see ``phone_ext_sql``)."""

    def general(text: str) -> str:
        return f"NULLIF({_national_sql(_phone_parts_sql(text) + '.main')}, '')"

    mobile = f"right(regexp_replace({expr}, '[^0-9]+', '', 'g'), 11)"
    # A placeholder or a number a spreadsheet wrote as 1.38E+10 is no phone; 13900139001.0
    # is 13900139001. Tested after the common case, a plain mobile.
    return (
        f"CASE WHEN regexp_full_match({expr}, {literal(_MOBILE)}) THEN {mobile} "
        f"WHEN regexp_full_match({expr}, {literal(PLACEHOLDER)}) "
        f"OR regexp_full_match({expr}, {literal(SCIENTIFIC)}) THEN NULL "
        f"WHEN regexp_full_match({expr}, {literal(FLOAT_TEXT)}) "
        f"THEN {general(f'regexp_extract({expr}, {literal(FLOAT_TEXT)}, 1)')} "
        f"ELSE {general(expr)} END"
    )


def phone_ext_sql(expr: str) -> str:
    """SQL for a phone's extension (``ext 12``, ``转12``, ``x12``, ``-12`` after a whole number)."""
    # Only text holding a marker or a dash can carry one (full-width forms included).
    maybe = f"regexp_matches({expr}, '[-‐–—－#＃xXｘＸ转分eEｅＥ]')"
    return f"CASE WHEN {maybe} THEN NULLIF({_phone_parts_sql(expr)}.ext, '') END"


def email_sql(expr: str) -> str:
    """SQL for a normalised email: NFKC, trimmed and lower-cased; null unless it has the
    shape of an address (``NULL``, ``无``, ``-`` are none)."""
    text = f"lower(trim({ascii_sql(expr)}))"
    return f"CASE WHEN regexp_full_match({text}, {literal(EMAIL)}) THEN {text} END"


def _latin_address_sql(expr: str) -> str:
    spaced = f"' ' || trim(regexp_replace(lower({expr}), '[^\\p{{L}}\\p{{N}}]+', ' ', 'g')) || ' '"
    # Whole words only: each word is framed by spaces. Twice, because two abbreviations in a
    # row share the space between them. Plain replace, no lambda: a lambda inside the CASE
    # of ``address_sql`` runs four times slower.
    for short, full in ADDRESS_ABBREVIATIONS.items():
        for _ in range(2):
            spaced = f"replace({spaced}, {literal(f' {short} ')}, {literal(f' {full} ')})"
    return f"NULLIF(trim({spaced}), '')"


_ADDRESS_UNITS: Final = (
    ("第([0-9])", "\\1"),
    ("([0-9])(?:号楼|号栋|幢|座|#)", "\\1栋"),
    ("([0-9])房", "\\1室"),
    ("(栋|单元)([0-9]+)$", "\\1\\2室"),
)
"""Rules on a Chinese address after its numerals are digits: ``第3栋`` is ``3栋``,
``3号楼``/``3幢``/``3座``/``3#`` are ``3栋``, ``501房`` is ``501室``, and a number ending
the address after a building or unit is its room (``2单元104`` is ``2单元104室``: one flat,
one family, whether the clerk wrote 室 or not)."""


def _chinese_address_sql(expr: str) -> str:
    # Division names and numerals: cn_address.normalise (per batch, once per distinct head).
    text = f"{ADDRESS}(regexp_replace({nfkc_sql(expr)}, '[\\s,，、]+', '', 'g'))"
    for pattern, replacement in _ADDRESS_UNITS:
        text = f"regexp_replace({text}, {literal(pattern)}, {literal(replacement)}, 'g')"
    return f"NULLIF({text}, '')"


def address_sql(expr: str) -> str:
    """SQL for a normalised address.

    NFKC first. A Chinese address (one holding hanzi): province, city and district in
    full, numerals and building/unit/room words normalised (:mod:`relgraph.ingest.cn_address`),
    no spaces (``广东深圳南山科技园路２００号`` → ``广东省深圳市南山区科技园路200号``).
    Otherwise lower-cased, every run of punctuation or whitespace turned into one space,
    abbreviated words expanded (``rd`` → ``road``, see ``ADDRESS_ABBREVIATIONS``).
    """
    # No lambda (let_sql) and no CASE around the two rules: DuckDB ran both rules on every
    # row that way. Each rule gets null where it does not apply (nulls cost nothing).
    expr = unless_placeholder_sql(expr)
    han = f"regexp_matches({expr}, '\\p{{Han}}')"
    chinese = _chinese_address_sql(f"CASE WHEN {han} THEN {expr} END")
    latin = _latin_address_sql(ascii_sql(f"CASE WHEN NOT {han} THEN {expr} END"))
    return f"coalesce({chinese}, {latin})"


def name_sql(expr: str) -> str:
    """SQL for a normalised name: NFKC, lower-cased, whitespace collapsed to single spaces —
    or removed when the name has no Latin letter (``张　三`` padded to width is ``张三``)."""
    v = ascii_sql(unless_placeholder_sql(expr))
    # Control characters (a NUL a system padded the name with) count as spaces.
    gaps = literal(NAME_GAPS)
    collapsed = f"lower(trim(regexp_replace({v}, {gaps}, ' ', 'g')))"
    return (
        f"NULLIF(CASE WHEN regexp_matches({v}, '[A-Za-z]') THEN {collapsed} "
        f"ELSE regexp_replace({v}, {gaps}, '', 'g') END, '')"
    )


def id_number_sql(expr: str) -> str:
    """SQL for a normalised id number: NFKC, unwrapped from a spreadsheet's text forcing
    (``="110105198503150019"``, ``'110105198503150019``), spaces and hyphens removed,
    upper-cased."""
    text = ascii_sql(expr)
    unwrapped = (
        f"CASE WHEN regexp_matches({text}, '^[=''\"]') "
        f"THEN regexp_replace({text}, {literal(TEXT_FORCED)}, '\\1\\2', 's') ELSE {text} END"
    )
    return f"NULLIF(upper(regexp_replace({unwrapped}, {literal(_ID_SEPARATORS)}, '', 'g')), '')"


def credit_code_sql(expr: str) -> str:
    """SQL for a normalised unified social credit code: NFKC, spaces and hyphens removed,
    upper-cased."""
    return id_number_sql(expr)


def credit_code_valid_sql(code: str) -> str:
    """SQL: whether normalised credit code ``code`` is valid under GB 32100-2015 (18
    characters of ``USCC_CHARSET``, check character = 31 − Σ value·weight mod 31, 31 → 0);
    null when ``code`` is null."""
    charset = literal(USCC_CHARSET)
    total = " + ".join(
        f"(strpos({charset}, substr(_c, {i + 1}, 1)) - 1) * {w}" for i, w in enumerate(USCC_WEIGHTS)
    )
    return let_sql(
        code,
        lambda c: (
            f"CASE WHEN {c} IS NULL THEN NULL "
            f"WHEN NOT regexp_full_match({c}, '[{USCC_CHARSET}]{{18}}') THEN false "
            f"ELSE substr({charset}, (31 - ({total.replace('_c', c)}) % 31) % 31 + 1, 1) "
            f"= substr({c}, 18, 1) END"
        ),
        "_u",
    )


def currency_sql(expr: str) -> str:
    """SQL for an ISO 4217 currency code: a known name or sign mapped (``人民币`` → ``CNY``,
    see ``CURRENCY_NAMES``), another three-letter code upper-cased, else null."""
    cases = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in CURRENCY_NAMES.items())

    def body(v: str) -> str:
        return (
            f"CASE {v} {cases} ELSE CASE WHEN regexp_full_match({v}, '[A-Z]{{3}}') THEN {v} END END"
        )

    codes = ", ".join(literal(c) for c in sorted(set(CURRENCY_NAMES.values())))
    general = let_sql(f"upper(regexp_replace({nfkc_sql(expr)}, '\\s+', '', 'g'))", body, "_cur")
    # A code already right (nearly every value) skips NFKC and the name table.
    return f"CASE WHEN {expr} IN ({codes}) THEN {expr} ELSE {general} END"


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
    out: pa.Array = result.column("v").combine_chunks()
    return out


def phone(values: Values) -> pa.Array:
    """Normalise phone numbers.

    Parameters
    ----------
    values : array-like of str or None
        Phone numbers as written (``"+86 138-0013-8000"``, ``"0086 13800138000"``,
        ``"+86 (0)10 1234 5678 ext 12"``, ``"１３８００１３８０００"`` …).

    Returns
    -------
    pyarrow.Array of str
        The national number's digits (``"13800138000"``, ``"01012345678"``), extension
        split off (see ``phone_ext``); null where no digit is left.
    """
    return _apply(phone_sql, values).cast(pa.string())


def phone_ext(values: Values) -> pa.Array:
    """The extension of each phone number (``"12"`` for ``"010-12345678 转12"``), else null."""
    return _apply(phone_ext_sql, values).cast(pa.string())


def email(values: Values) -> pa.Array:
    """Normalise email addresses.

    Parameters
    ----------
    values : array-like of str or None
        Email addresses as written.

    Returns
    -------
    pyarrow.Array of str
        NFKC, trimmed and lower-cased; null where empty.
    """
    return _apply(email_sql, values).cast(pa.string())


def address(values: Values) -> pa.Array:
    """Normalise postal addresses.

    Parameters
    ----------
    values : array-like of str or None
        Addresses as written (``"Apt 3, 12 Lianhua Rd., Futian Dist."``,
        ``"广东深圳南山科技园路２００号"``).

    Returns
    -------
    pyarrow.Array of str
        Chinese: division names in full, numerals as digits, no spaces
        (``"广东省深圳市南山区科技园路200号"``); otherwise lower-cased, punctuation turned
        into spaces, abbreviations expanded (``"apartment 3 12 lianhua road futian district"``);
        null where empty.
    """
    return _apply(address_sql, values).cast(pa.string())


def name(values: Values) -> pa.Array:
    """Normalise person or company names.

    Parameters
    ----------
    values : array-like of str or None
        Names as written (``"  ZHU   Tao "``, ``"张　三"``).

    Returns
    -------
    pyarrow.Array of str
        Whitespace collapsed, lower-cased (``"zhu tao"``); without whitespace when no
        Latin letter (``"张三"``); null where empty.
    """
    return _apply(name_sql, values).cast(pa.string())


def id_number(values: Values) -> pa.Array:
    """Normalise identity document numbers.

    Parameters
    ----------
    values : array-like of str or None
        Id numbers as written (``"110105-1972 0610 333x"``, full-width digits too).

    Returns
    -------
    pyarrow.Array of str
        Spaces and hyphens removed, upper-cased (``"11010519720610333X"``);
        null where empty.
    """
    return _apply(id_number_sql, values).cast(pa.string())


def credit_code(values: Values) -> pa.Array:
    """Normalise unified social credit codes (NFKC, no spaces or hyphens, upper-case)."""
    return _apply(credit_code_sql, values).cast(pa.string())


def credit_code_valid(values: Values) -> pa.Array:
    """Whether each (normalised) credit code has the right GB 32100-2015 check character.

    Examples
    --------
    >>> credit_code_valid(["91350100M000100Y43", "91350100M000100Y44", None]).to_pylist()
    [True, False, None]
    """
    return _apply(credit_code_valid_sql, values).cast(pa.bool_())


def currency(values: Values) -> pa.Array:
    """ISO 4217 codes (``"人民币"``, ``"rmb"``, ``"元"`` → ``"CNY"``); null when unknown."""
    return _apply(currency_sql, values).cast(pa.string())
