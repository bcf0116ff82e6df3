"""Normalised identifiers: the rules that make shared identifiers really match."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from relgraph.ingest import normalise
from relgraph.store.embedded import EmbeddedStore
from tests.banks import load, write_bank


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+86 138-0013-8000", "13800138000"),
        ("0086 13800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("(138) 0013 8000", "13800138000"),
        ("861012345", "861012345"),  # too short to carry a country code: kept
        ("010-5555-0001", "01055550001"),
        ("n/a", None),
        ("", None),
        (None, None),
        ("１３８００１３８００２", "13800138002"),  # full-width digits
        ("＋８６ １３８ ００１３ ８００２", "13800138002"),
        ("+86 (0)10 1234 5678", "01012345678"),  # the trunk 0 in brackets goes …
        ("+86 10 1234 5678", "01012345678"),  # … and comes back for a landline without it
        ("+86 010 1234 5678", "01012345678"),
        ("138.0013.8000", "13800138000"),
    ],
)
def test_phone(raw: str | None, expected: str | None) -> None:
    assert normalise.phone([raw]).to_pylist() == [expected]


@pytest.mark.parametrize(
    ("raw", "number", "extension"),
    [
        ("+86 138 0013 8000 ext 12", "13800138000", "12"),
        ("+86 138 0013 8000 ext. 12", "13800138000", "12"),
        ("010-12345678转12", "01012345678", "12"),
        ("0755 2612 3456 分机 8", "075526123456", "8"),
        ("13800138000 x12", "13800138000", "12"),
        ("13800138000#305", "13800138000", "305"),
        ("13800138000-12", "13800138000", "12"),  # a dash after a whole number
        ("010-12345678-12", "01012345678", "12"),
        ("010-5555-0001", "01055550001", None),  # the dash is inside the number
        ("+86 138-0013-8000", "13800138000", None),
    ],
)
def test_phone_extension_is_split_off(raw: str, number: str, extension: str | None) -> None:
    assert normalise.phone([raw]).to_pylist() == [number]
    assert normalise.phone_ext([raw]).to_pylist() == [extension]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" Li.Wei@Example.CN ", "li.wei@example.cn"),
        ("   ", None),
        (None, None),
        ("ＬＩ．ＷＥＩ＠ＥＸＡＭＰＬＥ．ＣＮ", "li.wei@example.cn"),
        ("NULL", None),
        ("nan", None),
        ("无", None),
        ("li.wei", None),
        ("li@", None),
    ],
)
def test_email(raw: str | None, expected: str | None) -> None:
    assert normalise.email([raw]).to_pylist() == [expected]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Apt 3, 12 Lianhua Rd., Futian Dist.", "apartment 3 12 lianhua road futian district"),
        ("APT 3 ,12 LIANHUA ROAD ,FUTIAN DISTRICT", "apartment 3 12 lianhua road futian district"),
        ("Bldg. 28, 863 Qinghe Ave.", "building 28 863 qinghe avenue"),
        ("5 Street St", "5 street street"),
        ("Stanford Rd", "stanford road"),  # only whole words are expanded
        (" , ", None),
        # What exports write for "no address" is no address (two strangers never share it).
        ("NULL", None),
        ("nan", None),
        ("\\N", None),
        ("无", None),
        ("不详", None),
        ("　暂无　", None),
        ("-", None),
        ("N/A", None),
        ("0", None),
        ("Nan Road 1", "nan road 1"),
        ("无锡市梁溪区中山路1号", "江苏省无锡市梁溪区中山路1号"),
    ],
)
def test_address(raw: str, expected: str | None) -> None:
    assert normalise.address([raw]).to_pylist() == [expected]


SHENZHEN = "广东省深圳市南山区科技园路200号"
CHENGDU = "四川省成都市武侯区人民南路4段12号"
BEIJING = "北京市朝阳区建国路88号3栋2单元501室"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("广东省深圳市南山区科技园路200号", SHENZHEN),
        ("广东省深圳市南山区科技园路２００号", SHENZHEN),  # full-width digits
        ("广东深圳南山科技园路200号", SHENZHEN),  # 省/市/区 omitted
        ("深圳市南山区科技园路200号", SHENZHEN),  # the province filled in from the city
        ("深圳南山区科技园路200号", SHENZHEN),
        (" 广东省 深圳市，南山区 科技园路 200号", SHENZHEN),  # spaces and commas
        ("四川省成都市武侯区人民南路四段12号", CHENGDU),  # 四段 is 4段
        ("四川成都武侯人民南路4段十二号", CHENGDU),
        ("北京市朝阳区建国路88号3号楼2单元501室", BEIJING),  # 号楼 is 栋
        ("北京朝阳建国路88号3幢2单元501房", BEIJING),  # 幢 is 栋, 房 is 室
        ("北京市朝阳区建国路八十八号第3栋2单元501室", BEIJING),
        ("北京市朝阳区建国路88号3栋2单元501", BEIJING),  # the room without 室
        ("北京市朝阳区建国路88号3栋501", "北京市朝阳区建国路88号3栋501室"),  # no unit either
        ("上海浦东新区世纪大道100号", "上海市浦东新区世纪大道100号"),
        ("徐汇区虹桥路1号", "上海市徐汇区虹桥路1号"),  # a district unique in the country
        ("朝阳区建国路88号", "朝阳区建国路88号"),  # Beijing or Changchun: left as written
        ("中山路1号", "中山路1号"),  # a street, not the city of Zhongshan
        ("广东中山市石岐区孙文路1号", "广东省中山市石岐区孙文路1号"),
        ("内蒙古呼和浩特市新城区二百零五号", "内蒙古自治区呼和浩特市新城区205号"),
    ],
)
def test_chinese_address(raw: str, expected: str) -> None:
    assert normalise.address([raw]).to_pylist() == [expected]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  ZHU   Tao ", "zhu tao"),
        ("Li\tWei", "li wei"),
        ("", None),
        ("张　三", "张三"),
        (" 张 三 丰 ", "张三丰"),
        ("Ｌｉ　Ｗｅｉ", "li wei"),
    ],
)
def test_name(raw: str, expected: str | None) -> None:
    assert normalise.name([raw]).to_pylist() == [expected]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("110105-1972 0610 333x", "11010519720610333X"),
        ("E12345678", "E12345678"),
        (" - ", None),
        ("１１０１０５１９４９１２３１００２ｘ", "11010519491231002X"),
        # Excel's ways of keeping a long number as text.
        ('="11010519491231002X"', "11010519491231002X"),
        ("'11010519491231002X", "11010519491231002X"),
    ],
)
def test_id_number(raw: str, expected: str | None) -> None:
    assert normalise.id_number([raw]).to_pylist() == [expected]


def test_accepts_arrow_and_keeps_length() -> None:
    values = pa.chunked_array([["A@B.C", None], ["x@y.z"]])
    assert normalise.email(values).to_pylist() == ["a@b.c", None, "x@y.z"]


# Published codes (the standard's own example, and companies' registered codes).
VALID_CODES = [
    "91350100M000100Y43",
    "91110108551385082Q",
    "9144030071526726XG",
    "91330100799655058B",
]


@pytest.mark.parametrize("code", VALID_CODES)
def test_published_credit_codes_are_valid(code: str) -> None:
    assert normalise.credit_code_valid([code]).to_pylist() == [True]


@pytest.mark.parametrize(
    ("raw", "normalised", "valid"),
    [
        ("91350100m000100y43", "91350100M000100Y43", True),  # lower case
        ("９１３５０１００Ｍ０００１００Ｙ４３", "91350100M000100Y43", True),  # full width
        ("913501-00M000 100Y43", "91350100M000100Y43", True),
        ("91350100M000100Y44", "91350100M000100Y44", False),  # wrong check character
        ("91350100M000100I43", "91350100M000100I43", False),  # I is not in the set
        ("9135010", "9135010", False),
        ('="91350100M000100Y43"', "91350100M000100Y43", True),
    ],
)
def test_credit_code(raw: str, normalised: str, valid: bool) -> None:
    code = normalise.credit_code([raw])
    assert code.to_pylist() == [normalised]
    assert normalise.credit_code_valid(code).to_pylist() == [valid]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("人民币", "CNY"), ("RMB", "CNY"), ("元", "CNY"), ("￥", "CNY"), ("cny", "CNY"),
     ("美元", "USD"), ("港币", "HKD"), ("港元", "HKD"), ("欧元", "EUR"), ("ＵＳＤ", "USD"),
     ("gbp", "GBP"), ("dollars", None), ("", None)],
)  # fmt: skip
def test_currency(raw: str, expected: str | None) -> None:
    assert normalise.currency([raw]).to_pylist() == [expected]


def test_ingest_stores_what_the_array_functions_compute(tmp_path: Path) -> None:
    """The SQL ingest runs and the Python functions are one rule: a load stores, for every
    identifier column, exactly what ``normalise`` returns for the same text."""
    customers = [
        {"customer_id": f"C{i}", "source_system": "core", "name": name, "id_number": idn,
         "phone": phone, "email": email, "address": address}
        for i, (name, idn, phone, email, address) in enumerate([
            ("张　三", "１１０１０５１９４９１２３１００２ｘ", "+86 (0)10 1234 5678 转 12",
             "ＬＩ＠ＥＸ．ＣＮ", "广东深圳南山科技园路２００号"),
            ("  ZHU   Tao ", "110105-1972 0610 333x", "13800138000-12", " A@B.C ",
             "Apt 3, 12 Lianhua Rd., Futian Dist."),
            ("李四", "", "１３８００１３８００２", "", "四川成都武侯人民南路四段12号"),
        ])
    ]  # fmt: skip
    enterprises = [
        {"enterprise_id": "E1", "name": "甲", "credit_code": "９１３５０１００ｍ０００１００Ｙ４３",
         "phone": "0755-2612-3456 ext 8", "address": "深圳市福田区深南大道1号"},
    ]  # fmt: skip
    tables = {"customers": customers, "enterprises": enterprises, "accounts": [], "transfers": []}
    data = tmp_path / "data"
    load(write_bank(tmp_path / "bank", tables), data)
    with EmbeddedStore(data, read_only=True) as store:
        stored = store.read_table("customers", None).sort_by("customer_id")
        firms = store.read_table("enterprises", None)
    raw = pa.table({k: [row[k] for row in customers] for k in customers[0]}).sort_by("customer_id")
    for column, rule in (
        ("name_norm", normalise.name(raw["name"])),
        ("id_number_norm", normalise.id_number(raw["id_number"])),
        ("phone_norm", normalise.phone(raw["phone"])),
        ("phone_ext", normalise.phone_ext(raw["phone"])),
        ("email_norm", normalise.email(raw["email"])),
        ("address_norm", normalise.address(raw["address"])),
    ):
        assert stored[column].to_pylist() == rule.to_pylist(), column
    assert stored["phone_ext"].to_pylist()[0] == "12"
    assert (
        firms["credit_code_norm"].to_pylist()
        == normalise.credit_code([enterprises[0]["credit_code"]]).to_pylist()
        == ["91350100M000100Y43"]
    )
    assert firms["phone_ext"].to_pylist() == ["8"]
    assert firms["address_norm"].to_pylist() == ["广东省深圳市福田区深南大道1号"]
