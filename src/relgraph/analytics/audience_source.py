"""What a campaign audience reads: parties, households and groups, built once from the stored
frames (:func:`relgraph.jobs.stored.stored_frames`), never from the store itself."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from relgraph import model
from relgraph.analytics.arrow_ids import arrow_text, positions
from relgraph.analytics.audience_contacts import ContactBook
from relgraph.analytics.person_order import party_rank
from relgraph.analytics.settings import TABLE as SETTINGS_TABLE
from relgraph.analytics.settings import AnalysisSettings
from relgraph.analytics.value import product_bits

__all__ = ["AudienceSource", "Parties", "Units", "product_bits"]

Unit = Literal["HOUSEHOLD", "CORPORATE_GROUP"]
UNITS: Final[tuple[Unit, ...]] = ("HOUSEHOLD", "CORPORATE_GROUP")
Frames = Mapping[str, pd.DataFrame | None]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Parties:
    """Persons then enterprises, with what decides whether each may be contacted."""

    ids: npt.NDArray[np.object_]
    n_persons: int
    risk: F64
    """Highest layering alert score of an account the party holds (0 without alerts)."""
    network_risk: F64
    """Highest ``risk`` in the party's hidden network (persons; enterprises: own risk)."""
    consent: npt.NDArray[np.bool_]
    """Marketing consent recorded as given and refused on no record still in identity review
    with the person's (unknown counts as refused; enterprises: true)."""
    last_contact_ms: I64
    """Latest contact, epoch ms; −1 when never contacted."""
    contact_party: I64
    """Per row of ``contacts`` whose party is known: the party contacted."""
    contact_ms: I64
    """Per such row: when, epoch ms. The guard reads every contact, not only the latest: one
    after ``asOf`` must not hide one inside the window."""


@dataclass(frozen=True)
class Units:
    """Households or corporate groups with their value and members (CSR by unit)."""

    kind: Unit
    ids: npt.NDArray[np.object_]
    size: I64
    total_aum: F64
    deposits: F64
    exposure: F64
    products: I64
    """Bit per ``model.PRODUCTS`` some member holds, pending ones included."""
    pending: I64
    """Products held only on records still in identity review (counted as held)."""
    member_ptr: I64
    members: I64
    """Party indices, by unit, each unit's in the parties' rank (:func:`.party_rank`)."""
    first_rank: I64
    """Per unit: its first member's rank, what breaks ties in every order."""
    orders: dict[str, I64] = field(default_factory=dict)

    def __post_init__(self) -> None:
        columns = {
            "TOTAL_AUM_DESC": self.total_aum,
            "DEPOSITS_DESC": self.deposits,
            "EXPOSURE_DESC": self.exposure,
            "SIZE_DESC": self.size.astype(np.float64),
        }
        # The first member breaks ties (not the id: made from person ids, which follow the
        # store's id secret): sort by it first, then stably by value descending.
        by_first = np.argsort(self.first_rank, kind="stable")
        for name, values in columns.items():
            self.orders[name] = by_first[np.argsort(-values[by_first], kind="stable")]


@dataclass(frozen=True)
class AudienceSource:
    """Everything an audience query reads, built once from the stored frames."""

    parties: Parties
    households: Units | None
    groups: Units | None
    contacts_loaded: bool
    alert_threshold: float
    """The layering score threshold ``analyze`` stored: the default risk ceiling."""
    newest_contact_ms: int = -1
    """The latest ``ts`` in ``contacts`` (−1: none): how fresh the contact guard's data is."""
    make_book: Callable[[], ContactBook] | None = field(default=None, repr=False, compare=False)

    @cached_property
    def book(self) -> ContactBook:
        """Customer ids and contact details per party, built on first use (the contacts
        format needs them; the household-per-row format does not)."""
        if self.make_book is None:
            raise ValueError("this audience source was built without its contact book")
        return self.make_book()

    @classmethod
    def from_frames(cls, frames: Frames, precedence: Sequence[str] = ()) -> AudienceSource:
        """Persons, enterprises, records, accounts, contacts and the analytics results, as
        stored (table name → frame, ``None`` when absent); ``precedence`` orders each
        person's source systems in the contact book (customer id alone when empty)."""
        return _source_from_frames(frames, precedence)


