"""Marketing contacts of the past year: who the bank called, mailed or messaged, and when."""

from __future__ import annotations

from typing import Final

import numpy as np
import pyarrow as pa

from relgraph import model
from relgraph.synth import clock
from relgraph.synth.enterprises import Enterprises
from relgraph.synth.frame import Coded, Frame, Prefixed, Timestamp
from relgraph.synth.ids import CONTACT_DIGITS
from relgraph.synth.records import Records
from relgraph.synth.sampling import ragged

PERSON_SHARE: Final = 0.3
"""Share of persons contacted at least once in the year before the snapshot."""
ENTERPRISE_SHARE: Final = 0.2
CHANNEL_SHARES: Final = (0.3, 0.25, 0.2, 0.05, 0.1, 0.1)
"""In ``model.CONTACT_CHANNELS`` order."""
CAMPAIGNS: Final = 40


def build(rng: np.random.Generator, records: Records, enterprises: Enterprises) -> Frame:
    """Draw 1–4 contacts per contacted party, at times in the year before the snapshot.

    Parameters
    ----------
    rng
        Random stream.
    records, enterprises
        Parties (a person is contacted under their main record).

    Returns
    -------
    Frame
        The contacts table, rows in time order.
    """
    persons = np.flatnonzero(rng.random(records.rec_of.shape[0]) < PERSON_SHARE)
    firms = np.flatnonzero(rng.random(enterprises.n) < ENTERPRISE_SHARE)
    party = np.concatenate([records.primary[persons], firms])
    kind = np.r_[np.zeros(persons.size, np.int64), np.ones(firms.size, np.int64)]
    owner, _ = ragged(rng.integers(1, 5, size=party.size))
    end = clock.SNAPSHOT_DAY * clock.DAY
    when = end - rng.integers(clock.HOUR, 365 * clock.DAY, size=owner.size)
    order = np.argsort(when, kind="stable")
    owner, when = owner[order], when[order]
    ids = pa.concat_arrays([records.customer_id, enterprises.enterprise_id])
    offset = np.where(kind[owner] == 0, 0, len(records.customer_id))
    channel = rng.choice(len(CHANNEL_SHARES), size=owner.size, p=CHANNEL_SHARES)
    campaign = rng.integers(0, CAMPAIGNS, size=owner.size)
    return Frame(
        model.CONTACTS,
        {
            "contact_id": Prefixed("CT", np.arange(owner.size, dtype=np.int64), CONTACT_DIGITS),
            "party_id": Coded(party[owner] + offset, ids),
            "party_kind": Coded(kind[owner], pa.array(list(model.PARTY_KINDS))),
            "ts": Timestamp(when),
            "channel": Coded(channel.astype(np.int64), pa.array(list(model.CONTACT_CHANNELS))),
            "campaign_id": Prefixed("CMP", campaign.astype(np.int64), 4),
        },
    )
