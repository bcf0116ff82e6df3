"""A small valid bank written as CSV files, and helpers to spoil it row by row."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.banks import Rows, load, read_quarantine, write_bank, write_csv

__all__ = ["load", "read_quarantine", "write_bank", "write_csv"]

CUSTOMERS: Rows = [
    {"customer_id": "C1", "source_system": "core", "name": "Li  Wei", "id_number": "1101 0519 7206 1033 3x",
     "birth_date": "1972-06-10", "gender": "M", "phone": "+86 138-0013-8000", "email": " Li.Wei@Example.CN ",
     "address": "Apt 3, 12 Lianhua Rd., Futian Dist.", "segment": "affluent", "risk_rating": "low",
     "aum": "1000.5", "deposits": "200", "loans": "", "card_spend_12m": "", "products": "deposit;wealth",
     "consent_marketing": "true"},
    {"customer_id": "C2", "source_system": "card", "name": "LI WEI", "id_number": "110105-19720610-333X",
     "birth_date": "", "gender": "", "phone": "13800138000", "email": "li.wei@example.cn",
     "address": "apt 3 12 lianhua road futian district", "segment": "mass", "risk_rating": "medium",
     "aum": "", "deposits": "", "loans": "", "card_spend_12m": "50.25", "products": "card",
     "consent_marketing": "no"},
    {"customer_id": "C3", "source_system": "core", "name": "Wang Fang", "id_number": "",
     "birth_date": "1980-01-31", "gender": "F", "phone": "0086 139 0000 0001", "email": "",
     "address": "Apt 3, 12 Lianhua Rd., Futian Dist.", "segment": "mass", "risk_rating": "low",
     "aum": "10", "deposits": "10", "loans": "0", "card_spend_12m": "0", "products": "",
     "consent_marketing": "1"},
]  # fmt: skip

ENTERPRISES: Rows = [
    {"enterprise_id": "E1", "name": "Acme Trading Co., Ltd.", "phone": "010-5555-0001",
     "address": "100 Industry Ave.", "deposits": "1e6", "credit_limit": "2000000"},
]  # fmt: skip

ACCOUNTS: Rows = [
    {"account_id": "A1", "holder_id": "C1", "holder_kind": "customer", "product": "deposit",
     "opened_at": "2020-01-02", "balance": "100.0", "status": "active"},
    {"account_id": "A2", "holder_id": "C3", "holder_kind": "customer", "product": "deposit",
     "opened_at": "2021-03-04", "balance": "-5", "status": "dormant"},
    {"account_id": "A3", "holder_id": "E1", "holder_kind": "enterprise", "product": "loan",
     "opened_at": "", "balance": "", "status": ""},
]  # fmt: skip

FAMILY: Rows = [{"customer_id": "C1", "relative_id": "C3", "relation": "spouse"}]

TRANSFERS: Rows = [
    {"tx_id": "T1", "from_account": "A1", "to_account": "A2", "amount": "100", "currency": "CNY",
     "ts": "2026-06-01T08:00:00"},
    {"tx_id": "T2", "from_account": "A2", "to_account": "A3", "amount": "90.5", "currency": "CNY",
     "ts": "2026-06-01T09:30:00+08:00"},
]  # fmt: skip


def bank_tables() -> dict[str, Rows]:
    """Fresh copies of the valid bank's tables."""
    tables = {
        "customers": CUSTOMERS,
        "enterprises": ENTERPRISES,
        "accounts": ACCOUNTS,
        "family": FAMILY,
        "transfers": TRANSFERS,
    }
    return {name: [dict(row) for row in rows] for name, rows in tables.items()}


@pytest.fixture
def bank_dir(tmp_path: Path) -> Path:
    return write_bank(tmp_path / "bank", bank_tables())