def _csr(unit_index: I64, party: I64, n_units: int, rank: I64) -> tuple[I64, I64, I64]:
    """(pointers, members in ``rank`` order, each unit's first member's rank)."""
    order = np.lexsort((rank[party], unit_index))
    ptr = np.r_[0, np.cumsum(np.bincount(unit_index, minlength=n_units))].astype(np.int64)
    flat = party[order].astype(np.int64)
    first = np.full(n_units, len(rank), np.int64)
    held = np.diff(ptr) > 0
    first[held] = rank[flat[ptr[:-1][held]]]
    return ptr, flat, first


def _required(frames: Frames, name: str) -> pd.DataFrame:
    frame = frames.get(name)
    if frame is None:
        raise KeyError(f"the stored table {name!r} is missing: load the bank first")
    return frame


def _source_from_frames(frames: Frames, precedence: Sequence[str]) -> AudienceSource:
    persons = _required(frames, model.PERSONS_TABLE)
    enterprises = _required(frames, "enterprises")
    records = _required(frames, "customers")
    accounts = _required(frames, "accounts")
    n_p = len(persons)
    ids = np.concatenate(
        [persons["person_id"].to_numpy(object), enterprises["enterprise_id"].to_numpy(object)]
    )
    party_ids = arrow_text(ids)
    record_party = positions(records["person_id"], party_ids)
    record_ids = arrow_text(records["customer_id"])
    rank = party_rank(record_ids, record_party, n_p, party_ids.slice(n_p))

    def parties_of(holder: pd.Series, kind: pd.Series) -> I64:
        """Party index of each (id, kind): customer ids resolve to their person."""
        text = arrow_text(holder)
        is_customer = np.asarray(
            pc.equal(arrow_text(kind), "customer").fill_null(False).to_numpy(zero_copy_only=False),
            bool,
        )
        out = np.full(len(text), -1, np.int64)
        rows = np.flatnonzero(is_customer)
        record = positions(text.take(pa.array(rows)), record_ids)
        out[rows] = np.where(record >= 0, record_party[np.maximum(record, 0)], -1)
        rows = np.flatnonzero(~is_customer)
        if len(rows):
            out[rows] = positions(text.take(pa.array(rows)), party_ids)
        return out

    risk = np.zeros(len(ids))
    alerts = frames.get("account_risk")
    if alerts is not None and len(alerts):
        # Only the holders of alerted accounts are looked up, not every account's.
        alert_of = positions(accounts["account_id"], alerts["account_id"])
        rows = np.flatnonzero(alert_of >= 0)
        holder = parties_of(accounts["holder_id"].iloc[rows], accounts["holder_kind"].iloc[rows])
        ok = holder >= 0
        score = alerts["score"].to_numpy(np.float64)[alert_of[rows]]
        np.maximum.at(risk, holder[ok], score[ok])
    network_risk = risk.copy()
    networks = frames.get("person_networks")
    if networks is not None and len(networks):
        person = positions(networks["person_id"], party_ids)
        label = pd.factorize(networks["network_id"])[0]
        top = np.zeros(label.max() + 1)
        np.maximum.at(top, label, risk[person])
        network_risk[person] = top[label]
    consent = np.ones(len(ids), bool)
    # As a nullable boolean first: a column of nulls only is object dtype, which pandas
    # will stop downcasting in fillna.
    consent[:n_p] = persons["consent_marketing"].astype("boolean").fillna(False).to_numpy(bool)
    consent[:n_p] &= ~_refused_in_review(frames, records, record_party, n_p)

    last_contact = np.full(len(ids), -1, np.int64)
    contacts_loaded = False
    newest = -1
    contacts = frames.get("contacts")
    who = np.empty(0, np.int64)
    contact_party, contact_ms = np.empty(0, np.int64), np.empty(0, np.int64)
    if contacts is not None and len(contacts):
        contacts_loaded = True
        who = parties_of(contacts["party_id"], contacts["party_kind"])
        ok = who >= 0
        ts = contacts["ts"].to_numpy(np.int64)
        np.maximum.at(last_contact, who[ok], ts[ok])
        contact_party, contact_ms = who[ok], ts[ok]
        newest = int(ts.max())

    # Only what the book reads stays referenced, not every stored frame.
    book_frames = {name: frames.get(name) for name in ("customers", "enterprises", "contacts")}

    def make_book() -> ContactBook:
        return ContactBook.build(party_ids, n_p, book_frames, record_party, who, precedence)

    parties = Parties(
        ids=ids,
        n_persons=n_p,
        risk=risk,
        network_risk=network_risk,
        consent=consent,
        last_contact_ms=last_contact,
        contact_party=contact_party,
        contact_ms=contact_ms,
    )
    return AudienceSource(
        parties=parties,
        households=_household_units(frames, party_ids, rank),
        groups=_group_units(frames, party_ids, rank),
        contacts_loaded=contacts_loaded,
        newest_contact_ms=newest,
        make_book=make_book,
        alert_threshold=AnalysisSettings.from_frame(
            frames.get(SETTINGS_TABLE)
        ).layering.score_threshold,
    )


