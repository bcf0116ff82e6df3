"""The real people behind the records: households, kinship, dwellings, phones and e-mail.

Households are drawn by type (``HOUSEHOLD_TYPES``); each type is a template of roles with its
own age rules. Flat shares put two to four unrelated young adults in one flat: they share an
address but each is a household of one. Adult children who left home keep a kinship tie to
their parents' household, and half of them moved recently, so older records still carry the
parents' address. 8% of households moved within the year; 15% of those left a flat that
another household lives in now.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from indbank import names, places

# (type, share of households): the templates are in ``_members``.
HOUSEHOLD_TYPES: Final = (
    ("single", 0.26),
    ("couple", 0.20),
    ("couple_adult_children", 0.17),
    ("three_generations", 0.10),
    ("single_parent", 0.05),
    ("elderly_couple", 0.10),
    ("flat_share", 0.07),
    ("elderly_single", 0.05),
)
HEAD, SPOUSE, CHILD, GRANDPARENT, GRANDCHILD, MATE = range(6)
RELATIONS: Final = ("spouse", "parent", "child", "sibling", "other")
SPOUSE_R, PARENT_R, CHILD_R, SIBLING_R, OTHER_R = range(5)
LEFT_HOME_SHARE: Final = 0.45
"""Of singles and couples aged 24–45, the share whose parents are customers elsewhere."""
RECENT_MOVE_SHARE: Final = 0.5
"""Of adult children who left home, the share who moved recently (stale records)."""
HOUSEHOLD_MOVED_SHARE: Final = 0.08
REOCCUPIED_SHARE: Final = 0.15
NO_OWN_PHONE_AGE: Final = 72
NO_OWN_PHONE_SHARE: Final = 0.40
CHANGED_PHONE_SHARE: Final = 0.12
RECYCLED_NUMBER_SHARE: Final = 0.20
EMAIL_SHARE_YOUNG: Final = 0.45
EMAIL_SHARE_OLD: Final = 0.15
TODAY: Final = np.datetime64("2025-12-31")
_MOBILE_PREFIXES: Final = np.array(
    [
        130,
        131,
        132,
        133,
        135,
        136,
        137,
        138,
        139,
        150,
        151,
        152,
        153,
        155,
        156,
        157,
        158,
        159,
        166,
        176,
        177,
        180,
        181,
        182,
        183,
        185,
        186,
        187,
        188,
        189,
        198,
        199,
    ],
    dtype=np.int64,
)


@dataclass
class Population:
    """One row per person (arrays) and the kinship ties between them."""

    household: np.ndarray
    """Truth household: flatmates are households of one."""
    flat: np.ndarray
    """Current dwelling (index into ``dwellings``)."""
    old_flat: np.ndarray
    """Dwelling some records still show (-1 when none)."""
    stale_kind: np.ndarray
    """0 none, 1 left the parents' home recently, 2 the household moved."""
    role: np.ndarray
    htype: np.ndarray
    age: np.ndarray
    gender: np.ndarray
    birth: np.ndarray
    birth_region: np.ndarray
    surname: np.ndarray
    given: np.ndarray
    name: np.ndarray
    pinyin: np.ndarray
    phone: np.ndarray
    """The person's own mobile (int), or the relative's when ``phone_of`` >= 0."""
    phone_of: np.ndarray
    """-1, or the relative whose phone the person's records give (no phone of their own)."""
    old_phone: np.ndarray
    """A previous number (0 when none); some were recycled to other people."""
    email: np.ndarray
    tie_a: np.ndarray
    tie_b: np.ndarray
    tie_rel: np.ndarray
    """Kinship: ``tie_b`` is ``tie_a``'s relation (``RELATIONS``); both directions listed."""
    tie_home: np.ndarray
    """True when the two live in the same truth household."""
    dwellings: places.Dwellings

    @property
    def n(self) -> int:
        return int(self.household.size)


