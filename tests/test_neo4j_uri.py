"""A ``NEO4J_URI`` relgraph cannot use is one line and exit 2 before anything connects, and a
password written into it is never printed back."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from relgraph.cli import app
from relgraph.config import ConfigError, Settings

cli = CliRunner()
SECRET = "S3cret-in-the-uri"


@pytest.mark.parametrize(
    "uri",
    [f"neo4j://relgraph:{SECRET}@db.internal:7687", f"bolt+s://relgraph:{SECRET}@db:7687"],
)
def test_a_password_in_the_uri_is_refused_without_being_printed(
    uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Was: exit 2, "error: cannot reach Neo4j at neo4j://relgraph:S3cret…@db.internal:7687:
    # URI userinfo is not supported … Given URI: 'neo4j://relgraph:S3cret…'" (the password twice).
    monkeypatch.setenv("RELGRAPH_STORE", "neo4j")
    monkeypatch.setenv("NEO4J_URI", uri)
    for command in (["stats"], ["analyze"], ["load", str(tmp_path)], ["serve"]):
        result = cli.invoke(app, [*command, "--data-dir", str(tmp_path / "data")])
        assert result.exit_code == 2, result.output
        assert SECRET not in result.output
        assert result.output.strip() == (
            "error: NEO4J_URI names a user and password (before '@'), which relgraph does "
            "not print or send: give the user in NEO4J_USERNAME, the password in "
            "NEO4J_PASSWORD, and NEO4J_URI as neo4j://HOST:7687"
        )
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("http://db.internal:7474", "Neo4j Browser's HTTP address"),
        ("https://db.internal:7473", "Neo4j Browser's HTTP address"),
        ("neo4j//db.internal:7687", "no Bolt address"),
        ("db.internal:7687", "no Bolt address"),
    ],
)
def test_an_address_that_is_not_bolt_is_one_line(
    uri: str, why: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Was, for http://: a traceback (ModuleNotFoundError: No module named 'aiohttp'), exit 1.
    monkeypatch.setenv("RELGRAPH_STORE", "neo4j")
    monkeypatch.setenv("NEO4J_URI", uri)
    result = cli.invoke(app, ["stats", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert "\n" not in line
    assert line.startswith(f"error: NEO4J_URI {uri!r} is {why}: relgraph speaks Bolt: give ")
    assert line.endswith(
        "neo4j://HOST:7687 (bolt://HOST:7687 for one server without routing; neo4j+s:// or "
        "bolt+s:// with TLS)"
    )


def test_the_embedded_store_does_not_read_neo4j_uri() -> None:
    # A leftover NEO4J_URI in a shell does not stop a user of the default store.
    assert Settings.from_env({"NEO4J_URI": "http://x:7474"}).store == "embedded"
    for uri in ("neo4j://db:7687", "bolt://db:7687", "neo4j+ssc://db", "bolt+s://db:7687?x=1"):
        assert Settings.from_env({"RELGRAPH_STORE": "neo4j", "NEO4J_URI": uri}).neo4j.uri == uri
    with pytest.raises(ConfigError):
        Settings.from_env({"RELGRAPH_STORE": "neo4j", "NEO4J_URI": "ftp://db"})
