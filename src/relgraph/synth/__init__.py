"""Synthetic bank with planted ground truth: ``generate`` writes the eleven input tables and ``truth/``.

The bank is drawn stage by stage, each stage from its own random stream spawned from the
seed, so the same seed gives the same bytes and ``--dirty`` rows never disturb the clean
ones. The truth files are described in :mod:`relgraph.synth.truth`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import pyarrow.compute as pc

from relgraph import model
from relgraph.synth import (
    accounts,
    bank_export,
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
from relgraph.synth.zh import LOCALES

__all__ = ["EXPORT_STYLES", "LOCALES", "MIN_CUSTOMERS", "generate"]
EXPORT_STYLES: Final = ("plain", "bank")

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


def _check(customers: int, fmt: str, dirty_fraction: float, locale: str, export_style: str) -> Fmt:
    if isinstance(customers, bool) or not isinstance(customers, int | np.integer):
        raise ValueError(f"customers must be an integer, got {customers!r}")
    if customers < MIN_CUSTOMERS:
        raise ValueError(f"customers must be at least {MIN_CUSTOMERS}, got {customers}")
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"format must be 'csv' or 'parquet', got {fmt!r}")
    if not 0.0 <= dirty_fraction < 0.5:
        raise ValueError(f"dirty must be in [0, 0.5), got {dirty_fraction}")
    if locale not in LOCALES:
        raise ValueError(f"locale must be one of {', '.join(LOCALES)}, got {locale!r}")
    if export_style not in EXPORT_STYLES:
        raise ValueError(f"export style must be plain or bank, got {export_style!r}")
    if export_style == "bank" and (locale != "zh" or fmt != "csv"):
        raise ValueError("the bank export style needs --locale zh and --format csv")
    return "csv" if fmt == "csv" else "parquet"


def generate(
    customers: int,
    seed: int,
    out: Path,
    fmt: Literal["csv", "parquet"] = "csv",
    dirty: float = 0.0,
    progress: Callable[[str], None] | None = None,
    locale: str = "en",
    export_style: str = "plain",
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
    locale
        ``"en"``: the bank in pinyin and English, byte for byte as before the zh locale.
        ``"zh"`` (the command line's default): hanzi names, the card system's pinyin, Chinese
        addresses and firm names, each system's own way of writing ids and phones
        (:mod:`relgraph.synth.zh`). Timestamps are naive local (Beijing) time in both.
    export_style
        ``"plain"``: one ``<table>.csv`` per table. ``"bank"`` (zh, CSV): the card system's
        customers and core banking's accounts, family, shareholdings, positions and
        transfers are written as a Chinese bank exports them, with ``mapping.yaml``
        (:mod:`relgraph.synth.bank_export`).

    Returns
    -------
    dict
        Rows written per input table (dirty rows included), in ``model.INPUT_TABLES`` order.

    Raises
    ------
    ValueError
        On fewer than 10 customers, an unknown format or locale, or ``dirty`` outside ``[0, 0.5)``.
    """
    file_format = _check(customers, fmt, dirty, locale, export_style)
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
    folk = people.build(rng("persons"), hh, n_records, has_core, locale)
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
    # Files of the other export style from an earlier run would be read as well: remove them.
    stale = [spec.name for spec in bank_export.FILES] + [bank_export.MAPPING_FILE]
    if export_style == "bank":
        stale = [f"{s.table}.csv" for s in bank_export.FILES if s.source_system is None]
    for name in stale:
        (out / name).unlink(missing_ok=True)
    counts: dict[str, int] = {}
    for name, frame in frames.items():
        stage(f"writing {name}")
        path = out / f"{name}.{file_format}"
        spec = bank_export.spec_for(name) if export_style == "bank" else None
        if spec is None:
            counts[name] = writer.write(frame, path, file_format, dirty_rows.get(name))
            continue
        counts[name], moved = _write_bank(frame, spec, out, dirty_rows.get(name))
        if moved is not None:
            dirty_rows[name] = moved
    if export_style == "bank":
        bank_export.write_mapping(out)

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


def _write_bank(
    frame: Frame, spec: bank_export.BankFile, out: Path, dirty: DirtyRows | None
) -> tuple[int, DirtyRows | None]:
    """Write ``frame`` in the bank's style; return the rows written and the moved dirty rows.

    A table split by source system keeps its other rows, and every dirty row, in the plain
    ``<table>.csv``; the dirty rows' places are renumbered for that file.
    """

    def bank_style(chunk: Any) -> Any:
        return bank_export.transform(spec, chunk)

    if spec.source_system is None:
        n = writer.write(
            frame, out / spec.name, "csv", dirty, transform=bank_style, encoding=spec.encoding
        )
        return n, None
    system = frame.columns["source_system"].render(slice(0, frame.n), "csv")
    mine = pc.equal(system, spec.source_system).to_numpy(zero_copy_only=False)
    rest = np.flatnonzero(~mine)
    n = writer.write(
        frame.take(np.flatnonzero(mine)),
        out / spec.name,
        "csv",
        transform=bank_style,
        encoding=spec.encoding,
    )
    moved = None
    if dirty is not None:
        kept_before = np.cumsum(~mine) - 1
        after = np.where(dirty.after >= 0, kept_before[np.maximum(dirty.after, 0)], -1)
        moved = dataclasses.replace(dirty, after=after.astype(np.int64))
    n += writer.write(frame.take(rest), out / f"{frame.table.name}.csv", "csv", moved)
    return n, moved
