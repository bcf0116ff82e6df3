"""Campaign audiences: households or corporate groups by value and product gap, risk-aware.

Definition (what the tests hold the code to):

* A *unit* is a household (members are persons) or a corporate group (members are
  enterprises). Its value is that of :mod:`households` / :mod:`groups`: total AUM,
  deposits and exposure (a household's loans; a group's drawn credit plus guarantees
  given outside it). Corporate groups have no AUM, so ``min_total_aum`` is refused for
  them. A unit's products are those some member holds; its *product gap* those none holds.
* A unit qualifies when it meets every criterion given (size, value floors, products
  held, products lacked) and at least one member is left to contact.
* Members are left out of the contact list, each for the first reason that applies:

  - ``RISK_FLAGGED``: the member holds an account in a layering alert scoring at or
    above ``risk_ceiling`` (default 0.5, the layering report threshold);
  - ``NETWORK_RISK``: someone in the member's hidden network does;
  - ``NO_CONSENT``: a person whose marketing consent is not recorded as given (unknown
    counts as refused; enterprises are marketed to under the bank's business terms);
  - ``RECENTLY_CONTACTED``: contacted within ``not_contacted_within_days`` days before
    ``as_of`` (only when asked, and only when the ``contacts`` table holds rows).

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
from datetime import UTC, date, datetime
from pathlib import Path
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

REASONS: Final = ("RISK_FLAGGED", "NETWORK_RISK", "NO_CONSENT", "RECENTLY_CONTACTED")
"""Exclusion reason codes; code ``i + 1`` in :attr:`Audience.reason`, 0 is contactable."""
ORDERS: Final = ("TOTAL_AUM_DESC", "DEPOSITS_DESC", "EXPOSURE_DESC", "SIZE_DESC")
DEFAULT_RISK_CEILING: Final = 0.5
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
    risk_ceiling: float = DEFAULT_RISK_CEILING
    not_contacted_within_days: int | None = None
    as_of: date | None = None
    """Reference day of the contact guard (default: today)."""
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
        if not (math.isfinite(self.risk_ceiling) and 0 < self.risk_ceiling <= 1):
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
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise AudienceError(f"asOf must be a date YYYY-MM-DD, not {value!r}.") from None
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

    def __len__(self) -> int:
        return len(self.rows)

    def frame(self, start: int = 0, stop: int | None = None) -> pd.DataFrame:
        """Entries ``start:stop`` as rows: the export, and what the API pages through.

        Columns: ``unit``, ``unit_id``, ``size``, ``total_aum`` (null for groups),
        ``deposits``, ``exposure``, ``products``, ``product_gap``, ``contacts`` (member
        ids), ``contact_count``, ``excluded_<reason>`` per reason, ``qualified_because``.
        """
        rows = self.rows[start:stop]
        u = self.units
        lo, hi = u.member_ptr[rows], u.member_ptr[rows + 1]
        lengths = hi - lo
        flat = np.repeat(lo - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        members = u.members[flat]
        entry = np.repeat(np.arange(len(rows)), lengths)
        keep = self.reason[members] == 0
        ids = self.parties.ids[members[keep]]
        bounds = np.r_[0, np.cumsum(np.bincount(entry[keep], minlength=len(rows)))]
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
                "products": [_product_list(m, True) for m in held.tolist()],
                "product_gap": [_product_list(m, False) for m in held.tolist()],
                "contacts": contacts,
                "contact_count": np.diff(bounds),
            }
        )
        for i, reason in enumerate(REASONS):
            out[f"excluded_{reason.lower()}"] = excluded[:, i]
        out["qualified_because"] = [
            self._because(r, int(n))
            for r, n in zip(rows.tolist(), out["contact_count"], strict=True)
        ]
        return out

    def _because(self, row: int, contactable: int) -> list[str]:
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
        out.extend(f"a member holds {p}" for p in c.has_products)
        out.extend(f"no member holds {p}" for p in c.lacks_products)
        out.append(f"{contactable} of {u.size[row]} members can be contacted")
        return out


def _product_list(mask: int, held: bool) -> list[str]:
    return [p for i, p in enumerate(model.PRODUCTS) if bool(mask >> i & 1) == held]


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
        When the analytics have not run for the unit, or the contact guard is asked for
        and no contacts are loaded.

    Examples
    --------
    >>> audience = campaign_audience(source, Criteria("HOUSEHOLD", lacks_products=("wealth",)))  # doctest: +SKIP
    >>> audience.frame(0, 10)[["unit_id", "contacts"]]  # doctest: +SKIP
    """
    units = source.households if criteria.unit == "HOUSEHOLD" else source.groups
    if units is None:
        what = "households" if criteria.unit == "HOUSEHOLD" else "corporate groups"
        raise AudienceError(f"No {what} yet: run `relgraph analyze`.")
    if criteria.not_contacted_within_days is not None and not source.contacts_loaded:
        raise AudienceError(
            "notContactedWithinDays needs the contacts table: add contacts.csv "
            "(contact_id, party_id, party_kind, ts, …) to the input and run `relgraph load`."
        )
    p = source.parties
    reason = np.zeros(len(p.ids), np.int8)
    checks = [
        p.risk >= criteria.risk_ceiling,
        p.network_risk >= criteria.risk_ceiling,
        ~p.consent,
    ]
    if criteria.not_contacted_within_days is not None:
        if criteria.as_of is not None:
            # The whole as-of day counts: the window ends at its midnight.
            moment = datetime.combine(criteria.as_of, datetime.min.time(), UTC)
            today = int(moment.timestamp() * 1000) + _DAY_MS
        else:
            today = _now_ms() if now_ms is None else now_ms
        since = today - criteria.not_contacted_within_days * _DAY_MS
        checks.append((p.last_contact_ms >= since) & (p.last_contact_ms < today))
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
    )


