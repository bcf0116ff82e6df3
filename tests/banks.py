"""Writing small banks as input files and loading them: shared by the test packages."""

from __future__ import annotations

import csv
import fcntl
import os
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from relgraph import model
from relgraph.analytics.layering import Alerts, LayeringIndex, LayeringParams
from relgraph.analytics.layering.live import LiveIndex
from relgraph.config import moment_ms, source_zone
from relgraph.graph import Projection, build_projection
from relgraph.ingest import LoadReport, load_directory
from relgraph.store.embedded import EmbeddedStore

Rows = list[dict[str, Any]]

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id(first17: str) -> str:
    """A GB 11643 resident id number: ``first17`` and its ISO 7064 MOD 11-2 check character.

    Linkage takes only valid ids as evidence, so a fixture whose records share an id number
    writes it with this (digits 7-14 the birth date, the 17th odd for men).
    """
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


def write_csv(path: Path, rows: Rows, columns: list[str] | None = None) -> None:
    columns = columns or list(dict.fromkeys(c for row in rows for c in row))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def write_bank(folder: Path, tables: dict[str, Rows]) -> Path:
    """Write each table as CSV; required tables not given are written empty."""
    for table in model.INPUT_TABLES:
        rows = tables.get(table.name)
        if rows:
            write_csv(folder / f"{table.name}.csv", rows)
        elif rows is not None or table.required:
            write_csv(folder / f"{table.name}.csv", [], list(table.column_names))
    return folder


def people(*ids: str) -> Rows:
    """Customer rows, one person each (the id doubles as name and id number)."""
    return [
        {"customer_id": c, "source_system": "core", "name": f"Person {c}", "id_number": c}
        for c in ids
    ]


def balances_in_three_currencies(folder: Path) -> Path:
    """Customer C1 with a yuan deposit (A1, 1,200 人民币), a yen one (A2, 10,000,000 日元) and
    one loaded without a currency (A3, 50): AUM 1,250, the yen balance counting nothing."""
    return write_bank(folder, {
        "customers": people("C1"),
        "accounts": [
            {"account_id": a, "holder_id": "C1", "holder_kind": "customer", "product": "deposit",
             "balance": b, "currency": c}
            for a, b, c in [("A1", "1200", "人民币"), ("A2", "10000000", "日元"), ("A3", "50", "")]
        ],
    })  # fmt: skip


def transfer(tx_id: str, frm: str, to: str, amount: float, when: datetime) -> dict[str, Any]:
    """One transfers row in CNY at ``when`` (naive: the source time zone)."""
    return {"tx_id": tx_id, "from_account": frm, "to_account": to, "amount": f"{amount:.2f}",
            "currency": "CNY", "ts": when.isoformat(timespec="seconds")}  # fmt: skip


def holder_each(transfers: Rows, opened: str = "2015-01-01") -> dict[str, Rows]:
    """A bank of ``transfers`` whose every account is held by a customer of its own
    (``C<account>``, a hanzi name), opened long before."""
    accounts = sorted({t[k] for t in transfers for k in ("from_account", "to_account")})
    return {
        "customers": [
            {"customer_id": f"C{a}", "source_system": "core", "name": f"客户{a}", "id_number": f"C{a}"}
            for a in accounts
        ],
        "accounts": [
            {"account_id": a, "holder_id": f"C{a}", "holder_kind": "customer", "product": "deposit",
             "opened_at": opened}
            for a in accounts
        ],
        "transfers": transfers,
    }  # fmt: skip


def companies(*ids: str) -> Rows:
    return [{"enterprise_id": e, "name": f"Company {e}"} for e in ids]


def held_by_firms(tables: dict[str, Rows], firms: set[str]) -> dict[str, Rows]:
    """``tables`` of :func:`holder_each` with each account of ``firms`` held by an
    enterprise of its own (``E-<account>``) instead of a customer: shops, employers."""
    firm_of = {a: f"E-{a}" for a in sorted(firms)}
    tables["customers"] = [c for c in tables["customers"] if c["customer_id"][1:] not in firms]
    for account in tables["accounts"]:
        if account["account_id"] in firm_of:
            account.update(holder_id=firm_of[account["account_id"]], holder_kind="enterprise")
    tables["enterprises"] = companies(*firm_of.values())
    return tables


def kin_and_firms(root: Path, transfers: Rows, firms: set[str], family: Rows) -> Projection:
    """The projection of a bank of ``transfers`` (:func:`holder_each`) whose ``firms``'
    accounts are held by enterprises (:func:`held_by_firms`), with declared ``family`` ties."""
    tables = held_by_firms(holder_each(transfers), firms)
    tables["family"] = family
    return project(write_bank(root / "bank", tables), root / "data")


def load(source: Path, data_dir: Path) -> LoadReport:
    with EmbeddedStore(data_dir) as store:
        return load_directory(source, store, data_dir)


