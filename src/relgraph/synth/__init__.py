"""Synthetic bank with planted ground truth: ``generate`` writes the eleven input tables and ``truth/``.

The bank is drawn stage by stage, each stage from its own random stream spawned from the
seed, so the same seed gives the same bytes and ``--dirty`` rows never disturb the clean
ones. The truth files are described in :mod:`relgraph.synth.truth`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Final, Literal

import numpy as np

from relgraph import model
from relgraph.synth import (
    accounts,
    contacts,
    devices,
    enterprises,
    family,
    guarantees,
    households,
    laundering,
    parties,
    people,
    records,
    referrals,
    transfers,
    truth,
    writer,
)
from relgraph.synth.dirty import DirtyRows, inject
from relgraph.synth.frame import Fmt, Frame

__all__ = ["MIN_CUSTOMERS", "generate"]

MIN_CUSTOMERS: Final = 10
_STREAMS: Final = (
    "plan",
    "persons",
    "households",
    "records",
    "devices",
    "family",
    "enterprises",
    "guarantees",
    "referrals",
    "accounts",
    "laundering",
    "transfers",
    "tables",
    "dirty",
    "contacts",
)


def _check(customers: int, fmt: str, dirty_fraction: float) -> Fmt:
    if isinstance(customers, bool) or not isinstance(customers, int | np.integer):
        raise ValueError(f"customers must be an integer, got {customers!r}")
    if customers < MIN_CUSTOMERS:
        raise ValueError(f"customers must be at least {MIN_CUSTOMERS}, got {customers}")
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"format must be 'csv' or 'parquet', got {fmt!r}")
    if not 0.0 <= dirty_fraction < 0.5:
        raise ValueError(f"dirty must be in [0, 0.5), got {dirty_fraction}")
    return "csv" if fmt == "csv" else "parquet"


def generate(
    customers: int,
    seed: int,
    out: Path,
    fmt: Literal["csv", "parquet"] = "csv",
    dirty: float = 0.0,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Write a synthetic bank and its planted ground truth.

    Parameters
    ----------
    customers
        Customer rows (records) in ``customers``, exactly; at least 10. The bank has about
        ``customers / 1.33`` persons, ``customers / 20`` enterprises, 1.6 accounts and
        6–7 transfers per customer row.
    seed
        Random seed: the same seed (and arguments) writes the same bytes.
    out
        Output directory: ``<table>.csv`` or ``<table>.parquet`` per input table and a
        ``truth/`` folder of CSV files. Created if missing; existing files are overwritten.
    fmt
        ``"csv"`` or ``"parquet"``.
    dirty
        Fraction in ``[0, 0.5)``: about this many malformed rows per clean row are added
        to each table (listed in ``truth/dirty.csv``); the clean rows stay as they are.
    progress
        Called with a short stage name as each stage starts.

    Returns
    -------
    dict
        Rows written per input table (dirty rows included), in ``model.INPUT_TABLES`` order.

    Raises
    ------
    ValueError
        On fewer than 10 customers, an unknown format or ``dirty`` outside ``[0, 0.5)``.
    """
    file_format = _check(customers, fmt, dirty)
    customers = int(customers)

    def stage(name: str) -> None:
        if progress is not None:
            progress(name)

    streams = dict(zip(_STREAMS, np.random.SeedSequence(seed).spawn(len(_STREAMS)), strict=True))

    def rng(name: str) -> np.random.Generator:
        return np.random.Generator(np.random.PCG64(streams[name]))

    stage("persons")
    n_records, has_core = people.plan(rng("plan"), customers)
    hh = households.build(rng("households"), n_records.size)
    folk = people.build(rng("persons"), hh, n_records, has_core)
    recs = records.build(rng("records"), folk)
    stage("devices")
    device_links = devices.build(rng("devices"), folk, recs, customers)
    family_frame = family.build(rng("family"), folk, recs)
    stage("enterprises")
    firms, ownership = enterprises.build(rng("enterprises"), folk, recs, customers)
    stage("guarantees")
    guar = guarantees.build(rng("guarantees"), firms, recs, customers)
    stage("referrals")
    refs = referrals.build(rng("referrals"), recs)
    stage("accounts")
    accts = accounts.build(rng("accounts"), folk, recs, firms)
    main, card = accounts.main_accounts(accts, folk.n)
    company = accounts.enterprise_accounts(accts, firms.n)
    stage("laundering")
    planted = laundering.plan(rng("laundering"), folk, recs, accts, main, customers)
    all_accounts = accts.extend(planted.mules)
    stage("transfers")
    flows = transfers.background(rng("transfers"), folk, firms, main, card, company)
    tables_rng = rng("tables")
    account_frame, account_ids = accounts.frame(tables_rng, all_accounts, recs, firms)
    transfer_table = transfers.table(tables_rng, flows, planted, account_ids)
    del flows

    frames: dict[str, Frame] = {
        "customers": parties.customers(tables_rng, folk, recs, all_accounts, firms),
        "enterprises": parties.enterprises_table(tables_rng, firms, all_accounts),
        "accounts": account_frame,
        "device_links": device_links,
        "family": family_frame,
        "shareholdings": ownership.shareholdings,
        "positions": ownership.positions,
        "guarantees": guar.frame,
        "referrals": refs.frame,
        "transfers": transfer_table.frame,
        "contacts": contacts.build(rng("contacts"), recs, firms),
    }
    assert tuple(frames) == tuple(t.name for t in model.INPUT_TABLES)

    dirty_rows: dict[str, DirtyRows] = {}
    if dirty > 0:
        stage("dirty rows")
        dirty_rng = rng("dirty")
        for name, frame in frames.items():
            rows = inject(dirty_rng, frame, dirty, file_format)
            if rows is not None:
                dirty_rows[name] = rows

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for name, frame in frames.items():
        stage(f"writing {name}")
        path = out / f"{name}.{file_format}"
        counts[name] = writer.write(frame, path, file_format, dirty_rows.get(name))

    stage("writing truth")
    truth.write(
        out / "truth",
        {
            "persons": truth.persons(recs),
            "households": truth.households(recs, hh.household),
            "groups": ownership.groups,
            "guarantee_circles": guar.circles,
            "influencers": refs.influencers,
            "laundering": truth.laundering(planted, transfer_table.planted_tx),
            "record_noise": recs.noise,
            "dirty": truth.dirty(dirty_rows),
        },
    )
    return counts
