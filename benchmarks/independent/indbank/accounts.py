"""Accounts: one per record and product, more for some; enterprises hold one or two.

Product follows the record's source system (core: deposit, card: card, loan: loan, wealth:
wealth); 25% of core records hold a second deposit account. Young adults' "fresh" accounts —
opened in the data year — are where recruited money mules are found (see ``typologies``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from indbank.streams import unique_ints

PRODUCTS: Final = ("deposit", "card", "loan", "wealth")
BIN: Final = ("6217", "6259", "8800", "9558")
SECOND_DEPOSIT_SHARE: Final = 0.25
SECOND_FIRM_ACCOUNT_SHARE: Final = 0.30
YEAR_START: Final = np.datetime64("2025-01-01")


@dataclass
class Accounts:
    frame: pd.DataFrame
    person: np.ndarray
    """Owning person per account (-1 for enterprise accounts)."""
    enterprise: np.ndarray
    """Owning enterprise per account (-1 for personal accounts)."""
    product: np.ndarray
    main_of_person: np.ndarray
    """Per person: the account salaries and spending use (core deposit, else card)."""
    main_of_firm: np.ndarray
    by_record: dict[int, np.ndarray]
    """Per product code: account per record (-1 when the record has no such account)."""

    @property
    def ids(self) -> np.ndarray:
        return self.frame["account_id"].to_numpy(dtype=object)


def build(
    rng: np.random.Generator,
    record_ids: np.ndarray,
    record_person: np.ndarray,
    record_system: np.ndarray,
    primary: np.ndarray,
    person_age: np.ndarray,
    firm_ids: np.ndarray,
) -> Accounts:
    n_rec = record_ids.size
    rec = np.arange(n_rec)
    second = rec[(record_system == 0) & (rng.random(n_rec) < SECOND_DEPOSIT_SHARE)]
    holder_rec = np.concatenate([rec, second])
    product = np.concatenate([record_system, np.zeros(second.size, dtype=np.int64)])
    n_firm = firm_ids.size
    f = np.arange(n_firm)
    f_second = f[rng.random(n_firm) < SECOND_FIRM_ACCOUNT_SHARE]
    holder_firm = np.concatenate([f, f_second])
    n_p, n_f = holder_rec.size, holder_firm.size
    n = n_p + n_f
    number = unique_ints(rng, 0, 10**15, n)
    prefix = np.concatenate(
        [np.array(BIN, dtype=object)[product], np.full(n_f, "3100", dtype=object)]
    )
    ids = np.array([f"{p}{v:015d}" for p, v in zip(prefix, number, strict=True)], dtype=object)
    person = np.concatenate([record_person[holder_rec], np.full(n_f, -1)])
    enterprise = np.concatenate([np.full(n_p, -1), holder_firm])
    age_days = rng.uniform(30, 15 * 365, size=n)
    young = (person >= 0) & (person_age[np.maximum(person, 0)] <= 30)
    fresh = young & (rng.random(n) < 0.25)
    age_days[fresh] = rng.uniform(-300, 30, size=int(fresh.sum()))  # opened during 2025
    opened = YEAR_START - age_days.astype("timedelta64[D]")
    balance = np.round(np.exp(rng.normal(9.5, 1.6, size=n)), 2)
    all_product = np.concatenate([product, np.zeros(n_f, dtype=np.int64)])
    balance[all_product == 2] *= -1.0  # a loan's balance is what is owed
    frame = pd.DataFrame(
        {
            "account_id": ids,
            "holder_id": np.concatenate([record_ids[holder_rec], firm_ids[holder_firm]]),
            "holder_kind": np.where(person >= 0, "customer", "enterprise").astype(object),
            "product": np.array(PRODUCTS, dtype=object)[all_product],
            "opened_at": np.datetime_as_string(opened, unit="D").astype(object),
            "balance": balance,
            "status": "active",  # settled from activity once transfers are drawn
        }
    )
    by_record: dict[int, np.ndarray] = {}
    for code in range(4):
        table = np.full(n_rec, -1)
        first_rows = np.flatnonzero(all_product[:n_p] == code)
        # The first account of this product per record (the second deposit comes later).
        table[holder_rec[first_rows][::-1]] = first_rows[::-1]
        by_record[code] = table
    n_person = primary.size
    main = by_record[0][primary]
    main = np.where(main >= 0, main, by_record[1][primary])
    # A person without a core deposit on the primary record may have one on another record.
    dep_any = np.full(n_person, -1)
    rows = np.flatnonzero((all_product == 0) & (person >= 0))
    dep_any[person[rows][::-1]] = rows[::-1]
    main = np.where(main >= 0, main, dep_any)
    main_firm = np.full(n_firm, -1)
    main_firm[holder_firm[::-1]] = (n_p + np.arange(n_f))[::-1]
    return Accounts(
        frame=frame,
        person=person,
        enterprise=enterprise,
        product=all_product,
        main_of_person=main,
        main_of_firm=main_firm,
        by_record=by_record,
    )
