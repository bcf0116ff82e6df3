"""Background transfers (salaries, bills, card repayments, shopping, P2P, B2B) and the table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pyarrow as pa

from relgraph import model
from relgraph.synth import clock
from relgraph.synth.enterprises import MERCHANT, UTILITY, Enterprises
from relgraph.synth.frame import Coded, Fixed, Frame, Prefixed, Timestamp
from relgraph.synth.ids import TX_DIGITS, FloatArray, IntArray
from relgraph.synth.laundering import Planted
from relgraph.synth.people import People
from relgraph.synth.sampling import ragged, zipf

CURRENCIES: Final = ("CNY", "USD", "HKD")
CNY_PER: Final = (1.0, 7.1, 0.91)
FOREIGN_SHARES: Final = (0.005, 0.003)
"""Share of shopping and P2P transfers in USD and HKD."""
# Activity by hour of day (relative): quiet nights, busy lunch and evening.
_HOURLY: Final = np.array(
    [1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 2, 4, 5, 6, 6, 7, 6, 5, 5, 5, 6, 7, 8, 8, 7, 5, 3],
    dtype=np.float64,
)
WINDOW_DAYS: Final = (clock.WINDOW_END - clock.WINDOW_START) // clock.DAY


@dataclass(frozen=True)
class Flows:
    """Transfers by internal account index, not yet ordered or numbered."""

    source: IntArray
    target: IntArray
    amount: IntArray
    """In cents, in ``currency``."""
    ts: IntArray
    currency: IntArray


def _any_time(rng: np.random.Generator, n: int) -> IntArray:
    day = rng.integers(0, WINDOW_DAYS, size=n)
    hour = rng.choice(24, size=n, p=_HOURLY / _HOURLY.sum())
    second = rng.integers(0, clock.HOUR, size=n)
    return clock.WINDOW_START + day * clock.DAY + hour * clock.HOUR + second


def _monthly(
    rng: np.random.Generator, dom: IntArray, from_hour: float, to_hour: float
) -> tuple[IntArray, IntArray]:
    """Three monthly occurrences per item on day-of-month ``dom``: (item, timestamp)."""
    item = np.repeat(np.arange(dom.size, dtype=np.int64), 3)
    month = np.tile(np.array(clock.MONTH_STARTS, dtype=np.int64), dom.size)
    seconds = rng.uniform(from_hour, to_hour, size=item.size) * clock.HOUR
    return item, (month + dom[item] - 1) * clock.DAY + seconds.astype(np.int64)


def _cents(cny: FloatArray) -> IntArray:
    return np.maximum(np.round(cny * 100), 1).astype(np.int64)


def background(
    rng: np.random.Generator,
    people: People,
    enterprises: Enterprises,
    main: IntArray,
    card: IntArray,
    company: IntArray,
) -> Flows:
    """Draw the ordinary traffic of the transfer window.

    Parameters
    ----------
    rng
        Random stream.
    people, enterprises
        The parties.
    main, card
        Per person: main active deposit account and active card account (-1 if none).
    company
        Per enterprise: its main deposit account.

    Returns
    -------
    Flows
        About 8–9 transfers per person.
    """
    n = people.n
    age = people.age_years()
    persons = np.arange(n, dtype=np.int64)
    has_main = main >= 0
    parts: list[tuple[IntArray, IntArray, FloatArray, IntArray, bool]] = []

    # Salaries: monthly on the employer's payday, bigger employers employ more.
    employers = np.flatnonzero(enterprises.kind != UTILITY)
    weight = enterprises.size_weight[employers]
    employed = persons[has_main & (age >= 22) & (age <= 62) & (rng.random(n) < 0.82)]
    employer = employers[rng.choice(employers.size, size=employed.size, p=weight / weight.sum())]
    payday = rng.integers(5, 16, size=enterprises.n)
    salary = rng.lognormal(np.log(8_000), 0.6, size=employed.size)
    i, ts = _monthly(rng, payday[employer], 9, 12)
    amount = salary[i] * rng.uniform(0.97, 1.03, size=i.size)
    parts.append((company[employer[i]], main[employed[i]], amount, ts, False))

    # Utility bills: a few subscriptions each, paid monthly around the same day.
    utilities = np.flatnonzero(enterprises.kind == UTILITY)
    subs = rng.binomial(3, 0.3, size=n) * has_main
    who, _ = ragged(subs.astype(np.int64))
    utility = utilities[rng.integers(0, utilities.size, size=who.size)]
    level = rng.lognormal(np.log(150), 0.6, size=who.size)
    i, ts = _monthly(rng, rng.integers(1, 29, size=who.size), 8, 22)
    amount = level[i] * rng.uniform(0.7, 1.3, size=i.size)
    parts.append((main[who[i]], company[utility[i]], amount, ts, False))

    # Card repayments from the person's own deposit account.
    repaying = persons[has_main & (card >= 0) & (rng.random(n) < 0.8)]
    i, ts = _monthly(rng, rng.integers(20, 26, size=repaying.size), 8, 20)
    amount = rng.lognormal(np.log(3_000), 1.0, size=i.size)
    parts.append((main[repaying[i]], card[repaying[i]], amount, ts, False))

    # Shopping at merchants, mostly by card; popular merchants take most payments.
    merchants = np.flatnonzero(enterprises.kind == MERCHANT)
    if merchants.size == 0:
        merchants = employers
    merchants = merchants[rng.permutation(merchants.size)]
    can_pay = (main >= 0) | (card >= 0)
    shopper, _ = ragged(rng.poisson(2.5, size=n) * can_pay)
    by_card = (card[shopper] >= 0) & ((rng.random(shopper.size) < 0.7) | (main[shopper] < 0))
    payer = np.where(by_card, card[shopper], main[shopper])
    shop = merchants[zipf(rng, merchants.size, shopper.size, 0.8)]
    amount = rng.lognormal(np.log(120), 1.0, size=shopper.size)
    parts.append((payer, company[shop], amount, _any_time(rng, shopper.size), True))

    # P2P: half to someone at home, the rest to friends and acquaintances.
    sender, _ = ragged(rng.poisson(1.2, size=n) * has_main)
    housemate = people.households.other_member(rng, sender)
    friend = rng.integers(0, n, size=sender.size)
    friend = np.where(friend == sender, (friend + 1) % n, friend)
    peer = np.where((housemate >= 0) & (rng.random(sender.size) < 0.55), housemate, friend)
    round_sum = rng.integers(1, 50, size=sender.size) * 100.0
    amount = np.where(
        rng.random(sender.size) < 0.5, round_sum, rng.lognormal(np.log(500), 1.0, sender.size)
    )
    parts.append((main[sender], main[peer], amount, _any_time(rng, sender.size), True))

    # Business-to-business payments to suppliers, bigger firms more often.
    payer_firm, _ = ragged(rng.poisson(8, size=employers.size).astype(np.int64))
    firm = employers[payer_firm]
    supplier = employers[rng.choice(employers.size, size=firm.size, p=weight / weight.sum())]
    day = rng.integers(0, WINDOW_DAYS, size=firm.size)
    ts = (
        clock.WINDOW_START
        + day * clock.DAY
        + rng.integers(9 * clock.HOUR, 18 * clock.HOUR, firm.size)
    )
    amount = rng.lognormal(np.log(50_000), 1.2, size=firm.size)
    parts.append((company[firm], company[supplier], amount, ts, False))

    source = np.concatenate([p[0] for p in parts])
    target = np.concatenate([p[1] for p in parts])
    cny = np.concatenate([p[2] for p in parts])
    ts_all = np.concatenate([p[3] for p in parts]).astype(np.int64)
    may_be_foreign = np.concatenate([np.full(p[0].size, p[4]) for p in parts])
    u = rng.random(source.size)
    currency = np.where(
        may_be_foreign & (u < FOREIGN_SHARES[0]),
        1,
        np.where(may_be_foreign & (u < sum(FOREIGN_SHARES)), 2, 0),
    )
    amount_cents = _cents(cny / np.array(CNY_PER)[currency])
    keep = (source >= 0) & (target >= 0) & (source != target)
    return Flows(
        source=source[keep],
        target=target[keep],
        amount=amount_cents[keep],
        ts=ts_all[keep],
        currency=currency[keep].astype(np.int64),
    )


@dataclass(frozen=True)
class TransferTable:
    """The transfers table in time order and the tx_id of each planted transfer."""

    frame: Frame
    planted_tx: Any


def table(
    rng: np.random.Generator, flows: Flows, planted: Planted, account_ids: Any
) -> TransferTable:
    """Order all transfers by time and number them.

    Transaction numbers grow with time with small random gaps, as a core system's would.

    Parameters
    ----------
    rng
        Random stream.
    flows, planted
        Background and planted transfers.
    account_ids
        account_id of every internal account index.

    Returns
    -------
    TransferTable
        The ``transfers`` table and the tx_ids of the planted transfers (in ``planted`` order).
    """
    source = np.concatenate([flows.source, planted.source])
    target = np.concatenate([flows.target, planted.target])
    amount = np.concatenate([flows.amount, planted.amount])
    ts = np.concatenate([flows.ts, planted.ts])
    currency = np.concatenate([flows.currency, np.zeros(planted.source.size, dtype=np.int64)])
    order = np.argsort(ts, kind="stable")
    n = order.size
    number = 100_000_000_000 + np.cumsum(rng.integers(1, 4, size=n))
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n, dtype=np.int64)
    planted_number = number[position[n - planted.source.size :]]
    frame = Frame(
        model.TRANSFERS,
        {
            "tx_id": Prefixed("T", number, TX_DIGITS),
            "from_account": Coded(source[order], account_ids),
            "to_account": Coded(target[order], account_ids),
            "amount": Fixed(amount[order]),
            "currency": Coded(currency[order], pa.array(list(CURRENCIES))),
            "ts": Timestamp(ts[order]),
        },
    )
    planted_tx = Prefixed("T", planted_number, TX_DIGITS).render(
        slice(0, planted_number.size), "csv"
    )
    return TransferTable(frame, planted_tx)