def _refused_in_review(
    frames: Frames, records: pd.DataFrame, record_party: I64, n_persons: int
) -> npt.NDArray[np.bool_]:
    """Per person: a record still in identity review with one of its records refuses marketing.

    The pair is in review because that record may be the person's own (赵敏's card record,
    her name and phone, saying 否): until a reviewer decides the two are different people,
    her refusal stands, as a product held there counts against a product gap.
    """
    out = np.zeros(n_persons, bool)
    review = frames.get("possible_duplicates")
    if review is None or not len(review) or "consent_marketing" not in records.columns:
        return out
    record_ids = arrow_text(records["customer_id"])
    a = positions(review["customer_a"], record_ids)
    b = positions(review["customer_b"], record_ids)
    a, b = a[(a >= 0) & (b >= 0)], b[(a >= 0) & (b >= 0)]
    # Null is no refusal here: only a record that says 否 speaks for the person.
    refused_rows = ~records["consent_marketing"].astype("boolean").fillna(True).to_numpy(bool)
    for mine, other in ((a, b), (b, a)):
        person = record_party[mine]
        hit = refused_rows[other] & (person >= 0) & (person < n_persons)
        out[person[hit]] = True
    return out


def _household_units(frames: Frames, party_ids: pa.Array, rank: I64) -> Units | None:
    households = frames.get("households")
    members = frames.get("person_households")
    if households is None or members is None:
        return None
    unit = positions(members["household_id"], households["household_id"])
    party = positions(members["person_id"], party_ids)
    ptr, flat, first = _csr(unit.astype(np.int64), party.astype(np.int64), len(households), rank)
    return Units(
        kind="HOUSEHOLD",
        ids=households["household_id"].to_numpy(object),
        size=households["size"].to_numpy(np.int64),
        total_aum=households["total_aum"].to_numpy(np.float64),
        deposits=households["deposits"].to_numpy(np.float64),
        exposure=households["loans"].to_numpy(np.float64),
        products=product_bits(households["products"]),
        pending=_pending(households),
        member_ptr=ptr,
        members=flat,
        first_rank=first,
    )


def _pending(units: pd.DataFrame) -> I64:
    """Products held only on records in review (none before ``analyze`` stored them)."""
    if "pending_products" not in units.columns:
        return np.zeros(len(units), np.int64)
    return product_bits(units["pending_products"])


def _group_units(frames: Frames, party_ids: pa.Array, rank: I64) -> Units | None:
    groups = frames.get("corporate_groups")
    control = frames.get("enterprise_control")
    if groups is None or control is None:
        return None
    grouped = control[control["group_id"].notna()]
    unit = positions(grouped["group_id"], groups["group_id"])
    party = positions(grouped["enterprise_id"], party_ids)
    ok = (unit >= 0) & (party >= 0)
    ptr, flat, first = _csr(unit[ok], party[ok], len(groups), rank)
    return Units(
        kind="CORPORATE_GROUP",
        ids=groups["group_id"].to_numpy(object),
        size=np.diff(ptr),
        total_aum=np.full(len(groups), np.nan),
        deposits=groups["deposits"].to_numpy(np.float64),
        exposure=groups["exposure"].to_numpy(np.float64),
        products=product_bits(groups["products"]),
        pending=_pending(groups),
        member_ptr=ptr,
        members=flat,
        first_rank=first,
    )
