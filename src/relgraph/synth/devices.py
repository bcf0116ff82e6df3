"""Device links: own mobiles, home PCs, family tablets, branch kiosks and shared office PCs."""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from relgraph import model
from relgraph.synth import clock
from relgraph.synth.frame import Coded, Frame, Integer, Timestamp
from relgraph.synth.ids import DEVICE_DIGITS, IntArray, clean_bound, prefixed, unique_ints
from relgraph.synth.people import People
from relgraph.synth.records import CARD, Records
from relgraph.synth.sampling import zipf

MOBILE, DESKTOP, TABLET, KIOSK = range(4)
"""Device kinds, in ``model.DEVICE_KINDS`` order."""
KIOSK_USER_SHARE: Final = 0.10
OFFICE_PC_USER_SHARE: Final = 0.025
FAMILY_TABLET_SHARE: Final = 0.3
"""Share of multi-person households with a shared tablet."""

_FIRST_DAY = clock.day(2018, 1, 1)


def _seen(
    rng: np.random.Generator, n: int, earliest: int, max_span_days: float, rate: float
) -> tuple[IntArray, IntArray, IntArray]:
    """first_seen, last_seen (epoch seconds) and logins for ``n`` links."""
    end = clock.SNAPSHOT_DAY * clock.DAY - 1
    first = rng.integers(earliest * clock.DAY, end, size=n)
    span = np.minimum(end - first, max_span_days * clock.DAY)
    # Most links are in current use (seen in the last weeks); some went quiet long ago.
    recent = end - rng.exponential(12 * clock.DAY, size=n)
    quiet = first + rng.random(n) * span
    last = np.where(rng.random(n) < 0.85, np.maximum(recent, first), quiet).astype(np.int64)
    last = np.clip(last, first, end)
    days = (last - first) / clock.DAY + 1
    logins = np.maximum(1, np.round(days * rate * rng.lognormal(0, 0.8, size=n))).astype(np.int64)
    return first.astype(np.int64), last, logins


def build(rng: np.random.Generator, people: People, records: Records, customers: int) -> Frame:
    """Link persons' records to devices.

    Parameters
    ----------
    rng
        Random stream.
    people, records
        Persons and their customer rows.
    customers
        Size of the bank (scales the number of kiosks and office PCs).

    Returns
    -------
    Frame
        The ``device_links`` table, rows in random order.
    """
    hh = people.households
    n = people.n
    persons = np.arange(n, dtype=np.int64)

    # Own mobiles (0, 1 or 2 per person) and a home desktop for some.
    n_mobile = rng.choice(3, size=n, p=(0.05, 0.7, 0.25))
    mob_person = np.repeat(persons, n_mobile)
    pc_person = persons[rng.random(n) < 0.1]
    own_person = np.concatenate([mob_person, pc_person])
    own_kind = np.repeat([MOBILE, DESKTOP], [mob_person.size, pc_person.size])
    own_device = np.arange(own_person.size, dtype=np.int64)
    own_record = records.primary[own_person]
    # The card app on the same phone logs in with the card-system customer id.
    card_rec = records.rec_of[own_person, CARD]
    also_card = (own_kind == MOBILE) & (card_rec >= 0) & (card_rec != own_record)
    also_card &= rng.random(own_person.size) < 0.3

    # Family tablets: head and second member always, others often.
    multi = np.flatnonzero((hh.size > 1) & (rng.random(hh.n_households) < FAMILY_TABLET_SHARE))
    in_tablet_hh = np.isin(hh.household, multi)
    tab_member = in_tablet_hh & ((hh.position <= 1) | (rng.random(n) < 0.7))
    tab_person = persons[tab_member]
    tab_index = np.searchsorted(multi, hh.household[tab_person])
    tab_device = own_person.size + tab_index

    n_personal = own_person.size + multi.size
    personal_ids = prefixed(
        "D", unique_ints(rng, 1_000_000, clean_bound(DEVICE_DIGITS), n_personal), DEVICE_DIGITS
    )

    # Public devices: branch kiosks and shared office PCs used by many strangers.
    n_kiosk = max(2, customers // 2500)
    n_office = max(1, customers // 10_000)
    branches = unique_ints(rng, 1, 10_000, n_kiosk)
    kiosk_ids = pc.binary_replace_slice(
        pc.cast(pa.array(branches + 10_000), pa.string()), 0, 1, "KIOSK-BR"
    )
    office = np.arange(n_office, dtype=np.int64)
    office_ids = pc.binary_join_element_wise(
        pc.binary_replace_slice(
            pc.cast(pa.array(branches[office % n_kiosk] + 10_000), pa.string()), 0, 1, "PC-BR"
        ),
        pc.binary_replace_slice(pc.cast(pa.array(office // n_kiosk + 101), pa.string()), 0, 1, ""),
        "-",
    )
    kiosk_person = persons[rng.random(n) < KIOSK_USER_SHARE]
    kiosk_device = n_personal + zipf(rng, n_kiosk, kiosk_person.size, 0.5)
    office_person = persons[rng.random(n) < OFFICE_PC_USER_SHARE]
    office_device = n_personal + n_kiosk + zipf(rng, n_office, office_person.size, 0.5)

    device = np.concatenate(
        [own_device, own_device[also_card], tab_device, kiosk_device, office_device]
    )
    record = np.concatenate(
        [
            own_record,
            card_rec[also_card],
            records.primary[tab_person],
            records.primary[kiosk_person],
            records.primary[office_person],
        ]
    )
    kind = np.concatenate(
        [
            own_kind,
            own_kind[also_card],
            np.full(tab_person.size, TABLET),
            np.full(kiosk_person.size, KIOSK),
            np.full(office_person.size, DESKTOP),
        ]
    ).astype(np.int64)
    n_public = kiosk_person.size + office_person.size
    public = np.arange(device.size) >= device.size - n_public
    m = device.size
    p_first, p_last, p_logins = _seen(rng, m, _FIRST_DAY, 3000, 0.5)
    k_first, k_last, k_logins = _seen(rng, m, clock.day(2024, 1, 1), 120, 0.02)
    first = np.where(public, k_first, p_first)
    last = np.where(public, k_last, p_last)
    logins = np.where(public, np.minimum(k_logins, 6), p_logins)

    labels: Any = pa.concat_arrays([personal_ids, kiosk_ids, office_ids])
    order = rng.permutation(m)
    return Frame(
        model.DEVICE_LINKS,
        {
            "device_id": Coded(device[order], labels),
            "customer_id": Coded(record[order], records.customer_id),
            "device_kind": Coded(kind[order], pa.array(list(model.DEVICE_KINDS))),
            "first_seen": Timestamp(first[order]),
            "last_seen": Timestamp(last[order]),
            "logins": Integer(logins[order]),
        },
    )
