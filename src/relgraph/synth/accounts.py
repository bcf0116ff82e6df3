"""Accounts of customer records (by source system) and of enterprises, with balances and status."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Final

import numpy as np
import pyarrow as pa

from relgraph import model
from relgraph.synth import clock
from relgraph.synth.enterprises import CUSTOMER, ENTERPRISE, UTILITY, Enterprises
from relgraph.synth.frame import Coded, Date, Fixed, Frame, Text
from relgraph.synth.ids import (
    ACCOUNT_DIGITS,
    BoolArray,
    IntArray,
    clean_bound,
    prefixed,
    unique_ints,
)
from relgraph.synth.people import People
from relgraph.synth.records import CARD, CORE, LOAN, WEALTH, Records
from relgraph.synth.sampling import ragged

DEPOSIT, CARD_PRODUCT, LOAN_PRODUCT, WEALTH_PRODUCT = range(4)
"""Products, in ``model.PRODUCTS`` order; a source system's records hold its own product."""
ACTIVE, DORMANT, CLOSED = range(3)
"""Statuses, in ``model.ACCOUNT_STATUSES`` order."""
NEW_IN_WINDOW_SHARE: Final = 0.05
"""Share of a record's further accounts opened during the transfer window."""

# Extra accounts per record beyond the first: binomial(n, p) per source system.
_EXTRA: Final = {CORE: (2, 0.4), CARD: (1, 0.35), LOAN: (1, 0.15), WEALTH: (1, 0.3)}
# Median balance (CNY) and log-spread per product.
_BALANCE: Final = {DEPOSIT: (30_000, 1.5), CARD_PRODUCT: (3_000, 1.2), LOAN_PRODUCT: (300_000, 1.0),
                   WEALTH_PRODUCT: (300_000, 1.2)}  # fmt: skip


@dataclass(frozen=True)
class Accounts:
    """All accounts by internal index (file order is by account_id)."""

    holder_kind: IntArray
    holder: IntArray
    """Record index for a customer account, enterprise index for an enterprise account."""
    person: IntArray
    """Holding person, -1 for an enterprise account."""
    product: IntArray
    slot: IntArray
    """0 for a holder's first account of the product."""
    opened: IntArray
    """Opening date, days since 1970-01-01."""
    balance: IntArray
    """In cents."""
    status: IntArray

    @property
    def n(self) -> int:
        """Number of accounts."""
        return int(self.holder.size)

    def extend(self, other: Accounts) -> Accounts:
        """These accounts followed by ``other``'s."""
        return replace(
            self,
            **{
                f: np.concatenate([getattr(self, f), getattr(other, f)])
                for f in (
                    "holder_kind",
                    "holder",
                    "person",
                    "product",
                    "slot",
                    "opened",
                    "balance",
                    "status",
                )
            },
        )


def _balances(rng: np.random.Generator, product: IntArray, status: IntArray) -> IntArray:
    median = np.array([_BALANCE[p][0] for p in range(4)], dtype=np.float64)[product]
    sigma = np.array([_BALANCE[p][1] for p in range(4)], dtype=np.float64)[product]
    cny = median * rng.lognormal(0, 1, size=product.size) ** sigma
    cny = np.where(status == DORMANT, cny / 50, cny)
    cny = np.where(status == CLOSED, 0.0, cny)
    return np.round(cny * 100).astype(np.int64)


