"""Draw the whole bank and write relgraph's input tables and the truth files."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from indbank import (
    accounts,
    clock,
    devices,
    firms,
    guarantees,
    population,
    records,
    referrals,
    routine,
    streams,
    typologies,
)
from indbank.population import RELATIONS

MIN_CUSTOMERS: Final = 1000
"""Below this the planted patterns (at least 14) run out of distinct participants."""
RECORDS_PER_PERSON: Final = 1.42
"""Expected customer rows per person (see ``records.HAS_SYSTEM``): persons = rows / this."""
DECLARED: Final = {0: 0.50, 1: 0.40, 2: 0.40, 3: 0.25, 4: 0.10}
"""Share of true kinship ties (by relation) declared in ``family``, living together."""
DECLARED_APART: Final = 0.30
"""Share of ties between relatives living apart that are declared."""
CONTACTS_PER_PERSON: Final = 0.3
INFLUENCER_MIN_DOWNSTREAM: Final = 10
"""``influencers.csv`` lists referrers with at least this many people below them..."""
INFLUENCERS_MAX: Final = 100
"""...the largest 100 at most. Ordinary referrers bring one to three, so none qualifies."""


def _write(frame: pd.DataFrame, path: Path) -> None:
    """CSV, UTF-8, header row; floats as their shortest text, missing values empty."""
    columns = {}
    for name in frame.columns:
        col = frame[name]
        if col.dtype.kind == "f":
            columns[name] = pa.array(col.to_numpy(), type=pa.float64()).cast(pa.string())
        elif col.dtype.kind in "iu":
            columns[name] = pa.array(col.to_numpy(), type=pa.int64())
        else:
            columns[name] = pa.array(
                col.astype(object).where(col.notna(), None).tolist(), type=pa.string()
            )
    pacsv.write_csv(
        pa.table(columns),
        str(path),
        write_options=pacsv.WriteOptions(quoting_style="needed"),
    )


def generate(
    customers: int, seed: int, out: Path, log: Callable[[str], None] | None = None
) -> dict[str, int]:
    """Write the bank to ``out`` (tables) and ``out/truth`` (truth files); return row counts."""
    if customers < MIN_CUSTOMERS:
        raise ValueError(f"--customers must be at least {MIN_CUSTOMERS}, got {customers}")
    started = time.perf_counter()

    def step(what: str) -> None:
        if log is not None:
            log(f"{time.perf_counter() - started:7.1f}s {what}")

    rng = streams.streams(seed)
    n_persons = int(customers / RECORDS_PER_PERSON)
    pop = population.build(rng["households"], rng["names"], n_persons)
    step(f"population: {pop.n} persons")
    n_patterns = max(14, round(customers / typologies.CUSTOMERS_PER_PATTERN))
    fm = firms.build(rng["firms"], rng["groups"], pop, n_shells=max(4, n_patterns // 2))
    owner = np.zeros(pop.n, dtype=bool)
    owner[fm.owner_of[fm.owner_of >= 0]] = True
    recs = records.build(rng["records"], pop, customers, owner)
    step(f"records: {len(recs.frame)} customer rows, {len(fm.frame)} enterprises")
    rec_ids = recs.ids
    prim = rec_ids[recs.primary]
    ent_ids = fm.ids
    acc = accounts.build(
        rng["accounts"], rec_ids, recs.person, recs.system, recs.primary, pop.age, ent_ids
    )
    step(f"accounts: {len(acc.frame)}")

    tables: dict[str, pd.DataFrame] = {}
    tables["customers"] = recs.frame
    tables["enterprises"] = fm.frame
    tables["accounts"] = acc.frame
    tables["device_links"] = devices.build(
        rng["devices"], pop, prim, fm.employer_of, fm.kind, fm.owner_of
    )
    tables["family"] = _family(rng["records"], pop, prim)
    party = _party(prim, ent_ids)
    # A holder listed twice for one firm (an outsider drawn twice) holds the sum.
    sh = (
        pd.DataFrame(fm.shareholdings, columns=["h", "e", "k", "share"])
        .groupby(["h", "k", "e"], sort=False)["share"]
        .sum()
        .reset_index()
    )
    tables["shareholdings"] = pd.DataFrame(
        {
            "holder_id": party(sh["h"].to_numpy(), sh["k"].to_numpy()),
            "enterprise_id": ent_ids[sh["e"].to_numpy()],
            "holder_kind": np.where(sh["k"] == 0, "customer", "enterprise").astype(object),
            "share": np.round(np.minimum(sh["share"].to_numpy(), 1.0), 4),
        }
    )
    pos = pd.DataFrame(fm.positions, columns=["p", "e", "role"]).drop_duplicates(["p", "e"])
    tables["positions"] = pd.DataFrame(
        {
            "customer_id": prim[pos["p"].to_numpy()],
            "enterprise_id": ent_ids[pos["e"].to_numpy()],
            "role": pos["role"].to_numpy(),
        }
    )
    gu = guarantees.build(rng["guarantees"], pop, fm)
    g = pd.DataFrame(gu.edges, columns=["g", "gk", "b", "bk", "amount"])
    g = g.drop_duplicates(["g", "gk", "b", "bk"])
    g = g[~((g["g"] == g["b"]) & (g["gk"] == g["bk"]))]
    kinds = np.array(["customer", "enterprise"], dtype=object)
    tables["guarantees"] = pd.DataFrame(
        {
            "guarantor_id": party(g["g"].to_numpy(), g["gk"].to_numpy()),
            "borrower_id": party(g["b"].to_numpy(), g["bk"].to_numpy()),
            "guarantor_kind": kinds[g["gk"].to_numpy()],
            "borrower_kind": kinds[g["bk"].to_numpy()],
            "amount": g["amount"].to_numpy(),
        }
    )
    ref = referrals.build(rng["referrals"], pop.n)
    ref_at = referrals.START + ref.at.astype("timedelta64[s]")
    tables["referrals"] = pd.DataFrame(
        {
            "referrer_id": prim[ref.referrer],
            "referred_id": prim[ref.referred],
            "referred_at": np.datetime_as_string(ref_at, unit="s").astype(object),
            "product": rng["referrals"].choice(
                np.array(["deposit", "card", "wealth", "loan"], dtype=object),
                size=ref.referred.size,
                p=[0.4, 0.4, 0.15, 0.05],
            ),
        }
    )
    step("groups, guarantees, referrals, devices")

    opened_day = acc.frame["opened_at"].to_numpy().astype("datetime64[D]")
    opened_sec = (opened_day - clock.YEAR_START.astype("datetime64[D]")).astype(
        np.int64
    ) * clock.DAY
    flows = routine.Flows(opened=opened_sec)
    routine.build(rng["routine"], pop, fm, acc, flows)
    step("routine transfers")
    adult = (pop.age >= 20) & (pop.age <= 65)
    existing = np.unique(acc.main_of_person[adult & (acc.main_of_person >= 0)])
    opened = acc.frame["opened_at"].to_numpy().astype("datetime64[D]")
    fresh = np.flatnonzero(
        (acc.product == 0) & (acc.person >= 0) & (opened >= np.datetime64("2025-01-01"))
    )
    existing = existing[~np.isin(existing, fresh)]
    shells = acc.main_of_firm[fm.kind == 3]
    planted = typologies.plant(rng["typologies"], customers, existing, fresh, shells)
    tx, first, last = _transfers(rng["routine"], flows, planted, acc.ids)
    tables["accounts"] = _settle_accounts(rng["accounts"], acc.frame, first, last)
    tables["transfers"] = tx.drop(columns=["pattern", "typology"])
    step(f"transfers: {len(tx)} ({len(planted.src)} planted)")
    tables["contacts"] = _contacts(rng["contacts"], prim)

    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        _write(frame, out / f"{name}.csv")
    truth = out / "truth"
    truth.mkdir(exist_ok=True)
    for name, frame in _truth(pop, recs, fm, gu, ref, tx, prim, ent_ids).items():
        _write(frame, truth / f"{name}.csv")
    step("written")
    return {name: len(frame) for name, frame in tables.items()}


def _party(prim: np.ndarray, ent_ids: np.ndarray) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def ids(index: np.ndarray, kind: np.ndarray) -> np.ndarray:
        return np.where(
            kind == 0, prim[np.where(kind == 0, index, 0)], ent_ids[np.where(kind == 1, index, 0)]
        )

    return ids


def _family(rng: np.random.Generator, pop: population.Population, prim: np.ndarray) -> pd.DataFrame:
    """Declared ties: a minority of true kinship, often in one direction only."""
    share = np.array([DECLARED[r] for r in range(5)])[pop.tie_rel]
    share = np.where(pop.tie_home, share, DECLARED_APART)
    keep = rng.random(pop.tie_a.size) < share
    return pd.DataFrame(
        {
            "customer_id": prim[pop.tie_a[keep]],
            "relative_id": prim[pop.tie_b[keep]],
            "relation": np.array(RELATIONS, dtype=object)[pop.tie_rel[keep]],
        }
    ).drop_duplicates(["customer_id", "relative_id"])


def _settle_accounts(
    rng: np.random.Generator, frame: pd.DataFrame, first: np.ndarray, last: np.ndarray
) -> pd.DataFrame:
    """Opening dates before first use, and a status that agrees with the account's activity.

    An account opened in the year opened 1–30 days before its first transfer (a mule's
    account, recruited for the job, looks like this). Accounts without transfers are mostly
    dormant (60%) or closed (10%); active ones are active but for 1% left dormant by mistake.
    """
    frame = frame.copy()
    opened = frame["opened_at"].to_numpy().astype("datetime64[D]")
    used = last >= 0
    first_day = clock.YEAR_START.astype("datetime64[D]") + (
        np.where(used, first, 0) // clock.DAY
    ).astype("timedelta64[D]")
    lead = rng.integers(1, 31, size=opened.size).astype("timedelta64[D]")
    late = used & (opened >= first_day)
    opened[late] = first_day[late] - lead[late]
    frame["opened_at"] = np.datetime_as_string(opened, unit="D").astype(object)
    u = rng.random(opened.size)
    status = np.where(
        used,
        np.where(u < 0.01, "dormant", "active"),
        np.where(u < 0.6, "dormant", np.where(u < 0.7, "closed", "active")),
    )
    frame["status"] = status.astype(object)
    return frame


def _transfers(
    rng: np.random.Generator, flows: routine.Flows, planted: typologies.Planted, acc_ids: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    src = np.concatenate([*flows.src, np.array(planted.src, dtype=np.int64)])
    dst = np.concatenate([*flows.dst, np.array(planted.dst, dtype=np.int64)])
    amount = np.concatenate([*flows.amount, np.array(planted.amount)])
    sec = np.concatenate([*flows.sec, np.array(planted.sec, dtype=np.int64)])
    n_routine = src.size - len(planted.src)
    pattern = np.concatenate([np.full(n_routine, -1), np.array(planted.pattern, dtype=np.int64)])
    typ = np.concatenate([np.full(n_routine, -1), np.array(planted.typology, dtype=np.int64)])
    ok = src != dst
    order = np.lexsort((rng.random(int(ok.sum())), sec[ok]))
    src, dst, amount, sec = src[ok][order], dst[ok][order], amount[ok][order], sec[ok][order]
    pattern, typ = pattern[ok][order], typ[ok][order]
    never = np.iinfo(np.int64).max
    first = np.full(acc_ids.size, never)
    last = np.full(acc_ids.size, -1)
    for side in (src, dst):
        np.minimum.at(first, side, sec)
        np.maximum.at(last, side, sec)
    number = streams.unique_ints(rng, 10**11, 10**12, src.size)
    tx = pd.DataFrame(
        {
            "tx_id": np.char.add("TX", number.astype(str)).astype(object),
            "from_account": acc_ids[src],
            "to_account": acc_ids[dst],
            "amount": amount,
            "currency": "CNY",
            "ts": clock.timestamps(sec).astype(object),
            "pattern": pattern,
            "typology": typ,
        }
    )
    return tx, first, last


def _contacts(rng: np.random.Generator, prim: np.ndarray) -> pd.DataFrame:
    n = int(prim.size * CONTACTS_PER_PERSON)
    who = rng.integers(0, prim.size, size=n)
    sec = rng.integers(0, clock.DAYS * clock.DAY, size=n)
    return pd.DataFrame(
        {
            "contact_id": [f"CT{i:09d}" for i in range(n)],
            "party_id": prim[who],
            "party_kind": "customer",
            "ts": clock.timestamps(sec).astype(object),
            "channel": rng.choice(
                np.array(["sms", "phone", "app", "email", "branch", "mail"], dtype=object), size=n
            ),
            "campaign_id": np.char.add("CMP", rng.integers(1, 40, size=n).astype(str)).astype(
                object
            ),
        }
    )


def _truth(
    pop: population.Population,
    recs: records.Records,
    fm: firms.Firms,
    gu: guarantees.Guarantees,
    ref: referrals.Referrals,
    tx: pd.DataFrame,
    prim: np.ndarray,
    ent_ids: np.ndarray,
) -> dict[str, pd.DataFrame]:
    out: dict[str, pd.DataFrame] = {}
    ids = recs.ids
    out["persons"] = pd.DataFrame(
        {
            "customer_id": ids,
            "person_key": np.char.add("P", np.char.zfill((recs.person + 1).astype(str), 8)).astype(
                object
            ),
        }
    )
    hh = pop.household[recs.person]
    out["households"] = pd.DataFrame(
        {
            "customer_id": ids,
            "household_key": np.char.add("H", np.char.zfill((hh + 1).astype(str), 8)).astype(
                object
            ),
        }
    )
    rows: list[tuple[str, str, str]] = []
    for g, (controller, members) in enumerate(fm.groups):
        for e in members:
            rows.append((ent_ids[e], f"G{g + 1:05d}", prim[controller]))
    out["groups"] = pd.DataFrame(rows, columns=["enterprise_id", "group_key", "controller_id"])
    circle_rows: list[tuple[str, str]] = []
    for c, ring in enumerate(gu.circles):
        for idx, kind in ring:
            circle_rows.append((f"GC{c + 1:04d}", prim[idx] if kind == 0 else ent_ids[idx]))
    out["guarantee_circles"] = pd.DataFrame(circle_rows, columns=["circle_key", "member_id"])
    order = np.lexsort((np.arange(pop.n), -ref.downstream))[:INFLUENCERS_MAX]
    order = order[ref.downstream[order] >= INFLUENCER_MIN_DOWNSTREAM]
    out["influencers"] = pd.DataFrame(
        {
            "customer_id": prim[order],
            "rank": np.arange(1, order.size + 1),
            "downstream": ref.downstream[order],
        }
    )
    planted = tx[tx["pattern"] >= 0]
    out["laundering"] = pd.DataFrame(
        {
            "pattern_key": [f"L{p + 1:06d}" for p in planted["pattern"]],
            "typology": np.array(typologies.TYPOLOGIES, dtype=object)[
                planted["typology"].to_numpy()
            ],
            "tx_id": planted["tx_id"].to_numpy(),
        }
    ).sort_values(["pattern_key", "tx_id"], kind="stable")
    out["record_noise"] = pd.DataFrame(recs.noise, columns=["customer_id", "field", "defect"])
    return out
