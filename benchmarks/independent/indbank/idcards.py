"""Resident identity numbers (GB 11643-1999) and unified social credit codes (GB 32100-2015).

An 18-character id is a 6-digit region code, the birth date ``YYYYMMDD``, a 3-digit order
code (odd for men, even for women) and a check character by ISO 7064 MOD 11-2: the sum of
each of the 17 digits times ``2**(17 - i) mod 11``, mod 11, indexes ``"10X98765432"``.
Ids issued before 1999 had 15 digits: the region, ``YYMMDD`` and the order code, no check.
"""

from __future__ import annotations

from typing import Final

import numpy as np

_WEIGHTS: Final = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int64)
_CHECK: Final = np.array(list("10X98765432"), dtype=object)
_USCC_CHARS: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS: Final = np.array(
    [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64
)


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """(n, width) array of the decimal digits of ``values``, most significant first."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    digits: np.ndarray = (values[:, None] // powers[None, :]) % 10
    return digits


def check_chars(body17: np.ndarray) -> np.ndarray:
    """ISO 7064 MOD 11-2 check characters of 17-digit bodies (int64)."""
    chars: np.ndarray = _CHECK[(_digits(body17, 17) * _WEIGHTS).sum(axis=1) % 11]
    return chars


def id_numbers(
    region: np.ndarray, birth: np.ndarray, gender: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """18-character ids and their 17-digit bodies.

    ``region`` is the 6-digit code of the birth registration, ``birth`` the birth dates as
    ``datetime64[D]``, ``gender`` "M"/"F". Order codes are random with the gender's parity;
    two people may share an id only by chance one in a thousand within region and date.
    """
    n = region.size
    ymd = birth.astype("datetime64[D]").astype(object)
    yyyymmdd = np.array([d.year * 10000 + d.month * 100 + d.day for d in ymd], dtype=np.int64)
    order = rng.integers(0, 500, size=n) * 2 + (gender == "M").astype(np.int64)
    body = region.astype(np.int64) * 10**11 + yyyymmdd * 1000 + order
    full = np.array([f"{b:017d}" for b in body], dtype=object) + check_chars(body)
    return full, body


def wrong_check(body17: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The body with one of its 17 digits mistyped, keeping the original check character.

    What a clerk's single-digit typo gives: the check no longer verifies.
    """
    good = check_chars(body17)
    pos = rng.integers(0, 17, size=body17.size)
    digit = (body17 // 10 ** (16 - pos)) % 10
    new = (digit + rng.integers(1, 10, size=body17.size)) % 10
    typo = body17 + (new - digit) * 10 ** (16 - pos)
    mistyped: np.ndarray = np.array([f"{b:017d}" for b in typo], dtype=object) + good
    return mistyped


def old_fifteen(body17: np.ndarray) -> np.ndarray:
    """The pre-1999 15-digit form: the century digits and the check character dropped."""
    text = [f"{b:017d}" for b in body17]
    return np.array([t[:6] + t[8:] for t in text], dtype=object)


def excel_mangled(full: np.ndarray) -> np.ndarray:
    """What a spreadsheet shows for an 18-digit number: ``1.10105E+17`` (6 significant digits).

    Ids ending in X stay text in a spreadsheet, so they are not mangled.
    """
    out = []
    for value in full:
        if value.endswith("X"):
            out.append(value)
        else:
            mantissa, exponent = f"{int(value):.5E}".split("E")
            out.append(f"{mantissa.rstrip('0').rstrip('.')}E+{int(exponent)}")
    return np.array(out, dtype=object)


def credit_codes(region: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """18-character unified social credit codes with a valid GB 32100 check character.

    ``91`` (enterprise, company) + region + a random 9-character organisation code (its own
    GB 11714 check is not modelled) + the check character over the first 17 characters.
    """
    n = region.size
    org = rng.integers(0, len(_USCC_CHARS), size=(n, 9))
    head = np.column_stack([np.full(n, 9), np.full(n, 1), _digits(region.astype(np.int64), 6), org])
    total = (head * _USCC_WEIGHTS).sum(axis=1) % 31
    check = (31 - total) % 31
    chars = np.array(list(_USCC_CHARS), dtype=object)
    return np.array(
        ["".join(chars[row]) + chars[c] for row, c in zip(head, check, strict=True)], dtype=object
    )
