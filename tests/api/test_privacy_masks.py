"""Masks have one shape whatever the raw formatting; campaign keys get a birth year only."""

from __future__ import annotations

import random
from typing import Any

import pandas as pd
import pytest

from relgraph.api.auth import Role
from relgraph.api.masking import mask_email, mask_id_number, mask_name, mask_phone
from relgraph.api.readmodel import ReadModel, build_read_model
from relgraph.graph import build_projection
from relgraph.ingest import load_directory
from relgraph.ingest.id_numbers import upgrade_legacy
from relgraph.jobs.analyze import analyze
from relgraph.record_rules import upgrade_legacy_id
from relgraph.store.embedded import EmbeddedStore
from tests.banks import write_bank

from .conftest import run

ID = "11010519720610331X"
PHONE = "13812345678"

# One customer as four source systems wrote him: the same id number, phone and email
MESSY: list[dict[str, str]] = [
    {"customer_id": "C1", "source_system": "core", "name": "王小明", "id_number": ID,
     "phone": PHONE, "email": "li.wei@example.cn", "birth_date": "1972-06-10", "gender": "M",
     "consent_marketing": "true"},
    {"customer_id": "C2", "source_system": "card", "name": " 王小明 ",
     "id_number": "110105-19720610-331x", "phone": "+86 138-1234-5678",
     "email": " Li.Wei@Example.CN "},
    {"customer_id": "C3", "source_system": "loan", "name": "王 小明",
     "id_number": "1101 0519 7206 1033 1X", "phone": "0086 138 1234 5678",
     "email": "LI.WEI@EXAMPLE.CN"},
    {"customer_id": "C4", "source_system": "wealth", "name": "王小明",
     "id_number": "110105 19720610 331X", "phone": "＋８６ １３８１２３４５６７８",
     "email": "ｌｉ.ｗｅｉ＠example.cn"},
]  # fmt: skip


@pytest.mark.parametrize(
    "raw",
    [PHONE, "+86 138 1234 5678", "0086-138-1234-5678", "+86 (138) 1234-5678",
     "１３８１２３４５６７８", "８６１３８１２３４５６７８", " 138 1234 5678 "],
)  # fmt: skip
def test_every_way_of_writing_a_phone_masks_the_same(raw: str) -> None:
    assert mask_phone(raw) == "138****5678"


@pytest.mark.parametrize(
    "raw",
    [ID, "11010519720610331x", "110105-19720610-331X", "1101 0519 7206 1033 1X",
     "１１０１０５１９７２０６１０３３１Ｘ", "110105－19720610－331x"],
)  # fmt: skip
def test_every_way_of_writing_an_id_number_masks_the_same(raw: str) -> None:
    assert mask_id_number(raw) == "1101***********X"


def test_id_masks_hide_length_birth_date_and_sex_digit() -> None:
    eighteen = mask_id_number("110105197206103312")
    fifteen = mask_id_number("110105720610331")
    assert eighteen is not None
    assert fifteen is not None
    assert len(eighteen) == len(fifteen) == 16
    assert "1972" not in eighteen
    assert "0610" not in eighteen
    assert eighteen[-2:] == "*2"  # the 17th character (sex) is masked too
    # A 15-digit number ends in its sex digit (no check character): it masks as its
    # upgraded form, so an even and an odd last digit are not told apart by the mask.
    assert fifteen == "1101***********8"  # 110105 19720610331 8
    assert mask_id_number("110105720610332") == "1101***********6"
    assert mask_id_number("110105491231002") == mask_id_number("11010519491231002X")
    assert mask_id_number("12345") == "*" * 11


@pytest.mark.parametrize(
    "raw", ["A123456(7)", "A1234567", "E123456789", "USA110056080101", "1101051972061033"]
)
def test_an_id_of_another_shape_shows_no_character(raw: str) -> None:
    """ATTACK: a Hong Kong identity card ``A123456(7)`` masked as ``A123***********)`` left
    three digits and a check digit to try, and the id-miss budget counts only searches
    shaped like a resident id: an analyst key could complete it at the search rate."""
    assert mask_id_number(raw) == "*" * 11


def test_email_and_name_masks_have_a_fixed_shape() -> None:
    for raw in ("li.wei@example.cn", " Li.Wei@Example.CN ", "ｌｉ.ｗｅｉ＠example.cn"):
        assert mask_email(raw) == "l***@example.cn"
    assert mask_email("no-at-sign") == "***"
    assert mask_name("王小明") == mask_name(" 王 小明 ") == "王**"
    assert mask_name("欧阳娜娜") == "欧**"  # the length of a name is not shown
    assert mask_name("  Li   Wei ") == "L**"
    assert mask_phone("12345") == "****"
    assert mask_phone(None) is None
    assert mask_id_number("") == ""


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> ReadModel:
    folder = tmp_path_factory.mktemp("messy")
    source = write_bank(folder / "bank", {"customers": MESSY})
    with EmbeddedStore(folder / "data") as store:
        load_directory(source, store, folder / "data")
        analyze(store, build_projection(store))
        return build_read_model(store)


