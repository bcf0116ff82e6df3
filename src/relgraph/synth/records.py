"""Customer records: a person's rows in core, card, loan and wealth, each spelled its own way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from relgraph.synth import addresses, vocab, zh, zh_vocab
from relgraph.synth.ids import (
    CUSTOMER_DIGITS,
    SYSTEM_PREFIXES,
    BoolArray,
    Chars,
    IntArray,
    clean_bound,
    fixed_strings,
    phone_groups,
    pick,
    prefixed,
    unique_ints,
)
from relgraph.synth.people import People

CORE, CARD, LOAN, WEALTH = range(4)
"""Source-system codes, in ``model.SOURCE_SYSTEMS`` order (also the product each one holds)."""

# Weights of the extra systems a person appears in (exponential race: card is the most common).
_EXTRA_WEIGHTS: Final = np.array([0.0, 3.0, 1.5, 1.2])
_NON_CORE_PRIMARY_WEIGHTS: Final = np.array([0.0, 7.0, 2.0, 1.0])

TYPO_SHARE: Final = 0.02
"""Share of duplicate (non-primary) records with a typo'd id digit or transposed phone digits."""
HOTLINE_SHARE: Final = 0.003
"""Share of records whose phone is a bank hotline typed in by the customer."""
NOISE_DEFECTS: Final = ("digit_typo", "digits_transposed", "hotline", "bad_check_char", "excel")
"""``record_noise.csv`` defects; the last two only in the zh locale."""
MISSING_ID_SHARE: Final = (0.01, 0.4, 0.02, 0.02)
"""Per source system: share of records without an id number (card onboarding skipped it)."""


@dataclass(frozen=True)
class Records:
    """Customer rows in file order (sorted by customer_id)."""

    person: IntArray
    system: IntArray
    customer_id: Any
    rec_of: IntArray
    """``(persons, 4)``: a person's record index per source system, -1 when absent."""
    primary: IntArray
    """Per person: the main record (core when the person has one)."""
    text: dict[str, Any]
    """Per-record spellings of name, id_number, phone, email, address."""
    birth_valid: BoolArray
    noise: Any
    """Deliberate identity noise: table (customer_id, field, defect)."""

    @property
    def n(self) -> int:
        """Number of customer rows."""
        return int(self.person.size)

    def record_for(self, persons: IntArray, system: int) -> IntArray:
        """Each person's record in ``system``, falling back to the main record."""
        rec = self.rec_of[persons, system]
        return np.where(rec >= 0, rec, self.primary[persons])


def _systems(rng: np.random.Generator, people: People) -> tuple[IntArray, IntArray]:
    n = people.n
    race = rng.exponential(size=(n, 4))
    weights = np.where(people.has_core[:, None], _EXTRA_WEIGHTS, _NON_CORE_PRIMARY_WEIGHTS)
    keys = np.where(weights > 0, race / np.where(weights > 0, weights, 1.0), np.inf)
    keys[:, CORE] = np.where(people.has_core, -1.0, np.inf)
    order = np.argsort(keys, axis=1, kind="stable")
    person = np.repeat(np.arange(n, dtype=np.int64), people.n_records)
    starts = np.cumsum(people.n_records) - people.n_records
    slot = np.arange(person.size, dtype=np.int64) - starts[person]
    return person, order[person, slot].astype(np.int64)


def _names(rng: np.random.Generator, people: People, person: IntArray, primary: BoolArray) -> Any:
    n = person.size
    sn = pick([s for s, _ in vocab.SURNAMES], people.surname[person])
    gn = people.given.take(pa.array(person))
    # Styles: "Wang Wei", "WANG Wei", "wang wei", "Wang  Wei", "WANG WEI", "wang  wei".
    style = np.where(
        rng.random(n) < np.where(primary, 0.88, 0.5), 0, rng.integers(1, 6, size=n)
    ).astype(np.int8)
    forms_sn = (sn, pc.utf8_upper(sn), pc.utf8_lower(sn))
    forms_gn = (gn, pc.utf8_upper(gn), pc.utf8_lower(gn))
    sn_form = np.array([0, 1, 2, 0, 1, 2], dtype=np.int8)[style]
    gn_form = np.array([0, 0, 2, 0, 1, 2], dtype=np.int8)[style]
    gap = pick([" ", "  "], np.isin(style, (3, 5)).astype(np.int64))
    return pc.binary_join_element_wise(
        pc.choose(pa.array(sn_form), *forms_sn), gap, pc.choose(pa.array(gn_form), *forms_gn), ""
    )


