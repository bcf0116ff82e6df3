"""The value of a party, counted once: the one definition behind persons, households,
corporate groups and campaign audiences.

Definition (what the tests hold the code to):

* **Balances come from the ``accounts`` table, each account counted once.** An account
  counts unless its status is ``closed``; its balance counts only in CNY (no currency given
  is CNY): an account in another currency gives its products, not a value, as a card does —
  the graph holds no exchange rates, and ¥10,000,000 in yen read as yuan would be an AUM
  twenty times too large (the load report counts such accounts). ``deposits`` = the
  balances of deposit accounts; ``aum`` = deposits + the balances of wealth accounts;
  ``loans`` = the outstanding balances of loan accounts as positive amounts (``|balance|``: some banks
  store a loan as a negative balance, some as a positive one; either way it is owed).
  An overdrawn deposit account (a balance below 0) is money the customer owes, not a
  negative asset: it counts 0 in deposits and AUM and ``|balance|`` in loans (a household's
  or group's exposure). A wealth account below 0 is a data error, not a debt (a fund or
  a wealth product cannot be owed): it counts 0 (the load report names such accounts).
  Card balances count in no value.
* **Card spend** comes from the customer records (accounts carry no spend): the card
  system's record first, then the others by source-system precedence; one value, never
  a sum.
* **Customer-record summary columns** (``aum``, ``deposits``, ``loans``) are used only for
  a person with no account data (no counted deposit, wealth or loan account with a recorded
  balance: a card balance counts in no value, so a card-only person's AUM is its records'
  summary, not 0), and then
  one value per column by source-system precedence (the first system in the precedence
  list that reports it; customer id breaks ties), never summed across systems: a loan
  the core and the loan system both report is one loan. An enterprise with no account
  data takes its ``enterprises`` row. ``value_source`` says which rule applied.
* **Products held** by a party: the products of its counted accounts, the products listed
  on its records (``customers.products``), and what its amounts show (deposits, wealth,
  loans or card spend above 0, in its value or on any of its records; wealth from a record
  summary only as AUM above known deposits), so no party — and
  no household or group — with a loan balance lacks ``loan``. A product held on a record
  still in identity resolution's review band (``possible_duplicates``) with one of the
  party's records counts as held too: a product gap is a marketing claim, and when unsure
  there is none. Such products are kept apart as *pending* so that an audience can say why.
* **Units.** A household's value is the sum over its members, and its exposure is its
  members' loans. A corporate group's value is the sum over its member enterprises; its
  exposure is their loans plus the guarantees members give to parties outside the group
  (guarantees between members are not added: the money is already counted as a member's
  loan). A unit holds a product when a member does; its product gap is the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from relgraph import model
from relgraph.analytics.arrow_ids import arrow_text
from relgraph.graph import Projection

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

TABLE: Final = "party_values"
"""The result table ``analyze`` stores: one row per person, then per enterprise."""
VALUE_SOURCES: Final = ("accounts", "records")
_BIT: Final = {p: 1 << i for i, p in enumerate(model.PRODUCTS)}
_SUMMARY: Final = ("aum", "deposits", "loans")
_VALUED: Final = ("deposit", "wealth", "loan")
"""Products whose account balances are a party's value (a card's is not)."""


def product_bits(products: pd.Series | Sequence[str | None]) -> I64:
    """Per row a bit per product of ``model.PRODUCTS`` (``;``-joined text in, null is none).

    Examples
    --------
    >>> product_bits(["deposit;loan", None, "card"]).tolist()
    [5, 0, 2]
    """
    if isinstance(products, pd.Series):
        text = arrow_text(products)  # NaN and None alike are null
    else:
        text = pa.array([v if isinstance(v, str) else None for v in products], pa.string())
    sep = model.PRODUCT_LIST_SEPARATOR
    mask = np.zeros(len(text), np.int64)
    for product, bit in _BIT.items():
        has = pc.fill_null(pc.match_substring_regex(text, f"(^|{sep}){product}({sep}|$)"), False)
        mask |= np.asarray(has.to_numpy(zero_copy_only=False), bool).astype(np.int64) * bit
    return mask


_NAMES: Final = np.array(
    [
        model.PRODUCT_LIST_SEPARATOR.join(p for p, b in _BIT.items() if m & b)
        for m in range(1 << len(model.PRODUCTS))
    ],
    dtype=object,
)


def product_text(bits: I64) -> npt.NDArray[np.object_]:
    """Bits back to ``;``-joined product names, in ``model.PRODUCTS`` order (``""``: none)."""
    out: npt.NDArray[np.object_] = _NAMES[np.asarray(bits, np.int64) & (len(_NAMES) - 1)]
    return out


def product_list(bits: int) -> list[str]:
    """One bit mask as a list of product names, in ``model.PRODUCTS`` order."""
    return [p for p, b in _BIT.items() if bits & b]


ALL_PRODUCTS: Final = (1 << len(model.PRODUCTS)) - 1


@dataclass(frozen=True)
class PartyValues:
    """Per party (persons ``0..n_persons-1``, then enterprises): the value of the definition."""

    ids: npt.NDArray[np.object_]
    n_persons: int
    deposits: F64
    aum: F64
    loans: F64
    card_spend: F64
    credit_limit: F64
    held: I64
    """Products held (bits), pending ones included."""
    pending: I64
    """Products held only on records still in the review band with the party's records."""
    from_records: npt.NDArray[np.bool_]
    """Value taken from the customer-record summary columns (no account data)."""

    def frame(self) -> pd.DataFrame:
        """The ``party_values`` table (amounts null where no source reports them)."""
        n = len(self.ids)
        kind = np.where(np.arange(n) < self.n_persons, "person", "enterprise")
        return pd.DataFrame(
            {
                "party_id": self.ids,
                "party_kind": kind,
                "deposits": self.deposits,
                "aum": self.aum,
                "loans": self.loans,
                "card_spend": self.card_spend,
                "credit_limit": self.credit_limit,
                "products": product_text(self.held),
                "pending_products": product_text(self.pending),
                "value_source": np.where(self.from_records, "records", "accounts"),
            }
        )

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> PartyValues:
        """What :meth:`frame` wrote, as stored (persons first, then enterprises)."""
        n_persons = int((frame["party_kind"] == "person").sum())

        def col(name: str) -> F64:
            return frame[name].to_numpy(np.float64, na_value=np.nan)

        return cls(
            ids=frame["party_id"].to_numpy(object),
            n_persons=n_persons,
            deposits=col("deposits"),
            aum=col("aum"),
            loans=col("loans"),
            card_spend=col("card_spend"),
            credit_limit=col("credit_limit"),
            held=product_bits(frame["products"]),
            pending=product_bits(frame["pending_products"]),
            from_records=(frame["value_source"] == "records").to_numpy(bool),
        )

    def index(self) -> dict[str, int]:
        return {str(p): i for i, p in enumerate(self.ids.tolist())}


