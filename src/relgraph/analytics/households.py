"""Households: declared family plus strong co-residence, with the household's value.

Definition (what the tests hold the code to):

* Two persons are in one household when they declared a family tie (a parent and
  child only when they share an address, or one of them has none: a grown child who
  has moved out heads a household of their own), or when they
  *co-reside strongly*: the same dwelling (an address however each source system wrote
  it: the short form of a card system, a loan system's without the unit — see
  :mod:`relgraph.analytics.dwellings` — used by at most ``max_address_sharers`` persons)
  **and** at least one more thing in common — a
  device or phone (each used by at most ``max_device_sharers`` /
  ``max_phone_sharers`` persons), an email, money moving between their accounts,
  or the surname between two generations (the first word of a name in letters, written
  surname first; the first character of a hanzi name, two for a compound surname:
  the classic householding rule of name and address; two co-residents of one generation
  who share only a surname — 王, 李 and 张 are a fifth of China — are as often flatmates
  as siblings). Flatmates, who share an address and nothing else, are not a household;
  neither are the hundreds of strangers behind a kiosk. A household is a connected
  component of these ties.
* A grown child who has left home: two persons a generation apart
  (:data:`GENERATION_YEARS`) where the younger's records give a flat the older's do not
  (a flat is an address's first and last number, so one flat written in two styles is
  one) are not tied by a shared address or a parent/child declaration: the child's
  older records still carry the parents' flat. A family that moved together shares
  both flats and stays one.
* The other residents of a family home join it: at an address (at most
  ``max_address_sharers`` residents) where one household has two or more residents and
  every other resident is a person otherwise alone, those persons join the household.
  Most often she is the wife or mother who kept her own surname, as most married women
  in China do, and shares no device or phone the bank knows of. Unlike flatmates, they
  share the address with a family already tied by name or declared ties; one who fits
  two homes, or whose records give a second flat, stays apart. A lodger in a family
  home is the known false positive. ``join_sole_other_resident = 0`` turns the rule off.
  Accounts have one holder in the input model, so joint accounts cannot be seen;
  transfers between co-residents are the trace of shared money the bank does see.
* Bounded size: a component above ``max_size`` persons (family ties chaining
  several homes together) is cut back to its co-residence ties alone; a part still
  above the bound is broken up into persons alone, because a bank cannot market to
  a "household" it cannot explain.
* Value: as :mod:`relgraph.analytics.value` defines it (balances from accounts, each
  account once; record summaries only for a member without account data, one value per
  system precedence): summed AUM, deposits, loans (the household's exposure) and card
  spend of the members; the products some member holds (a product on a record still in
  identity review counts as held, listed again in ``pending_products``) and those none
  holds; member count.
* Head: the adult (``adult_age`` or older on ``as_of``; no birth date counts as adult)
  with the largest AUM; ties go to the larger deposits, then the older person, then
  the smaller person id. With no adult, the member with the largest AUM.
* A household's id is ``H`` followed by the hex digits of its smallest member's person
  id; every person is in one household, most of them alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from relgraph import model
from relgraph.analytics.dwellings import dwellings
from relgraph.analytics.networks import components, group_ids, renumber
from relgraph.analytics.params import HouseholdParams
from relgraph.analytics.person_links import shared_pairs
from relgraph.analytics.person_order import record_rank
from relgraph.analytics.sets import isin, unique
from relgraph.analytics.value import PartyValues, product_text, unit_values
from relgraph.graph import Projection
from relgraph.graph.types import IndexArray

_YEAR_MS = 365.2425 * 24 * 3600 * 1000


@dataclass(frozen=True)
class Households:
    """Every person's household.

    Attributes
    ----------
    label : ndarray of int
        Per person: index of its household, numbered by smallest member.
    ids : ndarray of str
        Per household: its id.
    tie_a, tie_b : ndarray of int
        The ties kept (person indices, ``a < b``).
    tie_basis : ndarray of str
        Per tie: ``family:<relation>`` or ``coresidence:address+…`` naming what else the
        two share (``device``, ``phone``, ``email``, ``transfer``, ``surname``).
    broken_up : ndarray of bool
        Per person: whether its component exceeded the bound even on co-residence alone.
    """

    label: IndexArray
    ids: npt.NDArray[np.object_]
    tie_a: IndexArray
    tie_b: IndexArray
    tie_basis: npt.NDArray[np.object_]
    tie_family: npt.NDArray[np.bool_]
    broken_up: npt.NDArray[np.bool_]


def _pair_keys(
    projection: Projection,
    rel: model.RelType,
    kind: model.NodeKind,
    cap: int,
    node_of: IndexArray | None = None,
) -> npt.NDArray[np.int64]:
    """Persons sharing a node of ``kind`` (or what ``node_of`` maps it to: an address's
    dwelling), keyed ``a·n + b``."""
    n = len(projection.nodes["Person"])
    edges = projection.edge("Person", rel, kind)
    node = edges.dst if node_of is None else node_of[edges.dst]
    shared = shared_pairs(edges.src, node, cap)
    return unique(shared.a.astype(np.int64) * n + shared.b)


def dwelling_of(projection: Projection) -> IndexArray:
    """Per address node, its dwelling's node (:mod:`relgraph.analytics.dwellings`)."""
    addresses = projection.nodes["Address"]
    texts = pa.array(addresses.id_of(np.arange(len(addresses))), pa.string())
    return dwellings(texts)


