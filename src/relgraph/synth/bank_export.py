"""``--export-style bank``: some tables written as a Chinese bank's systems export them.

Every system's customers go to one ECIF-style extract, ``客户信息.csv`` (GB 18030, Chinese
headers, the source system as ``核心``/``信用卡``/``贷款``/``理财``, ``男``/``女``, ``是``/``否``,
birth dates ``19800131``); core banking's accounts, family ties, shareholdings,
positions and transfers go to Chinese-named UTF-8 files with the bank's codes (``正常``,
``配偶``, ``法定代表人``, ``60%``, ``20240106 101500``, ``人民币``) and amounts with thousands
separators. ``mapping.yaml`` (the format of ``relgraph load --mapping``) maps every file,
header and code back to the model; it is written from the same specs as the files, so the
two cannot disagree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from relgraph import model

MAPPING_FILE: Final = "mapping.yaml"
TIMEZONE: Final = "Asia/Shanghai"
_DATE: Final = "%Y%m%d"
_TIMESTAMP: Final = "%Y%m%d %H%M%S"


@dataclass(frozen=True)
class BankFile:
    """How one bank file is written, and (inverted) how ``mapping.yaml`` reads it back."""

    name: str
    table: str
    encoding: str
    columns: dict[str, str]
    """Model column -> the bank's header, in file order (constant columns are not written)."""
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    """Model column -> {model value: bank value}."""
    formats: dict[str, str] = field(default_factory=dict)
    """Model column -> strptime format or ``percent``."""
    constants: dict[str, str] = field(default_factory=dict)
    amounts: tuple[str, ...] = ()
    """Columns written with thousands separators (``1,234,567.89``)."""
    source_system: str | None = None
    """Only the customers of this system (the others stay in ``customers.csv``)."""


_PARTY: Final = {"customer": "个人", "enterprise": "企业"}
_PRODUCT: Final = {"deposit": "存款", "card": "信用卡", "loan": "贷款", "wealth": "理财"}

FILES: Final = (
    BankFile(
        name="客户信息.csv",
        table="customers",
        encoding="gb18030",
        columns={
            "customer_id": "客户号",
            "source_system": "来源系统",
            "name": "客户姓名",
            "id_number": "证件号码",
            "birth_date": "出生日期",
            "gender": "性别",
            "phone": "手机号码",
            "email": "电子邮箱",
            "address": "联系地址",
            "segment": "客户分层",
            "risk_rating": "风险等级",
            "aum": "理财资产",
            "deposits": "存款余额",
            "loans": "贷款余额",
            "card_spend_12m": "近12月消费金额",
            "products": "持有产品",
            "consent_marketing": "是否同意营销",
        },
        values={
            "gender": {"M": "男", "F": "女", "U": "未知"},
            "segment": {"mass": "大众", "affluent": "富裕", "private": "私行", "business": "小微"},
            "risk_rating": {"low": "低", "medium": "中", "high": "高"},
            "source_system": {"core": "核心", "card": "信用卡", "loan": "贷款", "wealth": "理财"},
            "consent_marketing": {"true": "是", "false": "否"},
        },
        formats={"birth_date": _DATE},
        amounts=("aum", "deposits", "loans", "card_spend_12m"),
    ),
    BankFile(
        name="账户信息.csv",
        table="accounts",
        encoding="utf-8",
        columns={
            "account_id": "账号",
            "holder_id": "客户号",
            "holder_kind": "客户类型",
            "product": "产品类型",
            "opened_at": "开户日期",
            "balance": "账户余额",
            "status": "账户状态",
        },
        values={
            "holder_kind": _PARTY,
            "product": _PRODUCT,
            "status": {"active": "正常", "dormant": "久悬", "closed": "销户"},
        },
        formats={"opened_at": _DATE},
        amounts=("balance",),
    ),
    BankFile(
        name="家庭关系.csv",
        table="family",
        encoding="utf-8-sig",
        columns={"customer_id": "客户号", "relative_id": "关系人客户号", "relation": "关系类型"},
        values={
            "relation": {
                "spouse": "配偶",
                "parent": "父母",
                "child": "子女",
                "sibling": "兄弟姐妹",
                "other": "其他",
            }
        },
    ),
    BankFile(
        name="股东信息.csv",
        table="shareholdings",
        encoding="utf-8",
        columns={
            "holder_id": "股东客户号",
            "enterprise_id": "企业客户号",
            "holder_kind": "股东类型",
            "share": "持股比例",
        },
        values={"holder_kind": _PARTY},
        formats={"share": "percent"},
    ),
    BankFile(
        name="任职信息.csv",
        table="positions",
        encoding="utf-8",
        columns={"customer_id": "客户号", "enterprise_id": "企业客户号", "role": "职务"},
        values={
            "role": {"legal_rep": "法定代表人", "director": "董事", "executive": "高级管理人员"}
        },
    ),
    BankFile(
        name="交易流水.csv",
        table="transfers",
        encoding="utf-8",
        columns={
            "tx_id": "交易流水号",
            "from_account": "付款账号",
            "to_account": "收款账号",
            "amount": "交易金额",
            "currency": "币种",
            "ts": "交易时间",
        },
        values={"currency": {"CNY": "人民币", "USD": "美元", "HKD": "港币"}},
        formats={"ts": _TIMESTAMP},
        amounts=("amount",),
    ),
)
"""The bank-style files; every other table keeps its plain ``<table>.csv``."""