def build(
    rng: np.random.Generator, people: People, records: Records, enterprises: Enterprises
) -> Accounts:
    """Open accounts for every customer record and enterprise.

    Parameters
    ----------
    rng
        Random stream.
    people, records, enterprises
        The holders.

    Returns
    -------
    Accounts
        About 1.6 accounts per customer row plus 1–4 per enterprise.
    """
    n_ext, p_ext = np.array([_EXTRA[s] for s in range(4)]).T
    count = 1 + rng.binomial(n_ext[records.system].astype(np.int64), p_ext[records.system])
    rec, slot = ragged(count.astype(np.int64))
    person = records.person[rec]
    product = records.system[rec]
    m = rec.size
    first = slot == 0
    status = np.where(
        first,
        np.where(rng.random(m) < 0.97, ACTIVE, DORMANT),
        rng.choice(3, size=m, p=(0.8, 0.14, 0.06)),
    ).astype(np.int64)
    # Accounts in use were opened before the transfer window; a few others during it.
    window = clock.WINDOW_START // clock.DAY
    adult = people.birth_days[person] + int(18 * clock.YEAR_DAYS)
    low = np.minimum(np.maximum(adult, clock.day(2003, 1, 1)), window - 60)
    opened = (low + rng.random(m) * (window - 7 - low)).astype(np.int64)
    fresh = ~first & (rng.random(m) < NEW_IN_WINDOW_SHARE)
    opened[fresh] = rng.integers(window, clock.SNAPSHOT_DAY, size=int(fresh.sum()))

    n_dep = 1 + rng.binomial(2, 0.4, size=enterprises.n)
    has_loan = rng.random(enterprises.n) < np.where(enterprises.kind == UTILITY, 0.2, 0.5)
    ent, e_slot = ragged((n_dep + has_loan).astype(np.int64))
    e_product = np.where(e_slot < n_dep[ent], DEPOSIT, LOAN_PRODUCT).astype(np.int64)
    e_slot = np.where(e_product == DEPOSIT, e_slot, 0)
    e_status = np.where(
        e_slot == 0, ACTIVE, rng.choice(3, size=ent.size, p=(0.85, 0.1, 0.05))
    ).astype(np.int64)
    e_opened = rng.integers(clock.day(2005, 1, 1), window - 30, size=ent.size)
    e_scale = np.where(e_product == DEPOSIT, 60.0, 15.0) * enterprises.size_weight[ent]

    balance = _balances(rng, product, status)
    e_balance = (_balances(rng, e_product, e_status) * e_scale).astype(np.int64)
    return Accounts(
        holder_kind=np.concatenate([np.full(m, CUSTOMER), np.full(ent.size, ENTERPRISE)]),
        holder=np.concatenate([rec, ent]),
        person=np.concatenate([person, np.full(ent.size, -1)]),
        product=np.concatenate([product, e_product]),
        slot=np.concatenate([slot, e_slot]),
        opened=np.concatenate([opened, e_opened]),
        balance=np.concatenate([balance, e_balance]),
        status=np.concatenate([status, e_status]),
    )


def first_per_holder(keys: IntArray, eligible: np.ndarray[Any, Any], n_keys: int) -> IntArray:
    """Per key value, the lowest-index eligible account (-1 when none)."""
    idx = np.flatnonzero(eligible)
    out = np.full(n_keys, -1, dtype=np.int64)
    key, first = np.unique(keys[idx], return_index=True)
    out[key] = idx[first]
    return out


def in_use(accounts: Accounts) -> BoolArray:
    """Active customer accounts opened before the transfer window (safe to move money through)."""
    usable = (
        (accounts.status == ACTIVE)
        & (accounts.holder_kind == CUSTOMER)
        & (accounts.opened < clock.WINDOW_START // clock.DAY)
    )
    return np.asarray(usable, dtype=bool)


def main_accounts(accounts: Accounts, n_persons: int) -> tuple[IntArray, IntArray]:
    """Per person: the active deposit account salaries go to, and an active card (-1 if none)."""
    active = in_use(accounts)
    deposit = first_per_holder(
        np.maximum(accounts.person, 0), active & (accounts.product == DEPOSIT), n_persons
    )
    card = first_per_holder(
        np.maximum(accounts.person, 0), active & (accounts.product == CARD_PRODUCT), n_persons
    )
    return deposit, card


def enterprise_accounts(accounts: Accounts, n_enterprises: int) -> IntArray:
    """Per enterprise: its first (always active) deposit account."""
    first = (
        (accounts.holder_kind == ENTERPRISE) & (accounts.product == DEPOSIT) & (accounts.slot == 0)
    )
    return first_per_holder(accounts.holder, first, n_enterprises)


def frame(
    rng: np.random.Generator, accounts: Accounts, records: Records, enterprises: Enterprises
) -> tuple[Frame, Any]:
    """Number the accounts and lay them out sorted by account_id.

    Returns
    -------
    tuple
        The ``accounts`` table and the account_id of every internal account index.
    """
    n = accounts.n
    number = np.sort(unique_ints(rng, 10_000, clean_bound(ACCOUNT_DIGITS), n))
    internal_number = number[rng.permutation(n)]
    ids = prefixed("A", internal_number, ACCOUNT_DIGITS)
    order = np.argsort(internal_number)
    holder_ids = pa.concat_arrays([records.customer_id, enterprises.enterprise_id])
    holder_code = np.where(
        accounts.holder_kind == CUSTOMER, accounts.holder, records.n + accounts.holder
    )
    table = Frame(
        model.ACCOUNTS,
        {
            "account_id": Text(ids.take(pa.array(order))),
            "holder_id": Coded(holder_code[order], holder_ids),
            "holder_kind": Coded(accounts.holder_kind[order], pa.array(list(model.PARTY_KINDS))),
            "product": Coded(accounts.product[order], pa.array(list(model.PRODUCTS))),
            "opened_at": Date(accounts.opened[order]),
            "balance": Fixed(accounts.balance[order]),
            "status": Coded(accounts.status[order], pa.array(list(model.ACCOUNT_STATUSES))),
        },
    )
    return table, ids