def _transfer_pair_keys(projection: Projection) -> npt.NDArray[np.int64]:
    """Person pairs with money moving between their accounts (either way)."""
    n = len(projection.nodes["Person"])
    transfers = projection.edge("Account", "TRANSFER", "Account")
    holder = projection.nodes["Account"].attrs["person"].to_numpy(np.int64)
    a, b = holder[transfers.src], holder[transfers.dst]
    ok = (a >= 0) & (b >= 0) & (a != b)
    lo, hi = np.minimum(a[ok], b[ok]), np.maximum(a[ok], b[ok])
    return unique(lo * n + hi)


COMPOUND_SURNAMES: Final = (
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "令狐", "慕容",
    "长孙", "宇文", "司徒", "夏侯", "轩辕", "端木", "独孤", "南宫", "西门", "闻人",
)  # fmt: skip
"""Two-character Chinese surnames (the common ones); every other hanzi surname is one."""


def surname_codes(projection: Projection) -> npt.NDArray[np.int64]:
    """Per person: a code of the surname, −1 if none.

    A name in letters is written surname first (``wang wei``): its first word. A name in
    hanzi has no space between surname and given name (``王伟``): its first character, or
    its first two for a compound surname (``欧阳娜``, :data:`COMPOUND_SURNAMES`).
    """
    names = projection.nodes["Person"].attrs["name"]
    text = pc.utf8_lower(pc.utf8_trim_whitespace(pa.array(names.astype(object), pa.string())))
    first = pc.list_element(pc.split_pattern_regex(text, r"\s+", max_splits=1), 0)
    two = pc.utf8_slice_codeunits(first, 0, 2)
    hanzi = pc.if_else(
        pc.is_in(two, value_set=pa.array(COMPOUND_SURNAMES)),
        two,
        pc.utf8_slice_codeunits(first, 0, 1),
    )
    surname = pc.if_else(pc.match_substring_regex(first, "^[\u4e00-\u9fff]"), hanzi, first)
    codes = pc.dictionary_encode(surname).indices
    return np.asarray(pc.fill_null(codes, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


_LIVE_APART: Final = ("parent", "child")
"""Declared relations that make a household only under one roof (see the module docstring)."""

GENERATION_YEARS: Final = 15.0
"""Two persons this many years apart or more are of two generations (a parent and a child)."""


def _births(projection: Projection) -> npt.NDArray[np.float64]:
    """Per person: birth date in epoch ms, NaN when unknown."""
    births = projection.nodes["Person"].attrs["birth_date"].astype("Float64")
    return np.asarray(births.to_numpy(np.float64, na_value=np.nan), dtype=np.float64)


def _flats(projection: Projection) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(person, flat) rows, one per distinct pair: a flat is an address's first and last
    number (street or house number, and flat number or postcode), so one flat written in
    two styles (``13栋1单元2104室``, ``13-1-2104``, ``13号楼2104室``) is one flat and the
    parents' flat across town is another. Addresses without a number are left out."""
    lives = projection.edge("Person", "LIVES_AT", "Address")
    text = pa.array(projection.nodes["Address"].id_of(np.arange(len(projection.nodes["Address"]))),
                    pa.string())  # fmt: skip
    first = pc.extract_regex(text, r"^\D*(?P<n>\d+)").field("n")
    last = pc.extract_regex(text, r"(?P<n>\d+)\D*$").field("n")
    key = pc.binary_join_element_wise(first, last, "|")
    codes = np.asarray(
        pc.fill_null(pc.dictionary_encode(key).indices, -1).to_numpy(zero_copy_only=False),
        dtype=np.int64,
    )
    flat = codes[lives.dst] if len(codes) else np.empty(0, np.int64)
    person = lives.src.astype(np.int64)
    keep = flat >= 0
    width = int(codes.max(initial=0)) + 1
    rows = unique(person[keep] * width + flat[keep])
    return rows // width, rows % width


def left_home(projection: Projection, keys: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Per person pair (key ``a * n + b``): a grown child who has left the parents' home.

    True when the two are a generation apart (:data:`GENERATION_YEARS`, both birth dates
    known) and the younger gives a flat the older does not: a child whose records still
    carry the parents' flat beside their own has moved out, and a flat they share on paper
    is no household. A family that moved together shares both flats and stays one.
    """
    n = len(projection.nodes["Person"])
    if len(keys) == 0:
        return np.zeros(0, bool)
    birth = _births(projection)
    a, b = keys // n, keys % n
    gap = np.abs(birth[a] - birth[b])
    apart = gap >= GENERATION_YEARS * _YEAR_MS  # NaN compares False: unknown ages never
    younger = np.where(birth[a] > birth[b], a, b)
    older = np.where(younger == a, b, a)
    person, flat = _flats(projection)
    width = int(flat.max(initial=0)) + 1
    held = person * width + flat  # sorted: person-major
    starts = np.searchsorted(person, np.arange(n + 1))
    count = starts[younger + 1] - starts[younger]
    rows = np.flatnonzero(apart & (count > 1))  # one flat only: nowhere else to live
    own = np.repeat(rows, count[rows])
    offset = np.arange(len(own)) - np.repeat(np.cumsum(count[rows]) - count[rows], count[rows])
    theirs = flat[starts[younger[own]] + offset]
    shared = isin(older[own] * width + theirs, held)
    elsewhere = np.zeros(len(keys), bool)
    elsewhere[own[~shared]] = True
    return apart & elsewhere


_EVIDENCE = ("device", "phone", "email", "transfer", "surname")


def _with_basis(
    keys: npt.NDArray[np.int64], found: dict[str, npt.NDArray[np.bool_]], prefix: str
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.object_]]:
    """The keys with some evidence, and a basis text naming it (one text per combination)."""
    combo = np.zeros(len(keys), np.int64)
    for bit, kind in enumerate(_EVIDENCE):
        if kind in found:
            combo |= found[kind].astype(np.int64) << bit
    names = np.array(
        [
            prefix + "+".join(k for i, k in enumerate(_EVIDENCE) if m >> i & 1)
            for m in range(1 << len(_EVIDENCE))
        ],
        dtype=object,
    )
    some = combo > 0
    return keys[some], names[combo[some]]


def household_ties(
    projection: Projection, params: HouseholdParams, dwelling: IndexArray | None = None
) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.object_], npt.NDArray[np.bool_], npt.NDArray[np.bool_]
]:
    """Household ties as pair keys ``a * n + b``: basis, family tie?, co-residence shown?
    (``dwelling``: per address node, its dwelling's, as :func:`dwelling_of` gives it.)"""
    n = len(projection.nodes["Person"])
    dwelling = dwelling_of(projection) if dwelling is None else dwelling
    address = _pair_keys(projection, "LIVES_AT", "Address", params.max_address_sharers, dwelling)
    private = {
        "device": _pair_keys(projection, "USES_DEVICE", "Device", params.max_device_sharers),
        "phone": _pair_keys(projection, "HAS_PHONE", "Phone", params.max_phone_sharers),
        "email": _pair_keys(projection, "HAS_EMAIL", "Email", params.max_device_sharers),
    }
    surname = surname_codes(projection)
    found = {kind: isin(address, keys) for kind, keys in private.items()}
    found["transfer"] = isin(address, _transfer_pair_keys(projection))
    found["surname"] = (surname[address // n] == surname[address % n]) & (
        surname[address // n] >= 0
    )
    birth = _births(projection)
    gap = np.abs(birth[address // n] - birth[address % n])
    found["surname"] &= ~(gap < GENERATION_YEARS * _YEAR_MS)
    co_keys, co_basis = _with_basis(address, found, "coresidence:address+")
    moved_out = left_home(projection, co_keys)
    co_keys, co_basis = co_keys[~moved_out], co_basis[~moved_out]

    # Without a known address on one side, co-residence cannot be checked; a private
    # device, phone or email shared with someone is then the evidence.
    has_address = np.zeros(n, bool)
    has_address[projection.edge("Person", "LIVES_AT", "Address").src] = True
    shared = unique(np.concatenate(list(private.values())))
    unknown = shared[~(has_address[shared // n] & has_address[shared % n])]
    found = {kind: isin(unknown, keys) for kind, keys in private.items()}
    un_keys, un_basis = _with_basis(unknown, found, "coresidence:no-address+")
    co_keys = np.concatenate([co_keys, un_keys])
    co_basis = np.concatenate([co_basis, un_basis])

    family = projection.edge("Person", "FAMILY", "Person")
    fa = np.minimum(family.src, family.dst).astype(np.int64)
    fb = np.maximum(family.src, family.dst).astype(np.int64)
    relation = pd.Categorical(family.attrs["relation"], categories=model.RELATIONS).codes
    order = np.lexsort((relation, fa * n + fb))
    f_keys = (fa * n + fb)[order]
    first = np.r_[True, f_keys[1:] != f_keys[:-1]] if len(f_keys) else np.empty(0, bool)
    f_keys = f_keys[first]
    relation_names = np.array(["family:" + r for r in model.RELATIONS], dtype=object)
    f_relation = relation[order][first]
    f_basis = relation_names[f_relation]
    # A parent and a grown child who live apart head two households: their tie counts only
    # where they share an address, or where one address is unknown and it cannot be checked.
    generations = np.isin(f_relation, [model.RELATIONS.index(r) for r in _LIVE_APART])
    checkable = has_address[f_keys // n] & has_address[f_keys % n]
    keep = ~generations | ~checkable | (isin(f_keys, address) & ~left_home(projection, f_keys))
    f_keys, f_basis = f_keys[keep], f_basis[keep]
    # A pair with both a family tie and co-residence is recorded once, as family, and
    # marked as co-residing too (it survives the cut of oversized households).
    co_keys, first_co = np.unique(co_keys, return_index=True)
    co_basis = co_basis[first_co]
    co_only = ~isin(co_keys, f_keys)
    keys = np.concatenate([f_keys, co_keys[co_only]])
    basis = np.concatenate([f_basis, co_basis[co_only]])
    is_family = np.r_[np.ones(len(f_keys), bool), np.zeros(int(co_only.sum()), bool)]
    coresides = isin(keys, co_keys)
    order = np.argsort(keys, kind="stable")
    return keys[order], basis[order], is_family[order], coresides[order]


_SOLE_OTHER = "coresidence:address+sole-other-resident"


def sole_other_residents(
    projection: Projection,
    label: IndexArray,
    alone: npt.NDArray[np.bool_],
    params: HouseholdParams,
    dwelling: IndexArray | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Persons who are the other residents of a family home, and a member of that family.

    Parameters
    ----------
    projection : Projection
    label : ndarray of int
        Per person: household found so far.
    alone : ndarray of bool
        Per person: kept alone on purpose (broken-up oversized household); never joined.
    params : HouseholdParams
    dwelling : ndarray of int, optional
        Per address node, its dwelling's (:func:`dwelling_of`; computed when not given).

    Returns
    -------
    single, member : ndarray of int
        Person pairs to tie, one per joining person.
    """
    n = len(label)
    lives = projection.edge("Person", "LIVES_AT", "Address")
    dwelling = dwelling_of(projection) if dwelling is None else dwelling
    # The residents of a dwelling: one flat however each system wrote it.
    key = unique(dwelling[lives.dst].astype(np.int64) * n + lives.src)
    address, person = key // n, key % n
    residents = np.bincount(address)[address]
    keep = residents <= params.max_address_sharers
    address, person = address[keep], person[keep]
    size = np.bincount(label, minlength=n)
    # One row per (address, household): how many of the household live there, and the one a
    # joiner is tied to: the one whose first record sorts first, not the smaller person
    # index, which follows the store's id secret.
    keys = address * n + label[person]
    by_rank = np.lexsort((record_rank(projection, n)[person], keys))
    unit_key, first, at_address = np.unique(keys[by_rank], return_index=True, return_counts=True)
    unit_address, unit = unit_key // n, unit_key % n
    units_here = np.bincount(unit_address)[unit_address]
    one_of = person[by_rank[first]]
    # A family home: one household with two or more residents there, every other resident
    # a person who is otherwise alone. All of those join it.
    family = at_address >= 2
    single = size[unit] == 1
    families_here = np.bincount(unit_address, weights=family)[unit_address]
    singles_here = np.bincount(unit_address, weights=single)[unit_address]
    home = (families_here == 1) & (singles_here >= 1) & (singles_here == units_here - 1)
    fam_rows = np.flatnonzero(family & home)
    one_rows = np.flatnonzero(single & home & ~alone[one_of])
    # One family row per home: look each joiner's home up in it.
    family_at = np.full(int(unit_address.max(initial=-1)) + 1, -1, np.int64)
    family_at[unit_address[fam_rows]] = fam_rows
    fam_of_one = family_at[unit_address[one_rows]]
    joiner, joined = one_of[one_rows], unit[fam_of_one]
    member = one_of[fam_of_one]
    # A person who fits two different homes stays apart; so do the joiners of a family
    # that would outgrow the bound.
    pair = np.unique(joiner * n + joined, return_index=True)[1]
    joiner, joined, member = joiner[pair], joined[pair], member[pair]
    # So does one whose records give two flats: the other may be where they live now.
    flat_owner, _ = _flats(projection)
    two_flats = np.bincount(flat_owner, minlength=n)[joiner] > 1
    ambiguous = (np.bincount(joiner, minlength=n)[joiner] > 1) | two_flats
    joiner, joined, member = joiner[~ambiguous], joined[~ambiguous], member[~ambiguous]
    grown = size[joined] + np.bincount(joined, minlength=n)[joined]
    fits = grown <= params.max_size
    return joiner[fits], member[fits]


def find_households(projection: Projection, params: HouseholdParams | None = None) -> Households:
    """Households of every person in ``projection``.

    Parameters
    ----------
    projection : Projection
    params : HouseholdParams, optional

    Returns
    -------
    Households

    Examples
    --------
    On the hand-made bank of ``tests/docbank.py``: spouses at one address are a household;
    two strangers sharing a tablet are not.

    >>> households = find_households(projection)
    >>> bool(households.label[person("C1")] == households.label[person("C2")])
    True
    >>> bool(households.label[person("C3")] == households.label[person("C4")])
    False
    """
    params = params or HouseholdParams()
    n = len(projection.nodes["Person"])
    dwelling = dwelling_of(projection)
    keys, basis, is_family, coresides = household_ties(projection, params, dwelling)
    a, b = keys // n, keys % n
    label = components(n, a, b)
    sizes = np.bincount(label, minlength=n)
    over = sizes[label] > params.max_size
    broken = np.zeros(n, bool)
    if over.any():
        # Family ties chaining homes together: inside oversized parts keep co-residence only.
        keep = ~over[a] | coresides
        a, b, basis, is_family = a[keep], b[keep], basis[keep], is_family[keep]
        label = components(n, a, b)
        sizes = np.bincount(label, minlength=n)
        broken = sizes[label] > params.max_size
        if broken.any():
            keep = ~broken[a]
            a, b, basis, is_family = a[keep], b[keep], basis[keep], is_family[keep]
            label = components(n, a, b)
    if params.join_sole_other_resident:
        single, member = sole_other_residents(projection, label, broken, params, dwelling)
        if len(single):
            a, b = (
                np.concatenate([a, np.minimum(single, member)]),
                np.concatenate([b, np.maximum(single, member)]),
            )
            basis = np.concatenate([basis, np.full(len(single), _SOLE_OTHER, dtype=object)])
            is_family = np.concatenate([is_family, np.zeros(len(single), bool)])
            label = components(n, a, b)
    label = renumber(label)
    person_ids = np.asarray(projection.nodes["Person"].id_of(np.arange(n)), dtype=object)
    return Households(
        label=label,
        ids=group_ids("H", label, person_ids),
        tie_a=a.astype(np.int32),
        tie_b=b.astype(np.int32),
        tie_basis=basis,
        tie_family=is_family,
        broken_up=broken,
    )


def household_values(
    projection: Projection,
    households: Households,
    as_of_ms: int,
    values: PartyValues,
    params: HouseholdParams | None = None,
) -> pd.DataFrame:
    """Value and head of every household.

    Parameters
    ----------
    projection : Projection
    households : Households
    as_of_ms : int
        The date ages are taken on (epoch milliseconds), e.g. the load time.
    values : PartyValues
        Every party's value (:func:`relgraph.analytics.value.party_values_of`).
    params : HouseholdParams, optional

    Returns
    -------
    DataFrame
        One row per household, by id order of :func:`find_households`: ``household_id``,
        ``size``, ``head_id``, ``total_aum``, ``deposits``, ``loans``, ``card_spend``,
        ``products``, ``missing_products`` and ``pending_products`` (``;``-joined),
        ``family_ties``, ``coresidence_ties``.
    """
    params = params or HouseholdParams()
    attrs = projection.nodes["Person"].attrs
    label = households.label
    n_households = len(households.ids)
    n_p = len(label)
    unit = np.full(len(values.ids), -1, np.int64)
    unit[:n_p] = label
    totals = unit_values(values, unit, n_households)

    birth = attrs["birth_date"].astype("Float64").to_numpy(np.float64, na_value=np.nan)
    adult = np.isnan(birth) | (birth <= as_of_ms - params.adult_age * _YEAR_MS)
    aum = np.nan_to_num(values.aum[:n_p])
    deposits = np.nan_to_num(values.deposits[:n_p])
    older = np.where(np.isnan(birth), np.inf, birth)
    # Sort so that each household's head comes first: adults, then AUM, deposits, age,
    # then the first customer id (not the person id: its order is the store's secret's).
    in_order = record_rank(projection, n_p)
    order = np.lexsort((in_order, older, -deposits, -aum, ~adult, label))
    # ``[:len(label)]``: with no persons there is no first row (np.r_ would still give one).
    first = np.r_[True, label[order][1:] != label[order][:-1]][: len(label)]
    head = np.empty(n_households, np.int64)
    head[label[order][first]] = order[first]

    persons = projection.nodes["Person"]
    tie_household = label[households.tie_a]
    family = households.tie_family
    return pd.DataFrame(
        {
            "household_id": households.ids,
            "size": totals.size,
            "head_id": persons.id_of(head),
            "total_aum": totals.aum,
            "deposits": totals.deposits,
            "loans": totals.loans,
            "card_spend": totals.card_spend,
            "products": product_text(totals.held),
            "missing_products": product_text(~totals.held),
            "pending_products": product_text(totals.pending),
            "family_ties": np.bincount(tie_household[family], minlength=n_households),
            "coresidence_ties": np.bincount(tie_household[~family], minlength=n_households),
        }
    )
