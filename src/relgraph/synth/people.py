"""Persons: how many source records each has, names, birth dates, id numbers, phones, e-mails, homes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from relgraph.synth import addresses, clock, vocab, zh, zh_vocab
from relgraph.synth.households import CHILD, HEAD, PARENT, SIBLING, SPOUSE, Households
from relgraph.synth.ids import (
    BoolArray,
    Chars,
    FloatArray,
    IntArray,
    digits,
    pick,
    resident_ids,
    unique_ints,
)

RECORDS_PER_PERSON: Final = (0.77, 0.15, 0.055, 0.025)
"""Share of persons recorded in 1, 2, 3, 4 source systems (23% have 2+ records)."""
CORE_SHARE: Final = 0.9
"""Share of persons known to core banking; the rest are card-, loan- or wealth-only."""
EMAIL_SHARE: Final = 0.72
SHARED_PHONE_SHARE: Final = 0.1
"""Share of multi-person households where some members give the head's phone number."""

_OLDEST = clock.day(1932, 1, 1)
_YOUNGEST = clock.day(2008, 8, 31)


@dataclass(frozen=True)
class People:
    """One entry per real person (what identity resolution should recover)."""

    households: Households
    has_core: BoolArray
    n_records: IntArray
    male: BoolArray
    birth_days: IntArray
    surname: IntArray
    """Index into ``vocab.SURNAMES`` (``zh_vocab.SURNAMES`` in the zh locale)."""
    given: Any
    """Given name in pinyin, capitalised (``Xiuying``); in hanzi (``秀英``) in the zh locale."""
    id_chars: Chars
    """Resident identity number, ASCII ``(n, 18)``."""
    phone: Chars
    """Mobile number, ASCII digits ``(n, 11)``."""
    email: Any
    """Lower-case e-mail address, null when the person gave none."""
    homes: addresses.Addresses
    """One address per dwelling (``households.dwelling`` indexes it)."""
    locale: str = "en"
    given_pinyin: Any = None
    """zh locale: the given name in pinyin, lower case (``xiuying``)."""

    def surname_labels(self) -> list[str]:
        """Surname text per index of ``surname`` (hanzi in the zh locale)."""
        if self.locale == "zh":
            return [s for s, _, _ in zh_vocab.SURNAMES]
        return [s for s, _ in vocab.SURNAMES]

    @property
    def n(self) -> int:
        """Number of persons."""
        return int(self.has_core.size)

    def age_years(self) -> IntArray:
        """Age at the snapshot date."""
        return ((clock.SNAPSHOT_DAY - self.birth_days) / clock.YEAR_DAYS).astype(np.int64)


def plan(rng: np.random.Generator, customers: int) -> tuple[IntArray, BoolArray]:
    """Decide how many persons there are and how many customer rows each has.

    Parameters
    ----------
    rng
        Random stream.
    customers
        Customer rows wanted; the record counts sum to exactly this.

    Returns
    -------
    tuple
        Records per person, and whether each person has a core-banking record.
    """
    n_draw = int(customers / 1.25) + 16
    has_core = rng.random(n_draw) < CORE_SHARE
    k = rng.choice(len(RECORDS_PER_PERSON), size=n_draw, p=RECORDS_PER_PERSON) + 1
    # Without core a person can be in at most the three other systems.
    k = np.where(has_core, k, np.minimum(k, 3)).astype(np.int64)
    ends = np.cumsum(k)
    n_persons = int(np.searchsorted(ends, customers)) + 1
    k = k[:n_persons].copy()
    k[-1] -= int(ends[n_persons - 1]) - customers
    return k, has_core[:n_persons]


