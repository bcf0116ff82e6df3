"""Guarantee circles are credit-risk information: campaign keys get neither them nor counts."""

from __future__ import annotations

import pytest

from relgraph.api.auth import Role
from relgraph.api.readmodel import ReadModel

from .conftest import run

FILTERED = "{ corporateGroups(filter: {hasGuaranteeCircle: %s}) { totalCount } }"


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.INGEST])  # ingest reads nothing
def test_only_campaign_keys_are_refused_circles(model: ReadModel, role: Role) -> None:
    for field in ("hasGuaranteeCircle", "guaranteeCircles { id members { id } }"):
        query = f"{{ corporateGroups(first: 50) {{ edges {{ node {{ id {field} }} }} }} }}"
        result = run(query, model, role)
        if role is Role.CAMPAIGN:
            assert result.errors is not None
            # Corporate groups are refused to campaign keys whole (test_privacy_groups).
            assert result.errors[0].message == (
                "Permission denied: role 'campaign' may not read corporateGroups."
            )
            assert result.data is None
        else:
            assert result.errors is None, result.errors
            nodes = [e["node"] for e in result.data["corporateGroups"]["edges"]]
            assert any(n.get("hasGuaranteeCircle") or n.get("guaranteeCircles") for n in nodes)


def test_the_filter_is_no_side_channel_for_campaign_keys(model: ReadModel) -> None:
    # With the filter, the two counts would split groups by circle membership.
    for value in ("true", "false"):
        result = run(FILTERED % value, model, Role.CAMPAIGN)
        assert result.errors is not None
        assert result.errors[0].message == (
            "Permission denied: role 'campaign' may not read corporateGroups."
        )
        assert result.data is None
    analyst = [run(FILTERED % v, model, Role.ANALYST).data for v in ("true", "false")]
    with_circle, without = (a["corporateGroups"]["totalCount"] for a in analyst)
    assert with_circle > 0
    everyone = run(FILTERED.replace("(filter: {hasGuaranteeCircle: %s})", ""), model, Role.ANALYST)
    assert everyone.data["corporateGroups"]["totalCount"] == with_circle + without


def test_circles_are_refused_through_aliases_and_fragments(model: ReadModel) -> None:
    query = """{ a: corporateGroups(first: 5) { edges { node { ...G } } } }
        fragment G on CorporateGroup { c: guaranteeCircles { id } h: hasGuaranteeCircle }"""
    result = run(query, model, Role.CAMPAIGN)
    assert result.errors is not None
    assert all(e.message.startswith("Permission denied") for e in result.errors)
    assert "circle" not in str(result.data).lower()