def _any_by(index: I64, bits: I64, n: int) -> I64:
    """Per group ``0..n-1``: the OR of ``bits`` over its rows (rows with index < 0 skipped)."""
    ok = index >= 0
    out = np.zeros(n, np.int64)
    for bit in _BIT.values():
        rows = ok & ((bits & bit) != 0)
        out |= (np.bincount(index[rows], minlength=n)[:n] > 0).astype(np.int64) * bit
    return out


def _sum_by(index: I64, values: F64, n: int) -> F64:
    """Per group ``0..n-1``: the sum of its amounts (CNY), to the fen.

    Binary floats hold few fen amounts exactly, so a sum's last bits depend on the order of
    its terms — the order of persons, which is the store's keyed ids' — and a total would
    read 137528.29000000001 in one store and 137528.29 in another. Rounded to the fen, every
    store gives the bank's figure.

    >>> _sum_by(np.array([0, 0, 0, 1]), np.array([0.1, 0.2, 0.3, np.nan]), 2).tolist()
    [0.6, 0.0]
    """
    ok = (index >= 0) & ~np.isnan(values)
    total = np.bincount(index[ok], weights=values[ok], minlength=n)[:n]
    return np.asarray(np.round(total, 2), np.float64)


def _implied(deposits: F64, wealth: F64, loans: F64, spend: F64) -> I64:
    """Products that amounts above 0 show are held."""
    out = np.zeros(len(deposits), np.int64)
    for values, bit in (
        (deposits, _BIT["deposit"]),
        (wealth, _BIT["wealth"]),
        (loans, _BIT["loan"]),
        (spend, _BIT["card"]),
    ):
        out |= (np.nan_to_num(values) > 0).astype(np.int64) * bit
    return out


