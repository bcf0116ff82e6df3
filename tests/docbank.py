"""A six-person bank whose answers are known by hand: the projection the docstring
examples in ``src/relgraph`` run on (``conftest.py`` puts it in their namespace).

- 王伟 (C1) and 李娜 (C2): spouses at one address, sharing a phone: one household.
- 张强 (C3) and 刘洋 (C4): no family tie, one private tablet (D2): one hidden network.
- 陈静 (C5) and 杨磊 (C6): alone; 陈静 holds two accounts.
- A layering chain A1 → A3 → A4 → A5 in eight hours, each hop passing on 90-97 %.
- 王伟 referred 李娜 and 张强; 张强 referred 刘洋.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.banks import Rows, write_bank

DAY = "2026-06-10"


def _person(cid: str, name: str, id_number: str, **more: Any) -> dict[str, Any]:
    return {
        "customer_id": cid, "source_system": "core", "name": name, "id_number": id_number,
        "birth_date": "1985-03-02", "segment": "mass", "risk_rating": "low",
        "aum": "100000", "consent_marketing": "true", **more,
    }  # fmt: skip


CUSTOMERS: Rows = [
    _person("C1", "王伟", "11010519850302001X", address="北京市朝阳区建国路88号", phone="13800138001",
            aum="800000", products="deposit;card"),
    _person("C2", "李娜", "110105198503020029", address="北京市朝阳区建国路88号", phone="13800138001",
            products="deposit"),
    _person("C3", "张强", "110105198503020037", address="上海市浦东新区世纪大道1号"),
    _person("C4", "刘洋", "110105198503020045", address="广州市天河区体育西路5号"),
    _person("C5", "陈静", "110105198503020053", address="深圳市南山区科技园"),
    _person("C6", "杨磊", "110105198503020061", address="成都市武侯区人民南路"),
]  # fmt: skip
ACCOUNTS: Rows = [
    {"account_id": a, "holder_id": c, "holder_kind": "customer", "product": "deposit",
     "opened_at": "2024-01-02", "balance": "50000", "status": "active"}
    for a, c in [("A1", "C1"), ("A2", "C2"), ("A3", "C3"), ("A4", "C4"), ("A5", "C5"),
                 ("A6", "C5"), ("A7", "C6")]
]  # fmt: skip
TRANSFERS: Rows = [
    {"tx_id": t, "from_account": f, "to_account": to, "amount": amount, "currency": "CNY",
     "ts": f"{DAY}T{hour}:00:00"}
    for t, f, to, amount, hour in [
        ("T1", "A1", "A3", "100000.00", "08"), ("T2", "A3", "A4", "97000.00", "09"),
        ("T3", "A4", "A5", "93000.00", "12"), ("T4", "A5", "A6", "90000.00", "16"),
        ("T5", "A2", "A7", "300.00", "10"),
    ]
]  # fmt: skip
DEVICES: Rows = [
    {"device_id": "D2", "customer_id": c, "device_kind": "tablet", "logins": "30"}
    for c in ("C3", "C4")
]
FAMILY: Rows = [{"customer_id": "C1", "relative_id": "C2", "relation": "spouse"}]
REFERRALS: Rows = [
    {"referrer_id": a, "referred_id": b, "referred_at": f"2025-0{m}-01T10:00:00"}
    for a, b, m in [("C1", "C2", 1), ("C1", "C3", 2), ("C3", "C4", 3)]
]


def write(folder: Path) -> Path:
    """The bank's input files in ``folder``."""
    return write_bank(
        folder,
        {
            "customers": CUSTOMERS, "accounts": ACCOUNTS, "transfers": TRANSFERS,
            "enterprises": [], "device_links": DEVICES, "family": FAMILY,
            "referrals": REFERRALS,
        },
    )  # fmt: skip
