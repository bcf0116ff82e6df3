"""The API's one-value normalisation (:mod:`relgraph.normal_form`) agrees with ingest's SQL
on every value: a search must find what a load stored."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pytest

from relgraph import normal_form
from relgraph.ingest import normalise

PHONES = [
    "13800138000", "+86 138-0013-8000", "0086 13800138000", "86 13800138000",
    "+86 (0)10 1234 5678 ext 12", "010-12345678 转12", "010-12345678-12", "13800138000-12",
    "010-5555-0001", "１３８００１３８０００", "+86 10 12345678", "8613800138000",
    "861234", "95588", "  138 0013 8000  ", "(010) 6552 9988 x 7", "021-6232 1234 分机 305",
    "+8613800138000", "00 86 138 0013 8000", "tel: 138-0013-8000", "", "   ", "abc",
    "0755-8888 8888#9", "+86 755 8888 8888", "＋８６　１３８　００１３　８０００",
    "138 0013 8000 ext. 4", "400-820-8820", "(0)21 6232 1234",
    "+86 400-820-8820", "0086 800 810 8888", "+86 95588", "+86 12345", "+86 10 1234 5678",
    "13800138000/13900139000", "138 0013 8000；139 0013 9000", "13800138000, 021-62321234",
    "010-12345678 转12 / 13800138000", "12/34", "、13800138000", "138/0013/8000",
    # Placeholders and what spreadsheets make of numbers.
    "NULL", "nan", "\\N", "无", " - ", "00000000000", "０００", "1.37E+10", "1.3800138E+10",
    "13900139001.0", " 13900139001.00 ", "6.2E10", "021-62321234.0",
]  # fmt: skip
EMAILS = [
    "  Li.Wei@Example.CN ", "ＡＢＣ@ｅｘａｍｐｌｅ．ｃｎ", "", "\tx@y.z\t", "Wang@QQ.com",
    "NULL", "nan", "\\N", "无", "-", "li.wei", "@qq.com", "li@", "a@b@c", "li wei@qq.com",
]  # fmt: skip
NAMES = [
    "  ZHU   Tao ", "张　三", "王 小明", "Li\tWei", "欧阳 娜娜", "", " ", "Ａｌｉｃｅ　Ｗａｎｇ",
    "李·娜", "O'Brien  Sean", "王小明 Tom", "NULL", "nan", "Nan", "Nan Li", "\\N", "无", "不详",
    "　未知　", "-", "？？", "X", "XU", "Ｘ", "ｘｘ", "赵六\x00\x00", "ZHAO\x00LIU", "赵\x1b六",
    # Letters with marks stay composed, as the API's NFKC keeps what a person types:
    # pinyin with tones as wealth systems write it, a foreign name, a Korean one.
    "Zhāng Sān", "LǙ WĚI", "José Müller", "김민준", "Zha\u0304ng",
]  # fmt: skip
IDS = [
    "110105-1972 0610 333x", "１１０１０５１９７２０６１０３３３Ｘ", "110105197206103",
    "110105 19720610 333X", "", "  -  ", "11010519720610333—x", '="110105198503150019"',
    "'110105198503150019", '"110105198503150019"', '="1101"05"', "=SUM(A1)", "'", '="',
    "＝\"110105198503150019\"",
]  # fmt: skip


@pytest.mark.parametrize(
    ("rule", "batch", "values"),
    [
        (normal_form.phone, normalise.phone, PHONES),
        (normal_form.email, normalise.email, EMAILS),
        (normal_form.name, normalise.name, NAMES),
        (normal_form.id_number, normalise.id_number, IDS),
        (normal_form.credit_code, normalise.credit_code, [*IDS, "91350100m000100y43 "]),
    ],
)
def test_one_value_rules_agree_with_ingest(
    rule: Callable[[str], str | None], batch: Callable[[list[str]], pa.Array], values: list[str]
) -> None:
    assert [rule(v) for v in values] == batch(values).to_pylist()


def test_synthetic_bank_values_agree(tmp_path: object) -> None:
    """Every phone, email and name the synthetic bank writes (its messy spellings included)."""
    import pandas as pd

    from relgraph.synth import generate

    out = tmp_path / "bank"  # type: ignore[operator]
    generate(300, 5, out, "csv", locale="zh")
    customers = pd.read_csv(out / "customers.csv", dtype=str, keep_default_na=False)
    for column, rule, batch in (
        ("phone", normal_form.phone, normalise.phone),
        ("email", normal_form.email, normalise.email),
        ("name", normal_form.name, normalise.name),
        ("id_number", normal_form.id_number, normalise.id_number),
    ):
        values = customers[column].tolist()
        assert [rule(v) for v in values] == batch(values).to_pylist(), column
