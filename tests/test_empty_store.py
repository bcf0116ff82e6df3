"""``analyze``, ``stats``, ``serve`` and ``audience`` on a store with no load, no customers or no
analysis: one sentence naming what to run, never a traceback; empty inputs give empty tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from relgraph.cli import app
from relgraph.store.embedded import EmbeddedStore
from tests.banks import companies, people, write_bank

runner = CliRunner()
KEYS = {"RELGRAPH_API_KEYS": "analyst:" + "k" * 32}
PERSON_RESULTS = ("person_networks", "networks", "households", "person_households", "influence")


def _flat(output: str) -> str:
    return " ".join(output.split())


def _run(*args: str) -> Any:
    return runner.invoke(app, list(args), env=KEYS)


@pytest.fixture
def never_serve(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Record that ``serve`` would start the server, instead of starting it."""
    import relgraph.api.server

    started: list[Any] = []
    monkeypatch.setattr(relgraph.api.server, "serve", lambda *a, **k: started.append(a))
    return started


@pytest.fixture
def refused_first(tmp_path: Path) -> Path:
    """A data folder whose only load was refused, holding an empty store file (as an older
    version's refused first load left, or a store opened before any load), no report."""
    customers = people("C1", "C2")
    for row in customers:
        row["risk_rating"] = "catastrophic"
    source = write_bank(tmp_path / "bank", {"customers": customers})
    result = _run("load", str(source), "--data-dir", str(tmp_path / "data"))
    assert result.exit_code == 3, result.output
    assert not (tmp_path / "data" / "relgraph.duckdb").exists()  # nothing written
    EmbeddedStore(tmp_path / "data").close()
    assert (tmp_path / "data" / "relgraph.duckdb").exists()
    return tmp_path / "data"


@pytest.fixture
def no_customers(tmp_path: Path) -> Path:
    """A good load whose customers file has a header and no rows (an enterprise-only bank)."""
    source = write_bank(tmp_path / "bank", {"enterprises": companies("E1", "E2")})
    result = _run("load", str(source), "--data-dir", str(tmp_path / "data"))
    assert result.exit_code == 0, result.output
    return tmp_path / "data"


@pytest.mark.parametrize("command", ["analyze", "stats", "serve"])
def test_a_store_with_no_good_load_says_to_load(
    refused_first: Path, command: str, never_serve: list[Any]
) -> None:
    result = _run(command, "--data-dir", str(refused_first))
    assert result.exit_code == 2
    assert f"the store embedded {refused_first} holds no data: run `relgraph load DIR` first" in (
        _flat(result.output)
    )
    assert "Traceback" not in result.output
    assert never_serve == []


def test_audience_with_no_good_load_says_to_load(refused_first: Path, tmp_path: Path) -> None:
    criteria = tmp_path / "criteria.json"
    criteria.write_text('{"unit": "HOUSEHOLD"}', encoding="utf-8")
    result = _run(
        "audience", "--criteria", str(criteria), "--out", str(tmp_path / "a.csv"),
        "--data-dir", str(refused_first),
    )  # fmt: skip
    assert result.exit_code == 2
    assert "The store holds no data yet: run `relgraph load DIR` first." in _flat(result.output)
    assert not (tmp_path / "a.csv").exists()


def test_analyze_with_no_customers_writes_empty_person_tables(no_customers: Path) -> None:
    result = _run("analyze", "--data-dir", str(no_customers))
    assert result.exit_code == 0, result.output
    assert "the store holds no customers" in _flat(result.output)
    with EmbeddedStore(no_customers, read_only=True) as store:
        for name in PERSON_RESULTS:
            assert store.read_results(name).num_rows == 0, name
        assert store.read_results("enterprise_control").num_rows == 2


@pytest.mark.parametrize(
    ("unit", "message"),
    [
        ("HOUSEHOLD", "The store holds no customers (the last load's customers table was empty)"),
        ("CORPORATE_GROUP", "No corporate groups yet: run `relgraph analyze`."),
    ],
)
def test_audience_with_no_customers_says_so_before_asking_for_analyze(
    no_customers: Path, tmp_path: Path, unit: str, message: str
) -> None:
    criteria = tmp_path / "criteria.json"
    criteria.write_text(f'{{"unit": "{unit}"}}', encoding="utf-8")
    args = ["audience", "--criteria", str(criteria), "--out", str(tmp_path / "a.csv")]
    result = _run(*args, "--data-dir", str(no_customers))
    assert result.exit_code == 2
    assert message in _flat(result.output)
    # After analyze the household audience still names the cause, not analyze.
    assert _run("analyze", "--data-dir", str(no_customers)).exit_code == 0
    again = _run(*args, "--data-dir", str(no_customers))
    if unit == "HOUSEHOLD":
        assert again.exit_code == 2
        assert "load an export with customers" in _flat(again.output)
    else:
        assert again.exit_code == 0, again.output


def test_audience_on_a_bank_not_analysed_says_to_analyze(tmp_path: Path) -> None:
    source = write_bank(tmp_path / "bank", {"customers": people("C1", "C2")})
    assert _run("load", str(source), "--data-dir", str(tmp_path / "data")).exit_code == 0
    criteria = tmp_path / "criteria.json"
    criteria.write_text('{"unit": "HOUSEHOLD"}', encoding="utf-8")
    result = _run(
        "audience", "--criteria", str(criteria), "--out", str(tmp_path / "a.csv"),
        "--data-dir", str(tmp_path / "data"),
    )  # fmt: skip
    assert result.exit_code == 2
    assert "No households yet: run `relgraph analyze`." in _flat(result.output)


def test_serve_names_a_store_without_customers_or_analysis(
    no_customers: Path, tmp_path: Path, never_serve: list[Any]
) -> None:
    result = _run("serve", "--data-dir", str(no_customers))
    assert result.exit_code == 0, result.output
    assert "holds no customers" in _flat(result.output)
    assert len(never_serve) == 1

    source = write_bank(tmp_path / "people", {"customers": people("C1")})
    assert _run("load", str(source), "--data-dir", str(tmp_path / "d2")).exit_code == 0
    result = _run("serve", "--data-dir", str(tmp_path / "d2"))
    assert result.exit_code == 0, result.output
    assert "analyze has not run on this load" in _flat(result.output)
    assert _run("analyze", "--data-dir", str(tmp_path / "d2")).exit_code == 0
    result = _run("serve", "--data-dir", str(tmp_path / "d2"))
    assert "note:" not in result.output
    assert len(never_serve) == 3
