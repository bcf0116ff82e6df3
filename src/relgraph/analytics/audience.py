"""Campaign audiences: households or corporate groups by value and product gap, risk-aware.

Definition (what the tests hold the code to):

* A *unit* is a household (members are persons) or a corporate group (members are
  enterprises). Its value is the one definition of :mod:`relgraph.analytics.value`, as
  ``analyze`` stored it: total AUM, deposits and exposure (a household's loans; a group's
  loans plus guarantees members give outside it). Corporate groups are not scored on AUM,
  so ``min_total_aum`` is refused for them. A unit's products are those some member
  holds — a product on a record still in identity review with a member counts as held,
  and ``qualified_because`` says so —; its *product gap* those none holds.
* A unit qualifies when it meets every criterion given (size, value floors, products
  held, products lacked) and at least one member is left to contact. Value, products and
  size are the whole unit's, the members left out included.
* Members are left out of the contact list, each for the first reason that applies:

  - ``RISK_FLAGGED``: the member holds an account in a layering alert scoring at or
    above ``risk_ceiling`` (default: the alert threshold ``analyze`` stored);
  - ``NETWORK_RISK``: someone in the member's hidden network does;
  - ``NO_CONSENT``: a person whose marketing consent is not recorded as given (unknown
    counts as refused; enterprises are marketed to under the bank's business terms), or
    refused on a record still in identity review with one of the person's (it may be the
    person's own: the refusal stands until a reviewer decides otherwise);
  - ``RECENTLY_CONTACTED``: contacted within ``not_contacted_within_days`` days before
    ``as_of`` (only when asked, and only when the ``contacts`` table holds rows).

* The contact-frequency guard warns (:attr:`Audience.warnings`) when the ``contacts``
  table is empty, when its newest contact is older than the window checked, or when its
  oldest is after it (``asOf`` before the contact data begins): either way it left nobody
  out, and the data behind it, not the audience, is what to check.

  An entry reports how many members each reason left out: counts and codes, never the
  alerts, scores or network behind them, so campaign staff learn nothing to tip off.
* Entries are ordered by the chosen value, largest first, ties by unit id; the export
  (:meth:`Audience.frame`) and the API page through the same rows.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from relgraph import model
from relgraph.analytics.audience_source import (
    I64,
    UNITS,
    AudienceSource,
    Parties,
    Unit,
    Units,
)
from relgraph.analytics.value import product_list
from relgraph.config import display_zone

REASONS: Final = ("RISK_FLAGGED", "NETWORK_RISK", "NO_CONSENT", "RECENTLY_CONTACTED")
"""Exclusion reason codes; code ``i + 1`` in :attr:`Audience.reason`, 0 is contactable."""
ORDERS: Final = ("TOTAL_AUM_DESC", "DEPOSITS_DESC", "EXPOSURE_DESC", "SIZE_DESC")
_DAY_MS: Final = 86_400_000


class AudienceError(ValueError):
    """Criteria that cannot be answered; the message says what to change."""


@dataclass(frozen=True)
class Criteria:
    """What a campaign asks for. Keys of :meth:`from_mapping` are the GraphQL input's."""

    unit: Unit
    min_total_aum: float | None = None
    min_deposits: float | None = None
    min_exposure: float | None = None
    has_products: tuple[str, ...] = ()
    """Some member holds each of these."""
    lacks_products: tuple[str, ...] = ()
    """No member holds any of these (the cross-sell gap)."""
    min_size: int | None = None
    max_size: int | None = None
    risk_ceiling: float | None = None
    """None: the layering alert threshold ``analyze`` ran with (one threshold everywhere)."""
    not_contacted_within_days: int | None = None
    as_of: date | datetime | None = None
    """When the contact guard counts back from (default: now): a day (the whole day counts,
    in ``RELGRAPH_DISPLAY_TZ``) or an aware moment (see :func:`parse_as_of`)."""
    order_by: str = ""
    """One of ``ORDERS``; default by unit: total AUM for households, exposure for groups."""

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise AudienceError(f"unit must be one of {', '.join(UNITS)}, not {self.unit!r}.")
        for name in ("has_products", "lacks_products"):
            for product in getattr(self, name):
                if product not in model.PRODUCTS:
                    raise AudienceError(
                        f"{_camel(name)}: unknown product {product!r}; "
                        f"products are {', '.join(model.PRODUCTS)}."
                    )
        both = set(self.has_products) & set(self.lacks_products)
        if both:
            raise AudienceError(f"A product cannot be both held and lacked: {sorted(both)}.")
        for name in ("min_total_aum", "min_deposits", "min_exposure"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise AudienceError(f"{_camel(name)} must be a number ≥ 0, not {value!r}.")
        if self.min_size is not None and self.min_size < 1:
            raise AudienceError(f"minSize must be ≥ 1, not {self.min_size}.")
        if self.max_size is not None and self.max_size < max(self.min_size or 1, 1):
            raise AudienceError(f"maxSize must be ≥ minSize and ≥ 1, not {self.max_size}.")
        ceiling = self.risk_ceiling
        if ceiling is not None and not (math.isfinite(ceiling) and 0 < ceiling <= 1):
            raise AudienceError(f"riskCeiling must be in (0, 1], not {self.risk_ceiling!r}.")
        days = self.not_contacted_within_days
        if days is not None and not 1 <= days <= 3650:
            raise AudienceError(f"notContactedWithinDays must be 1–3650, not {days}.")
        if self.unit == "CORPORATE_GROUP" and self.min_total_aum is not None:
            raise AudienceError(
                "minTotalAum applies to households; corporate groups have deposits and exposure."
            )
        if self.order_by and self.order_by not in ORDERS:
            raise AudienceError(f"orderBy must be one of {', '.join(ORDERS)}.")
        if self.unit == "CORPORATE_GROUP" and self.order_by == "TOTAL_AUM_DESC":
            raise AudienceError("Corporate groups have no AUM: order them by another value.")

    @property
    def order(self) -> str:
        if self.order_by:
            return self.order_by
        return "TOTAL_AUM_DESC" if self.unit == "HOUSEHOLD" else "EXPOSURE_DESC"

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Criteria:
        """Criteria from a JSON object with the GraphQL input's camelCase keys.

        Examples
        --------
        >>> Criteria.from_mapping({"unit": "HOUSEHOLD", "lacksProducts": ["wealth"]}).lacks_products
        ('wealth',)
        """
        if not isinstance(data, Mapping):
            raise AudienceError("Criteria must be a JSON object.")
        known = {_camel(f.name): f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise AudienceError(
                f"Unknown criteria {', '.join(unknown)}; known: {', '.join(sorted(known))}."
            )
        if "unit" not in data:
            raise AudienceError(f"unit is required: one of {', '.join(UNITS)}.")
        values: dict[str, Any] = {}
        for key, value in data.items():
            name = known[key].name
            if value is None:
                continue
            values[name] = _coerce(key, name, value)
        return cls(**values)


def parse_as_of(text: str | None) -> date | datetime | None:
    """``asOf`` as given: a day (``YYYY-MM-DD``) or an ISO-8601 timestamp, made aware in
    ``RELGRAPH_DISPLAY_TZ`` when it has no offset.

    Raises
    ------
    AudienceError
        When ``text`` is neither.
    """
    if text is None:
        return None
    try:
        if len(text.strip()) == 10:
            day = date.fromisoformat(text.strip())
        else:
            moment = datetime.fromisoformat(text.strip())
            return moment if moment.tzinfo is not None else moment.replace(tzinfo=display_zone())
    except ValueError:
        raise AudienceError(
            f"asOf must be a date YYYY-MM-DD or an ISO-8601 timestamp, not {text!r}."
        ) from None
    if day == date.max:
        # The whole day counts, up to the next midnight, which no date can hold: refused
        # here rather than failing as an internal error when the audience is built.
        raise AudienceError(f"asOf must be a day before {day.isoformat()}, not {text!r}.")
    return day


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _coerce(key: str, name: str, value: Any) -> Any:
    """A JSON value as the field wants it, or an error naming the key."""
    if name in ("has_products", "lacks_products"):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise AudienceError(f"{key} must be a list of product names.")
        return tuple(value)
    if name in ("min_size", "max_size", "not_contacted_within_days"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise AudienceError(f"{key} must be a whole number, not {value!r}.")
        return value
    if name in ("min_total_aum", "min_deposits", "min_exposure", "risk_ceiling"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise AudienceError(f"{key} must be a number, not {value!r}.")
        return float(value)
    if name == "as_of":
        if isinstance(value, date):
            return value
        return parse_as_of(str(value))
    if not isinstance(value, str):
        raise AudienceError(f"{key} must be text, not {value!r}.")
    return value


@dataclass(frozen=True)
class Audience:
    """The entries of one audience query, in answer order."""

    criteria: Criteria
    units: Units
    rows: I64
    """Unit indices of the entries."""
    reason: npt.NDArray[np.int8]
    """Per party: 0 contactable, else 1 + index into ``REASONS``."""
    excluded: I64
    """Per entry and reason: members left out."""
    parties: Parties
    warnings: tuple[str, ...] = ()
    """What the caller should know about the data behind the answer (stale contacts)."""
    source: AudienceSource | None = None
    """Where the entries came from: the contacts format reads its contact book."""
    clock_ms: int | None = None
    """The moment the contact guard counted back from when ``criteria.as_of`` was not set
    (now, or the ``now_ms`` given): a caller paging the audience asks again with it."""

    def __len__(self) -> int:
        return len(self.rows)

    def contact_total(self) -> int:
        """Members to contact over every entry."""
        return int(self.units.size[self.rows].sum() - self.excluded.sum())

    def frame(
        self, start: int = 0, stop: int | None = None, *, identity_review: bool = True
    ) -> pd.DataFrame:
        """Entries ``start:stop`` as rows: the export, and what the API pages through.

        Columns: ``unit``, ``unit_id``, ``size``, ``total_aum`` (null for groups),
        ``deposits``, ``exposure``, ``products``, ``product_gap``, ``contacts`` (member
        ids), ``contact_count``, ``excluded_<reason>`` per reason, ``qualified_because``.
        With ``identity_review`` false, ``qualified_because`` does not say which products
        are held only on a record still in identity review (for campaign systems, which
        may not learn that a member has a record in review: the product still counts).
        """
        rows = self.rows[start:stop]
        u = self.units
        entry, contact = self._contacts(rows)
        ids = self.parties.ids[contact]
        bounds = np.r_[0, np.cumsum(np.bincount(entry, minlength=len(rows)))]
        contacts = [ids[bounds[i] : bounds[i + 1]].tolist() for i in range(len(rows))]
        held = u.products[rows]
        excluded = self.excluded[start:stop]
        out = pd.DataFrame(
            {
                "unit": u.kind,
                "unit_id": u.ids[rows],
                "size": u.size[rows],
                "total_aum": pd.array(u.total_aum[rows], dtype="Float64"),
                "deposits": u.deposits[rows],
                "exposure": u.exposure[rows],
                "products": [product_list(m) for m in held.tolist()],
                "product_gap": [product_list(~m) for m in held.tolist()],
                "contacts": contacts,
                "contact_count": np.diff(bounds),
            }
        )
        for i, reason in enumerate(REASONS):
            out[f"excluded_{reason.lower()}"] = excluded[:, i]
        out["qualified_because"] = [
            self._because(r, int(n), identity_review)
            for r, n in zip(rows.tolist(), out["contact_count"], strict=True)
        ]
        return out

    def _contacts(self, rows: I64) -> tuple[I64, I64]:
        """Per contactable member of the entries ``rows``: its entry (0-based) and party."""
        u = self.units
        lo, hi = u.member_ptr[rows], u.member_ptr[rows + 1]
        lengths = hi - lo
        flat = np.repeat(lo - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        members = u.members[flat]
        entry = np.repeat(np.arange(len(rows)), lengths)
        keep = self.reason[members] == 0
        return entry[keep], members[keep]

    def contacts_frame(self, start: int = 0, stop: int | None = None) -> pd.DataFrame:
        """One row per contact of entries ``start:stop``: what a campaign system imports.

        Columns: ``unit``, ``unit_id``, ``party_kind`` (person or enterprise), ``party_id``,
        ``customer_ids`` (``system:customer_id`` per source record), ``phone``, ``email``,
        ``channel`` (most used), ``last_contact`` (date in ``RELGRAPH_DISPLAY_TZ``),
        ``consent_marketing``; as :mod:`relgraph.analytics.audience_contacts` defines them,
        unmasked.
        """
        if self.source is None:
            raise AudienceError("This audience was chosen without its source: choose it again.")
        rows = self.rows[start:stop]
        entry, party = self._contacts(rows)
        book = self.source.book
        p = self.parties
        person = party < p.n_persons
        last = p.last_contact_ms[party]
        # Enterprises have no recorded consent (marketed under business terms): empty.
        consent = pd.array(p.consent[party], dtype="boolean")
        consent[~person] = pd.NA
        return pd.DataFrame(
            {
                "unit": self.units.kind,
                "unit_id": self.units.ids[rows][entry],
                "party_kind": np.where(person, "person", "enterprise"),
                "party_id": p.ids[party],
                "customer_ids": book.customer_id_lists(party),
                "phone": book.phone[party],
                "email": book.email[party],
                "channel": book.channel[party],
                "last_contact": _local_dates(last),
                "consent_marketing": pd.array(consent, dtype="boolean"),
            }
        )

    def _because(self, row: int, contactable: int, identity_review: bool) -> list[str]:
        c, u = self.criteria, self.units
        out: list[str] = []
        if c.min_size is not None or c.max_size is not None:
            bounds = f"{c.min_size or 1}–{c.max_size if c.max_size is not None else '∞'}"
            out.append(f"size {u.size[row]} within {bounds}")
        for label, floor, value in (
            ("total AUM", c.min_total_aum, u.total_aum[row]),
            ("deposits", c.min_deposits, u.deposits[row]),
            ("exposure", c.min_exposure, u.exposure[row]),
        ):
            if floor is not None:
                out.append(f"{label} {value:,.2f} ≥ {floor:,.2f}")
        pending = int(u.pending[row]) if identity_review else 0
        for p in c.has_products:
            if pending >> model.PRODUCTS.index(p) & 1:
                out.append(
                    f"a member holds {p} on a record still in identity review (counted as held)"
                )
            else:
                out.append(f"a member holds {p}")
        out.extend(f"no member holds {p}" for p in c.lacks_products)
        out.extend(
            f"{p} counted as held: a record still in identity review with a member holds it"
            for p in product_list(pending)
            if p not in c.has_products
        )
        out.append(f"{contactable} of {u.size[row]} members can be contacted")
        return out


def _local_dates(ms: I64) -> npt.NDArray[np.object_]:
    """Dates ``YYYY-MM-DD`` of epoch milliseconds in ``RELGRAPH_DISPLAY_TZ`` (None for −1,
    never contacted): the day the bank's staff would call it."""
    ms = np.asarray(ms, np.int64)
    local = pd.to_datetime(ms, unit="ms", utc=True).tz_convert(display_zone())
    out = np.asarray(local.strftime("%Y-%m-%d"), dtype=object)
    out[ms < 0] = None
    return out


def _local_date(ms: int) -> str | None:
    if ms < 0:
        return None
    return _day(ms)


def _day(ms: int) -> str:
    """The day of epoch milliseconds ``ms`` in ``RELGRAPH_DISPLAY_TZ``, before 1970 too (a
    window bound: an ``asOf`` of 1960 is a mistake the warning should name, not "None")."""
    return str(pd.Timestamp(ms, unit="ms", tz="UTC").tz_convert(display_zone()).date())


def _now_ms() -> int:
    return int(time.time() * 1000)


def campaign_audience(
    source: AudienceSource, criteria: Criteria, now_ms: int | None = None
) -> Audience:
    """The audience ``criteria`` ask for, best entries first.

    Parameters
    ----------
    source : AudienceSource
    criteria : Criteria
    now_ms : int, optional
        "Today" of the contact guard when ``criteria.as_of`` is not set (default: now).

    Returns
    -------
    Audience

    Raises
    ------
    AudienceError
        When the analytics have not run for the unit.

    Examples
    --------
    The one household of two in ``tests/docbank.py`` (``frames``: what ``analyze`` stored)
    is left out: 王伟's account sent the first hop of the bank's layering chain (an alert),
    and 李娜 shares his hidden network. Above that alert's score, what the household lacks:

    >>> from relgraph.analytics.audience_source import AudienceSource
    >>> source = AudienceSource.from_frames(frames)
    >>> campaign_audience(source, Criteria("HOUSEHOLD", min_size=2)).frame(0, 10).empty
    True
    >>> audience = campaign_audience(source, Criteria("HOUSEHOLD", min_size=2, risk_ceiling=0.9))
    >>> audience.frame(0, 10)[["size", "contact_count", "product_gap"]].values.tolist()
    [[2, 2, ['loan', 'wealth']]]
    """
    units = source.households if criteria.unit == "HOUSEHOLD" else source.groups
    if units is None:
        what = "households" if criteria.unit == "HOUSEHOLD" else "corporate groups"
        raise AudienceError(f"No {what} yet: run `relgraph analyze`.")
    p = source.parties
    warnings: list[str] = []
    reason = np.zeros(len(p.ids), np.int8)
    ceiling = source.alert_threshold if criteria.risk_ceiling is None else criteria.risk_ceiling
    checks = [
        p.risk >= ceiling,
        p.network_risk >= ceiling,
        ~p.consent,
    ]
    clock: int | None = None
    if criteria.not_contacted_within_days is not None:
        if isinstance(criteria.as_of, datetime):
            today = int(criteria.as_of.timestamp() * 1000)
        elif criteria.as_of is not None:
            # The whole as-of day counts, in the zone users read days in: the window ends
            # at the next midnight there.
            next_day = criteria.as_of + timedelta(days=1)
            moment = datetime.combine(next_day, datetime.min.time(), display_zone())
            today = int(moment.timestamp() * 1000)
        else:
            today = clock = _now_ms() if now_ms is None else now_ms
        since = today - criteria.not_contacted_within_days * _DAY_MS
        # Any contact in the window counts, not just the latest: with asOf in the past, a
        # later call would otherwise hide one made inside the window.
        within = (p.contact_ms >= since) & (p.contact_ms < today)
        recent = np.zeros(len(p.ids), bool)
        recent[p.contact_party[within]] = True
        checks.append(recent)
        warnings.extend(_guard_warnings(source, criteria.not_contacted_within_days, since, today))
    # Later reasons only where no earlier one applies: each member counts once.
    for code, hit in reversed(list(enumerate(checks, start=1))):
        reason[hit] = code

    member_unit = np.repeat(np.arange(len(units.ids)), np.diff(units.member_ptr))
    counts = np.bincount(
        member_unit * (len(REASONS) + 1) + reason[units.members],
        minlength=len(units.ids) * (len(REASONS) + 1),
    ).reshape(len(units.ids), len(REASONS) + 1)

    keep = counts[:, 0] > 0
    if criteria.min_size is not None:
        keep &= units.size >= criteria.min_size
    if criteria.max_size is not None:
        keep &= units.size <= criteria.max_size
    for floor, values in (
        (criteria.min_total_aum, units.total_aum),
        (criteria.min_deposits, units.deposits),
        (criteria.min_exposure, units.exposure),
    ):
        if floor is not None:
            keep &= values >= floor
    for product in criteria.has_products:
        keep &= (units.products >> model.PRODUCTS.index(product) & 1) == 1
    for product in criteria.lacks_products:
        keep &= (units.products >> model.PRODUCTS.index(product) & 1) == 0
    order = units.orders[criteria.order]
    rows = order[keep[order]]
    return Audience(
        criteria=criteria,
        units=units,
        rows=rows,
        reason=reason,
        excluded=counts[rows, 1:],
        parties=p,
        warnings=tuple(warnings),
        source=source,
        clock_ms=clock,
    )


def _guard_warnings(source: AudienceSource, days: int, since_ms: int, until_ms: int) -> list[str]:
    """Why the contact-frequency guard may have left nobody out: no contact data, data that
    ends before the window, or data that begins after it (an ``asOf`` further back)."""
    if not source.contacts_loaded:
        return [
            f"notContactedWithinDays {days}: the contacts table is empty, so nobody was left "
            "out as recently contacted; load contacts.csv and run `relgraph load`."
        ]
    if source.newest_contact_ms < since_ms:
        return [
            f"notContactedWithinDays {days}: the newest contact on record "
            f"({_local_date(source.newest_contact_ms)}) is older than the window checked "
            f"(from {_day(since_ms)}), so nobody was left out as recently contacted; "
            "load recent contacts, or set asOf to the day the contact data ends."
        ]
    contact_ms = source.parties.contact_ms
    if len(contact_ms) and int(contact_ms.min()) >= until_ms:
        return [
            f"notContactedWithinDays {days}: the oldest contact on record "
            f"({_local_date(int(contact_ms.min()))}) is after the window checked (up to "
            f"{_day(until_ms - 1)}), so nobody was left out as recently contacted; "
            "load the contacts of that time, or set asOf within the contact data."
        ]
    return []