# -- building the source from the store ---------------------------------------------------------


LIST_COLUMNS: Final = ("products", "product_gap", "contacts", "qualified_because")
CSV_LIST_SEPARATOR: Final = {"qualified_because": " | "}
"""Lists are ``;``-joined in CSV (as ``customers.products`` is), reasons ``|``-joined."""


FORMULA_START: Final = ("=", "@", "\t", "\r")
"""A text cell starting with one of these is run as a formula (or shifted) by spreadsheets."""


def check_target(path: Path, *, force: bool = False) -> None:
    """Refuse an export target that cannot be written whole: the message says what to change.

    Raises
    ------
    AudienceError
        When the name does not end in ``.csv`` or ``.parquet``, names a folder, is in a
        folder that does not exist, or names an existing file and ``force`` is not set.
    """
    suffix = path.suffix.lower()
    if path.is_dir():
        raise AudienceError(
            f"{path} is a folder: give a file name such as {path / 'audience.csv'}."
        )
    if suffix not in (".csv", ".parquet"):
        raise AudienceError(f"The export file must end in .csv or .parquet, not {path.name!r}.")
    if not path.parent.is_dir():
        raise AudienceError(
            f"The folder {path.parent} does not exist: create it or choose another."
        )
    if path.exists() and not force:
        raise AudienceError(
            f"{path} already exists: choose another name or pass --force to replace it."
        )


def export(audience: Audience, path: Path, *, force: bool = False) -> pd.DataFrame:
    """Write every entry of ``audience`` to ``path`` (``.csv`` or ``.parquet``); return them.

    The file appears whole or not at all: it is written to a temporary file in the target
    folder (readable by its owner only, mode 0600: it names persons) and renamed; a
    failure removes it. An existing file is replaced only with ``force``.

    In CSV, text cells starting with ``=``, ``@``, tab or CR get a leading ``'`` so a
    spreadsheet shows them instead of running them; numbers are written as they are.

    The file has ``left_out`` per entry instead of the ``excluded_<reason>`` counts; the
    returned frame (for the operator) keeps those.

    Raises
    ------
    AudienceError
        As :func:`check_target` says.
    """
    import os
    import tempfile

    import pyarrow as pa
    import pyarrow.parquet as pq

    check_target(path, force=force)
    frame = audience.frame()
    # The file goes to campaign systems, which also know each unit's members: a split of
    # the members left out by reason would name who was left out for risk. The file
    # carries ``left_out``; the caller (the CLI's summary) keeps the totals by reason.
    reasons = [f"excluded_{r.lower()}" for r in REASONS]
    published = frame.drop(columns=reasons)
    after = list(published.columns).index("contact_count") + 1
    published.insert(after, "left_out", frame["size"] - frame["contact_count"])
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(fd)
    partial = Path(name)
    try:
        if path.suffix.lower() == ".parquet":
            pq.write_table(pa.Table.from_pandas(published, preserve_index=False), partial)
        else:
            _write_csv(published, partial)
        if force:
            partial.replace(path)
        else:
            try:
                os.link(partial, path)  # no-clobber: a file that appeared meanwhile stays
            except FileExistsError:
                raise AudienceError(
                    f"{path} already exists: choose another name or pass --force to replace it."
                ) from None
    finally:
        partial.unlink(missing_ok=True)
    return frame


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    flat = frame.copy()
    for column in LIST_COLUMNS:
        sep = CSV_LIST_SEPARATOR.get(column, model.PRODUCT_LIST_SEPARATOR)
        flat[column] = [sep.join(values) for values in flat[column]]
    table = pa.Table.from_pandas(flat, preserve_index=False)
    starts = "^[" + "".join(FORMULA_START) + "]"
    for i, field in enumerate(table.schema):
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            cells = table.column(i)
            quoted = pc.if_else(
                pc.match_substring_regex(cells, starts),
                pc.binary_join_element_wise("'", cells, ""),
                cells,
            )
            table = table.set_column(i, field, quoted)
    pacsv.write_csv(table, path)
