"""Unified social credit codes as banks' systems write them: one firm, several ids."""

from __future__ import annotations

from pathlib import Path

from tests.banks import load, people, write_bank

_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc(first17: str) -> str:
    """A GB 32100-2015 code: ``first17`` and its check character."""
    total = sum(_CHARSET.index(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return first17 + _CHARSET[(31 - total % 31) % 31]


JIA = uscc("91110000MA01ABCD1")
YI = uscc("91310000MA1FL2XY3")


def test_enterprises_sharing_a_valid_credit_code_are_noted(tmp_path: Path) -> None:
    # The core system and the credit system each exported 北京甲科技 under its own customer
    # number, one code upper-cased, the other lower-cased with a trailing space in the name;
    # 乙 once with a hyphen and once in full-width characters. Each firm then counts twice in
    # its group's loans and deposits, and nothing said so. A code that fails its check
    # character or names no firm (``无``) is shared by unrelated firms: no finding. 甲 is on
    # a third system under its organisation code (组织机构代码), inside its unified code; E12's
    # MA5DABCD9 is not the MA5DABCD1 inside E10's.
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in YI)
    rows = [
        ("E1", "北京甲科技有限公司", JIA), ("E2", "北京甲科技有限责任公司 ", JIA.lower()),
        ("E3", "乙（北京）贸易有限公司", f"{YI[:6]}-{YI[6:]}"), ("E4", "乙(北京)贸易有限公司", full_width),
        ("E5", "丙", YI), ("E6", "丁", "无"), ("E7", "戊", "无"),
        ("E8", "己", "91110000MA01ABCD10"), ("E9", "庚", "91110000MA01ABCD10"),
        ("E10", "辛", uscc("91440300MA5DABCD1")), ("E11", "北京甲科技", "MA01ABCD-1"),
        ("E12", "壬", "MA5DABCD9"),
    ]  # fmt: skip
    bank = {
        "customers": people("C1"),
        "enterprises": [{"enterprise_id": e, "name": n, "credit_code": c} for e, n, c in rows],
    }
    report = load(write_bank(tmp_path / "bank", bank), tmp_path / "data")
    enterprises = next(t for t in report.tables if t.table == "enterprises")
    assert (enterprises.loaded, enterprises.quarantined) == (12, 0)
    (note,) = enterprises.notes
    assert note == (
        "2 firms under several enterprise ids by the unified social credit code or the "
        f"organisation code inside it: {JIA} / MA01ABCD1 (E1, E11, E2), {YI} (E3, E4, E5); "
        "a corporate group counts such a firm once per id in its members and value: all "
        "loaded, check them"
    )
