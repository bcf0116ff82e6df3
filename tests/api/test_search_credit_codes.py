"""Search by credit code whatever form the analyst has: a firm's code, or its old one."""

from __future__ import annotations

import pytest

from relgraph.api.readmodel import ReadModel, build_read_model
from relgraph.graph import build_projection
from relgraph.jobs.analyze import analyze
from relgraph.store.embedded import EmbeddedStore
from tests.api.test_search_api import nodes, search
from tests.banks import load, people, write_bank
from tests.ingest.test_credit_codes import uscc

JIA = uscc("91110000MA01ABCD1")  # organisation code MA01ABCD1 (characters 9-17)
YI = uscc("91310000MA1FL2XY3")


@pytest.fixture(scope="module")
def codes(tmp_path_factory: pytest.TempPathFactory) -> ReadModel:
    # 甲 is on file with its unified code; 乙 with the organisation code (组织机构代码) an
    # older system kept, written with its hyphen.
    root = tmp_path_factory.mktemp("codes")
    bank = {
        "customers": people("C1"),
        "enterprises": [
            {"enterprise_id": "E1", "name": "北京甲科技有限公司", "credit_code": JIA},
            {"enterprise_id": "E2", "name": "乙（上海）贸易有限公司", "credit_code": f"{YI[8:16]}-{YI[16]}"},
            {"enterprise_id": "E3", "name": "丙", "credit_code": "110000012345678"},
        ],
    }  # fmt: skip
    data = root / "data"
    load(write_bank(root / "bank", bank), data)
    with EmbeddedStore(data) as store:
        analyze(store, build_projection(store))
    with EmbeddedStore(data, read_only=True) as store:
        return build_read_model(store)


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        (JIA, ["E1"]),
        (f" {JIA[:6].lower()}-{JIA[6:]} ", ["E1"]),  # as written on a form
        ("ＭＡ０１ＡＢＣＤ－１", ["E1"]),  # its organisation code, in full width
        (JIA[8:17], ["E1"]),
        (YI, ["E2"]),  # the new code of a firm kept under its old one
        (f"{YI[8:16]}-{YI[16]}", ["E2"]),
        (JIA[:17] + ("0" if JIA[17] != "0" else "1"), []),  # a wrong check character
        ("110000012345678", ["E3"]),
    ],
)
def test_a_firm_is_found_by_its_code_in_any_form(
    codes: ReadModel, typed: str, found: list[str]
) -> None:
    hits = nodes(search(codes, typed, kinds=["CREDIT_CODE"]))
    assert [(h["matchedOn"], h["enterprise"]["id"]) for h in hits] == [
        ("CREDIT_CODE", e) for e in found
    ]