def _id_numbers(
    rng: np.random.Generator, chars: Chars, missing: BoolArray, primary: BoolArray
) -> Any:
    n = chars.shape[0]
    plain = fixed_strings(chars)
    spaced = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(plain, 0, 6),
        pc.utf8_slice_codeunits(plain, 6, 14),
        pc.utf8_slice_codeunits(plain, 14, 18),
        " ",
    )
    hyphened = pc.replace_substring(spaced, " ", "-")
    lower = pc.utf8_lower(plain)
    style = np.where(rng.random(n) < np.where(primary, 0.95, 0.6), 0, rng.integers(1, 4, size=n))
    text = pc.choose(pa.array(style.astype(np.int8)), plain, spaced, hyphened, lower)
    return pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), text)


def _phones(rng: np.random.Generator, chars: Chars, primary: BoolArray) -> Any:
    n = chars.shape[0]
    s, a, b, c = phone_groups(chars)
    forms = (
        s,
        pc.binary_join_element_wise("+86 ", a, " ", b, " ", c, ""),
        pc.binary_join_element_wise(a, "-", b, "-", c, ""),
        pc.binary_join_element_wise("0086 ", s, ""),
        pc.binary_join_element_wise("+86", s, ""),
        pc.binary_join_element_wise(a, " ", b, " ", c, ""),
        pc.binary_join_element_wise("86-", a, "-", b, "-", c, ""),
    )
    style = np.where(rng.random(n) < np.where(primary, 0.7, 0.35), 0, rng.integers(1, 7, size=n))
    return pc.choose(pa.array(style.astype(np.int8)), *forms)


def _emails(rng: np.random.Generator, base: Any, missing: BoolArray) -> Any:
    n = len(base)
    style = np.where(rng.random(n) < 0.8, 0, rng.integers(1, 4, size=n)).astype(np.int8)
    text = pc.choose(
        pa.array(style),
        base,
        pc.utf8_capitalize(base),
        pc.utf8_upper(base),
        pc.binary_join_element_wise(base, " ", ""),
    )
    return pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), text)


def _transpose_phone(
    rng: np.random.Generator, phones: Chars, chosen: IntArray
) -> tuple[IntArray, Chars]:
    """Swap two adjacent differing digits among the last eight of each chosen phone."""
    out = phones.copy()
    pos = rng.integers(3, 10, size=chosen.size)
    done = np.zeros(chosen.size, dtype=bool)
    for step in range(7):
        p = 3 + (pos - 3 + step) % 7
        differ = ~done & (out[chosen, p] != out[chosen, p + 1])
        rows, cols = chosen[differ], p[differ]
        left = out[rows, cols].copy()
        out[rows, cols] = out[rows, cols + 1]
        out[rows, cols + 1] = left
        done |= differ
    return chosen[done], out


def _typo_id(rng: np.random.Generator, chars: Chars, chosen: IntArray) -> Chars:
    """Change one of the first 17 digits; the check character is left as it was."""
    out = chars.copy()
    pos = rng.integers(0, 17, size=chosen.size)
    old = out[chosen, pos].astype(np.int64) - 48
    out[chosen, pos] = ((old + rng.integers(1, 10, size=chosen.size)) % 10 + 48).astype(np.uint8)
    return out


