"""A tiny hand-made bank, written as canonical tables, whose graph every test knows by heart.

Persons P1..P5; P1 (Alice) has two records, C1 (core) and C2 (card), which share
device D1, phone +8613800000001 and address "1 river rd". P2 (Bob) is Alice's
spouse and lives with her. Enterprise E1 owns 80% of E2; P1 and P4 hold E1.
Kiosk K1 is used by P2..P5. Transfers T1 and T2 both go A1 → A3.
Rows are written out of id order, so sorting is exercised.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from relgraph.canonical import canonical_schema
from relgraph.graph import Projection, build_projection
from relgraph.store.embedded import EmbeddedStore

Rows = list[dict[str, Any]]

PERSONS: Rows = [
    {"person_id": "P3", "name": "Carol", "n_records": 1, "segment": "mass", "aum": 10.0},
    {"person_id": "P1", "name": "Alice", "n_records": 2, "segment": "affluent", "aum": 500.0},
    {"person_id": "P5", "name": "Eve", "n_records": 1, "risk_rating": "high"},
    {"person_id": "P2", "name": "Bob", "n_records": 1, "consent_marketing": True},
    {"person_id": "P4", "name": "Dan", "n_records": 1, "birth_date": 86_400_000},
]


def _customer(cid: str, system: str, pid: str, name: str, **norms: str | None) -> dict[str, Any]:
    return {"customer_id": cid, "source_system": system, "person_id": pid, "name": name, **norms}


CUSTOMERS: Rows = [
    _customer("C6", "wealth", "P5", "Eve", id_number_norm="ID-E", phone_norm="+8613800000005",
              email_norm="eve@x.cn", address_norm="9 hill st"),
    _customer("C2", "card", "P1", "ALICE", id_number_norm="ID-A", phone_norm="+8613800000001",
              email_norm="alice@card.cn", address_norm="1 river rd"),
    _customer("C1", "core", "P1", "Alice", id_number_norm="ID-A", phone_norm="+8613800000001",
              email_norm="alice@x.cn", address_norm="1 river rd"),
    _customer("C3", "core", "P2", "Bob", id_number_norm="ID-B", phone_norm="+8613800000002",
              address_norm="1 river rd"),
    _customer("C5", "loan", "P4", "Dan", phone_norm="+8613800000004"),
    _customer("C4", "core", "P3", "Carol", id_number_norm="ID-C", email_norm="carol@x.cn",
              address_norm="9 hill st"),
]  # fmt: skip

ENTERPRISES: Rows = [
    {"enterprise_id": "E2", "name": "Acme Sub", "phone_norm": "+8613800000004",
     "address_norm": "100 industry ave", "credit_limit": 2e6},
    {"enterprise_id": "E1", "name": "Acme", "phone_norm": "+86105550001",
     "address_norm": "100 industry ave", "deposits": 1e6},
]  # fmt: skip

ACCOUNTS: Rows = [
    {"account_id": aid, "holder_id": holder, "holder_kind": kind, "product": product,
     "balance": balance, "status": "active", "opened_at": 1000 * i}
    for i, (aid, holder, kind, product, balance) in enumerate([
        ("A8", "C5", "customer", "deposit", 80.0),
        ("A1", "C1", "customer", "deposit", 10.0),
        ("A2", "C2", "customer", "card", -5.0),
        ("A3", "C3", "customer", "deposit", 30.0),
        ("A4", "C4", "customer", "deposit", 40.0),
        ("A5", "C6", "customer", "wealth", 50.0),
        ("A6", "E1", "enterprise", "deposit", 60.0),
        ("A7", "E2", "enterprise", "loan", 70.0),
    ])
]  # fmt: skip

DEVICE_LINKS: Rows = [
    {"device_id": "D1", "customer_id": "C1", "device_kind": "mobile",
     "logins": 10, "first_seen": 1000, "last_seen": 5000},
    {"device_id": "D1", "customer_id": "C2", "device_kind": "mobile",
     "logins": 5, "first_seen": 500, "last_seen": 6000},
    {"device_id": "K1", "customer_id": "C3", "device_kind": "kiosk", "logins": 1},
    {"device_id": "D2", "customer_id": "C3", "device_kind": "mobile", "logins": 3},
    {"device_id": "K1", "customer_id": "C4", "device_kind": "kiosk", "logins": 2},
    {"device_id": "K1", "customer_id": "C5", "logins": 1},
    {"device_id": "K1", "customer_id": "C6", "device_kind": "kiosk"},
    {"device_id": "D3", "customer_id": "C4"},
]  # fmt: skip

FAMILY: Rows = [
    {"customer_id": "C1", "relative_id": "C3", "relation": "spouse"},
    {"customer_id": "C3", "relative_id": "C1", "relation": "spouse"},
    {"customer_id": "C2", "relative_id": "C3", "relation": "sibling"},  # same pair: spouse wins
    {"customer_id": "C1", "relative_id": "C2", "relation": "other"},  # one person: dropped
    {"customer_id": "C4", "relative_id": "C6", "relation": "parent"},
]

SHAREHOLDINGS: Rows = [
    {"holder_id": "C1", "enterprise_id": "E1", "holder_kind": "customer", "share": 0.2},
    {"holder_id": "C2", "enterprise_id": "E1", "holder_kind": "customer", "share": 0.1},
    {"holder_id": "C5", "enterprise_id": "E1", "holder_kind": "customer", "share": 0.6},
    {"holder_id": "E1", "enterprise_id": "E2", "holder_kind": "enterprise", "share": 0.8},
]

POSITIONS: Rows = [
    {"customer_id": "C5", "enterprise_id": "E1", "role": "legal_rep"},
    {"customer_id": "C5", "enterprise_id": "E2", "role": "director"},
    {"customer_id": "C1", "enterprise_id": "E1", "role": "director"},
    {"customer_id": "C2", "enterprise_id": "E1", "role": "director"},  # same person, same role
]

GUARANTEES: Rows = [
    {"guarantor_id": "E1", "borrower_id": "E2", "guarantor_kind": "enterprise",
     "borrower_kind": "enterprise", "amount": 1e6},
    {"guarantor_id": "C5", "borrower_id": "E1", "guarantor_kind": "customer",
     "borrower_kind": "enterprise", "amount": 5e5},
    {"guarantor_id": "E2", "borrower_id": "C3", "guarantor_kind": "enterprise",
     "borrower_kind": "customer", "amount": 1000.0},
    {"guarantor_id": "C1", "borrower_id": "C4", "guarantor_kind": "customer",
     "borrower_kind": "customer", "amount": 2000.0},
    {"guarantor_id": "C1", "borrower_id": "C2", "guarantor_kind": "customer",
     "borrower_kind": "customer", "amount": 7.0},  # one person: dropped
]  # fmt: skip

REFERRALS: Rows = [
    {"referrer_id": "C1", "referred_id": "C4", "referred_at": 100, "product": "card"},
    {"referrer_id": "C2", "referred_id": "C4", "referred_at": 50, "product": "wealth"},
    {"referrer_id": "C4", "referred_id": "C6", "referred_at": 200, "product": "deposit"},
    {"referrer_id": "C1", "referred_id": "C2", "referred_at": 10, "product": "card"},
]

TRANSFERS: Rows = [
    {"tx_id": tx, "from_account": a, "to_account": b, "amount": amt, "currency": "CNY", "ts": ts}
    for tx, a, b, amt, ts in [
        ("T1", "A1", "A3", 100.0, 1000),
        ("T3", "A3", "A4", 90.0, 2000),
        ("T2", "A1", "A3", 50.0, 900),
        ("T4", "A4", "A5", 80.0, 3000),
        ("T5", "A6", "A7", 1e5, 500),
        ("T6", "A8", "A1", 10.0, 10),
    ]
]

BANK: dict[str, Rows] = {
    "persons": PERSONS,
    "customers": CUSTOMERS,
    "enterprises": ENTERPRISES,
    "accounts": ACCOUNTS,
    "device_links": DEVICE_LINKS,
    "family": FAMILY,
    "shareholdings": SHAREHOLDINGS,
    "positions": POSITIONS,
    "guarantees": GUARANTEES,
    "referrals": REFERRALS,
    "transfers": TRANSFERS,
}

OPTIONAL = ("device_links", "family", "shareholdings", "positions", "guarantees", "referrals")


def canonical_tables(bank: dict[str, Rows], shuffle_seed: int | None = None) -> dict[str, pa.Table]:
    """Rows → typed canonical tables, optionally with each table's rows shuffled."""
    tables = {}
    for name, rows in bank.items():
        ordered = list(rows)
        if shuffle_seed is not None:
            random.Random(shuffle_seed).shuffle(ordered)
        tables[name] = pa.Table.from_pylist(ordered, schema=canonical_schema(name))
    return tables


StoreFactory = Callable[..., EmbeddedStore]


@pytest.fixture
def make_store(tmp_path: Path) -> StoreFactory:
    """Write a bank into a fresh embedded store: ``make_store(bank=..., shuffle_seed=...)``."""
    counter = iter(range(1_000))

    def make(bank: dict[str, Rows] = BANK, shuffle_seed: int | None = None) -> EmbeddedStore:
        store = EmbeddedStore(tmp_path / f"store{next(counter)}")
        store.replace_tables(canonical_tables(bank, shuffle_seed), {"fingerprint": "bank"})
        return store

    return make


@pytest.fixture
def projection(make_store: StoreFactory) -> Projection:
    with make_store() as store:
        return build_projection(store)
