"""Who a campaign system reaches, per party: the bank's customer ids in every source system,
the phone and email to use, the channel the bank uses most and the last contact.

Definition (one row per contact of an audience, :meth:`Audience.contacts_frame`):

* ``customer_ids``: every customer record of the person as ``system:customer_id``, by
  source-system precedence, then customer id (an enterprise has none: its
  ``party_id`` is the bank's enterprise id).
* ``phone``, ``email``: the first record by source-system precedence that has one (an
  enterprise's own phone); as the source system wrote it.
* ``channel``: the channel of most of the party's rows in ``contacts`` (ties: the one used
  last, then by name); ``last_contact``: the UTC date of its latest contact. Both empty
  when the party was never contacted, or the ``contacts`` table is empty.
* ``consent_marketing``: as recorded on the person (``true`` for every person on a contact
  list, as the audience leaves out everyone else); empty for enterprises, which are
  marketed to under the bank's business terms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from relgraph.analytics.value import source_rank

I64 = npt.NDArray[np.int64]
Objects = npt.NDArray[np.object_]


@dataclass(frozen=True)
class ContactBook:
    """Per party (persons then enterprises): its customer ids (CSR) and contact details."""

    record_ptr: I64
    record_ids: Objects
    """``system:customer_id`` per record, grouped by party in ``record_ptr`` order."""
    phone: Objects
    email: Objects
    channel: Objects
    """Most-used contact channel; None when never contacted."""

    @classmethod
    def build(
        cls,
        party_index: pd.Index,
        n_persons: int,
        frames: Mapping[str, pd.DataFrame | None],
        contact_party: I64,
        precedence: Sequence[str],
    ) -> ContactBook:
        """From the stored ``customers`` (customer_id, person_id, source_system, phone,
        email), ``enterprises`` (enterprise_id, phone) and ``contacts`` (ts, channel; the
        party index of each row in ``contact_party``)."""
        n = len(party_index)
        records = frames.get("customers")
        records = records if records is not None else pd.DataFrame(columns=["customer_id"])
        records = records.reindex(
            columns=["customer_id", "person_id", "source_system", "phone", "email"]
        )
        party = np.asarray(
            party_index.get_indexer(pd.Index(records["person_id"].astype(object))), np.int64
        )
        rank = source_rank(records["source_system"], precedence)
        ordered = records.assign(_party=party, _rank=rank)
        ordered = ordered[ordered["_party"] >= 0].sort_values(
            ["_party", "_rank", "customer_id"], kind="stable"
        )
        ptr = np.r_[0, np.cumsum(np.bincount(ordered["_party"], minlength=n))].astype(np.int64)
        ids = (
            ordered["source_system"].astype(object).fillna("").astype(str)
            + ":"
            + ordered["customer_id"].astype(str)
        ).to_numpy(object)

        def first(column: str) -> Objects:
            out = np.full(n, None, dtype=object)
            found = ordered[ordered[column].notna() & (ordered[column].astype(str) != "")]
            best = found.groupby("_party", sort=False)[column].first()
            out[best.index.to_numpy(np.int64)] = best.to_numpy(object)
            return out

        phone, email = first("phone"), first("email")
        enterprises = frames.get("enterprises")
        if enterprises is not None and "phone" in enterprises.columns:
            at = np.asarray(
                party_index.get_indexer(pd.Index(enterprises["enterprise_id"])), np.int64
            )
            has = (at >= n_persons) & enterprises["phone"].notna().to_numpy(bool)
            phone[at[has]] = enterprises["phone"].to_numpy(object)[has]
        channel = _channels(frames.get("contacts"), contact_party, n)
        return cls(ptr, ids, phone, email, channel)

    def customer_ids(self, party: int) -> list[str]:
        return [
            str(i) for i in self.record_ids[self.record_ptr[party] : self.record_ptr[party + 1]]
        ]


def _channels(contacts: pd.DataFrame | None, party: I64, n: int) -> Objects:
    """Per party, the channel of most of its contacts (ties: used last, then by name)."""
    out = np.full(n, None, dtype=object)
    if contacts is None or not len(contacts) or "channel" not in contacts.columns:
        return out
    frame = pd.DataFrame(
        {
            "party": np.asarray(party, np.int64),
            "channel": contacts["channel"].astype(object).to_numpy(),
            "ts": contacts["ts"].to_numpy(np.int64),
        }
    )
    frame = frame[(frame["party"] >= 0) & frame["channel"].notna()]
    if frame.empty:
        return out
    used = frame.groupby(["party", "channel"], sort=False).agg(n=("ts", "size"), last=("ts", "max"))
    used = used.reset_index().sort_values(
        ["party", "n", "last", "channel"], ascending=[True, False, False, True], kind="stable"
    )
    best = used.drop_duplicates("party")
    out[best["party"].to_numpy(np.int64)] = best["channel"].to_numpy(object)
    return out
