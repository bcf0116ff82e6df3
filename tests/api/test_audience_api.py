"""``campaignAudience`` over GraphQL: the known answer, roles, errors, and export == API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from relgraph.api.auth import Role
from relgraph.api.readmodel import ReadModel, build_read_model
from relgraph.cli import app as cli
from relgraph.graph import build_projection
from relgraph.ingest import load_directory
from relgraph.jobs.analyze import analyze
from relgraph.store.embedded import EmbeddedStore
from tests.analytics.test_audience import BANK
from tests.banks import write_bank

from .conftest import run

QUERY = """
query ($criteria: AudienceCriteria!, $first: Int, $after: String) {
  campaignAudience(criteria: $criteria, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      unit unitId size totalAum deposits exposure products productGap contacts leftOut
      excluded { reason count } qualifiedBecause
    } }
  }
}
"""
CAMPAIGN_QUERY = QUERY.replace("excluded { reason count }", "")
"""What a campaign key may ask: no split of ``leftOut`` by reason."""


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReadModel, dict[str, str]]:
    """The hand-made bank of ``tests/analytics/test_audience.py``, served."""
    folder = tmp_path_factory.mktemp("lake")
    source = write_bank(folder / "bank", BANK)
    with EmbeddedStore(folder / "data") as store:
        load_directory(source, store, folder / "data")
        analyze(store, build_projection(store))
        model = build_read_model(store)
        records = store.read_frame("customers", ["customer_id", "person_id"])
    return model, dict(zip(records["person_id"], records["customer_id"], strict=True))


def _nodes(result: Any) -> list[dict[str, Any]]:
    assert result.errors is None, result.errors
    return [e["node"] for e in result.data["campaignAudience"]["edges"]]


@pytest.mark.parametrize("role", [Role.CAMPAIGN, Role.ANALYST, Role.ADMIN])
def test_the_known_audience_through_the_api(
    lake: tuple[ReadModel, dict[str, str]], role: Role
) -> None:
    model, customer_of = lake
    query = CAMPAIGN_QUERY if role is Role.CAMPAIGN else QUERY
    nodes = _nodes(run(query, model, role, criteria={"unit": "HOUSEHOLD"}))
    contacts = [sorted(customer_of[c] for c in n["contacts"]) for n in nodes]
    assert contacts == [["LI", "WANG1"], ["ZHAO1"], ["SUN2"], ["ZHOU1", "ZHOU2"]]
    assert [n["leftOut"] for n in nodes] == [1, 1, 1, 0]
    if role is not Role.CAMPAIGN:
        left_out = [{e["reason"]: e["count"] for e in n["excluded"] if e["count"]} for n in nodes]
        assert left_out == [{"NO_CONSENT": 1}, {"RISK_FLAGGED": 1}, {"NETWORK_RISK": 1}, {}]
    assert nodes[0]["productGap"] == ["loan"]
    assert nodes[0]["totalAum"] == 900_000


def test_campaign_sees_codes_never_the_aml_details(
    lake: tuple[ReadModel, dict[str, str]],
) -> None:
    model, customer_of = lake
    result = run(CAMPAIGN_QUERY, model, Role.CAMPAIGN, criteria={"unit": "HOUSEHOLD"})
    assert result.errors is None, result.errors
    text = json.dumps(result.data)
    person_of = {c: p for p, c in customer_of.items()}
    for hidden in ("ZHAO2", "SUN1", "MA", "WANG2"):  # the members left out
        assert person_of[hidden] not in text
    assert "R3" not in text
    assert "score" not in text.lower()
    denied = run("{ riskChains(first: 1) { totalCount } }", model, Role.CAMPAIGN)
    assert denied.errors is not None
    assert "Permission denied" in denied.errors[0].message


def test_a_product_named_many_times_counts_once(lake: tuple[ReadModel, dict[str, str]]) -> None:
    """The same audience and the same reasons, not one reason (and one pass over every
    household) per repetition: a long list is no way to make the server work."""
    model = lake[0]
    once = {"unit": "HOUSEHOLD", "hasProducts": ["deposit"], "lacksProducts": ["loan"]}
    many = {**once, "hasProducts": ["deposit"] * 5_000, "lacksProducts": ["loan"] * 5_000}
    expected = _nodes(run(CAMPAIGN_QUERY, model, Role.CAMPAIGN, criteria=once))
    assert expected
    assert _nodes(run(CAMPAIGN_QUERY, model, Role.CAMPAIGN, criteria=many)) == expected
    assert sum("deposit" in reason for reason in expected[0]["qualifiedBecause"]) == 1


def test_risk_keys_do_not_market(lake: tuple[ReadModel, dict[str, str]]) -> None:
    result = run(QUERY, lake[0], Role.RISK, criteria={"unit": "HOUSEHOLD"})
    assert result.errors is not None
    assert result.errors[0].message == (
        "Permission denied: role 'risk' may not read campaignAudience."
    )


@pytest.mark.parametrize(
    ("role", "criteria", "message"),
    [
        (Role.CAMPAIGN, {"unit": "HOUSEHOLD", "lacksProducts": ["yacht"]}, "unknown product"),
        (Role.ANALYST, {"unit": "CORPORATE_GROUP", "minTotalAum": 5.0}, "minTotalAum applies"),
        (Role.ANALYST, {"unit": "HOUSEHOLD", "riskCeiling": 2.0}, "riskCeiling must be in (0, 1]"),
    ],
)
def test_bad_criteria_get_clear_errors(
    lake: tuple[ReadModel, dict[str, str]], role: Role, criteria: dict[str, Any], message: str
) -> None:
    result = run(CAMPAIGN_QUERY, lake[0], role, criteria=criteria)
    assert result.errors is not None
    assert message in result.errors[0].message


def test_the_export_equals_the_api_answer(data_dir: Path, model: ReadModel, tmp_path: Path) -> None:
    criteria = {"unit": "HOUSEHOLD", "minSize": 2, "lacksProducts": ["wealth"]}
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        result = run(QUERY, model, Role.ANALYST, criteria=criteria, first=100, after=after)
        nodes += _nodes(result)
        page = result.data["campaignAudience"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(nodes) == page["totalCount"] > 100  # more than one page

    spec = tmp_path / "criteria.json"
    spec.write_text(json.dumps(criteria), encoding="utf-8")
    out = tmp_path / "audience.parquet"
    done = CliRunner().invoke(
        cli, ["audience", "--criteria", str(spec), "--out", str(out), "--data-dir", str(data_dir)]
    )
    assert done.exit_code == 0, done.output
    assert f"{len(nodes):,} household entries" in done.output
    rows = pd.read_parquet(out).to_dict("records")
    assert [r["unit_id"] for r in rows] == [n["unitId"] for n in nodes]
    for row, node in zip(rows, nodes, strict=True):
        assert list(row["contacts"]) == node["contacts"]
        assert list(row["product_gap"]) == node["productGap"]
        assert list(row["qualified_because"]) == node["qualifiedBecause"]
        assert (row["size"], row["total_aum"], row["deposits"]) == (
            node["size"],
            node["totalAum"],
            node["deposits"],
        )
        assert row["left_out"] == node["leftOut"]
        assert not [k for k in row if k.startswith("excluded_")]  # no split by reason in files


def test_the_cli_refuses_bad_criteria_files(data_dir: Path, tmp_path: Path) -> None:
    spec = tmp_path / "criteria.json"
    for text, message in (
        ("{not json", "is not valid JSON"),
        ('{"unit": "HOUSEHOLD", "minSize": "two"}', "minSize must be a whole number"),
    ):
        spec.write_text(text, encoding="utf-8")
        done = CliRunner().invoke(
            cli,
            ["audience", "--criteria", str(spec), "--out", str(tmp_path / "a.csv"),
             "--data-dir", str(data_dir)],
        )  # fmt: skip
        assert done.exit_code == 2
        assert message in " ".join(done.output.split())  # rich wraps long lines
        assert not (tmp_path / "a.csv").exists()


def test_the_demo_queries_answer(model: ReadModel) -> None:
    from relgraph.cli.serving import DEMO_QUERIES

    person = model.person_ids[0]
    for query in (DEMO_QUERIES[0].format(person=person), *DEMO_QUERIES[1:]):
        result = run(query, model, Role.ANALYST)
        assert result.errors is None, result.errors
    audience = run(DEMO_QUERIES[2], model, Role.ANALYST).data["campaignAudience"]
    assert audience["totalCount"] > 0


def _as_campaign(model: ReadModel, query: str) -> tuple[Any, Any]:
    """(result, context) of ``query`` run in process with a campaign key, households asked."""
    import asyncio

    from relgraph.api.auth import Principal
    from relgraph.api.context import Context
    from relgraph.api.schema import build_schema

    context = Context(
        principal=Principal(Role.CAMPAIGN, "k_test"),
        model=model,
        request_id="r-test",
        deadline=float("inf"),
    )
    result = asyncio.run(
        build_schema().execute(
            query, context_value=context, variable_values={"criteria": {"unit": "HOUSEHOLD"}}
        )
    )
    return result, context


def test_contacts_handed_out_are_audited(lake: tuple[ReadModel, dict[str, str]]) -> None:
    result, context = _as_campaign(lake[0], CAMPAIGN_QUERY)
    handed_out = {c for node in _nodes(result) for c in node["contacts"]}
    units = {node["unitId"] for node in _nodes(result)}
    assert handed_out
    assert units
    # The households or groups served are named too: the audit shows which units left.
    assert set(context.touched) == handed_out | units


def test_a_count_alone_reads_no_one(lake: tuple[ReadModel, dict[str, str]]) -> None:
    """``totalCount`` and ``pageInfo`` hand out no node: the audit trail names none."""
    query = (
        "query ($criteria: AudienceCriteria!) { campaignAudience(criteria: $criteria) "
        "{ totalCount pageInfo { hasNextPage endCursor } } }"
    )
    result, context = _as_campaign(lake[0], query)
    assert result.errors is None
    assert result.data is not None
    assert result.data["campaignAudience"]["totalCount"] > 0
    assert result.data["campaignAudience"]["pageInfo"]["endCursor"] is not None
    assert set(context.touched) == set()
