"""Enterprises: utilities, merchants, corporate groups with layered ownership, positions held."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from relgraph import model
from relgraph.synth import addresses, vocab, zh_vocab
from relgraph.synth.frame import Coded, Fixed, Frame
from relgraph.synth.ids import (
    ENTERPRISE_DIGITS,
    BoolArray,
    FloatArray,
    IntArray,
    clean_bound,
    credit_codes,
    digits,
    fixed_strings,
    numbers_text,
    pick,
    prefixed,
    unique_ints,
)
from relgraph.synth.people import People
from relgraph.synth.records import CORE, Records
from relgraph.synth.sampling import distinct, ragged, split

UTILITY, GROUP, MERCHANT, OTHER = range(4)
"""Enterprise kinds (internal; not a column)."""
GROUP_SHARE: Final = 0.25
"""Share of enterprises that belong to a planted corporate group."""
MERCHANT_SHARE: Final = 0.45
"""Share of standalone enterprises that take card and QR payments from persons."""
CYCLE_GROUP_SHARE: Final = 0.3
CROSS_GROUP_SHARE: Final = 0.4
CONTROL_FLOOR: Final = 0.27
"""Least integrated stake the group controller keeps in every member (the design's 25% + margin)."""
SHARE_SCALE: Final = 4
"""Shares are written with four decimals."""
CUSTOMER, ENTERPRISE = range(2)
"""Party kinds, in ``model.PARTY_KINDS`` order."""
LEGAL_REP, DIRECTOR, EXECUTIVE = range(3)


@dataclass(frozen=True)
class Enterprises:
    """Enterprises by internal index (file order is by enterprise_id)."""

    kind: IntArray
    industry: IntArray
    group: IntArray
    """Planted group index, -1 for a standalone enterprise."""
    enterprise_id: Any
    text: dict[str, Any]
    """name, credit_code, address, phone."""
    registered_capital: IntArray
    """In cents."""
    risk: IntArray
    legal_rep: IntArray
    """Person index of the legal representative."""
    size_weight: FloatArray
    """Relative headcount (who pays how many salaries)."""

    @property
    def n(self) -> int:
        """Number of enterprises."""
        return int(self.kind.size)


@dataclass(frozen=True)
class Ownership:
    """What :func:`build` returns besides the enterprises themselves."""

    shareholdings: Frame
    positions: Frame
    groups: Any
    """Truth table (enterprise_id, group_key, controller_id)."""


def _layout(rng: np.random.Generator, customers: int) -> tuple[IntArray, IntArray, IntArray]:
    """Kinds of all enterprises, and group sizes; utilities first, then groups, then the rest."""
    n = max(12, customers // 20)
    n_util = 6 + customers // 100_000
    budget = max(3, min(round(GROUP_SHARE * n), n - n_util - 2))
    draw = np.minimum(rng.geometric(0.3, size=budget) + 2, 30)
    ends = np.cumsum(draw)
    n_groups = max(1, int(np.searchsorted(ends, budget, side="right")))
    sizes = draw[:n_groups].astype(np.int64)
    sizes[0] = min(int(sizes[0]), budget)
    n_members = int(sizes.sum())
    rest = n - n_util - n_members
    kind = np.concatenate(
        [
            np.full(n_util, UTILITY),
            np.full(n_members, GROUP),
            np.where(rng.random(rest) < MERCHANT_SHARE, MERCHANT, OTHER),
        ]
    ).astype(np.int64)
    group = np.concatenate(
        [np.full(n_util, -1), np.repeat(np.arange(n_groups), sizes), np.full(rest, -1)]
    ).astype(np.int64)
    return kind, group, sizes


def _brands(rng: np.random.Generator, n: int, zh_locale: bool) -> Any:
    heads = zh_vocab.BRAND_HEADS if zh_locale else vocab.BRAND_HEADS
    tails = zh_vocab.BRAND_TAILS if zh_locale else vocab.BRAND_TAILS
    head = pick(heads, rng.integers(0, len(vocab.BRAND_HEADS), size=n))
    tail = pick(tails, rng.integers(0, len(vocab.BRAND_TAILS), size=n))
    return pc.binary_join_element_wise(head, tail, "")


def _names(
    rng: np.random.Generator,
    kind: IntArray,
    industry: IntArray,
    group: IntArray,
    city: IntArray,
    locale: str,
) -> Any:
    n = kind.size
    zh_locale = locale == "zh"
    # Chinese firm names run together (深圳市华信科技有限公司); English ones take spaces.
    gap = "" if zh_locale else " "
    city_name = pick(addresses.cities(locale), city)
    brand = _brands(rng, n, zh_locale)
    first = np.flatnonzero(np.r_[True, group[1:] != group[:-1]] & (group >= 0))
    group_brand = _brands(rng, max(int(group.max()) + 1, 1), zh_locale)
    brand = pc.if_else(
        pa.array(group >= 0), group_brand.take(pa.array(np.maximum(group, 0))), brand
    )
    suffix = pick(zh_vocab.INDUSTRY_SUFFIX if zh_locale else vocab.INDUSTRY_SUFFIX, industry)
    name = pc.binary_join_element_wise(city_name, brand, suffix, gap)
    holding = np.zeros(n, dtype=bool)
    holding[first] = True
    holding_suffix = zh_vocab.HOLDING_SUFFIX if zh_locale else "Holdings Group Co., Ltd."
    name = pc.if_else(
        pa.array(holding), pc.binary_join_element_wise(brand, holding_suffix, gap), name
    )
    util = np.flatnonzero(kind == UTILITY)
    template = util % len(vocab.UTILITY_NAMES)
    util_city = (util // len(vocab.UTILITY_NAMES)) % len(addresses.cities())
    templates = zh_vocab.UTILITY_NAMES if zh_locale else [t for t, _ in vocab.UTILITY_NAMES]
    util_names = pc.binary_join_element_wise(
        pick([t.split("{city}")[0] for t in templates], template),
        pick(addresses.cities(locale), util_city),
        pick([t.split("{city}")[1] for t in templates], template),
        "",
    )
    index = np.full(n, -1, dtype=np.int64)
    index[util] = np.arange(util.size)
    return pc.if_else(
        pa.array(kind == UTILITY), util_names.take(pa.array(index, mask=index < 0)), name
    )


def _industries(rng: np.random.Generator, kind: IntArray) -> IntArray:
    n = kind.size
    util_template = np.arange(n) % len(vocab.UTILITY_NAMES)
    util_industry = np.array([i for _, i in vocab.UTILITY_NAMES], dtype=np.int64)[util_template]
    merchant = np.array(vocab.MERCHANT_INDUSTRIES)[rng.integers(0, 3, size=n)]
    other = np.array(vocab.OTHER_INDUSTRIES)[rng.integers(0, len(vocab.OTHER_INDUSTRIES), size=n)]
    return np.select(
        [kind == UTILITY, kind == MERCHANT, (kind == GROUP) & (rng.random(n) < 0.2)],
        [util_industry, merchant, merchant],
        default=other,
    ).astype(np.int64)


def _phones(
    rng: np.random.Generator, office: addresses.Addresses, owner_phone: Any, small: BoolArray
) -> Any:
    n = small.size
    area = pick([d[3] for d in vocab.DISTRICTS], office.district)
    local = fixed_strings(digits(unique_ints(rng, 20_000_000, 90_000_000, n), 8) + 48)
    style = rng.integers(0, 3, size=n).astype(np.int8)
    landline = pc.choose(
        pa.array(style),
        pc.binary_join_element_wise(area, local, "-"),
        pc.binary_join_element_wise(
            "(",
            area,
            ") ",
            pc.utf8_slice_codeunits(local, 0, 4),
            " ",
            pc.utf8_slice_codeunits(local, 4, 8),
            "",
        ),
        pc.binary_join_element_wise(area, local, ""),
    )
    # Small firms often register the owner's mobile: a link between the firm and its owner.
    return pc.if_else(pa.array(small & (rng.random(n) < 0.2)), owner_phone, landline)


@dataclass(frozen=True)
class _Stakes:
    """A block of shareholdings; ``primary`` stakes are never scaled down to fit."""

    kind: IntArray
    holder: IntArray
    target: IntArray
    share: FloatArray
    primary: BoolArray

    @staticmethod
    def of(
        kind: int, holder: IntArray, target: IntArray, share: FloatArray, primary: bool
    ) -> _Stakes:
        n = holder.size
        return _Stakes(
            np.full(n, kind, dtype=np.int64),
            holder.astype(np.int64),
            target.astype(np.int64),
            share.astype(np.float64),
            np.full(n, primary),
        )

    @staticmethod
    def concat(blocks: list[_Stakes]) -> _Stakes:
        return _Stakes(
            *(np.concatenate([getattr(b, f) for b in blocks]) for f in _Stakes.__dataclass_fields__)
        )


def _group_holdings(
    rng: np.random.Generator,
    group: IntArray,
    sizes: IntArray,
    controller: IntArray,
    adults: IntArray,
) -> list[_Stakes]:
    """Shareholdings inside the planted groups.

    Member 0 of a group is the top holding; every other member is held by an earlier one
    (its parent) with a majority stake, so control runs down a tree. Where the controller's
    integrated stake through that tree would fall below ``CONTROL_FLOOR`` the controller also
    holds a direct stake, so the controller is the ultimate controller of every member under
    the design's rule (integrated ownership > 50%, else the largest holder at >= 25%).
    """
    members = np.flatnonzero(group >= 0)
    g = group[members]
    first_row = np.r_[0, np.cumsum(sizes)[:-1]].astype(np.int64)
    gstart = members[first_row]
    local = members - gstart[g]
    n_groups = sizes.size
    cycle = rng.random(n_groups) < CYCLE_GROUP_SHARE
    cycle[0] = True  # every bank has at least one three-company ownership cycle
    parent_local = np.where(local >= 2, (rng.random(members.size) * local).astype(np.int64), 0)
    parent_local[(local == 2) & cycle[g]] = 1
    parent_row = first_row[g] + parent_local
    parent = members[parent_row]
    sub = local >= 1
    top = members[local == 0]

    # Cross-holding: a member holds a small stake in its own parent (a two-company cycle);
    # cycle groups: member 2 holds a stake in the top holding (0 -> 1 -> 2 -> 0).
    cross = rng.random(n_groups) < CROSS_GROUP_SHARE
    cross_row = first_row + 1 + (rng.random(n_groups) * (sizes - 1)).astype(np.int64)
    cross_row = cross_row[cross]
    cross_holder, cross_target = members[cross_row], parent[cross_row]
    cycle_holder, cycle_target = gstart[cycle] + 2, gstart[cycle]

    majority = rng.random(n_groups) < 0.55
    c = np.where(majority, rng.uniform(0.51, 0.85, n_groups), rng.uniform(0.25, 0.45, n_groups))
    s = np.where(rng.random(members.size) < 0.4, 1.0, rng.uniform(0.51, 0.95, members.size))
    # A member someone else in the group holds a stake in cannot be wholly owned by its parent.
    s = np.where(np.isin(members, cross_target), np.minimum(s, 0.9), s)
    direct = np.zeros(members.size)
    control = np.where(local == 0, c[g], 0.0)
    extra = rng.uniform(0, 0.03, members.size)
    optional = (rng.random(members.size) < 0.5) * rng.uniform(0.5, 1.0, members.size)
    for j in range(1, int(sizes.max())):
        rows = np.flatnonzero(local == j)
        weak = control[parent_row[rows]] * s[rows] < CONTROL_FLOOR
        s[rows] = np.where(weak, np.minimum(s[rows], 0.7), s[rows])
        via_parent = control[parent_row[rows]] * s[rows]
        needed = CONTROL_FLOOR - via_parent + extra[rows]
        direct[rows] = np.where(weak, needed, (1.0 - s[rows]) * optional[rows])
        control[rows] = via_parent + direct[rows]
    room = 1.0 - s - direct
    to_outsider = sub & (room > 0.005) & ((direct == 0) | (rng.random(members.size) < 0.5))
    to_controller = sub & (direct > 0)

    # Other holders of the top holding each hold less than the controller.
    reserved = c.copy()
    np.add.at(reserved, np.searchsorted(top, cycle_target), 0.12)
    held_top = np.isin(cross_target, top)
    np.add.at(reserved, np.searchsorted(top, cross_target[held_top]), 0.1)
    o_group, _ = ragged(rng.integers(1, 5, size=n_groups))
    o_total = np.maximum(1.0 - reserved, 0.0) * rng.uniform(0.4, 1.0, n_groups)
    o_share = np.minimum(split(rng, o_group, o_total), 0.8 * c[o_group])

    n_out = int(to_outsider.sum())
    return [
        _Stakes.of(ENTERPRISE, parent[sub], members[sub], s[sub], True),
        _Stakes.of(CUSTOMER, controller, top, c, True),
        _Stakes.of(
            CUSTOMER,
            controller[g[to_controller]],
            members[to_controller],
            direct[to_controller],
            True,
        ),
        _Stakes.of(
            ENTERPRISE, cross_holder, cross_target, rng.uniform(0.03, 0.1, cross_row.size), False
        ),
        _Stakes.of(
            ENTERPRISE,
            cycle_holder,
            cycle_target,
            rng.uniform(0.05, 0.12, cycle_holder.size),
            False,
        ),
        _Stakes.of(CUSTOMER, distinct(rng, adults, o_group.size), top[o_group], o_share, False),
        _Stakes.of(
            CUSTOMER,
            distinct(rng, adults, n_out),
            members[to_outsider],
            np.minimum(room[to_outsider], rng.uniform(0.02, 0.1, n_out)),
            False,
        ),
    ]


def _standalone_holdings(
    rng: np.random.Generator, kind: IntArray, adults: IntArray
) -> tuple[list[_Stakes], IntArray]:
    """Founder-led firms (one majority person) and widely held firms (scattered small holders).

    Returns the stakes and, per enterprise, the founder (-1 where there is none).
    """
    firms = np.flatnonzero((kind == MERCHANT) | (kind == OTHER))
    scattered = rng.random(firms.size) < 0.35
    count = np.where(scattered, rng.integers(4, 11, firms.size), rng.integers(1, 4, firms.size))
    item, slot = ragged(count)
    founder_share = np.where(count == 1, 1.0, rng.uniform(0.5, 0.95, firms.size))
    person = distinct(rng, adults, item.size)
    others = slot > 0
    share = np.zeros(item.size)
    share[~others] = founder_share[item[~others]]
    share[others] = split(rng, item[others], 1.0 - founder_share)
    share = np.where(scattered[item], np.minimum(split(rng, item, np.ones(firms.size)), 0.3), share)
    # Corporate investors hold a minority stake in a later-registered firm: never a cycle.
    invested = np.flatnonzero(rng.random(firms.size) < 0.1)
    invested = invested[invested > 0]
    investor = firms[(rng.random(invested.size) * invested).astype(np.int64)]
    founder = np.full(kind.size, -1, dtype=np.int64)
    founder[firms] = person[slot == 0]
    founded = ~others & ~scattered[item]
    stakes = [
        _Stakes.of(CUSTOMER, person[founded], firms[item[founded]], share[founded], True),
        _Stakes.of(CUSTOMER, person[~founded], firms[item[~founded]], share[~founded], False),
        _Stakes.of(
            ENTERPRISE, investor, firms[invested], rng.uniform(0.05, 0.2, invested.size), False
        ),
    ]
    return stakes, founder


def _fit_shares(
    target: IntArray, share: FloatArray, primary: BoolArray, n_enterprises: int
) -> FloatArray:
    """Scale minority stakes down where an enterprise's holdings would add up to more than 1."""
    major = np.bincount(target, weights=np.where(primary, share, 0.0), minlength=n_enterprises)
    minor = np.bincount(target, weights=np.where(primary, 0.0, share), minlength=n_enterprises)
    room = np.maximum(1.0 - major, 0.0)
    factor = np.where(minor > room, room / np.maximum(minor, 1e-12), 1.0)
    fitted = np.where(primary, share, share * factor[target])
    # Round down so the rounded shares of an enterprise still add up to at most 1.
    return np.floor(fitted * 10**SHARE_SCALE + 1e-6) / 10**SHARE_SCALE


def build(
    rng: np.random.Generator, people: People, records: Records, customers: int
) -> tuple[Enterprises, Ownership]:
    """Draw the enterprises, their ownership and who holds positions in them.

    Parameters
    ----------
    rng
        Random stream.
    people, records
        Persons and their customer rows (shareholders and officers are persons).
    customers
        Size of the bank; there are about ``customers / 20`` enterprises.

    Returns
    -------
    tuple
        The enterprises and the ownership tables with the planted-group truth.
    """
    kind, group, sizes = _layout(rng, customers)
    n = kind.size
    n_groups = sizes.size
    age = people.age_years()
    adults = np.flatnonzero(age >= 25)
    if adults.size == 0:
        adults = np.arange(people.n, dtype=np.int64)
    seniors = np.flatnonzero(people.has_core & (age >= 35) & (age <= 70))
    if seniors.size == 0:
        seniors = np.flatnonzero(people.has_core)
    controller = distinct(rng, seniors, n_groups)

    number = unique_ints(rng, 1000, clean_bound(ENTERPRISE_DIGITS), n)
    enterprise_id = prefixed("E", number, ENTERPRISE_DIGITS)
    industry = _industries(rng, kind)
    office = addresses.draw(rng, n)
    name = _names(rng, kind, industry, group, office.city, people.locale)
    region = np.array([int(d[2]) for d in vocab.DISTRICTS], dtype=np.int64)[office.district]

    group_stakes = _group_holdings(rng, group, sizes, controller, adults)
    firm_stakes, founder = _standalone_holdings(rng, kind, adults)
    stakes = _Stakes.concat(group_stakes + firm_stakes)
    h_kind, holder, target = stakes.kind, stakes.holder, stakes.target
    share = _fit_shares(target, stakes.share, stakes.primary, n)
    keep = share > 0
    frame = pd.DataFrame({"k": h_kind, "h": holder, "t": target})
    keep &= ~frame.duplicated().to_numpy()
    h_kind, holder, target, share = h_kind[keep], holder[keep], target[keep], share[keep]

    # Legal representatives: group controller at the top, founder of a founder-led firm.
    legal = founder.copy()
    members = np.flatnonzero(group >= 0)
    top = members[np.r_[0, np.cumsum(sizes)[:-1]]]
    legal[members] = np.where(
        rng.random(members.size) < 0.5,
        controller[group[members]],
        distinct(rng, adults, members.size),
    )
    legal[top] = controller
    no_rep = legal < 0
    legal[no_rep] = distinct(rng, adults, int(no_rep.sum()))
    n_dir = rng.integers(0, 4, size=n)
    n_exec = rng.integers(0, 3, size=n)
    dir_ent, _ = ragged(n_dir)
    exec_ent, _ = ragged(n_exec)
    ctrl_dir = members[rng.random(members.size) < 0.5]
    p_person = np.concatenate(
        [
            legal,
            controller[group[ctrl_dir]],
            distinct(rng, adults, dir_ent.size),
            distinct(rng, adults, exec_ent.size),
        ]
    )
    p_ent = np.concatenate([np.arange(n), ctrl_dir, dir_ent, exec_ent]).astype(np.int64)
    p_role = np.repeat(
        [LEGAL_REP, DIRECTOR, DIRECTOR, EXECUTIVE], [n, ctrl_dir.size, dir_ent.size, exec_ent.size]
    ).astype(np.int64)
    unique_pos = ~pd.DataFrame({"p": p_person, "e": p_ent}).duplicated().to_numpy()
    p_person, p_ent, p_role = p_person[unique_pos], p_ent[unique_pos], p_role[unique_pos]

    small = (kind == MERCHANT) | (kind == OTHER)
    owner_phone = fixed_strings(people.phone[legal])
    capital = rng.lognormal(np.log(5e6), 1.2, size=n)
    capital = np.where(kind == UTILITY, capital * 100, capital)
    capital[top] *= 20
    capital_cents = (np.round(capital / 10_000) * 10_000 * 100).astype(np.int64)
    risk = rng.choice(3, size=n, p=(0.85, 0.12, 0.03)).astype(np.int64)
    size_weight = capital / capital.mean() * rng.lognormal(0, 0.5, size=n)

    enterprises = Enterprises(
        kind=kind,
        industry=industry,
        group=group,
        enterprise_id=enterprise_id,
        text={
            "name": name,
            "credit_code": credit_codes(rng, region),
            "address": addresses.render(
                rng, office, np.arange(n, dtype=np.int64), 0.3, office=True, locale=people.locale
            ),
            "phone": _phones(rng, office, owner_phone, small),
        },
        registered_capital=capital_cents,
        risk=risk,
        legal_rep=legal,
        size_weight=size_weight,
    )

    party = pa.array(list(model.PARTY_KINDS))
    ids = pa.concat_arrays([records.customer_id, enterprise_id])
    person_holder = np.where(h_kind == CUSTOMER, holder, 0)
    holder_code = np.where(h_kind == CUSTOMER, records.primary[person_holder], records.n + holder)
    order = rng.permutation(holder.size)
    shareholdings = Frame(
        model.SHAREHOLDINGS,
        {
            "holder_id": Coded(holder_code[order], ids),
            "enterprise_id": Coded(target[order], enterprise_id),
            "holder_kind": Coded(h_kind[order], party),
            "share": Fixed(np.round(share[order] * 10**SHARE_SCALE).astype(np.int64), SHARE_SCALE),
        },
    )
    p_order = rng.permutation(p_person.size)
    positions = Frame(
        model.POSITIONS,
        {
            "customer_id": Coded(records.primary[p_person][p_order], records.customer_id),
            "enterprise_id": Coded(p_ent[p_order], enterprise_id),
            "role": Coded(p_role[p_order], pa.array(list(model.ROLES))),
        },
    )
    controller_record = records.rec_of[controller, CORE]
    controller_record = np.where(
        controller_record >= 0, controller_record, records.primary[controller]
    )
    groups = pa.table(
        {
            "enterprise_id": enterprise_id.take(pa.array(members)),
            "group_key": pc.binary_replace_slice(numbers_text(group[members] + 100_001), 0, 1, "G"),
            "controller_id": records.customer_id.take(pa.array(controller_record[group[members]])),
        }
    )
    return enterprises, Ownership(shareholdings, positions, groups)
