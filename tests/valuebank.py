"""A hand-written bank whose values are computed by hand (see ``EXPECTED_*``).

- 王伟 (W-CORE core, W-LOAN loan system; one id number: one person) has no accounts. Both
  records report his one loan: core 500,000, the loan system a stale 480,000. His value
  comes from the record summaries by source-system precedence (core first), never summed:
  loans 500,000 (not 980,000), AUM 300,000 above deposits 200,000, so he holds wealth too.
- 李娜 (L-CORE, L-CARD), his declared spouse, has accounts: deposit 80,000, wealth 20,000,
  a loan stored as −150,000 and a closed card account. Her records' summaries (AUM 999)
  are not used; card spend comes from the card system's record (12,000), not core's 5,000.
- 赵敏 (Z-CORE) holds a deposit; a card-system record Z-CARD with her name, sex and phone (no
  id number, another city's address) was not merged but left in identity resolution's review
  band: the card counts as held (pending).
- 陈刚 (CG) controls 宏达贸易 (E1, 60%) and 宏达物流 (E2, 70%): one corporate group. E1 has a
  loan account of 2,000,000 (its enterprise row's stale 9,999,999 is not used); E2 has no
  accounts: its row gives deposits 100,000, loans 500,000, credit limit 800,000. E1
  guarantees E2 300,000 (inside the group: not exposure); E2 guarantees the outside E3
  200,000 (exposure); 陈刚 guarantees E1 100,000 (not a member's guarantee).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.banks import Rows, write_bank


def _record(cid: str, system: str, name: str, **more: Any) -> dict[str, Any]:
    return {"customer_id": cid, "source_system": system, "name": name, **more}


WANG_ID, LI_ID, CHEN_ID = "110105197001010011", "110105197203030029", "110105196505050012"
HOME = "北京市朝阳区玫瑰路1号"

CUSTOMERS: Rows = [
    _record("W-CORE", "core", "王伟", id_number=WANG_ID, birth_date="1970-01-01", gender="M",
            phone="13800000001", address=HOME, aum="300000", deposits="200000",
            loans="500000", products="deposit;loan", consent_marketing="true"),
    _record("W-LOAN", "loan", "王伟", id_number=WANG_ID, loans="480000", products="loan",
            consent_marketing="true"),
    _record("L-CORE", "core", "李娜", id_number=LI_ID, birth_date="1972-03-03", gender="F",
            phone="13800000002", email="li.na@example.cn", address=HOME, aum="999",
            card_spend_12m="5000", consent_marketing="true"),
    _record("L-CARD", "card", "李娜", id_number=LI_ID, card_spend_12m="12000", products="card",
            consent_marketing="true"),
    _record("Z-CORE", "core", "赵敏", birth_date="1980-01-01", gender="F", phone="13600004444",
            address="上海市徐汇区漕溪路8号", products="deposit", consent_marketing="true"),
    _record("Z-CARD", "card", "赵敏", gender="F", phone="13600004444", address="杭州市西湖区文三路9号",
            products="card", card_spend_12m="3000"),
    _record("CG", "core", "陈刚", id_number=CHEN_ID, birth_date="1965-05-05", gender="M",
            address="上海市浦东新区世纪大道100号", consent_marketing="true"),
]  # fmt: skip

ENTERPRISES: Rows = [
    {"enterprise_id": "E1", "name": "宏达贸易", "loans": "9999999", "deposits": "0"},
    {"enterprise_id": "E2", "name": "宏达物流", "deposits": "100000", "loans": "500000",
     "credit_limit": "800000", "phone": "02166668888"},
    {"enterprise_id": "E3", "name": "远方建材"},
]  # fmt: skip


def _account(aid: str, holder: str, product: str, balance: str, **more: str) -> dict[str, str]:
    kind = "enterprise" if holder.startswith("E") else "customer"
    return {"account_id": aid, "holder_id": holder, "holder_kind": kind, "product": product,
            "balance": balance, "status": "active", **more}  # fmt: skip


ACCOUNTS: Rows = [
    _account("L-DEP", "L-CORE", "deposit", "80000"),
    _account("L-WEA", "L-CORE", "wealth", "20000"),
    _account("L-LN", "L-CORE", "loan", "-150000"),
    _account("L-CC", "L-CARD", "card", "0", status="closed"),
    _account("Z-DEP", "Z-CORE", "deposit", "50000"),
    _account("E1-LN", "E1", "loan", "2000000"),
]

BANK: dict[str, Rows] = {
    "customers": CUSTOMERS,
    "enterprises": ENTERPRISES,
    "accounts": ACCOUNTS,
    "family": [{"customer_id": "W-CORE", "relative_id": "L-CORE", "relation": "spouse"}],
    "shareholdings": [
        {"holder_id": "CG", "enterprise_id": "E1", "holder_kind": "customer", "share": "0.6"},
        {"holder_id": "CG", "enterprise_id": "E2", "holder_kind": "customer", "share": "0.7"},
    ],
    "guarantees": [
        {
            "guarantor_id": "E1",
            "borrower_id": "E2",
            "guarantor_kind": "enterprise",
            "borrower_kind": "enterprise",
            "amount": "300000",
        },
        {
            "guarantor_id": "E2",
            "borrower_id": "E3",
            "guarantor_kind": "enterprise",
            "borrower_kind": "enterprise",
            "amount": "200000",
        },
        {
            "guarantor_id": "CG",
            "borrower_id": "E1",
            "guarantor_kind": "customer",
            "borrower_kind": "enterprise",
            "amount": "100000",
        },
    ],
    "transfers": [],
    "contacts": [
        {
            "contact_id": "K1",
            "party_id": "W-CORE",
            "party_kind": "customer",
            "ts": "2026-03-01T10:00:00",
            "channel": "sms",
        },
        {
            "contact_id": "K2",
            "party_id": "W-LOAN",
            "party_kind": "customer",
            "ts": "2026-04-01T10:00:00",
            "channel": "phone",
        },
        {
            "contact_id": "K3",
            "party_id": "W-CORE",
            "party_kind": "customer",
            "ts": "2026-05-01T10:00:00",
            "channel": "sms",
        },
    ],
}

# Hand-computed: per customer id (its person), per household (by a member), per group.
EXPECTED_PERSONS: dict[str, dict[str, Any]] = {
    "W-CORE": {"aum": 300_000.0, "deposits": 200_000.0, "loans": 500_000.0,
               "card_spend": None, "products": ["deposit", "loan", "wealth"],
               "value_source": "records"},
    "L-CORE": {"aum": 100_000.0, "deposits": 80_000.0, "loans": 150_000.0,
               "card_spend": 12_000.0, "products": ["deposit", "card", "loan", "wealth"],
               "value_source": "accounts"},
    "Z-CORE": {"aum": 50_000.0, "deposits": 50_000.0, "loans": 0.0, "card_spend": None,
               "products": ["deposit", "card"], "value_source": "accounts"},
}  # fmt: skip
EXPECTED_HOUSEHOLDS: dict[str, dict[str, Any]] = {
    "W-CORE": {"size": 2, "total_aum": 400_000.0, "deposits": 280_000.0, "loans": 650_000.0,
               "card_spend": 12_000.0, "products": ["deposit", "card", "loan", "wealth"],
               "missing_products": [], "pending_products": []},
    "Z-CORE": {"size": 1, "total_aum": 50_000.0, "deposits": 50_000.0, "loans": 0.0,
               "card_spend": 0.0, "products": ["deposit", "card"],
               "missing_products": ["loan", "wealth"], "pending_products": ["card"]},
}  # fmt: skip
EXPECTED_GROUP: dict[str, Any] = {
    "members": 2, "deposits": 100_000.0, "loans": 2_500_000.0, "credit_limit": 800_000.0,
    "guarantees_given": 500_000.0, "guarantees_received": 400_000.0,
    "exposure": 2_700_000.0, "products": ["deposit", "loan"],
    "missing_products": ["card", "wealth"],
}  # fmt: skip


def write(folder: Path) -> Path:
    return write_bank(folder, BANK)
