"""Attack: walk every field each key may read and look for the bank's raw identifiers.

The secrets come from the store first (every record's id number, phone and email, and
every enterprise's phone, normalised); then each key walks the whole schema from every
root field (:mod:`tests.api.privacy_walk`) and the answers, error messages included, are
searched for them. Analysts may not see id numbers; campaign keys no id number, phone or
email. Risk and admin keys see them all, which shows the search finds what is there.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from typing import Any

import pandas as pd
import pytest

from relgraph.api.auth import Role
from relgraph.api.masking import normalise_id_number, normalise_phone
from relgraph.api.readmodel import ReadModel
from relgraph.ingest.person_ids import PersonIdKey

from .conftest import run
from .privacy_walk import SCHEMA, Walk, walk

SEES = {
    Role.ANALYST: {"phone", "email"},
    Role.CAMPAIGN: set[str](),
    Role.RISK: {"id_number", "phone", "email"},
    Role.ADMIN: {"id_number", "phone", "email"},
}
"""Which identifiers each role may read in clear."""


def _secrets(model: ReadModel) -> dict[str, set[str]]:
    def values(column: list[Any], normalise: Any) -> set[str]:
        return {normalise(str(v)) for v in column if v}

    return {
        "id_number": {v.upper() for v in values(model.record["id_number"], normalise_id_number)},
        "phone": values(model.record["phone"], normalise_phone)
        | values(model.enterprise["phone"], normalise_phone),
        "email": {v.strip().upper() for v in model.record["email"] if v},
    }


def _appears(value: str, text: str) -> bool:
    """``value`` as a whole token of ``text`` (a country code 86 may lead): a short value such
    as the hotline 95588 is not a leak because it happens to sit inside a hex id or an amount."""
    token = rf"(?<![0-9A-Z])(?:86)?{re.escape(value)}(?![0-9A-Z])"
    return value in text and re.search(token, text) is not None


@pytest.fixture(scope="module")
def bank(model: ReadModel) -> tuple[ReadModel, list[tuple[str, str]]]:
    """The test bank, with an id-document tie and a possible duplicate, and the calls to walk.

    Ingest never gives two persons one id number, so the bank has no ``id_document``
    evidence; the tie is added as the networks table would hold it (the normalised id
    number as the reference), with a review-band pair, so both paths are walked.
    """
    results = model.results
    links, evidence = results.network_links, results.network_evidence
    assert links is not None
    assert evidence is not None
    raw = model.record

    def full(pair: tuple[str, str]) -> int | None:
        """A record of the pair's first person with an id number, a phone and an email."""
        for r in model.records_of(model.person_index[pair[0]]):
            if raw["id_number"][r] and raw["phone"][r] and raw["email"][r]:
                return int(r)
        return None

    pairs = zip(links["person_a"].astype(str), links["person_b"].astype(str), strict=True)
    (person_a, person_b), record = next((p, r) for p in pairs if (r := full(p)) is not None)
    index = model.person_index[person_a]
    tie = {
        "person_a": person_a,
        "person_b": person_b,
        "kind": "id_document",
        "ref": model.record["id_number_norm"][record],
        "weight": 0.9,
        "count": 2,
        "pair": f"{person_a}|{person_b}",
    }
    evidence = pd.concat([evidence, pd.DataFrame([tie])], ignore_index=True)
    records = [model.record_ids[r] for r in model.records_of(index)]
    duplicates = pd.DataFrame(
        [{"customer_a": records[0], "customer_b": model.record_ids[0], "score": 0.7,
          "evidence": "name=same;phone=same",
          "duplicate_id": PersonIdKey.random().duplicate_id(records[0], model.record_ids[0])}]
    )  # fmt: skip
    served = copy.copy(model)
    served.results = dataclasses.replace(
        results,
        network_evidence=evidence.sort_values(["pair", "kind", "ref"]).reset_index(drop=True),
        possible_duplicates=duplicates,
    )

    with_email = [i for i, e in enumerate(model.record["email"]) if e][:3]
    persons = [person_a, person_b, *(model.person_ids[model.record_person[r]] for r in with_email)]
    account = model.account_ids[int(model.holds.neighbors(index)[0])]
    household = results.household_of[person_a]
    chains = results.risk_chains
    assert chains is not None
    alert_account = str(results.risk_chain_hops["from_account"].iloc[0])  # type: ignore[index]
    enterprise = model.enterprise_ids[0]
    group = str(results.groups.columns["group_id"][0]) if results.groups else ""  # type: ignore[union-attr]
    calls = [
        *(("customer", f'(id: "{p}")') for p in persons),
        ("account", f'(id: "{account}")'),
        ("enterprise", f'(id: "{enterprise}")'),
        ("household", f'(id: "{household}")'),
        ("households", "(first: 5)"),
        ("corporateGroup", f'(id: "{group}")'),
        ("corporateGroups", "(first: 5)"),
        ("influencers", "(first: 5)"),
        ("hiddenNetwork", f'(customerId: "{person_a}")'),
        ("linkedAccounts", f'(accountId: "{account}", first: 10)'),
        ("layeringCheck", f'(accountId: "{alert_account}")'),
        ("riskChains", "(first: 3)"),
        ("possibleDuplicates", "(minScore: 0)"),
        ("duplicateDecisions", "(first: 5)"),
        ("campaignAudience", "(criteria: {unit: HOUSEHOLD}, first: 10)"),
        ("campaignAudience", "(criteria: {unit: CORPORATE_GROUP}, first: 10)"),
        ("graphStats", ""),
        # Search by what each role might hold: a phone (refused to campaign keys, so it
        # finds nothing for them), a name, an account and a household id.
        ("search", f'(text: "{model.record["phone"][with_email[0]]}", first: 5)'),
        ("search", f'(text: "{model.record["name"][with_email[0]]}", first: 5)'),
        ("search", f'(text: "{account}", first: 5)'),
        ("search", f'(text: "{household}", first: 5)'),
        # Errors: what a refused or mistaken call says must not carry an identifier either.
        ("customer", '(id: "P-nobody")'),
        ("linkedAccounts", f'(accountId: "{account}", maxHops: 9)'),
    ]
    return served, calls


