"""The ``zh`` locale's text: hanzi names and pinyin, Chinese addresses, ids and phones per system.

Rates of the deliberate defects a real Chinese bank's extract has (documented in the README):
``EXCEL_SHARE`` of id numbers went through Excel and were saved as ``1.10105E+17``,
``BAD_CHECK_SHARE`` carry a wrong check character, and the wealth system writes
``FULL_WIDTH_SHARE`` of its id numbers and phones with full-width digits (``１３８…``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from relgraph.synth import zh_vocab
from relgraph.synth.ids import (
    BoolArray,
    Chars,
    FloatArray,
    IntArray,
    fixed_strings,
    numbers_text,
    phone_groups,
    pick,
)

LOCALES: Final = ("zh", "en")
"""Supported locales; ``zh`` is the command line's default, ``en`` the bank before issue 17."""

SINGLE_GIVEN_SHARE: Final = 0.12
"""Share of persons with a one-character given name (伟, 芳)."""
EXCEL_SHARE: Final = 0.003
"""Share of id numbers (not ending in X) mangled by Excel into ``1.10105E+17``."""
BAD_CHECK_SHARE: Final = 0.005
"""Share of id numbers with a wrong check character (a keying error at onboarding)."""
FULL_WIDTH_SHARE: Final = 0.4
"""Share of the wealth system's id numbers and phones typed with full-width digits."""
SHARED_PHONE_SHARE: Final = 0.25
"""Share of multi-person households where a parent or child gives a relative's phone."""

_CORE, _CARD, _LOAN, _WEALTH = range(4)
_CHECK_CHARS: Final = np.frombuffer(b"0123456789X", dtype=np.uint8)


def surname_weights() -> FloatArray:
    """Population shares of ``zh_vocab.SURNAMES``, normalised to sum to 1."""
    w = np.array([s for _, _, s in zh_vocab.SURNAMES], dtype=np.float64)
    return np.asarray(w / w.sum(), dtype=np.float64)


def _zipf(n: int, exponent: float) -> FloatArray:
    w = 1.0 / np.arange(1, n + 1, dtype=np.float64) ** exponent
    return np.asarray(w / w.sum(), dtype=np.float64)


