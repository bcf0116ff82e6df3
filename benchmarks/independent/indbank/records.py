"""Customer records: each person as the core, card, loan and wealth systems each keep them.

Every system writes a person its own way and none is clean. Rates are per record and listed
in ``ID_DEFECTS`` and the constants below; ``noise`` lists every deliberate defect for the
truth file ``record_noise.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pandas as pd

from indbank import idcards, names
from indbank.population import Population

SYSTEMS: Final = ("core", "card", "loan", "wealth")
CORE, CARD, LOAN, WEALTH = range(4)
ID_PREFIX: Final = ("CIF", "CRD", "LN", "WM")
HAS_SYSTEM: Final = {CORE: 0.90, CARD: 0.30, LOAN: 0.10, WEALTH: 0.07}
"""Share of persons with a record in each system (at least one: core when none drawn)."""
CORE_DUPLICATE_SHARE: Final = 0.03
"""Persons with a second core record (opened at another branch before the CIF merge)."""

# Per system: shares of (valid, missing, excel_float, bad_check, old_15_digit).
ID_DEFECTS: Final = {
    CORE: (0.92, 0.03, 0.01, 0.02, 0.02),
    CARD: (0.45, 0.40, 0.10, 0.05, 0.00),
    LOAN: (0.93, 0.00, 0.02, 0.03, 0.02),
    WEALTH: (0.90, 0.04, 0.04, 0.02, 0.00),
    4: (0.60, 0.15, 0.00, 0.10, 0.15),  # the duplicate core record
}
ID_KINDS: Final = ("valid", "missing", "excel_float", "bad_check", "old_15_digit")
HANZI_TYPO: Final = {CORE: 0.01, CARD: 0.04, LOAN: 0.04, WEALTH: 0.04, 4: 0.20}
CARD_HANZI_SHARE: Final = 0.15
"""Card records in hanzi; the rest in upper-case pinyin as embossed."""
PINYIN_STYLES: Final = (("SURNAME GIVEN", 0.70), ("SURNAMEGIVEN", 0.10), ("GIVEN SURNAME", 0.10))
PINYIN_TITLE_SHARE: Final = 0.10
PINYIN_TYPO: Final = 0.03
"""Pinyin card names with two adjacent letters of the given name swapped (ZHANG WIE)."""
"""Remaining pinyin records in title case (Zhang Wei)."""
OLD_PHONE_SHARE: Final = {CORE: 0.35, CARD: 0.5, LOAN: 0.6, WEALTH: 0.5, 4: 0.9}
"""Of persons who changed number, the share of their records still giving the old one."""
SPOUSE_PHONE_ON_CARD: Final = 0.06
PHONE_MISSING: Final = 0.03
STALE_ADDRESS: Final = {CORE: 0.25, CARD: 0.7, LOAN: 0.6, WEALTH: 0.5, 4: 0.9}
"""Of persons with an old address, the share of records still giving it."""
ADDRESS_STYLE: Final = {CORE: 0, CARD: 1, LOAN: 2, WEALTH: 0, 4: 0}
BIRTH_MISSING: Final = {CORE: 0.03, CARD: 0.40, LOAN: 0.01, WEALTH: 0.05, 4: 0.20}
BIRTH_SWAPPED: Final = 0.02
EMAIL_KEPT: Final = {CORE: 0.6, CARD: 0.8, LOAN: 0.5, WEALTH: 0.7, 4: 0.3}
AFFLUENT_AUM: Final = 500_000.0
PRIVATE_AUM: Final = 6_000_000.0


@dataclass
class Records:
    """Customer rows, the person each belongs to, and the defects planted in them."""

    frame: pd.DataFrame
    person: np.ndarray
    system: np.ndarray
    primary: np.ndarray
    """Per person, the row index of their main record (core when they have one)."""
    noise: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def ids(self) -> np.ndarray:
        return self.frame["customer_id"].to_numpy(dtype=object)


def _plan(rng: np.random.Generator, pop: Population, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(person, system-with-4-for-duplicate-core) per record, exactly ``n_rows`` of them."""
    n = pop.n
    has = np.column_stack([rng.random(n) < HAS_SYSTEM[s] for s in range(4)])
    has[:, WEALTH] |= (pop.age > 40) & (rng.random(n) < 0.05)
    has[~has.any(axis=1), CORE] = True
    dup = has[:, CORE] & (rng.random(n) < CORE_DUPLICATE_SHARE)
    person = [np.flatnonzero(has[:, s]) for s in range(4)] + [np.flatnonzero(dup)]
    system = [np.full(p.size, s) for s, p in enumerate(person)]
    p_all, s_all = np.concatenate(person), np.concatenate(system)
    if p_all.size > n_rows:
        # Drop surplus secondary records, never a person's first one (so nobody is left out).
        order = np.lexsort((s_all, p_all))
        first = order[np.unique(p_all[order], return_index=True)[1]]
        secondary = np.setdiff1d(np.flatnonzero(s_all != CORE), first)
        drop = rng.choice(secondary, size=p_all.size - n_rows, replace=False)
        keep = np.ones(p_all.size, dtype=bool)
        keep[drop] = False
        p_all, s_all = p_all[keep], s_all[keep]
    elif p_all.size < n_rows:
        extra = rng.integers(0, n, size=n_rows - p_all.size)
        p_all = np.concatenate([p_all, extra])
        s_all = np.concatenate([s_all, np.full(extra.size, CARD)])
    return p_all, s_all