def read_quarantine(data_dir: Path, table: str) -> list[dict[str, str]]:
    with (data_dir / "quarantine" / f"{table}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def project(source: Path, data_dir: Path) -> Projection:
    """Load ``source`` into ``data_dir`` and build the projection."""
    load(source, data_dir)
    return projection_of(data_dir)


def projection_of(data_dir: Path) -> Projection:
    """The projection of the store in ``data_dir``, opened read-only."""
    with EmbeddedStore(data_dir, read_only=True) as store:
        return build_projection(store)


def built_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], object]
) -> Path:
    """The folder ``name`` that ``build`` fills: built once per test run, under a lock, and
    shared by every module and xdist worker asking for it (loading a synthetic bank of
    thousands of customers, linkage and all, takes many seconds). Only read it: copy it
    (:func:`copy_data`) to write to it."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the run's folder, above each worker's own
    root = base / f"built-once-{name}"
    with (base / f"{root.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / ".done").exists():
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir()
            build(root)
            (root / ".done").touch()
    return root


def loaded_synthetic(
    tmp_path_factory: pytest.TempPathFactory, customers: int, seed: int
) -> tuple[Path, Path]:
    """The files of ``generate(customers, seed, ..., "csv")`` and the data folder they loaded
    into, made once per test run (:func:`built_once`): only read them."""
    from relgraph.synth import generate

    def build(root: Path) -> None:
        generate(customers, seed, root / "bank", "csv")
        load(root / "bank", root / "data")

    root = built_once(tmp_path_factory, f"synthetic-{customers}-{seed}", build)
    return root / "bank", root / "data"


def analysed_synthetic(
    tmp_path_factory: pytest.TempPathFactory, customers: int, seed: int, *, held_back: bool = False
) -> tuple[Path, Path]:
    """:func:`loaded_synthetic`, analysed too (default settings): the files (``truth`` in
    them) and the data folder, made once per test run. Only read them: copy to write.

    ``held_back``: the later half of the transfers is held back first (:func:`hold_back_half`,
    written to ``late.csv`` beside the folders; :func:`held_back_synthetic` reads it)."""
    from relgraph.jobs.analyze import analyze
    from relgraph.synth import generate

    def build(root: Path) -> None:
        generate(customers, seed, root / "bank", "csv")
        if held_back:
            hold_back_half(root / "bank").to_csv(root / "late.csv", index=False)
        with EmbeddedStore(root / "data") as store:
            load_directory(root / "bank", store, root / "data")
            analyze(store, build_projection(store))

    name = f"analysed-{customers}-{seed}" + ("-held-back" if held_back else "")
    root = built_once(tmp_path_factory, name, build)
    return root / "bank", root / "data"


def held_back_synthetic(
    tmp_path_factory: pytest.TempPathFactory, customers: int, seed: int
) -> tuple[Path, Path, pd.DataFrame]:
    """:func:`analysed_synthetic` without the later half of its transfers: the bank's files,
    its data folder (its ``load-report.json`` the first load's), and the held-back
    transfers to stream, as :func:`hold_back_half` returned them."""
    bank, data = analysed_synthetic(tmp_path_factory, customers, seed, held_back=True)
    late = pd.read_csv(bank.parent / "late.csv", dtype=str).astype({"_ms": "int64"})
    return bank, data, late


def copy_data(data_dir: Path, to: Path) -> Path:
    """A copy of the (closed) store in ``data_dir`` at ``to``, to write to."""
    shutil.copytree(data_dir, to)
    return to


def live_with_last(
    folder: Path, rows: Rows, params: LayeringParams, ids: list[str]
) -> tuple[LiveIndex, int]:
    """A live index over the bank of every row but the last (its accounts numbered as
    ``ids``, the whole bank's), and the last row added to it: the index and its row."""
    before = project(write_bank(folder / "part", holder_each(rows[:-1])), folder / "part-data")
    assert before.nodes["Account"].ids.tolist() == ids
    live = LiveIndex.from_index(
        LayeringIndex.build(before, params), ids, {a: i for i, a in enumerate(ids)}
    )
    last = rows[-1]
    when = moment_ms(last["ts"], source_zone())
    row = live.add(
        last["tx_id"], ids.index(last["from_account"]), ids.index(last["to_account"]),
        float(last["amount"]), when,
    )  # fmt: skip
    return live, row


def hold_back_half(bank: Path) -> pd.DataFrame:
    """Rewrite ``bank``'s transfers file with its earlier half (by time, then id) and return
    the later half, each row's time also as epoch ms in ``_ms``: a bank whose second half
    arrives by stream."""
    transfers = pd.read_csv(bank / "transfers.csv", dtype=str)
    transfers["_ms"] = [moment_ms(t, source_zone()) for t in transfers["ts"]]
    transfers = transfers.sort_values(["_ms", "tx_id"], kind="stable")
    cut = len(transfers) // 2
    transfers.iloc[:cut].drop(columns="_ms").to_csv(bank / "transfers.csv", index=False)
    return transfers.iloc[cut:]


def alert_of(bank: Projection, alerts: Alerts, prefix: str, typology: str) -> int:
    """The one alert of ``typology`` whose transfers' ids all start with ``prefix``."""
    ids = bank.edge("Account", "TRANSFER", "Account").attrs["tx_id"].to_numpy(object)
    found = [i for i in range(len(alerts)) if alerts.typology[i] == typology
             and all(str(t).startswith(prefix) for t in ids[alerts.transfers(i)])]  # fmt: skip
    assert len(found) == 1, (prefix, typology)
    return found[0]