def spec_for(table: str) -> BankFile | None:
    """The bank file a table is written to, if any."""
    return next((f for f in FILES if f.table == table), None)


def _recode(column: Any, codes: dict[str, str]) -> Any:
    """Exact-match replacement; values outside ``codes`` (dirty rows' bad values) stay as they are."""
    keys = pa.array(list(codes), pa.string())
    index = pc.index_in(column, value_set=keys)
    mapped = pa.array(list(codes.values()), pa.string()).take(index)
    return pc.if_else(pc.is_null(index), column, mapped)


def _thousands(column: Any) -> Any:
    """``1234567.89`` -> ``1,234,567.89``; anything not a plain decimal stays as it is."""
    ok = pc.fill_null(pc.match_substring_regex(column, r"^-?[0-9]+\.[0-9]+$"), False)
    negative = pc.fill_null(pc.starts_with(column, "-"), False)
    body = pc.if_else(ok, pc.utf8_ltrim(column, characters="-"), pa.scalar("0.0"))
    parts = pc.split_pattern(body, ".", max_splits=1)
    whole_text = pc.list_element(parts, 0)
    frac = pc.list_element(parts, 1)
    whole = pc.cast(whole_text, pa.int64()).to_numpy()
    text = pa.array([""] * len(whole), pa.string())
    started = np.zeros(len(whole), dtype=bool)
    for k in range(6, -1, -1):
        above = whole // 1000**k
        group = pc.cast(pa.array(above % 1000), pa.string())
        top = ~started & ((above > 0) | (k == 0))
        piece = pc.if_else(
            pa.array(started),
            pc.binary_join_element_wise(",", pc.utf8_lpad(group, 3, "0"), ""),
            pc.if_else(pa.array(top), group, pa.scalar("")),
        )
        text = pc.binary_join_element_wise(text, piece, "")
        started |= top
    out = pc.binary_join_element_wise(text, frac, ".")
    out = pc.if_else(negative, pc.binary_join_element_wise("-", out, ""), out)
    return pc.if_else(ok, out, column)