def build(rng: np.random.Generator, pop: Population, n_rows: int, owner: np.ndarray) -> Records:
    """Customer rows for ``pop``, ``n_rows`` in all; ``owner`` marks business owners."""
    person, system = _plan(rng, pop, n_rows)
    n = person.size
    table_system = np.where(system == 4, CORE, system)
    noise: list[tuple[str, str, str]] = []

    ids = np.empty(n, dtype=object)
    for s in range(4):
        rows = np.flatnonzero(table_system == s)
        number = _unique(rng, rows.size)
        ids[rows] = [f"{ID_PREFIX[s]}{v:010d}" for v in number]

    name, name_defect = _names(rng, pop, person, system)
    id_text, id_defect = _id_numbers(rng, pop, person, system)
    phone, phone_defect = _phones(rng, pop, person, system)
    address, address_defect = _addresses(rng, pop, person, system)
    birth, birth_defect = _births(rng, pop, person, system)
    for defects, field_name in (
        (name_defect, "name"),
        (id_defect, "id_number"),
        (phone_defect, "phone"),
        (address_defect, "address"),
        (birth_defect, "birth_date"),
    ):
        for i in np.flatnonzero(defects != ""):
            noise.append((ids[i], field_name, str(defects[i])))

    gender = pop.gender[person].copy()
    gender[(table_system == CARD) & (rng.random(n) < 0.2)] = "U"
    gender[rng.random(n) < 0.02] = None

    email = pop.email[person].copy()
    kept = rng.random(n) < np.array([EMAIL_KEPT[s] for s in range(5)])[system]
    email[~kept] = None
    upper = rng.random(n) < 0.1
    email[upper & kept] = [e.upper() if e else e for e in email[upper & kept]]

    # Money: a person's wealth drawn once, each system holding its part.
    wealth_p = np.exp(rng.normal(11.0, 1.4, size=pop.n)) * np.clip(pop.age / 40.0, 0.4, 2.0)
    aum_p = np.round(wealth_p, 2)
    segment_p = np.where(
        owner,
        "business",
        np.where(
            aum_p >= PRIVATE_AUM, "private", np.where(aum_p >= AFFLUENT_AUM, "affluent", "mass")
        ),
    ).astype(object)
    segment = segment_p[person].copy()
    stale_seg = rng.random(n) < 0.10
    segment[stale_seg] = "mass"
    risk = rng.choice(
        np.array(["low", "medium", "high"], dtype=object), size=n, p=[0.8, 0.17, 0.03]
    )
    aum = np.where(np.isin(table_system, [CORE, WEALTH]), aum_p[person], 0.0)
    aum = np.where(table_system == WEALTH, aum * 0.6, aum)
    deposits = np.where(
        table_system == CORE, np.round(aum_p[person] * rng.uniform(0.1, 0.5, n), 2), 0.0
    )
    loans = np.where(table_system == LOAN, np.round(np.exp(rng.normal(12.5, 0.9, n)), 2), 0.0)
    spend = np.where(table_system == CARD, np.round(np.exp(rng.normal(10.0, 0.8, n)), 2), 0.0)
    products = np.array(["deposit", "card", "loan", "wealth"], dtype=object)[table_system]
    both = (table_system == CORE) & (rng.random(n) < 0.3)
    products[both] = "deposit;card"
    consent = rng.choice(
        np.array(["true", "false", "Y", "N"], dtype=object), size=n, p=[0.45, 0.35, 0.1, 0.1]
    )

    frame = pd.DataFrame(
        {
            "customer_id": ids,
            "source_system": np.array(SYSTEMS, dtype=object)[table_system],
            "name": name,
            "id_number": id_text,
            "birth_date": birth,
            "gender": gender,
            "phone": phone,
            "email": email,
            "address": address,
            "segment": segment,
            "risk_rating": risk,
            "aum": np.round(aum, 2),
            "deposits": deposits,
            "loans": loans,
            "card_spend_12m": spend,
            "products": products,
            "consent_marketing": consent,
        }
    )
    # Rows in customer-id order: file order must not give away who belongs with whom.
    perm = np.argsort(ids, kind="stable")
    frame = frame.iloc[perm].reset_index(drop=True)
    person, system, table_system = person[perm], system[perm], table_system[perm]
    # Primary record: the first core record, else the first record of the person.
    rank = np.where(system == CORE, 0, np.where(system == 4, 1, 2 + system))
    order = np.lexsort((rank, person))
    first = np.unique(person[order], return_index=True)[1]
    primary = np.full(pop.n, -1)
    primary[person[order][first]] = order[first]
    if (primary < 0).any():
        raise AssertionError("every person must keep at least one customer record")
    return Records(frame=frame, person=person, system=table_system, primary=primary, noise=noise)


