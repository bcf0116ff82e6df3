"""What a campaign audience reads: parties, households and groups, built once from the stored
frames (:func:`relgraph.jobs.stored.stored_frames`), never from the store itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from relgraph import model
from relgraph.analytics.settings import TABLE as SETTINGS_TABLE
from relgraph.analytics.settings import AnalysisSettings

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
    last_contact_ms: I64
    """Latest contact, epoch ms; −1 when never contacted."""
    products: I64
    """Bit per ``model.PRODUCTS`` held."""


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
    member_ptr: I64
    members: I64
    """Party indices, by unit, each unit's in party order."""
    orders: dict[str, I64] = field(default_factory=dict)

    def __post_init__(self) -> None:
        columns = {
            "TOTAL_AUM_DESC": self.total_aum,
            "DEPOSITS_DESC": self.deposits,
            "EXPOSURE_DESC": self.exposure,
            "SIZE_DESC": self.size.astype(np.float64),
        }
        # The id breaks ties: sort by id first, then stably by value descending.
        by_id = np.argsort(self.ids.astype(str), kind="stable")
        for name, values in columns.items():
            self.orders[name] = by_id[np.argsort(-values[by_id], kind="stable")]


@dataclass(frozen=True)
class AudienceSource:
    """Everything an audience query reads, built once from the stored frames."""

    parties: Parties
    households: Units | None
    groups: Units | None
    contacts_loaded: bool
    alert_threshold: float
    """The layering score threshold ``analyze`` stored: the default risk ceiling."""

    @classmethod
    def from_frames(cls, frames: Frames) -> AudienceSource:
        """Persons, enterprises, records, accounts, contacts and the analytics results, as
        stored (table name → frame, ``None`` when absent)."""
        return _source_from_frames(frames)


def product_bits(products: pd.Series) -> I64:
    """Per row a bit per product of ``model.PRODUCTS`` (``;``-joined text in)."""
    text = products.fillna("").astype(str)
    mask = np.zeros(len(text), np.int64)
    for bit, product in enumerate(model.PRODUCTS):
        pattern = (
            f"(?:^|{model.PRODUCT_LIST_SEPARATOR}){product}(?:{model.PRODUCT_LIST_SEPARATOR}|$)"
        )
        mask |= text.str.contains(pattern, regex=True).to_numpy(bool).astype(np.int64) << bit
    return mask


def _csr(unit_index: I64, party: I64, n_units: int) -> tuple[I64, I64]:
    order = np.lexsort((party, unit_index))
    ptr = np.r_[0, np.cumsum(np.bincount(unit_index, minlength=n_units))].astype(np.int64)
    return ptr, party[order].astype(np.int64)


def _required(frames: Frames, name: str) -> pd.DataFrame:
    frame = frames.get(name)
    if frame is None:
        raise KeyError(f"the stored table {name!r} is missing: load the bank first")
    return frame