def _first_by(person: I64, columns: pd.DataFrame, rank: I64, n: int) -> pd.DataFrame:
    """Per person: each column's first non-null value in ``rank`` order (NaN when none)."""
    frame = columns.assign(_person=person, _rank=rank)
    frame = frame[frame["_person"] >= 0].sort_values(["_person", "_rank"], kind="stable")
    first = frame.groupby("_person", sort=True)[list(columns.columns)].first()
    return first.reindex(range(n))


def source_rank(systems: pd.Series | npt.NDArray[np.object_], precedence: Sequence[str]) -> I64:
    """Per record: its system's position in ``precedence`` (unknown systems rank last)."""
    code = pc.index_in(arrow_text(systems), value_set=pa.array(list(precedence), pa.string()))
    return np.asarray(code.fill_null(len(precedence)).to_numpy(zero_copy_only=False), np.int64)


def party_values(
    person_ids: npt.NDArray[np.object_],
    enterprise_ids: npt.NDArray[np.object_],
    records: pd.DataFrame,
    enterprises: pd.DataFrame,
    accounts: pd.DataFrame,
    review: pd.DataFrame | None,
    precedence: Sequence[str],
) -> PartyValues:
    """The value of every person and enterprise (see the module docstring).

    Parameters
    ----------
    person_ids, enterprise_ids : ndarray of str
        The parties, in party order.
    records : DataFrame
        Customer records: ``customer_id``, ``person`` (index into ``person_ids``),
        ``source_system``, ``aum``, ``deposits``, ``loans``, ``card_spend_12m``, ``products``.
    enterprises : DataFrame
        In ``enterprise_ids`` order: ``deposits``, ``loans``, ``credit_limit``.
    accounts : DataFrame
        ``holder_id``, ``holder_kind``, ``product``, ``balance``, ``status`` and optionally
        ``currency`` (null is CNY).
    review : DataFrame or None
        Review-band record pairs: ``customer_a``, ``customer_b``.
    precedence : sequence of str
        Source systems, most authoritative first.

    Returns
    -------
    PartyValues
    """
    n_p, n_e = len(person_ids), len(enterprise_ids)
    n = n_p + n_e
    record_index = pd.Index(records["customer_id"].astype(object))
    record_person = records["person"].to_numpy(np.int64)
    enterprise_index = pd.Index(np.asarray(enterprise_ids, dtype=object))

    # Accounts: which party, which record (customers), which product.
    holder = accounts["holder_id"].astype(object).to_numpy()
    is_customer = (accounts["holder_kind"].astype(object) == "customer").to_numpy(bool)
    record_of = np.where(is_customer, record_index.get_indexer(holder), -1).astype(np.int64)
    if len(record_person):
        party = np.where(record_of >= 0, record_person[np.maximum(record_of, 0)], -1)
    else:  # no customer records: every holder is an enterprise (or unknown)
        party = np.full(len(holder), -1, np.int64)
    ent = np.where(is_customer, -1, enterprise_index.get_indexer(holder)).astype(np.int64)
    party = np.where(ent >= 0, ent + n_p, party).astype(np.int64)
    counted = (accounts["status"].astype(object) != "closed").to_numpy(bool) & (party >= 0)
    code = pd.Categorical(accounts["product"].astype(object), categories=model.PRODUCTS).codes
    balance = accounts["balance"].to_numpy(np.float64, na_value=np.nan)
    # A balance in another currency is no CNY amount: summed as one it would misstate the
    # value (JPY twenty-fold); without exchange rates it counts in no value, as a card's.
    if "currency" in accounts.columns:
        currency = accounts["currency"].astype(object)
        in_cny = (currency.isna() | (currency == model.REPORTING_CURRENCY)).to_numpy(bool)
        balance = np.where(in_cny, balance, np.nan)
    known = counted & ~np.isnan(balance)
    account_bits = np.where(counted & (code >= 0), 1 << np.maximum(code, 0), 0).astype(np.int64)

    def balances(rows: npt.NDArray[np.bool_], values: F64) -> F64:
        return _sum_by(np.where(known & rows, party, -1), values, n)

    # Account data is what a value is made of: a card account (its balance counts in no
    # value) gives a party products, not a value that would hide its records' summary.
    valued = known & np.isin(code, [model.PRODUCTS.index(p) for p in _VALUED])
    with_data = np.bincount(party[valued], minlength=n)[:n] > 0
    is_deposit = code == model.PRODUCTS.index("deposit")
    # An overdraft is owed to the bank: a debt, not an asset below 0 that would hide others.
    overdrawn = is_deposit & (balance < 0)
    acc_deposits = balances(is_deposit, np.where(overdrawn, 0.0, balance))
    # A wealth balance below 0 is an export's error (nothing is owed on a fund); counted as
    # it stands it would lower the AUM the person's other holdings make.
    acc_wealth = balances(code == model.PRODUCTS.index("wealth"), np.maximum(balance, 0.0))
    acc_loans = balances((code == model.PRODUCTS.index("loan")) | overdrawn, np.abs(balance))

    # Records: one value per column by precedence, never a sum.
    rank = source_rank(records["source_system"], precedence)
    amounts = records[[*_SUMMARY, "card_spend_12m"]].astype(np.float64)
    best = _first_by(record_person, amounts[list(_SUMMARY)], rank, n_p)
    card_first = np.where(records["source_system"].astype(object) == "card", -1, rank)
    spend = _first_by(record_person, amounts[["card_spend_12m"]], card_first, n_p)

    deposits = np.full(n, np.nan)
    aum = np.full(n, np.nan)
    loans = np.full(n, np.nan)
    card_spend = np.full(n, np.nan)
    credit_limit = np.full(n, np.nan)
    rec_dep = best["deposits"].to_numpy(np.float64)
    rec_aum = best["aum"].to_numpy(np.float64)
    deposits[:n_p] = rec_dep
    aum[:n_p] = np.where(np.isnan(rec_aum), rec_dep, rec_aum)
    loans[:n_p] = best["loans"].to_numpy(np.float64)
    card_spend[:n_p] = spend["card_spend_12m"].to_numpy(np.float64)
    if n_e:
        ent_frame = enterprises[["deposits", "loans", "credit_limit"]].astype(np.float64)
        deposits[n_p:] = ent_frame["deposits"].to_numpy()
        aum[n_p:] = ent_frame["deposits"].to_numpy()
        loans[n_p:] = ent_frame["loans"].to_numpy()
        credit_limit[n_p:] = ent_frame["credit_limit"].to_numpy()
    from_records = ~with_data
    deposits = np.where(with_data, acc_deposits, deposits)
    aum = np.where(with_data, acc_deposits + acc_wealth, aum)
    loans = np.where(with_data, acc_loans, loans)

    # Products: accounts, records (listed and shown by amounts), and the party's own value.
    rec_amounts = amounts.to_numpy(np.float64)
    record_bits = (
        product_bits(records["products"])
        | _any_by(record_of, account_bits, len(records))
        | _implied(rec_amounts[:, 1], np.zeros(len(records)), rec_amounts[:, 2], rec_amounts[:, 3])
    )
    # Wealth shows in a record summary only as AUM above known deposits.
    wealth = np.where(with_data, acc_wealth, np.where(np.isnan(deposits), 0.0, aum - deposits))
    held = (
        _any_by(record_person, record_bits, n)
        | _any_by(party, account_bits, n)
        | _implied(deposits, wealth, loans, card_spend)
    )
    if n_e:
        # The enterprise's own row is its record: its amounts show products too.
        held[n_p:] |= _implied(
            ent_frame["deposits"].to_numpy(), np.zeros(n_e), ent_frame["loans"].to_numpy(),
            np.zeros(n_e),
        )  # fmt: skip
    pending = np.zeros(n, np.int64)
    if review is not None and len(review):
        a = record_index.get_indexer(review["customer_a"].astype(object))
        b = record_index.get_indexer(review["customer_b"].astype(object))
        ok = (a >= 0) & (b >= 0)
        a, b = a[ok], b[ok]
        ok = record_person[a] != record_person[b]
        a, b = a[ok], b[ok]
        pending = _any_by(
            np.concatenate([record_person[a], record_person[b]]),
            np.concatenate([record_bits[b], record_bits[a]]),
            n,
        )
        pending &= ~held
    return PartyValues(
        ids=np.concatenate(
            [np.asarray(person_ids, dtype=object), np.asarray(enterprise_ids, dtype=object)]
        ),
        n_persons=n_p,
        deposits=deposits,
        aum=aum,
        loans=loans,
        card_spend=card_spend,
        credit_limit=credit_limit,
        held=held | pending,
        pending=pending,
        from_records=from_records,
    )


