"""Device logins: personal phones, shared family tablets, office PCs, shop tablets, kiosks.

Everyone with a record logs in from their own phone (20% also from an old one). The elderly
without a phone of their own log in from the relative's phone their records name; 30% of
homes of two or more share a tablet. Employers' office desktops are shared by 3 to 30
colleagues, a shop's tablet by the owner and staff, and branch kiosks by 30 to 200
strangers in the same city: shared devices that say nothing about kinship.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from indbank.population import Population

SECOND_PHONE_SHARE: Final = 0.20
FAMILY_TABLET_SHARE: Final = 0.30
EMPLOYEES_PER_OFFICE_PC: Final = 15
PERSONS_PER_KIOSK: Final = 5000
START: Final = np.datetime64("2023-06-01T00:00:00")


def build(
    rng: np.random.Generator,
    pop: Population,
    primary_ids: np.ndarray,
    employer_of: np.ndarray,
    firm_kind: np.ndarray,
    owner_of: np.ndarray,
) -> pd.DataFrame:
    n = pop.n
    dev: list[np.ndarray] = []
    who: list[np.ndarray] = []
    kind: list[np.ndarray] = []
    next_id = 0

    def add(device: np.ndarray, person: np.ndarray, k: str) -> None:
        dev.append(device)
        who.append(person)
        kind.append(np.full(device.size, k, dtype=object))

    everyone = np.arange(n)
    own = np.full(n, -1)
    has_own = pop.phone_of < 0
    own[has_own] = next_id + np.arange(int(has_own.sum()))
    next_id += int(has_own.sum())
    add(own[has_own], everyone[has_own], "mobile")
    borrow = np.flatnonzero(~has_own)
    lender_dev = own[pop.phone_of[borrow]]
    ok = lender_dev >= 0
    add(lender_dev[ok], borrow[ok], "mobile")
    second = everyone[rng.random(n) < SECOND_PHONE_SHARE]
    add(next_id + np.arange(second.size), second, "mobile")
    next_id += second.size
    # Family tablets: shared by every member of a chosen home of two or more.
    size = np.bincount(pop.household)
    homes = np.flatnonzero((size >= 2) & (rng.random(size.size) < FAMILY_TABLET_SHARE))
    tablet_of = np.full(size.size, -1)
    tablet_of[homes] = next_id + np.arange(homes.size)
    next_id += homes.size
    members = everyone[tablet_of[pop.household] >= 0]
    add(tablet_of[pop.household[members]], members, "tablet")
    # Office desktops.
    staff = np.flatnonzero(employer_of >= 0)
    heads = np.bincount(employer_of[staff], minlength=firm_kind.size)
    for e in np.flatnonzero((heads >= 5) & (firm_kind == 0)):
        people = staff[employer_of[staff] == e]
        for _ in range(int(np.ceil(heads[e] / EMPLOYEES_PER_OFFICE_PC))):
            k = int(min(people.size, rng.integers(3, 31)))
            add(np.full(k, next_id), rng.choice(people, size=k, replace=False), "desktop")
            next_id += 1
    # Shop tablets: owner and staff.
    for e in np.flatnonzero(firm_kind == 1):
        people = np.concatenate([[owner_of[e]], staff[employer_of[staff] == e]])
        people = np.unique(people[people >= 0])
        add(np.full(people.size, next_id), people, "tablet")
        next_id += 1
    # Branch kiosks.
    city = pop.dwellings.city[pop.flat]
    for _ in range(max(2, n // PERSONS_PER_KIOSK)):
        c = rng.choice(np.unique(city))
        local = np.flatnonzero(city == c)
        k = min(int(local.size), int(rng.integers(30, 201)))
        add(np.full(k, next_id), rng.choice(local, size=k, replace=False), "kiosk")
        next_id += 1
    device = np.concatenate(dev)
    person = np.concatenate(who)
    dkind = np.concatenate(kind)
    frame = pd.DataFrame({"device": device, "person": person, "kind": dkind})
    frame = frame.drop_duplicates(["device", "person"]).reset_index(drop=True)
    m = len(frame)
    tags = rng.permutation(next_id)
    first = START + rng.uniform(0, 900, size=m).astype("timedelta64[D]")
    last = first + rng.uniform(0, 300, size=m).astype("timedelta64[D]")
    last = np.minimum(last, np.datetime64("2025-12-31"))
    secs = rng.integers(0, 86400, size=m).astype("timedelta64[s]")
    first_ts = first.astype("datetime64[s]") + secs
    last_ts = np.maximum(last.astype("datetime64[s]") + secs, first_ts)
    logins = rng.negative_binomial(2, 0.05, size=m) + 1
    logins[frame["kind"].to_numpy() == "kiosk"] = rng.integers(
        1, 4, size=int((frame["kind"] == "kiosk").sum())
    )
    return pd.DataFrame(
        {
            "device_id": [f"D{tags[d]:09x}" for d in frame["device"].to_numpy()],
            "customer_id": primary_ids[frame["person"].to_numpy()],
            "device_kind": frame["kind"].to_numpy(),
            "first_seen": np.datetime_as_string(first_ts, unit="s").astype(object),
            "last_seen": np.datetime_as_string(last_ts, unit="s").astype(object),
            "logins": logins,
        }
    )