def _source_from_frames(frames: Frames) -> AudienceSource:
    persons = _required(frames, model.PERSONS_TABLE)
    enterprises = _required(frames, "enterprises")
    records = _required(frames, "customers")
    accounts = _required(frames, "accounts")
    n_p = len(persons)
    ids = np.concatenate(
        [persons["person_id"].to_numpy(object), enterprises["enterprise_id"].to_numpy(object)]
    )
    party_index = pd.Index(ids)
    person_of_record = pd.Series(records["person_id"].to_numpy(), index=records["customer_id"])

    def parties_of(holder: pd.Series, kind: pd.Series) -> I64:
        """Party index of each (id, kind): customer ids resolve to their person."""
        key = np.where(
            kind.to_numpy() == "customer",
            person_of_record.reindex(holder.to_numpy()).to_numpy(object),
            holder.to_numpy(object),
        )
        return np.asarray(party_index.get_indexer(key), np.int64)

    holder = parties_of(accounts["holder_id"], accounts["holder_kind"])
    risk = np.zeros(len(ids))
    alerts = frames.get("account_risk")
    if alerts is not None and len(alerts):
        at = pd.Index(accounts["account_id"]).get_indexer(alerts["account_id"])
        ok = at >= 0
        np.maximum.at(risk, holder[at[ok]], alerts["score"].to_numpy(np.float64)[ok])
    network_risk = risk.copy()
    networks = frames.get("person_networks")
    if networks is not None and len(networks):
        person = party_index.get_indexer(networks["person_id"])
        label = pd.factorize(networks["network_id"])[0]
        top = np.zeros(label.max() + 1)
        np.maximum.at(top, label, risk[person])
        network_risk[person] = top[label]
    consent = np.ones(len(ids), bool)
    # As a nullable boolean first: a column of nulls only is object dtype, which pandas
    # will stop downcasting in fillna.
    consent[:n_p] = persons["consent_marketing"].astype("boolean").fillna(False).to_numpy(bool)

    last_contact = np.full(len(ids), -1, np.int64)
    contacts_loaded = False
    contacts = frames.get("contacts")
    if contacts is not None and len(contacts):
        contacts_loaded = True
        who = parties_of(contacts["party_id"], contacts["party_kind"])
        ok = who >= 0
        np.maximum.at(last_contact, who[ok], contacts["ts"].to_numpy(np.int64)[ok])

    product_bits = np.zeros(len(ids), np.int64)
    code = pd.Categorical(accounts["product"], categories=model.PRODUCTS).codes
    ok = (holder >= 0) & (code >= 0)
    np.bitwise_or.at(product_bits, holder[ok], np.left_shift(1, code[ok].astype(np.int64)))
    parties = Parties(
        ids=ids,
        n_persons=n_p,
        risk=risk,
        network_risk=network_risk,
        consent=consent,
        last_contact_ms=last_contact,
        products=product_bits,
    )
    return AudienceSource(
        parties=parties,
        households=_household_units(frames, party_index),
        groups=_group_units(frames, party_index, product_bits),
        contacts_loaded=contacts_loaded,
        alert_threshold=AnalysisSettings.from_frame(
            frames.get(SETTINGS_TABLE)
        ).layering.score_threshold,
    )


def _household_units(frames: Frames, party_index: pd.Index) -> Units | None:
    households = frames.get("households")
    members = frames.get("person_households")
    if households is None or members is None:
        return None
    unit = pd.Index(households["household_id"]).get_indexer(pd.Index(members["household_id"]))
    party = party_index.get_indexer(pd.Index(members["person_id"]))
    ptr, flat = _csr(unit.astype(np.int64), party.astype(np.int64), len(households))
    return Units(
        kind="HOUSEHOLD",
        ids=households["household_id"].to_numpy(object),
        size=households["size"].to_numpy(np.int64),
        total_aum=households["total_aum"].to_numpy(np.float64),
        deposits=households["deposits"].to_numpy(np.float64),
        exposure=households["loans"].to_numpy(np.float64),
        products=product_bits(households["products"]),
        member_ptr=ptr,
        members=flat,
    )


def _group_units(frames: Frames, party_index: pd.Index, product_bits: I64) -> Units | None:
    groups = frames.get("corporate_groups")
    control = frames.get("enterprise_control")
    if groups is None or control is None:
        return None
    grouped = control[control["group_id"].notna()]
    unit = pd.Index(groups["group_id"]).get_indexer(pd.Index(grouped["group_id"])).astype(np.int64)
    party = party_index.get_indexer(pd.Index(grouped["enterprise_id"])).astype(np.int64)
    ok = (unit >= 0) & (party >= 0)
    ptr, flat = _csr(unit[ok], party[ok], len(groups))
    products = np.zeros(len(groups), np.int64)
    np.bitwise_or.at(products, unit[ok], product_bits[party[ok]])
    return Units(
        kind="CORPORATE_GROUP",
        ids=groups["group_id"].to_numpy(object),
        size=np.diff(ptr),
        total_aum=np.full(len(groups), np.nan),
        deposits=groups["deposits"].to_numpy(np.float64),
        exposure=groups["exposure"].to_numpy(np.float64),
        products=products,
        member_ptr=ptr,
        members=flat,
    )