def build(rng: np.random.Generator, people: People) -> Records:
    """Spread every person over their source systems and spell each record.

    Parameters
    ----------
    rng
        Random stream.
    people
        The persons (``people.n_records`` fixes how many rows each gets).

    Returns
    -------
    Records
        Customer rows sorted by customer_id, with their text columns and the noise planted in them.
    """
    person, system = _systems(rng, people)
    n = person.size
    number = np.zeros(n, dtype=np.int64)
    for s in range(4):
        in_s = system == s
        number[in_s] = unique_ints(rng, 10_000, clean_bound(CUSTOMER_DIGITS), int(in_s.sum()))
    order = np.lexsort((number, system))
    person, system, number = person[order], system[order], number[order]
    customer_id = pc.choose(
        pa.array(system.astype(np.int8)),
        *[prefixed(p, number, CUSTOMER_DIGITS) for p in SYSTEM_PREFIXES],
    )
    rec_of = np.full((people.n, 4), -1, dtype=np.int64)
    rec_of[person, system] = np.arange(n, dtype=np.int64)
    primary_of = np.where(
        people.has_core, rec_of[:, CORE], rec_of.max(axis=1)
    )  # non-core persons: their only or their first-race system; any record serves
    is_primary = np.zeros(n, dtype=bool)
    is_primary[primary_of] = True

    u = rng.random(n)
    missing_id = u < np.array(MISSING_ID_SHARE)[system]
    id_chars = people.id_chars[person]
    phone_chars = people.phone[person]

    # Deliberate identity noise on a few duplicate records, for probabilistic resolution.
    duplicates = np.flatnonzero(~is_primary)
    noisy = duplicates[rng.random(duplicates.size) < TYPO_SHARE]
    id_typo = noisy[(rng.random(noisy.size) < 0.5) & ~missing_id[noisy]]
    phone_candidates = np.setdiff1d(noisy, id_typo)
    id_chars = _typo_id(rng, id_chars, id_typo)
    phone_typo, phone_chars = _transpose_phone(rng, phone_chars, phone_candidates)
    hotline = np.flatnonzero(rng.random(n) < HOTLINE_SHARE)
    hotline = np.setdiff1d(hotline, phone_typo)

    zh_locale = people.locale == "zh"
    phone = (
        zh.phones(rng, phone_chars, system) if zh_locale else _phones(rng, phone_chars, is_primary)
    )
    hotline_mask = np.zeros(n, dtype=bool)
    hotline_mask[hotline] = True
    hotline_text = pick(vocab.HOTLINES, rng.integers(0, len(vocab.HOTLINES), size=n))
    phone = pc.if_else(pa.array(hotline_mask), hotline_text, phone)

    email_base = people.email.take(pa.array(person))
    missing_email = rng.random(n) < np.where(is_primary, 0.05, 0.35)
    missing_addr = rng.random(n) < np.where(system == CARD, 0.15, 0.03)
    home = people.households.dwelling[person]
    address = addresses.render(
        rng, people.homes, home, np.where(is_primary, 0.3, 0.8), office=False, locale=people.locale
    )
    address = pc.if_else(pa.array(missing_addr), pa.scalar(None, pa.string()), address)
    if zh_locale:
        labels = people.surname_labels()
        name = zh.record_names(
            rng,
            pick(labels, people.surname[person]),
            people.given.take(pa.array(person)),
            pick([p for _, p, _ in zh_vocab.SURNAMES], people.surname[person]),
            people.given_pinyin.take(pa.array(person)),
            system,
            is_primary,
        )
        id_text, bad_check, excel = zh.id_numbers(rng, id_chars, missing_id, system, is_primary)
        # A typo'd id keeps its own defect; the locale's defects go on the other records.
        id_clean = np.ones(n, dtype=bool)
        id_clean[id_typo] = False
        bad_check_rows = np.flatnonzero(bad_check & id_clean)
        excel_rows = np.flatnonzero(excel & id_clean)
    else:
        name = _names(rng, people, person, is_primary)
        id_text = _id_numbers(rng, id_chars, missing_id, is_primary)
        bad_check_rows = excel_rows = np.zeros(0, dtype=np.int64)
    text = {
        "name": name,
        "id_number": id_text,
        "phone": phone,
        "email": _emails(rng, email_base, missing_email),
        "address": address,
    }
    birth_valid = ~((system == CARD) & (rng.random(n) < 0.08))

    noise_rows = np.concatenate([id_typo, phone_typo, hotline, bad_check_rows, excel_rows])
    sizes = [id_typo.size, phone_typo.size, hotline.size, bad_check_rows.size, excel_rows.size]
    noise_field = np.repeat([0, 1, 1, 0, 0], sizes)
    noise_defect = np.repeat([0, 1, 2, 3, 4], sizes)
    sort = np.argsort(noise_rows, kind="stable")
    noise = pa.table(
        {
            "customer_id": customer_id.take(pa.array(noise_rows[sort])),
            "field": pick(["id_number", "phone"], noise_field[sort]),
            "defect": pick(NOISE_DEFECTS, noise_defect[sort]),
        }
    )
    return Records(
        person=person,
        system=system,
        customer_id=customer_id,
        rec_of=rec_of,
        primary=primary_of,
        text=text,
        birth_valid=birth_valid,
        noise=noise,
    )