def party_values_of(
    projection: Projection, review: pd.DataFrame | None, precedence: Sequence[str]
) -> PartyValues:
    """:func:`party_values` over the projection's persons, records, enterprises and accounts."""
    persons, records = projection.nodes["Person"], projection.nodes["CustomerRecord"]
    enterprises, accounts = projection.nodes["Enterprise"], projection.nodes["Account"]
    record_frame = records.attrs.reindex(
        columns=["source_system", *_SUMMARY, "card_spend_12m", "products"]
    ).assign(
        customer_id=records.id_of(np.arange(len(records))),
        person=records.attrs["person"].to_numpy(np.int64),
    )
    return party_values(
        persons.id_of(np.arange(len(persons))),
        enterprises.id_of(np.arange(len(enterprises))),
        record_frame,
        enterprises.attrs.reindex(columns=["deposits", "loans", "credit_limit"]),
        accounts.attrs.reindex(
            columns=["holder_id", "holder_kind", "product", "balance", "status", "currency"]
        ),
        review,
        precedence,
    )


@dataclass(frozen=True)
class UnitValues:
    """Per unit (household or corporate group): the summed value and the products."""

    size: I64
    deposits: F64
    aum: F64
    loans: F64
    card_spend: F64
    credit_limit: F64
    held: I64
    """Products some member holds, pending ones included."""
    pending: I64
    """Products the unit holds only on records still in review."""