READERS = [role for role in Role if role is not Role.INGEST]
"""Roles that read (an ingest key only sends transfers: test_ingest_keys_read_nothing)."""


@pytest.fixture(scope="module")
def walks(bank: tuple[ReadModel, list[tuple[str, str]]]) -> dict[Role, Walk]:
    served, calls = bank
    return {role: walk(served, role, calls) for role in READERS}


def test_ingest_keys_read_nothing(bank: tuple[ReadModel, list[tuple[str, str]]]) -> None:
    served, calls = bank
    for field, args in calls:
        result = run(f"{{ {field}{args} {{ __typename }} }}", served, Role.INGEST)
        assert result.data is None, field
        assert result.errors is not None
        assert result.errors[0].message.startswith("Permission denied: role 'ingest'")


@pytest.mark.parametrize("role", READERS)
def test_no_identifier_a_role_may_not_see_appears_in_any_answer(
    bank: tuple[ReadModel, list[tuple[str, str]]], walks: dict[Role, Walk], role: Role
) -> None:
    text = walks[role].compact()
    for kind, values in _secrets(bank[0]).items():
        leaked = sorted(v for v in values if _appears(v, text))
        if kind in SEES[role]:
            assert leaked, f"{role.value} walk reached no {kind}: the search would prove nothing"
        else:
            assert not leaked, f"{role.value} sees raw {kind}s: {leaked[:3]}"


def test_the_walk_reaches_every_type_that_carries_an_identifier(
    walks: dict[Role, Walk],
) -> None:
    carriers = {"Record", "Evidence", "NetworkLink", "HiddenNetwork", "PathStep",
                "LinkedAccount", "PossibleDuplicate", "AudienceEntry", "Household"}  # fmt: skip
    assert carriers <= walks[Role.ADMIN].types
    # Every object type of the schema is walked by some key (new types included).
    everything = {
        name
        for name, kind in SCHEMA._schema.type_map.items()
        if type(kind).__name__ == "GraphQLObjectType" and not name.startswith("__")
    }
    reached = set().union(*(w.types for w in walks.values()))
    # The ingestion answers are for ingest keys, which read nothing else (their own test).
    ingest = {"RecordTransfersResult", "TransferResult", "TransferVerdict", "AccountScore",
              "VerdictAlert"}  # fmt: skip
    assert everything - reached <= {"Query", "Mutation", "RefreshResult"} | ingest


def test_analysts_get_masked_id_evidence(walks: dict[Role, Walk]) -> None:
    analyst, risk = walks[Role.ANALYST].compact(), walks[Role.RISK].compact()
    assert '"KIND":"ID_DOCUMENT","REF":"' in analyst
    masked = analyst.split('"KIND":"ID_DOCUMENT","REF":"')[1].split('"')[0]
    assert masked.count("*") == 11
    assert len(masked) == 16
    assert '"KIND":"ID_DOCUMENT","REF":"' + masked + '"' not in risk


@pytest.mark.parametrize(
    "coordinate",
    ["Person.birthDate", "Person.gender", "Person.devices", "Person.consentMarketing", "Person.riskFlags",
     "Record.matchScore", "AudienceEntry.excluded", "corporateGroup", "corporateGroups",
     "hiddenNetwork", "linkedAccounts", "riskChains", "possibleDuplicates"],
)  # fmt: skip
def test_campaign_keys_are_refused_what_the_table_says(
    walks: dict[Role, Walk], coordinate: str
) -> None:
    assert coordinate in walks[Role.CAMPAIGN].refused
    assert coordinate not in walks[Role.ADMIN].refused
