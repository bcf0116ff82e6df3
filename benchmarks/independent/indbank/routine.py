"""Everyday money: salaries, shopping, rent (some relayed through family), household transfers,
moves between a person's own accounts, support for parents, red envelopes, trade and cash pooling.

Several of these look like laundering typologies on purpose: payroll is a fan-out, platform
merchants and landlords with several flats are fan-ins, rent relayed through a parent is a
two-hop pass-through within days, red envelopes from grandparents are same-day fan-outs, and
group cash pooling gathers subsidiaries' money weekly. Amounts are log-normal with the
medians (CNY) and spreads named below; every draw is vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np

from indbank import clock
from indbank.accounts import Accounts
from indbank.firms import Firms
from indbank.population import CHILD_R, MATE, PARENT_R, SPOUSE_R, Population

SALARY_MEDIAN: Final = 7500.0
SALARY_SIGMA: Final = 0.5
BONUS_EMPLOYER_SHARE: Final = 0.6
SPEND_PER_YEAR_MEAN: Final = 8.0
SPEND_MEDIAN: Final = 150.0
SPEND_SIGMA: Final = 1.0
PLATFORMS: Final = 3
PLATFORM_SHARE: Final = 0.30
SETTLEMENT_MEDIAN: Final = 6000.0
STAFF_PAY_MEDIAN: Final = 4500.0
RENTER_SINGLE_SHARE: Final = 0.30
RENTS_PER_LANDLORD: Final = 2.5
RENT_MEDIAN: Final = 3000.0
RENT_RELAY_SHARE: Final = 0.25
RENT_PARENT_PAYS_SHARE: Final = 0.10
SPOUSE_TRANSFER_SHARE: Final = 0.7
SPOUSE_MEDIAN: Final = 4000.0
WEALTH_MOVE_MEDIAN: Final = 50_000.0
LOAN_REPAYMENT_MEDIAN: Final = 4500.0
SUPPORT_SHARE: Final = 0.6
SUPPORT_MEDIAN: Final = 1500.0
HONGBAO_SHARE: Final = 0.6
HONGBAO_AMOUNTS: Final = np.array([200, 500, 666, 888, 1000, 1888, 2000, 5000, 6666, 8888], float)
SUPPLIERS: Final = (2, 6)
INVOICE_MEDIAN: Final = 80_000.0
POOLING_MEDIAN: Final = 200_000.0

KINDS: Final = (
    "salary",
    "bonus",
    "shopping",
    "settlement",
    "staff_pay",
    "rent",
    "rent_relay",
    "spouse",
    "own_accounts",
    "support",
    "red_envelope",
    "trade",
    "cash_pooling",
)


@dataclass
class Flows:
    """Transfers being collected: account indices, amounts, seconds into the year, kind."""

    src: list[np.ndarray] = field(default_factory=list)
    dst: list[np.ndarray] = field(default_factory=list)
    amount: list[np.ndarray] = field(default_factory=list)
    sec: list[np.ndarray] = field(default_factory=list)
    kind: list[np.ndarray] = field(default_factory=list)
    opened: np.ndarray | None = None
    """Per account, seconds into the year it was opened: no routine transfer before that."""

    def add(
        self, src: np.ndarray, dst: np.ndarray, amount: np.ndarray, sec: np.ndarray, kind: int
    ) -> None:
        ok = (src >= 0) & (dst >= 0) & (src != dst) & (amount >= 0.01)
        ok &= (sec >= 0) & (sec < clock.DAYS * clock.DAY)
        if self.opened is not None:
            s, d = np.maximum(src, 0), np.maximum(dst, 0)
            ok &= (sec >= self.opened[s]) & (sec >= self.opened[d])
        self.src.append(src[ok].astype(np.int64))
        self.dst.append(dst[ok].astype(np.int64))
        self.amount.append(np.round(amount[ok], 2))
        self.sec.append(sec[ok].astype(np.int64))
        self.kind.append(np.full(int(ok.sum()), kind, dtype=np.int64))


def _lognormal(rng: np.random.Generator, median: float, sigma: float, n: int) -> np.ndarray:
    return np.exp(rng.normal(np.log(median), sigma, size=n))


def _at(rng: np.random.Generator, day: np.ndarray, office: bool = False) -> np.ndarray:
    if office:
        tod = rng.integers(9 * 3600, 17 * 3600, size=day.size)
    else:
        tod = clock.time_of_day(rng, day.size)
    return day.astype(np.int64) * clock.DAY + tod


def build(
    rng: np.random.Generator, pop: Population, firms: Firms, acc: Accounts, flows: Flows
) -> None:
    main = acc.main_of_person
    firm_main = acc.main_of_firm
    n = pop.n
    kind = firms.kind

    # Salaries and year-end bonuses.
    emp = firms.employer_of
    staff = np.flatnonzero((emp >= 0) & (main >= 0))
    # Shop staff are paid by the owner personally (below), not from the shop's account.
    staff = staff[(firms.owner_of[emp[staff]] != staff) & (kind[emp[staff]] != 1)]
    payday = rng.integers(5, 16, size=kind.size)
    pay = _lognormal(rng, SALARY_MEDIAN, SALARY_SIGMA, n)
    who, day = clock.monthly(payday[emp[staff]])
    person = staff[who]
    amount = pay[person] * (1 + rng.normal(0, 0.02, person.size))
    flows.add(firm_main[emp[person]], main[person], amount, _at(rng, day, office=True), 0)
    bonus_firm = rng.random(kind.size) < BONUS_EMPLOYER_SHARE
    got = staff[bonus_firm[emp[staff]]]
    bday = rng.integers(14, 24, size=kind.size)[emp[got]]
    flows.add(
        firm_main[emp[got]],
        main[got],
        pay[got] * rng.uniform(1, 3, got.size),
        _at(rng, bday, True),
        1,
    )

    # Shopping at merchants and a few large platforms.
    shoppers = np.flatnonzero(main >= 0)
    rate = rng.gamma(2.0, SPEND_PER_YEAR_MEAN / 2.0, size=shoppers.size)
    count = rng.poisson(rate)
    buyer = np.repeat(shoppers, count)
    merchants = np.flatnonzero(kind == 1)
    employers = np.flatnonzero(kind == 0)
    platforms = employers[:PLATFORMS]
    popularity = rng.pareto(1.5, merchants.size) + 1
    shop = merchants[rng.choice(merchants.size, size=buyer.size, p=popularity / popularity.sum())]
    online = rng.random(buyer.size) < PLATFORM_SHARE
    shop[online] = platforms[rng.integers(0, platforms.size, int(online.sum()))]
    card = acc.by_record[1]
    person_card = np.full(n, -1)
    rec_of_card = np.flatnonzero(card >= 0)
    person_card[acc.person[card[rec_of_card]]] = card[rec_of_card]
    use_card = (person_card[buyer] >= 0) & (rng.random(buyer.size) < 0.5)
    src = np.where(use_card, person_card[buyer], main[buyer])
    sday = clock.days(rng, buyer.size, clock.spending_weights())
    flows.add(
        src,
        firm_main[shop],
        _lognormal(rng, SPEND_MEDIAN, SPEND_SIGMA, buyer.size),
        _at(rng, sday),
        2,
    )

    # Merchants settle to their owner weekly; owners pay shop staff from their own account.
    weeks = np.arange(52)
    m_rep = np.repeat(merchants, 52)
    wk = (
        np.tile(weeks, merchants.size) * 7
        + rng.integers(0, 7, merchants.size)[np.repeat(np.arange(merchants.size), 52)]
    )
    owner = firms.owner_of[m_rep]
    flows.add(
        firm_main[m_rep],
        main[owner],
        _lognormal(rng, SETTLEMENT_MEDIAN, 0.6, m_rep.size),
        _at(rng, wk),
        3,
    )
    shop_staff = np.flatnonzero((emp >= 0) & (main >= 0))
    shop_staff = shop_staff[
        (kind[emp[shop_staff]] == 1) & (firms.owner_of[emp[shop_staff]] != shop_staff)
    ]
    who, day = clock.monthly(np.full(shop_staff.size, 3))
    p = shop_staff[who]
    flows.add(
        main[firms.owner_of[emp[p]]],
        main[p],
        _lognormal(rng, STAFF_PAY_MEDIAN, 0.3, p.size),
        _at(rng, day + rng.integers(0, 3, p.size)),
        4,
    )

    # Rent: flatmates and some young singles; landlords own several flats.
    single_young = (pop.htype == 0) & (pop.age <= 40) & (rng.random(n) < RENTER_SINGLE_SHARE)
    renter = np.flatnonzero(((pop.role == MATE) | single_young) & (main >= 0))
    older = np.flatnonzero((pop.age >= 45) & (pop.age <= 75) & (main >= 0))
    n_landlords = max(1, int(renter.size / RENTS_PER_LANDLORD))
    landlords = rng.choice(older, size=min(n_landlords, older.size), replace=False)
    landlord = landlords[rng.integers(0, landlords.size, renter.size)]
    rent = _lognormal(rng, RENT_MEDIAN, 0.35, renter.size)
    parent_of = np.full(n, -1)
    par = pop.tie_rel == PARENT_R
    parent_of[pop.tie_a[par]] = pop.tie_b[par]
    has_parent = (parent_of[renter] >= 0) & (main[np.maximum(parent_of[renter], 0)] >= 0)
    mode = np.where(
        has_parent,
        rng.choice(
            3,
            size=renter.size,
            p=[
                1 - RENT_RELAY_SHARE - RENT_PARENT_PAYS_SHARE,
                RENT_RELAY_SHARE,
                RENT_PARENT_PAYS_SHARE,
            ],
        ),
        0,
    )
    rent_day = rng.integers(1, 6, renter.size)
    who, day = clock.monthly(rent_day)
    r = renter[who]
    m = mode[who]
    ll = landlord[who]
    amount = rent[who]
    par_acc = main[np.maximum(parent_of[r], 0)]
    # Relay: the parent sends rent plus an allowance, the child pays the landlord 0.2–3 days on.
    relay = m == 1
    t0 = _at(rng, day[relay] - 2)
    flows.add(
        par_acc[relay],
        main[r[relay]],
        amount[relay] + rng.uniform(0, 2000, int(relay.sum())),
        t0,
        6,
    )
    lag = (rng.uniform(0.2, 3.0, int(relay.sum())) * clock.DAY).astype(np.int64)
    flows.add(main[r[relay]], main[ll[relay]], amount[relay], t0 + lag, 6)
    direct = m == 2
    flows.add(par_acc[direct], main[ll[direct]], amount[direct], _at(rng, day[direct]), 5)
    own = m == 0
    flows.add(main[r[own]], main[ll[own]], amount[own], _at(rng, day[own]), 5)

    # Spouses: the household budget moves monthly between the spouses' own accounts.
    sp = (pop.tie_rel == SPOUSE_R) & (pop.tie_a < pop.tie_b)
    a, b = pop.tie_a[sp], pop.tie_b[sp]
    keep = rng.random(a.size) < SPOUSE_TRANSFER_SHARE
    a, b = a[keep], b[keep]
    flip = rng.random(a.size) < 0.5
    a, b = np.where(flip, b, a), np.where(flip, a, b)
    who, day = clock.monthly(rng.integers(10, 21, a.size))
    flows.add(
        main[a[who]], main[b[who]], _lognormal(rng, SPOUSE_MEDIAN, 0.6, who.size), _at(rng, day), 7
    )

    # Own accounts: into and out of wealth products, loan repayments, second deposits.
    rec_person = acc.person
    for code, per_year, median in (
        (3, 4, WEALTH_MOVE_MEDIAN),
        (2, 12, LOAN_REPAYMENT_MEDIAN),
        (0, 3, 20_000.0),
    ):
        holders = np.flatnonzero((acc.product == code) & (rec_person >= 0))
        if code == 0:
            holders = holders[holders != main[rec_person[holders]]]
        holders = holders[main[rec_person[holders]] >= 0]
        if per_year == 12:
            who, day = clock.monthly(rng.integers(1, 28, holders.size))
            amt = _lognormal(rng, median, 0.4, holders.size)[who]
        else:
            who = np.repeat(np.arange(holders.size), per_year)
            day = clock.days(rng, who.size)
            amt = _lognormal(rng, median, 0.8, who.size)
        h = holders[who]
        back = (rng.random(who.size) < 0.3) & (code != 2)
        s = np.where(back, h, main[rec_person[h]])
        d = np.where(back, main[rec_person[h]], h)
        flows.add(s, d, amt, _at(rng, day), 8)

    # Support for parents (mostly those living elsewhere).
    ch = pop.tie_rel == CHILD_R  # tie_b is tie_a's child: the child supports tie_a
    par_, kid = pop.tie_a[ch], pop.tie_b[ch]
    share = np.where(pop.tie_home[ch], 0.15, SUPPORT_SHARE)
    pick = (rng.random(par_.size) < share) & (pop.age[kid] >= 24)
    par_, kid = par_[pick], kid[pick]
    who, day = clock.monthly(rng.integers(1, 28, par_.size))
    flows.add(
        main[kid[who]],
        main[par_[who]],
        _lognormal(rng, SUPPORT_MEDIAN, 0.5, par_.size)[who],
        _at(rng, day),
        9,
    )

    # Red envelopes in the festival season: elders to the young, siblings to each other.
    elder = pop.age[pop.tie_a] >= pop.age[pop.tie_b] + 15
    give = (elder & (rng.random(pop.tie_a.size) < HONGBAO_SHARE)) | (
        (pop.tie_rel == 3) & (rng.random(pop.tie_a.size) < 0.2)
    )
    g, r_ = pop.tie_a[give], pop.tie_b[give]
    lo, hi = clock.SPRING_FESTIVAL
    day = np.full(g.size, 27)  # Lunar New Year's Eve (28 January; day 0 is 1 January)
    spread = rng.random(g.size) < 0.4
    day[spread] = rng.integers(lo, hi, int(spread.sum()))
    flows.add(main[g], main[r_], rng.choice(HONGBAO_AMOUNTS, size=g.size), _at(rng, day), 10)

    # Trade between firms: each employer pays 2–5 suppliers monthly-ish.
    buyers = employers
    k = rng.integers(*SUPPLIERS, size=buyers.size)
    bb = np.repeat(buyers, k)
    sup = employers[rng.integers(0, employers.size, bb.size)]
    invoice = _lognormal(rng, INVOICE_MEDIAN, 1.0, bb.size)
    who, day = clock.monthly(rng.integers(1, 29, bb.size))
    flows.add(
        firm_main[bb[who]],
        firm_main[sup[who]],
        invoice[who] * rng.uniform(0.7, 1.3, who.size),
        _at(rng, day, True),
        11,
    )
    # Shells trade a little, for cover.
    shells = np.flatnonzero(kind == 3)
    sh = np.repeat(shells, 6)
    flows.add(
        firm_main[sh],
        firm_main[employers[rng.integers(0, employers.size, sh.size)]],
        _lognormal(rng, 20_000, 0.8, sh.size),
        _at(rng, clock.days(rng, sh.size), True),
        11,
    )

    # Cash pooling: subsidiaries sweep to the holding every Friday; the holding funds back monthly.
    for _, members in firms.groups:
        hold, subs = members[0], np.array(members[1:], dtype=np.int64)
        subs = subs[kind[subs] == 0]
        if subs.size == 0:
            continue
        fridays = np.arange(2, clock.DAYS, 7)
        s = np.repeat(subs, fridays.size)
        d = np.tile(fridays, subs.size)
        flows.add(
            firm_main[s],
            np.full(s.size, firm_main[hold]),
            _lognormal(rng, POOLING_MEDIAN, 0.8, s.size),
            d * clock.DAY + 17 * 3600 + rng.integers(0, 1800, s.size),
            12,
        )
        who, day = clock.monthly(np.full(subs.size, 2))
        flows.add(
            np.full(who.size, firm_main[hold]),
            firm_main[subs[who]],
            _lognormal(rng, POOLING_MEDIAN * 3, 0.5, who.size),
            _at(rng, day, True),
            12,
        )