def unit_values(values: PartyValues, unit: I64, n_units: int) -> UnitValues:
    """Sum each party's value into its unit (``unit[p]``: unit index, −1 for none).

    Examples
    --------
    >>> import numpy as np
    >>> v = PartyValues(np.array(["P1", "P2"], object), 2, np.array([10.0, np.nan]),
    ...     np.array([15.0, 1.0]), np.array([0.0, 5.0]), np.array([np.nan] * 2),
    ...     np.array([np.nan] * 2), np.array([1, 4]), np.array([0, 0]), np.array([False, True]))
    >>> u = unit_values(v, np.array([0, 0]), 1)
    >>> (u.deposits.tolist(), u.loans.tolist(), product_list(int(u.held[0])))
    ([10.0], [5.0], ['deposit', 'loan'])
    """
    unit = np.asarray(unit, np.int64)
    held = _any_by(unit, values.held, n_units)
    confirmed = _any_by(unit, values.held & ~values.pending, n_units)
    return UnitValues(
        size=np.bincount(unit[unit >= 0], minlength=n_units)[:n_units].astype(np.int64),
        deposits=_sum_by(unit, values.deposits, n_units),
        aum=_sum_by(unit, values.aum, n_units),
        loans=_sum_by(unit, values.loans, n_units),
        card_spend=_sum_by(unit, values.card_spend, n_units),
        credit_limit=_sum_by(unit, values.credit_limit, n_units),
        held=held,
        pending=held & ~confirmed,
    )


def guarantees_outside(
    unit: I64, guarantor: I64, borrower: I64, amount: F64, n_units: int
) -> tuple[F64, F64, F64]:
    """Per unit: guarantees its members give, receive, and give to parties outside it.

    ``unit`` maps a party index to its unit (−1: none); a guarantee between two members of
    one unit is given and received but not outside.
    """
    given_by, received_by = unit[guarantor], unit[borrower]
    given = _sum_by(given_by, amount, n_units)
    received = _sum_by(received_by, amount, n_units)
    outside = np.where(given_by != received_by, given_by, -1)
    return given, received, _sum_by(outside, amount, n_units)
