"""The customers and enterprises tables: text, segment and risk, and what their accounts add up to."""

from __future__ import annotations

from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from relgraph import model
from relgraph.synth import vocab
from relgraph.synth.accounts import DEPOSIT, LOAN_PRODUCT, WEALTH_PRODUCT, Accounts
from relgraph.synth.enterprises import CUSTOMER, ENTERPRISE, UTILITY, Enterprises
from relgraph.synth.frame import Boolean, Coded, Date, Fixed, Frame, Text
from relgraph.synth.ids import BoolArray, IntArray
from relgraph.synth.people import People
from relgraph.synth.records import CARD, CORE, LOAN, WEALTH, Records

CONSENT_SHARE: Final = 0.8
RISK_SHARES: Final = (0.86, 0.11, 0.03)
"""Person risk rating shares: low, medium, high."""
MASS, AFFLUENT, PRIVATE, BUSINESS = range(4)
"""Segments, in ``model.SEGMENTS`` order."""


def _sum_by_holder(accounts: Accounts, kind: int, product: int, n_holders: int) -> IntArray:
    own = (accounts.holder_kind == kind) & (accounts.product == product)
    return np.bincount(
        accounts.holder[own], weights=accounts.balance[own], minlength=n_holders
    ).astype(np.int64)


def _product_labels() -> pa.Array:
    labels = [
        model.PRODUCT_LIST_SEPARATOR.join(
            p for bit, p in enumerate(model.PRODUCTS) if mask >> bit & 1
        )
        for mask in range(16)
    ]
    return pa.array(labels)


def customers(
    rng: np.random.Generator,
    people: People,
    records: Records,
    accounts: Accounts,
    enterprises: Enterprises,
) -> Frame:
    """Assemble the customers table in customer_id order.

    Each record carries only its own system's figure (core: deposits, card: 12-month card
    spend, loan: loans, wealth: AUM) and leaves the others empty; a person's value is the sum
    over their records. Segment and risk rating are the person's, consent is per record.

    Parameters
    ----------
    rng
        Random stream.
    people, records, accounts, enterprises
        Everything a record's figures are drawn from.

    Returns
    -------
    Frame
        The ``customers`` table.
    """
    n = records.n
    system = records.system
    deposits = _sum_by_holder(accounts, CUSTOMER, DEPOSIT, n)
    loans = _sum_by_holder(accounts, CUSTOMER, LOAN_PRODUCT, n)
    aum = _sum_by_holder(accounts, CUSTOMER, WEALTH_PRODUCT, n)
    card_spend = np.round(rng.lognormal(np.log(30_000), 1.0, size=n) * 100).astype(np.int64)

    wealth = np.bincount(records.person, weights=deposits + aum, minlength=people.n) / 100
    segment = np.select([wealth >= 6e6, wealth >= 5e5], [PRIVATE, AFFLUENT], default=MASS)
    reps = np.zeros(people.n, dtype=bool)
    reps[enterprises.legal_rep[enterprises.kind != UTILITY]] = True
    segment = np.where(
        reps & (segment != PRIVATE) & (rng.random(people.n) < 0.5), BUSINESS, segment
    )
    risk = rng.choice(3, size=people.n, p=RISK_SHARES)

    # Core knows most of the person's other products; the other systems only their own.
    held = records.rec_of >= 0
    knows = held & (rng.random(held.shape) < 0.6)
    core_mask = (knows.astype(np.int64) * (1 << np.arange(4))).sum(axis=1) | 1
    mask = np.where(system == CORE, core_mask[records.person], 1 << system)

    def own(values: IntArray, s: int) -> Fixed:
        valid: BoolArray = system == s
        return Fixed(np.where(valid, values, 0), 2, valid)

    text = records.text
    return Frame(
        model.CUSTOMERS,
        {
            "customer_id": Text(records.customer_id),
            "source_system": Coded(system, pa.array(list(model.SOURCE_SYSTEMS))),
            "name": Text(text["name"]),
            "id_number": Text(text["id_number"]),
            "birth_date": Date(people.birth_days[records.person], records.birth_valid),
            "gender": Coded(np.where(people.male[records.person], 0, 1), pa.array(["M", "F"])),
            "phone": Text(text["phone"]),
            "email": Text(text["email"]),
            "address": Text(text["address"]),
            "segment": Coded(segment[records.person], pa.array(list(model.SEGMENTS))),
            "risk_rating": Coded(risk[records.person], pa.array(list(model.RISK_RATINGS))),
            "aum": own(aum, WEALTH),
            "deposits": own(deposits, CORE),
            "loans": own(loans, LOAN),
            "card_spend_12m": own(card_spend, CARD),
            "products": Coded(mask.astype(np.int64), _product_labels()),
            "consent_marketing": Boolean(rng.random(n) < CONSENT_SHARE),
        },
    )


def enterprises_table(
    rng: np.random.Generator, enterprises: Enterprises, accounts: Accounts
) -> Frame:
    """Assemble the enterprises table in enterprise_id order.

    Deposits and loans are the sums of the enterprise's accounts; the credit line covers the
    loans with some headroom, and some firms have an unused line.

    Parameters
    ----------
    rng
        Random stream.
    enterprises, accounts
        The enterprises and all accounts.

    Returns
    -------
    Frame
        The ``enterprises`` table.
    """
    n = enterprises.n
    deposits = _sum_by_holder(accounts, ENTERPRISE, DEPOSIT, n)
    loans = _sum_by_holder(accounts, ENTERPRISE, LOAN_PRODUCT, n)
    unused_line = rng.lognormal(np.log(1e6), 1.0, size=n) * 100 * (rng.random(n) < 0.4)
    limit = np.where(loans > 0, loans * rng.uniform(1.1, 1.6, size=n), unused_line)
    limit = (np.round(limit / 1e6) * 1e6).astype(np.int64)
    limit = np.maximum(limit, loans)
    text = enterprises.text
    frame = Frame(
        model.ENTERPRISES,
        {
            "enterprise_id": Text(enterprises.enterprise_id),
            "name": Text(text["name"]),
            "credit_code": Text(text["credit_code"]),
            "industry": Coded(enterprises.industry, pa.array(list(vocab.INDUSTRIES))),
            "registered_capital": Fixed(enterprises.registered_capital),
            "deposits": Fixed(deposits),
            "loans": Fixed(loans),
            "credit_limit": Fixed(limit),
            "address": Text(text["address"]),
            "phone": Text(text["phone"]),
            "risk_rating": Coded(enterprises.risk, pa.array(list(model.RISK_RATINGS))),
        },
    )
    order = pc.sort_indices(enterprises.enterprise_id).to_numpy()
    return frame.take(order.astype(np.int64))
