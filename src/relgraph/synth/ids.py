"""Identifier spaces and check digits: customer, account and device ids, resident ids, credit codes."""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
Chars = NDArray[np.uint8]

# Numbers below the "spare" bound are used by clean rows; dirty rows and unknown foreign keys
# draw from the top of each space so they can never collide with a real key.
CUSTOMER_DIGITS: Final = 8
ENTERPRISE_DIGITS: Final = 7
ACCOUNT_DIGITS: Final = 9
DEVICE_DIGITS: Final = 10
TX_DIGITS: Final = 12
CONTACT_DIGITS: Final = 10
SYSTEM_PREFIXES: Final = ("CB", "CD", "LN", "WM")
"""customer_id prefix per source system, in model.SOURCE_SYSTEMS order."""


def clean_bound(digits: int) -> int:
    """Exclusive upper bound of the numbers used by clean keys in a ``digits``-wide space."""
    return int(9 * 10 ** (digits - 1))


def unique_ints(rng: np.random.Generator, low: int, high: int, n: int) -> IntArray:
    """Draw ``n`` distinct integers from ``[low, high)`` in random order.

    Parameters
    ----------
    rng
        Random stream.
    low, high
        Half-open range; must hold at least ``n`` values.
    n
        How many to draw.

    Returns
    -------
    numpy.ndarray
        ``n`` distinct int64 values.
    """
    if high - low < n:
        raise ValueError(f"cannot draw {n} distinct values from [{low}, {high})")
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if high - low < 4 * n:
        return (rng.permutation(high - low)[:n] + low).astype(np.int64)
    taken = np.zeros(0, dtype=np.int64)
    while taken.size < n:
        draw = rng.integers(low, high, size=int((n - taken.size) * 1.05) + 16, dtype=np.int64)
        merged = np.concatenate([taken, draw])
        _, first = np.unique(merged, return_index=True)
        taken = merged[np.sort(first)]
    return taken[:n]


def digits(numbers: IntArray, width: int) -> Chars:
    """Zero-padded decimal digits (values 0–9) of non-negative numbers, shape ``(n, width)``."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((numbers[:, None] // powers[None, :]) % 10).astype(np.uint8)


def fixed_strings(chars: Chars) -> Any:
    """Build a pyarrow string array from an ``(n, width)`` matrix of ASCII codes."""
    n, width = chars.shape
    offsets = np.arange(n + 1, dtype=np.int32) * width
    data = np.ascontiguousarray(chars, dtype=np.uint8).tobytes()
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data))


def phone_groups(chars: Chars) -> tuple[Any, Any, Any, Any]:
    """Eleven-digit mobiles as text, and their 3-4-4 groups (``138``, ``0013``, ``8000``),
    from which each system's written form is joined."""
    text = fixed_strings(chars)
    return (
        text,
        pc.utf8_slice_codeunits(text, 0, 3),
        pc.utf8_slice_codeunits(text, 3, 7),
        pc.utf8_slice_codeunits(text, 7, 11),
    )


def numbers_text(numbers: IntArray) -> Any:
    """Decimal text of integers, without padding."""
    return pc.cast(pa.array(numbers, type=pa.int64()), pa.string())


def prefixed(prefix: str, numbers: IntArray, width: int) -> Any:
    """``prefix`` followed by each number zero-padded to ``width`` digits (``A000012345``)."""
    padded = pc.cast(pa.array(numbers + 10**width, type=pa.int64()), pa.string())
    # The leading "1" of 10**width + n is exactly the slot the prefix takes.
    return pc.binary_replace_slice(padded, 0, 1, prefix)


def pick(labels: tuple[str, ...] | list[str], index: IntArray) -> Any:
    """Look ``index`` up in a small vocabulary; negative indexes give null."""
    table = pa.array(list(labels), type=pa.string())
    return table.take(pa.array(index, type=pa.int64(), mask=index < 0))


