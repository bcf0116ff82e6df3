"""Ingest's normalisation rules for one value at a time, in plain Python.

Ingest normalises whole columns in DuckDB (:mod:`relgraph.ingest.normalise`); the API
needs the same rules for one value a person typed (a search for ``+86 138-0013-8000`` must
find the record stored as ``13800138000``) without a DuckDB connection per request, and may
not import ingest. The rules below repeat the SQL expression by expression (RE2's ``\\s``
is ASCII, DuckDB's ``trim`` removes spaces only); ``tests/ingest/test_normal_form.py``
runs both on the same values and fails when they disagree.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

_MOBILE: Final = re.compile(r"(?:\+86|0086|86)?[ -]?1[0-9]{2}[ -]?[0-9]{4}[ -]?[0-9]{4}")
_EXT_MARKER: Final = re.compile(r"ext|x|转|分机|#")
_EXT_MARKED: Final = re.compile(
    r"^(.*?[0-9].*?)\s*(?:ext\.?|extension|x|转|分机|#)\s*([0-9]{1,6})$", re.ASCII | re.DOTALL
)
_EXT_DASHED: Final = re.compile(r"^(.*[0-9])\s*[-‐–—]\s*([0-9]{1,6})$", re.ASCII | re.DOTALL)
_DASH_TAIL: Final = re.compile(r"[-‐–—]\s*[0-9]{1,6}$", re.ASCII)
_WHOLE: Final = re.compile(r"^(?:1[0-9]{10}|0[0-9]{9,11})$")
_NOT_DIGIT: Final = re.compile(r"[^0-9]+")
_NO_TRUNK: Final = re.compile(r"1[0-9]{10}|[48]00[0-9]{7}|9[56][0-9]{3,6}|1[0-9]{2,4}")
_LIST: Final = re.compile(r"[/,;|、]")
_LISTED_DIGITS: Final = 7
_INTL: Final = re.compile(r"^\s*(?:\+|00)\s*86", re.ASCII)
_COUNTRY: Final = re.compile(r"^(?:0086|86)")
_PLAIN: Final = re.compile(r"^(?:0086|86)([0-9]{11})$")
_ID_SEPARATORS: Final = re.compile(r"[\s\-‐‑‒–—－]+", re.ASCII)
_LATIN: Final = re.compile(r"[A-Za-z]")
NAME_GAPS: Final = "[\\s\\x00-\\x1f\\x7f]+"
"""What separates the parts of a name: whitespace, and control characters (a NUL a system
padded a field with), in Python ``re`` and RE2 alike."""
_SPACES: Final = re.compile(NAME_GAPS, re.ASCII)

PLACEHOLDER: Final = (
    "(?i)[\\s　]*(?:无|空|暂无|没有|不详|未知|未填|null|none|nil|nan|n/a|\\\\n"
    "|[-－—/／.．?？*＊xｘＸ0０]+)[\\s　]*"
)
"""What exports and clerks write for a value that is missing (``NULL``, ``nan``, ``\\N``,
``无``, ``不详``, ``-``, ``00000000000``), as written (before NFKC), in Python ``re`` and RE2
syntax alike. Such a value normalises to null: two strangers who both have ``NULL`` for an
address share nothing, and a shared ``NULL`` would read as strong evidence they are one."""
SCIENTIFIC: Final = "[\\s]*[0-9]+(?:\\.[0-9]+)?[eE]\\+?[0-9]+[\\s]*"
"""A number a spreadsheet turned into ``1.38E+10``: its digits are lost (every mobile from
13750000000 to 13849999999 reads the same), so it is no phone at all."""
FLOAT_TEXT: Final = "[\\s]*([0-9]+)\\.0+[\\s]*"
"""A whole number a spreadsheet wrote as a float (``13900139001.0``): the digits before the
point are the number."""
EMAIL: Final = "[^@\\s]+@[^@\\s]+"
"""An e-mail address has something on each side of one ``@``; anything else (``NULL``,
``无``, ``-``) is no address to share."""
ID_PLACEHOLDER: Final = "(?:无|空|不详|未知|NONE|NULL|NAN|N/?A|-+|0+|X+|\\?+)"
"""What exports write for a missing id number, normalised (upper case, no spaces or hyphens)."""
ID_SCIENTIFIC: Final = "[0-9](?:\\.[0-9]+)?E[+-]?[0-9]+"
"""A normalised id number a spreadsheet turned into ``1.10105E+17``: only six digits are left."""
ID_NO_DOCUMENT: Final = f"{ID_PLACEHOLDER}|{ID_SCIENTIFIC}|(?:0+|1+|2+|3+|4+|5+|6+|7+|8+|9+)[0-9X]?"
"""A normalised id number that names no document (a placeholder, spreadsheet notation, one
digit repeated), in Python ``re`` and RE2 alike: strangers who share one share nothing, so
it links no one (ingest counts these as ``placeholder``, ``scientific_notation`` and
``repeated_digits``)."""
TEXT_FORCED: Final = '^=?"(.*)"$|^\'(.*)$'
"""How spreadsheets are told to keep a long number as text (``="110105198503150019"``,
``'110105198503150019``): the id is what is inside (replace with ``\\1\\2``)."""
_PLACEHOLDER: Final = re.compile(PLACEHOLDER, re.ASCII)
_TEXT_FORCED: Final = re.compile(TEXT_FORCED, re.DOTALL)
_SCIENTIFIC: Final = re.compile(SCIENTIFIC, re.ASCII)
_FLOAT_TEXT: Final = re.compile(FLOAT_TEXT, re.ASCII)
_EMAIL: Final = re.compile(EMAIL, re.ASCII)


_U_UMLAUT: Final = str.maketrans(dict.fromkeys("üǖǘǚǜ", "v") | dict.fromkeys("ÜǕǗǙǛ", "V"))


def toneless(text: str) -> str:
    """Latin text without tone marks, ``ü`` as ``v``: pinyin as hanzi are read (pypinyin's
    tone-less spelling), so ``Zhāng Wěi`` and ``Lǚ Fāng`` name 张伟 and 吕芳. Hanzi and
    Hangul stay as they are.

    >>> toneless("zhāng"), toneless("lǚ"), toneless("LÜ"), toneless("josé"), toneless("김민준")
    ('zhang', 'lv', 'LV', 'jose', '김민준')
    """
    folded = unicodedata.normalize("NFD", text.translate(_U_UMLAUT))
    kept = "".join(c for c in folded if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", kept)


def _nfkc(value: str) -> str:
    return value if value.isascii() else unicodedata.normalize("NFKC", value)


def _null(value: str) -> str | None:
    return value or None


def _national(text: str) -> str:
    t = text.replace("(0)", "")
    digits = _NOT_DIGIT.sub("", t)
    if _INTL.search(t):
        national = _COUNTRY.sub("", digits, count=1)
        if national:
            if _NO_TRUNK.fullmatch(national) or national.startswith("0"):
                return national
            return "0" + national
    return _PLAIN.sub(r"\1", digits, count=1)


def _phone_main(value: str) -> str:
    """The phone text without its extension (``_phone_parts_sql``'s ``main``)."""
    t = _nfkc(value).strip(" ").lower()
    if _LIST.search(t):
        head = _LIST.split(t, maxsplit=1)[0]
        if len(_NOT_DIGIT.sub("", head)) >= _LISTED_DIGITS:
            t = head.strip(" ")
    if re.fullmatch("[0-9]{11}", t):
        return t
    if _EXT_MARKER.search(t):
        marked = _EXT_MARKED.match(t)
        if marked is not None and marked.group(2):
            return marked.group(1)
    if _DASH_TAIL.search(t):
        dashed = _EXT_DASHED.match(t)
        if dashed is not None and dashed.group(2) and _WHOLE.search(_national(dashed.group(1))):
            return dashed.group(1)
    return t


def phone(value: str) -> str | None:
    """The national number's digits, as ingest stores ``phone_norm``.

    >>> phone("+86 138-0013-8000"), phone("+86 (0)10 1234 5678 ext 12")
    ('13800138000', '01012345678')
    >>> phone("+86 400-810-8888"), phone("13800138000／13900139000")
    ('4008108888', '13800138000')
    >>> phone("NULL"), phone("1.38E+10"), phone("13900139001.0")
    (None, None, '13900139001')
    """
    if _MOBILE.fullmatch(value):
        return _NOT_DIGIT.sub("", value)[-11:]
    if _PLACEHOLDER.fullmatch(value) or _SCIENTIFIC.fullmatch(value):
        return None
    floated = _FLOAT_TEXT.fullmatch(value)
    return _null(_national(_phone_main(floated.group(1) if floated else value)))


def email(value: str) -> str | None:
    """NFKC, trimmed of spaces, lower-cased (``email_norm``); null unless it has the shape
    of an address (:data:`EMAIL`).

    >>> email(" Li.Wei@Example.CN "), email("NULL"), email("无")
    ('li.wei@example.cn', None, None)
    """
    text = _nfkc(value).strip(" ").lower()
    return text if _EMAIL.fullmatch(text) else None


def id_number(value: str) -> str | None:
    """NFKC, unwrapped from a spreadsheet's text forcing (:data:`TEXT_FORCED`), spaces
    and hyphens removed, upper-cased (``id_number_norm``).

    >>> id_number("110105-1972 0610 333x"), id_number('="11010519720610333X"')
    ('11010519720610333X', '11010519720610333X')
    """
    text = _nfkc(value)
    if text[:1] in ("=", "'", '"'):
        text = _TEXT_FORCED.sub(r"\1\2", text)
    return _null(_ID_SEPARATORS.sub("", text).upper())


USCC_CHARSET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""GB 32100-2015: the 31 characters of a unified social credit code (no I, O, S, V, Z)."""
USCC_WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
"""GB 32100-2015: weight of each of the first 17 characters (3^i mod 31)."""
ORGANISATION_CODE_LENGTH: Final = 9


def credit_code(value: str) -> str | None:
    """A unified social credit code as ``credit_code_norm`` (the id number's rule)."""
    return id_number(value)


def credit_code_valid(code: str) -> bool:
    """Whether normalised ``code`` is a unified social credit code whose GB 32100-2015 check
    character holds (as ``normalise.credit_code_valid_sql`` decides for a loaded one).

    >>> credit_code_valid("91350100M000100Y43"), credit_code_valid("91350100M000100Y44")
    (True, False)
    """
    if len(code) != 18 or any(c not in USCC_CHARSET for c in code):
        return False
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(code, USCC_WEIGHTS, strict=False))
    return USCC_CHARSET[(31 - total % 31) % 31] == code[17]


def organisation_code(code: str) -> str | None:
    """The organisation code (GB 11714, 组织机构代码) inside a valid unified social credit
    code: characters 9-17, the firm's number before 2015 and still on older records.

    >>> organisation_code("91350100M000100Y43"), organisation_code("91350100M000100Y44")
    ('M000100Y4', None)
    """
    return code[8:17] if credit_code_valid(code) else None


def name(value: str) -> str | None:
    """NFKC, lower-cased, whitespace collapsed — or removed when no Latin letter (``name_norm``).

    >>> name("  ZHU   Tao "), name("张　三")
    ('zhu tao', '张三')
    """
    if _PLACEHOLDER.fullmatch(value):
        return None
    v = _nfkc(value)
    if _LATIN.search(v):
        return _null(_SPACES.sub(" ", v).strip(" ").lower())
    return _null(_SPACES.sub("", v))
