"""A tiny hand-made bank whose networks and households are written out in the tests.

Wang Wei has two records (core C1, card C1B) with one id number written two ways: one
person. His spouse Li Na (C2, declared tie) and son Wang Xiao (C3, no tie declared, same
surname and address) live with him. Zhao Lei (C4) and Sun Mei (C5) are flatmates: one
address, nothing else. Zhou Jie (C6) and Wu Fang (C7) share a flat and a tablet but
declared nothing. C8 sent C9 money three times. C10 and C11 run enterprise E1. Kiosk K1
is used by C4, C5, C8, C9 and C10: public with ``max_device_sharers`` = 4.
"""

from __future__ import annotations

from typing import Any

import pytest

from relgraph.analytics.params import HouseholdParams, NetworkParams
from relgraph.graph import Projection
from tests.banks import Rows, project, write_bank


def _customer(
    cid: str, name: str, id_number: str, birth: str, gender: str, **extra: Any
) -> dict[str, Any]:
    row = {"customer_id": cid, "source_system": "core", "name": name, "id_number": id_number,
           "birth_date": birth, "gender": gender}  # fmt: skip
    row.update(extra)
    return row


CUSTOMERS: Rows = [
    _customer("C1", "Wang Wei", "110105197001010011", "1970-01-01", "M", phone="13800000001",
              address="1 Rose Rd", aum="100", products="deposit"),
    _customer("C1B", "WANG  WEI", "110105 1970 0101 0011", "", "", source_system="card",
              phone="+86 138 0000 0001", aum="50", products="card"),
    _customer("C2", "Li Na", "110105197203030022", "1972-03-03", "F", phone="13800000002",
              address="1 Rose Road", aum="300", deposits="20", products="wealth"),
    _customer("C3", "Wang Xiao", "110105200505050033", "2005-05-05", "M", address="1 rose rd.",
              aum="500"),
    _customer("C4", "Zhao Lei", "4", "1990-01-01", "M", address="9 Pine St Apt 2", phone="13900000004"),
    _customer("C5", "Sun Mei", "5", "1992-01-01", "F", address="9 pine street apt. 2", phone="13900000005"),
    _customer("C6", "Zhou Jie", "6", "1985-01-01", "M", address="3 Oak Ave"),
    _customer("C7", "Wu Fang", "7", "1986-01-01", "F", address="3 Oak Avenue"),
    _customer("C8", "Qian Bo", "8", "1980-01-01", "M", address="8 Elm Rd"),
    _customer("C9", "Kong Yu", "9", "1981-01-01", "F", address="9 Elm Rd"),
    _customer("C10", "He Ping", "10", "1975-01-01", "M", address="10 Elm Rd"),
    _customer("C11", "Lu Xin", "11", "1976-01-01", "F", address="11 Elm Rd"),
]  # fmt: skip

ACCOUNTS: Rows = [
    {"account_id": f"A{c[1:]}", "holder_id": c, "holder_kind": "customer", "product": "deposit"}
    for c in ("C1", "C2", "C8", "C9")
]

TRANSFERS: Rows = [
    {"tx_id": f"T{i}", "from_account": "A8", "to_account": "A9", "amount": "100",
     "currency": "CNY", "ts": f"2026-06-0{i}T10:00:00"}
    for i in (1, 2, 3)
] + [
    {"tx_id": "T9", "from_account": "A1", "to_account": "A9", "amount": "5",
     "currency": "CNY", "ts": "2026-06-04T10:00:00"}
]  # fmt: skip

DEVICE_LINKS: Rows = [
    {"device_id": "TAB6", "customer_id": "C6", "device_kind": "tablet"},
    {"device_id": "TAB6", "customer_id": "C7", "device_kind": "tablet"},
    *({"device_id": "K1", "customer_id": c, "device_kind": "kiosk"} for c in ("C4", "C5", "C8", "C9", "C10")),
]  # fmt: skip

BANK: dict[str, Rows] = {
    "customers": CUSTOMERS,
    "enterprises": [{"enterprise_id": "E1", "name": "Elm Trading"}],
    "accounts": ACCOUNTS,
    "device_links": DEVICE_LINKS,
    "family": [{"customer_id": "C1", "relative_id": "C2", "relation": "spouse"}],
    "positions": [
        {"customer_id": "C10", "enterprise_id": "E1", "role": "director"},
        {"customer_id": "C11", "enterprise_id": "E1", "role": "legal_rep"},
    ],
    "transfers": TRANSFERS,
}

NETWORK_PARAMS = NetworkParams(max_device_sharers=4)
HOUSEHOLD_PARAMS = HouseholdParams(max_device_sharers=4)
AS_OF_MS = 1_577_836_800_000  # 2020-01-01: Wang Xiao is 14


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Projection:
    root = tmp_path_factory.mktemp("tiny")
    return project(write_bank(root / "bank", BANK), root / "data")


def groups_of(projection: Projection, label: Any) -> set[frozenset[str]]:
    """The groups as sets of customer ids (a person counts by all its records)."""
    records = projection.nodes["CustomerRecord"]
    person = records.attrs["person"].to_numpy()
    groups: dict[int, set[str]] = {}
    for cid, p in zip(records.id_of(range(len(records))), person, strict=True):
        groups.setdefault(int(label[p]), set()).add(str(cid))
    return {frozenset(g) for g in groups.values()}
