"""Which id numbers are evidence: GB 11643-1999 resident ids and other document numbers.

An id number links records only when it is *valid*:

- a resident id (GB 11643-1999): 18 characters, 17 digits and an ISO 7064 MOD 11-2
  check character; the birth date it encodes is a calendar date and, when the record
  has a birth date or a sex, agrees with them (the 17th digit is odd for men); not
  all one digit (``111111111111111111`` passes the check and is a placeholder);
- a legacy 15-digit resident id (first generation, births in the 1900s), upgraded to
  18 characters (``19`` inserted before the year, check character appended), then
  checked as above — so the old and the new id of one person are one id;
- another document type (a passport ``E12345678``, a Hong Kong/Macau permit): 6 to 20
  letters and digits with at least one letter and one digit. A bank's exports mark
  these by their shape; a string of digits of any other length is no document number.

Everything else never links: wrong length, a bad check character, Excel's scientific
notation (``1.10105E+17``: the digits are gone, only the first six survive), all-same
digits, placeholders (``无``, ``N/A``, ``000000``), birth date or sex contradicting the
record. :func:`id_number_problems` names the reason, for the load report.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from relgraph.normal_form import ID_PLACEHOLDER, ID_SCIENTIFIC
from relgraph.record_rules import ID_CHECK, ID_WEIGHTS

_WEIGHTS: Final = np.array(ID_WEIGHTS)
_CHECK: Final = np.frombuffer(ID_CHECK.encode("ascii"), dtype=np.uint8)

PROBLEMS: Final = (
    "scientific_notation",
    "wrong_length",
    "check_character",
    "repeated_digits",
    "placeholder",
    "bad_birth_date",
    "birth_date_mismatch",
    "sex_mismatch",
)
"""Reason codes of :func:`id_number_problems`, counted per source system in the load report."""

_SCIENTIFIC: Final = f"^{ID_SCIENTIFIC}$"
_PLACEHOLDER: Final = f"^{ID_PLACEHOLDER}$"
_DOCUMENT: Final = r"^(?=.*[A-Z])(?=.*[0-9])[A-Z0-9]{6,20}$"


def check_character(first17: pd.Series) -> pd.Series:
    """The ISO 7064 MOD 11-2 check character of 17-digit strings.

    Examples
    --------
    >>> check_character(pd.Series(["11010519491231002"])).tolist()
    ['X']
    """
    if len(first17) == 0:
        return pd.Series([], dtype=object, index=first17.index)
    codes = first17.to_numpy(dtype="U17").view(np.uint32).reshape(-1, 17)
    digits = (codes - ord("0")).astype(np.int64)
    chars = _CHECK[(digits @ _WEIGHTS) % 11]
    return pd.Series([chr(c) for c in chars], index=first17.index, dtype=object)


def upgrade_legacy(values: pd.Series) -> pd.Series:
    """15-digit resident ids as their 18-character form; everything else as it was.

    Examples
    --------
    >>> upgrade_legacy(pd.Series(["110105491231002", "E1234567"])).tolist()
    ['11010519491231002X', 'E1234567']
    """
    text = values.astype(object)
    legacy = text.where(text.notna(), "").astype(str).str.fullmatch(r"[0-9]{15}")
    if not legacy.any():
        return text
    old = text[legacy].astype(str)
    first17 = old.str[:6] + "19" + old.str[6:]
    out = text.copy()
    out[legacy] = first17 + check_character(first17)
    return out


def id_number_problems(
    values: pd.Series,
    birth_date: pd.Series | None = None,
    gender: pd.Series | None = None,
) -> pd.Series:
    """Per id number the reason it is no evidence (one of :data:`PROBLEMS`), else None.

    ``values`` are normalised (upper case, no spaces or hyphens); 15-digit ids are read in
    their upgraded form. ``birth_date`` (epoch ms or dates) and ``gender`` (``M``/``F``)
    are the record's own columns, checked against what a resident id encodes.

    Examples
    --------
    >>> id_number_problems(pd.Series(["11010519491231002X", "1.10105E+17", "11010519491231002Y",
    ...     "111111111111111111", "无", "1101051949", None, "E12345678"])).tolist()
    [None, 'scientific_notation', 'check_character', 'repeated_digits', 'placeholder', 'wrong_length', None, None]
    """
    raw = values.astype(object).reset_index(drop=True)
    text = upgrade_legacy(raw).where(raw.notna(), "").astype(str)
    present = (raw.notna() & (text != "")).to_numpy(bool)
    out = np.full(len(text), None, dtype=object)

    def mark(rows: npt.NDArray[np.bool_], reason: str) -> None:
        out[rows & present & pd.isna(out)] = reason

    # 17 digits and any last character: a resident id, right or wrong (never a passport).
    resident = text.str.fullmatch(r"[0-9]{17}[0-9A-Z]").to_numpy(bool)
    document = text.str.fullmatch(_DOCUMENT).to_numpy(bool) & ~resident
    mark(text.str.fullmatch(_PLACEHOLDER).to_numpy(bool), "placeholder")
    mark(text.str.fullmatch(_SCIENTIFIC).to_numpy(bool), "scientific_notation")
    mark(~resident & ~document, "wrong_length")
    mark(text.str[:17].str.fullmatch(r"(.)\1*").to_numpy(bool) & resident, "repeated_digits")
    rows = np.flatnonzero(resident & present & pd.isna(out))
    if len(rows):
        ids = text.iloc[rows].reset_index(drop=True)
        check = np.zeros(len(out), bool)
        check[rows] = (check_character(ids.str[:17]) != ids.str[17]).to_numpy(bool)
        mark(check, "check_character")
        encoded = pd.to_datetime(ids.str[6:14], format="%Y%m%d", errors="coerce")
        bad = np.zeros(len(out), bool)
        bad[rows] = encoded.isna().to_numpy(bool)
        mark(bad, "bad_birth_date")
        if birth_date is not None:
            born = as_day(birth_date.reset_index(drop=True).iloc[rows].reset_index(drop=True))
            clash = np.zeros(len(out), bool)
            clash[rows] = (born.notna() & encoded.notna() & (born != encoded)).to_numpy(bool)
            mark(clash, "birth_date_mismatch")
        if gender is not None:
            sex = gender.reset_index(drop=True).iloc[rows].astype(object).reset_index(drop=True)
            odd = ids.str[16].astype(int) % 2 == 1
            clash = np.zeros(len(out), bool)
            clash[rows] = (((sex == "M") & ~odd) | ((sex == "F") & odd)).to_numpy(bool)
            mark(clash, "sex_mismatch")
    return pd.Series(out, index=values.index, dtype=object)


def as_day(values: pd.Series) -> pd.Series:
    """Birth dates (epoch ms, dates or timestamps) as midnight timestamps (NaT if unknown).

    Epoch milliseconds go through integer arithmetic: pandas' float path
    (``to_datetime(unit="ms")`` on float64 with NaN) rounds under
    ``errstate(over="raise")`` and was seen raising a spurious FloatingPointError on a
    100,000-row column in a long-running process (same values fine in a fresh one).
    """
    if pd.api.types.is_numeric_dtype(values):
        ms = values.to_numpy(dtype="float64", na_value=np.nan)
        days = np.full(len(ms), np.datetime64("NaT"), dtype="datetime64[ms]")
        # ±2^53 ms is far beyond any birth date and exact in float64.
        known = np.isfinite(ms) & (np.abs(ms) < 2.0**53)
        days[known] = ms[known].astype(np.int64).astype("datetime64[ms]")
        return pd.Series(days, index=values.index).dt.normalize()
    return pd.to_datetime(values, errors="coerce").dt.normalize()


def valid_id_numbers(
    values: pd.Series,
    birth_date: pd.Series | None = None,
    gender: pd.Series | None = None,
) -> npt.NDArray[np.bool_]:
    """Whether each id number is evidence (see the module docstring).

    Examples
    --------
    >>> valid_id_numbers(pd.Series(["11010519491231002X", "11010519491231002Y", "E1234567",
    ...     "1.10105E+17", None])).tolist()
    [True, False, True, False, False]
    """
    problems = id_number_problems(values, birth_date, gender)
    text = values.astype(object)
    present = text.notna() & (text.where(text.notna(), "").astype(str) != "")
    return (present & problems.isna()).to_numpy(bool)


CONTRADICTED: Final = frozenset({"sex_mismatch", "birth_date_mismatch"})
"""Problems that are the record's, not the number's: its own sex or birth date disagree."""


def well_formed_numbers(
    values: pd.Series, problems: pd.Series, valid: pd.Series
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.bool_]]:
    """Per record its (upgraded) id number, and whether the number is well formed: valid,
    or contradicted only by the record's own sex or birth date (:data:`CONTRADICTED`).
    ``valid``: the valid numbers already upgraded (None elsewhere), as identity resolution
    has them; only the few contradicted ones are upgraded here.

    Two different well-formed numbers are two people, as two different valid ones are: the
    check character catches every single-digit slip and most transpositions, so where a
    record contradicts a well-formed number it is the record's sex or birth date that was
    keyed wrong (a system that gives every customer M), not the number. Read as no evidence
    at all, two 张伟 born the same day merged on name and birth date as soon as one system
    had their sex wrong.

    Examples
    --------
    >>> number, ok = well_formed_numbers(
    ...     pd.Series(["110105491231002", "110105194912310021", None, "11010519491231002X"]),
    ...     pd.Series([None, "check_character", None, "sex_mismatch"]),
    ...     pd.Series(["11010519491231002X", None, None, None]))
    >>> number[ok].tolist(), ok.tolist()
    (['11010519491231002X', '11010519491231002X'], [True, False, False, True])
    """
    contradicted = (problems.isin(list(CONTRADICTED)) & values.notna()).to_numpy(bool)
    number = valid.to_numpy(object).copy()
    number[contradicted] = upgrade_legacy(values[contradicted].astype(object)).to_numpy(object)
    ok = valid.notna().to_numpy(bool) | contradicted
    return number, ok
