"""Benchmark: time and peak memory of building the graph projection from a loaded store.

Each repeat runs in a fresh child process (open the store read-only, build the
projection), so timings include reading the tables and peak RSS is the child's own.

Examples
--------
A store already loaded by ``relgraph load``::

    .venv/bin/python benchmarks/bench_projection.py --data-dir relgraph-data

A synthetic bank of 1,000,000 customer rows, made for the run (with the real
generator and ingest when they are importable, else random canonical tables)::

    .venv/bin/python benchmarks/bench_projection.py --customers 1000000 --repeats 3
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from relgraph import model
from relgraph.graph.tables import canonical_schema

DAY_MS = 86_400_000
T0_MS = 1_577_836_800_000  # 2020-01-01


# -- random canonical tables -----------------------------------------------------------------


def _ids(prefix: str, numbers: np.ndarray, width: int = 9) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _choice(rng: np.random.Generator, values: tuple[str, ...], n: int) -> pa.Array:
    return pa.array(np.asarray(values, dtype=object)[rng.integers(0, len(values), n)], pa.string())


def _maybe(rng: np.random.Generator, array: pa.Array, present: float) -> pa.Array:
    """``array`` with a fraction ``1 - present`` of its values nulled."""
    return pc.if_else(
        pa.array(rng.random(len(array)) < present), array, pa.nulls(len(array), array.type)
    )


def _distinct_pairs(
    a: np.ndarray, b: np.ndarray, self_loops: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    keep = np.ones(len(a), bool) if self_loops else a != b
    keys = np.unique(a[keep].astype(np.int64) << 32 | b[keep])
    return keys >> 32, keys & 0xFFFFFFFF


def _table(name: str, columns: dict[str, Any]) -> pa.Table:
    """A canonical table with the model's schema; columns not given are all null."""
    schema = canonical_schema(name)
    n = len(next(iter(columns.values())))
    arrays = []
    for field in schema:
        value = columns.get(field.name)
        if value is None:
            arrays.append(pa.nulls(n, field.type))
        elif isinstance(value, pa.Array | pa.ChunkedArray):
            arrays.append(value.cast(field.type))
        else:
            arrays.append(pa.array(value, field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def random_bank(n_customers: int, seed: int) -> dict[str, pa.Table]:
    """Canonical tables (as ingest would write them) of a random bank with ``n_customers`` rows.

    Sizes follow the synthetic bank: ≈0.8 persons, 1.8 accounts, 1.5 device links and
    5 transfers per customer row; phones, addresses and devices are shared by a few
    persons each, and 20 kiosks by thousands.
    """
    rng = np.random.default_rng(seed)
    n = n_customers
    n_persons = max(1, int(n / 1.25))
    person_of = np.concatenate([np.arange(n_persons), rng.integers(0, n_persons, n - n_persons)])
    rng.shuffle(person_of)
    customer_no = rng.permutation(n)  # rows out of id order, as real loads are
    person_ids = _ids("P", np.arange(n_persons))
    tables: dict[str, pa.Table] = {}

    tables["persons"] = _table(
        "persons",
        {
            "person_id": person_ids,
            "name": _ids("name ", np.arange(n_persons), 7),
            "birth_date": T0_MS - rng.integers(18 * 365, 80 * 365, n_persons) * DAY_MS,
            "gender": _choice(rng, model.GENDERS, n_persons),
            "n_records": np.bincount(person_of, minlength=n_persons),
            "segment": _choice(rng, model.SEGMENTS, n_persons),
            "risk_rating": _choice(rng, model.RISK_RATINGS, n_persons),
            "aum": rng.exponential(50_000, n_persons),
            "deposits": rng.exponential(20_000, n_persons),
            "loans": rng.exponential(10_000, n_persons),
            "card_spend_12m": rng.exponential(5_000, n_persons),
            "products": _choice(rng, ("deposit", "deposit;card", "deposit;card;loan"), n_persons),
            "consent_marketing": rng.random(n_persons) < 0.7,
        },
    )
    # Identifiers are per person, drawn from pools a little smaller than the population,
    # so some are shared (households, family phones) as in real data.
    phone = _ids("+86138", rng.integers(0, int(n_persons * 0.9), n_persons), 8)
    email = _ids("user", rng.integers(0, int(n_persons * 0.95), n_persons), 9)
    address = _ids("street ", rng.integers(0, int(n_persons * 0.4), n_persons), 9)
    id_number = _ids("ID", np.arange(n_persons), 12)
    take = pa.array(person_of)
    tables["customers"] = _table(
        "customers",
        {
            "customer_id": _ids("C", customer_no),
            "source_system": _choice(rng, model.SOURCE_SYSTEMS, n),
            "name": pc.take(tables["persons"].column("name"), take),
            "id_number": _maybe(rng, pc.take(id_number, take), 0.8),
            "birth_date": pc.take(tables["persons"].column("birth_date"), take),
            "gender": _choice(rng, model.GENDERS, n),
            "phone": pc.take(phone, take),
            "email": pc.take(email, take),
            "address": pc.take(address, take),
            "segment": _choice(rng, model.SEGMENTS, n),
            "risk_rating": _choice(rng, model.RISK_RATINGS, n),
            "aum": rng.exponential(40_000, n),
            "deposits": rng.exponential(15_000, n),
            "loans": rng.exponential(8_000, n),
            "card_spend_12m": rng.exponential(4_000, n),
            "products": _choice(rng, ("deposit", "card", "deposit;loan"), n),
            "consent_marketing": rng.random(n) < 0.7,
            "person_id": pc.take(person_ids, take),
            "name_norm": pc.take(tables["persons"].column("name"), take),
            "id_number_norm": _maybe(rng, pc.take(id_number, take), 0.8),
            "phone_norm": _maybe(rng, pc.take(phone, take), 0.9),
            "email_norm": _maybe(rng, pc.take(email, take), 0.7),
            "address_norm": _maybe(rng, pc.take(address, take), 0.9),
        },
    )
    customer_ids = tables["customers"].column("customer_id").combine_chunks()

    n_ent = max(2, n // 20)
    enterprise_ids = _ids("E", np.arange(n_ent))
    ent_phone = _ids("+8610", rng.integers(0, n_ent, n_ent), 8)
    ent_address = _ids("park ", rng.integers(0, n_ent // 2 + 1, n_ent), 9)
    tables["enterprises"] = _table(
        "enterprises",
        {
            "enterprise_id": enterprise_ids,
            "name": _ids("firm ", np.arange(n_ent), 7),
            "credit_code": _ids("91", np.arange(n_ent), 16),
            "industry": _choice(rng, ("retail", "tech", "trade", "property"), n_ent),
            "registered_capital": rng.exponential(1e6, n_ent),
            "deposits": rng.exponential(5e5, n_ent),
            "loans": rng.exponential(5e5, n_ent),
            "credit_limit": rng.exponential(1e6, n_ent),
            "address": ent_address,
            "phone": ent_phone,
            "risk_rating": _choice(rng, model.RISK_RATINGS, n_ent),
            "phone_norm": ent_phone,
            "address_norm": ent_address,
        },
    )

    n_acc = int(n * 1.8)
    by_customer = rng.random(n_acc) < 0.9
    holder = np.where(by_customer, rng.integers(0, n, n_acc), rng.integers(0, n_ent, n_acc))
    holder_ids = pc.if_else(
        pa.array(by_customer),
        pc.take(customer_ids, pa.array(np.where(by_customer, holder, 0))),
        pc.take(enterprise_ids, pa.array(np.where(by_customer, 0, holder))),
    )
    account_no = rng.permutation(n_acc)
    tables["accounts"] = _table(
        "accounts",
        {
            "account_id": _ids("A", account_no, 10),
            "holder_id": holder_ids,
            "holder_kind": pa.array(np.where(by_customer, "customer", "enterprise").astype(object)),
            "product": _choice(rng, model.PRODUCTS, n_acc),
            "opened_at": T0_MS - rng.integers(0, 3650, n_acc) * DAY_MS,
            "balance": rng.normal(10_000, 5_000, n_acc),
            "status": _choice(rng, model.ACCOUNT_STATUSES, n_acc),
        },
    )
    account_ids = tables["accounts"].column("account_id").combine_chunks()

    n_links = int(n * 1.5)
    device = rng.integers(0, int(n * 1.1), n_links)
    kiosk = rng.random(n_links) < 0.002
    device[kiosk] = int(n * 1.1) + rng.integers(0, 20, int(kiosk.sum()))
    dev, cust = _distinct_pairs(device, rng.integers(0, n, n_links), self_loops=True)
    n_links = len(dev)
    first = T0_MS + rng.integers(0, 365 * DAY_MS, n_links)
    tables["device_links"] = _table(
        "device_links",
        {
            "device_id": _ids("D", dev, 10),
            "customer_id": pc.take(customer_ids, pa.array(cust)),
            "device_kind": pa.array(
                np.where(dev >= int(n * 1.1), "kiosk", "mobile").astype(object)
            ),
            "first_seen": first,
            "last_seen": first + rng.integers(0, 365 * DAY_MS, n_links),
            "logins": rng.integers(1, 500, n_links),
        },
    )

    def customer_pairs(count: int) -> tuple[pa.Array, pa.Array, int]:
        a, b = _distinct_pairs(rng.integers(0, n, count), rng.integers(0, n, count))
        return pc.take(customer_ids, pa.array(a)), pc.take(customer_ids, pa.array(b)), len(a)

    c, r, k = customer_pairs(int(n * 0.3))
    tables["family"] = _table(
        "family", {"customer_id": c, "relative_id": r, "relation": _choice(rng, model.RELATIONS, k)}
    )
    h, e = _distinct_pairs(rng.integers(0, n, n // 20), rng.integers(0, n_ent, n // 20), True)
    tables["shareholdings"] = _table(
        "shareholdings",
        {
            "holder_id": pc.take(customer_ids, pa.array(h)),
            "enterprise_id": pc.take(enterprise_ids, pa.array(e)),
            "holder_kind": pa.array(["customer"] * len(h)),
            "share": rng.uniform(0.01, 0.5, len(h)),
        },
    )
    tables["positions"] = _table(
        "positions",
        {
            "customer_id": pc.take(customer_ids, pa.array(h)),
            "enterprise_id": pc.take(enterprise_ids, pa.array(e)),
            "role": _choice(rng, model.ROLES, len(h)),
        },
    )
    g, b, k = customer_pairs(n // 100)
    tables["guarantees"] = _table(
        "guarantees",
        {
            "guarantor_id": g,
            "borrower_id": b,
            "guarantor_kind": pa.array(["customer"] * k),
            "borrower_kind": pa.array(["customer"] * k),
            "amount": rng.exponential(1e5, k),
        },
    )
    a, b, k = customer_pairs(n // 10)
    tables["referrals"] = _table(
        "referrals",
        {
            "referrer_id": a,
            "referred_id": b,
            "referred_at": T0_MS + rng.integers(0, 365 * DAY_MS, k),
            "product": _choice(rng, model.PRODUCTS, k),
        },
    )

    n_tx = n * 5
    src = rng.integers(0, n_acc, n_tx)
    dst = (src + rng.integers(1, n_acc, n_tx)) % n_acc  # never a self-transfer
    tables["transfers"] = _table(
        "transfers",
        {
            "tx_id": _ids("T", rng.permutation(n_tx), 11),
            "from_account": pc.take(account_ids, pa.array(src)),
            "to_account": pc.take(account_ids, pa.array(dst)),
            "amount": rng.exponential(2_000, n_tx),
            "currency": pa.array(["CNY"] * n_tx),
            "ts": T0_MS + rng.integers(0, 365 * DAY_MS, n_tx),
        },
    )
    return tables


def make_store(data_dir: Path, customers: int, seed: int, source: str) -> str:
    """Fill ``data_dir`` with a bank of ``customers`` rows; returns how it was made."""
    from relgraph.store.embedded import EmbeddedStore

    if source in ("auto", "synth"):
        try:
            # Looked up by name: the generator and ingest are being written alongside.
            generate = importlib.import_module("relgraph.synth").generate
            load_directory = importlib.import_module("relgraph.ingest").load_directory
        except (ImportError, AttributeError):
            if source == "synth":
                raise
        else:
            bank = data_dir / "bank"
            generate(customers, seed, bank, "parquet", 0.0)
            with EmbeddedStore(data_dir) as store:
                load_directory(bank, store, data_dir)
            return "relgraph.synth + relgraph.ingest"
    with EmbeddedStore(data_dir) as store:
        store.replace_tables(random_bank(customers, seed), {"fingerprint": f"random-{seed}"})
    return "random canonical tables"


# -- measurement -----------------------------------------------------------------------------


def child(data_dir: Path) -> None:
    """One measured build; prints a JSON line with the timings and counts."""
    started = time.perf_counter()
    from relgraph.graph import build_projection, graph_stats
    from relgraph.store.embedded import EmbeddedStore

    marks: list[tuple[str, float]] = []
    opened = time.perf_counter()
    with EmbeddedStore(data_dir, read_only=True) as store:
        projection = build_projection(store, lambda step: marks.append((step, time.perf_counter())))
    done = time.perf_counter()
    ends = [t for _, t in marks[1:]] + [done]
    stages = {step: end - t for (step, t), end in zip(marks, ends, strict=True)}
    print(
        json.dumps(
            {
                "seconds": done - opened,
                "with_imports": done - started,
                "stages": stages,
                "stats": graph_stats(projection),
                "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--data-dir", type=Path, help="a store loaded by `relgraph load`")
    where.add_argument("--customers", type=int, help="make a bank of this many customer rows")
    where.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--source",
        choices=("auto", "synth", "random"),
        default="auto",
        help="how --customers makes the bank: synth+ingest, random canonical tables, "
        "or synth when importable else random (default)",
    )
    parser.add_argument(
        "--work-dir", type=Path, help="keep the made store here (reused if present)"
    )
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return

    tmp: tempfile.TemporaryDirectory[str] | None = None
    if args.data_dir:
        data_dir, made_by = args.data_dir, f"store in {args.data_dir}"
    else:
        if args.work_dir:
            data_dir = args.work_dir
        else:
            tmp = tempfile.TemporaryDirectory(prefix="relgraph-bench-")
            data_dir = Path(tmp.name)
        if (data_dir / "relgraph.duckdb").exists():
            made_by = f"store in {data_dir}"
        else:
            started = time.perf_counter()
            made_by = make_store(data_dir, args.customers, args.seed, args.source)
            print(
                f"made the bank ({made_by}) in {time.perf_counter() - started:.1f} s",
                file=sys.stderr,
            )

    runs = []
    for i in range(args.repeats):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(data_dir)],
            check=True,
            capture_output=True,
            text=True,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"repeat {i + 1}: {runs[-1]['seconds']:.2f} s", file=sys.stderr)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if tmp is not None:
        tmp.cleanup()

    seconds = [r["seconds"] for r in runs]
    median_run = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    nodes, edges = median_run["stats"]["nodes"], median_run["stats"]["edges"]
    print(f"## build_projection — {made_by}\n")
    print(
        "| customer rows | nodes | edges | transfers | repeats | median s | min s | max s | peak RSS MB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {nodes['CustomerRecord']:,} | {sum(nodes.values()):,} | {sum(edges.values()):,} "
        f"| {edges['Account-TRANSFER->Account']:,} | {len(runs)} | {statistics.median(seconds):.2f} "
        f"| {min(seconds):.2f} | {max(seconds):.2f} | {peak_mb:,.0f} |"
    )
    print("\nStages of the median run (read from the store + build):\n")
    print("| stage | s |")
    print("|---|---:|")
    for stage, t in median_run["stages"].items():
        print(f"| {stage} | {t:.2f} |")


if __name__ == "__main__":
    main()