# ISO 7064 MOD 11-2, as used by the 18-character resident identity number (GB 11643-1999).
_ID_WEIGHTS: Final = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ID_CHECK: Final = np.frombuffer(b"10X98765432", dtype=np.uint8)


def resident_id_check(body: Chars) -> NDArray[np.uint8]:
    """ASCII check character for 17-digit resident-id bodies (digit values, shape ``(n, 17)``)."""
    total = body.astype(np.int64) @ _ID_WEIGHTS
    check: NDArray[np.uint8] = np.take(_ID_CHECK, total % 11)
    return check


def resident_ids(
    rng: np.random.Generator, region: IntArray, birth_days: IntArray, male: BoolArray
) -> Chars:
    """Unique 18-character resident identity numbers as an ASCII matrix ``(n, 18)``.

    Parameters
    ----------
    rng
        Random stream for the 3-digit sequence number.
    region
        6-digit administrative region codes.
    birth_days
        Birth dates as days since 1970-01-01.
    male
        Sex; the sequence number is odd for men and even for women.

    Returns
    -------
    numpy.ndarray
        ASCII codes: region, ``YYYYMMDD``, sequence, ISO 7064 MOD 11-2 check character.
    """
    dates = birth_days.astype("datetime64[D]")
    years = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    months = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    days = (dates - dates.astype("datetime64[M]")).astype(np.int64) + 1
    ymd = years * 10_000 + months * 100 + days
    parity = male.astype(np.int64)
    seq = rng.integers(0, 500, size=region.size) * 2 + parity
    # Same region, birthday and sequence would be the same id: redraw the later ones.
    for _ in range(50):
        key = (region * 100_000_000 + ymd) * 1000 + seq
        _, first = np.unique(key, return_index=True)
        dup = np.ones(key.size, dtype=bool)
        dup[first] = False
        if not dup.any():
            break
        seq[dup] = rng.integers(0, 500, size=int(dup.sum())) * 2 + parity[dup]
    else:
        raise RuntimeError("too many people share a region, birthday and sex for unique ids")
    body = np.concatenate([digits(region, 6), digits(ymd, 8), digits(seq, 3)], axis=1)
    chars = np.empty((region.size, 18), dtype=np.uint8)
    chars[:, :17] = body + 48
    chars[:, 17] = resident_id_check(body)
    return chars


# GB 32100-2015 unified social credit code: 31-symbol alphabet without I, O, S, V, Z.
_USCC_ALPHABET: Final = np.frombuffer(b"0123456789ABCDEFGHJKLMNPQRTUWXY", dtype=np.uint8)
_USCC_WEIGHTS: Final = np.array(
    [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64
)
_ORG_WEIGHTS: Final = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)


def credit_codes(rng: np.random.Generator, region: IntArray) -> Any:
    """Unique 18-character unified social credit codes for enterprises registered in ``region``.

    The 9-character organisation code carries its own GB 11714 check character and the whole
    code the GB 32100 mod-31 check character, so a validator accepts them.
    """
    n = region.size
    org = unique_ints(rng, 10_000_000, 100_000_000, n)
    org_digits = digits(org, 8).astype(np.int64)
    org_check = 11 - (org_digits @ _ORG_WEIGHTS) % 11
    # GB 11714: 10 is written X, 11 is written 0; values index the USCC alphabet directly.
    org_check_value = np.where(org_check == 11, 0, np.where(org_check == 10, 29, org_check))
    values = np.concatenate(
        [
            np.tile(np.array([[9, 1]], dtype=np.int64), (n, 1)),
            digits(region, 6).astype(np.int64),
            org_digits,
            org_check_value[:, None],
        ],
        axis=1,
    )
    check = (31 - (values @ _USCC_WEIGHTS) % 31) % 31
    chars = np.empty((n, 18), dtype=np.uint8)
    chars[:, :17] = _USCC_ALPHABET[values]
    chars[:, 17] = _USCC_ALPHABET[check]
    return fixed_strings(chars)