def _birth_days(rng: np.random.Generator, hh: Households) -> IntArray:
    n = hh.n_persons
    head = hh.head()
    year = clock.YEAR_DAYS
    head_age = rng.uniform(24, 75, size=n) * year
    own = clock.SNAPSHOT_DAY - head_age
    head_birth = own[head]
    offset = np.select(
        [hh.role == SPOUSE, hh.role == CHILD, hh.role == PARENT, hh.role == SIBLING],
        [
            rng.normal(0, 3, size=n) * year,
            rng.uniform(22, 36, size=n) * year,
            -rng.uniform(22, 34, size=n) * year,
            rng.normal(0, 4, size=n) * year,
        ],
        default=0.0,
    )
    birth = np.where(hh.role == HEAD, own, head_birth + offset)
    # Spread the out-of-range ones over a few years rather than piling them on one date.
    spread = rng.uniform(0, 6, size=n) * year
    birth = np.where(birth > _YOUNGEST, _YOUNGEST - spread, birth)
    birth = np.where(birth < _OLDEST, _OLDEST + spread, birth)
    return birth.astype(np.int64)


def _surnames(
    rng: np.random.Generator, hh: Households, male: BoolArray, weights: FloatArray
) -> IntArray:
    own = rng.choice(weights.size, size=hh.n_persons, p=weights / weights.sum())
    head = hh.head()
    spouse = np.where(hh.role[np.minimum(head + 1, hh.n_persons - 1)] == SPOUSE, head + 1, head)
    father = np.where(male[head], head, spouse)
    # Children take their father's surname; a head's father and siblings share the head's.
    return np.select(
        [hh.role == CHILD, (hh.role == PARENT) & male, hh.role == SIBLING],
        [own[father], own[head], own[head]],
        default=own,
    ).astype(np.int64)


def _given_names(rng: np.random.Generator, male: BoolArray) -> Any:
    n = male.size
    n_m, n_f = len(vocab.MALE_SYLLABLES), len(vocab.FEMALE_SYLLABLES)
    first_m = pick(vocab.MALE_SYLLABLES, rng.integers(0, n_m, size=n))
    first_f = pick(vocab.FEMALE_SYLLABLES, rng.integers(0, n_f, size=n))
    second_m = pick(vocab.MALE_SYLLABLES, rng.integers(0, n_m, size=n))
    second_f = pick(vocab.FEMALE_SYLLABLES, rng.integers(0, n_f, size=n))
    male_pa = pa.array(male)
    first = pc.if_else(male_pa, first_m, first_f)
    second = pc.utf8_lower(pc.if_else(male_pa, second_m, second_f))
    two = pa.array(rng.random(n) < 0.65)
    return pc.if_else(two, pc.binary_join_element_wise(first, second, ""), first)


