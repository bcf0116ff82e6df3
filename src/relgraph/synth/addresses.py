"""Unique street addresses and their many spellings (abbreviations, separators, case)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from relgraph.synth import vocab, zh, zh_vocab
from relgraph.synth.ids import FloatArray, IntArray, numbers_text, pick, unique_ints

_N_DISTRICTS = len(vocab.DISTRICTS)
_N_STREETS = len(vocab.STREET_NAMES)
_N_TYPES = len(vocab.STREET_TYPES)
_MAX_NUMBER = 999
_MAX_BUILDING = 40
_FLOORS = 33
_UNITS = 6


@dataclass(frozen=True)
class Addresses:
    """Address components, one entry per dwelling or office; every combination is distinct."""

    district: IntArray
    street: IntArray
    street_type: IntArray
    number: IntArray
    building: IntArray
    floor: IntArray
    unit: IntArray

    @property
    def city(self) -> IntArray:
        """Index of the city in :func:`cities`."""
        return _CITY_OF_DISTRICT[self.district]


def cities(locale: str = "en") -> tuple[str, ...]:
    """Distinct city names, in first-seen order of ``vocab.DISTRICTS`` (hanzi in ``zh``)."""
    if locale == "zh":
        return tuple(dict.fromkeys(d[1] for d in zh_vocab.DISTRICTS))
    return tuple(dict.fromkeys(d[0] for d in vocab.DISTRICTS))


_CITY_OF_DISTRICT = np.array([cities().index(d[0]) for d in vocab.DISTRICTS], dtype=np.int64)


def draw(rng: np.random.Generator, n: int) -> Addresses:
    """Draw ``n`` distinct addresses.

    Parameters
    ----------
    rng
        Random stream.
    n
        Number of addresses.

    Returns
    -------
    Addresses
        Components of each address.
    """
    radices = (_N_DISTRICTS, _N_STREETS, _N_TYPES, _MAX_NUMBER, _MAX_BUILDING, _FLOORS, _UNITS)
    code = unique_ints(rng, 0, int(np.prod(np.array(radices, dtype=np.int64))), n)
    parts: list[IntArray] = []
    for radix in reversed(radices):
        parts.append(code % radix)
        code = code // radix
    unit, floor, building, number, street_type, street, district = parts
    return Addresses(
        district=district,
        street=street,
        street_type=street_type,
        number=number + 1,
        building=building + 1,
        floor=floor + 1,
        unit=unit + 1,
    )


def _word(rng: np.random.Generator, pair: tuple[str, str], varied: Any) -> Any:
    # 0 full word, 1 abbreviation, 2 abbreviation with a dot: all normalise to the full word.
    style = np.where(varied, rng.integers(0, 3, size=varied.size), 0)
    return pick([pair[0], pair[1], pair[1] + "."], style)


def render(
    rng: np.random.Generator,
    addresses: Addresses,
    rows: IntArray,
    variation: float | FloatArray,
    office: bool,
    locale: str = "en",
) -> Any:
    """Spell the addresses ``rows`` as text, each varied with probability ``variation`` (per row).

    The canonical spelling is ``Apartment 1203, Building 5, 88 Jianguo Road, Chaoyang District,
    Beijing`` (``Floor 12, 88 Jianguo Road, …`` for an office). A varied spelling abbreviates
    words (``Apt``, ``Bldg.``, ``Rd.``, ``St``, ``Ave.``, ``Dist.``), drops or doubles separators
    and changes case — all of which the ingest normaliser maps back to the same text.
    The zh locale writes Chinese addresses instead (:func:`relgraph.synth.zh.address`).
    """
    if locale == "zh":
        return zh.address(
            rng,
            addresses.district[rows],
            addresses.street[rows],
            addresses.street_type[rows],
            addresses.number[rows],
            addresses.building[rows],
            addresses.floor[rows],
            addresses.unit[rows],
            variation,
            office,
        )
    n = rows.size
    varied = rng.random(n) < variation
    district = addresses.district[rows]
    sep_style = np.where(varied, rng.integers(0, 4, size=n), 0)
    sep = pick([", ", " ", ",", " ,"], sep_style)
    street_type = addresses.street_type[rows]
    type_word = pc.choose(
        pa.array(street_type.astype(np.int8)),
        *[_word(rng, pair, varied) for pair in vocab.STREET_TYPES],
    )
    street_part = [
        numbers_text(addresses.number[rows]),
        " ",
        pick(vocab.STREET_NAMES, addresses.street[rows]),
        " ",
        type_word,
        sep,
        pick([d[1] for d in vocab.DISTRICTS], district),
        " ",
        _word(rng, vocab.DISTRICT, varied),
        sep,
        pick([d[0] for d in vocab.DISTRICTS], district),
    ]
    if office:
        head = ["Floor ", numbers_text(addresses.floor[rows]), sep]
    else:
        room = addresses.floor[rows] * 100 + addresses.unit[rows]
        head = [
            _word(rng, vocab.APARTMENT, varied),
            " ",
            numbers_text(room),
            sep,
            _word(rng, vocab.BUILDING, varied),
            " ",
            numbers_text(addresses.building[rows]),
            sep,
        ]
    text = pc.binary_join_element_wise(*head, *street_part, "")
    case = np.where(varied, rng.random(n), 1.0)
    text = pc.if_else(pa.array(case < 0.2), pc.utf8_upper(text), text)
    return pc.if_else(pa.array(case < 0.3), pc.utf8_lower(text), text)