def given_names(rng: np.random.Generator, male: BoolArray) -> tuple[Any, Any]:
    """One- or two-character given names in hanzi and their pinyin (lower case, run together).

    Characters are drawn by popularity (Zipf weights), so common names repeat as they do
    in a real population.
    """
    n = male.size
    hanzi: list[Any] = []
    pinyin: list[Any] = []
    first: list[IntArray] = []
    # Single names concentrate on a few characters (张伟 is China's most common name); the two
    # characters of a double name are spread wider, and the second slot favours other
    # characters than the first (秀英: 秀 leads, 英 follows), so no one pair dominates.
    for slot, exponent in enumerate((0.5, 0.4, 0.4)):
        chosen = []
        for sex_index, chars in enumerate((zh_vocab.MALE_CHARS, zh_vocab.FEMALE_CHARS)):
            k = len(chars)
            weights = _zipf(k, exponent)
            if slot == 2:
                weights = np.roll(weights, k // 2)
            index = rng.choice(k, size=n, p=weights)
            if slot == 1:
                first.append(index)
            elif slot == 2:
                # Doubled characters (芳芳) are pet names, rare as registered names.
                index = np.where(index == first[sex_index], (index + k // 3) % k, index)
            chosen.append((pick([c for c, _ in chars], index), pick([p for _, p in chars], index)))
        sex = pa.array(male)
        hanzi.append(pc.if_else(sex, chosen[0][0], chosen[1][0]))
        pinyin.append(pc.if_else(sex, chosen[0][1], chosen[1][1]))
    single = pa.array(rng.random(n) < SINGLE_GIVEN_SHARE)
    given = pc.if_else(single, hanzi[0], pc.binary_join_element_wise(hanzi[1], hanzi[2], ""))
    spelled = pc.if_else(single, pinyin[0], pc.binary_join_element_wise(pinyin[1], pinyin[2], ""))
    return given, spelled


def full_width(text: Any) -> Any:
    """``text`` with ASCII digits replaced by full-width ones (``200`` → ``２００``)."""
    for d, wide in enumerate(zh_vocab.FULL_WIDTH_DIGITS):
        text = pc.replace_substring(text, str(d), wide)
    return text


def _where(mask: BoolArray, rewrite: Callable[[Any], Any], text: Any) -> Any:
    """``text`` with ``rewrite`` applied to the rows of ``mask`` only (rewriting all is slow)."""
    rows = np.flatnonzero(mask)
    if rows.size == 0:
        return text
    changed = rewrite(text.take(pa.array(rows))).cast(text.type)
    index = np.arange(len(text), dtype=np.int64)
    index[rows] = len(text) + np.arange(rows.size, dtype=np.int64)
    return pa.concat_arrays([text, changed]).take(pa.array(index))


def card_name(surname_pinyin: Any, given_pinyin: Any) -> Any:
    """The name the card system embosses: pinyin in upper case, ``ZHANG XIUYING``."""
    return pc.utf8_upper(pc.binary_join_element_wise(surname_pinyin, given_pinyin, " "))


def record_names(
    rng: np.random.Generator,
    surname: Any,
    given: Any,
    surname_pinyin: Any,
    given_pinyin: Any,
    system: IntArray,
    primary: BoolArray,
) -> Any:
    """Names as each system stores them: hanzi (sometimes spaced ``王 伟``), card in pinyin."""
    n = system.size
    style = np.where(rng.random(n) < np.where(primary, 0.95, 0.8), 0, rng.integers(1, 3, size=n))
    gap = pick(["", " ", "\u3000"], style)
    hanzi = pc.binary_join_element_wise(surname, gap, given, "")
    return pc.if_else(pa.array(system == _CARD), card_name(surname_pinyin, given_pinyin), hanzi)


def _excel(plain: Any) -> Any:
    """An 18-digit id number as Excel shows it after reading it as a number: ``1.10105E+17``."""
    seven = pc.cast(pc.utf8_slice_codeunits(plain, 0, 7), pa.int64()).to_numpy()
    six = (seven + 5) // 10
    exponent = np.where(six >= 1_000_000, 18, 17)
    six = np.where(six >= 1_000_000, six // 10, six)
    text = numbers_text(six)
    mantissa = pc.utf8_rtrim(pc.utf8_slice_codeunits(text, 1, 6), characters="0")
    head = pc.utf8_slice_codeunits(text, 0, 1)
    dotted = pc.if_else(
        pc.equal(pc.utf8_length(mantissa), 0),
        head,
        pc.binary_join_element_wise(head, mantissa, "."),
    )
    return pc.binary_join_element_wise(dotted, pc.cast(pa.array(exponent), pa.string()), "E+")


def id_numbers(
    rng: np.random.Generator,
    chars: Chars,
    missing: BoolArray,
    system: IntArray,
    primary: BoolArray,
) -> tuple[Any, BoolArray, BoolArray]:
    """Id numbers as each system stores them, with Excel-mangled ones and wrong check characters.

    Returns
    -------
    tuple
        The text, and masks of the rows with a wrong check character and the Excel-mangled ones.
    """
    n = chars.shape[0]
    out = chars.copy()
    bad = (rng.random(n) < BAD_CHECK_SHARE) & ~missing
    rows = np.flatnonzero(bad)
    if rows.size:
        old = np.where(out[rows, 17] == ord("X"), 10, out[rows, 17].astype(np.int64) - 48)
        out[rows, 17] = _CHECK_CHARS[(old + rng.integers(1, 11, size=rows.size)) % 11]
    plain = fixed_strings(out)
    excel = (rng.random(n) < EXCEL_SHARE) & ~missing & ~bad & (out[:, 17] != ord("X"))
    spaced = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(plain, 0, 6),
        pc.utf8_slice_codeunits(plain, 6, 14),
        pc.utf8_slice_codeunits(plain, 14, 18),
        " ",
    )
    style = np.where(rng.random(n) < np.where(primary, 0.97, 0.85), 0, rng.integers(1, 3, size=n))
    text = pc.choose(pa.array(style.astype(np.int8)), plain, spaced, pc.utf8_lower(plain))
    wide = (system == _WEALTH) & (rng.random(n) < FULL_WIDTH_SHARE)
    text = _where(wide, full_width, text)
    text = pc.if_else(pa.array(excel), _where(excel, _excel, plain), text)
    text = pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), text)
    return text, bad, excel


def phones(rng: np.random.Generator, chars: Chars, system: IntArray) -> Any:
    """Mobile numbers as each system stores them; the card system writes ``+86 138 0013 8000``."""
    n = chars.shape[0]
    s, a, b, c = phone_groups(chars)
    forms = (
        s,
        pc.binary_join_element_wise("+86 ", a, " ", b, " ", c, ""),
        pc.binary_join_element_wise(a, "-", b, "-", c, ""),
        pc.binary_join_element_wise("+86 ", s, ""),
        pc.binary_join_element_wise(a, " ", b, " ", c, ""),
    )
    u = rng.random(n)
    style = np.select(
        [system == _CARD, (system == _CORE) & (u < 0.1), (system == _CORE) & (u < 0.15)],
        [1, 2, 3],
        default=np.where((system == _LOAN) & (u < 0.2), 4, 0),
    )
    text = pc.choose(pa.array(style.astype(np.int8)), *forms)
    wide = (system == _WEALTH) & (rng.random(n) < FULL_WIDTH_SHARE)
    return _where(wide, full_width, text)


def _flag(rng: np.random.Generator, varied: BoolArray, share: float) -> Any:
    return pa.array(varied & (rng.random(varied.size) < share))


def address(
    rng: np.random.Generator,
    district: IntArray,
    street: IntArray,
    street_type: IntArray,
    number: IntArray,
    building: IntArray,
    floor: IntArray,
    unit: IntArray,
    variation: float | FloatArray,
    office: bool,
) -> Any:
    """Chinese addresses, ``广东省深圳市南山区科技园路200号3栋1单元502室``, varied per system.

    A varied spelling drops the province or the 省/市 suffixes, puts spaces between the
    parts, writes the section of a long road as ``4段`` rather than ``四段``, the building
    as ``号楼`` or ``幢`` rather than ``栋``, leaves out ``室``, or uses full-width digits.
    """
    n = district.size
    varied = rng.random(n) < variation
    province = pick([p for p, _, _ in zh_vocab.DISTRICTS], district)
    city = pick([c for _, c, _ in zh_vocab.DISTRICTS], district)
    county = pick([d for _, _, d in zh_vocab.DISTRICTS], district)
    province = pc.if_else(
        _flag(rng, varied, 0.3), pc.replace_substring(province, "省", ""), province
    )
    province = pc.if_else(_flag(rng, varied, 0.3), pa.scalar(""), province)
    city = pc.if_else(_flag(rng, varied, 0.25), pc.replace_substring(city, "市", ""), city)
    road = pc.binary_join_element_wise(
        pick(zh_vocab.STREET_NAMES, street), pick(zh_vocab.STREET_TYPES, street_type), ""
    )
    sectioned = np.isin(street, np.array(sorted(zh_vocab.SECTIONED_STREETS)))
    section = number % 4
    section_text = pc.if_else(
        _flag(rng, varied, 0.5),
        pick([str(i + 1) for i in range(4)], section),
        pick(zh_vocab.SECTION_NUMERALS[:4], section),
    )
    section_text = pc.if_else(
        pa.array(sectioned), pc.binary_join_element_wise(section_text, "段", ""), pa.scalar("")
    )
    gap = pc.if_else(_flag(rng, varied, 0.3), pa.scalar(" "), pa.scalar(""))
    block_word = pick(
        ["栋", "号楼", "幢"], np.where(varied, rng.choice(3, size=n, p=(0.5, 0.3, 0.2)), 0)
    )
    parts = [province, city, gap, county, gap, road, section_text, numbers_text(number), "号"]
    if office:
        parts += [numbers_text(building), block_word, numbers_text(floor), "层"]
    else:
        room = floor * 100 + (building + floor) % 4 + 1
        room_word = pc.if_else(_flag(rng, varied, 0.3), pa.scalar(""), pa.scalar("室"))
        parts += [
            numbers_text(building),
            block_word,
            numbers_text(unit),
            "单元",
            numbers_text(room),
            room_word,
        ]
    text = pc.binary_join_element_wise(*parts, "")
    wide = varied & (rng.random(n) < 0.2)
    return _where(wide, full_width, text)
