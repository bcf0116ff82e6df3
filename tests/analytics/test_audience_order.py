"""An audience lists equal units, and each unit's members, in one order in every store.

Ties in an audience's order went by unit id (made from person ids, which each store keys with
its own id secret) and a unit's contacts came in person-index order (the order of those ids):
one bank exported from UAT and production listed them differently (on a 5,000-customer
synthetic bank, the contacts of 532 of 1,399 households and 1,263 of 2,629 contact rows).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from relgraph.analytics.audience import Criteria, campaign_audience
from relgraph.graph import build_projection
from relgraph.ingest import load_directory
from relgraph.jobs.analyze import analyze
from relgraph.jobs.audience import audience_source
from relgraph.store.embedded import EmbeddedStore
from tests.banks import write_bank

SECRETS = [c * 40 for c in "abcdef"]


def _customer(cid: str, aum: str, **extra: str) -> dict[str, str]:
    return {"customer_id": cid, "source_system": "core", "name": cid, "id_number": cid,
            "aum": aum, "consent_marketing": "true", **extra}  # fmt: skip


BANK = {
    # Four persons alone, of equal value; a household of four (spouses, and two more on
    # their device and phones); three firms wholly owned by A, B and C: equal groups.
    "customers": [_customer(c, "100") for c in "ABCD"]
    + [_customer(c, "10", phone="13900001111", address="1 Elm Rd") for c in "EF"]
    + [_customer(c, "5", phone="13700002222") for c in "GH"],
    "family": [{"customer_id": "E", "relative_id": "F", "relation": "spouse"}],
    "device_links": [{"device_id": "D1", "customer_id": c} for c in "EFGH"],
    "enterprises": [{"enterprise_id": e, "name": e} for e in ("X1", "X2", "X3")],
    "shareholdings": [
        {"holder_id": h, "enterprise_id": e, "holder_kind": "customer", "share": "1"}
        for h, e in (("C", "X2"), ("A", "X3"), ("B", "X1"))
    ],
}


def _audiences(root: Path, secret: str) -> tuple[list[list[str]], list[list[str]]]:
    """(households' members, groups' members) in the audience's order, as customer ids."""
    with EmbeddedStore(root / secret[0]) as store:
        load_directory(root / "bank", store, root / secret[0], id_secret=secret)
        analyze(store, build_projection(store))
        source = audience_source(store)
        customers = store.read_table("customers").to_pandas()
    first = customers.groupby("person_id")["customer_id"].min().to_dict()
    homes = campaign_audience(source, Criteria("HOUSEHOLD")).frame()
    groups = campaign_audience(source, Criteria("CORPORATE_GROUP")).frame()
    return (
        [[first[p] for p in members] for members in homes["contacts"]],
        [list(members) for members in groups["contacts"]],
    )


@pytest.mark.parametrize("secret", SECRETS[1:])
def test_equal_units_and_their_members_come_in_one_order_in_every_store(
    tmp_path: Path, secret: str
) -> None:
    write_bank(tmp_path / "bank", BANK)
    homes, groups = _audiences(tmp_path, SECRETS[0])
    assert homes == [["A"], ["B"], ["C"], ["D"], ["E", "F", "G", "H"]]
    assert groups == [["X1"], ["X2"], ["X3"]]
    assert _audiences(tmp_path, secret) == (homes, groups)
