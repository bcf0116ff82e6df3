"""Enterprises, who works where, who owns what, corporate groups and guarantees.

Employers have a heavy-tailed head count (Pareto weights, shape 1.1): a few employ hundreds
of the bank's customers, most a handful. Merchants are small shops owned by one person with a
few staff. Corporate groups are a holding company over a tree of subsidiaries with the
ownership layouts in ``CONTROL_MODES``; 20% add a cross-holding, 15% a minority stake in an
outside firm. Guarantees are acyclic apart from the planted circles (see ``guarantees``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pandas as pd

from indbank import idcards, places
from indbank.population import SPOUSE_R, Population

EMPLOYED_SHARE: Final = 0.70
"""Of persons aged 22–60, the share with an employer at this bank."""
PERSONS_PER_EMPLOYER: Final = 45
PERSONS_PER_MERCHANT: Final = 60
PERSONS_PER_GROUP: Final = 1200
CONTROL_MODES: Final = (
    ("majority", 0.50),
    ("plurality", 0.25),
    ("vehicle", 0.15),
    ("concert", 0.10),
)
CROSS_HOLDING_SHARE: Final = 0.20
OUTSIDE_STAKE_SHARE: Final = 0.15
PERSONS_PER_CIRCLE: Final = 1600
CIRCLE_LENGTHS: Final = (
    (2, 0.30),
    (3, 0.25),
    (4, 0.20),
    (5, 0.10),
    (6, 0.07),
    (7, 0.05),
    (8, 0.03),
)
BRANDS: Final = [
    "华信",
    "恒达",
    "鑫源",
    "金泰",
    "宏图",
    "天成",
    "盛世",
    "永安",
    "博远",
    "中联",
    "东方",
    "嘉禾",
    "瑞丰",
    "汇通",
    "创新",
    "众诚",
    "福兴",
    "万利",
    "德润",
    "新世纪",
    "安泰",
    "国泰",
    "远航",
    "腾达",
    "兴业",
    "美佳",
    "康源",
    "海纳",
    "长青",
    "祥和",
]
INDUSTRIES: Final = (
    ("科技", "信息技术"), ("贸易", "批发和零售业"), ("建设工程", "建筑业"), ("实业", "制造业"),
    ("物流", "交通运输"), ("置业", "房地产业"), ("餐饮管理", "住宿和餐饮业"), ("咨询", "商务服务业"),
)  # fmt: skip
SHOPS: Final = ("便利店", "餐馆", "水果店", "理发店", "手机维修", "五金店", "面馆", "药店")


@dataclass
class Firms:
    frame: pd.DataFrame
    kind: np.ndarray
    """0 employer, 1 merchant, 2 holding or vehicle, 3 shell."""
    employer_of: np.ndarray
    """Per person, their employer (enterprise index) or -1."""
    owner_of: np.ndarray
    """Per enterprise, its main person owner (person index) or -1."""
    shareholdings: list[tuple[int, int, int, float]] = field(default_factory=list)
    """(holder, enterprise, holder_kind 0 person / 1 enterprise, share)."""
    positions: list[tuple[int, int, str]] = field(default_factory=list)
    groups: list[tuple[int, list[int]]] = field(default_factory=list)
    """(controller person, member enterprises) per planted group."""
    depth: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def ids(self) -> np.ndarray:
        return self.frame["enterprise_id"].to_numpy(dtype=object)


def _names(
    rng: np.random.Generator, kind: np.ndarray, city: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    n = kind.size
    brand = np.array(BRANDS, dtype=object)
    b1 = brand[rng.integers(0, brand.size, n)]
    b2 = brand[rng.integers(0, brand.size, n)]
    ind = rng.integers(0, len(INDUSTRIES), n)
    shop = np.array(SHOPS, dtype=object)[rng.integers(0, len(SHOPS), n)]
    names_out = np.empty(n, dtype=object)
    industry = np.empty(n, dtype=object)
    for i in range(n):
        city_name = places.CITY_PREFIX[city[i]].split("省")[-1].rstrip("市")
        if kind[i] == 1:
            names_out[i] = f"{city_name}{places.DISTRICT[city[i]]}{b1[i]}{shop[i]}"
            industry[i] = "住宿和餐饮业" if "馆" in shop[i] else "批发和零售业"
        elif kind[i] == 2:
            names_out[i] = f"{city_name}{b1[i]}{b2[i]}投资控股有限公司"
            industry[i] = "投资管理"
        elif kind[i] == 3:
            names_out[i] = f"{city_name}{b1[i]}{b2[i]}商贸有限公司"
            industry[i] = "批发和零售业"
        else:
            word, sector = INDUSTRIES[ind[i]]
            names_out[i] = f"{city_name}{b1[i]}{b2[i]}{word}有限公司"
            industry[i] = sector
    return names_out, industry


def build(
    rng: np.random.Generator, group_rng: np.random.Generator, pop: Population, n_shells: int
) -> Firms:
    """Employers, merchants, holdings and shells; employment; ownership and groups."""
    n_emp = max(6, pop.n // PERSONS_PER_EMPLOYER)
    n_merch = max(4, pop.n // PERSONS_PER_MERCHANT)
    n_groups = max(3, pop.n // PERSONS_PER_GROUP)
    # Holding companies and personal investment vehicles: two slots per group.
    kind = np.concatenate(
        [
            np.zeros(n_emp, int),
            np.ones(n_merch, int),
            np.full(2 * n_groups, 2),
            np.full(n_shells, 3),
        ]
    )
    n_ent = kind.size
    owner_of = np.full(n_ent, -1)

    working = np.flatnonzero((pop.age >= 22) & (pop.age <= 60))
    adults = np.flatnonzero((pop.age >= 28) & (pop.age <= 65))
    # Merchants: one owner each (self-employed), a few staff.
    merch = np.flatnonzero(kind == 1)
    owner_of[merch] = rng.choice(adults, size=merch.size, replace=False)
    employer_of = np.full(pop.n, -1)
    employer_of[owner_of[merch]] = merch
    employed = working[rng.random(working.size) < EMPLOYED_SHARE]
    employed = employed[employer_of[employed] < 0]
    weight = np.concatenate([rng.pareto(1.1, n_emp) + 1.0, np.full(n_merch, 0.15)])
    target = np.concatenate([np.flatnonzero(kind == 0), merch])
    employer_of[employed] = target[
        rng.choice(target.size, size=employed.size, p=weight / weight.sum())
    ]

    # Person owners of employers not in a group (chosen below): 1–3 owners, often a couple.
    emp = np.flatnonzero(kind == 0)
    spouse_of = np.full(pop.n, -1)
    sp = pop.tie_rel == SPOUSE_R
    spouse_of[pop.tie_a[sp]] = pop.tie_b[sp]

    firms = Firms(
        frame=pd.DataFrame(),
        kind=kind,
        employer_of=employer_of,
        owner_of=owner_of,
        depth=np.full(n_ent, 99),
    )
    for m in merch:
        firms.shareholdings.append((int(owner_of[m]), int(m), 0, 1.0))
        firms.positions.append((int(owner_of[m]), int(m), "legal_rep"))

    in_group = np.zeros(n_ent, dtype=bool)
    hold_slots = np.flatnonzero(kind == 2)
    # Controllers, main owners of other firms and shell nominees are all different people, so
    # common control by one person happens only inside a planted group.
    taken = np.zeros(pop.n, dtype=bool)
    taken[owner_of[merch]] = True
    rich = adults[(pop.age[adults] >= 35) & ~taken[adults]]
    controllers = group_rng.choice(rich, size=n_groups, replace=False)
    taken[controllers] = True
    used_owner = set(int(x) for x in owner_of[merch])
    sub_pool = list(group_rng.permutation(emp))
    for g in range(n_groups):
        c = int(controllers[g])
        used_owner.add(c)
        h, v = int(hold_slots[2 * g]), int(hold_slots[2 * g + 1])
        n_sub = int(group_rng.integers(1, 8))
        subs = [int(sub_pool.pop()) for _ in range(min(n_sub, len(sub_pool) - 10))]
        members = [h, *subs]
        mode = group_rng.choice(len(CONTROL_MODES), p=[p for _, p in CONTROL_MODES])
        outsiders = [int(x) for x in group_rng.choice(adults, size=4, replace=False)]
        stakes: list[tuple[int, int, float]] = []  # (holder, holder_kind, share) in h
        if mode == 0:
            s = float(group_rng.uniform(0.51, 0.9))
            stakes.append((c, 0, s))
        elif mode == 1:
            s = float(group_rng.uniform(0.30, 0.45))
            stakes.append((c, 0, s))
        elif mode == 2:
            s = float(group_rng.uniform(0.51, 0.8))
            stakes.append((v, 1, s))
            firms.shareholdings.append((c, v, 0, 1.0))
            firms.positions.append((c, v, "legal_rep"))
            owner_of[v] = c
            members.append(v)
        else:
            s = float(group_rng.uniform(0.30, 0.40))
            stakes.append((c, 0, s))
            if spouse_of[c] >= 0:
                stakes.append((int(spouse_of[c]), 0, float(group_rng.uniform(0.12, s - 0.08))))
        rest = 1.0 - sum(x[2] for x in stakes)
        top = s - 0.05
        k = max(1, int(np.ceil(rest / top)) if top > 0 else 1)
        k = min(max(k, int(group_rng.integers(1, 4))), 4)
        parts = group_rng.dirichlet(np.ones(k)) * rest
        while parts.max() >= s and k < 4:
            k += 1
            parts = group_rng.dirichlet(np.ones(k)) * rest
        if parts.max() < s:
            stakes += [
                (o, 0, float(p)) for o, p in zip(outsiders[:k], parts, strict=False) if p > 0.005
            ]
        for holder, hk, share in stakes:
            firms.shareholdings.append((holder, h, hk, round(share, 4)))
        owner_of[h] = c
        firms.positions.append((c, h, "legal_rep"))
        firms.depth[h] = 0
        if mode != 2:
            kind[v] = 0  # the unused vehicle slot becomes an ordinary small firm
        else:
            firms.depth[v] = -1
        # Subsidiary tree: each under the holding (60%) or an earlier subsidiary.
        placed = [h]
        for sub in subs:
            parent = h if group_rng.random() < 0.6 else placed[int(group_rng.integers(len(placed)))]
            firms.depth[sub] = firms.depth[parent] + 1
            if group_rng.random() < 0.75:
                share = 1.0 if group_rng.random() < 0.25 else float(group_rng.uniform(0.51, 0.99))
                firms.shareholdings.append((parent, sub, 1, round(share, 4)))
                left = 1.0 - share
                if left > 0.005:
                    firms.shareholdings.append(
                        (int(group_rng.choice(adults)), sub, 0, round(left, 4))
                    )
            else:
                share = float(group_rng.uniform(0.30, 0.49))
                firms.shareholdings.append((parent, sub, 1, round(share, 4)))
                left = 1.0 - share
                others = group_rng.choice(adults, size=3, replace=False)
                for o, p in zip(others, group_rng.dirichlet(np.ones(3)) * left, strict=True):
                    firms.shareholdings.append(
                        (int(o), sub, 0, round(min(float(p), share - 0.02), 4))
                    )
            manager = int(group_rng.choice(adults))
            firms.positions.append((manager, sub, "legal_rep"))
            firms.positions.append((c, sub, "director"))
            placed.append(sub)
        if len(subs) >= 2 and group_rng.random() < CROSS_HOLDING_SHARE:
            # A subsidiary takes a small stake in the holding, out of an outside holder's part.
            a = subs[int(group_rng.integers(len(subs)))]
            cross = round(float(group_rng.uniform(0.02, 0.08)), 4)
            outside = [
                i
                for i, t in enumerate(firms.shareholdings)
                if t[1] == h and t[2] == 0 and t[0] != c and t[3] > cross + 0.01
            ]
            if outside:
                i = outside[0]
                holder, ent, hk, share = firms.shareholdings[i]
                firms.shareholdings[i] = (holder, ent, hk, round(share - cross, 4))
                firms.shareholdings.append((a, h, 1, cross))
        in_group[members] = True
        firms.groups.append((c, members))

    # Person-owned employers (not in groups) and ordinary firms from unused vehicle slots.
    free = np.flatnonzero((kind == 0) & ~in_group)
    mains = rng.choice(adults[~taken[adults]], size=free.size, replace=False)
    taken[mains] = True
    for e, main_owner in zip(free, mains, strict=True):
        main = int(main_owner)
        owner_of[e] = main
        k = int(rng.choice([1, 2, 3], p=[0.45, 0.40, 0.15]))
        shares = np.sort(rng.dirichlet(np.ones(k) * 2))[::-1]
        holders = [main]
        if k >= 2:
            second = (
                int(spouse_of[main])
                if spouse_of[main] >= 0 and rng.random() < 0.4
                else int(rng.choice(adults))
            )
            holders.append(second)
        if k == 3:
            holders.append(int(rng.choice(adults)))
        seen: set[int] = set()
        for hld, s in zip(holders, shares, strict=True):
            if hld in seen:
                continue
            seen.add(hld)
            firms.shareholdings.append((hld, int(e), 0, round(float(s), 4)))
        firms.positions.append((main, int(e), "legal_rep"))
        if rng.random() < 0.3 and employer_of[main] < 0:
            employer_of[main] = e
    # Minority stakes of groups in outside firms (not members).
    for _controller, members in firms.groups:
        if rng.random() < OUTSIDE_STAKE_SHARE and free.size:
            target_firm = int(rng.choice(free))
            stake = round(float(rng.uniform(0.05, 0.20)), 4)
            rows = [i for i, t in enumerate(firms.shareholdings) if t[1] == target_firm]
            i = max(rows, key=lambda j: firms.shareholdings[j][3])
            holder, ent, hk, share = firms.shareholdings[i]
            if share > stake + 0.05:
                firms.shareholdings[i] = (holder, ent, hk, round(share - stake, 4))
                firms.shareholdings.append((members[0], target_firm, 1, stake))
    # Executives: 2% of employees hold an executive position at their employer.
    staff = np.flatnonzero(employer_of >= 0)
    execs = staff[rng.random(staff.size) < 0.02]
    for p in execs:
        firms.positions.append((int(p), int(employer_of[p]), "executive"))
    # Shells: owned by a nominee (often a young person lending their identity).
    shells = np.flatnonzero(kind == 3)
    young = np.flatnonzero((pop.age >= 20) & (pop.age <= 30) & ~taken)
    nominees = rng.choice(young, size=shells.size, replace=False)
    for e, nominee_index in zip(shells, nominees, strict=True):
        nominee = int(nominee_index)
        owner_of[e] = nominee
        firms.shareholdings.append((nominee, int(e), 0, 1.0))
        firms.positions.append((nominee, int(e), "legal_rep"))
    firms.frame = _frame(rng, pop, firms)
    return firms


def _frame(rng: np.random.Generator, pop: Population, firms: Firms) -> pd.DataFrame:
    kind = firms.kind
    n = kind.size
    from indbank.streams import unique_ints

    number = unique_ints(rng, 10**7, 10**8, n)
    ids = np.array([f"E{v:08d}" for v in number], dtype=object)
    owner = firms.owner_of
    city = np.where(
        owner >= 0,
        pop.dwellings.city[pop.flat[np.maximum(owner, 0)]],
        rng.choice(places.CITIES, size=n),
    )
    name, industry = _names(rng, kind, city)
    credit = idcards.credit_codes(places.REGION_CODES[city], rng)
    # Shops and shells are registered at the owner's flat; others at an office floor.
    office = rng.integers(0, pop.dwellings.n, size=n)
    home = (owner >= 0) & ((kind == 1) | (kind == 3) | (rng.random(n) < 0.1))
    address = pop.dwellings.business_text(office)
    home_text = pop.dwellings.text(pop.flat[np.maximum(owner, 0)], np.zeros(n, dtype=np.int64))
    address[home] = home_text[home]
    area = {0: "010", 1: "021", 2: "0755", 3: "021", 4: "0755", 5: "0755", 6: "0571", 7: "028"}
    landline = np.array(
        [
            f"{area.get(int(c), '010')}-{v}"
            for c, v in zip(
                np.clip(city, 0, 7), rng.integers(5 * 10**7, 9 * 10**7, size=n), strict=True
            )
        ],
        dtype=object,
    )
    own_mobile = (owner >= 0) & ((kind == 1) | (kind == 3))
    phone = landline
    phone[own_mobile] = [f"{v:011d}" for v in pop.phone[owner[own_mobile]]]
    capital = np.round(np.exp(rng.normal(14.0, 1.3, n)) / 10_000) * 10_000
    capital[kind == 1] = (
        np.round(np.exp(rng.normal(11.5, 0.6, int((kind == 1).sum()))) / 1000) * 1000
    )
    capital[kind == 3] = 100_000.0
    deposits = np.round(np.exp(rng.normal(13.0, 1.5, n)), 2)
    loans = np.where(rng.random(n) < 0.4, np.round(np.exp(rng.normal(15.0, 1.0, n)), 2), 0.0)
    credit_limit = np.round(loans * rng.uniform(1.0, 1.5, n), -3)
    risk = rng.choice(
        np.array(["low", "medium", "high"], dtype=object), size=n, p=[0.7, 0.25, 0.05]
    )
    return pd.DataFrame(
        {
            "enterprise_id": ids,
            "name": name,
            "credit_code": credit,
            "industry": industry,
            "registered_capital": capital,
            "deposits": deposits,
            "loans": loans,
            "credit_limit": credit_limit,
            "address": address,
            "phone": phone,
            "risk_rating": risk,
        }
    )