def _phones(rng: np.random.Generator, hh: Households, shared_share: float) -> Chars:
    n = hh.n_persons
    code = unique_ints(rng, 0, len(vocab.MOBILE_PREFIXES) * 10**8, n)
    prefix = np.array(vocab.MOBILE_PREFIXES, dtype=np.int64)[code // 10**8]
    number = prefix * 10**8 + code % 10**8
    head = hh.head()
    sharing = (hh.size[hh.household] > 1) & (rng.random(hh.n_households) < shared_share)[
        hh.household
    ]
    # An elderly parent or a child often leaves the head's mobile as their contact number.
    takes_head = sharing & np.isin(hh.role, (PARENT, CHILD)) & (rng.random(n) < 0.7)
    number = np.where(takes_head, number[head], number)
    return digits(number, 11) + 48


def _emails(
    rng: np.random.Generator,
    spelled: list[str],
    surname: IntArray,
    given: Any,
    birth_days: IntArray,
) -> Any:
    n = surname.size
    sn = pc.utf8_lower(pick(spelled, surname))
    gn = pc.utf8_lower(given)
    year = (
        birth_days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    ) % 100
    style = rng.integers(0, 4, size=n)
    suffix = pc.cast(
        pa.array(np.where(style == 3, year, rng.integers(1, 999, size=n))), pa.string()
    )
    local = pc.choose(
        pa.array(style.astype(np.int8)),
        pc.binary_join_element_wise(sn, gn, suffix, ""),
        pc.binary_join_element_wise(gn, ".", sn, ""),
        pc.binary_join_element_wise(gn, sn, suffix, ""),
        pc.binary_join_element_wise(sn, gn, suffix, ""),
    )
    weights = np.array([w for _, w in vocab.EMAIL_DOMAINS])
    domain = pick(
        [d for d, _ in vocab.EMAIL_DOMAINS],
        rng.choice(weights.size, size=n, p=weights / weights.sum()),
    )
    qq = rng.random(n) < vocab.QQ_SHARE
    qq_number = pc.cast(pa.array(unique_ints(rng, 100_000, 3_000_000_000, n)), pa.string())
    local = pc.if_else(pa.array(qq), qq_number, local)
    domain = pc.if_else(pa.array(qq), pa.scalar("qq.com"), domain)
    # Namesakes born the same year would share an address: make the later ones distinct.
    dup = pd.Series(pc.binary_join_element_wise(local, domain, "@").to_numpy(zero_copy_only=False))
    dup_mask = dup.duplicated().to_numpy()
    tag = pc.cast(pa.array(np.arange(n, dtype=np.int64)), pa.string())
    local = pc.if_else(pa.array(dup_mask), pc.binary_join_element_wise(local, "_", tag, ""), local)
    email = pc.binary_join_element_wise(local, domain, "@")
    has = pa.array(rng.random(n) < EMAIL_SHARE)
    return pc.if_else(has, email, pa.scalar(None, pa.string()))


def build(
    rng: np.random.Generator,
    hh: Households,
    n_records: IntArray,
    has_core: BoolArray,
    locale: str = "en",
) -> People:
    """Draw the attributes of every person.

    Parameters
    ----------
    rng
        Random stream.
    hh
        Households (fixes the number of persons, roles and dwellings).
    n_records, has_core
        From :func:`plan`.
    locale
        ``en`` (pinyin names) or ``zh`` (hanzi names with their pinyin).

    Returns
    -------
    People
        Names, dates, identifiers and homes.
    """
    n = hh.n_persons
    head = hh.head()
    coin = rng.random(n) < 0.5
    male = np.where(hh.role == SPOUSE, ~coin[head], coin)
    male = np.where(hh.role == HEAD, coin, male)
    birth_days = _birth_days(rng, hh)
    if locale == "zh":
        surname = _surnames(rng, hh, male, zh.surname_weights())
        given, given_pinyin = zh.given_names(rng, male)
        spelled = [p for _, p, _ in zh_vocab.SURNAMES]
    else:
        surname = _surnames(rng, hh, male, np.array([w for _, w in vocab.SURNAMES]))
        given = given_pinyin = _given_names(rng, male)
        spelled = [s for s, _ in vocab.SURNAMES]
    homes = addresses.draw(rng, hh.n_dwellings)
    # Most were born where they live; the rest moved in from another region.
    home_district = homes.district[hh.dwelling]
    elsewhere = rng.integers(0, len(vocab.DISTRICTS), size=n)
    born_in = np.where(rng.random(n) < 0.6, home_district, elsewhere)
    region = np.array([int(d[2]) for d in vocab.DISTRICTS], dtype=np.int64)[born_in]
    id_chars = resident_ids(rng, region, birth_days, male)
    phone = _phones(rng, hh, zh.SHARED_PHONE_SHARE if locale == "zh" else SHARED_PHONE_SHARE)
    email = _emails(rng, spelled, surname, given_pinyin, birth_days)
    return People(
        households=hh,
        has_core=has_core,
        n_records=n_records,
        male=male,
        birth_days=birth_days,
        surname=surname,
        given=given,
        id_chars=id_chars,
        phone=phone,
        email=email,
        homes=homes,
        locale=locale,
        given_pinyin=given_pinyin,
    )