RECORD = """query ($id: ID!) { customer(id: $id) {
    name birthYear records { customerId name idNumber phone email } } }"""


@pytest.mark.parametrize("role", [Role.ANALYST, Role.CAMPAIGN])
def test_records_mask_to_one_shape_through_the_api(messy: ReadModel, role: Role) -> None:
    seen: dict[str, set[Any]] = {"idNumber": set(), "phone": set(), "email": set(), "name": set()}
    for customer in ("C1", "C2", "C3", "C4"):
        result = run(RECORD, messy, role, id=customer)
        assert result.errors is None, result.errors
        person = result.data["customer"]
        assert person["birthYear"] == 1972
        for record in person["records"]:
            for field, values in seen.items():
                values.add(record[field])
    assert seen["idNumber"] == {"1101***********X"}
    if role is Role.CAMPAIGN:
        assert seen["phone"] == {"138****5678"}
        assert seen["email"] == {"l***@example.cn"}
        assert seen["name"] == {"王**"}


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.INGEST])  # ingest reads nothing
def test_birth_date_and_gender_are_refused_to_campaign_keys(messy: ReadModel, role: Role) -> None:
    for field in ("birthDate", "gender"):
        result = run(f'{{ customer(id: "C1") {{ birthYear {field} }} }}', messy, role)
        if role is Role.CAMPAIGN:
            assert result.errors is not None
            assert result.errors[0].message == (
                f"Permission denied: role 'campaign' may not read Person.{field}."
            )
            assert result.data["customer"] == {"birthYear": 1972, field: None}
        else:
            assert result.errors is None, result.errors
            assert result.data["customer"][field] in ("1972-06-10", "M")


def test_birth_date_is_not_reachable_through_a_fragment_or_alias(messy: ReadModel) -> None:
    query = """{ a: customer(id: "C1") { ...P } b: customer(id: "C2") { d: birthDate } }
        fragment P on Party { ... on Person { born: birthDate sex: gender } }"""
    result = run(query, messy, Role.CAMPAIGN)
    assert result.errors is not None
    assert len(result.errors) == 3
    assert "1972-06-10" not in str(result.data)
    assert all(e.message.startswith("Permission denied") for e in result.errors)


AUDIENCE_CONTACTS = """{ campaignAudience(criteria: {unit: HOUSEHOLD}) { edges { node {
    contactDetails { partyId phone email customerIds { system customerId } ...More }
    also: contactDetails { p: phone e: email } } } } }
    fragment More on AudienceContact { channel lastContact consentMarketing partyKind }"""


def test_a_campaign_key_learns_no_raw_phone_email_or_id_through_audience_contacts(
    messy: ReadModel,
) -> None:
    # The attacker asks for every field of the contact rows, under aliases and a fragment.
    result = run(AUDIENCE_CONTACTS, messy, Role.CAMPAIGN)
    assert result.errors is None, result.errors
    (edge,) = result.data["campaignAudience"]["edges"]
    (contact,) = edge["node"]["contactDetails"]
    assert (contact["phone"], contact["email"]) == ("138****5678", "l***@example.cn")
    assert edge["node"]["also"] == [{"p": "138****5678", "e": "l***@example.cn"}]
    answer = str(result.data)
    digits = "".join(ch for ch in answer if ch.isdigit())
    for secret in (PHONE, "12345678", ID, "19720610", "li.wei", "Li.Wei", "LI.WEI"):
        assert secret not in answer
    assert PHONE not in digits  # not even spread over fields
    # The bank's customer ids are what the campaign system maps to (served as elsewhere).
    assert sorted(c["customerId"] for c in contact["customerIds"]) == ["C1", "C2", "C3", "C4"]


def test_analysts_see_the_contact_details_as_recorded(messy: ReadModel) -> None:
    result = run(AUDIENCE_CONTACTS, messy, Role.ANALYST)
    assert result.errors is None, result.errors
    (contact,) = result.data["campaignAudience"]["edges"][0]["node"]["contactDetails"]
    assert (contact["phone"], contact["email"]) == (PHONE, "li.wei@example.cn")  # core's record
    assert [c["system"] for c in contact["customerIds"]] == ["core", "wealth", "loan", "card"]


def test_a_legacy_id_masks_as_ingest_upgrades_it() -> None:
    rng = random.Random(11643)
    legacy = ["".join(rng.choice("0123456789") for _ in range(15)) for _ in range(200)]
    assert [upgrade_legacy_id(v) for v in legacy] == upgrade_legacy(pd.Series(legacy)).tolist()
    assert upgrade_legacy_id("E12345678") == "E12345678"  # other documents as they are
