"""Who a campaign system reaches, per party: the bank's customer ids in every source system,
the phone and email to use, the channel the bank uses most and the last contact.

Definition (one row per contact of an audience, :meth:`Audience.contacts_frame`):

* ``customer_ids``: every customer record of the person as ``system:customer_id``, by
  source-system precedence, then customer id (an enterprise has none: its
  ``party_id`` is the bank's enterprise id).
* ``phone``, ``email``: the first record by source-system precedence that has one (an
  enterprise's own phone); as the source system wrote it.
* ``channel``: the channel of most of the party's rows in ``contacts`` (ties: the one used
  last, then the model's channel order); ``last_contact``: the date of its latest contact in
  ``RELGRAPH_DISPLAY_TZ``. Both empty when the party was never contacted, or the ``contacts`` table is empty.
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
import pyarrow as pa
import pyarrow.compute as pc

from relgraph import model
from relgraph.analytics.arrow_ids import arrow_text, positions
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
        party_ids: pa.Array,
        n_persons: int,
        frames: Mapping[str, pd.DataFrame | None],
        record_party: I64,
        contact_party: I64,
        precedence: Sequence[str],
    ) -> ContactBook:
        """From the stored ``customers`` (customer_id, person_id, source_system, phone,
        email; the party index of each record in ``record_party``), ``enterprises``
        (enterprise_id, phone) and ``contacts`` (ts, channel; the party index of each row in
        ``contact_party``)."""
        n = len(party_ids)
        records = frames.get("customers")
        records = records if records is not None else pd.DataFrame(columns=["customer_id"])
        records = records.reindex(
            columns=["customer_id", "person_id", "source_system", "phone", "email"]
        )
        party = record_party
        rank = source_rank(records["source_system"], precedence)
        keyed = pa.table(
            {
                "party": party,
                "rank": rank,
                "customer_id": arrow_text(records["customer_id"]),
                "system": arrow_text(records["source_system"].astype(object)),
            }
        )
        # Arrow sorts millions of string keys in C++: by party, precedence, then customer id.
        order = pc.sort_indices(
            keyed, [("party", "ascending"), ("rank", "ascending"), ("customer_id", "ascending")]
        ).to_numpy()
        order = order[party[order] >= 0]
        sorted_party = party[order]
        ptr = np.r_[0, np.cumsum(np.bincount(sorted_party, minlength=n))].astype(np.int64)
        taken = keyed.take(pa.array(order))
        joined = pc.binary_join_element_wise(
            pc.fill_null(taken["system"], ""), taken["customer_id"], ":"
        )
        ids = np.asarray(joined.to_numpy(zero_copy_only=False), dtype=object)

        def first(column: str) -> Objects:
            """Per party, the first non-empty value of ``column`` in precedence order."""
            out = np.full(n, None, dtype=object)
            column_text = arrow_text(records[column]).take(pa.array(order))
            values = np.asarray(column_text.to_numpy(zero_copy_only=False), dtype=object)
            valid = pd.notna(values) & (values != "")
            rows = np.flatnonzero(valid)
            if not len(rows):
                return out
            first_row = rows[np.r_[True, sorted_party[rows][1:] != sorted_party[rows][:-1]]]
            out[sorted_party[first_row]] = values[first_row]
            return out

        phone, email = first("phone"), first("email")
        enterprises = frames.get("enterprises")
        if enterprises is not None and "phone" in enterprises.columns:
            at = positions(enterprises["enterprise_id"], party_ids)
            has = (at >= n_persons) & enterprises["phone"].notna().to_numpy(bool)
            phone[at[has]] = enterprises["phone"].to_numpy(object)[has]
        channel = _channels(frames.get("contacts"), contact_party, n)
        return cls(ptr, ids, phone, email, channel)

    def customer_id_lists(self, parties: I64) -> pd.Series:
        """Per party of ``parties``, its ``system:customer_id`` list, as an Arrow list column
        (built in one take, not one Python list per row)."""
        lo, hi = self.record_ptr[parties], self.record_ptr[parties + 1]
        lengths = hi - lo
        flat = np.repeat(lo - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        offsets = pa.array(np.r_[0, np.cumsum(lengths)].astype(np.int32))
        values = pa.array(self.record_ids[flat].tolist() if len(flat) else [], pa.string())
        lists = pa.ListArray.from_arrays(offsets, values)
        return pd.Series(pd.arrays.ArrowExtensionArray(lists))

    def customer_ids(self, party: int) -> list[str]:
        return [
            str(i) for i in self.record_ids[self.record_ptr[party] : self.record_ptr[party + 1]]
        ]


def _channels(contacts: pd.DataFrame | None, party: I64, n: int) -> Objects:
    """Per party, the channel of most of its contacts (ties: the one used last, then the
    model's channel order)."""
    out = np.full(n, None, dtype=object)
    if contacts is None or not len(contacts) or "channel" not in contacts.columns:
        return out
    channels = model.CONTACT_CHANNELS
    k = len(channels)
    code = positions(contacts["channel"], pa.array(list(channels), pa.string()))
    ts = contacts["ts"].to_numpy(np.int64)
    ok = (np.asarray(party) >= 0) & (code >= 0)
    key = np.asarray(party, np.int64)[ok] * k + code[ok]
    count = np.bincount(key, minlength=n * k).reshape(n, k)
    latest = np.full(n * k, np.iinfo(np.int64).min, np.int64)
    np.maximum.at(latest, key, ts[ok])
    last = latest.reshape(n, k)
    most = count == count.max(axis=1, keepdims=True)
    best = np.argmax(np.where(most & (count > 0), last, np.iinfo(np.int64).min), axis=1)
    used = count.max(axis=1) > 0
    names = np.array(channels, dtype=object)
    out[used] = names[best[used]]
    return out