def _unique(rng: np.random.Generator, n: int) -> np.ndarray:
    from indbank.streams import unique_ints

    return unique_ints(rng, 10**9, 10**10, n)


def _names(
    rng: np.random.Generator, pop: Population, person: np.ndarray, system: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    n = person.size
    defect = np.full(n, "", dtype=object)
    given = pop.given[person].copy()
    typo_rate = np.array([HANZI_TYPO[s] for s in range(5)])[system]
    typo = rng.random(n) < typo_rate
    for i in np.flatnonzero(typo):
        changed = names.homophone_typo(rng, given[i])
        if changed != given[i]:
            given[i] = changed
            defect[i] = "homophone_typo"
    hanzi = names.SURNAME_CHARS[pop.surname[person]] + given
    out = hanzi.astype(object)
    card_pinyin = (system == CARD) & (rng.random(n) >= CARD_HANZI_SHARE)
    sur = names.SURNAME_PINYIN[pop.surname[person]].copy()
    lv = sur == "LV"
    sur[lv] = rng.choice(np.array(["LV", "LYU", "LU"], dtype=object), size=int(lv.sum()))
    giv = names.pinyin_given(pop.given[person])
    style = rng.choice(4, size=n, p=[s for _, s in PINYIN_STYLES] + [PINYIN_TITLE_SHARE])
    typo_letters = rng.random(n) < PINYIN_TYPO
    for i in np.flatnonzero(card_pinyin):
        s, g = sur[i], giv[i]
        st = style[i]
        if st == 0:
            out[i] = f"{s} {g}"
        elif st == 1:
            out[i] = f"{s}{g}"
            defect[i] = "pinyin_run_together"
        elif st == 2:
            out[i] = f"{g} {s}"
            defect[i] = "pinyin_given_first"
        else:
            out[i] = f"{s.title()} {g.title()}"
        if len(g) >= 3 and typo_letters[i]:
            # Two adjacent letters of the given name swapped when the card form was keyed in.
            j = int(rng.integers(0, len(g) - 1))
            swapped = g[:j] + g[j + 1] + g[j] + g[j + 2 :]
            if swapped != g:
                out[i] = out[i].replace(
                    g.title() if st == 3 else g, swapped.title() if st == 3 else swapped, 1
                )
                defect[i] = "pinyin_typo"
    return out, defect


def _id_numbers(
    rng: np.random.Generator, pop: Population, person: np.ndarray, system: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    full_p, body_p = idcards.id_numbers(pop.birth_region, pop.birth, pop.gender, rng)
    n = person.size
    kind = np.empty(n, dtype=np.int64)
    for s, shares in ID_DEFECTS.items():
        rows = system == s
        kind[rows] = rng.choice(len(ID_KINDS), size=int(rows.sum()), p=shares)
    # Old 15-digit ids exist only for people registered before 1999.
    too_young = pop.birth[person] >= np.datetime64("1983-01-01")
    kind[(kind == 4) & too_young] = 0
    out = full_p[person].copy()
    out[kind == 1] = None
    ex = kind == 2
    out[ex] = idcards.excel_mangled(full_p[person][ex])
    bad = kind == 3
    out[bad] = idcards.wrong_check(body_p[person][bad], rng)
    old = kind == 4
    out[old] = idcards.old_fifteen(body_p[person][old])
    lower_x = (kind == 0) & (rng.random(n) < 0.5)
    out[lower_x] = [v.lower() for v in out[lower_x]]
    defect = np.array(["", "missing", "excel_float", "bad_check", "old_15_digit"], dtype=object)[
        kind
    ]
    return out, defect


def _format_phones(rng: np.random.Generator, number: np.ndarray) -> np.ndarray:
    style = rng.choice(5, size=number.size, p=[0.60, 0.15, 0.10, 0.10, 0.05])
    out = np.empty(number.size, dtype=object)
    for i, (v, s) in enumerate(zip(number, style, strict=True)):
        t = f"{v:011d}"
        if s == 0:
            out[i] = t
        elif s == 1:
            out[i] = f"+86 {t[:3]} {t[3:7]} {t[7:]}"
        elif s == 2:
            out[i] = f"+86{t}"
        elif s == 3:
            out[i] = f"{t[:3]}-{t[3:7]}-{t[7:]}"
        else:
            out[i] = f"0086 {t}"
    return out


def _phones(
    rng: np.random.Generator, pop: Population, person: np.ndarray, system: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    n = person.size
    defect = np.full(n, "", dtype=object)
    number = pop.phone[person].copy()
    defect[pop.phone_of[person] >= 0] = "relative_phone"
    changed = pop.old_phone[person] > 0
    old_rate = np.array([OLD_PHONE_SHARE[s] for s in range(5)])[system]
    use_old = changed & (rng.random(n) < old_rate)
    number[use_old] = pop.old_phone[person][use_old]
    defect[use_old] = "old_number"
    # A card application filled in by the spouse gives the spouse's number.
    spouse_of = np.full(pop.n, -1)
    sp = pop.tie_rel == 0
    spouse_of[pop.tie_a[sp]] = pop.tie_b[sp]
    sp_rec = (system == CARD) & (spouse_of[person] >= 0) & (rng.random(n) < SPOUSE_PHONE_ON_CARD)
    number[sp_rec] = pop.phone[spouse_of[person[sp_rec]]]
    defect[sp_rec] = "spouse_phone"
    out = _format_phones(rng, number)
    missing = rng.random(n) < PHONE_MISSING
    out[missing] = None
    defect[missing] = ""
    return out, defect


def _addresses(
    rng: np.random.Generator, pop: Population, person: np.ndarray, system: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    n = person.size
    flat = pop.flat[person].copy()
    old = pop.old_flat[person]
    rate = np.array([STALE_ADDRESS[s] for s in range(5)])[system]
    stale = (old >= 0) & (rng.random(n) < rate)
    flat[stale] = old[stale]
    style = np.array([ADDRESS_STYLE[s] for s in range(5)])[system]
    style = np.where((style == 0) & (rng.random(n) < 0.1), 3, style)
    out = pop.dwellings.text(flat, style)
    missing = (system == CARD) & (rng.random(n) < 0.05)
    out[missing] = None
    kind = pop.stale_kind[person]
    defect = np.where(
        stale & ~missing, np.where(kind == 1, "stale_parents_home", "stale_after_move"), ""
    ).astype(object)
    return out, defect


def _births(
    rng: np.random.Generator, pop: Population, person: np.ndarray, system: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    n = person.size
    birth = pop.birth[person]
    text = np.datetime_as_string(birth, unit="D").astype(object)
    defect = np.full(n, "", dtype=object)
    day = birth.astype(object)
    swap = rng.random(n) < BIRTH_SWAPPED
    for i in np.flatnonzero(swap):
        d = day[i]
        if d.day <= 12 and d.day != d.month:
            text[i] = f"{d.year:04d}-{d.day:02d}-{d.month:02d}"
            defect[i] = "day_month_swapped"
    missing = rng.random(n) < np.array([BIRTH_MISSING[s] for s in range(5)])[system]
    text[missing] = None
    defect[missing] = ""
    return text, defect