def _percent(column: Any) -> Any:
    """``0.6000`` -> ``60%``, ``0.1250`` -> ``12.5%``; anything not a plain decimal stays."""
    ok = pc.fill_null(pc.match_substring_regex(column, r"^[0-9]+\.[0-9]+$"), False)
    value = pc.cast(pc.if_else(ok, column, pa.scalar("0")), pa.float64()).to_numpy()
    hundredths = np.round(value * 10_000).astype(np.int64)
    whole = pc.cast(pa.array(hundredths // 100), pa.string())
    frac = pc.utf8_rtrim(
        pc.utf8_lpad(pc.cast(pa.array(hundredths % 100), pa.string()), 2, "0"), characters="0"
    )
    text = pc.if_else(
        pc.equal(pc.utf8_length(frac), 0), whole, pc.binary_join_element_wise(whole, frac, ".")
    )
    return pc.if_else(ok, pc.binary_join_element_wise(text, "%", ""), column)


def _reformat(column: Any, fmt: str) -> Any:
    """Canonical ISO dates and timestamps in the bank's format; other text stays."""
    if fmt == _DATE:
        pattern, replacement = r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$", r"\1\2\3"
    elif fmt == _TIMESTAMP:
        pattern = r"^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})$"
        replacement = r"\1\2\3 \4\5\6"
    elif fmt == "percent":
        return _percent(column)
    else:
        raise ValueError(f"no writer for format {fmt!r}")
    return pc.replace_substring_regex(column, pattern=pattern, replacement=replacement)


def transform(spec: BankFile, chunk: Any) -> Any:
    """Rendered model rows (all text) as the bank writes them: its columns, codes and formats."""
    arrays = []
    for column, header in spec.columns.items():
        values = chunk.column(column).combine_chunks().cast(pa.string())
        if column in spec.values:
            values = _recode(values, spec.values[column])
        if column in spec.formats:
            values = _reformat(values, spec.formats[column])
        if column in spec.amounts:
            values = _thousands(values)
        arrays.append((header, values))
    return pa.table(dict(arrays))


def mapping_yaml(files: tuple[BankFile, ...] = FILES) -> str:
    """``mapping.yaml`` for ``files``: the inverse of how they were written.

    Written by hand as YAML block mappings whose scalars are JSON (a subset of YAML), so
    every Chinese header and code is quoted exactly and booleans stay booleans.
    """

    def q(text: str) -> str:
        return json.dumps(text, ensure_ascii=False)

    lines = [
        "# How to read the bank-style files of this synthetic bank (relgraph load --mapping).",
        "encoding: utf-8",
        f"timezone: {TIMEZONE}",
        "source_systems: [" + ", ".join(model.SOURCE_SYSTEMS) + "]",
        "files:",
    ]
    for spec in files:
        lines += [f"  {q(spec.name)}:", f"    table: {spec.table}"]
        lines.append(f"    encoding: {spec.encoding}")
        if any(fmt == _TIMESTAMP for fmt in spec.formats.values()):
            lines.append(f"    timezone: {TIMEZONE}")
        lines.append("    columns:")
        lines += [f"      {column}: {q(header)}" for column, header in spec.columns.items()]
        if spec.constants:
            lines.append("    constants:")
            lines += [f"      {column}: {q(value)}" for column, value in spec.constants.items()]
        if spec.values:
            lines.append("    values:")
            for column, codes in spec.values.items():
                boolean = model_dtype(spec.table, column) == "bool"
                pairs = ", ".join(
                    f"{q(bank)}: {value if boolean else q(value)}" for value, bank in codes.items()
                )
                lines.append(f"      {column}: {{{pairs}}}")
        if spec.formats:
            lines.append("    formats:")
            lines += [f"      {column}: {q(fmt)}" for column, fmt in spec.formats.items()]
    return "\n".join(lines) + "\n"


def model_dtype(table: str, column: str) -> str:
    """The model's dtype of ``table.column``."""
    return str(next(t for t in model.INPUT_TABLES if t.name == table).column(column).dtype)


def write_mapping(out: Path) -> None:
    """Write ``mapping.yaml`` into the bank's folder."""
    (out / MAPPING_FILE).write_text(mapping_yaml(), encoding="utf-8")