def _members(rng: np.random.Generator, htype: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Household size and, for three-generation homes, the number of grandparents."""
    n = htype.size
    kids = rng.choice([1, 2], size=n, p=[0.6, 0.4])
    grand = rng.choice([1, 2], size=n, p=[0.45, 0.55])
    grandkid = (rng.random(n) < 0.5).astype(np.int64)
    mates = rng.choice([2, 3, 4], size=n, p=[0.5, 0.35, 0.15])
    size = np.select(
        [htype == 0, htype == 1, htype == 2, htype == 3, htype == 4, htype == 5, htype == 6],
        [1, 2, 2 + kids, grand + 2 + grandkid, 2, 2, mates],
        default=1,
    )
    return size, grand


def _roles(htype: np.ndarray, pos: np.ndarray, grand: np.ndarray) -> np.ndarray:
    role = np.full(htype.size, HEAD)
    role[(htype == 6)] = MATE
    two = np.isin(htype, [1, 2, 4, 5])
    role[two & (pos == 1)] = np.where(htype[two & (pos == 1)] == 4, CHILD, SPOUSE)
    role[(htype == 2) & (pos >= 2)] = CHILD
    three = htype == 3
    role[three & (pos < grand)] = GRANDPARENT
    role[three & (pos == grand)] = HEAD
    role[three & (pos == grand + 1)] = SPOUSE
    role[three & (pos > grand + 1)] = GRANDCHILD
    return role


def _ages(
    rng: np.random.Generator, htype: np.ndarray, role: np.ndarray, head_idx: np.ndarray
) -> np.ndarray:
    """Ages: the head's from the type's range, relatives' from the head's."""
    n = htype.size
    u = rng.random(n)
    head_lo = np.array([22, 24, 44, 40, 42, 62, 21, 65])[htype]
    head_hi = np.array([62, 60, 62, 56, 66, 85, 34, 90])[htype]
    age = (head_lo + u * (head_hi - head_lo)).astype(np.int64)
    head_age = age[head_idx]
    spouse = role == SPOUSE
    jitter = rng.integers(-4, 5, size=int(spouse.sum()))
    age[spouse] = np.clip(head_age[spouse] + jitter, 20, 95)
    young = (role == CHILD) | (role == GRANDCHILD)
    top = np.clip(head_age - 20, 18, 34)
    age[young] = 18 + (rng.random(int(young.sum())) * (top[young] - 17)).astype(np.int64)
    gp = role == GRANDPARENT
    age[gp] = np.minimum(head_age[gp] + rng.integers(22, 34, size=int(gp.sum())), 96)
    ages: np.ndarray = age
    return ages


def _phones(rng: np.random.Generator, n: int) -> np.ndarray:
    from indbank.streams import unique_ints

    body = unique_ints(rng, 0, 10**8, n)
    prefix = rng.choice(_MOBILE_PREFIXES, size=n)
    numbers: np.ndarray = prefix * 10**8 + body
    return numbers


def build(rng: np.random.Generator, name_rng: np.random.Generator, persons: int) -> Population:
    """Draw households until ``persons`` people, then their names, phones and ties."""
    shares = np.array([s for _, s in HOUSEHOLD_TYPES])
    n_house = int(persons / 2.0) + 16
    htype = rng.choice(len(HOUSEHOLD_TYPES), size=n_house, p=shares / shares.sum())
    size, grand = _members(rng, htype)
    while size.sum() < persons:  # pragma: no cover - the estimate is generous
        more = rng.choice(len(HOUSEHOLD_TYPES), size=n_house, p=shares / shares.sum())
        more_size, more_grand = _members(rng, more)
        htype, size, grand = (
            np.concatenate([htype, more]),
            np.concatenate([size, more_size]),
            np.concatenate([grand, more_grand]),
        )
    last = int(np.searchsorted(np.cumsum(size), persons)) + 1
    htype, size, grand = htype[:last], size[:last], grand[:last]
    house_of = np.repeat(np.arange(last), size)[:persons]
    starts = np.concatenate([[0], np.cumsum(size)[:-1]])
    pos = np.arange(persons) - starts[house_of]
    p_htype = htype[house_of]
    role = _roles(p_htype, pos, grand[house_of])

    # Head ages first (per household), then relatives relative to the head.
    head_pos = np.where(htype == 3, grand, 0)
    head_idx = np.minimum(starts + head_pos, persons - 1)
    age = _ages(rng, p_htype, role, head_idx[house_of])

    gender = np.where(rng.random(persons) < 0.5, "M", "F").astype(object)
    couple_type = np.isin(p_htype, [1, 2, 3, 5])
    head_m = rng.random(persons) < 0.8
    is_head = role == HEAD
    gender[is_head & couple_type] = np.where(head_m[is_head & couple_type], "M", "F")
    spouse = role == SPOUSE
    gender[spouse] = np.where(gender[head_idx[house_of][spouse]] == "M", "F", "M")
    elderly_single = p_htype == 7
    gender[elderly_single] = np.where(rng.random(int(elderly_single.sum())) < 0.65, "F", "M")
    gp = role == GRANDPARENT
    first_gp = gp & (pos == 0)
    second_gp = gp & (pos == 1)
    gender[first_gp & (grand[house_of] == 2)] = "M"
    gender[second_gp] = "F"

    # Names: children carry the father's surname (90%); grandparents are the head's parents
    # (60%) or the spouse's.
    surname = names.surnames(name_rng, persons)
    head_of = head_idx[house_of]
    nxt = np.minimum(head_of + 1, persons - 1)
    paired = np.isin(p_htype, [1, 2, 3, 5]) & (house_of[nxt] == house_of) & (nxt != head_of)
    spouse_of_head = np.where(paired, nxt, head_of)
    father = np.where(gender[head_of] == "M", head_of, spouse_of_head)
    young = (role == CHILD) | (role == GRANDCHILD)
    takes_father = name_rng.random(persons) < 0.9
    surname[young & takes_father] = surname[father[young & takes_father]]
    gp_of_head = name_rng.random(last) < 0.6
    gp_child = np.where(gp_of_head[house_of], head_of, spouse_of_head)
    surname[first_gp] = surname[gp_child[first_gp]]
    given = names.given_names(name_rng, gender)
    name = names.SURNAME_CHARS[surname] + given
    pinyin = names.SURNAME_PINYIN[surname] + " " + names.pinyin_given(given)

    birth_day = rng.integers(0, 365, size=persons)
    birth = (
        (TODAY - (age * 365.25).astype("timedelta64[D]")) - birth_day.astype("timedelta64[D]")
    ).astype("datetime64[D]")

    # Dwellings: one per household and per flat share; flatmates are separate households.
    dwellings = places.Dwellings(rng, last + last // 10 + 8)
    flat = house_of.copy()
    household = house_of.copy()
    mates = role == MATE
    household[mates] = last + np.arange(int(mates.sum()))
    birth_region = places.birth_regions(rng, dwellings.city[flat])

    ties = _kinship(role, house_of, pos, head_of, spouse_of_head, gp_child, htype)
    tie_a, tie_b, tie_rel = ties
    tie_home = np.ones(tie_a.size, dtype=bool)

    # Adult children who left home: a tie to an elderly household elsewhere.
    old_flat = np.full(persons, -1)
    stale_kind = np.zeros(persons, dtype=np.int64)
    leavers = np.flatnonzero(np.isin(p_htype, [0, 1]) & (role != MATE) & (age >= 24) & (age <= 45))
    leavers = leavers[rng.random(leavers.size) < LEFT_HOME_SHARE]
    elders = np.flatnonzero(np.isin(p_htype, [5, 7]) & (role == HEAD))
    if elders.size and leavers.size:
        parent = elders[rng.integers(0, elders.size, size=leavers.size)]
        gap = age[parent] - age[leavers]
        ok = (gap >= 18) & (gap <= 45)
        leavers, parent = leavers[ok], parent[ok]
        nxt = np.minimum(parent + 1, persons - 1)
        couple = (p_htype[parent] == 5) & (house_of[nxt] == house_of[parent]) & (nxt != parent)
        other_parent = np.where(couple, nxt, -1)
        a = np.concatenate(
            [leavers, parent, leavers[other_parent >= 0], other_parent[other_parent >= 0]]
        )
        b = np.concatenate(
            [parent, leavers, other_parent[other_parent >= 0], leavers[other_parent >= 0]]
        )
        k = leavers.size
        j = int((other_parent >= 0).sum())
        rel = np.concatenate(
            [np.full(k, PARENT_R), np.full(k, CHILD_R), np.full(j, PARENT_R), np.full(j, CHILD_R)]
        )
        tie_a, tie_b = np.concatenate([tie_a, a]), np.concatenate([tie_b, b])
        tie_rel = np.concatenate([tie_rel, rel])
        tie_home = np.concatenate([tie_home, np.zeros(a.size, dtype=bool)])
        recent = rng.random(k) < RECENT_MOVE_SHARE
        old_flat[leavers[recent]] = flat[parent[recent]]
        stale_kind[leavers[recent]] = 1

    # Whole households that moved this year.
    moved = rng.random(last) < HOUSEHOLD_MOVED_SHARE
    fresh = last + np.arange(int(moved.sum())) % max(1, dwellings.n - last)
    reoccupied = rng.random(fresh.size) < REOCCUPIED_SHARE
    old_of_house = np.full(last, -1)
    old_of_house[moved] = np.where(reoccupied, rng.integers(0, last, size=fresh.size), fresh)
    moved_person = (old_of_house[house_of] >= 0) & (old_flat < 0)
    old_flat[moved_person] = old_of_house[house_of][moved_person]
    stale_kind[moved_person] = 2

    phone, phone_of, old_phone = _assign_phones(rng, age, household, tie_a, tie_b)
    email = _emails(rng, age, surname, given)
    return Population(
        household=household,
        flat=flat,
        old_flat=old_flat,
        stale_kind=stale_kind,
        role=role,
        htype=p_htype,
        age=age,
        gender=gender,
        birth=birth,
        birth_region=birth_region,
        surname=surname,
        given=given,
        name=name,
        pinyin=pinyin,
        phone=phone,
        phone_of=phone_of,
        old_phone=old_phone,
        email=email,
        tie_a=tie_a,
        tie_b=tie_b,
        tie_rel=tie_rel,
        tie_home=tie_home,
        dwellings=dwellings,
    )


def _kinship(
    role: np.ndarray,
    house_of: np.ndarray,
    pos: np.ndarray,
    head_of: np.ndarray,
    spouse_of_head: np.ndarray,
    gp_child: np.ndarray,
    htype: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Within-home ties (both directions): spouses, parents and children, siblings, others."""
    idx = np.arange(role.size)
    a: list[np.ndarray] = []
    b: list[np.ndarray] = []
    r: list[np.ndarray] = []

    def add(x: np.ndarray, y: np.ndarray, rel_xy: int, rel_yx: int) -> None:
        ok = (x != y) & (x >= 0) & (y >= 0)
        x, y = x[ok], y[ok]
        a.extend([x, y])
        b.extend([y, x])
        r.extend([np.full(x.size, rel_xy), np.full(x.size, rel_yx)])

    sp = idx[role == SPOUSE]
    add(sp, head_of[sp], SPOUSE_R, SPOUSE_R)
    gp2 = idx[(role == GRANDPARENT) & (pos == 1)]
    add(gp2, gp2 - 1, SPOUSE_R, SPOUSE_R)
    child = idx[role == CHILD]
    add(child, head_of[child], PARENT_R, CHILD_R)
    two_parent_child = child[htype[house_of[child]] == 2]
    add(two_parent_child, spouse_of_head[two_parent_child], PARENT_R, CHILD_R)
    second_kid = idx[(role == CHILD) & (pos == 3)]
    add(second_kid, second_kid - 1, SIBLING_R, SIBLING_R)
    gc = idx[role == GRANDCHILD]
    add(gc, head_of[gc], PARENT_R, CHILD_R)
    add(gc, spouse_of_head[gc], PARENT_R, CHILD_R)
    gpa = idx[role == GRANDPARENT]
    # The grandparents' own child is a parent-child tie; the in-law and grandchild are "other".
    add(gp_child[gpa], gpa, PARENT_R, CHILD_R)
    in_law = np.where(gp_child[gpa] == head_of[gpa], spouse_of_head[gpa], head_of[gpa])
    add(in_law, gpa, OTHER_R, OTHER_R)
    for g_pos in (0, 1):
        # Grandchild and grandparent: no such relation code, so "other".
        has = gpa[pos[gpa] == g_pos]
        lookup = np.full(htype.size, -1)
        lookup[house_of[has]] = has
        add(gc, lookup[house_of[gc]], OTHER_R, OTHER_R)
    return np.concatenate(a), np.concatenate(b), np.concatenate(r)


def _assign_phones(
    rng: np.random.Generator,
    age: np.ndarray,
    household: np.ndarray,
    tie_a: np.ndarray,
    tie_b: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = age.size
    own = _phones(rng, n)
    phone = own.copy()
    phone_of = np.full(n, -1)
    # The elderly without a phone of their own give a younger relative's number.
    no_phone = (age >= NO_OWN_PHONE_AGE) & (rng.random(n) < NO_OWN_PHONE_SHARE)
    younger = age[tie_b] < age[tie_a] - 15
    cand_a, cand_b = tie_a[younger & no_phone[tie_a]], tie_b[younger & no_phone[tie_a]]
    order = np.argsort(cand_a, kind="stable")
    cand_a, cand_b = cand_a[order], cand_b[order]
    first = np.unique(cand_a, return_index=True)[1]
    phone_of[cand_a[first]] = cand_b[first]
    phone[cand_a[first]] = own[cand_b[first]]
    # Changed numbers: the old one was kept by some records; some were recycled by carriers.
    old_phone = np.zeros(n, dtype=np.int64)
    changed = (rng.random(n) < CHANGED_PHONE_SHARE) & (phone_of < 0)
    k = int(changed.sum())
    old_phone[changed] = _phones(rng, k)
    recycled = np.flatnonzero(changed)[rng.random(k) < RECYCLED_NUMBER_SHARE]
    if recycled.size:
        # The old number now belongs to a stranger: give that stranger this number today.
        stranger = rng.integers(0, n, size=recycled.size)
        ok = (household[stranger] != household[recycled]) & (phone_of[stranger] < 0)
        ok &= ~changed[stranger]
        phone[stranger[ok]] = old_phone[recycled[ok]]
    return phone, phone_of, old_phone


def _emails(
    rng: np.random.Generator, age: np.ndarray, surname: np.ndarray, given: np.ndarray
) -> np.ndarray:
    n = age.size
    share = np.where(age < 55, EMAIL_SHARE_YOUNG, EMAIL_SHARE_OLD)
    has = rng.random(n) < share
    style = rng.choice(4, size=n, p=[0.40, 0.30, 0.15, 0.15])
    qq = rng.integers(10**5, 3 * 10**9, size=n)
    year = rng.integers(60, 100, size=n) % 100
    digits = rng.integers(1, 1000, size=n)
    py_given = names.pinyin_given(given)
    out = np.empty(n, dtype=object)
    for i in np.flatnonzero(has):
        sur = str(names.SURNAME_PINYIN[surname[i]]).lower()
        giv = str(py_given[i]).lower()
        s = style[i]
        if s == 0:
            out[i] = f"{qq[i]}@qq.com"
        elif s == 1:
            out[i] = f"{sur}{giv}{year[i]:02d}@163.com"
        elif s == 2:
            out[i] = f"{giv}.{sur}@126.com"
        else:
            out[i] = f"{sur[0]}{giv[:1]}{digits[i]}@sina.com"
    return out
